"""The JSON API for buyers and delegations, called as an integration would: bearer tokens, JSON bodies, and the rows
left in the database.

Proves: the organizer's buyer list filters, searches and paginates as the organizer's page does (the same query);
each role reaches what :mod:`expo.buyers.access` allows and nothing else — one delegation's leader cannot read or
change another's delegation or members (404), a buyer sees only themselves, an exhibitor is refused (403); passport
data is in an answer only when asked for with ``?include=passport``, and then every member read is in the audit
log; bodies are validated like the pages' forms (422 with fields), partial updates keep what is left out, and
hypothesis-generated bodies never cause a 5xx nor leave anything half-written; and the OpenAPI document stays valid
and describes the answers the API really gives.
"""

from __future__ import annotations

import itertools
from datetime import date

import jsonschema
import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from openapi_spec_validator import validate as validate_openapi
from sqlalchemy import func, select

from expo.audit import AuditEntry
from expo.auth.models import Role, User
from expo.buyers.models import Buyer, BuyerStatus, Delegation, Passport
from expo.extensions import db
from expo.mail import OutboxMail
from tests.factories import user

API = "/api/v1"
ADMIN, STAFF = "admin@expo.test", "staff@expo.test"
LEADER, LEADER2 = "leader@expo.test", "leader2@expo.test"  # lead delegations 1 (RU) and 2 (VN) of the demo
BUYER = "buyer@expo.test"  # Maria Santos, on her own
EXHIBITOR = "exhibitor@expo.test"
FUZZ = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                      HealthCheck.too_slow])
_serial = itertools.count(1)

VALID_MEMBER = {"name": "Pavel Orlov", "name_native": "Павел Орлов", "company": "Obuv Trade", "job_title": "Buyer",
                "email": "", "phone": "+7 495 123 4567", "passport_number": "751234567",
                "passport_expires_on": "2031-05-01", "nationality": "RU", "date_of_birth": "1980-02-03"}


# --- helpers -----------------------------------------------------------------------------------------------------------

@pytest.fixture
def h(app):
    """``h(email)`` → bearer headers for that demo account. The tokens of the demo accounts are made up front, in one
    transaction: making one writes an audit entry, which would blur the tests' before-and-after comparisons."""
    from expo.auth.services import create_api_token

    with app.app_context():
        made = {email: {"Authorization": f"Bearer {create_api_token(user(email), 'tests')[1]}"}
                for email in (ADMIN, STAFF, LEADER, LEADER2, BUYER, EXHIBITOR, "gate@expo.test")}
        db.session.commit()

    def headers(email: str) -> dict[str, str]:
        if email not in made:
            with app.app_context():
                made[email] = {"Authorization": f"Bearer {create_api_token(user(email), 'tests')[1]}"}
                db.session.commit()
        return made[email]

    return headers


def member_ids(app, delegation_id: int) -> list[int]:
    with app.app_context():
        return list(db.session.scalars(select(Buyer.id).where(Buyer.delegation_id == delegation_id)
                                       .order_by(Buyer.id)))


def passport_reads(app) -> list[AuditEntry]:
    with app.app_context():
        rows = list(db.session.scalars(select(AuditEntry).where(AuditEntry.action == "passport_read")
                                       .order_by(AuditEntry.id)))
        db.session.expunge_all()
        return rows


def snapshot(app) -> dict:
    """Everything the buyer and delegation calls could change: whole rows, and how many there are of each kind."""
    with app.app_context():
        def rows(model, key):
            return [tuple(getattr(r, c.key) for c in model.__table__.columns if c.key not in ("updated_at",))
                    for r in db.session.scalars(select(model).order_by(key))]

        return {"buyers": rows(Buyer, Buyer.id), "passports": rows(Passport, Passport.buyer_id),
                "delegations": rows(Delegation, Delegation.id),
                "users": db.session.scalar(select(func.count(User.id))),
                "audit": db.session.scalar(select(func.count(AuditEntry.id))),
                "mail": db.session.scalar(select(func.count(OutboxMail.id)))}


def assert_refusal(r, *statuses: int) -> dict:
    assert r.status_code in (statuses or (400, 403, 404, 409, 422)), (r.status_code, r.get_data(as_text=True)[:400])
    assert r.is_json, r.get_data(as_text=True)[:300]
    body = r.get_json()
    assert isinstance(body["error"], str) and body["error"]
    assert isinstance(body["message"], str) and body["message"].strip()
    return body


# --- delegations ---------------------------------------------------------------------------------------------------------

def test_organizer_lists_filters_and_pages_delegations(client, h):
    r = client.get(f"{API}/delegations", headers=h(STAFF))
    assert r.status_code == 200
    body = r.get_json()
    assert body["total"] == 2 and [d["id"] for d in body["items"]] == [1, 2]  # by arrival, then name
    first = body["items"][0]
    assert first["name"] == "Russian Footwear Retailers Delegation" and first["country"] == "RU"
    assert first["leader"]["email"] == LEADER and first["members"] >= 5 and first["categories"]
    assert isinstance(first["notes"], str)  # the organizer's notes are the organizer's
    vn = client.get(f"{API}/delegations", query_string={"country": "VN"}, headers=h(STAFF)).get_json()
    assert [d["id"] for d in vn["items"]] == [2] and vn["items"][0]["leader"]["email"] == LEADER2
    searched = client.get(f"{API}/delegations", query_string={"q": "nguyen van"}, headers=h(STAFF)).get_json()
    assert [d["id"] for d in searched["items"]] == [2]  # the leader's name
    paged = client.get(f"{API}/delegations", query_string={"per_page": 1, "page": 2, "sort": "name"},
                       headers=h(ADMIN)).get_json()
    assert (paged["page"], paged["pages"], paged["total"], len(paged["items"])) == (2, 2, 2, 1)
    assert paged["items"][0]["name"].startswith("Vietnam")
    for bad in ({"sort": "passport"}, {"per_page": 0}, {"arrival_from": "yesterday"}, {"country": "XX"}):
        assert_refusal(client.get(f"{API}/delegations", query_string=bad, headers=h(STAFF)), 422)


