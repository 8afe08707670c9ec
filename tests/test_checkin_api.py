"""The gate's scan API: answers for every outcome, nonces, offline batches, the offline bundle, who may call it, and
hostile bodies.

A refusal is an answer (200, ``result: "refused"`` with a reason and its words), a bad request a 4xx with a JSON
reason; a scan sent again with its nonce returns its first answer and counts once; a batch uploaded three times
leaves one check-in per scan.
"""

from __future__ import annotations

import threading
import uuid
from dataclasses import dataclass

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from openapi_spec_validator import validate as validate_openapi
from sqlalchemy import func, select

from expo import countries
from expo.badges import codes, keys
from expo.badges import services as badge_services
from expo.badges.models import Badge, BadgeType
from expo.buyers.models import Buyer
from expo.checkin import api
from expo.checkin.models import Checkpoint, Presence, Scan
from expo.exhibitors.models import Exhibitor, ExhibitorStaff
from expo.exhibitors.services import current_expo
from expo.extensions import db
from tests.conftest import csrf_token
from tests.race import PG, needs_pg

API = "/api/v1/gate"


@dataclass
class World:
    """A venue entrance (entry and exit), a hall door, and badges: exhibitor staff and buyers."""

    checkpoint: int
    hall_checkpoint: int
    badge_ids: list[int]
    codes: list[str]
    names: list[str]
    buyer_badge: int
    buyer_code: str
    buyer_name_native: str


def make_world(app, *, staff: int = 4, **checkpoint) -> World:
    """Checkpoints and badges made with the badge services, committed (call outside an app context)."""
    with app.app_context():
        try:
            expo = current_expo()
            cp = Checkpoint(expo_id=expo.id, code=checkpoint.pop("code", "W1"), name_zh="西门",
                            name_en="West gate", mode=checkpoint.pop("mode", "entry_exit"),
                            reentry=checkpoint.pop("reentry", True), badge_type_ids=[], days=[], **checkpoint)
            hall = Checkpoint(expo_id=expo.id, code="A1", name_zh="A1馆", name_en="Hall A1", kind="hall",
                              hall_code=expo.halls[0].code, mode="entry", badge_type_ids=[], days=[])
            db.session.add_all([cp, hall])
            members = db.session.execute(select(ExhibitorStaff, Exhibitor).join(Exhibitor)
                                         .order_by(ExhibitorStaff.id).limit(staff)).all()
            badges = [badge_services.issue_for(None, expo, badge_services.holder_of_staff(m, e)) for m, e in members]
            buyer = db.session.scalar(select(Buyer).where(Buyer.name_native != "").order_by(Buyer.id)) or \
                db.session.scalar(select(Buyer).order_by(Buyer.id))
            buyer_badge = badge_services.issue_for(None, expo, badge_services.holder_of_buyer(buyer))
            db.session.commit()
            return World(cp.id, hall.id, [b.id for b in badges], [b.code for b in badges], [b.name for b in badges],
                         buyer_badge.id, buyer_badge.code, buyer_badge.name_native)
        finally:
            db.session.remove()


@pytest.fixture(autouse=True)
def _fresh_caches():
    api.clear_caches()
    yield
    api.clear_caches()


@pytest.fixture(autouse=True, params=["fast_path", "flask"])
def gate_path(request, app):
    """Every test here runs twice: with the gate's fast path (expo.checkin.fastpath) in front, which answers scans
    sent with a scanner's token and leaves everything else to the app, and without it."""
    if request.param == "fast_path" and not PG:
        pytest.skip("the fast path serves PostgreSQL only (SQLite's scans go through the app: "
                    "test_on_sqlite_the_app_answers_every_scan)")
    app.config["GATE_FAST_PATH"] = request.param == "fast_path"
    yield request.param
    app.config["GATE_FAST_PATH"] = True


@pytest.fixture
def world(app) -> World:
    return make_world(app)


@pytest.fixture
def gate(token) -> dict[str, str]:
    return token("gate@expo.test")


def body(world: World, code: str, **over) -> dict:
    return {"checkpoint_id": world.checkpoint, "code": code, "device_id": "gate-test-1",
            "nonce": uuid.uuid4().hex, **over}


def scan(client, headers, world: World, code: str, **over):
    r = client.post(f"{API}/scans", json=body(world, code, **over), headers=headers)
    assert r.status_code == 200, r.get_data(as_text=True)
    return r.get_json()


