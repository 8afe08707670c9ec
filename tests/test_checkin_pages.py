"""The gate's pages: checkpoints (create, change, refuse bad input), the scanner page and who may open it, the live
dashboard's numbers after known scans, the scan log's filters and exports read back, and the automatic check-out
command. Hypothesis fuzzes the checkpoint form and the log's and dashboard's query strings.
"""

from __future__ import annotations

import csv
import io
import json
import re
import uuid
from datetime import datetime, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from openpyxl import load_workbook
from sqlalchemy import func, select

from expo.audit import AuditEntry
from expo.badges import services as badge_services
from expo.badges.models import Badge, BadgeType
from expo.checkin import api, services
from expo.checkin.models import Checkpoint, Presence
from expo.exhibitors.services import current_expo
from expo.extensions import db
from tests.test_checkin_api import flip, make_world

# 2027-04-19 10:00 at the venue (UTC+8): the first day of the demo expo.
DAY1 = datetime(2027, 4, 19, 2, 0)
NOW = DAY1 + timedelta(hours=6)  # 16:00 at the venue


@pytest.fixture(autouse=True)
def _during_the_expo(monkeypatch):
    """The server's clock on the first afternoon of the expo."""
    monkeypatch.setattr(services, "utcnow", lambda: NOW)
    api.clear_caches()


def _checkpoint_form(**over) -> dict:
    data = {"code": "n2", "name_zh": "北门", "name_en": "North gate", "kind": "entrance", "hall_code": "",
            "mode": "entry_exit", "reentry": "y", "active": "y", "auto_checkout_at": "18:30"}
    data.update(over)
    return {k: v for k, v in data.items() if v is not None}


def _checkpoint(app, code: str) -> Checkpoint | None:
    with app.app_context():
        found = db.session.scalar(select(Checkpoint).where(Checkpoint.code == code))
        if found is not None:
            db.session.expunge(found)
        return found


# --- checkpoints ------------------------------------------------------------------------------------------------------

def test_organizer_creates_and_changes_a_checkpoint(app, client, auth):
    auth.login("staff@expo.test")
    page = client.get("/organizer/gate/checkpoints")
    assert page.status_code == 200 and "No checkpoints yet" in page.get_data(as_text=True)
    form = client.get("/organizer/gate/checkpoints/new").get_data(as_text=True)
    assert 'name="badge_type_ids"' in form and 'name="days"' in form and "2027-04-18" in form
    with app.app_context():
        vis = badge_services.ensure_types(current_expo())["VIS"].id
        db.session.commit()
    r = client.post("/organizer/gate/checkpoints/new",
                    data=_checkpoint_form(badge_type_ids=[str(vis)], days=["2027-04-19", "2027-04-20"]))
    assert r.status_code == 302, r.get_data(as_text=True)
    cp = _checkpoint(app, "N2")
    assert (cp.name_zh, cp.name_en, cp.kind, cp.zone, cp.mode, cp.reentry, cp.active) == \
        ("北门", "North gate", "entrance", "venue", "entry_exit", True, True)
    assert cp.badge_type_ids == [vis] and cp.days == ["2027-04-19", "2027-04-20"]
    assert cp.auto_checkout_at.strftime("%H:%M") == "18:30"
    listing = client.get("/organizer/gate/checkpoints").get_data(as_text=True)
    assert 'id="checkpoint-N2"' in listing and "北门 · North gate" in listing and "VIS" in listing

    # Change it: a hall door, entry only, no re-entry (the unticked boxes), no automatic check-out.
    with app.app_context():
        hall = current_expo().halls[0].code
    r = client.post(f"/organizer/gate/checkpoints/{cp.id}", data=_checkpoint_form(
        code="N2", kind="hall", hall_code=hall, mode="entry", reentry=None, active=None, auto_checkout_at=""))
    assert r.status_code == 302, r.get_data(as_text=True)
    cp = _checkpoint(app, "N2")
    assert (cp.kind, cp.zone, cp.mode, cp.reentry, cp.active, cp.auto_checkout_at, cp.badge_type_ids, cp.days) == \
        ("hall", f"hall:{hall}", "entry", False, False, None, [], [])
    with app.app_context():
        actions = db.session.scalars(select(AuditEntry.action).where(AuditEntry.object_type == "Checkpoint")).all()
    assert actions == ["checkpoint_created", "checkpoint_updated"]


