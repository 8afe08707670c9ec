"""The floor plan as a vector PDF for print: one hall or the whole venue, any A size, then an index of exhibitors.

Takes a :class:`~expo.floorplans.plan.Plan` and returns bytes; no Flask here. Words printed on the plan come in
``labels`` (the view passes them translated), with English defaults.
"""

from __future__ import annotations

from io import BytesIO

from reportlab.lib.colors import Color, HexColor, white
from reportlab.lib.units import mm
from reportlab.pdfbase.pdfmetrics import stringWidth
from reportlab.pdfgen.canvas import Canvas

from expo.floorplans.plan import Plan, PlanBooth, PlanHall, scale_bar_length
from expo.pdf.fitting import LINE_HEIGHT, fit
from expo.pdf.fonts import LATIN, LATIN_BOLD, cjk_font, font_for
from expo.pdf.pages import page_size

LABELS = {
    "exhibitor": "Exhibitor plan",
    "sales": "Sales plan",
    "index": "Index of exhibitors",
    "legend": "Pavilions",
    "available": "Available",
    "sold": "Sold or held",
    "blocked": "Not for sale",
    "north": "N",
    "m": "m",
    "page": "Page %(n)d",
}
MARGIN = 10 * mm
GREY = HexColor("#d5d5d5")
DARK = HexColor("#333333")
BLOCKED = HexColor("#9a9a9a")


def tint(hex_colour: str, amount: float) -> Color:
    """``hex_colour`` mixed with white: ``amount`` 1 is the colour, 0 is white."""
    c = HexColor(hex_colour)
    return Color(1 - (1 - c.red) * amount, 1 - (1 - c.green) * amount, 1 - (1 - c.blue) * amount)


