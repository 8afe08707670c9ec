"""Booth geometry: open sides, kinds, neighbours and booths facing each other across an aisle.

Pure functions over rectangles in one hall's frame (metres; x east, y south; see :mod:`expo.venue.models`). Nothing
here touches the database: :func:`expo.venue.services.derive_hall` feeds it a hall's booths and stores the result,
the allocation asks it who is next to whom, and the floor plans draw from the same rectangles.
"""

from __future__ import annotations

import bisect
from collections import defaultdict
from collections.abc import Hashable, Iterable, Mapping
from dataclasses import dataclass

from expo.venue.models import BoothKind

#: Coordinates closer than this are the same line (the plans are drawn to the centimetre).
EPS = 0.01
#: Booths further apart than this across an aisle do not face each other (a wide boulevard separates them).
MAX_FACING_AISLE_M = 6.0
SIDES = "NESW"


@dataclass(frozen=True, slots=True)
class Rect:
    x: float
    y: float
    w: float
    d: float

    @property
    def x2(self) -> float:
        return self.x + self.w

    @property
    def y2(self) -> float:
        return self.y + self.d

    def overlaps(self, other: Rect) -> bool:
        """Share some area (touching edges do not count)."""
        return (self.x < other.x2 - EPS and other.x < self.x2 - EPS
                and self.y < other.y2 - EPS and other.y < self.y2 - EPS)

    def inside(self, width: float, depth: float) -> bool:
        return self.x >= -EPS and self.y >= -EPS and self.x2 <= width + EPS and self.y2 <= depth + EPS

    def edge(self, side: str) -> tuple[float, float, float]:
        """(the coordinate of the side's line, the start and end of its span along that line)."""
        if side == "N":
            return self.y, self.x, self.x2
        if side == "S":
            return self.y2, self.x, self.x2
        if side == "W":
            return self.x, self.y, self.y2
        return self.x2, self.y, self.y2


OPPOSITE = {"N": "S", "S": "N", "E": "W", "W": "E"}


def _key(value: float) -> int:
    return round(value / EPS)


def _overlap(lo1: float, hi1: float, lo2: float, hi2: float) -> float:
    return max(0.0, min(hi1, hi2) - max(lo1, lo2))


class _EdgeIndex:
    """Edges of rectangles by side and line, to find what touches a side in O(neighbours)."""

    def __init__(self, rects: Mapping[Hashable, Rect]):
        self.by_line: dict[tuple[str, int], list[tuple[Hashable, float, float]]] = defaultdict(list)
        for key, r in rects.items():
            for side in SIDES:
                line, lo, hi = r.edge(side)
                self.by_line[(side, _key(line))].append((key, lo, hi))

    def touching(self, rect: Rect, side: str) -> Iterable[tuple[Hashable, float]]:
        """Rectangles whose opposite side lies on ``rect``'s ``side`` line, with the length they share."""
        line, lo, hi = rect.edge(side)
        for k in (_key(line) - 1, _key(line), _key(line) + 1):
            for key, lo2, hi2 in self.by_line.get((OPPOSITE[side], k), ()):
                shared = _overlap(lo, hi, lo2, hi2)
                if shared > EPS:
                    yield key, shared


def open_sides(rects: Mapping[Hashable, Rect], width: float, depth: float,
               obstacles: Iterable[Rect] = ()) -> dict[Hashable, str]:
    """Which sides of each booth open onto an aisle, as a subset of "NESW".

    A side is closed when at least half of it is against the hall's wall, other booths, or obstacles; every other
    side faces an aisle and is open.
    """
    booths = _EdgeIndex(rects)
    blocks = _EdgeIndex({("obstacle", i): o for i, o in enumerate(obstacles)})
    result: dict[Hashable, str] = {}
    for key, r in rects.items():
        sides = []
        for side in SIDES:
            line, lo, hi = r.edge(side)
            wall = {"N": 0.0, "W": 0.0, "S": depth, "E": width}[side]
            if abs(line - wall) <= EPS:
                continue
            covered = sum(shared for other, shared in booths.touching(r, side) if other != key)
            covered += sum(shared for _o, shared in blocks.touching(r, side))
            if covered < (hi - lo) / 2:
                sides.append(side)
        result[key] = "".join(sides)
    return result


