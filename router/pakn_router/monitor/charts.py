"""Small SVG bar charts drawn on the server: no script, no library, readable on a phone.

Each chart names itself and lists its numbers in its <title>/<desc>, so a screen reader
hears what a sighted operator sees."""

from __future__ import annotations

from collections.abc import Sequence

from markupsafe import Markup, escape

#: Drawing units; the SVG scales to the width of its box (viewBox), so these are proportions.
WIDTH = 320
ROW = 34
LABEL_GAP = 14
BAR_HEIGHT = 12
VALUE_ROOM = 40
BAR_COLOUR = "#0b4f9c"
TEXT_COLOUR = "#1b1b1b"


def bar_chart(chart_id: str, title: str, rows: Sequence[tuple[str, int]], empty: str) -> Markup:
    """Horizontal bars, one per (label, value), longest first as given; the label above its
    bar so long Vietnamese names never overlap."""
    title_id, desc_id = f"{chart_id}-title", f"{chart_id}-desc"
    summary = "; ".join(f"{label}: {value}" for label, value in rows) or empty
    height = max(1, len(rows)) * ROW + 4
    parts = [
        f'<svg class="chart" id="{escape(chart_id)}" role="img" viewBox="0 0 {WIDTH} {height}"'
        f' width="100%" aria-labelledby="{title_id} {desc_id}"'
        ' xmlns="http://www.w3.org/2000/svg">',
        f'<title id="{title_id}">{escape(title)}</title>',
        f'<desc id="{desc_id}">{escape(summary)}</desc>',
    ]
    if not rows:
        parts.append(
            f'<text x="0" y="{ROW // 2 + 4}" font-size="13" fill="{TEXT_COLOUR}">'
            f"{escape(empty)}</text>"
        )
    top = max((value for _, value in rows), default=0) or 1
    room = WIDTH - VALUE_ROOM
    for index, (label, value) in enumerate(rows):
        y = index * ROW
        length = max(2.0, room * value / top) if value else 0.0
        parts.append(
            f'<text x="0" y="{y + LABEL_GAP - 2}" font-size="13" fill="{TEXT_COLOUR}">'
            f"{escape(label)}</text>"
            f'<rect x="0" y="{y + LABEL_GAP + 2}" width="{length:.1f}" height="{BAR_HEIGHT}"'
            f' rx="2" fill="{BAR_COLOUR}"/>'
            f'<text x="{length + 6:.1f}" y="{y + LABEL_GAP + BAR_HEIGHT}" font-size="13"'
            f' font-weight="700" fill="{TEXT_COLOUR}">{value}</text>'
        )
    parts.append("</svg>")
    return Markup("".join(parts))