class _Writer:
    def __init__(self, plan: Plan, paper: str, orientation: str, labels: dict[str, str]):
        self.plan = plan
        self.labels = {**LABELS, **labels}
        self.size = page_size(paper, orientation)
        self.buffer = BytesIO()
        self.canvas = Canvas(self.buffer, pagesize=self.size, pageCompression=1)
        self.canvas.setTitle(f"{plan.expo_name} · {self.labels[plan.variant]}")
        self.cjk = cjk_font()
        self.widths: dict[tuple[str, str], float] = {}

    # -- text ---------------------------------------------------------------------------------------------------
    def measure(self, text: str) -> float:
        font = font_for(text, self.cjk)
        key = (font, text)
        if key not in self.widths:
            self.widths[key] = stringWidth(text, font, 1)
        return self.widths[key]

    def text(self, x: float, y: float, text: str, size: float, *, align: str = "left", bold: bool = False,
             colour=DARK) -> None:
        font = font_for(text, self.cjk)
        if bold and font == LATIN:
            font = LATIN_BOLD
        c = self.canvas
        c.setFillColor(colour)
        c.setFont(font, size)
        {"left": c.drawString, "centre": c.drawCentredString, "right": c.drawRightString}[align](x, y, text)

    # -- the plan page ------------------------------------------------------------------------------------------
    def plan_page(self) -> None:
        pw, ph = self.size
        plan = self.plan
        title = plan.expo_name
        if len(plan.halls) == 1:
            title += f" · {plan.halls[0].code} {plan.halls[0].name}"
        title_size = min(18, max(10, pw / 60))
        self.text(MARGIN, ph - MARGIN - title_size, title, title_size, bold=True)
        self.text(pw - MARGIN, ph - MARGIN - title_size, self.labels[plan.variant], title_size * 0.8, align="right")
        legend_h = self.legend(MARGIN, MARGIN, pw - 2 * MARGIN, title_size * 0.7)
        top = ph - MARGIN - title_size * 1.8
        bottom = MARGIN + legend_h + 4 * mm
        x0, y0, ew, ed = plan.extent
        scale = min((pw - 2 * MARGIN) / ew, (top - bottom) / ed)  # points per metre
        ox = MARGIN + ((pw - 2 * MARGIN) - ew * scale) / 2 - x0 * scale
        oy = top - ((top - bottom) - ed * scale) / 2 + y0 * scale  # page y of the venue's y = 0 line
        for hall in plan.halls:
            self.hall(hall, ox + hall.x * scale, oy - hall.y * scale, scale)
        self.scale_bar(pw - MARGIN, bottom - 2 * mm, scale, ew, title_size * 0.6)
        self.north_arrow(pw - MARGIN - 6 * mm, top - 12 * mm, 5 * mm)
        self.canvas.showPage()

    def hall(self, hall: PlanHall, hx: float, hy: float, s: float) -> None:
        """Draw ``hall`` with its north-west corner at page point (hx, hy) and ``s`` points per metre."""
        c = self.canvas
        c.setLineWidth(max(0.6, s * 0.15))
        c.setStrokeColor(DARK)
        c.setFillColor(white)
        c.rect(hx, hy - hall.depth * s, hall.width * s, hall.depth * s, stroke=1, fill=1)
        code_size = max(6, min(40, s * 4))
        self.text(hx + s, hy + code_size * 0.3, f"{hall.code} {hall.name}", code_size, bold=True)
        c.setFillColor(BLOCKED)
        for o in hall.obstacles:
            c.rect(hx + o.x * s, hy - (o.y + o.d) * s, o.w * s, o.d * s, stroke=0, fill=1)
        c.setStrokeColor(white)
        c.setLineWidth(max(1.2, s * 0.3))
        for e in hall.entrances:  # a door is a gap in the wall, with a small mark outside
            x1, y1, x2, y2 = e.segment(hall.width, hall.depth)
            c.line(hx + x1 * s, hy - y1 * s, hx + x2 * s, hy - y2 * s)
        in_stand = {bid for st in hall.stands for bid in st.booth_ids}
        c.setLineWidth(max(0.2, s * 0.04))
        for b in hall.booths:
            self.booth(b, hx, hy, s, label=b.id not in in_stand)
        for st in hall.stands:  # merged stand: one outline, one name
            c.setStrokeColor(DARK)
            c.setLineWidth(max(0.4, s * 0.08))
            for x1, y1, x2, y2 in st.segments:
                c.line(hx + x1 * s, hy - y1 * s, hx + x2 * s, hy - y2 * s)
            x, y, w, d = st.bbox
            self.booth_label(" ".join([st.numbers[0] + "–" + st.numbers[-1].split("-")[-1]]), st.exhibitor, None,
                             hx + x * s, hy - y * s, w * s, d * s)

    def booth_fill(self, b: PlanBooth):
        if b.status == "blocked":
            return BLOCKED
        if self.plan.variant == "sales":
            return tint(b.colour, 0.75) if b.status == "available" else GREY
        return tint(b.colour, 0.55 if b.exhibitor else 0.25)

    def booth(self, b: PlanBooth, hx: float, hy: float, s: float, label: bool = True) -> None:
        c = self.canvas
        c.setFillColor(self.booth_fill(b))
        c.setStrokeColor(DARK if label else self.booth_fill(b))
        x, y, w, h = hx + b.x * s, hy - (b.y + b.d) * s, b.w * s, b.d * s
        c.rect(x, y, w, h, stroke=1, fill=1)
        if label:
            price = f"¥{b.price_cny:,}" if b.price_cny is not None else None
            self.booth_label(b.number, b.exhibitor, price, x, y + h, w, h)

    def booth_label(self, number: str, name: str, price: str | None, x: float, top: float, w: float,
                    h: float) -> None:
        """Number at the top of the booth, then the name (or price) fitted into what is left of the box."""
        pad = min(w, h) * 0.06
        num_size = min(w / max(self.measure(number), 0.1) * 0.9, h * 0.22, 9)
        if num_size < 1.2:
            return
        self.text(x + w / 2, top - pad - num_size * 0.85, number, num_size, align="centre", bold=True)
        body = name or price or ""
        if not body:
            return
        box_h = h - num_size * 1.2 - 2 * pad
        fitted = fit(body, w, box_h, self.measure, max_size=num_size * 1.1, min_size=1.5, padding=pad)
        if not fitted.fits:
            return
        line = fitted.size * LINE_HEIGHT
        y = top - pad - num_size * 1.2 - (box_h - line * len(fitted.lines)) / 2 - fitted.size * 0.9
        for text in fitted.lines:
            self.text(x + w / 2, y, text, fitted.size, align="centre")
            y -= line

    def legend(self, x: float, y: float, width: float, size: float) -> float:
        """Pavilions by colour (and, on the sales plan, the statuses), in columns; returns the height used."""
        entries = [(e.colour, f"{e.name} ({e.code})") for e in self.plan.legend]
        if self.plan.variant == "sales":
            entries += [(None, self.labels["available"]), ("#d5d5d5", self.labels["sold"]),
                        ("#9a9a9a", self.labels["blocked"])]
        col_w = max([self.measure(t) * size for _c, t in entries] + [40]) + size * 2.5
        cols = max(1, int(width // col_w))
        rows = -(-len(entries) // cols)
        row_h = size * 1.5
        height = (rows + 1) * row_h
        self.text(x, y + height - size, self.labels["legend"], size, bold=True)
        c = self.canvas
        for i, (colour, text) in enumerate(entries):
            cx = x + (i // rows) * col_w
            cy = y + height - (i % rows + 2) * row_h
            c.setStrokeColor(DARK)
            c.setLineWidth(0.3)
            c.setFillColor(HexColor(colour) if colour else white)
            c.rect(cx, cy, size * 1.6, size, stroke=1, fill=1)
            self.text(cx + size * 2, cy + size * 0.15, text, size)
        return height

    def scale_bar(self, right: float, y: float, s: float, span_m: float, size: float) -> None:
        length = scale_bar_length(span_m)
        c = self.canvas
        x = right - length * s
        c.setStrokeColor(DARK)
        c.setFillColor(DARK)
        c.setLineWidth(0.8)
        c.line(x, y, right, y)
        for tick in (x, (x + right) / 2, right):
            c.line(tick, y - 1.5, tick, y + 1.5)
        label = f"{length:g} {self.labels['m']}"
        self.text((x + right) / 2, y + 3, label, size, align="centre")
        self.text(x, y + 3, "0", size, align="centre")

    def north_arrow(self, x: float, y: float, size: float) -> None:
        c = self.canvas
        c.setFillColor(DARK)
        path = c.beginPath()
        path.moveTo(x, y + size)
        path.lineTo(x - size * 0.4, y - size * 0.4)
        path.lineTo(x, y)
        path.lineTo(x + size * 0.4, y - size * 0.4)
        path.close()
        c.drawPath(path, stroke=0, fill=1)
        self.text(x, y + size * 1.2, self.labels["north"], size, align="centre", bold=True)

    # -- the index ----------------------------------------------------------------------------------------------
    def index_pages(self) -> None:
        """Exhibitors sorted by name with their booth numbers, in as many columns as the paper allows."""
        if not self.plan.index:
            return
        pw, ph = self.size
        size = 8 if pw < 500 else 9
        row = size * 1.45
        col_w = 90 * mm
        cols = max(1, int((pw - 2 * MARGIN + 6 * mm) // col_w))
        col_w = (pw - 2 * MARGIN) / cols
        top = ph - MARGIN - 16
        rows = max(1, int((top - MARGIN) // row))
        entries = self.plan.index
        per_page = rows * cols
        for start in range(0, len(entries), per_page):
            self.text(MARGIN, ph - MARGIN - 12, self.labels["index"], 12, bold=True)
            for i, e in enumerate(entries[start:start + per_page]):
                x = MARGIN + (i // rows) * col_w
                y = top - (i % rows + 1) * row
                booths = ", ".join(e.booths)
                room = col_w - 6 * mm - self.measure(booths) * size
                name = e.name
                while name and self.measure(name) * size > room:  # too long for its column: cut with an ellipsis
                    name = name[:-2] + "…" if len(name) > 2 else ""
                self.text(x, y, name, size)
                self.text(x + col_w - 4 * mm, y, booths, size, align="right", bold=True)
            self.canvas.showPage()

    def render(self) -> bytes:
        self.plan_page()
        self.index_pages()
        self.canvas.save()
        return self.buffer.getvalue()


def render_pdf(plan: Plan, paper: str = "A3", orientation: str = "landscape",
               labels: dict[str, str] | None = None) -> bytes:
    """The plan page (every hall of ``plan``, placed as on the venue) and the exhibitor index, as PDF bytes.

    ``paper`` is a key of :data:`expo.pdf.pages.PAPERS`; raises ``KeyError``/``ValueError`` for unknown ones.
    """
    return _Writer(plan, paper, orientation, labels or {}).render()
