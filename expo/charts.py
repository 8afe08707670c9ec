"""Bar charts as inline SVG, drawn on the server: data in, markup out. No JavaScript, no CDN, no Flask.

One horizontal bar per label (long Chinese and English labels read best beside their bar), optionally several
series per label (buyers and delegations per country, say) with a legend. Every label and title is escaped; each
bar carries a ``<title>`` with its exact value, which browsers show on hover and screen readers read.

Usage::

    from expo.charts import bar_chart, top_n
    svg = bar_chart(top_n(rows, 15, other_label=_("Others")), title=_("Buyers per country"))
    # in a template: {{ svg }}  (a Markup string: already escaped, not escaped twice)
"""

from __future__ import annotations

import unicodedata
from collections.abc import Callable, Sequence

from markupsafe import Markup, escape

Number = int | float
Value = Number | Sequence[Number]

#: Colours with enough contrast against white and against each other (series 1, 2, 3 ...).
PALETTE = ("#b3261e", "#1f5fa8", "#1e7d32", "#a15c00", "#6a3d9a", "#5b6675")

FONT_SIZE = 12


def text_width(text: str, font_size: float = FONT_SIZE) -> float:
    """Rough rendered width of ``text``: wide (CJK, full-width) characters take one em, others about half."""
    em = 0.0
    for ch in text:
        em += 1.0 if unicodedata.east_asian_width(ch) in ("W", "F") else 0.58
    return em * font_size


def _fit(text: str, width: float, font_size: float = FONT_SIZE) -> str:
    """``text`` cut with an ellipsis so that it fits ``width``."""
    if text_width(text, font_size) <= width:
        return text
    out = ""
    for ch in text:
        if text_width(out + ch + "…", font_size) > width:
            break
        out += ch
    return out + "…"


def _values(value: Value) -> list[float]:
    if isinstance(value, int | float):
        return [float(value)]
    return [float(v) for v in value]


def _default_format(value: float) -> str:
    return f"{value:,.0f}" if float(value).is_integer() else f"{value:,.1f}"


def top_n(rows: Sequence[tuple[str, Value]], n: int, *, other_label: str) -> list[tuple[str, Value]]:
    """The first ``n`` rows as they are, the rest summed into one row named ``other_label`` (series by series).
    Sort ``rows`` first; nothing is folded when there are at most ``n + 1`` rows (a lone "others" row would
    hide one label for nothing)."""
    rows = list(rows)
    if len(rows) <= n + 1:
        return rows
    head, rest = rows[:n], rows[n:]
    widths = max(len(_values(v)) for _label, v in rest)
    sums = [0.0] * widths
    for _label, value in rest:
        for i, v in enumerate(_values(value)):
            sums[i] += v
    folded: Value = sums[0] if widths == 1 and all(isinstance(v, int | float) for _l, v in rest) else tuple(sums)
    if isinstance(folded, float) and folded.is_integer():
        folded = int(folded)
    elif isinstance(folded, tuple):
        folded = tuple(int(s) if s.is_integer() else s for s in folded)
    return [*head, (other_label, folded)]


def bar_chart(rows: Sequence[tuple[str, Value]], *, title: str = "", series: Sequence[str] = (),
              width: int = 640, bar_height: int = 16, gap: int = 8, max_label_width: float | None = None,
              colors: Sequence[str] = PALETTE, value_format: Callable[[float], str] = _default_format,
              empty_text: str = "—", css_class: str = "chart") -> Markup:
    """A horizontal bar chart of ``rows`` — ``(label, value)`` or ``(label, (value1, value2, ...))`` pairs, in the
    order given — as an ``<svg>`` element that scales to its container's width.

    ``series`` names the values of each row (a legend is drawn when there are two or more); ``title`` becomes the
    chart's accessible name. All bars share one scale, starting at zero. Negative values are drawn as zero.
    """
    rows = [(str(label), _values(value)) for label, value in rows]
    n_series = max([len(series)] + [len(v) for _l, v in rows] + [1])
    label_space = max_label_width if max_label_width is not None else width * 0.38
    label_w = min(label_space, max([text_width(label) for label, _v in rows] + [0])) + 8
    biggest = max([v for _l, values in rows for v in values] + [0])
    value_w = text_width(value_format(biggest) if rows else "0") + 10
    bar_space = max(width - label_w - value_w, 40)
    legend_h = FONT_SIZE + 10 if n_series > 1 and series else 0
    row_h = n_series * bar_height + gap
    height = legend_h + max(len(rows), 1) * row_h + gap

    parts: list[str] = []
    if title:
        parts.append(f"<title>{escape(title)}</title>")
    if legend_h:
        x = label_w
        for i, name in enumerate(series):
            color = colors[i % len(colors)]
            parts.append(f'<rect x="{x:.1f}" y="2" width="{FONT_SIZE}" height="{FONT_SIZE}" fill="{escape(color)}"/>'
                         f'<text x="{x + FONT_SIZE + 4:.1f}" y="{FONT_SIZE}" font-size="{FONT_SIZE}">'
                         f'{escape(name)}</text>')
            x += FONT_SIZE + 4 + text_width(str(name)) + 16
    if not rows:
        parts.append(f'<text x="{width / 2:.1f}" y="{legend_h + row_h / 2 + FONT_SIZE / 2:.1f}" '
                     f'text-anchor="middle" font-size="{FONT_SIZE}" fill="#5b6675">{escape(empty_text)}</text>')
    for index, (label, values) in enumerate(rows):
        top = legend_h + gap + index * row_h
        middle = top + n_series * bar_height / 2
        shown = _fit(label, label_w - 8)
        exact = ", ".join(value_format(v) for v in values)
        parts.append(f'<g class="bar"><title>{escape(label)}: {escape(exact)}</title>'
                     f'<text x="{label_w - 8:.1f}" y="{middle + FONT_SIZE * 0.35:.1f}" text-anchor="end" '
                     f'font-size="{FONT_SIZE}">{escape(shown)}</text>')
        for i, value in enumerate(values):
            length = bar_space * max(value, 0) / biggest if biggest > 0 else 0
            y = top + i * bar_height
            color = colors[i % len(colors)]
            parts.append(f'<rect x="{label_w:.1f}" y="{y:.1f}" width="{length:.1f}" height="{bar_height - 2}" '
                         f'fill="{escape(color)}"/>'
                         f'<text x="{label_w + length + 4:.1f}" y="{y + bar_height / 2 + FONT_SIZE * 0.3:.1f}" '
                         f'font-size="{FONT_SIZE - 1}" fill="#1d2430">{escape(value_format(value))}</text>')
        parts.append("</g>")
    aria = f' aria-label="{escape(title)}"' if title else ""
    return Markup(f'<svg xmlns="http://www.w3.org/2000/svg" class="{escape(css_class)}" role="img"{aria} '
                  f'viewBox="0 0 {width} {height:.0f}" width="100%" preserveAspectRatio="xMinYMin meet" '
                  f'font-family="system-ui, \'PingFang SC\', \'Noto Sans CJK SC\', sans-serif">'
                  + "".join(parts) + "</svg>")
