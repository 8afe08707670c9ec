"""Documents laid out first and drawn after: each page a list of drawing operations, kept until the number of
pages is known (for "page n of m" footers). Chinese text takes the embedded CJK font, the rest the Latin one."""

from __future__ import annotations

from collections.abc import Callable
from io import BytesIO

from reportlab.lib.colors import HexColor
from reportlab.pdfgen.canvas import Canvas

from expo.pdf.fonts import LATIN, LATIN_BOLD, CJKFont, cjk_font, needs_cjk
from expo.pdf.pages import page_size

Op = Callable[[Canvas], None]
DARK = HexColor("#1a1a1a")


class PageWriter:
    """The primitives of a laid-out document; the invitation letters and the docking schedules build on it."""

    def __init__(self, preset: str = "A4") -> None:
        self.width, self.height = page_size(preset)
        self.cjk: CJKFont = cjk_font()
        self.buffer = BytesIO()
        # invariant: no timestamp or random document id, so the same document gives the same bytes every time.
        self.canvas = Canvas(self.buffer, pagesize=(self.width, self.height), pageCompression=1, invariant=1)
        self.pages: list[list[Op]] = []
        self.y = 0.0

    def font(self, text: str, bold: bool = False) -> str:
        if needs_cjk(text):
            return self.cjk.name
        return LATIN_BOLD if bold else LATIN

    def op(self, fn: Op) -> None:
        self.pages[-1].append(fn)

    def text(self, x: float, y: float, text: str, size: float, *, bold: bool = False, align: str = "left",
             colour=DARK) -> None:
        font = self.font(text, bold)

        def draw(c: Canvas) -> None:
            c.setFillColor(colour)
            c.setFont(font, size)
            {"left": c.drawString, "right": c.drawRightString, "centre": c.drawCentredString}[align](x, y, text)

        self.op(draw)
