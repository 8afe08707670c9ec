"""Docking sessions: the rules of a session and of changing its shape, the organizer's pages (sessions, grid,
export, waiting meetings, placing by hand, the scheduler button), the availability pages with their owners, and the
sessions API. Other roles are refused; another person's availability is 404."""

from __future__ import annotations

import io
from datetime import datetime, time, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from openpyxl import load_workbook
from sqlalchemy import func, select

from expo.buyers.models import Buyer, Delegation
from expo.buyers.services import buyer_of
from expo.docking import scheduling, sessions
from expo.docking.models import BusyPeriod, DockingSession, Meeting
from expo.exhibitors.models import Exhibitor
from expo.exhibitors.services import current_expo
from expo.extensions import db
from tests.factories import make_accepted_meeting, make_docking_session, user


def _data(**overrides) -> sessions.SessionData:
    expo = current_expo()
    values = dict(name_zh="鞋材对接会", name_en="Materials docking", starts_at=datetime.combine(expo.starts_on,
                                                                                             time(14, 0)),
                  slot_minutes=20, slot_count=6, table_count=10, room="B2")
    values.update(overrides)
    return sessions.SessionData(**values)


def _buyers(n: int) -> list[Buyer]:
    return list(db.session.scalars(select(Buyer).order_by(Buyer.id).limit(n)))


def _exhibitors(n: int) -> list[Exhibitor]:
    return list(db.session.scalars(select(Exhibitor).order_by(Exhibitor.id).limit(n)))


# --- services ---------------------------------------------------------------------------------------------------------

def test_create_and_validate_a_session(ctx):
    expo = current_expo()
    session = sessions.save_session(None, expo, _data(name_en="  Materials   docking "))
    assert session.id and session.name_en == "Materials docking"
    assert scheduling.session_end(session) == session.starts_at + timedelta(hours=2)
    refusals = [
        (dict(name_zh=" "), "name_zh"), (dict(slot_minutes=2), "slot_minutes"), (dict(slot_count=0), "slot_count"),
        (dict(table_count=5000), "table_count"), (dict(starts_at=datetime(2020, 1, 1, 9)), "starts_at"),
        (dict(starts_at=datetime.combine(expo.starts_on, time(22)), slot_count=12), "slot_count"),
        (dict(pavilion_id=999_999), "pavilion_id"), (dict(category_id=999_999), "category_id"),
        (dict(checkpoint_id=999_999), "checkpoint_id"),
    ]
    for overrides, field in refusals:
        with pytest.raises(sessions.SessionError) as info:
            sessions.save_session(None, expo, _data(**overrides))
        assert info.value.field == field, overrides


def test_shrinking_a_session_refuses_to_strand_meetings_unless_asked(ctx):
    expo = current_expo()
    session = make_docking_session(slot_count=4, table_count=3)
    b1, b2 = _buyers(2)
    (e1,) = _exhibitors(1)
    late = make_accepted_meeting(b1, e1, session_id=session.id, slot=3, table_no=1)
    early = make_accepted_meeting(b2, e1, session_id=session.id, slot=0, table_no=3)
    db.session.commit()
    data = _data(name_zh=session.name_zh, name_en=session.name_en, starts_at=session.starts_at, slot_count=3,
                 table_count=3)
    with pytest.raises(sessions.SessionError) as info:
        sessions.save_session(None, expo, data, session)
    assert info.value.code == "stranded" and "1 scheduled meetings would lose" in str(info.value.message)
    db.session.rollback()
    session = db.session.get(DockingSession, session.id)
    assert session.slot_count == 4
    sessions.save_session(None, expo, data, session, unschedule=True)
    db.session.commit()
    assert db.session.get(Meeting, late.id).session_id is None
    assert db.session.get(Meeting, early.id).slot == 0
    # Fewer tables strand the meeting at table 3; a move to a time the exhibitor is busy strands it too.
    with pytest.raises(sessions.SessionError):
        sessions.save_session(None, expo, _data(name_zh=session.name_zh, name_en=session.name_en,
                                                starts_at=session.starts_at, slot_count=3, table_count=2), session)
    db.session.rollback()
    session = db.session.get(DockingSession, session.id)
    db.session.add(BusyPeriod(expo_id=expo.id, exhibitor_id=e1.id, starts_at=session.starts_at + timedelta(hours=3),
                              ends_at=session.starts_at + timedelta(hours=4)))
    db.session.commit()
    with pytest.raises(sessions.SessionError):
        sessions.save_session(None, expo, _data(name_zh=session.name_zh, name_en=session.name_en,
                                                starts_at=session.starts_at + timedelta(hours=3), slot_count=3,
                                                table_count=3), session)


