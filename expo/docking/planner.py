"""The scheduling problem and its solver, in pure Python (no Flask, no database): which slot each accepted meeting
gets, so that nobody and no table is double-booked and as many meetings as possible are held.

The problem is a bipartite edge colouring (buyers × exhibitors, one edge per meeting, one colour per slot) with
forbidden colours (a person's busy slots, a themed session's slots), a capacity per colour (the session's tables)
and colours that clash (slots of sessions that overlap in time). :func:`solve` runs

1. a greedy pass, most constrained meeting first (the busiest person's meetings, then the fewest usable slots),
   each into the first slot free for both sides;
2. repairs for every meeting left over: Kempe-chain swaps (exchange two slots along the alternating path of one
   person's meetings, which frees a common slot in a bipartite graph) and ejection chains (take a slot from a
   meeting that can move elsewhere, recursively to a small depth), repeated while they place more.

:func:`upper_bound` is a valid bound on the meetings any schedule can hold: the smallest of the table capacity,
and, for each side, the sum over its people of the largest matching of their meetings into the start times of their
usable slots.

Slots are numbered positions (0..n-1) into :attr:`Problem.slots`; sets of slots are int bitmasks.
"""

from __future__ import annotations

import random
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime


@dataclass(frozen=True)
class Slot:
    """One slot of one session: ``key`` is ``(session id, slot index)``."""

    key: tuple[int, int]
    starts_at: datetime
    ends_at: datetime
    tables: int


@dataclass(frozen=True)
class Request:
    """A meeting to place. ``allowed``: the slots a themed session leaves it (``None``: all); ``fixed``: the slot it
    must keep (pinned, or already placed and not re-planned)."""

    id: int
    buyer: int
    exhibitor: int
    allowed: int | None = None
    fixed: int | None = None


@dataclass
class Problem:
    slots: list[Slot]
    requests: list[Request]
    #: person id → bitmask of the slots they cannot meet in (their busy periods)
    buyer_busy: dict[int, int] = field(default_factory=dict)
    exhibitor_busy: dict[int, int] = field(default_factory=dict)


def overlaps(a_start: datetime, a_end: datetime, b_start: datetime, b_end: datetime) -> bool:
    return a_start < b_end and b_start < a_end


def busy_mask(slots: list[Slot], periods: Iterable[tuple[datetime, datetime]]) -> int:
    """The slots that overlap any of the ``(starts_at, ends_at)`` periods."""
    mask = 0
    for start, end in periods:
        for j, slot in enumerate(slots):
            if overlaps(slot.starts_at, slot.ends_at, start, end):
                mask |= 1 << j
    return mask


def clash_masks(slots: list[Slot]) -> list[int]:
    """For each slot, the slots it clashes with (itself and those overlapping it in time)."""
    out = []
    for a in slots:
        mask = 0
        for j, b in enumerate(slots):
            if overlaps(a.starts_at, a.ends_at, b.starts_at, b.ends_at):
                mask |= 1 << j
        out.append(mask)
    return out


def _bits(mask: int) -> list[int]:
    out = []
    while mask:
        low = mask & -mask
        out.append(low.bit_length() - 1)
        mask ^= low
    return out