def count_scans(app, **where) -> int:
    with app.app_context():
        stmt = select(func.count()).select_from(Scan)
        for key, value in where.items():
            stmt = stmt.where(getattr(Scan, key) == value)
        return db.session.scalar(stmt)


def flip(code: str, at: int = 60) -> str:
    """The code with one character changed (a forgery, or a damaged print)."""
    return code[:at] + ("A" if code[at] != "A" else "B") + code[at + 1:]


# --- answers ---------------------------------------------------------------------------------------------------------

def test_admitted_answer_has_name_type_company_and_words(client, gate, world):
    a = scan(client, gate, world, world.codes[0])
    assert a["result"] == "admitted" and a["reason"] == "" and a["message"] == ""
    assert a["result_text"] == "Admitted"
    assert a["badge_id"] == world.badge_ids[0] and a["name"] == world.names[0]
    assert a["badge_type"] == "Exhibitor" and a["badge_type_zh"] == "展商" and a["colour"].startswith("#")
    assert a["company"] and a["country"] and a["country_name"]
    assert a["replayed"] is False and a["offline"] is False and a["direction"] == "in"
    again = scan(client, gate, world, world.codes[0])
    assert again["result"] == "refused" and again["reason"] == "already_inside"
    assert again["message"] == "Already inside" and again["name"] == world.names[0]


def test_buyer_native_name_and_chinese_words(client, gate, world):
    a = scan(client, {**gate, "Accept-Language": "zh-CN"}, world, world.buyer_code)
    assert a["result"] == "admitted"
    assert a["name_native"] == world.buyer_name_native
    assert a["badge_type"] in ("Buyer", "Delegation")


def test_every_refusal_reason_is_an_answer(app, client, gate, world):
    with app.app_context():
        expo = current_expo()
        signing = keys.active_key(expo)
        type_id = db.session.get(Badge, world.badge_ids[0]).badge_type_id
        unknown_badge = codes.encode(keys.private_key(signing), signing.id, 999_999, 1, type_id)
        stranger = Ed25519PrivateKey.generate()
        forged_key = codes.encode(stranger, signing.id, world.badge_ids[0], 1, type_id)
        unknown_key = codes.encode(stranger, 200, world.badge_ids[0], 1, type_id)
    cases = {
        "malformed": "HELLO-WORLD",
        "bad_signature": flip(world.codes[0]),
        "unknown_key": unknown_key,
        "unknown_badge": unknown_badge,
    }
    for reason, code in cases.items():
        a = scan(client, gate, world, code)
        assert (a["result"], a["reason"]) == ("refused", reason), (reason, a)
        assert a["message"], reason
    assert scan(client, gate, world, forged_key)["reason"] == "bad_signature"  # signed, but not by us

    # Revoked, and the old code of a reissued badge.
    with app.app_context():
        badge_services.revoke(None, db.session.get(Badge, world.badge_ids[1]), "lost")
        reissued = badge_services.revoke_and_reissue(None, db.session.get(Badge, world.badge_ids[2]), "stolen")
        new_code = reissued.code
        db.session.commit()
    revoked = scan(client, gate, world, world.codes[1])
    assert (revoked["reason"], revoked["message"], revoked["name"]) == ("revoked", "Revoked badge", world.names[1])
    assert scan(client, gate, world, world.codes[2])["reason"] == "revoked"
    assert scan(client, gate, world, new_code)["result"] == "admitted"

    # Exit of someone not inside; no re-entry; a closed checkpoint; the wrong day; not admitted here.
    assert scan(client, gate, world, world.codes[3], direction="out")["reason"] == "not_inside"
    assert scan(client, gate, world, world.codes[3])["result"] == "admitted"
    exit_answer = scan(client, gate, world, world.codes[3], direction="out")
    assert (exit_answer["result"], exit_answer["result_text"], exit_answer["direction"]) == ("exited", "Exited", "out")
    with app.app_context():
        cp = db.session.get(Checkpoint, world.checkpoint)
        cp.reentry = False
        db.session.commit()
    assert scan(client, gate, world, world.codes[3])["reason"] == "no_reentry"
    with app.app_context():
        cp = db.session.get(Checkpoint, world.checkpoint)
        cp.reentry, cp.active = True, False
        db.session.commit()
    assert scan(client, gate, world, world.codes[0])["reason"] == "closed"
    with app.app_context():
        cp = db.session.get(Checkpoint, world.checkpoint)
        cp.active = True
        badge_type = db.session.get(BadgeType, type_id)
        badge_type.days = ["2000-01-01"]
        db.session.commit()
    assert scan(client, gate, world, world.codes[0])["reason"] == "wrong_day"
    with app.app_context():
        db.session.get(BadgeType, type_id).days = []
        buyer_type = db.session.get(Badge, world.buyer_badge).badge_type_id
        db.session.get(Checkpoint, world.checkpoint).badge_type_ids = [buyer_type]
        db.session.commit()
    here = scan(client, gate, world, world.codes[0])
    assert (here["reason"], here["message"]) == ("not_admitted_here", "Not admitted here")