def test_a_leader_lists_and_reads_only_their_own_delegation(client, h):
    mine = client.get(f"{API}/delegations", headers=h(LEADER)).get_json()
    assert [d["id"] for d in mine["items"]] == [1] and mine["total"] == 1
    assert mine["items"][0]["notes"] is None  # not the leader's to read
    assert [d["id"] for d in client.get(f"{API}/delegations", headers=h(LEADER2)).get_json()["items"]] == [2]
    assert client.get(f"{API}/delegations/1", headers=h(LEADER)).status_code == 200
    assert_refusal(client.get(f"{API}/delegations/2", headers=h(LEADER)), 404)
    assert_refusal(client.get(f"{API}/delegations/1", headers=h(LEADER2)), 404)
    assert_refusal(client.get(f"{API}/delegations/999999", headers=h(ADMIN)), 404)
    for email in (BUYER, EXHIBITOR, "gate@expo.test"):
        assert_refusal(client.get(f"{API}/delegations", headers=h(email)), 403)
        assert_refusal(client.get(f"{API}/delegations/1", headers=h(email)), 403)
        assert_refusal(client.get(f"{API}/delegations/1/members", headers=h(email)), 403)


def test_leader_changes_travel_details_but_not_what_is_the_organizers(app, client, h):
    r = client.patch(f"{API}/delegations/1", json={"arrival_flight": "su 220", "hotel": "晋江万达嘉华酒店"},
                     headers=h(LEADER))
    assert r.status_code == 200, r.get_json()
    body = r.get_json()
    assert body["arrival_flight"] == "SU 220" and body["hotel"] == "晋江万达嘉华酒店"
    assert body["name"] == "Russian Footwear Retailers Delegation"  # left out: kept
    with app.app_context():
        entry = db.session.scalars(select(AuditEntry).where(AuditEntry.action == "delegation_updated")).one()
        assert entry.actor_id == user(LEADER).id and "arrival_flight" in entry.changes
    before = snapshot(app)
    for change in ({"name": "Renamed"}, {"notes": "hello"}, {"country": "FR"}, {"leader_email": LEADER2},
                   {"leader_email": "someone.new@example.com", "leader_name": "New"}):
        body = assert_refusal(client.patch(f"{API}/delegations/1", json=change, headers=h(LEADER)), 403)
        assert body["error"] == "forbidden"
    assert snapshot(app) == before
    # The same value again is no change: allowed.
    same = client.patch(f"{API}/delegations/1", json={"name": "Russian Footwear Retailers Delegation"},
                        headers=h(LEADER))
    assert same.status_code == 200


def test_leader_cannot_change_another_leaders_delegation_or_members(app, client, h):
    other = member_ids(app, 2)
    mine = member_ids(app, 1)
    before, reads = snapshot(app), len(passport_reads(app))
    calls = [
        ("GET", "/delegations/2", None), ("PATCH", "/delegations/2", {"hotel": "Mine now"}),
        ("GET", "/delegations/2/members", None), ("GET", "/delegations/2/members?include=passport", None),
        ("POST", "/delegations/2/members", VALID_MEMBER),
        ("GET", f"/delegations/2/members/{other[0]}?include=passport", None),
        ("PATCH", f"/delegations/2/members/{other[0]}", {"phone": "+1 555 0000"}),
        ("DELETE", f"/delegations/2/members/{other[0]}", None),
        # Their member through my delegation's address: not a member of mine.
        ("GET", f"/delegations/1/members/{other[0]}?include=passport", None),
        ("PATCH", f"/delegations/1/members/{other[0]}", {"phone": "+1 555 0000"}),
        ("DELETE", f"/delegations/1/members/{other[0]}", None),
        ("GET", "/buyers/" + str(other[0]), None),
    ]
    for method, path, body in calls:
        r = client.open(API + path, method=method, json=body, headers=h(LEADER))
        assert_refusal(r, 404)
    assert snapshot(app) == before and len(passport_reads(app)) == reads
    # Control: the same calls on their own delegation work for the other leader.
    r = client.get(f"{API}/delegations/2/members/{other[0]}", headers=h(LEADER2))
    assert r.status_code == 200 and r.get_json()["id"] == other[0]
    assert client.get(f"{API}/delegations/1/members/{mine[0]}", headers=h(LEADER)).status_code == 200


def test_organizer_sets_up_a_delegation_with_a_new_leader(app, client, h):
    body = {"name": "Kenya Footwear Importers", "country": "KE", "organization": "Kenya Association of Importers",
            "arrival_date": "2027-04-18", "departure_date": "2027-04-22", "interpreter_needed": False,
            "categories": [], "leader_email": "Wanjiru.Kamau@example.co.ke", "leader_name": "Wanjiru Kamau"}
    r = client.post(f"{API}/delegations", json=body, headers=h(STAFF))
    assert r.status_code == 201, r.get_json()
    created = r.get_json()
    assert created["leader"]["email"] == "wanjiru.kamau@example.co.ke" and created["members"] == 0
    with app.app_context():
        leader = user("wanjiru.kamau@example.co.ke")
        assert leader.role == Role.DELEGATION_LEADER
        assert db.session.get(Delegation, created["id"]).leader_user_id == leader.id
        mail = db.session.scalars(select(OutboxMail).where(OutboxMail.recipient == leader.email)).one()
        assert "http" in mail.body and "Kenya Footwear Importers" in mail.body
    # The new leader reaches it (the organizer can hand them a token).
    assert client.get(f"{API}/delegations/{created['id']}", headers=h("wanjiru.kamau@example.co.ke")).status_code \
        == 200
    assert_refusal(client.post(f"{API}/delegations", json=body, headers=h(LEADER)), 403)


