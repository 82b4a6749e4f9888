"""Small line charts drawn on the server as inline SVG (no script, no chart library).

A chart is a list of ``(time, value)`` points over a fixed time window. Values are exact
(``Decimal``); only the pixel coordinates are rounded, to a tenth of a pixel, with ``Decimal``
arithmetic too, so nothing on the page depends on float rounding.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from django.utils import timezone
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

WIDTH = 640
HEIGHT = 180
PAD_LEFT = 64
PAD_RIGHT = 12
PAD_TOP = 12
PAD_BOTTOM = 26
TENTH = Decimal("0.1")


@dataclass(frozen=True)
class Series:
    label: str
    colour: str
    points: Sequence[tuple[dt.datetime, Decimal]]
    empty_text: str = ""


def _px(value: Decimal) -> str:
    return str(value.quantize(TENTH, rounding=ROUND_HALF_UP))


def _seconds(delta: dt.timedelta) -> Decimal:
    return Decimal(delta.days * 86400 + delta.seconds) + Decimal(delta.microseconds) / 1_000_000


def line_chart(
    series: Series, *, since: dt.datetime, until: dt.datetime, testid: str
) -> SafeString:
    """``series`` drawn between ``since`` and ``until``; an empty series says so."""
    plot_w = Decimal(WIDTH - PAD_LEFT - PAD_RIGHT)
    plot_h = Decimal(HEIGHT - PAD_TOP - PAD_BOTTOM)
    span = _seconds(until - since) or Decimal(1)
    points = [(t, v) for t, v in series.points if v is not None and since <= t <= until]
    parts = [
        f'<svg class="op-chart" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" '
        f'data-testid="{escape(testid)}" data-points="{len(points)}" '
        f'aria-label="{escape(series.label)}" preserveAspectRatio="none">',
        f'<rect x="{PAD_LEFT}" y="{PAD_TOP}" width="{plot_w}" height="{plot_h}" '
        'class="op-chart-frame"/>',
    ]
    if points:
        low = min(v for _, v in points)
        high = max(v for _, v in points)
        if high == low:
            low, high = low - 1, high + 1
        scale = high - low

        def x(t: dt.datetime) -> Decimal:
            return PAD_LEFT + plot_w * _seconds(t - since) / span

        def y(v: Decimal) -> Decimal:
            return PAD_TOP + plot_h - plot_h * (v - low) / scale

        for value in (low, (low + high) / 2, high):
            parts.append(
                f'<line x1="{PAD_LEFT}" x2="{WIDTH - PAD_RIGHT}" y1="{_px(y(value))}" '
                f'y2="{_px(y(value))}" class="op-chart-grid"/>'
                f'<text x="{PAD_LEFT - 4}" y="{_px(y(value) + 4)}" text-anchor="end" '
                f'class="op-chart-label">{escape(_axis_value(value))}</text>'
            )
        path = " ".join(
            f"{'M' if i == 0 else 'L'}{_px(x(t))},{_px(y(v))}" for i, (t, v) in enumerate(points)
        )
        parts.append(
            f'<path d="{path}" fill="none" stroke="{escape(series.colour)}" '
            'stroke-width="2" vector-effect="non-scaling-stroke"/>'
        )
        if len(points) == 1:
            t, v = points[0]
            parts.append(
                f'<circle cx="{_px(x(t))}" cy="{_px(y(v))}" r="3" fill="{escape(series.colour)}"/>'
            )
    else:
        parts.append(
            f'<text x="{WIDTH // 2}" y="{HEIGHT // 2}" text-anchor="middle" '
            f'class="op-chart-empty">{escape(series.empty_text)}</text>'
        )
    for fraction in (0, 1, 2, 3, 4):
        t = since + (until - since) * fraction / 4
        px = PAD_LEFT + plot_w * fraction / 4
        anchor = "start" if fraction == 0 else "end" if fraction == 4 else "middle"
        parts.append(
            f'<text x="{_px(px)}" y="{HEIGHT - 8}" text-anchor="{anchor}" '
            f'class="op-chart-label">{escape(_axis_time(t, until - since))}</text>'
        )
    parts.append("</svg>")
    return mark_safe("".join(parts))  # noqa: S308 - every interpolated text is escaped above


def _axis_value(value: Decimal) -> str:
    return f"{value.quantize(Decimal('0.01'), rounding=ROUND_HALF_UP):,}"


def _axis_time(moment: dt.datetime, window: dt.timedelta) -> str:
    local = timezone.localtime(moment)
    return local.strftime("%H:%M") if window <= dt.timedelta(days=1) else local.strftime("%m-%d")