def test_checkpoint_form_refuses_bad_input_beside_the_field(app, client, auth):
    auth.login("admin@expo.test")
    assert client.post("/organizer/gate/checkpoints/new", data=_checkpoint_form()).status_code == 302
    cases = [
        ({"code": ""}, "Give the checkpoint a code.", 400),
        ({"code": "-X"}, "A code is 1 to 20 letters", 400),
        ({"code": "N2"}, "There is already a checkpoint N2.", 409),
        ({"code": "n 3", "name_zh": ""}, "Give the checkpoint a name.", 400),
        ({"code": "H1", "kind": "hall", "hall_code": "Z9"}, "Give the code of a hall of this expo.", 400),
        ({"code": "R1", "kind": "room", "hall_code": ""}, "Give the room&#39;s code", 400),
        ({"code": "R1", "kind": "room", "hall_code": "room 7"}, "Give the room&#39;s code", 400),
        ({"code": "X1", "kind": "tower"}, "Not a valid choice", 400),
        ({"code": "X1", "mode": "exit"}, "Not a valid choice", 400),
        ({"code": "X1", "days": ["2030-01-01"]}, "is not a valid choice", 400),
        ({"code": "X1", "badge_type_ids": ["999999"]}, "is not a valid choice", 400),
        ({"code": "X1", "badge_type_ids": ["abc"]}, "could not be coerced", 400),
        ({"code": "X1", "auto_checkout_at": "25:99"}, "Not a valid time value", 400),
        ({"code": "X1", "name_en": "a\x00b"}, "control characters", 400),
    ]
    for over, message, status in cases:
        r = client.post("/organizer/gate/checkpoints/new", data=_checkpoint_form(**over))
        html = r.get_data(as_text=True)
        assert r.status_code == status, (over, r.status_code)
        assert message in html, (over, re.findall(r'class="error"[^>]*>([^<]*)', html))
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Checkpoint)) == 1
    # A room keeps its code; an entrance drops one typed by mistake.
    assert client.post("/organizer/gate/checkpoints/new", data=_checkpoint_form(
        code="R1", kind="room", hall_code="M-203")).status_code == 302
    assert _checkpoint(app, "R1").zone == "room:M-203"
    assert client.post("/organizer/gate/checkpoints/new", data=_checkpoint_form(
        code="E9", hall_code="A1")).status_code == 302
    assert _checkpoint(app, "E9").hall_code == ""
    # Another checkpoint's code on edit.
    r1 = _checkpoint(app, "R1")
    r = client.post(f"/organizer/gate/checkpoints/{r1.id}", data=_checkpoint_form(code="N2"))
    assert r.status_code == 409 and "There is already a checkpoint N2." in r.get_data(as_text=True)
    assert client.get("/organizer/gate/checkpoints/999999").status_code == 404


# --- the scanner page and who may open what ---------------------------------------------------------------------------

def test_scanner_page_for_gate_staff(app, client, auth):
    world = make_world(app)
    auth.login("gate@expo.test")
    home = client.get("/gate/").get_data(as_text=True)
    assert f'href="/gate/{world.checkpoint}"' in home and "West gate" in home
    assert 'href="/gate/"' in home  # the nav link
    r = client.get(f"/gate/{world.checkpoint}")
    assert r.status_code == 200
    html = r.get_data(as_text=True)
    assert 'id="gate-code"' in html and "autofocus" in html and "gate.js" in html and "gate.css" in html
    assert 'data-direction="out"' in html  # entry and exit: the direction toggle
    config = json.loads(re.search(r'id="gate-config">(.*?)</script>', html, re.S).group(1))
    assert config["checkpoint"]["id"] == world.checkpoint and config["checkpoint"]["zone"] == "venue"
    assert config["urls"] == {"scan": "/api/v1/gate/scans", "batch": "/api/v1/gate/scans/batch",
                              "bundle": f"/api/v1/gate/bundle?checkpoint_id={world.checkpoint}", "choose": "/gate/"}
    assert config["csrf"] and config["labels"]["reasons"]["bad_signature"].startswith("Invalid signature")
    hall = client.get(f"/gate/{world.hall_checkpoint}").get_data(as_text=True)
    assert 'data-direction="out"' not in hall  # entry only
    assert client.get("/gate/999999").status_code == 404
    # The page works in Chinese, names included.
    zh = client.get(f"/gate/{world.checkpoint}", headers={"Accept-Language": "zh-CN"}).get_data(as_text=True)
    assert "西门" in zh