def kind_for(sides: str, raw_space: bool = False) -> BoothKind:
    """The booth kind its open sides make: one open side is a standard (inline) booth, two that meet a corner,
    three a peninsula (the end of a block), four an island. Raw space stays raw space."""
    if raw_space:
        return BoothKind.RAW
    if len(sides) >= 4:
        return BoothKind.ISLAND
    if len(sides) == 3:
        return BoothKind.PENINSULA
    if len(sides) == 2 and sides not in ("NS", "EW"):
        return BoothKind.CORNER
    return BoothKind.STANDARD


def neighbours(rects: Mapping[Hashable, Rect]) -> dict[Hashable, set[Hashable]]:
    """Booths that share a stretch of wall (side by side or back to back)."""
    index = _EdgeIndex(rects)
    result: dict[Hashable, set[Hashable]] = {key: set() for key in rects}
    for key, r in rects.items():
        for side in SIDES:
            for other, _shared in index.touching(r, side):
                if other != key:
                    result[key].add(other)
    return result


_AXES = (
    (lambda r: r.y, lambda r: r.y2, lambda r: (r.x, r.x2)),
    (lambda r: r.x, lambda r: r.x2, lambda r: (r.y, r.y2)),
)


def facing(rects: Mapping[Hashable, Rect], max_aisle: float = MAX_FACING_AISLE_M) -> dict[Hashable, set[Hashable]]:
    """Booths across an aisle from each other: an empty gap of at most ``max_aisle`` metres between a side of one
    and the opposite side of the other, over a stretch of at least a metre. A booth in the gap (the next booth of
    the same row, a row in between) hides what lies behind it."""
    result: dict[Hashable, set[Hashable]] = {key: set() for key in rects}
    longest = max((max(r.w, r.d) for r in rects.values()), default=0.0)
    for near, far, span in _AXES:  # gaps north-south, then east-west
        items = sorted(rects.items(), key=lambda kv: near(kv[1]))
        starts = [near(r) for _k, r in items]
        for key, r in items:
            end = far(r)
            lo, hi = span(r)
            for j in range(bisect.bisect_left(starts, end + EPS), bisect.bisect_right(starts, end + max_aisle + EPS)):
                other_key, o = items[j]
                olo, ohi = span(o)
                shared_lo, shared_hi = max(lo, olo), min(hi, ohi)
                if shared_hi - shared_lo < 1.0 - EPS:
                    continue
                gap_end = near(o)
                # Anything reaching into the corridor between the two (starting before the far booth and ending
                # after the near one, across the shared stretch) hides one from the other.
                blocked = False
                for k in range(bisect.bisect_left(starts, end - longest - EPS), j):
                    p_key, p = items[k]
                    if p_key in (key, other_key) or far(p) <= end + EPS or near(p) >= gap_end - EPS:
                        continue
                    plo, phi = span(p)
                    if min(phi, shared_hi) - max(plo, shared_lo) > EPS:
                        blocked = True
                        break
                if not blocked:
                    result[key].add(other_key)
                    result[other_key].add(key)
    return result


def contiguous(keys: Iterable[Hashable], adjacency: Mapping[Hashable, set[Hashable]]) -> bool:
    """Whether the booths form one connected block through shared walls."""
    keys = set(keys)
    if not keys:
        return False
    start = next(iter(keys))
    seen, todo = {start}, [start]
    while todo:
        for nxt in adjacency.get(todo.pop(), ()):
            if nxt in keys and nxt not in seen:
                seen.add(nxt)
                todo.append(nxt)
    return seen == keys
