"""Charts drawn on the server as SVG (pure: figures in, markup out).

Made to be printed in black and white: dark bars with a black outline, the second series
hatched instead of coloured, every bar labelled with its number, and long names above their
bar rather than squeezed beside it. Only presentation attributes, no inline styles, so the
pages' Content-Security-Policy (style-src 'self') holds. Each chart carries a title and a
description for screen readers; the page repeats its numbers in a table.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from markupsafe import Markup, escape

WIDTH = 640
INK = "#000"
BAR = "#333"
PAPER = "#fff"
GRID = "#999"
FONT = 'font-family="Arial, Helvetica, sans-serif"'


@dataclass(frozen=True)
class Bar:
    label: str
    value: float
    #: What is printed at the end of the bar (the number, a percentage).
    text: str
    #: For a split bar: the part drawn solid (e.g. resolved on time); the rest is hatched.
    part: float | None = None


def _number(value: float) -> str:
    return f"{value:.1f}".rstrip("0").rstrip(".")


def _frame(chart_id: str, title: str, description: str, height: float, body: str) -> Markup:
    return Markup(
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" id="{escape(chart_id)}" '
        f'viewBox="0 0 {WIDTH} {_number(height)}" width="100%" role="img" '
        f'aria-labelledby="{escape(chart_id)}-t {escape(chart_id)}-d">'
        f'<title id="{escape(chart_id)}-t">{escape(title)}</title>'
        f'<desc id="{escape(chart_id)}-d">{escape(description)}</desc>'
        f'<defs><pattern id="{escape(chart_id)}-hatch" patternUnits="userSpaceOnUse" '
        'width="6" height="6" patternTransform="rotate(45)">'
        f'<rect width="6" height="6" fill="{PAPER}"/>'
        f'<line x1="0" y1="0" x2="0" y2="6" stroke="{INK}" stroke-width="2"/></pattern></defs>'
        f"{body}</svg>"
    )


def horizontal_bars(
    chart_id: str,
    title: str,
    bars: Sequence[Bar],
    *,
    maximum: float | None = None,
    legend: tuple[str, str] | None = None,
) -> Markup:
    """One bar per item, its name above it and its number after it; with ``part`` set, the
    solid part and the hatched rest (``legend`` names them)."""
    label_height, bar_height, gap = 16, 16, 10
    top = 28 if legend else 4
    scale_to = maximum if maximum is not None else max((b.value for b in bars), default=0) or 1
    usable = WIDTH - 90
    parts: list[str] = []
    if legend:
        parts.append(
            f'<rect x="0" y="4" width="14" height="14" fill="{BAR}" stroke="{INK}"/>'
            f'<text x="20" y="16" font-size="13" {FONT}>{escape(legend[0])}</text>'
            f'<rect x="220" y="4" width="14" height="14" fill="url(#{escape(chart_id)}-hatch)" '
            f'stroke="{INK}"/>'
            f'<text x="240" y="16" font-size="13" {FONT}>{escape(legend[1])}</text>'
        )
    y = float(top)
    for bar in bars:
        parts.append(
            f'<text x="0" y="{_number(y + 12)}" font-size="13" {FONT}>{escape(bar.label)}</text>'
        )
        y += label_height
        length = usable * (bar.value / scale_to) if scale_to else 0
        if bar.part is None:
            parts.append(
                f'<rect x="0" y="{_number(y)}" width="{_number(length)}" height="{bar_height}" '
                f'fill="{BAR}" stroke="{INK}"/>'
            )
        else:
            solid = usable * (bar.part / scale_to) if scale_to else 0
            parts.append(
                f'<rect x="0" y="{_number(y)}" width="{_number(length)}" height="{bar_height}" '
                f'fill="url(#{escape(chart_id)}-hatch)" stroke="{INK}"/>'
                f'<rect x="0" y="{_number(y)}" width="{_number(solid)}" height="{bar_height}" '
                f'fill="{BAR}" stroke="{INK}"/>'
            )
        parts.append(
            f'<text x="{_number(length + 6)}" y="{_number(y + 13)}" font-size="13" '
            f'font-weight="bold" {FONT}>{escape(bar.text)}</text>'
        )
        y += bar_height + gap
    description = "; ".join(f"{b.label}: {b.text}" for b in bars) or "—"
    return _frame(chart_id, title, description, max(y, 30), "".join(parts))


def vertical_bars(
    chart_id: str, title: str, labels: Sequence[str], values: Sequence[int]
) -> Markup:
    """A trend: one bar per step with its number on top, every few steps named below."""
    height, bottom, left = 220.0, 40.0, 30.0
    plot_height = height - bottom - 20
    count = max(len(values), 1)
    step = (WIDTH - left) / count
    width = max(step * 0.7, 2)
    top_value = max(values, default=0) or 1
    every = max(1, round(count / 12))
    parts = [
        f'<line x1="{left}" y1="{height - bottom}" x2="{WIDTH}" y2="{height - bottom}" '
        f'stroke="{INK}"/>'
    ]
    for i, (label, value) in enumerate(zip(labels, values, strict=True)):
        x = left + i * step + (step - width) / 2
        bar_height = plot_height * value / top_value
        y = height - bottom - bar_height
        parts.append(
            f'<rect x="{_number(x)}" y="{_number(y)}" width="{_number(width)}" '
            f'height="{_number(bar_height)}" fill="{BAR}" stroke="{INK}"/>'
        )
        if value and count <= 31:
            parts.append(
                f'<text x="{_number(x + width / 2)}" y="{_number(y - 4)}" font-size="11" '
                f'text-anchor="middle" {FONT}>{value}</text>'
            )
        if i % every == 0:
            parts.append(
                f'<text x="{_number(x + width / 2)}" y="{_number(height - bottom + 16)}" '
                f'font-size="11" text-anchor="middle" {FONT}>{escape(label)}</text>'
            )
    parts.append(
        f'<text x="0" y="{_number(height - bottom - plot_height + 4)}" font-size="11" '
        f"{FONT}>{top_value}</text>"
        f'<line x1="{left}" y1="{_number(height - bottom - plot_height)}" x2="{WIDTH}" '
        f'y2="{_number(height - bottom - plot_height)}" stroke="{GRID}" stroke-dasharray="4 4"/>'
    )
    description = "; ".join(
        f"{label}: {value}" for label, value in zip(labels, values, strict=True)
    )
    return _frame(chart_id, title, description or "—", height, "".join(parts))