@pytest.mark.parametrize("email", ["exhibitor@expo.test", "buyer@expo.test", "printdesk@expo.test",
                                   "leader@expo.test"])
def test_other_roles_cannot_open_the_gate(app, client, auth, email):
    world = make_world(app)
    auth.login(email)
    for url in ("/gate/", f"/gate/{world.checkpoint}", "/organizer/gate", "/organizer/gate/scans",
                "/organizer/gate/scans.csv", "/organizer/gate/checkpoints", "/organizer/gate/checkpoints/new"):
        assert client.get(url).status_code == 403, (email, url)


def test_gate_staff_cannot_open_the_organizer_pages(app, client, auth):
    world = make_world(app)
    auth.login("gate@expo.test")
    for url in ("/organizer/gate", "/organizer/gate/scans", "/organizer/gate/scans.xlsx",
                "/organizer/gate/checkpoints", f"/organizer/gate/checkpoints/{world.checkpoint}"):
        assert client.get(url).status_code == 403, url
    assert client.post("/organizer/gate/checkpoints/new", data=_checkpoint_form()).status_code == 403
    assert _checkpoint(app, "N2") is None


def test_nav_links(client, auth):
    auth.login("staff@expo.test")
    html = client.get("/organizer/gate").get_data(as_text=True)
    assert 'href="/organizer/gate"' in html and 'href="/organizer/gate/checkpoints"' in html


# --- the dashboard and the scan log -----------------------------------------------------------------------------------

def _scan(app, cp_id: int, code: str, at: datetime, direction: str = "in") -> services.Answer:
    with app.app_context():
        try:
            answer = services.scan(None, current_expo(), db.session.get(Checkpoint, cp_id), code, device_id="test",
                                   nonce=uuid.uuid4().hex, direction=direction, scanned_at=at)
            db.session.commit()
            return answer
        finally:
            db.session.remove()


@pytest.fixture
def scanned(app):
    """Known scans on the first day, at two entrances (venue times in the comments)."""
    world = make_world(app)
    with app.app_context():
        expo = current_expo()
        east = Checkpoint(expo_id=expo.id, code="E1", name_zh="东门", name_en="East gate", badge_type_ids=[], days=[])
        db.session.add(east)
        db.session.commit()
        east_id = east.id
    c = world.codes
    assert _scan(app, world.checkpoint, c[0], DAY1 + timedelta(minutes=5)).result == "admitted"  # 10:05 W1
    assert _scan(app, world.checkpoint, c[1], DAY1 + timedelta(minutes=30)).result == "admitted"  # 10:30 W1
    assert _scan(app, east_id, c[3], DAY1 + timedelta(minutes=15)).result == "admitted"  # 10:15 E1
    assert _scan(app, east_id, c[0], DAY1 + timedelta(minutes=20)).reason == "already_inside"  # 10:20 E1
    assert _scan(app, world.checkpoint, c[2], DAY1 + timedelta(minutes=70)).result == "admitted"  # 11:10 W1
    assert _scan(app, world.checkpoint, flip(c[2]), DAY1 + timedelta(minutes=90)).reason == "bad_signature"  # 11:30
    assert _scan(app, world.checkpoint, c[2], DAY1 + timedelta(hours=2), "out").result == "exited"  # 12:00 W1
    assert _scan(app, world.checkpoint, world.buyer_code, DAY1 - timedelta(days=1)).result == "admitted"  # day 0
    return world, east_id


def _cell(html: str, table: str, row_attr: str, cell_attr: str) -> str:
    body = re.search(rf'<table id="{table}">(.*?)</table>', html, re.S).group(1)
    row = re.search(rf"<tr {row_attr}>(.*?)</tr>", body, re.S).group(1)
    return re.search(rf"<t[dh] {cell_attr}>([^<]*)<", row).group(1).strip()