class _State:
    """The placement being built: who sits where, with O(1) checks for the common case (no overlapping sessions)."""

    def __init__(self, problem: Problem):
        self.problem = problem
        n = len(problem.slots)
        self.n = n
        self.full = (1 << n) - 1
        self.clash = clash_masks(problem.slots)
        self.simple = all(c == 1 << j for j, c in enumerate(self.clash))
        self.cap = [s.tables for s in problem.slots]
        self.used = [0] * n
        self.in_slot: list[set[int]] = [set() for _ in range(n)]
        reqs = problem.requests
        # People are dense ints: buyers first, then exhibitors.
        buyers = {b: i for i, b in enumerate(sorted({r.buyer for r in reqs}))}
        exhibitors = {e: len(buyers) + i for i, e in enumerate(sorted({r.exhibitor for r in reqs}))}
        self.b = [buyers[r.buyer] for r in reqs]
        self.e = [exhibitors[r.exhibitor] for r in reqs]
        people = len(buyers) + len(exhibitors)
        self.occ = [0] * people
        self.at: list[dict[int, int]] = [{} for _ in range(people)]  # person → slot → request index
        self.allowed = []
        for r in reqs:
            theme = self.full if r.allowed is None else r.allowed & self.full
            busy = problem.buyer_busy.get(r.buyer, 0) | problem.exhibitor_busy.get(r.exhibitor, 0)
            self.allowed.append(theme & ~busy)
        self.fixed = [r.fixed is not None for r in reqs]
        self.slot = [-1] * len(reqs)
        self.degree = [0] * people
        self.usable: dict[int, int] = {}
        self.of_person: list[list[int]] = [[] for _ in range(people)]
        for i in range(len(reqs)):
            for p in (self.b[i], self.e[i]):
                self.degree[p] += 1
                self.of_person[p].append(i)

    def waiting_of(self, person: int) -> list[int]:
        """The person's meetings that have no slot (and could have one)."""
        return [i for i in self.of_person[person] if self.slot[i] < 0 and self.allowed[i]]

    def blocked(self, person: int) -> int:
        occ = self.occ[person]
        if self.simple:
            return occ
        mask = 0
        for j in _bits(occ):
            mask |= self.clash[j]
        return mask

    def open_slots(self) -> int:
        mask = 0
        for j in range(self.n):
            if self.used[j] < self.cap[j]:
                mask |= 1 << j
        return mask

    def free_for(self, i: int) -> int:
        return self.allowed[i] & ~self.blocked(self.b[i]) & ~self.blocked(self.e[i]) & self.open_slots()

    def put(self, i: int, j: int) -> None:
        self.slot[i] = j
        self.used[j] += 1
        self.in_slot[j].add(i)
        for p in (self.b[i], self.e[i]):
            self.occ[p] |= 1 << j
            self.at[p][j] = i

    def take(self, i: int) -> int:
        j = self.slot[i]
        self.slot[i] = -1
        self.used[j] -= 1
        self.in_slot[j].discard(i)
        for p in (self.b[i], self.e[i]):
            self.occ[p] &= ~(1 << j)
            del self.at[p][j]
        return j

    def blockers(self, i: int, j: int) -> set[int]:
        """The placed meetings of ``i``'s people that clash with slot ``j``."""
        out = set()
        for p in (self.b[i], self.e[i]):
            for k in _bits(self.occ[p] & self.clash[j]):
                out.add(self.at[p][k])
        return out


def solve(problem: Problem, *, seed: int = 0, max_rounds: int = 6, depth: int = 3) -> dict[int, int]:
    """Request id → slot position for every request placed (fixed ones where they are). See the module docstring."""
    st = _State(problem)
    reqs = problem.requests
    for i, r in enumerate(reqs):
        if r.fixed is not None:
            st.put(i, r.fixed)
    rng = random.Random(seed)
    # How tight each person is: their meetings per usable slot.
    usable = defaultdict(int)
    for i in range(len(reqs)):
        for p in (st.b[i], st.e[i]):
            usable[p] |= st.allowed[i]
    load = {p: st.degree[p] / max(1, bin(m).count("1")) for p, m in usable.items()}
    order = [i for i in range(len(reqs)) if not st.fixed[i] and st.allowed[i]]
    order.sort(key=lambda i: (-max(load[st.b[i]], load[st.e[i]]), bin(st.allowed[i]).count("1"),
                              -min(load[st.b[i]], load[st.e[i]]), reqs[i].id))
    st.usable = dict(usable)
    left = []
    for i in order:
        free = st.free_for(i)
        if free:
            st.put(i, (free & -free).bit_length() - 1)
        else:
            left.append(i)
    for _round in range(max_rounds):
        if not left:
            break
        before = len(left)
        for i in left:
            if st.slot[i] >= 0:
                continue
            # A person busy in every slot they could use holds as many meetings as they can: placing this one puts
            # out another of theirs, which only pays when that lets two others in.
            if any(st.usable[p] & ~st.blocked(p) == 0 for p in (st.b[i], st.e[i])):
                _swap_and_fill(st, i)
            else:
                _repair(st, i, rng, depth)
        left = [i for i in order if st.slot[i] < 0]
        rng.shuffle(left)
        if len(left) >= before:
            break
    return {reqs[i].id: st.slot[i] for i in range(len(reqs)) if st.slot[i] >= 0}


def _repair(st: _State, i: int, rng: random.Random, depth: int) -> bool:
    free = st.free_for(i)
    if free:
        st.put(i, (free & -free).bit_length() - 1)
        return True
    if st.simple and (_kempe(st, i, from_exhibitor=True) or _kempe(st, i, from_exhibitor=False)):
        return True
    return _eject(st, i, depth, {i}, rng) or _swap_and_fill(st, i)


