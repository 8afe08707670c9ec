"""Two organizers placing meetings at the same moment, on real concurrent PostgreSQL connections.

Each racer runs in its own thread with its own app context, session and connection, released together by a
barrier. With the session lock (``scheduling.GUARD``) the second one waits, then sees the first one's meeting and
gets a clear refusal. The controls switch the lock off and pause both racers after their checks
(``scheduling._between_check_and_write``), so both see the cell free and both write: for one cell the database's
unique constraint still lets only one win (IntegrityError → a clear SchedulingError); for one buyer in two sessions
that overlap in time, which no constraint covers, both "succeed" — the double booking the lock prevents, which
proves the test can catch one.
"""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from sqlalchemy import select

from expo.buyers.models import Buyer
from expo.docking import scheduling
from expo.docking.models import DockingSession, Meeting
from expo.exhibitors.models import Exhibitor
from expo.exhibitors.services import current_expo
from expo.extensions import db
from tests.factories import make_accepted_meeting, make_docking_session, user
from tests.race import needs_pg, race


def _setup(app, *, same_buyer: bool, overlapping: bool) -> tuple[list[int], list[int]]:
    """Two accepted meetings and the sessions (one, or two overlapping in time) each will be placed into."""
    with app.app_context():
        buyers = list(db.session.scalars(select(Buyer).order_by(Buyer.id).limit(2)))
        exhibitors = list(db.session.scalars(select(Exhibitor).order_by(Exhibitor.id).limit(2)))
        first = make_docking_session(slot_count=2, table_count=2)
        second = make_docking_session(starts_at=first.starts_at + timedelta(minutes=10), slot_count=2,
                                      table_count=2) if overlapping else first
        a = make_accepted_meeting(buyers[0], exhibitors[0])
        b = make_accepted_meeting(buyers[0] if same_buyer else buyers[1], exhibitors[1])
        db.session.commit()
        return [a.id, b.id], [first.id, second.id]


def _race(app, meetings: list[int], sessions: list[int]) -> list[object]:
    """``place(meeting, session, slot 0, table 1)`` for each pair at once; each result "ok" or the exception."""

    def placing(i: int):
        admin = user("admin@expo.test")
        meeting = db.session.get(Meeting, meetings[i])
        session = db.session.get(DockingSession, sessions[i])

        def act() -> str:
            scheduling.place(admin, meeting, session, 0, 1)
            return "ok"

        return act

    return race(app, [lambda i=i: placing(i) for i in range(len(meetings))])


def _placed(app, meetings: list[int]) -> list[tuple | None]:
    with app.app_context():
        return [None if m.session_id is None else (m.session_id, m.slot, m.table_no)
                for m in (db.session.get(Meeting, i) for i in meetings)]


def _problems(app) -> list[str]:
    with app.app_context():
        return scheduling.check(current_expo())


def _without_lock_pausing_after_checks(monkeypatch) -> None:
    paused = threading.Barrier(2, timeout=20)
    monkeypatch.setattr(scheduling, "GUARD", False)
    monkeypatch.setattr(scheduling, "_between_check_and_write", paused.wait)


@pytest.mark.postgres
@needs_pg
def test_same_cell_at_once_exactly_one_wins(app):
    meetings, sessions = _setup(app, same_buyer=False, overlapping=False)
    results = _race(app, meetings, sessions)
    assert sorted(r == "ok" for r in results) == [False, True], results
    loser = next(r for r in results if r != "ok")
    assert isinstance(loser, scheduling.SchedulingError) and loser.status == 409
    assert sorted(p is None for p in _placed(app, meetings)) == [False, True]
    assert _problems(app) == []


@pytest.mark.postgres
@needs_pg
def test_same_cell_without_the_lock_the_unique_constraint_still_refuses(app, monkeypatch):
    meetings, sessions = _setup(app, same_buyer=False, overlapping=False)
    _without_lock_pausing_after_checks(monkeypatch)
    results = _race(app, meetings, sessions)
    assert sorted(r == "ok" for r in results) == [False, True], results
    loser = next(r for r in results if r != "ok")
    # Both passed the check: the database refused the second write, and it became a clear error.
    assert isinstance(loser, scheduling.SchedulingError) and loser.code == "taken"
    assert "Someone has just scheduled another meeting there" in str(loser.message)
    assert _problems(app) == []


@pytest.mark.postgres
@needs_pg
def test_one_buyer_in_overlapping_sessions_at_once_exactly_one_wins(app):
    meetings, sessions = _setup(app, same_buyer=True, overlapping=True)
    results = _race(app, meetings, sessions)
    assert sorted(r == "ok" for r in results) == [False, True], results
    loser = next(r for r in results if r != "ok")
    assert isinstance(loser, scheduling.SchedulingError) and loser.code == "buyer_busy"
    assert _problems(app) == []


@pytest.mark.postgres
@needs_pg
def test_control_without_the_lock_overlapping_sessions_double_book(app, monkeypatch):
    """No constraint spans two sessions: without the lock both racers pass their checks and both write."""
    meetings, sessions = _setup(app, same_buyer=True, overlapping=True)
    _without_lock_pausing_after_checks(monkeypatch)
    results = _race(app, meetings, sessions)
    assert results == ["ok", "ok"], results
    problems = _problems(app)
    assert len(problems) == 1 and "double-booked" in problems[0]


def test_place_turns_a_constraint_refusal_into_a_clear_error(app, monkeypatch):
    """On any database: a write the unique constraint refuses (the check skipped, as in a race) is a 409."""
    meetings, sessions = _setup(app, same_buyer=False, overlapping=False)
    with app.app_context():
        expo_sessions = db.session.get(DockingSession, sessions[0])
        scheduling.place(None, db.session.get(Meeting, meetings[0]), expo_sessions, 0, 1)
        db.session.commit()
        monkeypatch.setattr(scheduling, "conflict", lambda *a, **k: None)
        with pytest.raises(scheduling.SchedulingError) as info:
            scheduling.place(None, db.session.get(Meeting, meetings[1]), db.session.get(DockingSession, sessions[0]),
                             0, 1)
        assert info.value.code == "taken" and info.value.status == 409
        assert db.session.get(Meeting, meetings[1]).session_id is None