def test_entry_only_checkpoint_takes_every_scan_as_an_entry(client, gate, world):
    a = scan(client, gate, world, world.codes[0], checkpoint_id=world.hall_checkpoint, direction="out")
    assert (a["result"], a["direction"]) == ("admitted", "in")


# --- nonces and batches ----------------------------------------------------------------------------------------------

def test_a_retried_scan_returns_its_first_answer_and_counts_once(app, client, gate, world):
    sent = body(world, world.codes[0])
    first = client.post(f"{API}/scans", json=sent, headers=gate).get_json()
    second = client.post(f"{API}/scans", json=sent, headers=gate).get_json()
    assert first["result"] == second["result"] == "admitted"
    assert (first["replayed"], second["replayed"]) == (False, True)
    assert first["scan_id"] == second["scan_id"]
    assert count_scans(app) == 1
    # The same nonce from another device is another scan.
    other = client.post(f"{API}/scans", json={**sent, "device_id": "gate-test-2"}, headers=gate).get_json()
    assert other["reason"] == "already_inside" and count_scans(app) == 2


def test_an_offline_batch_uploaded_three_times_counts_each_scan_once(app, client, gate, world):
    scans = [{"nonce": uuid.uuid4().hex, "code": code, "checkpoint_id": world.checkpoint, "direction": "in",
              "scanned_at": "2026-11-01T02:00:00Z"} for code in world.codes]
    scans.append({"nonce": uuid.uuid4().hex, "code": world.codes[0], "checkpoint_id": world.checkpoint,
                  "direction": "out", "scanned_at": "2026-11-01T03:00:00Z"})
    results = []
    for _ in range(3):
        r = client.post(f"{API}/scans/batch", json={"device_id": "phone-7", "scans": scans}, headers=gate)
        assert r.status_code == 200, r.get_data(as_text=True)
        results.append(r.get_json())
    assert [(b["counted"], b["replayed"], b["invalid"]) for b in results] == [(5, 0, 0), (0, 5, 0), (0, 5, 0)]
    for batch in results:
        assert [a["result"] for a in batch["answers"]] == ["admitted"] * 4 + ["exited"]
        assert [a["nonce"] for a in batch["answers"]] == [s["nonce"] for s in scans]
        assert all(a["offline"] for a in batch["answers"])
    assert count_scans(app) == 5
    assert count_scans(app, result="admitted") == 4 and count_scans(app, offline=True) == 5
    with app.app_context():
        rows = db.session.scalars(select(Scan).order_by(Scan.id)).all()
        assert {r.scanned_at.isoformat() for r in rows} == {"2026-11-01T02:00:00", "2026-11-01T03:00:00"}
        inside = db.session.scalars(select(Presence.badge_id).where(Presence.inside.is_(True))).all()
        assert sorted(inside) == sorted(world.badge_ids[1:])


def test_batch_items_that_cannot_be_taken_are_answered_one_by_one(app, client, gate, world):
    scans = [{"nonce": "ok-1", "code": world.codes[0], "checkpoint_id": world.checkpoint},
             {"nonce": "bad-cp", "code": world.codes[1], "checkpoint_id": 999_999},
             {"code": world.codes[1], "checkpoint_id": world.checkpoint},
             "not an object",
             {"nonce": "bad-dir", "code": world.codes[1], "checkpoint_id": world.checkpoint, "direction": "up"}]
    r = client.post(f"{API}/scans/batch", json={"device_id": "phone-8", "scans": scans}, headers=gate)
    assert r.status_code == 200
    out = r.get_json()
    assert (out["counted"], out["invalid"]) == (1, 4)
    assert out["answers"][0]["result"] == "admitted"
    assert [a.get("error") for a in out["answers"][1:]] == ["unknown_checkpoint", "invalid", "invalid", "invalid"]
    assert all(a["message"] for a in out["answers"][1:])
    assert count_scans(app) == 1
    too_many = [{"nonce": str(i), "code": "X", "checkpoint_id": world.checkpoint} for i in range(api.MAX_BATCH + 1)]
    r = client.post(f"{API}/scans/batch", json={"device_id": "phone-8", "scans": too_many}, headers=gate)
    assert r.status_code == 422 and r.get_json()["fields"] == {"scans": [f"At most {api.MAX_BATCH} scans a batch."]}
    assert count_scans(app) == 1


