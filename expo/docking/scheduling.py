"""Scheduling accepted meetings into docking sessions: the automatic scheduler and the organizer's manual changes.

A scheduled meeting has a session, a slot and a table. Nobody is double-booked: one meeting per table and slot,
and a buyer or an exhibitor is in at most one meeting at any moment, also across sessions that overlap in time;
nobody meets in one of their busy periods.

- :func:`schedule` reads the sessions and the accepted meetings, solves with :mod:`expo.docking.planner` and writes
  the result. Pinned meetings stay where they are; meetings already placed stay too unless ``replan`` is asked for.
  A themed session (a product category, a pavilion) takes only meetings of its theme when ``respect_themes``.
- :func:`place` (also a move), :func:`unschedule`, :func:`set_pinned`: the organizer's changes by hand, each checked
  with a clear reason ("The buyer already has a meeting at 10:20 ...").

Two organizers writing at once: the services lock the rows of the sessions involved (``SELECT ... FOR UPDATE`` on
PostgreSQL, in id order, so they never deadlock) before they check, so the second one sees the first one's meeting
and gets a clear refusal. The database's unique constraints (table, buyer, exhibitor per session slot) hold even
without the lock; a write they refuse becomes a :class:`SchedulingError` too. Only the lock covers overlapping
sessions (tests/test_docking_scheduler_race.py shows both).

Services flush and audit; views commit.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from expo import audit
from expo.auth.models import User
from expo.categories.models import ProductCategory
from expo.docking import planner
from expo.docking.models import BusyPeriod, BuyerNeed, DockingSession, ExhibitorOffer, Meeting, MeetingStatus
from expo.errors import ExpoError
from expo.extensions import db
from expo.i18n import localized
from expo.venue.models import Booth, Expo

#: Lock the sessions involved before checking (switched off only by the race tests' control).
GUARD = True


def _between_check_and_write() -> None:
    """A hook for the race tests: both racers pause here, after their checks and before their writes."""


class SchedulingError(ExpoError):
    code = "schedule"


@dataclass(frozen=True)
class ScheduleResult:
    """What a run of the scheduler did: ``scheduled`` of the ``accepted`` meetings hold a slot now, at most
    ``bound`` can; ``placed`` got one in this run, ``moved`` changed theirs, ``unplaced`` lost or found none."""

    accepted: int
    scheduled: int
    bound: int
    placed: int
    moved: int
    unplaced: int


# --- time --------------------------------------------------------------------------------------------------------

def slot_start(session: DockingSession, slot: int) -> datetime:
    return session.starts_at + timedelta(minutes=session.slot_minutes * slot)


def slot_end(session: DockingSession, slot: int) -> datetime:
    return slot_start(session, slot + 1)


def session_end(session: DockingSession) -> datetime:
    return slot_start(session, session.slot_count)


def hhmm(moment: datetime) -> str:
    return moment.strftime("%H:%M")


def sessions_of(expo: Expo) -> list[DockingSession]:
    """The expo's docking sessions in time order."""
    return list(db.session.scalars(select(DockingSession).where(DockingSession.expo_id == expo.id)
                                   .order_by(DockingSession.starts_at, DockingSession.id)))


def _lock(session_ids: Iterable[int]) -> None:
    """Lock the sessions' rows (PostgreSQL; SQLite writes one at a time anyway), always in id order."""
    ids = sorted(set(session_ids))
    if GUARD and ids:
        db.session.execute(select(DockingSession.id).where(DockingSession.id.in_(ids))
                           .order_by(DockingSession.id).with_for_update())


def _overlapping_session_ids(expo_id: int, start: datetime, end: datetime) -> list[int]:
    """Sessions of the expo with a slot overlapping ``[start, end)`` (their whole span, cheaply)."""
    return [s.id for s in db.session.scalars(select(DockingSession).where(DockingSession.expo_id == expo_id,
                                                                          DockingSession.starts_at < end))
            if session_end(s) > start]


# --- checks of one placement -------------------------------------------------------------------------------------

