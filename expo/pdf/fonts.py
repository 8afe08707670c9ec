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
            pdfmetrics.registerFont(TTFont(name, path, subfontIndex=index))
        except Exception:  # noqa: BLE001 - a font reportlab cannot read (e.g. CFF outlines): try the next one
            continue
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