def _swap_and_fill(st: _State, i: int) -> bool:
    """Give ``i`` the slot of one meeting in its way, which then waits, if that lets two meetings waiting for its
    people take their places: one meeting out, two in."""
    for j in _bits(st.allowed[i]):
        blockers = st.blockers(i, j)
        if len(blockers) != 1:
            continue
        (k,) = blockers
        if st.fixed[k]:
            continue
        old = st.take(k)
        if not (st.free_for(i) >> j) & 1:
            st.put(k, old)
            continue
        st.put(i, j)
        filled = []
        for w in st.waiting_of(st.b[k]) + st.waiting_of(st.e[k]):
            if st.slot[w] < 0 and w != k:
                free = st.free_for(w)
                if free:
                    st.put(w, (free & -free).bit_length() - 1)
                    filled.append(w)
        if filled:
            return True
        st.take(i)
        st.put(k, old)
    return False


def _kempe(st: _State, i: int, *, from_exhibitor: bool) -> bool:
    """Free a slot for ``i`` by swapping two slots along an alternating path (bipartite Kempe chain).

    From the exhibitor's side: ``a`` is a slot free for the buyer (the exhibitor is busy in it), ``c`` one free for
    the exhibitor. The path starts at the exhibitor's meeting in ``a``, then that buyer's meeting in ``c``, then that
    exhibitor's in ``a``... Swapping ``a`` and ``c`` along it leaves the exhibitor free in ``a``; the path never
    reaches the buyer (people on it are entered by ``a`` edges on the buyer side, and the buyer has none)."""
    start, other = (st.e[i], st.b[i]) if from_exhibitor else (st.b[i], st.e[i])
    allowed = st.allowed[i]
    a_slots = _bits(allowed & ~st.occ[other] & st.occ[start])
    c_slots = _bits(allowed & ~st.occ[start])
    for a in a_slots:
        for c in c_slots:
            if c == a:
                continue
            path = []
            person, colour, alt = start, a, c
            while colour in st.at[person] and len(path) <= 60:
                k = st.at[person][colour]
                path.append(k)
                person = st.b[k] if st.e[k] == person else st.e[k]
                colour, alt = alt, colour
            if len(path) > 60 or any(st.fixed[k] for k in path):
                continue
            # Each meeting moves from its slot to the other one: it must be allowed there.
            if any(not (st.allowed[k] >> (c if st.slot[k] == a else a)) & 1 for k in path):
                continue
            moves_to_c = sum(1 for k in path if st.slot[k] == a)
            moves_to_a = len(path) - moves_to_c
            # After placing i in a: a gains 1 - moves_to_c + moves_to_a, c gains moves_to_c - moves_to_a.
            if st.used[c] + moves_to_c - moves_to_a > st.cap[c] or \
                    st.used[a] + 1 - moves_to_c + moves_to_a > st.cap[a]:
                continue
            old = [(k, st.take(k)) for k in path]
            for k, j in old:
                st.put(k, c if j == a else a)
            st.put(i, a)
            return True
    return False


def _eject(st: _State, i: int, depth: int, tabu: set[int], rng: random.Random) -> bool:
    """Place ``i`` in a slot where one movable meeting is in the way, if that one finds a place (recursively)."""
    free = st.free_for(i)
    if free:
        st.put(i, (free & -free).bit_length() - 1)
        return True
    if depth <= 0:
        return False
    open_ = st.open_slots()
    candidates = _bits(st.allowed[i])
    rng.shuffle(candidates)
    for j in candidates:
        blockers = st.blockers(i, j)
        full = not (open_ >> j) & 1
        if full and not blockers:
            # Every table of the slot is taken, by meetings of other people: one of them may move elsewhere.
            movable = [k for k in st.in_slot[j] if not st.fixed[k] and k not in tabu and st.free_for(k)]
            if not movable:
                continue
            blockers = {movable[0]}
        elif len(blockers) != 1 or full:
            continue
        (k,) = blockers
        if st.fixed[k] or k in tabu:
            continue
        old = st.take(k)
        if st.free_for(i) >> j & 1:
            st.put(i, j)
            if _eject(st, k, depth - 1, tabu | {i, k}, rng):
                return True
            st.take(i)
        st.put(k, old)
    return False


def assign_tables(problem: Problem, placement: dict[int, int], kept: dict[int, int]) -> dict[int, int]:
    """Request id → table number (1-based) for every placed request: ``kept`` tables stay, the others take the
    lowest free table of their slot."""
    taken: dict[int, set[int]] = defaultdict(set)
    for rid, table in kept.items():
        if rid in placement:
            taken[placement[rid]].add(table)
    out = {rid: t for rid, t in kept.items() if rid in placement}
    nxt: dict[int, int] = defaultdict(lambda: 1)
    for r in problem.requests:
        if r.id not in placement or r.id in out:
            continue
        j = placement[r.id]
        t = nxt[j]
        while t in taken[j]:
            t += 1
        taken[j].add(t)
        nxt[j] = t + 1
        out[r.id] = t
    return out