def _placed_of(*, buyer_id: int | None = None, exhibitor_id: int | None = None,
               exclude: int | None = None) -> list[tuple[Meeting, DockingSession]]:
    stmt = (select(Meeting, DockingSession).join(DockingSession, DockingSession.id == Meeting.session_id)
            .where(Meeting.buyer_id == buyer_id if buyer_id is not None else Meeting.exhibitor_id == exhibitor_id))
    if exclude is not None:
        stmt = stmt.where(Meeting.id != exclude)
    return list(db.session.execute(stmt))


def _busy_of(*, buyer_id: int | None = None, exhibitor_id: int | None = None) -> list[BusyPeriod]:
    return list(db.session.scalars(select(BusyPeriod).where(
        BusyPeriod.buyer_id == buyer_id if buyer_id is not None else BusyPeriod.exhibitor_id == exhibitor_id)
        .order_by(BusyPeriod.starts_at)))


def conflict(meeting: Meeting, session: DockingSession, slot: int, table: int | None) -> SchedulingError | None:
    """Why ``meeting`` cannot be at ``table`` in ``slot`` of ``session`` (``table`` None: any), or None."""
    start, end = slot_start(session, slot), slot_end(session, slot)
    if table is not None:
        other = db.session.scalar(select(Meeting).where(Meeting.session_id == session.id, Meeting.slot == slot,
                                                        Meeting.table_no == table, Meeting.id != meeting.id))
        if other is not None:
            return SchedulingError(_l("Table %(table)s is taken at %(time)s by %(buyer)s and %(exhibitor)s.",
                                      table=table, time=hhmm(start), buyer=other.buyer.name,
                                      exhibitor=other.exhibitor.display_name(_lang())),
                                   code="table_taken", status=409, field="table_no")
    sides = (("buyer", dict(buyer_id=meeting.buyer_id)), ("exhibitor", dict(exhibitor_id=meeting.exhibitor_id)))
    for side, who in sides:
        for other, other_session in _placed_of(**who, exclude=meeting.id):
            o_start = slot_start(other_session, other.slot or 0)
            if planner.overlaps(start, end, o_start, slot_end(other_session, other.slot or 0)):
                message = _l("The buyer already has a meeting at %(time)s (%(session)s, table %(table)s).",
                             time=hhmm(o_start), session=localized(other_session), table=other.table_no) \
                    if side == "buyer" else \
                    _l("The exhibitor already has a meeting at %(time)s (%(session)s, table %(table)s).",
                       time=hhmm(o_start), session=localized(other_session), table=other.table_no)
                return SchedulingError(message, code=f"{side}_busy", status=409, field="slot")
        for period in _busy_of(**who):
            if planner.overlaps(start, end, period.starts_at, period.ends_at):
                span = f"{hhmm(period.starts_at)}–{hhmm(period.ends_at)}"
                message = _l("The buyer is not available at %(time)s (busy %(span)s).", time=hhmm(start),
                             span=span) if side == "buyer" else \
                    _l("The exhibitor is not available at %(time)s (busy %(span)s).", time=hhmm(start), span=span)
                return SchedulingError(message, code=f"{side}_unavailable", status=409, field="slot")
    return None


def _lang() -> str:
    from expo.i18n import current_lang

    return current_lang()


def free_cells(meeting: Meeting, limit: int = 6) -> list[tuple[DockingSession, int, int]]:
    """Up to ``limit`` places where ``meeting`` could go now, earliest first: ``(session, slot, lowest free
    table)`` with both people free (other meetings, busy periods). Suggestions for the organizer's place page."""
    expo_sessions = list(db.session.scalars(select(DockingSession).where(DockingSession.expo_id == meeting.expo_id)
                                            .order_by(DockingSession.starts_at, DockingSession.id)))
    taken: dict[tuple[int, int], set[int]] = defaultdict(set)
    for session_id, slot, table in db.session.execute(
            select(Meeting.session_id, Meeting.slot, Meeting.table_no)
            .where(Meeting.expo_id == meeting.expo_id, Meeting.session_id.is_not(None))):
        taken[(session_id, slot)].add(table)
    spans = [(slot_start(s, m.slot or 0), slot_end(s, m.slot or 0))
             for who in (dict(buyer_id=meeting.buyer_id), dict(exhibitor_id=meeting.exhibitor_id))
             for m, s in _placed_of(**who, exclude=meeting.id)]
    spans += [(p.starts_at, p.ends_at) for who in (dict(buyer_id=meeting.buyer_id),
                                                    dict(exhibitor_id=meeting.exhibitor_id)) for p in _busy_of(**who)]
    out = []
    for session in expo_sessions:
        for k in range(session.slot_count):
            start, end = slot_start(session, k), slot_end(session, k)
            if any(planner.overlaps(start, end, a, b) for a, b in spans):
                continue
            table = next((t for t in range(1, session.table_count + 1) if t not in taken[(session.id, k)]), None)
            if table is not None:
                out.append((session, k, table))
                if len(out) >= limit:
                    return out
    return out


