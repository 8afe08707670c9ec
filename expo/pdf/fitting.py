"""Fit a label into a box: shrink the font, wrap to at most two lines. Pure; the caller supplies the measure.

``measure(text)`` gives the width of ``text`` at font size 1 (in the box's units), so one call per candidate line
is enough: the size that fits is then a division, not a search. Used by the PDF (reportlab's exact metrics) and the
SVG (an estimate) alike.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

LINE_HEIGHT = 1.15  # line pitch as a multiple of the font size


@dataclass(frozen=True)
class Fitted:
    lines: tuple[str, ...]
    size: float  # font size in the box's units; 0 when nothing fits

    @property
    def fits(self) -> bool:
        return self.size > 0 and bool(self.lines)


def _is_cjk(ch: str) -> bool:
    return ord(ch) >= 0x2E80


def splits(text: str) -> list[tuple[str, str]]:
    """Candidate two-line breaks: at spaces (Latin) or between characters (Chinese), nearest the middle first."""
    text = text.strip()
    points = [i for i, ch in enumerate(text) if ch == " "]
    breaks = [(text[:i].rstrip(), text[i + 1:].lstrip()) for i in points]
    if any(_is_cjk(ch) for ch in text):
        # Between Chinese characters, or where Chinese meets Latin; never inside a Latin word.
        breaks += [(text[:i], text[i:]) for i in range(1, len(text)) if text[i] != " " and text[i - 1] != " "
                   and (_is_cjk(text[i]) or _is_cjk(text[i - 1]))]
    breaks = [(a, b) for a, b in breaks if a and b]
    mid = len(text) / 2
    return sorted(breaks, key=lambda ab: abs(len(ab[0]) - mid))[:6]


def fit(text: str, width: float, height: float, measure: Callable[[str], float], *, max_size: float,
        min_size: float, padding: float = 0.0) -> Fitted:
    """The largest size ≤ ``max_size`` at which ``text`` fits in one or two lines inside ``width`` × ``height``
    (less ``padding`` on each side); ``Fitted((), 0)`` if even ``min_size`` does not fit."""
    text = " ".join(text.split())
    w, h = width - 2 * padding, height - 2 * padding
    if not text or w <= 0 or h <= 0:
        return Fitted((), 0)
    best = Fitted((), 0)
    one = measure(text)
    if one > 0:
        size = min(max_size, w / one, h / LINE_HEIGHT)
        if size >= min_size:
            best = Fitted((text,), size)
    if best.size < max_size:
        for a, b in splits(text):
            widest = max(measure(a), measure(b))
            if widest <= 0:
                continue
            size = min(max_size, w / widest, h / (2 * LINE_HEIGHT))
            if size >= min_size and size > best.size * 1.15:  # two lines only when clearly larger
                best = Fitted((a, b), size)
    return best


def estimate_width(text: str) -> float:
    """A font-free width estimate at size 1 for screens: CJK characters 1 em, Latin about 0.56 em."""
    total = 0.0
    for ch in text:
        if _is_cjk(ch):
            total += 1.0
        elif ch in "il.,:;'|!1 ":
            total += 0.3
        elif ch.isupper() or ch in "mwMW":
            total += 0.7
        else:
            total += 0.56
    return total