def test_dashboard_numbers_after_known_scans(app, client, auth, scanned):
    world, _east = scanned
    auth.login("staff@expo.test")
    r = client.get("/organizer/gate")
    assert r.status_code == 200
    html = r.get_data(as_text=True)
    assert '<meta http-equiv="refresh" content="10">' in html  # today: it refreshes itself
    assert _cell(html, "hourly", 'data-hour="10"', 'data-checkpoint="W1"') == "2"
    assert _cell(html, "hourly", 'data-hour="10"', 'data-checkpoint="E1"') == "1"
    assert _cell(html, "hourly", 'data-hour="11"', 'data-checkpoint="W1"') == "1"
    assert _cell(html, "hourly", 'data-hour="11"', 'data-checkpoint="E1"') == "0"
    assert _cell(html, "hourly", 'data-hour="10"', 'class="total"') == "3"
    assert 'data-hour="12"' not in html  # an exit is not an entry
    assert re.search(r'id="total-admitted">4<', html) and re.search(r'id="total-refused">2<', html)
    assert re.search(r'id="total-exited">1<', html)
    assert re.search(r'id="inside-total">3<', html)  # c0, c1, c3 (c2 left; the buyer came yesterday)
    with app.app_context():
        inside = [db.session.get(Badge, i) for i in (world.badge_ids[0], world.badge_ids[1], world.badge_ids[3])]
        countries: dict[str, int] = {}
        for badge in inside:
            countries[badge.country] = countries.get(badge.country, 0) + 1
    for code, n in countries.items():
        assert re.search(rf'<tr data-country="{code}"><td>[^<]+</td><td>{n}</td>', html), (code, n)
    assert re.search(r"Exhibitor</td><td>3</td>", html)
    assert re.search(r'data-reason="already_inside"><td><a [^>]+>Already inside</a></td><td>1</td>', html)
    assert re.search(r'data-reason="bad_signature"><td><a [^>]+>Invalid signature[^<]*</a></td><td>1</td>', html)
    assert "<svg" in html and "Entries per hour" in html
    # Another day: yesterday had one entry and does not refresh itself.
    other = client.get("/organizer/gate?day=2027-04-18").get_data(as_text=True)
    assert 'http-equiv="refresh"' not in other and re.search(r'id="total-admitted">1<', other)
    assert client.get("/organizer/gate?day=not-a-day").status_code == 200  # falls back to today


def test_scan_log_filters_and_exports(app, client, auth, scanned):
    world, east = scanned
    auth.login("admin@expo.test")

    def rows(**query) -> list[str]:
        r = client.get("/organizer/gate/scans", query_string=query)
        assert r.status_code == 200, query
        return re.findall(r'<tr id="scan-\d+" data-result="(\w+)" data-reason="(\w*)"', r.get_data(as_text=True))

    assert len(rows()) == 8
    assert sorted(rows(result="refused")) == [("refused", "already_inside"), ("refused", "bad_signature")]
    assert rows(reason="bad_signature") == [("refused", "bad_signature")]
    assert len(rows(checkpoint_id=east)) == 2
    assert len(rows(day="2027-04-19")) == 7 and len(rows(day="2027-04-18")) == 1 and rows(day="2027-04-21") == []
    assert len(rows(q=world.names[0])) == 2  # admitted at W1, then "already inside" at E1
    assert rows(q="nobody-by-this-name") == []
    html = client.get("/organizer/gate/scans", query_string={"result": "refused"}).get_data(as_text=True)
    assert "Invalid signature" in html and "Already inside" in html
    assert client.get("/organizer/gate/scans", query_string={"page": "0"}).status_code == 400
    assert client.get("/organizer/gate/scans", query_string={"reason": "nope"}).status_code == 400

    r = client.get("/organizer/gate/scans.csv", query_string={"day": "2027-04-19", "result": "admitted"})
    assert r.status_code == 200 and r.mimetype == "text/csv"
    table = list(csv.reader(io.StringIO(r.get_data().decode("utf-8-sig"))))
    header, body = table[0], table[1:]
    assert header[:9] == ["scan_id", "scanned_at", "received_at", "offline", "checkpoint", "checkpoint_name",
                          "direction", "result", "reason"]
    assert len(body) == 4 and {row[7] for row in body} == {"admitted"}
    first = min(body, key=lambda row: row[1])
    assert first[1] == "2027-04-19 10:05:00" and first[4] == "W1" and first[header.index("name")] == world.names[0]
    r = client.get("/organizer/gate/scans.xlsx", query_string={"reason": "bad_signature"})
    assert r.status_code == 200
    sheet = load_workbook(io.BytesIO(r.data)).active
    values = [[c.value for c in row] for row in sheet.iter_rows()]
    assert values[0][:2] == ["scan_id", "scanned_at"] and len(values) == 2
    assert values[1][values[0].index("reason")] == "bad_signature"
    assert values[1][values[0].index("reason_text")].startswith("Invalid signature")
    assert client.get("/organizer/gate/scans.pdf").status_code == 404
    assert client.get("/organizer/gate/scans.csv", query_string={"day": "x"}).status_code == 400


