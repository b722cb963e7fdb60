"""Small SVG bar charts drawn on the server: no JavaScript, fonts or images to fetch, so they embed in a PDF."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

WIDTH = 520
LABEL_WIDTH = 150
VALUE_WIDTH = 110
ROW_HEIGHT = 18
BAR_HEIGHT = 12
TOP = 6
MAX_BARS = 15
COLOR = "#3461c1"
NEGATIVE_COLOR = "#c14a34"


@dataclass(frozen=True)
class Bar:
    label: str
    value: float


def bar_chart(bars: Sequence[Bar], *, title: str, text: Callable[[float], str], largest_first: bool = True) -> SafeString:
    """Horizontal bars from a zero line (negative values go left), at most MAX_BARS (the largest when sorted)."""
    bars = (sorted(bars, key=lambda bar: bar.value, reverse=True) if largest_first else list(bars))[:MAX_BARS]
    height = TOP * 2 + ROW_HEIGHT * max(len(bars), 1)
    plot = WIDTH - LABEL_WIDTH - VALUE_WIDTH
    low = min([0.0, *(bar.value for bar in bars)])
    high = max([0.0, *(bar.value for bar in bars)])
    scale = plot / (high - low) if high > low else 0.0
    zero = LABEL_WIDTH + (0 - low) * scale
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{height}" viewBox="0 0 {WIDTH} {height}" '
        f'role="img" aria-label="{escape(title)}" font-family="sans-serif" font-size="10">',
        f"<title>{escape(title)}</title>",
    ]
    for index, bar in enumerate(bars):
        y = TOP + index * ROW_HEIGHT
        x = min(zero, zero + bar.value * scale)
        width = abs(bar.value) * scale
        color = NEGATIVE_COLOR if bar.value < 0 else COLOR
        label = bar.label if len(bar.label) <= 24 else bar.label[:23] + "…"
        parts += [
            f'<text x="{LABEL_WIDTH - 6}" y="{y + BAR_HEIGHT - 2}" text-anchor="end" fill="#333">{escape(label)}</text>',
            f'<rect x="{x:.1f}" y="{y}" width="{max(width, 0.5):.1f}" height="{BAR_HEIGHT}" fill="{color}"/>',
            f'<text x="{WIDTH - VALUE_WIDTH + 6}" y="{y + BAR_HEIGHT - 2}" fill="#333">{escape(text(bar.value))}</text>',
        ]
    parts.append(
        f'<line x1="{zero:.1f}" y1="{TOP - 2}" x2="{zero:.1f}" y2="{height - TOP + 2}" stroke="#999" stroke-width="0.5"/>'
    )
    parts.append("</svg>")
    return mark_safe("".join(parts))  # every text in it was escaped above