# --- bad requests ----------------------------------------------------------------------------------------------------

def test_bad_requests_are_4xx_with_a_reason(app, client, gate, world):
    r = client.post(f"{API}/scans", data="code=x", headers={**gate, "Content-Type": "text/plain"})
    assert r.status_code == 400 and r.get_json()["error"] == "not_json"
    r = client.post(f"{API}/scans", data="{not json", headers={**gate, "Content-Type": "application/json"})
    assert r.status_code == 400 and r.get_json()["error"] == "not_json"
    cases = [({"nonce": None}, "nonce", 422), ({"nonce": ""}, "nonce", 422), ({"nonce": "x" * 65}, "nonce", 422),
             ({"nonce": 7}, "nonce", 422), ({"device_id": None}, "device_id", 422),
             ({"device_id": "a\x00b"}, "device_id", 422), ({"checkpoint_id": "W1"}, "checkpoint_id", 422),
             ({"checkpoint_id": True}, "checkpoint_id", 422), ({"checkpoint_id": 2**40}, "checkpoint_id", 422),
             ({"code": 12}, "code", 422), ({"code": "A" * 5000}, "code", 422),
             ({"direction": "sideways"}, "direction", 422), ({"scanned_at": "yesterday"}, "scanned_at", 422),
             ({"scanned_at": "0001-01-01T00:00:00+05:00"}, "scanned_at", 422),
             ({"scanned_at": "2001-01-01T00:00:00"}, "scanned_at", 422)]
    for over, field, status in cases:
        r = client.post(f"{API}/scans", json={**body(world, world.codes[0]), **over}, headers=gate)
        assert r.status_code == status, (over, r.status_code, r.get_data(as_text=True))
        out = r.get_json()
        assert out["message"] and field in out.get("fields", {}), (over, out)
    r = client.post(f"{API}/scans", json=body(world, world.codes[0], checkpoint_id=999_999), headers=gate)
    assert r.status_code == 404 and r.get_json()["error"] == "unknown_checkpoint"
    assert count_scans(app) == 0
    # Control characters a scanner adds are no part of the code: the code still scans.
    a = scan(client, gate, world, "\x1d" + world.codes[0] + "\r")
    assert a["result"] == "admitted"


# --- the fast path ---------------------------------------------------------------------------------------------------

@pytest.fixture
def fast_answers(monkeypatch):
    """How many scans the fast path answered itself (the rest it left to the app)."""
    from expo.checkin.fastpath import ScanFastPath

    answered = []
    original = ScanFastPath._answer

    def counting(self, *args):
        out = original(self, *args)
        answered.append(out is not None)
        return out

    monkeypatch.setattr(ScanFastPath, "_answer", counting)
    return answered


@pytest.mark.parametrize("gate_path", ["fast_path"], indirect=True)
def test_fast_path_answers_as_the_app_does(app, client, gate, world, gate_path, fast_answers):
    zh = {**gate, "Accept-Language": "zh-CN,zh;q=0.9"}
    first = client.post(f"{API}/scans", json=body(world, world.codes[0]), headers=zh)
    assert first.get_json()["result"] == "admitted" and fast_answers == [True]
    fast = client.post(f"{API}/scans", json=body(world, world.codes[0]), headers=zh)
    app.config["GATE_FAST_PATH"] = False
    slow = client.post(f"{API}/scans", json=body(world, world.codes[0]), headers=zh)
    assert fast_answers == [True, True]  # the third went through Flask
    a, b = fast.get_json(), slow.get_json()
    assert a["reason"] == "already_inside" and a["message"] != "Already inside"  # in Chinese
    assert {k: v for k, v in a.items() if k not in ("scan_id", "nonce")} == \
        {k: v for k, v in b.items() if k not in ("scan_id", "nonce")}
    skip = {"Content-Length", "Date", "Vary"}  # Vary: Cookie, as Flask's session was looked at (no-store anyway)
    assert {(k, v) for k, v in fast.headers.items() if k not in skip} == \
        {(k, v) for k, v in slow.headers.items() if k not in skip}
    assert count_scans(app, badge_id=world.badge_ids[0]) == 3