# --- by hand -------------------------------------------------------------------------------------------------------

def place(actor: User | None, meeting: Meeting, session: DockingSession, slot: int, table: int, *,
          pin: bool = True) -> Meeting:
    """Put an accepted meeting at ``table`` in ``slot`` of ``session`` (a move when it was placed): checked and
    audited. Placed by hand, it is pinned unless ``pin`` is False (the scheduler leaves pinned meetings alone)."""
    if meeting.status != MeetingStatus.ACCEPTED:
        raise SchedulingError(_l("Only an accepted meeting can be scheduled."), code="not_accepted")
    if session.expo_id != meeting.expo_id:
        raise SchedulingError(_l("Choose a docking session of this expo."), field="session_id")
    if not 0 <= slot < session.slot_count:
        raise SchedulingError(_l("The session has slots 1 to %(n)d.", n=session.slot_count), field="slot")
    if not 1 <= table <= session.table_count:
        raise SchedulingError(_l("The session has tables 1 to %(n)d.", n=session.table_count), field="table_no")
    _lock(_overlapping_session_ids(session.expo_id, slot_start(session, slot), slot_end(session, slot)))
    problem = conflict(meeting, session, slot, table)
    if problem is not None:
        raise problem
    _between_check_and_write()
    before = _where(meeting)
    _write(lambda: _set(meeting, session.id, slot, table, pin))
    audit.record(actor, "meeting_moved" if before else "meeting_placed", meeting, exhibitor_id=meeting.exhibitor_id,
                 before=before, after=_where(meeting), pinned=meeting.pinned)
    return meeting


def unschedule(actor: User | None, meeting: Meeting) -> Meeting:
    """Take a meeting out of its slot (it stays accepted, and is no longer pinned)."""
    before = _where(meeting)
    if before is None:
        raise SchedulingError(_l("This meeting is not scheduled."), code="not_scheduled")
    _set(meeting, None, None, None, False)
    db.session.flush()
    audit.record(actor, "meeting_unscheduled", meeting, exhibitor_id=meeting.exhibitor_id, before=before)
    return meeting


def set_pinned(actor: User | None, meeting: Meeting, pinned: bool) -> Meeting:
    """Pin a scheduled meeting where it is (the scheduler will not move it), or unpin it."""
    if pinned and not meeting.scheduled:
        raise SchedulingError(_l("Only a scheduled meeting can be pinned."), code="not_scheduled")
    if meeting.pinned != pinned:
        meeting.pinned = pinned
        db.session.flush()
        audit.record(actor, "meeting_pinned" if pinned else "meeting_unpinned", meeting,
                     exhibitor_id=meeting.exhibitor_id, at=_where(meeting))
    return meeting


def _where(meeting: Meeting) -> list[int] | None:
    return None if meeting.session_id is None else [meeting.session_id, meeting.slot, meeting.table_no]


def _set(meeting: Meeting, session_id: int | None, slot: int | None, table: int | None, pinned: bool) -> None:
    meeting.session_id, meeting.slot, meeting.table_no, meeting.pinned = session_id, slot, table, pinned


def _write(change) -> None:
    """Apply ``change`` and flush: a unique constraint that refuses it (someone else took the cell at the same
    moment) becomes a clear :class:`SchedulingError`. The failed transaction is rolled back: nothing half-written."""
    try:
        change()
        db.session.flush()
    except IntegrityError:
        db.session.rollback()
        raise SchedulingError(_l("Someone has just scheduled another meeting there: reload the page and try again."),
                              code="taken", status=409) from None


# --- the automatic scheduler ---------------------------------------------------------------------------------------

