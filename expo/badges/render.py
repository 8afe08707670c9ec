"""Badges to PDF: plain data in (:class:`BadgeCard`), PDF bytes out. No Flask, no database.

Every element is placed by the layout (:mod:`expo.badges.layouts`); names shrink to fit their box and wrap onto a
second line when that reads larger (:func:`expo.pdf.fitting.fit`); text with Chinese (or any non-Latin-1) characters
is set in the embedded CJK font, so it prints and can be searched and copied from the PDF. The QR code is vector:
each row's dark runs are one rectangle of one path (:func:`expo.pdf.qr.draw_qr`), from the modules computed when the
code was minted.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from reportlab.lib.colors import HexColor, black, white
from reportlab.lib.units import mm
from reportlab.lib.utils import ImageReader
from reportlab.pdfbase.pdfmetrics import stringWidth
from reportlab.pdfgen.canvas import Canvas

from expo.badges.layouts import Box, Layout, TextBox
from expo.pdf.fitting import LINE_HEIGHT, fit
from expo.pdf.fonts import LATIN, LATIN_BOLD, CJKFont, cjk_font, needs_cjk
from expo.pdf.qr import Matrix, Packed, draw_qr


@dataclass(frozen=True)
class BadgeCard:
    """What one badge shows."""

    name: str
    type_label: str  # e.g. "展商 EXHIBITOR"
    colour: str  # the colour band, #rrggbb
    qr: Matrix | Packed  # the code's modules, as a matrix or packed (expo.pdf.qr.pack)
    confirmation: str
    name_native: str = ""
    company: str = ""
    country: str = ""  # the country's name as printed
    layout: str = "a6"


class _Measure:
    """Text widths at size 1 in points, cached per (text, font): a batch repeats countries, companies, types."""

    def __init__(self, cjk: CJKFont):
        self.cjk = cjk
        self.cache: dict[tuple[str, bool], float] = {}

    def font(self, text: str, bold: bool) -> str:
        if needs_cjk(text):
            return self.cjk.name
        return LATIN_BOLD if bold else LATIN

    def width(self, text: str, bold: bool) -> float:
        key = (text, bold)
        found = self.cache.get(key)
        if found is None:
            found = self.cache[key] = stringWidth(text, self.font(text, bold), 1)
        return found

    def for_(self, bold: bool) -> Callable[[str], float]:
        return lambda text: self.width(text, bold)


def render(cards: Sequence[BadgeCard], layouts: dict[str, Layout], *, logo_png: bytes | None = None,
           cjk: CJKFont | None = None, title: str = "Badges", progress: Callable[[int], None] | None = None,
           progress_every: int = 100) -> bytes:
    """One PDF of ``cards``, each on its layout's paper; consecutive cards of one layout share sheets.

    ``progress(n)`` is called with the number of badges drawn since the last call, every ``progress_every`` badges
    and at the end.
    """
    buffer = io.BytesIO()
    canvas = Canvas(buffer, pageCompression=1)
    canvas.setTitle(title)
    canvas.setCreator("expo")
    measure = _Measure(cjk or cjk_font())
    logo = ImageReader(io.BytesIO(logo_png)) if logo_png else None
    tick = progress or (lambda n: None)
    pending = 0
    current: Layout | None = None
    slot = 0
    for card in cards:
        layout = layouts[card.layout]
        if layout is not current or slot >= layout.per_page:
            if current is not None:
                canvas.showPage()
            current, slot = layout, 0
            canvas.setPageSize((layout.page[0] * mm, layout.page[1] * mm))
        _draw(canvas, layout, layout.slots[slot], card, measure, logo)
        slot += 1
        pending += 1
        if pending >= progress_every:
            tick(pending)
            pending = 0
    if current is None:  # no badges: still a valid PDF
        canvas.setPageSize((105 * mm, 148 * mm))
    canvas.showPage()
    canvas.save()
    if pending:
        tick(pending)
    return buffer.getvalue()


def _draw(canvas: Canvas, layout: Layout, origin: tuple[float, float], card: BadgeCard, measure: _Measure,
          logo: ImageReader | None) -> None:
    page_h = layout.page[1]
    ox, oy = origin

    def rect(box: Box) -> tuple[float, float, float, float]:
        """A box in points, bottom-left origin."""
        return (ox + box.x) * mm, (page_h - oy - box.y - box.h) * mm, box.w * mm, box.h * mm

    if layout.cut_marks:
        _cut_marks(canvas, *rect(Box(0, 0, *layout.badge)))
    x, y, w, h = rect(layout.band)
    canvas.setFillColor(HexColor(card.colour))
    canvas.rect(x, y, w, h, stroke=0, fill=1)
    canvas.setFillColor(white)
    _text(canvas, card.type_label, TextBox(layout.band.x, layout.band.y, layout.band.w, layout.band.h,
                                             max_size=layout.band.h * 0.55 / 0.3528, min_size=5, bold=True),
          rect, measure, one_line=True)
    canvas.setFillColor(black)
    if logo is not None and layout.logo is not None:
        x, y, w, h = rect(layout.logo)
        canvas.drawImage(logo, x, y, w, h, preserveAspectRatio=True, anchor="w", mask="auto")
    _text(canvas, card.name, layout.name, rect, measure)
    if card.name_native and card.name_native != card.name:
        _text(canvas, card.name_native, layout.native, rect, measure)
    _text(canvas, card.company, layout.company, rect, measure)
    _text(canvas, card.country, layout.country, rect, measure, one_line=True)
    x, y, w, h = rect(layout.qr)
    side = min(w, h)
    draw_qr(canvas, card.qr, x + (w - side) / 2, y + (h - side) / 2, side)
    _text(canvas, card.confirmation, layout.confirmation, rect, measure, one_line=True)


def _text(canvas: Canvas, text: str, box: TextBox, rect, measure: _Measure, *, one_line: bool = False) -> None:
    """``text`` centred in ``box``, shrunk (and wrapped onto two lines unless ``one_line``) to fit."""
    text = " ".join((text or "").split())
    if not text:
        return
    x, y, w, h = rect(box)
    measure_fn = measure.for_(box.bold)
    if one_line:
        width = measure_fn(text)
        size = min(box.max_size, w / width if width else box.max_size, h / LINE_HEIGHT)
        lines = (text,) if size >= box.min_size else ()
        if not lines:  # too long even at the smallest size: cut it, keeping what fits
            size = box.min_size
            while text and measure_fn(text + "…") * size > w:
                text = text[:-1]
            lines = (text + "…",) if text else ()
    else:
        fitted = fit(text, w, h, measure_fn, max_size=box.max_size, min_size=box.min_size)
        lines, size = fitted.lines, fitted.size
        if not fitted.fits:  # a name longer than two lines at the smallest size: the first two lines, cut
            size = box.min_size
            lines = _truncate(text, w, size, measure_fn)
    pitch = size * LINE_HEIGHT
    top = y + h / 2 + pitch * len(lines) / 2
    for i, line in enumerate(lines):
        canvas.setFont(measure.font(line, box.bold), size)
        baseline = top - pitch * (i + 1) + (pitch - size) / 2 + size * 0.18
        canvas.drawCentredString(x + w / 2, baseline, line)


def _truncate(text: str, width: float, size: float, measure: Callable[[str], float]) -> tuple[str, ...]:
    lines: list[str] = []
    rest = text
    for _ in range(2):
        if not rest:
            break
        cut = len(rest)
        while cut > 1 and measure(rest[:cut]) * size > width:
            cut -= 1
        line, rest = rest[:cut], rest[cut:].lstrip()
        lines.append(line)
    if rest and lines:
        last = lines[-1]
        while last and measure(last + "…") * size > width:
            last = last[:-1]
        lines[-1] = last + "…"
    return tuple(lines)


def _cut_marks(canvas: Canvas, x: float, y: float, w: float, h: float, length: float = 4 * mm) -> None:
    canvas.saveState()
    canvas.setLineWidth(0.25)
    canvas.setStrokeColor(HexColor("#999999"))
    for cx, dx in ((x, 1), (x + w, -1)):
        for cy, dy in ((y, 1), (y + h, -1)):
            canvas.line(cx, cy, cx + dx * length, cy)
            canvas.line(cx, cy, cx, cy + dy * length)
    canvas.restoreState()