def violations(problem: Problem, placement: dict[int, int], tables: dict[int, int] | None = None) -> list[str]:
    """Every broken rule of a placement, in words (empty: valid). An independent check for tests and benchmarks."""
    out = []
    clash = clash_masks(problem.slots)
    per_slot: dict[int, list[int]] = defaultdict(list)
    by_person: dict[tuple[str, int], list[tuple[int, int]]] = defaultdict(list)
    for r in problem.requests:
        if r.fixed is not None and placement.get(r.id) != r.fixed:
            out.append(f"meeting {r.id} was fixed in slot {r.fixed} but is in {placement.get(r.id)}")
        if r.id not in placement:
            continue
        j = placement[r.id]
        if not 0 <= j < len(problem.slots):
            out.append(f"meeting {r.id} in a slot that does not exist: {j}")
            continue
        if r.fixed is None:
            if r.allowed is not None and not (r.allowed >> j) & 1:
                out.append(f"meeting {r.id} in slot {j}, outside its session's theme")
            if (problem.buyer_busy.get(r.buyer, 0) >> j) & 1:
                out.append(f"meeting {r.id}: buyer {r.buyer} is busy in slot {j}")
            if (problem.exhibitor_busy.get(r.exhibitor, 0) >> j) & 1:
                out.append(f"meeting {r.id}: exhibitor {r.exhibitor} is busy in slot {j}")
        per_slot[j].append(r.id)
        by_person[("buyer", r.buyer)].append((j, r.id))
        by_person[("exhibitor", r.exhibitor)].append((j, r.id))
    for j, ids in per_slot.items():
        if len(ids) > problem.slots[j].tables:
            out.append(f"slot {j} holds {len(ids)} meetings at {problem.slots[j].tables} tables")
        if tables is not None:
            numbers = [tables.get(rid) for rid in ids]
            if len(set(numbers)) != len(numbers) or any(t is None or not 1 <= t <= problem.slots[j].tables
                                                        for t in numbers):
                out.append(f"slot {j}: tables double-booked or out of range: {sorted(map(str, numbers))}")
    for (kind, pid), placed in by_person.items():
        for x in range(len(placed)):
            for y in range(x + 1, len(placed)):
                if (clash[placed[x][0]] >> placed[y][0]) & 1:
                    out.append(f"{kind} {pid} double-booked: meetings {placed[x][1]} and {placed[y][1]}")
    return out


def _matching(options: list[int]) -> int:
    """The largest matching of items (each with a bitmask of the slots it may take) into distinct slots (Kuhn)."""
    owner: dict[int, int] = {}

    def augment(item: int, seen: set[int]) -> bool:
        for j in _bits(options[item]):
            if j in seen:
                continue
            seen.add(j)
            if j not in owner or augment(owner[j], seen):
                owner[j] = item
                return True
        return False

    return sum(1 for item in range(len(options)) if augment(item, set()))


def upper_bound(problem: Problem) -> int:
    """A number of meetings no valid schedule can exceed (see the module docstring)."""
    full = (1 << len(problem.slots)) - 1
    usable: list[tuple[Request, int]] = []
    for r in problem.requests:
        if r.fixed is not None:
            usable.append((r, 1 << r.fixed))
            continue
        theme = full if r.allowed is None else r.allowed & full
        mask = theme & ~problem.buyer_busy.get(r.buyer, 0) & ~problem.exhibitor_busy.get(r.exhibitor, 0)
        if mask:
            usable.append((r, mask))
    # A person's meetings are in slots that do not overlap, so they start at distinct times: matching each meeting
    # to the start time of a usable slot, distinct per person, is a relaxation of any valid schedule.
    starts = sorted({s.starts_at for s in problem.slots})
    start_bit = [1 << starts.index(s.starts_at) for s in problem.slots]
    sides = []
    for side in ("buyer", "exhibitor"):
        groups: dict[int, list[int]] = defaultdict(list)
        for r, mask in usable:
            times = 0
            for j in _bits(mask):
                times |= start_bit[j]
            groups[getattr(r, side)].append(times)
        sides.append(sum(_matching(masks) for masks in groups.values()))
    return min(len(usable), sum(s.tables for s in problem.slots), *sides)
