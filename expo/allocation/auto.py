"""The automatic allocation's solver: booths for approved exhibitors, by priority, as a proposal.

Pure: plain data in (:class:`Problem`), plain data out (:class:`Solution`); no Flask, no database.
:mod:`expo.allocation.proposals` reads the booths and applications, and stores and applies what comes out.

Greedy by priority: exhibitors are served one by one, highest points first (:func:`expo.allocation.rules.order_key`),
each getting the best block still free for it, which it keeps. For each exhibitor the places are searched in tiers:
next to booths it already has, its preferred pavilion, pavilions whose product categories match its own, pavilions
of its preferred exhibition area (and, for raw space or an exhibitor with no preference at all, anywhere). In the
first tier that has a block that fits, it gets the best block there:

- a standard request of N booths gets exactly N booths that touch one another (one stand); a straight run of N in
  one row is preferred over any other shape, and a run that starts or ends at the end of a row over one that would
  leave a gap on both sides;
- a corner requirement needs a corner, peninsula or island booth in the block; a corner preference prefers such a
  block; an exhibitor with no corner wish is steered away from corner booths, which others pay extra for;
- no booth of the block may share a wall with, or face across an aisle, a booth of a declared competitor (the
  competitor names are matched case-insensitively against the exhibitors' Chinese and English names, in both
  directions: who named whom);
- a raw-space request gets raw-space lots of at least the requested area: the smallest one lot that is large
  enough, else the fewest adjacent lots, never more than it takes.

Who gets nothing is told why (:class:`Unmet`). The same problem always gives the same solution: every choice is made
over sorted lists, never over the order of a set or a dict built from one.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from expo.venue import geometry
from expo.venue.geometry import EPS, Rect

PREMIUM = frozenset({"corner", "peninsula", "island"})


@dataclass(frozen=True)
class BoothIn:
    id: int
    number: str
    hall_id: int
    pavilion_id: int | None
    rect: Rect
    raw: bool = False
    kind: str = "standard"
    open_sides: str = ""  # some of "NESW": where the booth opens onto an aisle
    holder: int | None = None  # exhibitor id of an assigned or held booth
    free: bool = True  # available: not assigned, held or blocked

    @property
    def area_m2(self) -> float:
        return round(self.rect.w * self.rect.d, 2)


@dataclass(frozen=True)
class PavilionIn:
    id: int
    area_id: int | None = None
    category_ids: frozenset[int] = frozenset()


@dataclass(frozen=True)
class ExhibitorIn:
    """An exhibitor's names and declared competitors (for the competitor rule, requesting or not)."""

    id: int
    names: tuple[str, ...] = ()
    competitors: tuple[str, ...] = ()


@dataclass(frozen=True)
class RequestIn:
    """What an approved application still needs: ``booths`` more standard booths, or ``raw_m2`` more raw space."""

    application_id: int
    exhibitor_id: int
    points: float = 0.0
    booths: int = 0
    raw: bool = False
    raw_m2: float = 0.0
    preferred_pavilion_id: int | None = None
    preferred_area_id: int | None = None
    corner: str = "none"  # none, prefer, require
    category_ids: frozenset[int] = frozenset()
    submitted_at: datetime | None = None


@dataclass
class Problem:
    booths: Sequence[BoothIn]
    requests: Sequence[RequestIn]
    pavilions: Sequence[PavilionIn] = ()
    exhibitors: Sequence[ExhibitorIn] = ()


@dataclass(frozen=True)
class Assignment:
    application_id: int
    exhibitor_id: int
    booth_ids: tuple[int, ...]
    numbers: tuple[str, ...]
    tier: str  # where it was placed: own, pavilion, theme, area, anywhere
    straight: bool
    premium: int  # corner, peninsula and island booths in the block
    area_m2: float


@dataclass(frozen=True)
class Unmet:
    application_id: int
    exhibitor_id: int
    reason: str  # no_free_booths, no_block, no_corner, competitor, no_raw_space
    booths: int = 0
    raw_m2: float = 0.0


@dataclass
class Solution:
    assignments: list[Assignment] = field(default_factory=list)
    unmet: list[Unmet] = field(default_factory=list)


def normalize_name(name: str) -> str:
    """Company names compared for the competitor rule: case-folded, inner spaces collapsed."""
    return re.sub(r"\s+", " ", name).strip().casefold()