@pytest.mark.parametrize("gate_path", ["fast_path"], indirect=True)
def test_fast_path_leaves_everything_else_to_the_app(app, client, token, gate, world, gate_path, fast_answers):
    """What the app refuses the fast path does not answer: not a scanner, a revoked token, an unknown checkpoint,
    a bad body; those answers are the app's own (the tests above check them under both paths)."""
    from expo.auth.models import ApiToken
    from expo.db import utcnow

    assert client.post(f"{API}/scans", json=body(world, world.codes[0]),
                       headers=token("exhibitor@expo.test")).status_code == 403
    assert client.post(f"{API}/scans", json=body(world, world.codes[0], checkpoint_id=999_999),
                       headers=gate).status_code == 404
    assert client.post(f"{API}/scans", json=body(world, world.codes[0], nonce=""), headers=gate).status_code == 422
    with app.app_context():
        for row in db.session.scalars(select(ApiToken)):
            row.revoked_at = utcnow()
        db.session.commit()
    assert client.post(f"{API}/scans", json=body(world, world.codes[0]), headers=gate).status_code == 401
    assert fast_answers == [False, False, False, False] and count_scans(app) == 0


def _at_once(app, headers: dict, bodies: list[dict]) -> list[dict]:
    """The scans posted at the same moment from threads of their own (each its own client and connection)."""
    barrier = threading.Barrier(len(bodies), timeout=20)
    answers: list[dict] = [{}] * len(bodies)

    def post(i: int) -> None:
        client = app.test_client()
        barrier.wait()
        r = client.post(f"{API}/scans", json=bodies[i], headers=headers)
        answers[i] = r.get_json() if r.status_code == 200 else {"status": r.status_code}

    threads = [threading.Thread(target=post, args=(i,)) for i in range(len(bodies))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    return answers


@pytest.mark.postgres
@needs_pg
def test_two_gates_at_once_through_the_api_one_admits(app, client, gate, world):
    """The scan API, with the fast path and without: the same badge at two gates at the same moment."""
    for round_ in range(3):
        answers = _at_once(app, gate, [body(world, world.codes[0], device_id=f"gate-{side}{round_}")
                                       for side in "ab"])
        assert sorted((a.get("result"), a.get("reason")) for a in answers) == \
            [("admitted", ""), ("refused", "already_inside")], answers
        scan(client, gate, world, world.codes[0], direction="out")
    assert count_scans(app, result="admitted") == 3


@pytest.mark.postgres
@needs_pg
def test_one_scan_sent_by_three_connections_at_once_counts_once(app, gate, world):
    nonce = uuid.uuid4().hex
    answers = _at_once(app, gate, [body(world, world.codes[0], nonce=nonce)] * 3)
    assert [a.get("result") for a in answers] == ["admitted"] * 3, answers
    assert sorted(a["replayed"] for a in answers) == [False, True, True]
    assert len({a["scan_id"] for a in answers}) == 1 and count_scans(app) == 1


@pytest.mark.skipif(bool(PG), reason="SQLite only")
@pytest.mark.parametrize("gate_path", ["flask"], indirect=True)
def test_on_sqlite_the_app_answers_every_scan(app, client, gate, world, gate_path, fast_answers):
    """The fast path's one-statement scan is PostgreSQL's; on SQLite (one desk, writers serialized) the app answers."""
    app.config["GATE_FAST_PATH"] = True
    assert client.post(f"{API}/scans", json=body(world, world.codes[0]), headers=gate).get_json()["result"] == \
        "admitted"
    assert fast_answers == [] and count_scans(app) == 1


# --- the offline bundle ----------------------------------------------------------------------------------------------

def test_bundle_holds_keys_rules_types_names_and_revocations(app, client, gate, world):
    r = client.get(f"{API}/bundle", query_string={"checkpoint_id": world.checkpoint}, headers=gate)
    assert r.status_code == 200 and r.headers["ETag"]
    b = r.get_json()
    with app.app_context():
        expo = current_expo()
        assert b["keys"] == keys.public_keys_b64(expo)
        types = {t.id: t for t in db.session.scalars(select(BadgeType).where(BadgeType.expo_id == expo.id))}
    assert b["checkpoint"]["id"] == world.checkpoint and b["checkpoint"]["mode"] == "entry_exit"
    assert b["checkpoint"]["zone"] == "venue" and b["timezone"] == "Asia/Shanghai"
    assert set(b["badge_types"]) == {str(i) for i in types}
    exh = next(t for t in b["badge_types"].values() if t["code"] == "EXH")
    assert exh["name_zh"] == "展商" and exh["days"] == [] and exh["areas"] == []
    assert b["holders"][str(world.badge_ids[0])][:1] == [world.names[0]]
    assert b["holders"][str(world.buyer_badge)][1] == world.buyer_name_native
    assert b["revocations"] == {"revoked": [], "reissued": {}}
    assert b["countries"] and all(b["countries"][h[3]] == [countries.name(h[3], "zh"), countries.name(h[3], "en")]
                                  for h in b["holders"].values())
    version = b["version"]
    assert r.headers["ETag"] == f'"{version}"'

    # Nothing changed: 304 without a body.
    r = client.get(f"{API}/bundle", query_string={"checkpoint_id": world.checkpoint},
                   headers={**gate, "If-None-Match": f'"{version}"'})
    assert r.status_code == 304 and r.data == b""

    with app.app_context():
        badge_services.revoke_and_reissue(None, db.session.get(Badge, world.badge_ids[0]), "lost")
        badge_services.revoke(None, db.session.get(Badge, world.badge_ids[1]), "left")
        db.session.commit()
    r = client.get(f"{API}/bundle", query_string={"checkpoint_id": world.checkpoint},
                   headers={**gate, "If-None-Match": f'"{version}"'})
    assert r.status_code == 200
    b = r.get_json()
    assert b["version"] != version
    assert b["revocations"] == {"revoked": [world.badge_ids[1]], "reissued": {str(world.badge_ids[0]): 2}}
    assert str(world.badge_ids[1]) not in b["holders"]  # a revoked badge is refused by id: no name travels

    # The checkpoint's rules are part of the version too.
    with app.app_context():
        db.session.get(Checkpoint, world.checkpoint).reentry = False
        db.session.commit()
    r = client.get(f"{API}/bundle", query_string={"checkpoint_id": world.checkpoint},
                   headers={**gate, "If-None-Match": f'"{b["version"]}"'})
    assert r.status_code == 200 and r.get_json()["checkpoint"]["reentry"] is False


def test_bundle_query_is_checked(client, gate, world):
    for query in ({}, {"checkpoint_id": "x"}, {"checkpoint_id": "0"}, {"checkpoint_id": "9" * 30}):
        r = client.get(f"{API}/bundle", query_string=query, headers=gate)
        assert r.status_code == 422 and r.get_json()["message"], query
    r = client.get(f"{API}/bundle", query_string={"checkpoint_id": 999_999}, headers=gate)
    assert r.status_code == 404 and r.get_json()["error"] == "unknown_checkpoint"


# --- who may call it --------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("email", ["exhibitor@expo.test", "buyer@expo.test", "printdesk@expo.test",
                                   "leader@expo.test"])
