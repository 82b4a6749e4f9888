"""Badges of the sales desk: an account's alarm level and a sale's delivery to its meter."""

from __future__ import annotations

from django import template
from django.utils.html import format_html

from openprepaid.domain.billing.models import AlarmLevel, Delivery

register = template.Library()

LEVEL_STYLES = {
    AlarmLevel.NORMAL: ("success", "check-circle"),
    AlarmLevel.ALARM_1: ("warning", "exclamation-circle"),
    AlarmLevel.ALARM_2: ("orange", "exclamation-triangle"),
    AlarmLevel.ARREARS: ("danger", "x-octagon"),
}
DELIVERY_STYLES = {
    Delivery.NOT_NEEDED: ("light", "cloud-check"),
    Delivery.PENDING: ("info", "hourglass-split"),
    Delivery.DELIVERED: ("success", "check2-circle"),
    Delivery.FAILED: ("danger", "x-circle"),
}


def _badge(colour: str, icon: str, value: str, label: str, testid: str) -> str:
    if colour == "orange":
        css = "badge text-white"
        style = "background-color:#e8590c"
    else:
        css = f"badge text-bg-{colour}" + (" border" if colour == "light" else "")
        style = ""
    return format_html(
        '<span class="{}" style="{}" data-testid="{}" data-value="{}">'
        '<i class="bi bi-{}"></i> {}</span>',
        css,
        style,
        testid,
        value,
        icon,
        label,
    )


@register.simple_tag
def level_badge(level) -> str:
    """The account's alarm level (normal, level 1, level 2, arrears) as a coloured badge."""
    level = str(level or AlarmLevel.NORMAL)
    colour, icon = LEVEL_STYLES.get(level, ("secondary", "question-circle"))
    label = dict(AlarmLevel.choices).get(level, level)
    return _badge(colour, icon, level, label, "alarm-level")


@register.simple_tag
def delivery_badge(delivery) -> str:
    """Where a sale's money is: not needed (remote), on its way, on the meter, not delivered."""
    delivery = str(delivery or Delivery.NOT_NEEDED)
    if delivery == Delivery.NOT_NEEDED:
        # Remote cost control: nothing goes to the meter; a dash says it without noise.
        return format_html(
            '<span class="text-muted" title="{}" data-testid="delivery" data-value="{}">—</span>',
            Delivery.NOT_NEEDED.label,
            delivery,
        )
    colour, icon = DELIVERY_STYLES.get(delivery, ("secondary", "question-circle"))
    label = dict(Delivery.choices).get(delivery, delivery)
    return _badge(colour, icon, delivery, label, "delivery")
