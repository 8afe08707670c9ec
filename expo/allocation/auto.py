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

The search is kept fast by pavilion: the free booths are kept per pavilion, and for a pavilion whose booths touch no
other pavilion's, its candidate blocks, ranked, are kept per block size and corner wish and patched as booths are
taken (only the rows and columns of a taken booth change), so a request looks at the few candidates ahead of the
one it gets, not at the whole venue. ``solve(..., cached=False)`` computes every tier's candidates from scratch:
the same solution, which the tests compare on random venues (bench/README.md has the figures).
"""

from __future__ import annotations

import heapq
import re
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Sequence
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
        self.premium = {b.id: b.kind in PREMIUM for b in self.booths.values()}
        self.corners = {b.id: (b.rect.x, b.rect.y, b.rect.x2, b.rect.y2) for b in self.booths.values()}
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
        #: Booth → the segments it lies in (a row, a column: two at most); per segment, running counts of its
        #: booths that open onto each of its sides, and of its premium booths, so that a run's front and premium
        #: booths are two subtractions.
        self.segment_of: dict[int, list[int]] = defaultdict(list)
        self.fronts: list[tuple[list[int], ...]] = []
        self.premiums: list[list[int]] = []
        for index, (keys, sides) in enumerate(self.segments):
            for key in keys:
                self.segment_of[key].append(index)
            self.fronts.append(tuple(_running([side in self.booths[k].open_sides for k in keys]) for side in sides))
            self.premiums.append(_running([self.premium[k] for k in keys]))

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


def _running(flags: list[bool]) -> list[int]:
    """Running totals: ``result[j] - result[i]`` is how many of ``flags[i:j]`` are true."""
    out = [0]
    for flag in flags:
        out.append(out[-1] + flag)
    return out


#: How a standard request ranks blocks: sparing the corner booths (no corner wish), or wanting one (prefer, require).
_SPARE, _WISH = 0, 1

#: A candidate block: (rank, booths, along an aisle). The rank orders the candidates of a tier exactly as the rules
#: do — (corner missed, not along an aisle, ends leaving a gap, corner booths spent, number of the first booth, and
#: for the same first booth, which row it lies in) for straight runs; (corner missed, corner booths spent, number
#: of the lowest booth, number of the booth it was grown from) for compact blocks — and no two candidates share one.
Candidate = tuple[tuple, tuple[int, ...], bool]


class _Group:
    """The booths of one pavilion and kind of space (standard or raw) when none of them shares a wall with a booth
    outside it: a block never leaves such a group, so its candidate blocks do not depend on which other pavilions a
    tier holds. They are computed once per solve and patched as booths are taken: a straight run only changes in
    the rows and columns of a taken booth, and a compact block only if it lost a booth (the growth picks the same
    neighbour at every step when booths it did not pick are gone)."""

    __slots__ = ("ids", "free", "taken", "straight", "compact")

    def __init__(self, ids: list[int], free: set[int]):
        self.ids = ids  # in number order
        self.free = free  # the solve's own set for this group: one set, updated once per take
        self.taken: list[int] = []  # booths taken during the solve, in order; its length versions the caches
        self.straight: dict[tuple[int, int], tuple[int, list[Candidate]]] = {}
        self.compact: dict[int, tuple[int, dict[int, tuple[int, ...] | None], dict[int, list[Candidate]]]] = {}


class _Search:
    """The state of one solve: who holds which booth, what is free, and the candidate blocks by group.

    With ``cached`` off, every tier's candidates are computed from scratch (the plain form of the rules, kept to
    check the cached form against in the tests)."""

    def __init__(self, problem: Problem, cached: bool = True):
        self.venue = _Venue(problem.booths)
        booths = self.venue.booths
        self.holder: dict[int, int] = {b.id: b.holder for b in booths.values() if b.holder is not None}
        self.pavilions = sorted(problem.pavilions, key=lambda p: p.id)
        self.rivals = rivals(problem.exhibitors)
        #: Exhibitor → the pavilions where it holds booths (its "own" tier).
        self.own: dict[int, set[int | None]] = defaultdict(set)
        for b, h in self.holder.items():
            self.own[h].add(booths[b].pavilion_id)
        #: (pavilion, raw) → its free booths: what a tier may offer.
        self.key_of = {b.id: (b.pavilion_id, b.raw) for b in booths.values()}
        members: dict[tuple[int | None, bool], list[int]] = defaultdict(list)
        for b in sorted(booths, key=self.venue.order.__getitem__):
            members[self.key_of[b]].append(b)
        self.free_by_key = {k: {b for b in ids if booths[b].free and b not in self.holder} for k, ids in members.items()}
        touching_others = {self.key_of[b] for b, near in self.venue.neighbours.items()
                           if any(self.key_of[n] != self.key_of[b] for n in near)}
        self.groups = {k: _Group(ids, self.free_by_key[k]) for k, ids in members.items()
                       if cached and k not in touching_others}
        self.segments_of_group = {k: sorted({s for b in ids for s in self.venue.segment_of.get(b, ())})
                                  for k, ids in members.items() if k in self.groups}

    # -- where to look ------------------------------------------------------------------------------------------

    def tiers(self, request: RequestIn) -> list[tuple[str, frozenset[int | None]]]:
        own = sorted(self.own.get(request.exhibitor_id, ()), key=lambda p: (p is None, p or 0))
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

    def _keys(self, pavilions: frozenset[int | None], raw: bool) -> list[tuple[int | None, bool]]:
        """The (pavilion, raw) keys of a tier that have free booths, in a fixed order."""
        keys = [(p, raw) for p in pavilions if self.free_by_key.get((p, raw))]
        return sorted(keys, key=lambda k: (k[0] is None, k[0] or 0))

    # -- candidate blocks ---------------------------------------------------------------------------------------

    def _windows(self, segments: Iterable[int], allowed: set[int], n: int, how: int) -> list[Candidate]:
        """Every run of ``n`` allowed booths in a row of ``segments`` (any single allowed booth for ``n`` = 1), with
        how many ends of it leave a gap (0 = snug) and whether it lies along an aisle (all its booths open onto
        the same side parallel to it: a front, not two booths back to back), ranked."""
        order, premium = self.venue.order, self.venue.premium
        out: list[Candidate] = []
        if n == 1:
            for b in allowed:
                p = premium[b]
                out.append(((False, False, 0, int(p), order[b], 0, 0) if how == _SPARE
                            else (not p, False, 0, 0, order[b], 0, 0), (b,), True))
            out.sort()
            return out
        for s in segments:
            keys, _sides = self.venue.segments[s]
            fronts, prem = self.venue.fronts[s], self.venue.premiums[s]
            i, length = 0, len(keys)
            while i < length:
                if keys[i] not in allowed:
                    i += 1
                    continue
                j = i + 1
                while j < length and keys[j] in allowed:
                    j += 1
                for a in range(i, j - n + 1):
                    z = a + n
                    front = any(f[z] - f[a] == n for f in fronts)
                    p = prem[z] - prem[a]
                    gaps = (a > i) + (z < j)
                    rank = ((False, not front, gaps, p, order[keys[a]], s, a) if how == _SPARE
                            else (p == 0, not front, gaps, 0, order[keys[a]], s, a))
                    out.append((rank, tuple(keys[a:z]), front))
                i = j
        out.sort()
        return out

    def _grow(self, seed: int, allowed: set[int], n: int) -> tuple[int, ...] | None:
        """A block of ``n`` touching booths grown from ``seed``, always adding the neighbour that keeps the block's
        outline smallest (two rows back to back rather than an L); None if fewer than ``n`` are reachable."""
        corners, order, neighbours = self.venue.corners, self.venue.order, self.venue.neighbours
        block = [seed]
        x0, y0, x1, y1 = corners[seed]
        frontier = {nb for nb in neighbours[seed] if nb in allowed}
        while len(block) < n:
            if not frontier:
                return None
            best, best_rank = 0, None
            for k in frontier:  # the smallest outline (to the cm), then the lowest number
                a, b, c, d = corners[k]
                rank = (round((max(x1, c) - min(x0, a)) * (max(y1, d) - min(y0, b)), 2), order[k])
                if best_rank is None or rank < best_rank:
                    best, best_rank = k, rank
            block.append(best)
            frontier.discard(best)
            frontier.update(nb for nb in neighbours[best] if nb in allowed and nb not in block)
            a, b, c, d = corners[best]
            x0, y0, x1, y1 = min(x0, a), min(y0, b), max(x1, c), max(y1, d)
        return tuple(sorted(block, key=order.__getitem__))

    def _ranked_compact(self, blocks: Iterable[tuple[int, tuple[int, ...] | None]], straight: set[tuple[int, ...]],
                        how: int) -> list[Candidate]:
        """Compact blocks (seed, block) in seed order, each once and none that is a straight run, ranked."""
        order, premium = self.venue.order, self.venue.premium
        seen: set[tuple[int, ...]] = set()
        out: list[Candidate] = []
        for seed, block in blocks:
            if block is None or block in seen:
                continue
            seen.add(block)
            if block in straight:
                continue
            p = sum(premium[b] for b in block)
            out.append(((False, p, order[block[0]], order[seed]) if how == _SPARE
                        else (p == 0, 0, order[block[0]], order[seed]), block, False))
        out.sort()
        return out

    def _straight(self, key: tuple[int | None, bool], n: int, how: int) -> list[Candidate]:
        """The straight candidates of a group, patched since it was last asked for."""
        group = self.groups[key]
        version = len(group.taken)
        cached = group.straight.get((n, how))
        if cached is not None and cached[0] == version:
            return cached[1]
        if cached is None:
            candidates = self._windows(self.segments_of_group[key], group.free, n, how)
        elif n == 1:
            gone = set(group.taken[cached[0]:])
            candidates = [c for c in cached[1] if c[1][0] not in gone]
        else:
            dirty = {s for b in group.taken[cached[0]:] for s in self.venue.segment_of.get(b, ())}
            candidates = [c for c in cached[1] if c[0][5] not in dirty]
            candidates += self._windows(sorted(dirty), group.free, n, how)
            candidates.sort()
        group.straight[(n, how)] = (version, candidates)
        return candidates

    def _compact(self, key: tuple[int | None, bool], n: int, how: int) -> list[Candidate]:
        """The compact candidates of a group: the block grown from each free booth, regrown only when it lost a
        booth."""
        group = self.groups[key]
        version = len(group.taken)
        cached = group.compact.get(n)
        if cached is None:
            blocks = {seed: self._grow(seed, group.free, n) for seed in group.ids if seed in group.free}
            ranked: dict[int, list[Candidate]] = {}
        elif cached[0] != version:
            gone = set(group.taken[cached[0]:])
            blocks = {}
            for seed, block in cached[1].items():
                if seed in gone:
                    continue
                blocks[seed] = block if block is None or gone.isdisjoint(block) else self._grow(seed, group.free, n)
            ranked = {}
        else:
            blocks, ranked = cached[1], cached[2]
        if how not in ranked:
            straight = {c[1] for c in self._straight(key, n, _SPARE)}
            ranked[how] = self._ranked_compact(blocks.items(), straight, how)
        group.compact[n] = (version, blocks, ranked)
        return ranked[how]

    def candidates(self, keys: list[tuple[int | None, bool]], n: int, how: int, compact: bool) -> Iterator[Candidate]:
        """The straight (or compact) candidates of a tier's keys in rank order: the groups' cached lists merged,
        and those of booths that touch another pavilion computed afresh."""
        lists = []
        loose: set[int] = set()
        for key in keys:
            if key in self.groups:
                lists.append(self._compact(key, n, how) if compact else self._straight(key, n, how))
            else:
                loose |= self.free_by_key[key]
        if loose:
            segments = sorted({s for b in loose for s in self.venue.segment_of.get(b, ())})
            windows = self._windows(segments, loose, n, how)
            if compact:
                order = self.venue.order
                blocks = ((seed, self._grow(seed, loose, n)) for seed in sorted(loose, key=order.__getitem__))
                windows = self._ranked_compact(blocks, {c[1] for c in windows}, how)
            lists.append(windows)
        return heapq.merge(*lists) if len(lists) != 1 else iter(lists[0])

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
        return sum(1 for b in block if self.venue.premium[b])

    def touches(self, exhibitor_id: int, block: Iterable[int]) -> bool:
        return any(self.holder.get(nb) == exhibitor_id for b in block for nb in self.venue.neighbours[b])

    # -- one request --------------------------------------------------------------------------------------------

    def place(self, request: RequestIn) -> Assignment | Unmet:
        saw_space = saw_block = saw_corner_miss = saw_conflict = False
        booths, order = self.venue.booths, self.venue.order
        exhibitor = request.exhibitor_id
        holds = bool(self.own.get(exhibitor))  # blocks next to its booths come first
        for tier, pavilions in self.tiers(request):
            keys = self._keys(pavilions, request.raw)
            if not keys:
                continue
            saw_space = True
            if request.raw:
                allowed = set().union(*(self.free_by_key[k] for k in keys))

                def rank(block):
                    return (not self.touches(exhibitor, block), round(sum(booths[b].area_m2 for b in block), 2),
                            len(block), order[block[0]])
                for block in sorted(self.raw_blocks(allowed, request.raw_m2), key=rank):
                    saw_block = True
                    if self.conflicts(exhibitor, block):
                        saw_conflict = True
                        continue
                    return self._take(request, block, tier, True)
                continue
            n = request.booths
            how = _SPARE if request.corner == "none" else _WISH
            require = request.corner == "require"
            for compact in ((False, True) if n > 1 else (False,)):
                candidates = self.candidates(keys, n, how, compact)
                if holds:
                    candidates = iter(sorted(candidates, key=lambda c: not self.touches(exhibitor, c[1])))
                for rank, block, front in candidates:
                    saw_block = True
                    if require and rank[0]:  # no corner booth in it
                        saw_corner_miss = True
                        if holds:
                            continue
                        break  # the rest lack one too: they rank after every block that has one
                    if self.conflicts(exhibitor, block):
                        saw_conflict = True
                        continue
                    return self._take(request, block, tier, front)
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
            key = self.key_of[b]
            self.free_by_key[key].discard(b)
            self.holder[b] = request.exhibitor_id
            self.own[request.exhibitor_id].add(booths[b].pavilion_id)
            group = self.groups.get(key)
            if group is not None:
                group.taken.append(b)
        return Assignment(request.application_id, request.exhibitor_id, block,
                          tuple(booths[b].number for b in block), tier, straight, self.premium(block),
                          round(sum(booths[b].area_m2 for b in block), 2))


def priority_order(requests: Iterable[RequestIn]) -> list[RequestIn]:
    from expo.allocation.rules import order_key

    return sorted(requests, key=lambda r: order_key(r.points, r.submitted_at, r.application_id))


def solve(problem: Problem, progress: Callable[[int], None] | None = None, *, cached: bool = True) -> Solution:
    """Serve the requests in priority order; see the module's description for how each one is placed.

    ``cached`` off computes every tier's candidate blocks from scratch: the same solution, slower (for tests)."""
    search = _Search(problem, cached)
    solution = Solution()
    for request in priority_order(problem.requests):
        if (request.raw and request.raw_m2 <= 0) or (not request.raw and request.booths <= 0):
            continue
        outcome = search.place(request)
        (solution.assignments if isinstance(outcome, Assignment) else solution.unmet).append(outcome)
        if progress is not None:
            progress(1)
    return solution