@pytest.mark.parametrize("change, field", [
    ({"name": ""}, "name"), ({"country": "XX"}, "country"), ({"country": None}, "country"),
    ({"departure_date": "2027-04-10"}, "departure_date"), ({"arrival_date": "2027-13-01"}, "arrival_date"),
    ({"arrival_date": "2028-01-01"}, "arrival_date"), ({"categories": [999999]}, "categories"),
    ({"interpreter_needed": True, "interpreter_language": ""}, "interpreter_language"),
    ({"leader_email": "not-an-address"}, "leader_email"),
    ({"leader_email": "someone@example.com"}, "leader_name"),  # a new account needs a name
    ({"leader_email": "exhibitor@expo.test"}, "leader_email"),  # an exhibitor's account cannot lead
    ({"hotel": ["a", "b"]}, "hotel"), ({"name": {"x": 1}}, "name"), ({"notes": "a\x00b"}, "notes"),
])
def test_bad_delegation_bodies_are_refused_with_the_field_and_change_nothing(app, client, h, change, field):
    base = {"name": "Mexico Buyers", "country": "MX", "arrival_date": "2027-04-18", "departure_date": "2027-04-21"}
    before = snapshot(app)
    body = assert_refusal(client.post(f"{API}/delegations", json={**base, **change}, headers=h(ADMIN)), 400, 422)
    assert field in body.get("fields", {}), body
    body = assert_refusal(client.patch(f"{API}/delegations/1", json=change, headers=h(ADMIN)), 400, 422)
    assert field in body.get("fields", {}), body
    assert snapshot(app) == before


def test_organizer_changes_the_leader_and_notes(app, client, h):
    r = client.patch(f"{API}/delegations/2", json={"leader_email": LEADER, "notes": "VIP 贵宾"}, headers=h(ADMIN))
    assert r.status_code == 200, r.get_json()
    assert r.get_json()["leader"]["email"] == LEADER and r.get_json()["notes"] == "VIP 贵宾"
    assert [d["id"] for d in client.get(f"{API}/delegations", headers=h(LEADER)).get_json()["items"]] == [1, 2]
    assert_refusal(client.get(f"{API}/delegations/2", headers=h(LEADER2)), 404)
    assert client.patch(f"{API}/delegations/2", json={"leader_email": None}, headers=h(ADMIN)).get_json()["leader"] \
        is None


# --- members -------------------------------------------------------------------------------------------------------------

def test_members_come_without_passport_data_unless_asked_and_each_read_is_audited(app, client, h):
    ids = member_ids(app, 1)
    plain = client.get(f"{API}/delegations/1/members", headers=h(LEADER)).get_json()
    assert sorted(m["id"] for m in plain) == ids and all(m["passport"] is None for m in plain)
    assert passport_reads(app) == []
    one = client.get(f"{API}/delegations/1/members/{ids[0]}", headers=h(LEADER)).get_json()
    assert one["passport"] is None and one["name"] == "Ivan Petrov" and one["name_native"] == "Иван Петров"
    assert passport_reads(app) == []

    full = client.get(f"{API}/delegations/1/members", query_string={"include": "passport"},
                      headers=h(LEADER)).get_json()
    with app.app_context():
        stored = {p.buyer_id: p for p in db.session.scalars(select(Passport).where(Passport.buyer_id.in_(ids)))}
        for m in full:
            p = stored[m["id"]]
            assert m["passport"] == {"number": p.number, "expires_on": p.expires_on.isoformat(),
                                     "nationality": p.nationality, "date_of_birth": p.date_of_birth.isoformat()}
    reads = passport_reads(app)
    assert sorted(e.object_id for e in reads) == ids
    leader_id = full and reads[0].actor_id
    assert all(e.changes["purpose"] == "api" and e.changes["delegation_id"] == 1 and e.actor_id == leader_id
               for e in reads)
    client.get(f"{API}/delegations/1/members/{ids[1]}?include=passport", headers=h(ADMIN))
    last = passport_reads(app)[-1]
    assert last.object_id == ids[1] and last.actor_id == user_id(app, ADMIN)
    assert_refusal(client.get(f"{API}/delegations/1/members?include=everything", headers=h(LEADER)), 422)
    assert len(passport_reads(app)) == len(ids) + 1


def user_id(app, email: str) -> int:
    with app.app_context():
        return user(email).id


def test_leader_adds_changes_and_removes_a_member(app, client, h):
    r = client.post(f"{API}/delegations/1/members", json=VALID_MEMBER, headers=h(LEADER))
    assert r.status_code == 201, r.get_json()
    added = r.get_json()
    assert added["passport"] is None and added["country"] == "RU" and added["delegation_id"] == 1
    assert added["name_native"] == "Павел Орлов" and added["status"] == BuyerStatus.REGISTERED
    with app.app_context():
        p = db.session.get(Passport, added["id"])
        assert (p.number, p.expires_on, p.nationality) == ("751234567", date(2031, 5, 1), "RU")

    # A partial change keeps the passport data it leaves out.
    r = client.patch(f"{API}/delegations/1/members/{added['id']}", json={"phone": "+7 495 000 0000"},
                     headers=h(LEADER))
    assert r.status_code == 200, r.get_json()
    assert r.get_json()["phone"] == "+7 495 000 0000" and r.get_json()["name"] == "Pavel Orlov"
    r = client.patch(f"{API}/delegations/1/members/{added['id']}", json={"passport_number": "75 999-9999"},
                     headers=h(LEADER))
    assert r.status_code == 200, r.get_json()
    with app.app_context():
        p = db.session.get(Passport, added["id"])
        assert (p.number, p.expires_on, p.date_of_birth) == ("759999999", date(2031, 5, 1), date(1980, 2, 3))
        entry = db.session.scalars(select(AuditEntry).where(AuditEntry.action == "delegation_member_updated")
                                   .order_by(AuditEntry.id.desc())).first()
        assert entry.changes["passport_number"] == ["***", "***"]  # the log never holds the number
    got = client.get(f"{API}/delegations/1/members/{added['id']}?include=passport", headers=h(LEADER)).get_json()
    assert got["passport"]["number"] == "759999999"

    assert client.delete(f"{API}/delegations/1/members/{added['id']}", headers=h(LEADER)).status_code == 204
    with app.app_context():
        assert db.session.get(Buyer, added["id"]) is None and db.session.get(Passport, added["id"]) is None
    assert_refusal(client.get(f"{API}/delegations/1/members/{added['id']}", headers=h(LEADER)), 404)


