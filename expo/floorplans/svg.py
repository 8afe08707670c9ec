"""The floor plan as an SVG string for the web: the same geometry as the PDF, in metres (1 user unit = 1 m).

Every booth is a ``<g class="booth status-…">`` with ``data-*`` attributes the page's script filters, searches and
highlights on, and a ``<title>`` for hover. No Flask here: links come in as a dict of booth id → URL.
"""

from __future__ import annotations

from html import escape

from expo.floorplans.plan import Plan, PlanBooth, PlanHall, scale_bar_length
from expo.pdf.fitting import LINE_HEIGHT, estimate_width, fit


def _a(value) -> str:
    return escape(str(value), quote=True)


def _n(value: float) -> str:
    return f"{value:.2f}".rstrip("0").rstrip(".")


def booth_label(number: str, name: str, w: float, d: float) -> tuple[float, object]:
    """Size of the number and the fitted name for a booth of ``w`` × ``d`` metres (as the PDF does it)."""
    pad = min(w, d) * 0.06
    num_size = min(w / max(estimate_width(number), 0.1) * 0.9, d * 0.22, 0.9)
    box_h = d - num_size * 1.2 - 2 * pad
    fitted = fit(name, w, box_h, estimate_width, max_size=num_size * 1.1, min_size=0.12, padding=pad)
    return num_size, fitted


def _booth(b: PlanBooth, variant: str, links: dict[int, str], selectable: set[int], highlight: set[int],
           in_stand: bool) -> str:
    classes = ["booth", f"status-{b.status}"]
    if b.raw_space:
        classes.append("raw")
    if b.id in selectable:
        classes.append("selectable")
    if b.id in highlight:
        classes.append("highlight")
    if in_stand:
        classes.append("in-stand")
    title = b.number + (f" · {b.exhibitor}" if b.exhibitor else "")
    if b.price_cny is not None:
        title += f" · ¥{b.price_cny:,}"
    fill = b.colour
    out = [f'<g class="{" ".join(classes)}" id="booth-{b.id}" data-booth-id="{b.id}" data-number="{_a(b.number)}" '
           f'data-status="{_a(b.status)}" data-pavilion="{_a(b.pavilion)}" '
           f'data-categories="{_a(" ".join(b.categories))}" data-exhibitor="{_a(b.exhibitor)}"'
           + (f' data-price="{b.price_cny}"' if b.price_cny is not None else "")
           + (f' data-href="{_a(links[b.id])}"' if b.id in links else "") + ">",
           f"<title>{escape(title)}</title>"]
    if b.id in links:
        out.append(f'<a href="{_a(links[b.id])}">')
    out.append(f'<rect x="{_n(b.x)}" y="{_n(b.y)}" width="{_n(b.w)}" height="{_n(b.d)}" fill="{_a(fill)}"/>')
    if not in_stand:
        body = b.exhibitor or (f"¥{b.price_cny:,}" if b.price_cny is not None else "")
        num_size, fitted = booth_label(b.number, body, b.w, b.d)
        pad = min(b.w, b.d) * 0.06
        cx = b.x + b.w / 2
        out.append(f'<text class="num" x="{_n(cx)}" y="{_n(b.y + pad + num_size * 0.9)}" '
                   f'font-size="{_n(num_size)}">{escape(b.number)}</text>')
        if fitted.fits:
            box_top = b.y + pad + num_size * 1.2
            box_h = b.d - num_size * 1.2 - 2 * pad
            line = fitted.size * LINE_HEIGHT
            y = box_top + (box_h - line * len(fitted.lines)) / 2 + fitted.size * 0.9
            spans = "".join(f'<tspan x="{_n(cx)}" y="{_n(y + i * line)}">{escape(t)}</tspan>'
                            for i, t in enumerate(fitted.lines))
            out.append(f'<text class="name" font-size="{fitted.size:.3f}">{spans}</text>')
    if b.id in links:
        out.append("</a>")
    out.append("</g>")
    return "".join(out)


