"""Small presentation helpers for console templates."""

from __future__ import annotations

import json

from django import template
from django.utils.html import format_html

from openprepaid.web.console import labels

register = template.Library()


@register.filter
def get(mapping, key):
    """``{{ counts|get:"opened" }}``; missing keys give 0 for counts and "" otherwise."""
    if mapping is None:
        return ""
    try:
        return mapping.get(key, 0)
    except AttributeError:
        return ""


@register.simple_tag
def badge(value, label=None):
    """A status badge coloured by the stored value."""
    colour = labels.BADGE_COLOURS.get(str(value), "secondary")
    text_class = " text-dark border" if colour == "light" else ""
    return format_html(
        '<span class="badge text-bg-{}{}" data-status="{}">{}</span>',
        colour,
        text_class,
        value,
        label if label is not None else value,
    )


@register.filter
def action_label(action: str) -> str:
    return labels.action_label(action)


@register.filter
def model_label(model_name: str) -> str:
    return labels.model_label(model_name)


@register.filter
def profile_label(code: str) -> str:
    return labels.profile_label(code)


@register.filter
def logged_value(value) -> str:
    """A before/after value of the system log as readable text."""
    if value is None or value == "":
        return "—"
    if isinstance(value, dict | list):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, bool):
        return "✓" if value else "✗"
    return str(value)


@register.filter
def minutes(value) -> int:
    """A timedelta as whole minutes (rounded up)."""
    try:
        return -(-int(value.total_seconds()) // 60)
    except AttributeError:
        return 0


@register.filter
def command_kind(code) -> str:
    return labels.command_kind_label(code)


@register.filter
def command_params(params) -> str:
    return labels.command_params_text(params)


@register.filter
def command_state(code) -> str:
    return labels.command_state_label(code)


@register.filter
def meter_state(code) -> str:
    return labels.meter_state_label(code)