def rivals(exhibitors: Iterable[ExhibitorIn]) -> dict[int, frozenset[int]]:
    """Exhibitor id → the exhibitors it must not stand next to or face: those it named, and those that named it."""
    exhibitors = sorted(exhibitors, key=lambda e: e.id)
    by_name: dict[str, set[int]] = defaultdict(set)
    for e in exhibitors:
        for name in e.names:
            if name and name.strip():
                by_name[normalize_name(name)].add(e.id)
    result: dict[int, set[int]] = defaultdict(set)
    for e in exhibitors:
        for name in e.competitors:
            for other in by_name.get(normalize_name(name), ()):
                if other != e.id:
                    result[e.id].add(other)
                    result[other].add(e.id)
    return {k: frozenset(v) for k, v in result.items()}


class _Venue:
    """The booths with their neighbours, the booths they face, and their rows, computed once per solve."""

    def __init__(self, booths: Sequence[BoothIn]):
        self.booths = {b.id: b for b in sorted(booths, key=lambda b: b.id)}
        self.order = {b.id: i for i, b in enumerate(sorted(booths, key=lambda b: (b.number, b.id)))}
        self.neighbours: dict[int, frozenset[int]] = {}
        self.zone: dict[int, tuple[int, ...]] = {}  # neighbours and facing booths: where a competitor may not be
        #: Runs of booths side by side on one line (west to east, or north to south), with the sides parallel to
        #: the run ("NS" for a row running east-west): a block is along an aisle if its booths share one of them.
        self.segments: list[tuple[list[int], str]] = []
        by_hall: dict[int, dict[int, Rect]] = defaultdict(dict)
        for b in self.booths.values():
            by_hall[b.hall_id][b.id] = b.rect
        for hall_id in sorted(by_hall):
            rects = by_hall[hall_id]
            near = geometry.neighbours(rects)
            across = geometry.facing(rects)
            for key in rects:
                self.neighbours[key] = frozenset(near[key])
                self.zone[key] = tuple(sorted(near[key] | across[key]))
            self.segments.extend(self._rows(rects, near))

    @staticmethod
    def _rows(rects: dict[int, Rect], near: dict) -> list[list[int]]:
        """Booths of the same depth on one line, each touching the next: east-west rows and north-south columns."""
        segments = []
        for along, line, size, other_size, sides in ((lambda r: r.x, lambda r: r.y, lambda r: r.w, lambda r: r.d, "NS"),
                                                     (lambda r: r.y, lambda r: r.x, lambda r: r.d, lambda r: r.w, "EW")):
            lines: dict[tuple[int, int], list[int]] = defaultdict(list)
            for key, r in rects.items():
                lines[(round(line(r) / EPS), round(other_size(r) / EPS))].append(key)
            for line_key in sorted(lines):
                keys = sorted(lines[line_key], key=lambda k: (along(rects[k]), k))
                run = [keys[0]]
                for prev, key in zip(keys, keys[1:], strict=False):
                    if key in near[prev] and abs(along(rects[prev]) + size(rects[prev]) - along(rects[key])) <= EPS:
                        run.append(key)
                    else:
                        segments.append((run, sides))
                        run = [key]
                segments.append((run, sides))
        return [s for s in segments if len(s[0]) > 1]


def _outline(box: tuple[float, float, float, float], r: Rect) -> float:
    """The area of the bounding box of ``box`` and ``r``."""
    return (max(box[2], r.x2) - min(box[0], r.x)) * (max(box[3], r.y2) - min(box[1], r.y))


