"""Font discovery for PDFs: a TrueType CJK font found on the machine, or reportlab's built-in CID font.

An embedded TrueType subset keeps the text extractable (search, copy, tests reading the PDF back) and prints the
same everywhere; the CID font ``STSong-Light`` is the fallback when no CJK font is installed (the reader's viewer
then supplies the glyphs). ``EXPO_CJK_FONT`` (a path to a .ttf or .ttc, ``path.ttc#1`` picks a sub-font) overrides
the search.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.cidfonts import UnicodeCIDFont
from reportlab.pdfbase.ttfonts import TTFont

#: Where Debian puts the CJK fonts we know: (path, sub-font index for .ttc collections).
CANDIDATES: tuple[tuple[str, int], ...] = (
    ("/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc", 0),  # fonts-wqy-zenhei
    ("/usr/share/fonts/truetype/droid/DroidSansFallbackFull.ttf", 0),  # fonts-droid-fallback
    ("/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc", 2),  # fonts-noto-cjk (SC); CFF: may be refused
)
CID_FALLBACK = "STSong-Light"
LATIN = "Helvetica"
LATIN_BOLD = "Helvetica-Bold"


@dataclass(frozen=True)
class CJKFont:
    name: str  # the reportlab font name to draw with
    path: str | None  # the TrueType file, None for the CID fallback
    embedded: bool


def _candidates(override: str | None) -> list[tuple[str, int]]:
    found: list[tuple[str, int]] = []
    if override:
        path, _, index = override.partition("#")
        found.append((path, int(index) if index.isdigit() else 0))
    found.extend(CANDIDATES)
    return found


@cache
def cjk_font(override: str | None = None) -> CJKFont:
    """Register and return the CJK font (once per process and override)."""
    override = override if override is not None else os.environ.get("EXPO_CJK_FONT") or None
    for path, index in _candidates(override):
        if not Path(path).is_file():
            continue
        name = f"ExpoCJK-{Path(path).stem}-{index}"
        try:
            # asciiReadable=False: a subset holds only the characters drawn (with their ToUnicode map, so text
            # is still extracted and searched), not also the 128 ASCII ones: a third of a one-badge PDF's size.
            font = TTFont(name, path, subfontIndex=index, asciiReadable=False)
            pdfmetrics.registerFont(font)
        except Exception:  # noqa: BLE001 - a font reportlab cannot read (e.g. CFF outlines): try the next one
            continue
        _glyphs_without_copy(font.face)
        return CJKFont(name, path, True)
    pdfmetrics.registerFont(UnicodeCIDFont(CID_FALLBACK))
    return CJKFont(CID_FALLBACK, None, False)


def needs_cjk(text: str) -> bool:
    """True when Helvetica cannot draw ``text`` (anything beyond Latin-1)."""
    return any(ord(ch) > 0xFF for ch in text)


def font_for(text: str, cjk: CJKFont | None = None) -> str:
    """The font name to draw ``text`` with: Helvetica for Latin-1 text, the CJK font otherwise."""
    if needs_cjk(text):
        return (cjk or cjk_font()).name
    return LATIN


class _GlyphTable:
    """The font's glyph table as slices of the file's bytes: each slice (one glyph) is copied, the table is not."""

    def __init__(self, data: bytes, pos: int, length: int):
        self._view = memoryview(data)[pos:pos + length]

    def __getitem__(self, key):
        return self._view[key].tobytes()

    def __len__(self) -> int:
        return len(self._view)


def _glyphs_without_copy(face) -> None:
    """Make reportlab's subsetting read glyphs out of the font file in place.

    Every PDF that uses a TrueType font embeds a subset of it, made by ``TTFontFile.makeSubset``, which takes
    ``get_table("glyf")`` — a copy of the whole glyph table (10 MB for WenQuanYi Zen Hei) — only to slice the few
    glyphs it needs out of it. For one badge printed at the desk that copy was the largest single cost of the PDF
    (5–25 ms). makeSubset only ever slices that table, so a sliceable view gives it the same bytes.
    """
    original = face.get_table

    def get_table(tag):
        if tag == "glyf":
            pos, length = face.get_table_pos(tag)
            return _GlyphTable(face._ttf_data, pos, length)
        return original(tag)

    if hasattr(face, "_ttf_data") and hasattr(face, "get_table_pos"):
        face.get_table = get_table