def _hall(hall: PlanHall, plan: Plan, links, selectable, highlight) -> str:
    out = [f'<g class="hall" id="hall-{_a(hall.code)}" data-hall="{_a(hall.code)}" '
           f'data-box="{_n(hall.x)} {_n(hall.y)} {_n(hall.width)} {_n(hall.depth)}" '
           f'transform="translate({_n(hall.x)} {_n(hall.y)})">',
           f'<rect class="hall-floor" x="0" y="0" width="{_n(hall.width)}" height="{_n(hall.depth)}"/>',
           f'<text class="hall-name" x="1" y="-1.2" font-size="3">{escape(hall.code)} {escape(hall.name)}</text>']
    for o in hall.obstacles:
        out.append(f'<rect class="obstacle" x="{_n(o.x)}" y="{_n(o.y)}" width="{_n(o.w)}" height="{_n(o.d)}">'
                   f"<title>{escape(o.label)}</title></rect>")
    for e in hall.entrances:
        x1, y1, x2, y2 = e.segment(hall.width, hall.depth)
        out.append(f'<line class="entrance" x1="{_n(x1)}" y1="{_n(y1)}" x2="{_n(x2)}" y2="{_n(y2)}">'
                   f"<title>{escape(e.name)}</title></line>")
    in_stand = {bid for st in hall.stands for bid in st.booth_ids}
    out.extend(_booth(b, plan.variant, links, selectable, highlight, b.id in in_stand) for b in hall.booths)
    for st in hall.stands:
        x, y, w, d = st.bbox
        path = " ".join(f"M{_n(a)} {_n(b)}L{_n(c)} {_n(e)}" for a, b, c, e in st.segments)
        num_size, fitted = booth_label(st.numbers[0], st.exhibitor, w, d)
        spans = ""
        if fitted.fits:
            line = fitted.size * LINE_HEIGHT
            y0 = y + d / 2 - line * len(fitted.lines) / 2 + fitted.size * 0.9
            spans = "".join(f'<tspan x="{_n(x + w / 2)}" y="{_n(y0 + i * line)}">{escape(t)}</tspan>'
                            for i, t in enumerate(fitted.lines))
        out.append(f'<g class="stand" data-stand-id="{st.id}" data-booths="{_a(" ".join(st.numbers))}">'
                   f'<path d="{path}"/><text class="name" font-size="{fitted.size:.3f}">{spans}</text></g>')
    out.append("</g>")
    return "".join(out)


def render_svg(plan: Plan, *, links: dict[int, str] | None = None, selectable: set[int] | None = None,
               highlight: set[int] | None = None, viewbox: tuple[float, float, float, float] | None = None,
               title: str = "") -> str:
    """The plan as one ``<svg>`` element (halls placed as on the venue plan), ready to inline in a page.

    ``viewbox`` (x, y, w, d in venue metres) crops to a part of the plan, e.g. an excerpt around some booths.
    """
    links, selectable, highlight = links or {}, selectable or set(), highlight or set()
    x0, y0, w, d = plan.extent
    vb = viewbox or (x0 - 4, y0 - 8, w + 8, d + 16)
    bar = scale_bar_length(vb[2])
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" class="floorplan variant-{_a(plan.variant)}" '
             f'viewBox="{" ".join(_n(v) for v in vb)}" data-extent="{" ".join(_n(v) for v in vb)}" '
             f'role="img" aria-label="{_a(title or plan.expo_name)}" preserveAspectRatio="xMidYMid meet">']
    parts.extend(_hall(h, plan, links, selectable, highlight) for h in plan.halls)
    bx, by = vb[0] + vb[2] - bar - 2, vb[1] + vb[3] - 2
    parts.append(f'<g class="scale-bar"><line x1="{_n(bx)}" y1="{_n(by)}" x2="{_n(bx + bar)}" y2="{_n(by)}"/>'
                 f'<text x="{_n(bx + bar / 2)}" y="{_n(by - 1)}" font-size="{_n(max(1.5, vb[2] / 120))}">'
                 f"{bar:g} m</text></g>")
    parts.append("</svg>")
    return "".join(parts)
