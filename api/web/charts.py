"""Bar charts drawn on the server as SVG, readable by everyone.

A chart is a list of rows (a month and category, a region), each with one bar
per series (collected, processed, …). Bars run across the page, each under its
own label line, so nothing overflows a phone's width. Every bar is labelled
with its series and figure; the SVG carries a
``<title>`` and a ``<desc>``; the page puts the same figures in a table under
the chart for screen readers and keyboards. The series' colours keep at least
4.5:1 contrast against white.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from html import escape

from markupsafe import Markup

#: Series colours (each at least 4.5:1 against white), in the order series are drawn.
COLOURS = ("#0b5c4a", "#1f4e9c", "#8a4b00")

#: Geometry, in CSS pixels: a row's label line, each bar's label line, each bar and the gaps.
LABEL_LINE = 22
NOTE_LINE = 18
BAR_TEXT = 16
BAR = 12
BAR_GAP = 6
ROW_GAP = 14


@dataclass(frozen=True)
class Series:
    """One measure drawn in every row: its key, its name and its colour."""

    key: str
    name: str
    colour: str


@dataclass(frozen=True)
class Row:
    """One group of bars: its label (and a second line under it), its figures by series key,
    and data attributes."""

    label: str
    values: dict[str, int]
    data: dict[str, str] = field(default_factory=dict)
    note: str = ""


def _attrs(data: dict[str, str]) -> str:
    return "".join(f' data-{escape(k)}="{escape(v)}"' for k, v in data.items())


def bar_chart(
    ident: str,
    *,
    title: str,
    desc: str,
    rows: list[Row],
    series: list[Series],
    figure: Callable[[int], str],
) -> Markup:
    """The SVG of a horizontal grouped bar chart; ``figure`` writes a value for people."""
    top = max([v for row in rows for v in row.values.values()] + [1])
    per_bar = BAR_TEXT + BAR + BAR_GAP
    head = LABEL_LINE + (NOTE_LINE if any(row.note for row in rows) else 0)
    per_row = head + len(series) * per_bar + ROW_GAP
    height = max(per_row * len(rows), LABEL_LINE)
    parts = [
        f'<svg class="chart" id="{escape(ident)}" role="img" width="100%" height="{height}" '
        f'aria-labelledby="{escape(ident)}-title {escape(ident)}-desc" '
        f'xmlns="http://www.w3.org/2000/svg">',
        f'<title id="{escape(ident)}-title">{escape(title)}</title>',
        f'<desc id="{escape(ident)}-desc">{escape(desc)}</desc>',
    ]
    for n, row in enumerate(rows):
        y = n * per_row
        parts.append(f'<g class="chart-row"{_attrs(row.data)}>')
        parts.append(f'<text class="chart-label" x="0" y="{y + 15}">{escape(row.label)}</text>')
        if row.note:
            parts.append(
                f'<text class="chart-note" x="0" y="{y + 15 + NOTE_LINE}">{escape(row.note)}</text>'
            )
        named = f"{row.label} · {row.note}" if row.note else row.label
        for i, one in enumerate(series):
            value = row.values.get(one.key, 0)
            width = round(100 * value / top, 2)
            text_y = y + head + i * per_bar
            words = f"{one.name}: {figure(value)}"
            parts.append(
                f'<text class="bar-label" x="0" y="{text_y + BAR_TEXT - 4}">{escape(words)}</text>'
            )
            parts.append(
                f'<rect class="bar" data-measure="{escape(one.key)}" data-grams="{value}"'
                f' x="0" y="{text_y + BAR_TEXT}" width="{width}%" height="{BAR}"'
                f' fill="{one.colour}"><title>{escape(named)} · {escape(words)}</title></rect>'
            )
        parts.append("</g>")
    parts.append("</svg>")
    return Markup("".join(parts))  # noqa: S704 - every value above is escaped