@pytest.mark.parametrize("change, field", [
    ({"name": ""}, "name"), ({"name": "Павел Орлов"}, "name"), ({"passport_number": ""}, "passport_number"),
    ({"passport_number": "75#12"}, "passport_number"), ({"passport_expires_on": "2027-06-01"}, "passport_expires_on"),
    ({"passport_expires_on": "someday"}, "passport_expires_on"), ({"nationality": "XX"}, "nationality"),
    ({"date_of_birth": "2090-01-01"}, "date_of_birth"), ({"email": "nope"}, "email"), ({"phone": "call me"}, "phone"),
    ({"name": ["a"]}, "name"), ({"passport_number": True}, "passport_number"),
])
def test_bad_member_bodies_are_refused_with_the_field_and_change_nothing(app, client, h, change, field):
    existing = member_ids(app, 1)[1]
    before = snapshot(app)
    body = assert_refusal(client.post(f"{API}/delegations/1/members", json={**VALID_MEMBER, **change},
                                      headers=h(LEADER)), 422)
    assert field in body["fields"], body
    body = assert_refusal(client.patch(f"{API}/delegations/1/members/{existing}", json=change, headers=h(LEADER)),
                          422)
    assert field in body["fields"], body
    after = snapshot(app)
    # A refused change still read the stored passport to merge the body over it: only those audit entries differ.
    assert {k: v for k, v in after.items() if k != "audit"} == {k: v for k, v in before.items() if k != "audit"}


def test_a_passport_number_twice_in_one_delegation_is_refused(app, client, h):
    ids = member_ids(app, 1)
    with app.app_context():
        taken = db.session.get(Passport, ids[0]).number
    body = assert_refusal(client.post(f"{API}/delegations/1/members", json={**VALID_MEMBER, "passport_number": taken},
                                      headers=h(LEADER)), 422)
    assert "passport_number" in body["fields"] and "Ivan Petrov" in body["fields"]["passport_number"][0]


def test_bodies_that_are_not_json_objects(client, h):
    for data in ("[1, 2]", "null", "\"text\"", "{bad json"):
        r = client.post(f"{API}/delegations/1/members", data=data, content_type="application/json",
                        headers=h(LEADER))
        assert assert_refusal(r, 400)["error"] == "not_json"


# --- buyers ------------------------------------------------------------------------------------------------------------

def buyer_id_of(app, email: str = BUYER) -> int:
    with app.app_context():
        return db.session.scalar(select(Buyer.id).where(Buyer.user_id == user(email).id))


def solo_buyer_ids(app) -> list[int]:
    with app.app_context():
        return list(db.session.scalars(select(Buyer.id).where(Buyer.delegation_id.is_(None), Buyer.user_id.is_(None))
                                       .order_by(Buyer.id)))


def all_buyers(app) -> list[dict]:
    with app.app_context():
        return [{"id": b.id, "name": b.name, "name_native": b.name_native, "company": b.company, "email": b.email,
                 "country": b.country, "hosted_status": b.hosted_status, "status": b.status,
                 "delegation_id": b.delegation_id, "categories": {c.id for c in b.categories}}
                for b in db.session.scalars(select(Buyer).order_by(Buyer.id))]


def test_organizer_lists_buyers_as_the_organizer_page_does(app, client, h):
    from expo.buyers.queries import BuyerFilter, buyer_page
    from expo.exhibitors.services import current_expo

    everyone = all_buyers(app)
    body = client.get(f"{API}/buyers", query_string={"per_page": 200}, headers=h(STAFF)).get_json()
    assert body["total"] == len(everyone) == 40 and body["countries"] == len({b["country"] for b in everyone})
    assert [b["name"] for b in body["items"]] == sorted(b["name"] for b in everyone)  # by name, then id
    cases = [
        ({"country": "RU"}, lambda b: b["country"] == "RU"),
        ({"q": "santos"}, lambda b: any("santos" in b[k].lower() for k in ("name", "name_native", "company",
                                                                           "email"))),
        ({"q": "Иван"}, lambda b: "Иван" in b["name_native"]),
        ({"delegation": "delegation"}, lambda b: b["delegation_id"] is not None),
        ({"delegation": "independent", "country": "BR"},
         lambda b: b["delegation_id"] is None and b["country"] == "BR"),
        ({"hosted_status": "none"}, lambda b: b["hosted_status"] == "none"),
    ]
    for params, keep in cases:
        want = [b["id"] for b in everyone if keep(b)]
        got = client.get(f"{API}/buyers", query_string={**params, "per_page": 200, "sort": "newest", "desc": "y"},
                         headers=h(STAFF)).get_json()
        assert [b["id"] for b in got["items"]] == sorted(want), params  # "newest" reversed: oldest first
        assert got["total"] == len(want)
    # The same query as the organizer's page (expo.buyers.queries.buyer_page), page by page.
    for params, flt in (({"sort": "company", "per_page": 7, "page": 3},
                         BuyerFilter(sort="company")),
                        ({"region": "151", "per_page": 5}, BuyerFilter(region="151"))):
        got = client.get(f"{API}/buyers", query_string=params, headers=h(ADMIN)).get_json()
        with app.app_context():
            want = buyer_page(current_expo(), flt, params.get("page", 1), params["per_page"])
            assert [b["id"] for b in got["items"]] == [b.id for b in want.items]
            assert (got["total"], got["page"], got["countries"]) == (want.total, want.page, want.countries)
    for bad in ({"sort": "passport"}, {"country": "XX"}, {"per_page": 500}, {"category_id": "x"}, {"page": "-1"}):
        assert_refusal(client.get(f"{API}/buyers", query_string=bad, headers=h(STAFF)), 422)