def test_other_roles_are_refused(app, client, token, world, email):
    headers = token(email)
    calls = [("POST", f"{API}/scans", body(world, world.codes[0])),
             ("POST", f"{API}/scans/batch", {"device_id": "x", "scans": [body(world, world.codes[0])]}),
             ("GET", f"{API}/bundle?checkpoint_id={world.checkpoint}", None)]
    for method, url, payload in calls:
        r = client.open(url, method=method, json=payload, headers=headers)
        assert r.status_code == 403 and r.get_json()["error"] == "forbidden", (email, url)
        assert world.names[0] not in r.get_data(as_text=True)
        r = client.open(url, method=method, json=payload)
        assert r.status_code == 401 and r.get_json()["error"] == "unauthorized"
    assert count_scans(app) == 0


@pytest.mark.parametrize("email", ["gate@expo.test", "staff@expo.test", "admin@expo.test"])
def test_gate_and_organizers_may_scan(client, token, world, email):
    assert scan(client, token(email), world, world.codes[0])["result"] == "admitted"


def test_cookie_scans_need_the_csrf_header(app, client, csrf_enabled, world):
    page = client.get("/login").get_data(as_text=True)
    client.post("/login", data={"email": "gate@expo.test", "password": "expo-demo-2026",
                                "csrf_token": csrf_token(page)})
    r = client.post(f"{API}/scans", json=body(world, world.codes[0]))
    assert r.status_code == 400 and r.get_json()["error"] == "csrf"
    assert count_scans(app) == 0
    html = client.get(f"/gate/{world.checkpoint}").get_data(as_text=True)
    import json
    import re

    config = json.loads(re.search(r'<script type="application/json" id="gate-config">(.*?)</script>', html,
                                  re.S).group(1))
    r = client.post(config["urls"]["scan"], json=body(world, world.codes[0]), headers={"X-CSRFToken": config["csrf"]})
    assert r.status_code == 200 and r.get_json()["result"] == "admitted"


