"""Double booking: two people take the same booth at the same moment.

The PostgreSQL tests run two threads, each with its own app context and so its own session and connection, started
together by a barrier. The guarded update lets exactly one win. The control switches the guard off and pauses both
threads after their check (``services._between_check_and_write``), so both see the booth free and both write: the
double booking the guard prevents, which proves the test can fail. The HTTP test runs on SQLite and PostgreSQL:
the loser of a race gets a 409 with a clear message in its language.
"""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import func, select

from expo.allocation import services
from expo.audit import AuditEntry
from expo.exhibitors.models import ApplicationStatus
from expo.exhibitors.services import application_of, current_expo
from expo.extensions import db
from expo.venue.models import Booth, BoothStatus
from tests.factories import PASSWORD, make_exhibitor, user
from tests.race import needs_pg, race


def _two_exhibitors_and_booths(app, n: int = 3) -> tuple[list[int], list[int]]:
    with app.app_context():
        ids = []
        for _ in range(2):
            ex, _user = make_exhibitor(application={"booths_requested": 3})
            application_of(ex).status = ApplicationStatus.APPROVED
            ids.append(ex.id)
        booths = list(db.session.scalars(select(Booth.id).where(Booth.status == BoothStatus.AVAILABLE,
                                                                Booth.raw_space.is_(False))
                                          .order_by(Booth.id).limit(n)))
        db.session.commit()
        return ids, booths


def _race(app, jobs: list[tuple[int, list[int]]]) -> list[object]:
    """``assign(exhibitor, booths)`` for each job at once; each result "ok" or the exception it raised."""

    def assigning(exhibitor_id: int, booth_ids: list[int]):
        from expo.exhibitors.models import Exhibitor

        admin = user("admin@expo.test")
        expo = current_expo()
        ex = db.session.get(Exhibitor, exhibitor_id)
        booths = [db.session.get(Booth, b) for b in booth_ids]

        def act() -> str:
            services.assign(admin, expo, ex, booths)
            return "ok"

        return act

    return race(app, [lambda ex=ex, bs=bs: assigning(ex, bs) for ex, bs in jobs])


def _holders(app, booth_ids: list[int]) -> dict[int, int | None]:
    with app.app_context():
        return {b.id: b.exhibitor_id for b in db.session.scalars(select(Booth).where(Booth.id.in_(booth_ids)))}


def _assigned_entries(app, booth_id: int) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count(AuditEntry.id)).where(AuditEntry.action == "booth_assigned",
                                                                        AuditEntry.object_id == booth_id))


@pytest.mark.postgres
@needs_pg
def test_same_booth_at_once_exactly_one_wins(app):
    (a, b), (booth, *_rest) = _two_exhibitors_and_booths(app)
    results = _race(app, [(a, [booth]), (b, [booth])])
    assert sorted(r == "ok" for r in results) == [False, True], results
    loser = next(r for r in results if r != "ok")
    assert isinstance(loser, services.BoothTaken)
    winner = (a, b)[results.index("ok")]
    assert _holders(app, [booth]) == {booth: winner}
    assert _assigned_entries(app, booth) == 1  # the loser's audit entry went with its rollback


@pytest.mark.postgres
@needs_pg
def test_control_without_the_guard_both_succeed(app, monkeypatch):
    """Switch the guard off: both requests pass the check before either writes, and both 'succeed'."""
    (a, b), (booth, *_rest) = _two_exhibitors_and_booths(app)
    paused = threading.Barrier(2, timeout=20)
    monkeypatch.setattr(services, "GUARD", False)
    monkeypatch.setattr(services, "_between_check_and_write", paused.wait)
    results = _race(app, [(a, [booth]), (b, [booth])])
    assert results == ["ok", "ok"], results  # a double booking: the race test can catch one
    assert _assigned_entries(app, booth) == 2


@pytest.mark.postgres
@needs_pg
def test_overlapping_batches_leave_no_partial_assignment(app):
    (a, b), (one, two, three) = _two_exhibitors_and_booths(app)
    for _round in range(3):
        results = _race(app, [(a, [one, two]), (b, [two, three])])
        assert sorted(r == "ok" for r in results) == [False, True], results
        assert isinstance(next(r for r in results if r != "ok"), services.BoothTaken)
        holders = _holders(app, [one, two, three])
        if results[0] == "ok":
            assert holders == {one: a, two: a, three: None}
        else:
            assert holders == {one: None, two: b, three: b}
        with app.app_context():  # free them for the next round
            services.vacate(user("admin@expo.test"), current_expo(),
                            [db.session.get(Booth, x) for x, h in holders.items() if h is not None])
            db.session.commit()


def test_http_loser_gets_409_with_translated_message(app, client):
    """Two exhibitors pick the same booth in self-selection; the second request finds it taken."""
    with app.app_context():
        booth = db.session.scalar(select(Booth).where(Booth.status == BoothStatus.AVAILABLE,
                                                      Booth.raw_space.is_(False), Booth.pavilion_id.is_not(None))
                                  .order_by(Booth.id))
        booth_id, number = booth.id, booth.number
        for email in ("first@example.com", "second@example.com"):
            ex, _user = make_exhibitor(email=email, application={"preferred_pavilion_id": booth.pavilion_id})
            application_of(ex).status = ApplicationStatus.APPROVED
        current_expo().self_selection_open = True
        db.session.commit()
    first, second = app.test_client(), app.test_client()
    first.post("/login", data={"email": "first@example.com", "password": PASSWORD})
    second.post("/login", data={"email": "second@example.com", "password": PASSWORD})
    assert first.post("/exhibitor/booths/select", data={"booth_id": booth_id}).status_code == 302
    r = second.post("/exhibitor/booths/select", data={"booth_id": booth_id})
    assert r.status_code == 409
    assert f"Booth {number} has just been taken by someone else" in r.get_data(as_text=True)
    r = second.post("/exhibitor/booths/select", data={"booth_id": booth_id}, headers={"Accept-Language": "zh-CN"})
    assert r.status_code == 409 and f"展位 {number} 刚被他人选定" in r.get_data(as_text=True)
    # organizer's page, same race
    admin = app.test_client()
    admin.post("/login", data={"email": "admin@expo.test", "password": "expo-demo-2026"})
    with app.app_context():
        second_id = user("second@example.com").exhibitor_id
    r = admin.post(f"/organizer/booths/{booth_id}", data={"action": "assign", "exhibitor_id": second_id})
    assert r.status_code == 409 and "has just been taken" in r.get_data(as_text=True)
    with app.app_context():
        assert db.session.get(Booth, booth_id).exhibitor_id == user("first@example.com").exhibitor_id