class _Search:
    def __init__(self, problem: Problem):
        self.venue = _Venue(problem.booths)
        self.holder: dict[int, int] = {b.id: b.holder for b in self.venue.booths.values() if b.holder is not None}
        self.free: set[int] = {b.id for b in self.venue.booths.values() if b.free and b.holder is None}
        self.pavilions = sorted(problem.pavilions, key=lambda p: p.id)
        self.rivals = rivals(problem.exhibitors)

    # -- where to look ------------------------------------------------------------------------------------------

    def tiers(self, request: RequestIn) -> list[tuple[str, frozenset[int | None]]]:
        own = sorted({self.venue.booths[b].pavilion_id for b, h in self.holder.items() if h == request.exhibitor_id},
                     key=lambda p: (p is None, p or 0))
        theme = [p.id for p in self.pavilions if p.category_ids & request.category_ids]
        area = [p.id for p in self.pavilions if request.preferred_area_id is not None
                and p.area_id == request.preferred_area_id]
        tiers: list[tuple[str, list[int | None]]] = [
            ("own", own),
            ("pavilion", [request.preferred_pavilion_id] if request.preferred_pavilion_id is not None else []),
            ("theme", theme),
            ("area", area),
        ]
        if request.raw or not any(ids for _tier, ids in tiers):
            tiers.append(("anywhere", [p.id for p in self.pavilions] + [None]))
        seen: set[int | None] = set()
        result = []
        for name, ids in tiers:
            fresh = frozenset(i for i in ids if i not in seen)
            seen |= fresh
            if fresh:
                result.append((name, fresh))
        return result

    # -- candidate blocks ---------------------------------------------------------------------------------------

    def _allowed(self, pavilions: frozenset[int | None], raw: bool) -> set[int]:
        booths = self.venue.booths
        return {b for b in self.free if booths[b].pavilion_id in pavilions and booths[b].raw == raw}

    def straight_blocks(self, allowed: set[int], n: int) -> list[tuple[tuple[int, ...], int, bool]]:
        """Every run of ``n`` allowed booths in a row, with how many ends of it leave a gap (0 = snug) and whether
        the run lies along an aisle (all its booths open onto the same side parallel to it: a front, not two
        booths back to back)."""
        if n == 1:  # any single booth: no row to keep whole
            return [((key,), 0, True) for key in allowed]
        booths = self.venue.booths
        blocks = []
        for segment, sides in self.venue.segments:
            run: list[int] = []
            for key in [*segment, None]:
                if key is not None and key in allowed:
                    run.append(key)
                    continue
                for start in range(len(run) - n + 1):
                    gaps = (start > 0) + (start + n < len(run))
                    block = tuple(run[start:start + n])
                    front = any(all(side in booths[b].open_sides for b in block) for side in sides)
                    blocks.append((block, gaps, front))
                run = []
        return blocks

    def compact_blocks(self, allowed: set[int], n: int) -> list[tuple[int, ...]]:
        """Blocks of ``n`` touching booths grown from each allowed booth, always adding the neighbour that keeps
        the block's outline smallest (two rows back to back rather than an L)."""
        booths, order = self.venue.booths, self.venue.order
        seen, blocks = set(), []
        for seed in sorted(allowed, key=order.__getitem__):
            block = [seed]
            members = {seed}
            r = booths[seed].rect
            box = (r.x, r.y, r.x2, r.y2)
            while len(block) < n:
                frontier = sorted({nb for b in block for nb in self.venue.neighbours[b]
                                   if nb in allowed and nb not in members}, key=order.__getitem__)
                if not frontier:
                    break
                best = min(frontier, key=lambda k, box=box: (round(_outline(box, booths[k].rect), 2), order[k]))
                block.append(best)
                members.add(best)
                r = booths[best].rect
                box = (min(box[0], r.x), min(box[1], r.y), max(box[2], r.x2), max(box[3], r.y2))
            if len(block) == n:
                key = tuple(sorted(block, key=order.__getitem__))
                if key not in seen:
                    seen.add(key)
                    blocks.append(key)
        return blocks

    def raw_blocks(self, allowed: set[int], m2: float) -> list[tuple[int, ...]]:
        """One lot of at least ``m2``, or adjacent lots grown from each lot (largest neighbour first, so as few
        lots as possible) until they make ``m2``."""
        booths, order = self.venue.booths, self.venue.order
        blocks = [(b,) for b in allowed if booths[b].area_m2 >= m2 - EPS]
        seen = set(blocks)
        for seed in sorted(allowed, key=order.__getitem__):
            block, area = [seed], booths[seed].area_m2
            while area < m2 - EPS:
                frontier = sorted({nb for b in block for nb in self.venue.neighbours[b]
                                   if nb in allowed and nb not in block},
                                  key=lambda k: (-booths[k].area_m2, order[k]))
                if not frontier:
                    break
                block.append(frontier[0])
                area += booths[frontier[0]].area_m2
            if area >= m2 - EPS and len(block) > 1:
                key = tuple(sorted(block, key=order.__getitem__))
                if key not in seen:
                    seen.add(key)
                    blocks.append(key)
        return blocks

    # -- the rules ----------------------------------------------------------------------------------------------

    def conflicts(self, exhibitor_id: int, block: Iterable[int]) -> bool:
        """Whether a booth of the block shares a wall with, or faces, a booth of one of the exhibitor's rivals."""
        rivals = self.rivals.get(exhibitor_id)
        if not rivals:
            return False
        return any(self.holder.get(z) in rivals for b in block for z in self.venue.zone[b])

    def premium(self, block: Iterable[int]) -> int:
        return sum(1 for b in block if self.venue.booths[b].kind in PREMIUM)

    def touches(self, exhibitor_id: int, block: Iterable[int]) -> bool:
        return any(self.holder.get(nb) == exhibitor_id for b in block for nb in self.venue.neighbours[b])

    # -- one request --------------------------------------------------------------------------------------------

    def place(self, request: RequestIn) -> Assignment | Unmet:
        saw_space = saw_block = saw_corner_miss = saw_conflict = False
        booths, order = self.venue.booths, self.venue.order
        for tier, pavilions in self.tiers(request):
            allowed = self._allowed(pavilions, request.raw)
            if not allowed:
                continue
            saw_space = True
            if request.raw:
                candidates = [(block, True) for block in self.raw_blocks(allowed, request.raw_m2)]

                def rank(c):
                    block = c[0]
                    return (not self.touches(request.exhibitor_id, block),
                            round(sum(booths[b].area_m2 for b in block), 2), len(block), order[block[0]])
                groups = [sorted(candidates, key=rank)]
            else:
                n = request.booths

                def rank(c):
                    block, gaps, front = c
                    prem = self.premium(block)
                    corner_miss = request.corner != "none" and prem == 0
                    spend = prem if request.corner == "none" else 0  # keep corners for those who want them
                    return (not self.touches(request.exhibitor_id, block), corner_miss, not front, gaps, spend,
                            order[block[0]])
                straight = sorted(self.straight_blocks(allowed, n), key=rank)
                groups = [[(block, front) for block, _g, front in straight]]
                if n > 1:
                    groups.append(None)  # compact blocks, only computed if no straight run will do
            for i, group in enumerate(groups):
                if group is None:
                    straight_ids = {c[0] for c in groups[0]}
                    group = sorted(((block, 0, False) for block in self.compact_blocks(allowed, request.booths)
                                    if block not in straight_ids), key=rank)
                    group = [(block, False) for block, _g, _f in group]
                    groups[i] = group
                for block, is_straight in group:
                    saw_block = True
                    if request.corner == "require" and not request.raw and self.premium(block) == 0:
                        saw_corner_miss = True
                        continue
                    if self.conflicts(request.exhibitor_id, block):
                        saw_conflict = True
                        continue
                    return self._take(request, block, tier, is_straight)
        if saw_conflict:
            reason = "competitor"
        elif saw_corner_miss:
            reason = "no_corner"
        elif saw_block:
            reason = "no_block"
        elif saw_space:
            reason = "no_block" if not request.raw else "no_raw_space"
        else:
            reason = "no_free_booths" if not request.raw else "no_raw_space"
        return Unmet(request.application_id, request.exhibitor_id, reason, request.booths, request.raw_m2)

    def _take(self, request: RequestIn, block: tuple[int, ...], tier: str, straight: bool) -> Assignment:
        booths, order = self.venue.booths, self.venue.order
        block = tuple(sorted(block, key=order.__getitem__))
        for b in block:
            self.free.discard(b)
            self.holder[b] = request.exhibitor_id
        return Assignment(request.application_id, request.exhibitor_id, block,
                          tuple(booths[b].number for b in block), tier, straight, self.premium(block),
                          round(sum(booths[b].area_m2 for b in block), 2))


def priority_order(requests: Iterable[RequestIn]) -> list[RequestIn]:
    from expo.allocation.rules import order_key

    return sorted(requests, key=lambda r: order_key(r.points, r.submitted_at, r.application_id))


def solve(problem: Problem, progress: Callable[[int], None] | None = None) -> Solution:
    """Serve the requests in priority order; see the module's description for how each one is placed."""
    search = _Search(problem)
    solution = Solution()
    for request in priority_order(problem.requests):
        if (request.raw and request.raw_m2 <= 0) or (not request.raw and request.booths <= 0):
            continue
        outcome = search.place(request)
        (solution.assignments if isinstance(outcome, Assignment) else solution.unmet).append(outcome)
        if progress is not None:
            progress(1)
    return solution