def test_only_the_organizer_lists_buyers(client, h):
    for email in (LEADER, BUYER, EXHIBITOR, "gate@expo.test"):
        assert_refusal(client.get(f"{API}/buyers", headers=h(email)), 403)
    assert client.get(f"{API}/buyers").status_code == 401


def test_a_buyer_sees_only_themselves_and_a_leader_only_their_members(app, client, h):
    maria = buyer_id_of(app)
    members_1, members_2 = member_ids(app, 1), member_ids(app, 2)
    others = [i for i in solo_buyer_ids(app) if i != maria]
    me = client.get(f"{API}/buyers/{maria}", headers=h(BUYER))
    assert me.status_code == 200 and me.get_json()["name"] == "Maria Santos"
    assert me.get_json()["hosted_actions"] == ["apply"]
    for other in (members_1[0], members_2[0], others[0]):
        assert_refusal(client.get(f"{API}/buyers/{other}", headers=h(BUYER)), 404)
    assert client.get(f"{API}/buyers/{members_1[1]}", headers=h(LEADER)).status_code == 200
    assert client.get(f"{API}/buyers/{members_2[1]}", headers=h(LEADER2)).status_code == 200
    for other in (members_2[0], maria, others[0]):
        assert_refusal(client.get(f"{API}/buyers/{other}", headers=h(LEADER)), 404)
    assert_refusal(client.get(f"{API}/buyers/{members_1[0]}", headers=h(LEADER2)), 404)
    assert_refusal(client.get(f"{API}/buyers/{maria}", headers=h(EXHIBITOR)), 403)
    assert_refusal(client.get(f"{API}/buyers/999999", headers=h(ADMIN)), 404)
    assert client.get(f"{API}/buyers/{others[0]}", headers=h(STAFF)).status_code == 200


def test_a_buyer_changes_their_own_profile_partially(app, client, h):
    maria = buyer_id_of(app)
    r = client.patch(f"{API}/buyers/{maria}", json={"job_title": "Head of purchasing", "categories": [2, 3],
                                                     "name_native": "玛丽亚"}, headers=h(BUYER))
    assert r.status_code == 200, r.get_json()
    body = r.get_json()
    assert body["job_title"] == "Head of purchasing" and body["categories"] == [2, 3]
    assert body["name_native"] == "玛丽亚" and body["name"] == "Maria Santos" and body["country"] == "BR"
    with app.app_context():
        entry = db.session.scalars(select(AuditEntry).where(AuditEntry.action == "buyer_profile_updated")).one()
        assert entry.object_id == maria and set(entry.changes) == {"job_title", "categories", "name_native"}
    assert client.patch(f"{API}/buyers/{maria}", json={"contact_consent": False}, headers=h(BUYER)) \
        .get_json()["contact_consent"] is False
    before = snapshot(app)
    for change, field in (({"name": "Мария"}, "name"), ({"country": "XX"}, "country"), ({"company": ""}, "company"),
                          ({"website": "not a site"}, "website"), ({"categories": [99999]}, "categories"),
                          ({"purchase_volume": "lots"}, "purchase_volume"), ({"name": ["a"]}, "name")):
        body = assert_refusal(client.patch(f"{API}/buyers/{maria}", json=change, headers=h(BUYER)), 422)
        assert field in body["fields"], body
    assert snapshot(app) == before


def test_who_may_change_a_buyer(app, client, h):
    maria, member = buyer_id_of(app), member_ids(app, 1)[1]
    before = snapshot(app)
    # The leader sees the member's profile but changes it through the delegation's member resource.
    body = assert_refusal(client.patch(f"{API}/buyers/{member}", json={"job_title": "x"}, headers=h(LEADER)), 403)
    assert body["error"] == "forbidden"
    assert_refusal(client.patch(f"{API}/buyers/{member}", json={"job_title": "x"}, headers=h(BUYER)), 404)
    assert_refusal(client.patch(f"{API}/buyers/{maria}", json={"job_title": "x"}, headers=h(LEADER)), 404)
    assert_refusal(client.patch(f"{API}/buyers/{maria}", json={"job_title": "x"}, headers=h(EXHIBITOR)), 403)
    assert snapshot(app) == before
    r = client.patch(f"{API}/buyers/{member}", json={"job_title": "Director"}, headers=h(STAFF))
    assert r.status_code == 200 and r.get_json()["job_title"] == "Director"