def test_deleting_a_session_with_meetings(ctx):
    session = make_docking_session()
    (b,), (e,) = _buyers(1), _exhibitors(1)
    meeting = make_accepted_meeting(b, e, session_id=session.id, slot=0, table_no=1)
    with pytest.raises(sessions.SessionError) as info:
        sessions.delete_session(None, session)
    assert info.value.code == "stranded"
    sessions.delete_session(None, session, unschedule=True)
    assert db.session.get(DockingSession, session.id) is None
    assert db.session.get(Meeting, meeting.id).session_id is None


# --- organizer pages ----------------------------------------------------------------------------------------------

def _scheduled_setup(app) -> dict[str, int]:
    with app.app_context():
        session = make_docking_session(slot_count=2, table_count=2)
        buyers, exhibitors = _buyers(3), _exhibitors(2)
        ids = [make_accepted_meeting(b, e).id for b in buyers for e in exhibitors]
        db.session.commit()
        return {"session_id": session.id, "meetings": ids}


def test_organizer_runs_the_scheduler_and_sees_the_grid(app, client, auth):
    ids = _scheduled_setup(app)
    auth.login("admin@expo.test")
    page = client.get("/docking/organizer/sessions").get_data(as_text=True)
    assert "Accepted meetings: <strong>6</strong>" in page and "Upper bound: <strong>4</strong>" in page
    r = client.post("/docking/organizer/sessions/schedule", data={"respect_themes": "y"}, follow_redirects=True)
    assert "4 of 6 accepted meetings scheduled; upper bound 4." in r.get_data(as_text=True)
    grid = client.get(f"/docking/organizer/sessions/{ids['session_id']}").get_data(as_text=True)
    assert 'id="grid"' in grid and grid.count('id="meeting-') == 4 and "2 tables free" not in grid
    # Chinese
    r = client.post("/docking/organizer/sessions/schedule", data={}, headers={"Accept-Language": "zh-CN"},
                    follow_redirects=True)
    assert r.status_code == 200
    csv = client.get(f"/docking/organizer/sessions/{ids['session_id']}.csv")
    assert csv.status_code == 200 and csv.get_data(as_text=True).count("\n") == 5
    xlsx = client.get(f"/docking/organizer/sessions/{ids['session_id']}.xlsx")
    rows = list(load_workbook(io.BytesIO(xlsx.data)).active.iter_rows(values_only=True))
    assert rows[0][0] == "Session" and len(rows) == 5
    assert client.get(f"/docking/organizer/sessions/{ids['session_id']}.pdf").status_code == 404
    waiting = client.get("/docking/organizer/sessions/waiting").get_data(as_text=True)
    assert "2 accepted meetings have no slot yet." in waiting


