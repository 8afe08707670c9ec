"""Paper presets as data: ISO A sizes in millimetres (portrait), and the two orientations."""

from __future__ import annotations

from reportlab.lib.units import mm

PAPERS: dict[str, tuple[float, float]] = {
    "A4": (210, 297),
    "A3": (297, 420),
    "A2": (420, 594),
    "A1": (594, 841),
    "A0": (841, 1189),
}
ORIENTATIONS = ("portrait", "landscape")


def page_size(paper: str, orientation: str = "portrait") -> tuple[float, float]:
    """Width and height in points; ``KeyError``/``ValueError`` for an unknown paper or orientation."""
    w, h = PAPERS[paper]
    if orientation not in ORIENTATIONS:
        raise ValueError(orientation)
    if orientation == "landscape":
        w, h = h, w
    return w * mm, h * mm