def test_organizer_decides_on_the_hosted_buyer_programme(app, client, h):
    maria = buyer_id_of(app)
    body = assert_refusal(client.post(f"{API}/buyers/{maria}/hosted", json={"decision": "decline"},
                                      headers=h(ADMIN)), 409)
    assert body["error"] == "bad_transition"
    r = client.post(f"{API}/buyers/{maria}/hosted", json={"decision": "approve"}, headers=h(ADMIN))
    assert r.status_code == 200, r.get_json()
    got = r.get_json()
    assert (got["hosted_status"], got["hosted_hotel_nights"], got["hosted_transfers"]) == ("approved", 3, True)
    assert got["hosted_decided_at"] and got["hosted_actions"] == ["approve", "decline"]
    # A second approval changes the benefits; what it leaves out stays as approved.
    got = client.post(f"{API}/buyers/{maria}/hosted", json={"decision": "approve", "hotel_nights": 4,
                                                             "note": "欢迎 Welcome"}, headers=h(STAFF)).get_json()
    assert (got["hosted_hotel_nights"], got["hosted_transfers"], got["hosted_note"]) == (4, True, "欢迎 Welcome")
    got = client.post(f"{API}/buyers/{maria}/hosted", json={"decision": "approve", "transfers": False},
                      headers=h(STAFF)).get_json()
    assert (got["hosted_hotel_nights"], got["hosted_transfers"]) == (4, False)
    with app.app_context():
        actions = [e.action for e in db.session.scalars(select(AuditEntry).where(
            AuditEntry.object_type == "Buyer", AuditEntry.object_id == maria).order_by(AuditEntry.id))]
        assert actions.count("hosted_approved") == 3
        assert db.session.scalar(select(func.count(OutboxMail.id)).where(
            OutboxMail.recipient == BUYER)) == 3  # told each time
    before = snapshot(app)
    for body, status in (({"decision": "maybe"}, 422), ({"decision": "approve", "hotel_nights": 15}, 422),
                         ({"decision": "approve", "hotel_nights": "three"}, 422), ({}, 422), ({"note": 5}, 422)):
        assert_refusal(client.post(f"{API}/buyers/{maria}/hosted", json=body, headers=h(ADMIN)), status)
    for email, status in ((BUYER, 403), (LEADER, 403), (EXHIBITOR, 403)):
        assert_refusal(client.post(f"{API}/buyers/{maria}/hosted", json={"decision": "decline"},
                                   headers=h(email)), status)
    assert snapshot(app) == before
    declined = client.post(f"{API}/buyers/{maria}/hosted", json={"decision": "decline", "note": "Full"},
                           headers=h(ADMIN)).get_json()
    assert (declined["hosted_status"], declined["hosted_hotel_nights"], declined["hosted_transfers"]) == \
        ("declined", 0, False)


# --- hypothesis: hostile bodies ------------------------------------------------------------------------------------------

nasty_text = st.one_of(
    st.text(max_size=30),
    st.sampled_from(["\x00", "a\x00b", "\u202eevil", "🙂👟", "ＡＢＣ１２３", "' OR 1=1 --", "<script>x</script>", "%", "_",
                     "\\", "   ", "\r\n", "null", "İİİ", "ß" * 60, "陈静", "Иван Петров", "Nguyễn Văn An"]),
    st.builds(lambda s, n: s * n, st.text(min_size=1, max_size=3), st.integers(60, 3000)),
)
json_scalars = st.none() | st.booleans() | st.integers() | st.integers(-10**30, 10**30) | st.floats() | nasty_text \
    | st.sampled_from(["2031-05-01", "2027-04-18", "1900-01-01", "2027-02-30", "RU", "XX", "ru", "751234567", "y"]) \
    | st.text(st.characters(categories=["Cs"]), min_size=1, max_size=2)
json_values = st.recursive(json_scalars, lambda inner: st.lists(inner, max_size=4) |
                           st.dictionaries(st.text(max_size=8), inner, max_size=4), max_leaves=8)


def bodies(valid: dict):
    """A valid body with a few fields replaced or left out; hostile text in its fields; any JSON at all."""
    fields = sorted(valid)
    broken = st.builds(lambda over, drop: {k: v for k, v in {**valid, **over}.items() if k not in drop},
                       st.dictionaries(st.sampled_from(fields), json_values, min_size=1, max_size=3),
                       st.sets(st.sampled_from(fields), max_size=2))
    hostile = st.builds(lambda over: {**valid, **over},
                        st.dictionaries(st.sampled_from(fields), nasty_text, min_size=1, max_size=3))
    return st.one_of(broken, hostile, st.fixed_dictionaries({}, optional={k: json_values for k in fields}),
                     json_values)


def rows_without_audit(app) -> dict:
    return {k: v for k, v in snapshot(app).items() if k != "audit"}


def check_write(app, r, before: dict, success: int, *, reads_audited: bool = False) -> None:
    """A call either succeeds or is a JSON 4xx that leaves every row as it was."""
    event(f"status {r.status_code}")
    if r.status_code == success:
        return
    assert_refusal(r)
    after = snapshot(app)
    if reads_audited:  # a PATCH reads the stored passport (an audited read) before it validates
        after.pop("audit"), before.pop("audit")
    assert after == before


@FUZZ
@given(body=bodies(VALID_MEMBER))
def test_fuzz_member_post(app, client, h, body):
    headers = h(LEADER)
    if isinstance(body, dict) and body.get("passport_number") == VALID_MEMBER["passport_number"]:
        body = {**body, "passport_number": f"FZ{next(_serial):07d}"}  # else only the first could succeed
    before = snapshot(app)
    r = client.post(f"{API}/delegations/1/members", json=body, headers=headers)
    check_write(app, r, before, 201)
    if r.status_code == 201:
        after = snapshot(app)
        assert len(after["buyers"]) == len(before["buyers"]) + 1
        assert len(after["passports"]) == len(before["passports"]) + 1  # the member and the passport together
        assert r.get_json()["delegation_id"] == 1


@FUZZ
@given(body=bodies({k: VALID_MEMBER[k] for k in ("name", "phone", "passport_number", "passport_expires_on",
                                                  "nationality", "date_of_birth", "email")}))
def test_fuzz_member_patch(app, client, h, body):
    headers = h(LEADER)
    member_id = member_ids(app, 1)[2]
    before = snapshot(app)
    r = client.patch(f"{API}/delegations/1/members/{member_id}", json=body, headers=headers)
    check_write(app, r, before, 200, reads_audited=True)
    if r.status_code == 200:
        assert r.get_json() == client.get(f"{API}/delegations/1/members/{member_id}", headers=headers).get_json()


DELEGATION_BODY = {"name": "Fuzz Delegation", "country": "BR", "organization": "Fuzz Association",
                   "arrival_date": "2027-04-18", "departure_date": "2027-04-22", "arrival_flight": "CZ 123",
                   "hotel": "Fuzz Hotel", "interpreter_needed": True, "interpreter_language": "Portuguese",
                   "categories": [1, 2], "notes": "fuzz", "leader_email": "", "leader_name": ""}