# --- the automatic check-out ------------------------------------------------------------------------------------------

def test_flask_gate_checkout(app, runner, scanned):
    world, east = scanned
    with app.app_context():
        db.session.get(Checkpoint, world.checkpoint).auto_checkout_at = datetime(2000, 1, 1, 18, 0).time()
        db.session.get(Checkpoint, east).auto_checkout_at = datetime(2000, 1, 1, 18, 30).time()
        db.session.commit()

    def inside() -> int:
        with app.app_context():
            return db.session.scalar(select(func.count()).select_from(Presence).where(Presence.inside.is_(True)))

    before = inside()
    result = runner.invoke(args=["gate", "checkout", "--at", "2027-04-19T09:00:00"])  # 17:00 at the venue
    assert result.exit_code == 0 and "No checkpoint is due" in result.output
    assert inside() == before
    result = runner.invoke(args=["gate", "checkout", "--at", "2027-04-19T10:05:00+00:00"])  # 18:05
    assert result.exit_code == 0, result.output
    assert "W1 (venue): 4 checked out" in result.output  # the venue once, though two entrances guard it
    assert "E1" not in result.output
    assert inside() == 0
    result = runner.invoke(args=["gate", "checkout", "--at", "tomorrow"])
    assert result.exit_code != 0 and "ISO 8601" in result.output


# --- hostile input ----------------------------------------------------------------------------------------------------

FUZZ = settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                       HealthCheck.too_slow])
text = st.one_of(st.text(max_size=30), st.sampled_from(["", "\x00", "A1", "entrance", "hall", "room", "entry",
                                                        "entry_exit", "y", "18:00", "2027-04-19", "-1", "9" * 40,
                                                        "<script>", "%", "北门"]),
                 st.text(min_size=100, max_size=300))
FORM_FIELDS = ["code", "name_zh", "name_en", "kind", "hall_code", "mode", "reentry", "active", "auto_checkout_at",
               "badge_type_ids", "days"]


@FUZZ
@given(over=st.dictionaries(st.sampled_from(FORM_FIELDS), text | st.lists(text, max_size=3), max_size=5))
def test_fuzz_checkpoint_form(app, client, over):
    client.post("/login", data={"email": "admin@expo.test", "password": "expo-demo-2026"})
    data = _checkpoint_form(**{"code": f"F{uuid.uuid4().hex[:8]}", **over})
    r = client.post("/organizer/gate/checkpoints/new", data=data)
    assert r.status_code in (302, 400, 409), r.status_code
    if r.status_code != 302:
        html = r.get_data(as_text=True)
        assert 'class="error"' in html or "flash-error" in html


@FUZZ
@given(query=st.dictionaries(st.sampled_from(["checkpoint_id", "result", "reason", "day", "q", "page", "per_page"]),
                             text, max_size=5))
def test_fuzz_scan_log_and_dashboard_queries(app, client, query):
    client.post("/login", data={"email": "staff@expo.test", "password": "expo-demo-2026"})
    r = client.get("/organizer/gate/scans", query_string=query)
    assert r.status_code in (200, 400), r.status_code
    assert client.get("/organizer/gate/scans.csv", query_string=query).status_code in (200, 400)
    assert client.get("/organizer/gate", query_string={"day": query.get("day", "")}).status_code == 200


def test_scans_of_unknown_badge_types_still_list(app, client, auth, scanned):
    """A badge whose type was given other days still lists with its type (the log joins, it does not filter)."""
    world, _east = scanned
    with app.app_context():
        badge = db.session.get(Badge, world.badge_ids[0])
        db.session.get(BadgeType, badge.badge_type_id).days = ["2027-04-20"]
        db.session.commit()
    auth.login("staff@expo.test")
    assert len(re.findall(r'<tr id="scan-', client.get("/organizer/gate/scans").get_data(as_text=True))) == 8