@dataclass
class _Loaded:
    problem: planner.Problem
    meetings: dict[int, Meeting]
    slot_keys: dict[tuple[int, int], int]
    kept_tables: dict[int, int]


def _load(expo: Expo, sessions: list[DockingSession], *, replan: bool, respect_themes: bool) -> _Loaded:
    slots = [planner.Slot((s.id, k), slot_start(s, k), slot_end(s, k), s.table_count)
             for s in sessions for k in range(s.slot_count)]
    keys = {slot.key: j for j, slot in enumerate(slots)}
    meetings = {m.id: m for m in db.session.scalars(select(Meeting).where(
        Meeting.expo_id == expo.id, Meeting.status == MeetingStatus.ACCEPTED).order_by(Meeting.id))}
    themes = _theme_masks(expo, sessions, list(meetings.values()), keys) if respect_themes else {}
    requests, kept = [], {}
    for m in meetings.values():
        fixed = None
        if m.session_id is not None and (m.pinned or not replan) and (m.session_id, m.slot) in keys:
            fixed = keys[(m.session_id, m.slot or 0)]
            kept[m.id] = m.table_no or 0
        requests.append(planner.Request(m.id, m.buyer_id, m.exhibitor_id, themes.get(m.id), fixed))
    busy_b: dict[int, list] = defaultdict(list)
    busy_e: dict[int, list] = defaultdict(list)
    for period in db.session.scalars(select(BusyPeriod).where(BusyPeriod.expo_id == expo.id)):
        if period.buyer_id is not None:
            busy_b[period.buyer_id].append((period.starts_at, period.ends_at))
        else:
            busy_e[period.exhibitor_id].append((period.starts_at, period.ends_at))
    problem = planner.Problem(slots, requests,
                              {b: planner.busy_mask(slots, ps) for b, ps in busy_b.items()},
                              {e: planner.busy_mask(slots, ps) for e, ps in busy_e.items()})
    return _Loaded(problem, meetings, keys, kept)


def _theme_masks(expo: Expo, sessions: list[DockingSession], meetings: list[Meeting],
                 keys: dict[tuple[int, int], int]) -> dict[int, int]:
    """Meeting id → the slots it may take when themed sessions keep to their theme: a session with a product
    category takes meetings whose need or offer is of that category (or below it); one with a pavilion takes
    meetings of exhibitors with a booth in it. Unthemed sessions take every meeting."""
    themed = [s for s in sessions if s.category_id or s.pavilion_id]
    if not themed:
        return {}
    parent = dict(db.session.execute(select(ProductCategory.id, ProductCategory.parent_id)).all())
    pavilions: dict[int, set[int]] = defaultdict(set)
    for exhibitor_id, pavilion_id in db.session.execute(
            select(Booth.exhibitor_id, Booth.pavilion_id).where(Booth.expo_id == expo.id,
                                                                Booth.exhibitor_id.is_not(None),
                                                                Booth.pavilion_id.is_not(None))):
        pavilions[exhibitor_id].add(pavilion_id)

    def lineage(category_id: int | None) -> set[int]:
        out: set[int] = set()
        while category_id is not None and category_id not in out:
            out.add(category_id)
            category_id = parent.get(category_id)
        return out

    session_mask = {s.id: sum(1 << keys[(s.id, k)] for k in range(s.slot_count)) for s in sessions}
    everything = sum(session_mask.values())
    out = {}
    need_category = dict(db.session.execute(select(BuyerNeed.id, BuyerNeed.category_id)
                                            .where(BuyerNeed.expo_id == expo.id)).all())
    offer_category = dict(db.session.execute(select(ExhibitorOffer.id, ExhibitorOffer.category_id)
                                             .where(ExhibitorOffer.expo_id == expo.id)).all())
    for m in meetings:
        categories = lineage(need_category.get(m.need_id or 0)) | lineage(offer_category.get(m.offer_id or 0))
        mask = everything
        for s in themed:
            if (s.category_id and s.category_id not in categories) or \
                    (s.pavilion_id and s.pavilion_id not in pavilions.get(m.exhibitor_id, ())):
                mask &= ~session_mask[s.id]
        out[m.id] = mask
    return out