@FUZZ
@given(body=bodies(DELEGATION_BODY))
def test_fuzz_delegation_post(app, client, h, body):
    headers = h(STAFF)
    if isinstance(body, dict) and isinstance(body.get("leader_email"), str) and "@" in body["leader_email"]:
        body = {**body, "leader_email": f"fuzz{next(_serial)}@example.com"}
    before = snapshot(app)
    r = client.post(f"{API}/delegations", json=body, headers=headers)
    check_write(app, r, before, 201)
    if r.status_code == 201:
        assert len(snapshot(app)["delegations"]) == len(before["delegations"]) + 1


@FUZZ
@given(body=bodies({k: DELEGATION_BODY[k] for k in ("arrival_date", "departure_date", "arrival_flight", "hotel",
                                                      "interpreter_needed", "interpreter_language", "categories",
                                                      "name", "notes")}))
def test_fuzz_delegation_patch_by_the_leader(app, client, h, body):
    headers = h(LEADER)
    before = snapshot(app)
    r = client.patch(f"{API}/delegations/1", json=body, headers=headers)
    check_write(app, r, before, 200)
    if r.status_code == 200:
        assert r.get_json()["name"] == "Russian Footwear Retailers Delegation"  # never the leader's to change
        assert r.get_json() == client.get(f"{API}/delegations/1", headers=headers).get_json()


@FUZZ
@given(params=st.dictionaries(st.sampled_from(["q", "country", "arrival_from", "arrival_to", "interpreter", "sort",
                                               "desc", "page", "per_page", "include"]),
                              nasty_text | st.sampled_from(["RU", "2027-04-18", "yes", "name", "passport", "0"]),
                              max_size=4))
def test_fuzz_list_parameters(client, h, params):
    for path in ("/delegations", "/delegations/1/members"):
        r = client.get(API + path, query_string=params, headers=h(ADMIN))
        event(f"status {r.status_code}")
        if r.status_code != 200:
            assert_refusal(r, 422)


PROFILE = {"name": "Maria Santos", "name_native": "玛丽亚", "company": "Urban Retail", "country": "BR",
           "job_title": "Buyer", "phone": "+55 11 1234 5678", "website": "https://urban.example.com",
           "purchase_volume": "1m_10m", "products_sought": "Running shoes", "contact_consent": True,
           "categories": [2, 3]}


@FUZZ
@given(body=bodies(PROFILE))
def test_fuzz_buyer_profile_patch(app, client, h, body):
    headers = h(BUYER)
    maria = buyer_id_of(app)
    before = snapshot(app)
    r = client.patch(f"{API}/buyers/{maria}", json=body, headers=headers)
    check_write(app, r, before, 200)
    if r.status_code == 200:
        assert r.get_json() == client.get(f"{API}/buyers/{maria}", headers=headers).get_json()


@FUZZ
@given(body=bodies({"decision": "approve", "hotel_nights": 3, "transfers": True, "note": "Welcome"}))
def test_fuzz_hosted_decision(app, client, h, body):
    target = solo_buyer_ids(app)[3]
    before = snapshot(app)
    r = client.post(f"{API}/buyers/{target}/hosted", json=body, headers=h(ADMIN))
    check_write(app, r, before, 200)
    if r.status_code == 200:
        assert r.get_json()["hosted_status"] in ("approved", "declined")


@FUZZ
@given(params=st.dictionaries(st.sampled_from(["q", "country", "region", "category_id", "status", "hosted_status",
                                               "delegation", "purchase_volume", "sort", "desc", "page",
                                               "per_page"]),
                              nasty_text | st.sampled_from(["RU", "151", "ZZ", "3", "0", "-1", "registered",
                                                            "approved", "delegation", "name", "y", "9" * 30]),
                              max_size=4))
def test_fuzz_buyer_list_parameters(client, h, params):
    r = client.get(f"{API}/buyers", query_string=params, headers=h(STAFF))
    event(f"status {r.status_code}")
    if r.status_code != 200:
        assert_refusal(r, 422)


# --- the OpenAPI document ------------------------------------------------------------------------------------------------

@pytest.fixture
def spec(client):
    r = client.get(f"{API}/openapi.json")
    assert r.status_code == 200
    validate_openapi(r.get_json())
    return r.get_json()


def check_against_spec(spec: dict, template: str, method: str, r) -> None:
    responses = spec["paths"][API + template][method]["responses"]
    assert str(r.status_code) in responses, (template, method, r.status_code, sorted(responses))
    content = responses[str(r.status_code)].get("content")
    if content is None:
        assert not r.get_data(), (template, method)
        return
    schema = content["application/json"]["schema"]
    if "$ref" in schema:
        schema = {"$ref": schema["$ref"], "components": spec["components"]}
    jsonschema.validate(r.get_json(), schema, cls=jsonschema.Draft202012Validator)


