"""The layout generator: rows of booth blocks with aisles inside a region of a hall.

A block is ``rows_per_block`` rows of booths back to back (2 makes the usual double row), ``booths_per_row`` booths
long; blocks repeat east with ``cross_aisle_m`` between them and south with ``aisle_m`` between them, until the
region is full. The last block of a row and the last band may be shorter. Booths that would stand on an obstacle or
in front of an entrance are left out. Pure: specs in, booth rectangles out; :func:`expo.venue.services.generate`
stores them.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from expo.venue.geometry import EPS, Rect

#: Depth kept clear in front of an entrance, metres (a fire lane into the hall).
ENTRANCE_CLEARANCE_M = 6.0


@dataclass(frozen=True)
class BlockLayout:
    """What the organizer fills in to lay out one region of a hall."""

    region: Rect
    prefix: str  # booth numbers are prefix + a running number: "A1-" → "A1-001"
    first_number: int = 1
    digits: int = 3
    booth_width_m: float = 3.0
    booth_depth_m: float = 3.0
    booths_per_row: int = 10
    rows_per_block: int = 2
    aisle_m: float = 3.0  # between bands of blocks (running east-west)
    cross_aisle_m: float = 3.0  # between blocks in a band (running north-south)
    max_booths: int | None = None


@dataclass(frozen=True)
class BoothSpec:
    number: str
    rect: Rect


def entrance_zones(entrances: Iterable[dict], width: float, depth: float) -> list[Rect]:
    """The clear zone in front of each entrance: its width, ``ENTRANCE_CLEARANCE_M`` into the hall."""
    zones = []
    for e in entrances:
        offset, size, c = float(e.get("offset_m", 0)), float(e.get("width_m", 0)), ENTRANCE_CLEARANCE_M
        zones.append({"N": Rect(offset, 0, size, c), "S": Rect(offset, depth - c, size, c),
                      "W": Rect(0, offset, c, size), "E": Rect(width - c, offset, c, size)}[e.get("side", "N")])
    return zones


def generate(layout: BlockLayout, keep_clear: Iterable[Rect] = ()) -> list[BoothSpec]:
    """Booths for ``layout``, numbered west to east, north to south, skipping any that overlap ``keep_clear``
    (obstacles, entrance zones, booths already there)."""
    clear = list(keep_clear)
    region, bw, bd = layout.region, layout.booth_width_m, layout.booth_depth_m
    specs: list[BoothSpec] = []
    number = layout.first_number
    y = region.y
    while y + bd <= region.y2 + EPS:
        rows = 0
        while rows < layout.rows_per_block and y + (rows + 1) * bd <= region.y2 + EPS:
            rows += 1
        x = region.x
        while x + bw <= region.x2 + EPS:
            in_block = 0
            while in_block < layout.booths_per_row and x + (in_block + 1) * bw <= region.x2 + EPS:
                in_block += 1
            for row in range(rows):
                for col in range(in_block):
                    rect = Rect(round(x + col * bw, 2), round(y + row * bd, 2), bw, bd)
                    if any(rect.overlaps(c) for c in clear):
                        continue
                    if layout.max_booths is not None and len(specs) >= layout.max_booths:
                        return specs
                    specs.append(BoothSpec(f"{layout.prefix}{number:0{layout.digits}d}", rect))
                    number += 1
            x += in_block * bw + layout.cross_aisle_m
        y += rows * bd + layout.aisle_m
    return specs