def bound(expo: Expo, *, respect_themes: bool = True) -> tuple[int, int, int]:
    """``(accepted, scheduled, bound)``: the accepted meetings, those scheduled, and the most any schedule of the
    current sessions could hold (pinned and placed meetings where they are are not assumed to move)."""
    sessions = sessions_of(expo)
    loaded = _load(expo, sessions, replan=True, respect_themes=respect_themes)
    scheduled = sum(1 for m in loaded.meetings.values() if m.session_id is not None)
    return len(loaded.meetings), scheduled, planner.upper_bound(loaded.problem)


def schedule(actor: User | None, expo: Expo, *, replan: bool = False, respect_themes: bool = True) -> ScheduleResult:
    """Schedule the accepted meetings into the expo's docking sessions, holding as many as possible (module
    docstring). Meetings no longer accepted lose their slot. Audited (one entry with the figures)."""
    sessions = sessions_of(expo)
    _lock(s.id for s in sessions)
    # A meeting that was declined or cancelled after it was placed frees its cell.
    for stale in db.session.scalars(select(Meeting).where(Meeting.expo_id == expo.id, Meeting.session_id.is_not(None),
                                                          Meeting.status != MeetingStatus.ACCEPTED)):
        _set(stale, None, None, None, False)
    loaded = _load(expo, sessions, replan=replan, respect_themes=respect_themes)
    problem = loaded.problem
    placement = planner.solve(problem)
    tables = planner.assign_tables(problem, placement, loaded.kept_tables)
    by_pos = {j: slot.key for j, slot in enumerate(problem.slots)}
    target: dict[int, tuple[int, int, int] | None] = {}
    for mid, m in loaded.meetings.items():
        new = (*by_pos[placement[mid]], tables[mid]) if mid in placement else None
        old = (m.session_id, m.slot, m.table_no) if m.session_id is not None else None
        if new != old:
            target[mid] = new
    placed = sum(1 for mid, new in target.items() if new and loaded.meetings[mid].session_id is None)
    moved = sum(1 for mid, new in target.items() if new and loaded.meetings[mid].session_id is not None)
    unplaced = sum(1 for mid, new in target.items() if new is None)

    def write() -> None:
        # Empty the cells first, so that meetings exchanging places never meet a unique constraint on the way.
        for mid in target:
            _set(loaded.meetings[mid], None, None, None, False)
        db.session.flush()
        for mid, new in target.items():
            if new is not None:
                _set(loaded.meetings[mid], *new, loaded.meetings[mid].pinned)

    _between_check_and_write()
    _write(write)
    result = ScheduleResult(accepted=len(loaded.meetings), scheduled=len(placement),
                            bound=planner.upper_bound(problem), placed=placed, moved=moved,
                            unplaced=len(loaded.meetings) - len(placement))
    audit.record(actor, "docking_scheduled", expo, replan=replan, respect_themes=respect_themes,
                 accepted=result.accepted, scheduled=result.scheduled, bound=result.bound, placed=placed,
                 moved=moved, taken_out=unplaced)
    return result


def check(expo: Expo) -> list[str]:
    """Every broken rule of the expo's current schedule, in words (empty: none): tables, people across
    overlapping sessions, busy periods. For tests and the organizer's peace of mind."""
    sessions = sessions_of(expo)
    loaded = _load(expo, sessions, replan=True, respect_themes=False)
    # Checked as if nothing were fixed, so that pinned meetings' busy periods are checked too.
    loaded.problem.requests = [replace(r, fixed=None) for r in loaded.problem.requests]
    placement = {m.id: loaded.slot_keys[(m.session_id, m.slot or 0)] for m in loaded.meetings.values()
                 if m.session_id is not None and (m.session_id, m.slot) in loaded.slot_keys}
    problems = planner.violations(loaded.problem, placement, {m.id: m.table_no or 0 for m in loaded.meetings.values()
                                                               if m.id in placement})
    outside = [m.id for m in loaded.meetings.values() if m.session_id is not None and m.id not in placement]
    problems += [f"meeting {mid} is in a slot its session does not have" for mid in outside]
    stray = db.session.scalars(select(Meeting.id).where(Meeting.expo_id == expo.id, Meeting.session_id.is_not(None),
                                                        Meeting.status != MeetingStatus.ACCEPTED)).all()
    problems += [f"meeting {mid} is scheduled but not accepted" for mid in stray]
    return problems