def test_organizer_places_moves_pins_and_unschedules_by_hand(app, client, auth):
    ids = _scheduled_setup(app)
    auth.login("admin@expo.test")
    first, second = ids["meetings"][0], ids["meetings"][1]  # same buyer
    url = f"/docking/organizer/meetings/{first}/place"
    page = client.get(url).get_data(as_text=True)
    assert 'id="free-cells"' in page and page.count('name="table_no" value="1"') == 2  # 09:00 and 09:20, table 1
    r = client.post(url, data={"session_id": ids["session_id"], "slot": 2, "table_no": 1, "pin": "y"})
    assert r.status_code == 302
    r = client.post(f"/docking/organizer/meetings/{second}/place",
                    data={"session_id": ids["session_id"], "slot": 2, "table_no": 2})
    assert r.status_code == 409 and "The buyer already has a meeting at 09:20" in r.get_data(as_text=True)
    r = client.post(f"/docking/organizer/meetings/{second}/place",
                    data={"session_id": ids["session_id"], "slot": 2, "table_no": 2},
                    headers={"Accept-Language": "zh-CN"})
    assert r.status_code == 409
    r = client.post(f"/docking/organizer/meetings/{second}/place",
                    data={"session_id": ids["session_id"], "slot": 9, "table_no": 1})
    assert r.status_code == 400 and "The session has slots 1 to 2." in r.get_data(as_text=True)
    with app.app_context():
        m = db.session.get(Meeting, first)
        assert (m.slot, m.table_no, m.pinned) == (1, 1, True)
    client.post(f"/docking/organizer/meetings/{first}/pin", data={})
    with app.app_context():
        assert db.session.get(Meeting, first).pinned is False
    client.post(f"/docking/organizer/meetings/{first}/unschedule", data={})
    with app.app_context():
        assert db.session.get(Meeting, first).session_id is None


def test_session_pages_new_edit_delete(app, client, auth):
    auth.login("staff@expo.test")
    assert client.get("/docking/organizer/sessions/new").status_code == 200
    with app.app_context():
        day = current_expo().starts_on
    form = {"name_zh": "国际采购对接会", "name_en": "International buyers", "room": "A1",
            "starts_at": f"{day.isoformat()}T10:00", "slot_minutes": 15, "slot_count": 8, "table_count": 12,
            "published": "y"}
    r = client.post("/docking/organizer/sessions/new", data=form)
    assert r.status_code == 302
    with app.app_context():
        session = db.session.scalar(select(DockingSession).where(DockingSession.name_en == "International buyers"))
        sid = session.id
        assert (session.slot_count, session.table_count, session.published) == (8, 12, True)
    r = client.post("/docking/organizer/sessions/new", data={**form, "starts_at": "soon"})
    assert r.status_code == 400
    r = client.post(f"/docking/organizer/sessions/{sid}/edit", data={**form, "table_count": 4})
    assert r.status_code == 302
    assert client.get(f"/docking/organizer/sessions/{sid}/edit").status_code == 200
    r = client.post(f"/docking/organizer/sessions/{sid}/delete", data={})
    assert r.status_code == 302
    with app.app_context():
        assert db.session.get(DockingSession, sid) is None


@pytest.mark.parametrize("email", ["buyer@expo.test", "leader@expo.test", "exhibitor@expo.test", "gate@expo.test"])
def test_other_roles_cannot_reach_sessions_or_the_scheduler(app, client, auth, token, email):
    ids = _scheduled_setup(app)
    auth.login(email)
    for url in ("/docking/organizer/sessions", f"/docking/organizer/sessions/{ids['session_id']}",
                "/docking/organizer/sessions/waiting"):
        assert client.get(url).status_code == 403, url
    assert client.post("/docking/organizer/sessions/schedule", data={}).status_code == 403
    assert client.post(f"/docking/organizer/meetings/{ids['meetings'][0]}/place",
                       data={"session_id": ids["session_id"], "slot": 1, "table_no": 1}).status_code == 403
    headers = token(email)
    assert client.get("/api/v1/docking/sessions", headers=headers).status_code == 403
    assert client.post("/api/v1/docking/sessions/schedule", json={}, headers=headers).status_code == 403
    with app.app_context():
        assert db.session.scalar(select(func.count(Meeting.id)).where(Meeting.session_id.is_not(None))) == 0


# --- availability ------------------------------------------------------------------------------------------------------

