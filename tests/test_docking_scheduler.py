"""The docking scheduler: the pure solver on random instances (no double booking, availability and themes hold,
pinned meetings stay, never more than the bound, within one meeting of the brute-force optimum on tiny instances),
the scheduler on the database, and the organizer's changes by hand with each of their refusals."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from expo.audit import AuditEntry
from expo.buyers.models import Buyer
from expo.docking import planner, scheduling, sessions
from expo.docking.models import BusyPeriod, Meeting, MeetingStatus
from expo.exhibitors.models import Exhibitor
from expo.exhibitors.services import current_expo
from expo.extensions import db
from tests.factories import make_accepted_meeting, make_docking_session, user

T0 = datetime(2027, 4, 19, 9, 0)

# --- the pure solver -------------------------------------------------------------------------------------------------


@st.composite
def problems(draw, max_requests: int = 7):
    """Small instances: one session of 1–3 slots, sometimes a second one overlapping it in time; 1–2 tables a
    slot; up to 3 buyers × 3 exhibitors; themes, busy slots and valid fixed placements at random."""
    slots = [planner.Slot((1, k), T0 + timedelta(minutes=20 * k), T0 + timedelta(minutes=20 * (k + 1)),
                          draw(st.integers(1, 2))) for k in range(draw(st.integers(1, 3)))]
    if draw(st.booleans()):
        offset = draw(st.sampled_from([0, 10, 20, 40]))
        slots += [planner.Slot((2, k), T0 + timedelta(minutes=offset + 30 * k),
                               T0 + timedelta(minutes=offset + 30 * (k + 1)), draw(st.integers(1, 2)))
                  for k in range(draw(st.integers(1, 2)))]
    n = len(slots)
    buyers, exhibitors = draw(st.integers(1, 3)), draw(st.integers(1, 3))
    pairs = draw(st.lists(st.tuples(st.integers(0, buyers - 1), st.integers(0, exhibitors - 1)), min_size=1,
                          max_size=max_requests, unique=True))
    masks = st.integers(0, (1 << n) - 1)
    requests = [planner.Request(i + 1, b, e, draw(st.none() | masks)) for i, (b, e) in enumerate(pairs)]
    problem = planner.Problem(slots, requests,
                              draw(st.dictionaries(st.integers(0, buyers - 1), masks, max_size=2)),
                              draw(st.dictionaries(st.integers(0, exhibitors - 1), masks, max_size=2)))
    # Fix a few meetings where they may legally be (as a pinned meeting would be).
    placement: dict[int, int] = {}
    for i, r in enumerate(requests):
        if draw(st.booleans()) and draw(st.booleans()):
            j = draw(st.integers(0, n - 1))
            if not planner.violations(problem, {**placement, r.id: j}):
                placement[r.id] = j
                requests[i] = planner.Request(r.id, r.buyer, r.exhibitor, r.allowed, j)
    return problem


def brute_force(problem: planner.Problem) -> int:
    """The most meetings any valid placement holds, by trying them all (fixed ones where they are)."""
    fixed = {r.id: r.fixed for r in problem.requests if r.fixed is not None}
    free = [r for r in problem.requests if r.fixed is None]
    best = len(fixed)

    def walk(i: int, placement: dict[int, int]) -> None:
        nonlocal best
        if len(placement) + len(free) - i <= best:
            return
        if i == len(free):
            best = len(placement)
            return
        for j in range(len(problem.slots)):
            placement[free[i].id] = j
            if not planner.violations(problem, placement):
                walk(i + 1, placement)
            del placement[free[i].id]
        walk(i + 1, placement)

    walk(0, dict(fixed))
    return best


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(problems())
def test_solver_is_valid_bounded_and_near_optimal(problem):
    placement = planner.solve(problem)
    tables = planner.assign_tables(problem, placement, {})
    assert planner.violations(problem, placement, tables) == []
    assert all(placement[r.id] == r.fixed for r in problem.requests if r.fixed is not None)
    optimum = brute_force(problem)
    bound = planner.upper_bound(problem)
    assert len(placement) <= optimum <= bound
    assert len(placement) >= optimum - 1


@settings(max_examples=60, deadline=None)
@given(st.integers(0, 10_000))
def test_solver_on_larger_random_instances_stays_valid(seed):
    import random

    rng = random.Random(seed)
    slots = [planner.Slot((1 + k // 6, k), T0 + timedelta(minutes=20 * (k % 6) + 5 * (k // 6)),
                          T0 + timedelta(minutes=20 * (k % 6) + 5 * (k // 6) + 20), rng.randint(1, 6))
             for k in range(12)]
    pairs = {(rng.randrange(25), rng.randrange(12)) for _ in range(rng.randint(20, 90))}
    requests = [planner.Request(i + 1, b, e, rng.choice([None, rng.randrange(1 << 12)]))
                for i, (b, e) in enumerate(sorted(pairs))]
    problem = planner.Problem(slots, requests, {b: rng.randrange(1 << 12) for b in rng.sample(range(25), 5)},
                              {e: rng.randrange(1 << 12) for e in rng.sample(range(12), 3)})
    placement = planner.solve(problem, seed=seed)
    assert planner.violations(problem, placement, planner.assign_tables(problem, placement, {})) == []
    assert len(placement) <= planner.upper_bound(problem)


def test_violations_catches_each_broken_rule():
    """The independent check the tests rely on does see double bookings, busy slots, themes and full slots."""
    slots = [planner.Slot((1, 0), T0, T0 + timedelta(minutes=20), 1),
             planner.Slot((2, 0), T0 + timedelta(minutes=10), T0 + timedelta(minutes=30), 1)]
    problem = planner.Problem(slots, [planner.Request(1, 1, 1), planner.Request(2, 1, 2, allowed=0b01),
                                      planner.Request(3, 2, 3)], buyer_busy={2: 0b10})
    assert planner.violations(problem, {1: 0, 2: 1}) and "double-booked" in planner.violations(problem, {1: 0, 2: 1})[1]
    assert any("theme" in v for v in planner.violations(problem, {2: 1}))
    assert any("busy" in v for v in planner.violations(problem, {3: 1}))
    assert any("tables" in v for v in planner.violations(problem, {1: 0, 3: 0}))
    assert planner.violations(problem, {1: 0}) == []


def test_kempe_swap_frees_a_common_slot():
    """Two slots; buyer A meets X in slot 0, buyer B meets Y in slot 1, B–X and A–Y wait. A greedy that put A–X
    in 0 and B–Y in 1 must swap to place the other two: all four fit (a 2×2 Latin square)."""
    slots = [planner.Slot((1, k), T0 + timedelta(minutes=20 * k), T0 + timedelta(minutes=20 * (k + 1)), 5)
             for k in range(2)]
    problem = planner.Problem(slots, [planner.Request(1, 1, 1, fixed=None), planner.Request(2, 2, 2),
                                      planner.Request(3, 2, 1), planner.Request(4, 1, 2)])
    placement = planner.solve(problem)
    assert len(placement) == 4 and planner.violations(problem, placement) == []


def test_upper_bound_counts_the_busiest_person_and_the_tables():
    slots = [planner.Slot((1, k), T0 + timedelta(minutes=20 * k), T0 + timedelta(minutes=20 * (k + 1)), 10)
             for k in range(3)]
    # One exhibitor asked by five buyers, busy in one of the three slots: at most two meetings.
    problem = planner.Problem(slots, [planner.Request(b, b, 1) for b in range(1, 6)], exhibitor_busy={1: 0b100})
    assert planner.upper_bound(problem) == 2 == len(planner.solve(problem))
    tight = planner.Problem([planner.Slot((1, 0), T0, T0 + timedelta(minutes=20), 2)],
                            [planner.Request(b, b, b) for b in range(1, 6)])
    assert planner.upper_bound(tight) == 2 == len(planner.solve(tight))


# --- on the database -------------------------------------------------------------------------------------------------

def _people(n_buyers: int = 6, n_exhibitors: int = 3) -> tuple[list[Buyer], list[Exhibitor]]:
    expo = current_expo()
    buyers = list(db.session.scalars(select(Buyer).where(Buyer.expo_id == expo.id).order_by(Buyer.id)
                                     .limit(n_buyers)))
    exhibitors = list(db.session.scalars(select(Exhibitor).order_by(Exhibitor.id).limit(n_exhibitors)))
    return buyers, exhibitors


def test_schedule_places_every_meeting_without_double_booking(ctx):
    expo = current_expo()
    buyers, exhibitors = _people()
    make_docking_session(slot_count=4, table_count=3)
    for b in buyers:
        for e in exhibitors:
            make_accepted_meeting(b, e)
    make_accepted_meeting(buyers[0], _people(6, 4)[1][3], status=MeetingStatus.REQUESTED.value)
    result = scheduling.schedule(user("admin@expo.test"), expo)
    # 18 accepted meetings, 12 cells: each exhibitor can hold 4 (one per slot) → 12.
    assert (result.accepted, result.bound, result.scheduled, result.placed) == (18, 12, 12, 12)
    assert scheduling.check(expo) == []
    requested = db.session.scalar(select(Meeting).where(Meeting.status == MeetingStatus.REQUESTED))
    assert requested.session_id is None
    assert db.session.scalar(select(AuditEntry).where(AuditEntry.action == "docking_scheduled")).changes["scheduled"] \
        == 12


def test_schedule_keeps_placed_and_pinned_and_respects_busy_periods(ctx):
    expo = current_expo()
    buyers, exhibitors = _people(4, 2)
    session = make_docking_session(slot_count=3, table_count=2)
    pinned = make_accepted_meeting(buyers[0], exhibitors[0], session_id=session.id, slot=2, table_no=2, pinned=True)
    kept = make_accepted_meeting(buyers[1], exhibitors[0], session_id=session.id, slot=0, table_no=1)
    db.session.add(BusyPeriod(expo_id=expo.id, buyer_id=buyers[2].id, starts_at=session.starts_at,
                              ends_at=session.starts_at + timedelta(minutes=40)))  # slots 0 and 1
    busy_one = make_accepted_meeting(buyers[2], exhibitors[1])
    others = [make_accepted_meeting(b, exhibitors[1]) for b in (buyers[0], buyers[3])]
    scheduling.schedule(None, expo)
    assert (pinned.session_id, pinned.slot, pinned.table_no) == (session.id, 2, 2)
    assert (kept.slot, kept.table_no) == (0, 1)
    assert busy_one.slot == 2
    assert all(m.scheduled for m in others)
    assert scheduling.check(expo) == []
    # Re-planning may move the unpinned one, never the pinned one.
    scheduling.schedule(None, expo, replan=True)
    assert (pinned.slot, pinned.table_no, pinned.pinned) == (2, 2, True)
    assert scheduling.check(expo) == []


def test_overlapping_sessions_never_double_book_a_person(ctx):
    expo = current_expo()
    buyers, exhibitors = _people(1, 2)
    first = make_docking_session(slot_count=2, table_count=5)
    make_docking_session(starts_at=first.starts_at + timedelta(minutes=10), slot_count=2, table_count=5)
    for e in exhibitors:
        make_accepted_meeting(buyers[0], e)
    result = scheduling.schedule(None, expo)
    assert result.scheduled == 2 and scheduling.check(expo) == []
    slots = sorted((m.session_id, m.slot) for m in db.session.scalars(select(Meeting)))
    times = [scheduling.slot_start(db.session.get(type(first), s), k) for s, k in slots]
    assert abs(times[0] - times[1]) >= timedelta(minutes=20)


def test_themed_session_takes_only_its_category_when_asked(ctx):
    from expo.categories.models import ProductCategory
    from expo.docking.models import BuyerNeed

    expo = current_expo()
    buyers, exhibitors = _people(2, 1)
    category, other = db.session.scalars(select(ProductCategory).order_by(ProductCategory.id).limit(2)).all()
    themed = make_docking_session(category_id=category.id, slot_count=2)
    need = BuyerNeed(expo_id=expo.id, buyer_id=buyers[1].id, category_id=other.id, title="Boots")
    db.session.add(need)
    db.session.flush()
    meeting = make_accepted_meeting(buyers[1], exhibitors[0], need_id=need.id)
    assert scheduling.schedule(None, expo).scheduled == 0
    assert scheduling.schedule(None, expo, respect_themes=False).scheduled == 1
    assert meeting.session_id == themed.id


def test_stale_placements_of_meetings_no_longer_accepted_are_cleared(ctx):
    expo = current_expo()
    buyers, exhibitors = _people(1, 1)
    session = make_docking_session()
    meeting = make_accepted_meeting(buyers[0], exhibitors[0], session_id=session.id, slot=0, table_no=1,
                                    status=MeetingStatus.CANCELLED.value)
    assert scheduling.check(expo) == [f"meeting {meeting.id} is scheduled but not accepted"]
    scheduling.schedule(None, expo)
    assert meeting.session_id is None and scheduling.check(expo) == []


# --- by hand ---------------------------------------------------------------------------------------------------------

@pytest.fixture
def two(ctx):
    buyers, exhibitors = _people(2, 2)
    session = make_docking_session(slot_count=3, table_count=2)
    a = make_accepted_meeting(buyers[0], exhibitors[0])
    b = make_accepted_meeting(buyers[0], exhibitors[1])
    c = make_accepted_meeting(buyers[1], exhibitors[0])
    return session, a, b, c


def _refusal(call) -> scheduling.SchedulingError:
    with pytest.raises(scheduling.SchedulingError) as info:
        call()
    return info.value


def test_place_move_pin_unschedule(two):
    session, a, _b, _c = two
    admin = user("admin@expo.test")
    scheduling.place(admin, a, session, 1, 2)
    assert (a.session_id, a.slot, a.table_no, a.pinned) == (session.id, 1, 2, True)
    scheduling.place(admin, a, session, 0, 1, pin=False)
    assert (a.slot, a.table_no, a.pinned) == (0, 1, False)
    scheduling.set_pinned(admin, a, True)
    assert a.pinned
    scheduling.unschedule(admin, a)
    assert a.session_id is None and not a.pinned
    actions = [e.action for e in db.session.scalars(select(AuditEntry).where(AuditEntry.object_id == a.id,
                                                                             AuditEntry.object_type == "Meeting")
                                                    .order_by(AuditEntry.id))]
    assert actions == ["meeting_placed", "meeting_moved", "meeting_pinned", "meeting_unscheduled"]


def test_each_refusal_of_a_placement(two):
    session, a, b, c = two
    expo = current_expo()
    scheduling.place(None, a, session, 1, 1)
    # the same buyer in the same slot
    err = _refusal(lambda: scheduling.place(None, b, session, 1, 2))
    assert err.code == "buyer_busy" and "The buyer already has a meeting at 09:20" in str(err.message)
    # the same exhibitor in the same slot
    err = _refusal(lambda: scheduling.place(None, c, session, 1, 2))
    assert err.code == "exhibitor_busy" and "The exhibitor already has a meeting at 09:20" in str(err.message)
    # the table is taken
    err = _refusal(lambda: scheduling.place(None, c, session, 1, 1))
    assert err.code == "table_taken" and "Table 1 is taken at 09:20" in str(err.message)
    # out of range
    assert _refusal(lambda: scheduling.place(None, c, session, 3, 1)).field == "slot"
    assert _refusal(lambda: scheduling.place(None, c, session, 0, 3)).field == "table_no"
    # busy period
    db.session.add(BusyPeriod(expo_id=expo.id, exhibitor_id=c.exhibitor_id, starts_at=session.starts_at,
                              ends_at=session.starts_at + timedelta(minutes=5), note="factory visit"))
    db.session.flush()
    err = _refusal(lambda: scheduling.place(None, c, session, 0, 2))
    assert err.code == "exhibitor_unavailable" and "not available at 09:00 (busy 09:00–09:05)" in str(err.message)
    # an overlapping session of another room
    other = make_docking_session(starts_at=session.starts_at + timedelta(minutes=30), table_count=1)
    err = _refusal(lambda: scheduling.place(None, b, other, 0, 1))  # 09:30–09:50 overlaps a at 09:20–09:40
    assert err.code == "buyer_busy"
    # not accepted
    c.status = MeetingStatus.DECLINED.value
    assert _refusal(lambda: scheduling.place(None, c, session, 2, 1)).code == "not_accepted"
    assert _refusal(lambda: scheduling.unschedule(None, c)).code == "not_scheduled"
    assert _refusal(lambda: scheduling.set_pinned(None, c, True)).code == "not_scheduled"
    assert scheduling.check(expo) == []


def test_a_busy_period_over_a_scheduled_meeting_is_refused(two):
    session, a, _b, _c = two
    expo = current_expo()
    scheduling.place(None, a, session, 1, 1)
    buyer = db.session.get(Buyer, a.buyer_id)
    with pytest.raises(sessions.SessionError) as info:
        sessions.add_busy(None, expo, buyer=buyer, starts_at=session.starts_at + timedelta(minutes=30),
                          ends_at=session.starts_at + timedelta(hours=2))
    assert "A meeting is scheduled at 09:20" in str(info.value.message)
    period = sessions.add_busy(None, expo, buyer=buyer, starts_at=session.starts_at,
                               ends_at=session.starts_at + timedelta(minutes=20), note="  late   flight ")
    assert period.note == "late flight"
    err = _refusal(lambda: scheduling.place(None, a, session, 0, 2))
    assert err.code == "buyer_unavailable"


def test_free_cells_suggest_only_places_both_people_can_take(two):
    session, a, b, c = two
    expo = current_expo()
    scheduling.place(None, a, session, 0, 1)  # buyer 0 and exhibitor 0 at 09:00
    db.session.add(BusyPeriod(expo_id=expo.id, exhibitor_id=b.exhibitor_id, starts_at=session.starts_at
                              + timedelta(minutes=20), ends_at=session.starts_at + timedelta(minutes=40)))
    db.session.flush()
    # b: buyer 0 (busy at 09:00 with a), its exhibitor busy 09:20–09:40 → only slot 2, at table 1.
    assert [(s.id, k, t) for s, k, t in scheduling.free_cells(b)] == [(session.id, 2, 1)]
    # c: exhibitor 0 busy at 09:00 → slots 1 and 2; table 1 is free in both.
    assert [(k, t) for _s, k, t in scheduling.free_cells(c)] == [(1, 1), (2, 1)]
    for s, k, t in scheduling.free_cells(c):
        assert scheduling.conflict(c, s, k, t) is None
    buyer = db.session.get(Buyer, b.buyer_id)
    with pytest.raises(sessions.SessionError) as info:
        sessions.add_busy(None, expo, buyer=buyer, starts_at=datetime(2020, 1, 1, 9), ends_at=datetime(2020, 1, 1, 10))
    assert info.value.field == "day"


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_schedule_on_random_rows_holds_every_rule(ctx, seed):
    """Random accepted meetings, busy periods and two rooms whose sessions overlap in time, stored as rows: the
    stored schedule breaks no rule, holds what the solver holds, and never more than the bound."""
    import random

    rng = random.Random(seed)
    expo = current_expo()
    buyers, exhibitors = _people(12, 6)
    first = make_docking_session(slot_count=4, table_count=3)
    make_docking_session(starts_at=first.starts_at + timedelta(minutes=30), slot_minutes=30, slot_count=3,
                         table_count=2)
    for b in buyers:
        for e in rng.sample(exhibitors, rng.randint(1, 4)):
            make_accepted_meeting(b, e)
    for person in rng.sample(buyers, 3):
        start = first.starts_at + timedelta(minutes=rng.choice([0, 20, 40, 60]))
        db.session.add(BusyPeriod(expo_id=expo.id, buyer_id=person.id, starts_at=start,
                                  ends_at=start + timedelta(minutes=rng.choice([20, 45, 90]))))
    db.session.flush()
    result = scheduling.schedule(None, expo)
    assert scheduling.check(expo) == []
    placed = db.session.scalars(select(Meeting).where(Meeting.session_id.is_not(None))).all()
    assert len(placed) == result.scheduled <= result.bound
    assert result.scheduled >= result.bound * 0.9
    # Re-planning from scratch keeps the rules too, and holds as many.
    again = scheduling.schedule(None, expo, replan=True)
    assert scheduling.check(expo) == [] and again.scheduled >= result.scheduled - 1