def test_openapi_documents_the_delegation_resources_as_they_answer(app, client, h, spec):
    from expo.buyers.delegation_forms import BoardFilterForm, MemberForm, OrganizerDelegationForm
    from tests.test_api import _form_fields

    ops = {(p, m) for p, methods in spec["paths"].items() for m in methods}
    wanted = {("/delegations", "get"), ("/delegations", "post"), ("/delegations/{delegation_id}", "get"),
              ("/delegations/{delegation_id}", "patch"), ("/delegations/{delegation_id}/members", "get"),
              ("/delegations/{delegation_id}/members", "post"),
              ("/delegations/{delegation_id}/members/{buyer_id}", "get"),
              ("/delegations/{delegation_id}/members/{buyer_id}", "patch"),
              ("/delegations/{delegation_id}/members/{buyer_id}", "delete")}
    assert {(API + p, m) for p, m in wanted} <= ops
    body = spec["paths"][f"{API}/delegations/{{delegation_id}}/members"]["post"]["requestBody"]
    assert set(body["content"]["application/json"]["schema"]["properties"]) == _form_fields(MemberForm) - {"csrf_token"}
    body = spec["paths"][f"{API}/delegations"]["post"]["requestBody"]
    assert set(body["content"]["application/json"]["schema"]["properties"]) == \
        _form_fields(OrganizerDelegationForm) - {"csrf_token"}
    query = {p["name"] for p in spec["paths"][f"{API}/delegations"]["get"]["parameters"] if p["in"] == "query"}
    assert query == _form_fields(BoardFilterForm)
    member = member_ids(app, 1)[0]
    calls = [
        ("/delegations", "get", client.get(f"{API}/delegations", headers=h(ADMIN))),
        ("/delegations", "get", client.get(f"{API}/delegations", headers=h(LEADER))),
        ("/delegations", "get", client.get(f"{API}/delegations?sort=nonsense", headers=h(ADMIN))),
        ("/delegations", "get", client.get(f"{API}/delegations", headers=h(BUYER))),
        ("/delegations", "get", client.get(f"{API}/delegations")),
        ("/delegations", "post", client.post(f"{API}/delegations", json={"name": "X", "country": "FR"},
                                             headers=h(ADMIN))),
        ("/delegations", "post", client.post(f"{API}/delegations", json={"name": ""}, headers=h(ADMIN))),
        ("/delegations/{delegation_id}", "get", client.get(f"{API}/delegations/1", headers=h(LEADER))),
        ("/delegations/{delegation_id}", "get", client.get(f"{API}/delegations/2", headers=h(LEADER))),
        ("/delegations/{delegation_id}", "patch", client.patch(f"{API}/delegations/1", json={"hotel": "H"},
                                                               headers=h(LEADER))),
        ("/delegations/{delegation_id}", "patch", client.patch(f"{API}/delegations/1", json={"name": "N"},
                                                               headers=h(LEADER))),
        ("/delegations/{delegation_id}/members", "get", client.get(f"{API}/delegations/1/members",
                                                                   headers=h(LEADER))),
        ("/delegations/{delegation_id}/members", "get", client.get(f"{API}/delegations/1/members?include=passport",
                                                                   headers=h(ADMIN))),
        ("/delegations/{delegation_id}/members", "post", client.post(f"{API}/delegations/1/members",
                                                                     json=VALID_MEMBER, headers=h(LEADER))),
        ("/delegations/{delegation_id}/members", "post", client.post(f"{API}/delegations/1/members",
                                                                     json={}, headers=h(LEADER))),
        ("/delegations/{delegation_id}/members/{buyer_id}", "get",
         client.get(f"{API}/delegations/1/members/{member}?include=passport", headers=h(LEADER))),
        ("/delegations/{delegation_id}/members/{buyer_id}", "patch",
         client.patch(f"{API}/delegations/1/members/{member}", json={"job_title": "Head of purchasing"},
                      headers=h(LEADER))),
        ("/delegations/{delegation_id}/members/{buyer_id}", "delete",
         client.delete(f"{API}/delegations/1/members/{member}", headers=h(LEADER))),
    ]
    statuses = set()
    for template, method, r in calls:
        assert r.status_code < 500
        check_against_spec(spec, template, method, r)
        statuses.add(r.status_code)
    assert {200, 201, 204, 401, 403, 404, 422} <= statuses


def test_openapi_documents_the_buyer_resources_as_they_answer(app, client, h, spec):
    from expo.buyers.forms import BuyerFilterForm, BuyerProfileForm, HostedDecisionForm
    from tests.test_api import _form_fields

    for template, method, form_cls in (("/buyers/{buyer_id}", "patch", BuyerProfileForm),
                                       ("/buyers/{buyer_id}/hosted", "post", HostedDecisionForm)):
        body = spec["paths"][API + template][method]["requestBody"]["content"]["application/json"]["schema"]
        assert set(body["properties"]) == _form_fields(form_cls) - {"csrf_token"}, template
    query = {p["name"] for p in spec["paths"][f"{API}/buyers"]["get"]["parameters"] if p["in"] == "query"}
    assert query == _form_fields(BuyerFilterForm)
    maria, member = buyer_id_of(app), member_ids(app, 1)[0]
    calls = [
        ("/buyers", "get", client.get(f"{API}/buyers?q=a&per_page=5", headers=h(ADMIN))),
        ("/buyers", "get", client.get(f"{API}/buyers?sort=x", headers=h(ADMIN))),
        ("/buyers", "get", client.get(f"{API}/buyers", headers=h(BUYER))),
        ("/buyers/{buyer_id}", "get", client.get(f"{API}/buyers/{maria}", headers=h(BUYER))),
        ("/buyers/{buyer_id}", "get", client.get(f"{API}/buyers/{member}", headers=h(LEADER))),
        ("/buyers/{buyer_id}", "get", client.get(f"{API}/buyers/{member}", headers=h(BUYER))),
        ("/buyers/{buyer_id}", "patch", client.patch(f"{API}/buyers/{maria}", json={"phone": "+55 11 5555 0000"},
                                                     headers=h(BUYER))),
        ("/buyers/{buyer_id}", "patch", client.patch(f"{API}/buyers/{maria}", json={"country": "?"},
                                                     headers=h(BUYER))),
        ("/buyers/{buyer_id}", "patch", client.patch(f"{API}/buyers/{member}", json={}, headers=h(LEADER))),
        ("/buyers/{buyer_id}/hosted", "post", client.post(f"{API}/buyers/{maria}/hosted",
                                                          json={"decision": "approve"}, headers=h(ADMIN))),
        ("/buyers/{buyer_id}/hosted", "post", client.post(f"{API}/buyers/{member}/hosted",
                                                          json={"decision": "decline"}, headers=h(ADMIN))),
        ("/buyers/{buyer_id}/hosted", "post", client.post(f"{API}/buyers/{member}/hosted", json={},
                                                          headers=h(ADMIN))),
    ]
    statuses = set()
    for template, method, r in calls:
        assert r.status_code < 500
        check_against_spec(spec, template, method, r)
        statuses.add(r.status_code)
    assert {200, 403, 404, 409, 422} <= statuses
