"""Badge layouts as data: the paper, where badges sit on it, and where each element sits on a badge.

Measures are millimetres from the badge's top-left corner (as a designer reads a proof); the renderer converts.
A layout is chosen per badge type (:attr:`expo.badges.models.BadgeType.layout`) and can be overridden for a print
job. Adding a preset is adding an entry to :data:`PRESETS`.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Box:
    x: float
    y: float
    w: float
    h: float


@dataclass(frozen=True)
class TextBox(Box):
    max_size: float = 12  # points
    min_size: float = 6
    bold: bool = False


@dataclass(frozen=True)
class Layout:
    key: str
    name_en: str
    name_zh: str
    page: tuple[float, float]  # paper width, height (mm)
    badge: tuple[float, float]  # badge width, height (mm)
    slots: tuple[tuple[float, float], ...]  # top-left corner of each badge on the page (mm)
    band: Box  # the colour band of the badge type; the type's name is written in it
    name: TextBox
    native: TextBox  # the name in the holder's own script (中文 ...), when it differs
    company: TextBox  # up to two lines
    country: TextBox
    qr: Box  # square: the QR code with its quiet zone
    confirmation: TextBox  # the short code under the QR, for the print desk
    logo: Box | None = None
    cut_marks: bool = False  # thin marks at the badge corners, for sheets cut by hand

    @property
    def per_page(self) -> int:
        return len(self.slots)


def _a6_elements() -> dict:
    return dict(
        band=Box(0, 0, 105, 18),
        logo=Box(6, 21, 30, 14),
        name=TextBox(6, 38, 93, 22, max_size=30, min_size=10, bold=True),
        native=TextBox(6, 60, 93, 13, max_size=22, min_size=9),
        company=TextBox(6, 74, 93, 15, max_size=14, min_size=7),
        country=TextBox(6, 89, 93, 7, max_size=11, min_size=6),
        qr=Box(30.5, 97, 44, 44),
        confirmation=TextBox(6, 141, 93, 5, max_size=8, min_size=5),
    )


PRESETS: dict[str, Layout] = {
    "a6": Layout("a6", "A6, one per page", "A6 单张", page=(105, 148), badge=(105, 148), slots=((0, 0),),
                 **_a6_elements()),
    "a4x4": Layout("a4x4", "4 × A6 on A4", "A4 四拼 A6", page=(210, 297), badge=(105, 148),
                   slots=((0, 0), (105, 0), (0, 148.5), (105, 148.5)), cut_marks=True, **_a6_elements()),
    "cr80": Layout(
        "cr80", "CR80 card (85.6 × 54 mm)", "CR80 卡片（85.6 × 54 毫米）", page=(53.98, 85.6), badge=(53.98, 85.6),
        slots=((0, 0),), band=Box(0, 0, 53.98, 9), logo=None,
        name=TextBox(3, 11, 47.98, 12, max_size=16, min_size=6, bold=True),
        native=TextBox(3, 23, 47.98, 7, max_size=12, min_size=5),
        company=TextBox(3, 30, 47.98, 8, max_size=8, min_size=4.5),
        country=TextBox(3, 38, 47.98, 4, max_size=7, min_size=4),
        qr=Box(11.49, 43, 31, 31), confirmation=TextBox(3, 76, 47.98, 4, max_size=6, min_size=4)),
    "4x3in": Layout(
        "4x3in", "4 × 3 in", "4 × 3 英寸", page=(101.6, 76.2), badge=(101.6, 76.2), slots=((0, 0),),
        band=Box(0, 0, 101.6, 11), logo=Box(5, 62, 24, 10),
        name=TextBox(5, 14, 56, 17, max_size=24, min_size=8, bold=True),
        native=TextBox(5, 31, 56, 9, max_size=16, min_size=7),
        company=TextBox(5, 41, 56, 12, max_size=11, min_size=6),
        country=TextBox(5, 54, 56, 6, max_size=9, min_size=5),
        qr=Box(63, 14, 35, 35), confirmation=TextBox(63, 50, 35, 4, max_size=7, min_size=4)),
    "label62": Layout(
        "label62", "62 mm label roll (62 × 100 mm)", "62 毫米标签卷（62 × 100 毫米）", page=(62, 100), badge=(62, 100),
        slots=((0, 0),), band=Box(0, 0, 62, 10), logo=None,
        name=TextBox(3, 12, 56, 16, max_size=20, min_size=7, bold=True),
        native=TextBox(3, 28, 56, 8, max_size=14, min_size=6),
        company=TextBox(3, 37, 56, 10, max_size=10, min_size=5),
        country=TextBox(3, 47, 56, 5, max_size=8, min_size=5),
        qr=Box(12, 53, 38, 38), confirmation=TextBox(3, 92, 56, 5, max_size=7, min_size=4)),
}


def choices(locale: str = "en") -> list[tuple[str, str]]:
    """(key, name) of every preset, for select fields."""
    return [(k, v.name_zh if locale.startswith("zh") else v.name_en) for k, v in PRESETS.items()]