def test_buyer_marks_their_own_busy_time_and_cannot_touch_others(app, client, auth):
    with app.app_context():
        me = buyer_of(user("buyer@expo.test"))
        other = db.session.scalar(select(Buyer).where(Buyer.id != me.id).order_by(Buyer.id))
        day = current_expo().starts_on
        my_id, other_id = me.id, other.id
    auth.login("buyer@expo.test")
    r = client.get("/docking/availability")
    assert r.status_code == 302 and r.location.endswith(f"/docking/availability/buyer/{my_id}")
    r = client.post(f"/docking/availability/buyer/{my_id}", data={"day": day.isoformat(), "end": "10:00",
                                                                  "note": "not before 10:00"})
    assert r.status_code == 302
    with app.app_context():
        period = db.session.scalar(select(BusyPeriod).where(BusyPeriod.buyer_id == my_id))
        assert (period.starts_at, period.ends_at) == (datetime.combine(day, time()), datetime.combine(day, time(10)))
        period_id = period.id
    page = client.get(f"/docking/availability/buyer/{my_id}").get_data(as_text=True)
    assert "not before 10:00" in page
    assert client.post(f"/docking/availability/buyer/{my_id}", data={"day": day.isoformat(), "start": "11:00",
                                                                     "end": "10:00"}).status_code == 400
    assert client.get(f"/docking/availability/buyer/{other_id}").status_code == 404
    assert client.post(f"/docking/availability/buyer/{other_id}", data={"day": day.isoformat()}).status_code == 404
    assert client.get("/docking/availability/exhibitor/1").status_code == 403
    client.post(f"/docking/availability/{period_id}/delete", data={})
    with app.app_context():
        assert db.session.get(BusyPeriod, period_id) is None


def test_leader_manages_members_and_exhibitor_its_company(app, client, auth):
    with app.app_context():
        leader = user("leader@expo.test")
        delegation = db.session.scalar(select(Delegation).where(Delegation.leader_user_id == leader.id))
        member = delegation.members[0]
        stranger = db.session.scalar(select(Buyer).where((Buyer.delegation_id != delegation.id)
                                                         | Buyer.delegation_id.is_(None)).order_by(Buyer.id))
        own_ex = user("exhibitor@expo.test").exhibitor_id
        other_ex = db.session.scalar(select(Exhibitor.id).where(Exhibitor.id != own_ex).order_by(Exhibitor.id))
        day = current_expo().starts_on
        busy = BusyPeriod(expo_id=current_expo().id, buyer_id=stranger.id, starts_at=datetime.combine(day, time(9)),
                          ends_at=datetime.combine(day, time(10)))
        db.session.add(busy)
        db.session.commit()
        member_id, stranger_id, busy_id = member.id, stranger.id, busy.id
    auth.login("leader@expo.test")
    assert member.name in client.get("/docking/availability").get_data(as_text=True)
    assert client.post(f"/docking/availability/buyer/{member_id}",
                       data={"day": day.isoformat(), "start": "15:00"}).status_code == 302
    assert client.get(f"/docking/availability/buyer/{stranger_id}").status_code == 404
    assert client.post(f"/docking/availability/{busy_id}/delete", data={}).status_code == 404
    auth.logout()
    auth.login("exhibitor@expo.test")
    assert client.get("/docking/availability").location.endswith(f"/docking/availability/exhibitor/{own_ex}")
    assert client.post(f"/docking/availability/exhibitor/{own_ex}",
                       data={"day": day.isoformat(), "start": "16:00", "end": "17:00"}).status_code == 302
    assert client.get(f"/docking/availability/exhibitor/{other_ex}").status_code == 404
    with app.app_context():
        assert db.session.scalar(select(func.count(BusyPeriod.id))) == 3
        assert db.session.get(BusyPeriod, busy_id) is not None


# --- API -----------------------------------------------------------------------------------------------------------------