def test_openapi_documents_the_gate_api(client):
    spec = client.get("/api/v1/openapi.json").get_json()
    validate_openapi(spec)
    scan_op = spec["paths"][f"{API}/scans"]["post"]
    assert scan_op["requestBody"]["content"]["application/json"]["schema"]["required"] == \
        ["checkpoint_id", "code", "device_id", "nonce"]
    assert scan_op["x-roles"] == ["admin", "gate", "staff"]
    assert {p["name"] for p in spec["paths"][f"{API}/bundle"]["get"]["parameters"]} == {"checkpoint_id"}
    assert "post" in spec["paths"][f"{API}/scans/batch"]


# --- hostile bodies ---------------------------------------------------------------------------------------------------

FUZZ = settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                       HealthCheck.too_slow])
scalars = st.none() | st.booleans() | st.integers() | st.integers(-10**30, 10**30) | st.floats() | \
    st.text(max_size=30) | st.sampled_from(["", "in", "out", "\x00", "2027-04-19T10:00:00Z", "9999-12-31T23:59:59",
                                            "0001-01-01T00:00:00-12:00", "\ud800", "1", "-1", "2147483648"])
values = st.recursive(scalars, lambda inner: st.lists(inner, max_size=3) |
                      st.dictionaries(st.text(max_size=6), inner, max_size=3), max_leaves=8)
FIELDS = ["checkpoint_id", "code", "device_id", "nonce", "direction", "scanned_at"]


def _assert_answer_or_refusal(r) -> None:
    assert r.status_code < 500, r.get_data(as_text=True)[:300]
    out = r.get_json()
    assert isinstance(out, dict), r.get_data(as_text=True)[:300]
    if r.status_code == 200:
        assert ("result" in out) or ("answers" in out)
    else:
        assert 400 <= r.status_code < 500 and out["error"] and out["message"].strip()


@FUZZ
@given(over=st.dictionaries(st.sampled_from(FIELDS), values, max_size=4), drop=st.sets(st.sampled_from(FIELDS),
                                                                                         max_size=2))
def test_fuzz_scan_bodies_never_fail(app, client, token, over, drop):
    world = _fuzz_world(app)
    headers = _fuzz_headers(token)
    payload = {k: v for k, v in {**body(world, world.codes[0]), **over}.items() if k not in drop}
    _assert_answer_or_refusal(client.post(f"{API}/scans", json=payload, headers=headers))


@FUZZ
@given(top=st.one_of(values, st.fixed_dictionaries({"device_id": values, "scans": st.lists(
    st.one_of(values, st.dictionaries(st.sampled_from(FIELDS), values, max_size=6)), max_size=4)})))
def test_fuzz_batch_bodies_never_fail(app, client, token, top):
    _fuzz_world(app)
    _assert_answer_or_refusal(client.post(f"{API}/scans/batch", json=top, headers=_fuzz_headers(token)))


_fuzz_cache: dict[str, object] = {}


def _fuzz_world(app) -> World:
    # Hypothesis runs many examples inside one test (one database state): make the world once per test.
    key = f"world-{id(app)}-{_current_test_id()}"
    if key not in _fuzz_cache:
        _fuzz_cache.clear()
        _fuzz_cache[key] = make_world(app)
    return _fuzz_cache[key]


def _fuzz_headers(token) -> dict[str, str]:
    key = f"token-{_current_test_id()}"
    if key not in _fuzz_cache:
        _fuzz_cache[key] = token("gate@expo.test")
    return _fuzz_cache[key]


def _current_test_id() -> str:
    import os

    return os.environ.get("PYTEST_CURRENT_TEST", "").split(" ")[0]