def test_sessions_api(app, client, token):
    headers = token("admin@expo.test")
    with app.app_context():
        day = current_expo().starts_on
    body = {"name_zh": "对接会", "name_en": "Docking", "starts_at": f"{day.isoformat()}T09:00", "slot_minutes": 20,
            "slot_count": 2, "table_count": 2}
    r = client.post("/api/v1/docking/sessions", json=body, headers=headers)
    assert r.status_code == 201, r.get_json()
    sid = r.get_json()["id"]
    assert r.get_json()["ends_at"] == f"{day.isoformat()}T09:40"
    bad = client.post("/api/v1/docking/sessions", json={**body, "table_count": 0}, headers=headers)
    assert bad.status_code == 422 and "table_count" in bad.get_json()["fields"]
    assert client.post("/api/v1/docking/sessions", json={**body, "name_en": ["x"]}, headers=headers).status_code \
        == 422
    assert client.post("/api/v1/docking/sessions", data="x", headers=headers).status_code == 400
    with app.app_context():
        (b1, b2), (e1,) = _buyers(2), _exhibitors(1)
        make_accepted_meeting(b1, e1)
        make_accepted_meeting(b2, e1)
        db.session.commit()
    r = client.post("/api/v1/docking/sessions/schedule", json={}, headers=headers)
    assert r.get_json()["scheduled"] == 2 and r.get_json()["bound"] == 2
    detail = client.get(f"/api/v1/docking/sessions/{sid}", headers=headers).get_json()
    assert len(detail["meetings"]) == 2 and {m["slot"] for m in detail["meetings"]} == {1, 2}
    assert client.get("/api/v1/docking/sessions", headers=headers).get_json()["items"][0]["scheduled"] == 2
    r = client.patch(f"/api/v1/docking/sessions/{sid}", json={"slot_count": 1}, headers=headers)
    assert r.status_code == 409 and r.get_json()["error"] == "stranded"
    r = client.patch(f"/api/v1/docking/sessions/{sid}", json={"slot_count": 1, "unschedule": True}, headers=headers)
    assert r.status_code == 200 and r.get_json()["slot_count"] == 1 and r.get_json()["scheduled"] == 1
    assert client.patch(f"/api/v1/docking/sessions/{sid}", json={"room": "C3"}, headers=headers).get_json()["room"] \
        == "C3"
    assert client.delete(f"/api/v1/docking/sessions/{sid}", headers=headers).status_code == 409
    assert client.delete(f"/api/v1/docking/sessions/{sid}?unschedule=true", headers=headers).status_code == 204
    assert client.get(f"/api/v1/docking/sessions/{sid}", headers=headers).status_code == 404


_json_values = st.one_of(st.none(), st.booleans(), st.integers(-10**20, 10**20), st.text(max_size=30),
                         st.lists(st.integers(), max_size=2), st.dictionaries(st.text(max_size=3), st.integers(),
                                                                              max_size=1))


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(body=st.dictionaries(st.sampled_from(["name_zh", "name_en", "room", "starts_at", "slot_minutes", "slot_count",
                                             "table_count", "pavilion_id", "category_id", "checkpoint_id",
                                             "published", "unschedule", "replan", "respect_themes"]),
                            _json_values, max_size=6))
def test_sessions_api_never_answers_500(app, client, token, body):
    headers = token("admin@expo.test")
    for method, url in (("POST", "/api/v1/docking/sessions"), ("POST", "/api/v1/docking/sessions/schedule")):
        r = client.open(url, method=method, json=body, headers=headers)
        assert r.status_code in (200, 201, 400, 409, 422), (url, body, r.status_code, r.get_data(as_text=True))
        assert r.is_json


def test_scheduler_button_without_csrf_token_changes_nothing(app, client, auth):
    _scheduled_setup(app)
    auth.login("admin@expo.test")
    app.config["WTF_CSRF_ENABLED"] = True  # the conftest fixture switches it back off for the next test
    r = client.post("/docking/organizer/sessions/schedule", data={"respect_themes": "y"}, follow_redirects=True)
    assert "The form has expired or was sent from another site" in r.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(select(func.count(Meeting.id)).where(Meeting.session_id.is_not(None))) == 0
    # Control: with its token the same button schedules.
    page = client.get("/docking/organizer/sessions").get_data(as_text=True)
    token = page.split('name="csrf_token" type="hidden" value="', 1)[1].split('"', 1)[0]
    r = client.post("/docking/organizer/sessions/schedule", data={"respect_themes": "y", "csrf_token": token},
                    follow_redirects=True)
    assert "4 of 6 accepted meetings scheduled" in r.get_data(as_text=True)
