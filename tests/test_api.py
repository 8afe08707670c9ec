"""The JSON API under /api/v1, called as an integration would: with a bearer token made by
``create_api_token``, checking status codes, JSON bodies and the rows left in the database.

Proves: the public and signed-in resources answer with real data; registration creates everything or nothing;
the organizer's list really filters, sorts and paginates the rows in the database (checked against an
independent computation over the same rows); an exhibitor's token reaches only its own company; profile and
application changes are partial, audited and bound by the application's status; every status change is allowed
only to the right role; bulk decisions are all-or-nothing; bad input of every shape is a JSON 4xx with a reason
(in Chinese when asked); and the served OpenAPI document is valid, complete, and describes what the API really
accepts and answers.
"""

from __future__ import annotations

import re
from datetime import date, datetime

import jsonschema
import pytest
from openapi_spec_validator import validate as validate_openapi
from sqlalchemy import func, select
from wtforms.fields.core import UnboundField

from expo.audit import AuditEntry
from expo.auth.models import User
from expo.auth.services import create_api_token
from expo.categories.models import ProductCategory, exhibitor_categories
from expo.exhibitors import forms as exhibitor_forms
from expo.exhibitors.models import Exhibitor, ExhibitorStaff, SpaceApplication
from expo.extensions import db
from expo.mail import OutboxMail
from expo.venue.models import ExhibitionArea, Expo, Hall, Pavilion
from tests.factories import PASSWORD, make_exhibitor, pavilion, user

API = "/api/v1"
ADMIN = "admin@expo.test"
STAFF = "staff@expo.test"
EXHIBITOR = "exhibitor@expo.test"  # signs in to demo exhibitor 1, whose application is a draft
CJK = re.compile(r"[\u4e00-\u9fff]")


# --- helpers ----------------------------------------------------------------------------------------------------------

@pytest.fixture
def admin(token):
    return token(ADMIN)


@pytest.fixture
def exhibitor_h(token):
    return token(EXHIBITOR)


def own_exhibitor_id(app, email: str = EXHIBITOR) -> int:
    with app.app_context():
        return user(email).exhibitor_id


def counts(app) -> tuple[int, int, int]:
    with app.app_context():
        return tuple(db.session.scalar(select(func.count()).select_from(m)) for m in (User, Exhibitor,
                                                                                       SpaceApplication))


def audit_count(app, exhibitor_id: int) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count(AuditEntry.id)).where(AuditEntry.exhibitor_id == exhibitor_id))


def registration(**overrides) -> dict:
    """A complete registration with exactly the fields the OpenAPI document lists."""
    data = {"email": "api-new@example.com", "password": PASSWORD, "name_zh": "晋江新星鞋业有限公司",
            "name_en": "Jinjiang Xinxing Footwear Co., Ltd.", "country": "CN", "province": "福建", "city": "晋江",
            "address": "8 Shoe Road", "website": "https://xinxing.example.com", "contact_name": "林芳",
            "contact_phone": "+86 139 1234 5678", "contact_email": "sales@xinxing.example.com", "categories": [],
            "description": "Running shoes", "space_kind": "standard", "booths_requested": 2,
            "raw_space_m2": None, "preferred_area_id": None, "preferred_pavilion_id": None,
            "corner_preference": "prefer", "years_exhibited": 3, "competitors": "Rival Shoes Ltd.\nOther Co.",
            "notes": "Near the entrance, please."}
    data.update(overrides)
    return data


def assert_json_error(r, status: int | tuple[int, ...] | None = None) -> dict:
    """A 4xx answer with a JSON body naming a reason code and a message."""
    if status is not None:
        expected = status if isinstance(status, tuple) else (status,)
        assert r.status_code in expected, (r.status_code, r.get_data(as_text=True)[:500])
    assert 400 <= r.status_code < 500, (r.status_code, r.get_data(as_text=True)[:500])
    assert r.is_json, r.get_data(as_text=True)[:500]
    body = r.get_json()
    assert isinstance(body.get("error"), str) and body["error"]
    assert isinstance(body.get("message"), str) and body["message"].strip()
    return body


# --- public resources and the token ------------------------------------------------------------------------------

def test_me_answers_for_the_token_owner(client, token):
    for email, role in ((ADMIN, "admin"), (EXHIBITOR, "exhibitor"), ("buyer@expo.test", "buyer")):
        r = client.get(f"{API}/me", headers=token(email))
        assert r.status_code == 200
        assert r.get_json()["email"] == email and r.get_json()["role"] == role
    assert_json_error(client.get(f"{API}/me"), 401)
    assert_json_error(client.get(f"{API}/me", headers={"Authorization": "Bearer expo_not-a-real-token"}), 401)


def test_expo_lists_the_venue_from_the_database(app, client):
    r = client.get(f"{API}/expo")
    assert r.status_code == 200
    body = r.get_json()
    with app.app_context():
        expo = db.session.scalar(select(Expo).order_by(Expo.starts_on.desc()))
        assert body["id"] == expo.id and body["name_zh"] == expo.name_zh
        assert body["starts_on"] == expo.starts_on.isoformat()
        assert sorted(a["id"] for a in body["areas"]) == sorted(
            db.session.scalars(select(ExhibitionArea.id).where(ExhibitionArea.expo_id == expo.id)))
        assert sorted(p["code"] for p in body["pavilions"]) == sorted(
            db.session.scalars(select(Pavilion.code).where(Pavilion.expo_id == expo.id)))
        assert len(body["halls"]) == db.session.scalar(select(func.count(Hall.id)).where(Hall.expo_id == expo.id))
    assert len(body["areas"]) == 3 and len(body["pavilions"]) >= 10


def test_categories_are_the_taxonomy(app, client):
    r = client.get(f"{API}/categories")
    assert r.status_code == 200
    with app.app_context():
        rows = {c.id: c for c in db.session.scalars(select(ProductCategory))}
    assert {c["id"] for c in r.get_json()} == set(rows)
    sample = r.get_json()[-1]
    assert sample["name_en"] == rows[sample["id"]].name_en and sample["parent_id"] == rows[sample["id"]].parent_id


# --- registration ------------------------------------------------------------------------------------------------

def test_register_creates_a_draft_with_account_profile_and_application(app, client):
    with app.app_context():
        cats = list(db.session.scalars(select(ProductCategory.id).where(ProductCategory.active.is_(True)).limit(2)))
        pav = pavilion("BR")
        area_id, pav_id = pav.area_id, pav.id
    before = counts(app)
    r = client.post(f"{API}/registrations", json=registration(categories=cats, preferred_area_id=area_id,
                                                              preferred_pavilion_id=pav_id))
    assert r.status_code == 201, r.get_json()
    body = r.get_json()
    assert body["application"]["status"] == "draft" and body["application"]["submitted_at"] is None
    assert "submit" in body["application"]["allowed_actions"]
    assert sorted(body["categories"]) == sorted(cats)
    assert counts(app) == tuple(n + 1 for n in before)
    with app.app_context():
        account = user("api-new@example.com")
        ex = db.session.get(Exhibitor, body["id"])
        app_row = db.session.scalar(select(SpaceApplication).where(SpaceApplication.exhibitor_id == ex.id))
        assert account.exhibitor_id == ex.id and account.role == "exhibitor"
        assert ex.name_zh == "晋江新星鞋业有限公司" and ex.contact_phone == "+86 139 1234 5678"
        assert app_row.booths_requested == 2 and app_row.preferred_pavilion_id == pav_id
        assert app_row.competitor_list == ["Rival Shoes Ltd.", "Other Co."]
    # the new account can sign in with the password it chose
    r = client.post("/login", data={"email": "api-new@example.com", "password": PASSWORD})
    assert r.status_code == 302


def test_register_with_submit_true_submits_at_once(app, client):
    r = client.post(f"{API}/registrations", json=registration(submit=True))
    assert r.status_code == 201
    application = r.get_json()["application"]
    assert application["status"] == "submitted" and application["submitted_at"]
    with app.app_context():
        assert db.session.scalar(select(SpaceApplication.status).where(
            SpaceApplication.id == application["id"])) == "submitted"
        assert db.session.scalar(select(func.count(OutboxMail.id)).where(
            OutboxMail.exhibitor_id == r.get_json()["id"])) == 1
    # only the JSON value true submits; a string does not
    r = client.post(f"{API}/registrations", json=registration(email="second@example.com", submit="yes"))
    assert r.status_code == 201 and r.get_json()["application"]["status"] == "draft"


def test_register_with_only_the_required_fields(app, client, spec):
    reg = spec["paths"][f"{API}/registrations"]["post"]["requestBody"]["content"]["application/json"]["schema"]
    payload = {k: v for k, v in registration().items() if k in reg["required"]}
    r = client.post(f"{API}/registrations", json={**payload, "name_en": "Only Required Co."})
    assert r.status_code == 201, r.get_json()
    with app.app_context():
        ex = db.session.get(Exhibitor, r.get_json()["id"])
        assert ex.city == "" and ex.website == "" and ex.name_zh is None
        assert ex.applications[0].booths_requested == 1  # the form's default


def test_null_empties_a_field_and_required_fields_refuse_it(app, client, admin):
    r = client.patch(f"{API}/exhibitors/2", json={"city": None, "address": None}, headers=admin)
    assert r.status_code == 200, r.get_json()
    assert r.get_json()["city"] == "" and r.get_json()["address"] == ""
    body = assert_json_error(client.patch(f"{API}/exhibitors/2", json={"contact_name": None}, headers=admin), 422)
    assert set(body["fields"]) == {"contact_name"}
    r = client.patch(f"{API}/exhibitors/2/application", json={"preferred_area_id": None, "notes": None},
                     headers=admin)
    assert r.status_code == 200 and r.get_json()["preferred_area_id"] is None and r.get_json()["notes"] == ""
    with app.app_context():
        assert db.session.get(Exhibitor, 2).city == ""


def test_register_validation_errors_are_422_with_fields_and_save_nothing(app, client):
    before = counts(app)
    r = client.post(f"{API}/registrations", json=registration(name_zh="", name_en="", contact_email="nope",
                                                              booths_requested=0, country="XX"))
    body = assert_json_error(r, 422)
    assert {"name_en", "contact_email", "booths_requested", "country"} <= set(body["fields"])
    assert all(isinstance(m, str) and m for msgs in body["fields"].values() for m in msgs)
    assert body["message"] in [m for msgs in body["fields"].values() for m in msgs]
    # a rule checked by the service, not the form: the pavilion must lie in the chosen area
    with app.app_context():
        area_id, machinery_pavilion = pavilion("BR").area_id, pavilion("TWM").id
    body = assert_json_error(client.post(f"{API}/registrations", json=registration(
        preferred_area_id=area_id, preferred_pavilion_id=machinery_pavilion)))
    assert "preferred_pavilion_id" in body["fields"]
    assert counts(app) == before


def test_register_duplicate_email_is_refused_clearly(app, client):
    assert client.post(f"{API}/registrations", json=registration(email="twice@example.com")).status_code == 201
    before = counts(app)
    r = client.post(f"{API}/registrations", json=registration(email="Twice@Example.com", name_en="Another Co."))
    body = assert_json_error(r, (400, 409, 422))
    assert body["error"] == "email_taken"
    assert "already exists" in body["message"] and "email" in body["fields"]
    assert counts(app) == before  # the exhibitor row flushed before the account check is rolled back


# --- the organizer's list ----------------------------------------------------------------------------------------

def _rows(app) -> list[dict]:
    """Every application of the current expo with its exhibitor, read with plain selects (not the queue query)."""
    with app.app_context():
        expo_id = db.session.scalar(select(Expo.id).order_by(Expo.starts_on.desc()))
        cats: dict[int, set[int]] = {}
        for ex_id, cat_id in db.session.execute(select(exhibitor_categories)):
            cats.setdefault(ex_id, set()).add(cat_id)
        out = []
        for a, ex in db.session.execute(select(SpaceApplication, Exhibitor).join(Exhibitor)
                                        .where(SpaceApplication.expo_id == expo_id)):
            out.append({"app_id": a.id, "id": ex.id, "status": a.status, "country": ex.country,
                        "area_id": a.preferred_area_id, "pavilion_id": a.preferred_pavilion_id,
                        "categories": cats.get(ex.id, set()), "submitted_at": a.submitted_at,
                        "booths": a.booths_requested, "texts": [ex.name_zh or "", ex.name_en or "",
                                                                ex.contact_email, ex.city]})
        return out


def _list(client, headers, **params) -> dict:
    r = client.get(f"{API}/exhibitors", query_string={"per_page": 200, **params}, headers=headers)
    assert r.status_code == 200, r.get_json()
    return r.get_json()


def _discriminating(rows, key):
    """A value of ``key`` that some rows have and some do not, so filtering by it must really filter."""
    values = [r[key] for r in rows if r[key] is not None]
    for value in sorted(set(values), key=lambda v: -values.count(v)):
        if 0 < sum(1 for r in rows if r[key] == value) < len(rows):
            return value
    raise AssertionError(f"the demo data has no discriminating {key}")


def _ancestors(category: int, parent_of: dict[int, int | None]) -> set[int]:
    out, node = set(), parent_of.get(category)
    while node is not None and node not in out:
        out.add(node)
        node = parent_of.get(node)
    return out


def test_organizer_list_filters_by_each_field(app, client, admin):
    rows = _rows(app)
    everything = _list(client, admin)
    assert everything["total"] == len(rows) and {i["id"] for i in everything["items"]} == {r["id"] for r in rows}

    def check(params, predicate):
        expected = {r["id"] for r in rows if predicate(r)}
        assert 0 < len(expected) < len(rows), params  # the case filters something out
        got = _list(client, admin, **params)
        assert {i["id"] for i in got["items"]} == expected, params
        assert got["total"] == len(expected)
        return got

    status = _discriminating(rows, "status")
    got = check({"status": status}, lambda r: r["status"] == status)
    assert {i["application"]["status"] for i in got["items"]} == {status}
    country = _discriminating(rows, "country")
    check({"country": country}, lambda r: r["country"] == country)
    area = _discriminating(rows, "area_id")
    check({"area_id": area}, lambda r: r["area_id"] == area)
    pav = _discriminating(rows, "pavilion_id")
    check({"pavilion_id": pav}, lambda r: r["pavilion_id"] == pav)
    # a category finds the exhibitors filed under it or under any of its subcategories
    with app.app_context():
        parent_of = dict(db.session.execute(select(ProductCategory.id, ProductCategory.parent_id)).all())

    def under(category: int) -> set[int]:
        return {c for c in parent_of if _ancestors(c, parent_of) & {category} or c == category}

    leaf = next(c for r in rows for c in sorted(r["categories"]) if under(c) == {c}
                and sum(c in x["categories"] for x in rows) < len(rows))
    got = check({"category_id": leaf}, lambda r: leaf in r["categories"])
    assert all(leaf in i["categories"] for i in got["items"])
    parent = parent_of[leaf]
    assert parent is not None
    check({"category_id": parent}, lambda r: bool(r["categories"] & under(parent)))
    word = next(r["texts"][1].split()[0] for r in rows if r["texts"][1])  # a city-like first word of a name
    check({"q": word.lower()}, lambda r: any(word.lower() in t.lower() for t in r["texts"]))
    dates = sorted(r["submitted_at"].date() for r in rows if r["submitted_at"])
    lo, hi = dates[1], dates[-2]
    check({"submitted_from": lo.isoformat()}, lambda r: r["submitted_at"] and r["submitted_at"].date() >= lo)
    check({"submitted_to": hi.isoformat()}, lambda r: r["submitted_at"] and r["submitted_at"].date() <= hi)
    check({"submitted_from": lo.isoformat(), "submitted_to": hi.isoformat(), "status": "submitted"},
          lambda r: r["submitted_at"] and lo <= r["submitted_at"].date() <= hi and r["status"] == "submitted")


def test_organizer_list_sorts_and_paginates(app, client, admin):
    rows = _rows(app)
    by_booths = sorted(rows, key=lambda r: (r["booths"], r["app_id"]))
    got = _list(client, admin, sort="booths")
    assert [i["id"] for i in got["items"]] == [r["id"] for r in by_booths]
    got = _list(client, admin, sort="booths", desc="y")
    assert [i["id"] for i in got["items"]] == [r["id"] for r in reversed(by_booths)]

    submitted = [r for r in rows if r["submitted_at"]]
    by_date = sorted(submitted, key=lambda r: (r["submitted_at"], r["app_id"]))
    drafts = sorted((r for r in rows if not r["submitted_at"]), key=lambda r: r["app_id"])
    got = _list(client, admin, sort="submitted")
    assert [i["id"] for i in got["items"]] == [r["id"] for r in by_date + drafts]  # never submitted: last

    first, second = _list(client, admin, sort="submitted", per_page=5, page=1), \
        _list(client, admin, sort="submitted", per_page=5, page=2)
    order = [r["id"] for r in by_date + drafts]
    assert [i["id"] for i in first["items"]] == order[:5] and [i["id"] for i in second["items"]] == order[5:10]
    assert first["total"] == len(rows) and first["pages"] == -(-len(rows) // 5) and second["page"] == 2

    # names: made here, so the order does not depend on the database's collation of the demo names
    with app.app_context():
        for name in ("Zeta Sorting Footwear", "Alpha Sorting Footwear", "Mid Sorting Footwear"):
            make_exhibitor(name_en=name, name_zh=None)
        db.session.commit()
    got = _list(client, admin, q="sorting footwear", sort="name")
    assert [i["name_en"] for i in got["items"]] == ["Alpha Sorting Footwear", "Mid Sorting Footwear",
                                                    "Zeta Sorting Footwear"]
    got = _list(client, admin, q="sorting footwear", sort="name", desc="1")
    assert [i["name_en"] for i in got["items"]][0] == "Zeta Sorting Footwear"


def test_list_refuses_bad_filters(client, admin):
    for params in ({"status": "bogus"}, {"per_page": "many"}, {"per_page": 10_000}, {"page": 0},
                   {"submitted_from": "yesterday"}, {"sort": "password_hash"}, {"area_id": "99999999999999999999"}):
        body = assert_json_error(client.get(f"{API}/exhibitors", query_string=params, headers=admin), 422)
        assert set(body["fields"]) == {next(iter(params))}, params


def test_exhibitor_token_sees_only_its_own_company(app, client, exhibitor_h):
    mine = own_exhibitor_id(app)
    got = _list(client, exhibitor_h)
    assert got["total"] == 1 and [i["id"] for i in got["items"]] == [mine]
    assert _list(client, exhibitor_h, q="Co")["total"] <= 1
    other = mine + 1
    assert_json_error(client.get(f"{API}/exhibitors/{other}", headers=exhibitor_h), 404)
    assert_json_error(client.get(f"{API}/exhibitors/{other}/application", headers=exhibitor_h), 404)
    assert_json_error(client.get(f"{API}/exhibitors/{other}/staff", headers=exhibitor_h), 404)
    assert_json_error(client.patch(f"{API}/exhibitors/{other}", json={"city": "x"}, headers=exhibitor_h), 404)
    assert client.get(f"{API}/exhibitors/{mine}", headers=exhibitor_h).status_code == 200


def test_other_roles_cannot_list_exhibitors(client, token):
    for email in ("buyer@expo.test", "gate@expo.test", "leader@expo.test"):
        assert_json_error(client.get(f"{API}/exhibitors", headers=token(email)), 403)
    assert_json_error(client.get(f"{API}/exhibitors"), 401)


# --- profile and application ------------------------------------------------------------------------------------

def test_patch_profile_is_partial_and_audited(app, client, exhibitor_h):
    ex_id = own_exhibitor_id(app)
    before = client.get(f"{API}/exhibitors/{ex_id}", headers=exhibitor_h).get_json()
    audits = audit_count(app, ex_id)
    r = client.patch(f"{API}/exhibitors/{ex_id}", json={"city": "泉州", "website": "https://new.example.com"},
                     headers=exhibitor_h)
    assert r.status_code == 200, r.get_json()
    after = r.get_json()
    assert after["city"] == "泉州" and after["website"] == "https://new.example.com"
    assert {k: v for k, v in after.items() if k not in ("city", "website")} == \
        {k: v for k, v in before.items() if k not in ("city", "website")}
    with app.app_context():
        ex = db.session.get(Exhibitor, ex_id)
        assert ex.city == "泉州" and ex.name_en == before["name_en"] and ex.contact_phone == before["contact_phone"]
        assert [c.id for c in ex.categories] == before["categories"]
        entry = db.session.scalar(select(AuditEntry).where(AuditEntry.exhibitor_id == ex_id)
                                  .order_by(AuditEntry.id.desc()))
        assert entry.action == "profile_updated" and entry.actor_id == user(EXHIBITOR).id
        assert entry.changes["city"] == [before["city"], "泉州"] and set(entry.changes) == {"city", "website"}
    assert audit_count(app, ex_id) == audits + 1


def test_patch_profile_refuses_bad_values_and_changes_nothing(app, client, exhibitor_h):
    ex_id = own_exhibitor_id(app)
    before = client.get(f"{API}/exhibitors/{ex_id}", headers=exhibitor_h).get_json()
    body = assert_json_error(client.patch(f"{API}/exhibitors/{ex_id}", json={"city": "泉州", "contact_phone": "call me"},
                                          headers=exhibitor_h), 422)
    assert set(body["fields"]) == {"contact_phone"}
    assert client.get(f"{API}/exhibitors/{ex_id}", headers=exhibitor_h).get_json() == before


def test_organizer_can_patch_any_profile(app, client, admin):
    r = client.patch(f"{API}/exhibitors/5", json={"address": "99 Organizer Road"}, headers=admin)
    assert r.status_code == 200 and r.get_json()["address"] == "99 Organizer Road"
    with app.app_context():
        entry = db.session.scalar(select(AuditEntry).where(AuditEntry.exhibitor_id == 5)
                                  .order_by(AuditEntry.id.desc()))
        assert entry.actor_id == user(ADMIN).id and entry.action == "profile_updated"


def test_patch_application_in_draft_then_refused_after_submit(app, client, exhibitor_h):
    ex_id = own_exhibitor_id(app)
    url = f"{API}/exhibitors/{ex_id}/application"
    before = client.get(url, headers=exhibitor_h).get_json()
    assert before["status"] == "draft"
    r = client.patch(url, json={"booths_requested": 4, "corner_preference": "require"}, headers=exhibitor_h)
    assert r.status_code == 200, r.get_json()
    assert r.get_json()["booths_requested"] == 4 and r.get_json()["corner_preference"] == "require"
    assert r.get_json()["years_exhibited"] == before["years_exhibited"]
    assert r.get_json()["preferred_area_id"] == before["preferred_area_id"]
    r = client.patch(url, json={"space_kind": "raw", "raw_space_m2": 54}, headers=exhibitor_h)
    assert r.status_code == 200 and r.get_json()["raw_space_m2"] == 54 and r.get_json()["booths_requested"] == 0

    assert client.post(f"{url}/submit", headers=exhibitor_h).status_code == 200
    body = assert_json_error(client.patch(url, json={"raw_space_m2": 90}, headers=exhibitor_h), 409)
    assert body["error"] == "not_editable"
    with app.app_context():
        row = db.session.scalar(select(SpaceApplication).where(SpaceApplication.exhibitor_id == ex_id))
        assert row.raw_space_m2 == 54 and row.status == "submitted"


def test_status_actions_by_the_exhibitor(app, client, exhibitor_h, admin):
    ex_id = own_exhibitor_id(app)
    url = f"{API}/exhibitors/{ex_id}/application"
    r = client.post(f"{url}/submit", headers=exhibitor_h)
    assert r.status_code == 200 and r.get_json()["status"] == "submitted"
    assert "withdraw" in r.get_json()["allowed_actions"]
    assert_json_error(client.post(f"{url}/approved", headers=exhibitor_h), 409)  # an organizer's step
    assert_json_error(client.post(f"{url}/submit", headers=exhibitor_h), 409)  # already submitted
    r = client.post(f"{url}/withdraw", headers=exhibitor_h)
    assert r.status_code == 200 and r.get_json()["status"] == "withdrawn"
    assert_json_error(client.post(f"{url}/submit", headers=admin), 409)  # an exhibitor's step
    r = client.post(f"{url}/reopen", headers=exhibitor_h)
    assert r.status_code == 200 and r.get_json()["status"] == "draft"
    assert_json_error(client.post(f"{url}/explode", headers=exhibitor_h), 409)
    with app.app_context():
        actions = list(db.session.scalars(select(AuditEntry.action).where(AuditEntry.exhibitor_id == ex_id)
                                          .order_by(AuditEntry.id)))
        assert actions[-3:] == ["application_submit", "application_withdraw", "application_reopen"]


def test_status_decisions_by_the_organizer(app, client, admin, token):
    submitted = [r for r in _rows(app) if r["status"] == "submitted"]
    first, second = submitted[0], submitted[1]
    r = client.post(f"{API}/exhibitors/{first['id']}/application/waitlisted", headers=admin)
    assert r.status_code == 200 and r.get_json()["status"] == "waitlisted"
    r = client.post(f"{API}/exhibitors/{first['id']}/application/approved", json={"reason": "Space is free."},
                    headers=token(STAFF))
    assert r.status_code == 200 and r.get_json()["status"] == "approved"
    assert r.get_json()["decision_reason"] == "Space is free."

    body = assert_json_error(client.post(f"{API}/exhibitors/{second['id']}/application/rejected", json={},
                                         headers=admin), 400)
    assert "reason" in body["fields"]
    r = client.post(f"{API}/exhibitors/{second['id']}/application/rejected",
                    json={"reason": "Not a footwear company."}, headers=admin)
    assert r.status_code == 200 and r.get_json()["status"] == "rejected"
    assert_json_error(client.post(f"{API}/exhibitors/{second['id']}/application/reopen", headers=admin), 409)
    with app.app_context():
        row = db.session.scalar(select(SpaceApplication).where(SpaceApplication.exhibitor_id == second["id"]))
        assert row.status == "rejected" and row.decision_reason == "Not a footwear company."
        assert row.decided_by_id == user(ADMIN).id
        last = db.session.scalar(select(OutboxMail).where(OutboxMail.exhibitor_id == second["id"])
                                 .order_by(OutboxMail.id.desc()))
        assert "Not a footwear company." in last.body


def test_bulk_decisions_are_all_or_nothing(app, client, admin, exhibitor_h):
    rows = _rows(app)
    submitted = [r["app_id"] for r in rows if r["status"] == "submitted"][:3]
    draft = next(r["app_id"] for r in rows if r["status"] == "draft")
    body = assert_json_error(client.post(f"{API}/applications/decisions",
                                         json={"application_ids": [*submitted, draft], "decision": "approved"},
                                         headers=admin), 409)
    assert "Nothing was changed" in body["message"]
    with app.app_context():
        assert set(db.session.scalars(select(SpaceApplication.status)
                                      .where(SpaceApplication.id.in_(submitted)))) == {"submitted"}
    assert_json_error(client.post(f"{API}/applications/decisions",
                                  json={"application_ids": [*submitted, 987654], "decision": "approved"},
                                  headers=admin), 404)
    assert_json_error(client.post(f"{API}/applications/decisions", json={"application_ids": submitted,
                                                                         "decision": "approved"},
                                  headers=exhibitor_h), 403)
    r = client.post(f"{API}/applications/decisions", json={"application_ids": submitted, "decision": "approved"},
                    headers=admin)
    assert r.status_code == 200 and sorted(r.get_json()["updated"]) == sorted(submitted)
    with app.app_context():
        assert set(db.session.scalars(select(SpaceApplication.status)
                                      .where(SpaceApplication.id.in_(submitted)))) == {"approved"}
    body = assert_json_error(client.post(f"{API}/applications/decisions",
                                         json={"application_ids": [], "decision": "approved"}, headers=admin), 422)
    assert "application_ids" in body["fields"]
    body = assert_json_error(client.post(f"{API}/applications/decisions",
                                         json={"application_ids": submitted, "decision": "submit"}, headers=admin),
                             422)
    assert "decision" in body["fields"]


# --- staff and audit ---------------------------------------------------------------------------------------------

def test_staff_crud(app, client, exhibitor_h, admin):
    ex_id = own_exhibitor_id(app)
    url = f"{API}/exhibitors/{ex_id}/staff"
    start = len(client.get(url, headers=exhibitor_h).get_json())
    r = client.post(url, json={"name": "张伟", "title": "Sales manager", "phone": "+86 139 0000 1111",
                               "email": "zhang@example.com", "id_number": "E12345678"}, headers=exhibitor_h)
    assert r.status_code == 201, r.get_json()
    member = r.get_json()
    assert member["exhibitor_id"] == ex_id and member["id_number"] == "E12345678"
    assert len(client.get(url, headers=exhibitor_h).get_json()) == start + 1
    assert client.get(f"{url}/{member['id']}", headers=exhibitor_h).get_json()["name"] == "张伟"

    r = client.patch(f"{url}/{member['id']}", json={"title": "Director"}, headers=exhibitor_h)
    assert r.status_code == 200 and r.get_json()["title"] == "Director" and r.get_json()["phone"] == member["phone"]
    body = assert_json_error(client.patch(f"{url}/{member['id']}", json={"id_number": "x"}, headers=exhibitor_h),
                             422)
    assert set(body["fields"]) == {"id_number"}
    body = assert_json_error(client.post(url, json={"title": "No name"}, headers=exhibitor_h), 422)
    assert "name" in body["fields"]
    with app.app_context():
        assert db.session.get(ExhibitorStaff, member["id"]).title == "Director"
        changes = db.session.scalar(select(AuditEntry.changes).where(AuditEntry.action == "staff_updated")
                                    .order_by(AuditEntry.id.desc()))
        assert changes == {"title": ["Sales manager", "Director"]}

    # another company cannot reach the member, even by guessing both ids
    assert_json_error(client.get(f"{API}/exhibitors/{ex_id + 1}/staff/{member['id']}", headers=admin), 404)
    r = client.delete(f"{url}/{member['id']}", headers=exhibitor_h)
    assert r.status_code == 204
    assert_json_error(client.get(f"{url}/{member['id']}", headers=exhibitor_h), 404)
    assert_json_error(client.delete(f"{url}/{member['id']}", headers=exhibitor_h), 404)
    with app.app_context():
        assert db.session.get(ExhibitorStaff, member["id"]) is None


def test_audit_is_for_organizers_only(app, client, admin, exhibitor_h):
    ex_id = own_exhibitor_id(app)
    client.patch(f"{API}/exhibitors/{ex_id}", json={"city": "石狮"}, headers=exhibitor_h)
    r = client.get(f"{API}/exhibitors/{ex_id}/audit", headers=admin)
    assert r.status_code == 200
    entries = r.get_json()
    assert len(entries) == audit_count(app, ex_id)
    assert any(e["action"] == "profile_updated" and e["changes"].get("city", [None, None])[1] == "石狮"
               for e in entries)
    assert_json_error(client.get(f"{API}/exhibitors/{ex_id}/audit", headers=exhibitor_h), 403)
    assert_json_error(client.get(f"{API}/exhibitors/999999/audit", headers=admin), 404)


# --- bad input ----------------------------------------------------------------------------------------------------

def test_bodies_that_are_not_json_objects(client, admin):
    url = f"{API}/exhibitors/1"
    for kwargs in ({"data": "city=x", "content_type": "application/x-www-form-urlencoded"},
                   {"data": "not json", "content_type": "text/plain"},
                   {"data": "{\"city\": ", "content_type": "application/json"},
                   {"data": "[1, 2]", "content_type": "application/json"},
                   {"json": ["city", "x"]}, {"json": "city"}, {"json": 5}, {"json": None}, {}):
        body = assert_json_error(client.patch(url, headers=admin, **kwargs), 400)
        assert body["error"] == "not_json", kwargs
    for path in ("/registrations", "/exhibitors/1/staff", "/applications/decisions"):
        assert_json_error(client.post(f"{API}{path}", json=[1], headers=admin), 400)


def test_unknown_ids_and_routes(client, admin):
    for path in ("/exhibitors/999999", "/exhibitors/999999/application", "/exhibitors/999999/staff",
                 "/exhibitors/1/staff/999999", "/exhibitors/99999999999999999999999",
                 "/exhibitors/99999999999999999999999/staff/1", "/nothing-here"):
        assert_json_error(client.get(f"{API}{path}", headers=admin), 404)
    assert_json_error(client.patch(f"{API}/exhibitors/999999", json={"city": "x"}, headers=admin), 404)
    assert_json_error(client.delete(f"{API}/exhibitors/1", headers=admin), 405)


BAD_VALUES = {
    "booths_requested": ["many", 10**30, -1, 1.5, {"n": 2}, [1, 2], True],
    "years_exhibited": ["3 years", 10**20, -5, "1e3"],
    "preferred_area_id": ["first", 99999999999999999999, 123456, {"id": 1}],
    "preferred_pavilion_id": [-1, 10**25, "TWM"],
    "space_kind": ["huge", 1, {"kind": "raw"}],
    "corner_preference": ["always", 0],
    "country": ["China", 86, "cn", "ZZ"],
    "categories": [["shoes"], [10**30], ["1; drop table exhibitors"], [987654]],
    "contact_email": [12, "@", "a@b", None, {"email": "x@example.com"}],
    "contact_phone": ["phone", 1.5, None, "+" + "1" * 60],
    "contact_name": [None, "", "x" * 101, ["林芳"]],
    "website": ["javascript:alert(1)", "x" * 400],
    "name_en": ["x" * 201],
    "description": ["x" * 5001],
    "email": [None, "not-an-address", 42],
    "password": [None, "short", 1234567, ["correct horse", "battery"]],
}


@pytest.mark.parametrize("field,value", [(f, v) for f, vs in BAD_VALUES.items() for v in vs],
                         ids=lambda x: repr(x)[:30])
def test_registration_bad_types_are_422(app, client, field, value):
    before = counts(app)
    body = assert_json_error(client.post(f"{API}/registrations", json=registration(**{field: value})), 422)
    assert field in body["fields"] or (field == "name_en" and "name_en" in body["fields"]), body
    assert counts(app) == before


@pytest.mark.parametrize("payload", [
    {"booths_requested": "ten"}, {"booths_requested": 10**40}, {"booths_requested": None, "space_kind": "standard"},
    {"raw_space_m2": 5, "space_kind": "raw"}, {"preferred_pavilion_id": {"id": 1}}, {"years_exhibited": [1]},
    {"notes": "x" * 2001},
])
def test_application_bad_types_are_422_and_change_nothing(app, client, admin, payload):
    url = f"{API}/exhibitors/1/application"
    before = client.get(url, headers=admin).get_json()
    body = assert_json_error(client.patch(url, json=payload, headers=admin), 422)
    assert body["fields"]
    assert client.get(url, headers=admin).get_json() == before


def test_action_reason_must_be_text(client, admin):
    for reason in (["a"], {"a": 1}, "x" * 2001, True):
        assert_json_error(client.post(f"{API}/exhibitors/2/application/rejected", json={"reason": reason},
                                      headers=admin))


def test_error_messages_in_english_by_default(client):
    body = assert_json_error(client.post(f"{API}/registrations", json=registration(contact_email="nope")), 422)
    assert body["message"] == "Enter a valid e-mail address."
    body = assert_json_error(client.get(f"{API}/me"), 401)
    assert "token" in body["message"]


def test_error_messages_in_chinese(client, admin):
    """Needs the zh catalog: every refusal reads in Chinese when the caller asks for it."""
    zh = {"Accept-Language": "zh-CN,zh;q=0.9"}
    answers = [
        client.post(f"{API}/registrations", json=registration(contact_email="nope"), headers=zh),
        client.post(f"{API}/registrations", json=registration(email=EXHIBITOR), headers=zh),
        client.post(f"{API}/registrations", json=registration(city="a\x00b", contact_name=["x"]), headers=zh),
        client.post(f"{API}/applications/decisions", json={"application_ids": [2], "decision": "rejected"},
                    headers={**zh, **admin}),
        client.post(f"{API}/registrations", data="x", content_type="text/plain", headers=zh),
        client.get(f"{API}/me", headers=zh),
        client.get(f"{API}/nothing", headers=zh),
    ]
    for r in answers:
        body = assert_json_error(r)
        assert CJK.search(body["message"]), (r.request.path, body)
        for msgs in body.get("fields", {}).values():
            assert all(CJK.search(m) for m in msgs), body


# --- OpenAPI ------------------------------------------------------------------------------------------------------

@pytest.fixture
def spec(client):
    r = client.get(f"{API}/openapi.json")
    assert r.status_code == 200 and r.is_json
    return r.get_json()


def test_openapi_document_is_valid_openapi_3_1(spec):
    assert spec["openapi"].startswith("3.1")
    validate_openapi(spec)  # raises on any violation of the OpenAPI 3.1 schema


def test_openapi_lists_every_route_with_its_methods(app, spec):
    documented = {(path, method) for path, ops in spec["paths"].items() for method in ops}
    expected = set()
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith(API) or rule.rule == f"{API}/openapi.json":
            continue
        path = re.sub(r"<(?:[^:>]+:)?([^>]+)>", r"{\1}", rule.rule)
        expected |= {(path, m.lower()) for m in rule.methods - {"HEAD", "OPTIONS"}}
    assert expected and expected == documented - {(f"{API}/openapi.json", "get")}
    assert len(expected) >= 17
    for (path, method) in expected:
        op = spec["paths"][path][method]
        assert op["summary"] and op["responses"]
        declared = {p["name"] for p in op.get("parameters", []) if p["in"] == "path"}
        assert declared == set(re.findall(r"{([^}]+)}", path)), (path, method)


def _form_fields(form_cls) -> set[str]:
    """The field names a form class declares, read from the class itself."""
    return {name for cls in form_cls.__mro__ for name, value in vars(cls).items() if isinstance(value, UnboundField)}


def test_openapi_request_bodies_match_the_forms(spec):
    not_in_json = {"logo", "password_confirm", "csrf_token"}  # a file; a repetition for people; the pages' token
    bodies = {
        ("/registrations", "post"): exhibitor_forms.RegistrationForm,
        ("/exhibitors/{exhibitor_id}", "patch"): exhibitor_forms.ProfileForm,
        ("/exhibitors/{exhibitor_id}/application", "patch"): exhibitor_forms.ApplicationForm,
        ("/applications/decisions", "post"): exhibitor_forms.BulkDecisionForm,
        ("/exhibitors/{exhibitor_id}/staff", "post"): exhibitor_forms.StaffForm,
        ("/exhibitors/{exhibitor_id}/staff/{member_id}", "patch"): exhibitor_forms.StaffForm,
        ("/exhibitors/{exhibitor_id}/application/{action}", "post"): exhibitor_forms.ReasonForm,
    }
    for (path, method), form_cls in bodies.items():
        schema = spec["paths"][API + path][method]["requestBody"]["content"]["application/json"]["schema"]
        assert set(schema["properties"]) == _form_fields(form_cls) - not_in_json, path
        for name, prop in schema["properties"].items():
            assert prop.get("type") and prop.get("description"), (path, name)
    reg = spec["paths"][f"{API}/registrations"]["post"]["requestBody"]["content"]["application/json"]["schema"]
    assert {"email", "password", "contact_name", "contact_email", "contact_phone", "country"} <= set(reg["required"])
    assert reg["properties"]["booths_requested"]["type"] == ["integer", "null"]  # null empties it
    assert reg["properties"]["contact_name"]["type"] == "string"  # required: no null
    assert reg["properties"]["booths_requested"]["maximum"] == 100
    assert reg["properties"]["categories"] == {**reg["properties"]["categories"], "type": "array"}
    query = {p["name"] for p in spec["paths"][f"{API}/exhibitors"]["get"]["parameters"] if p["in"] == "query"}
    assert query == _form_fields(exhibitor_forms.QueueFilterForm)


def test_openapi_request_body_example_is_accepted(app, client, spec):
    """A client that sends just the documented fields (nothing more) can register."""
    reg = spec["paths"][f"{API}/registrations"]["post"]["requestBody"]["content"]["application/json"]["schema"]
    payload = {k: v for k, v in registration().items() if k in reg["properties"]}
    jsonschema.validate(payload, reg, cls=jsonschema.Draft202012Validator)
    assert client.post(f"{API}/registrations", json=payload).status_code == 201


def _response_schema(spec, path: str, method: str, status: int) -> dict:
    responses = spec["paths"][path][method]["responses"]
    schema = responses[str(status)]["content"]["application/json"]["schema"]
    return {**schema, "components": spec["components"]} if "$ref" in schema else schema


def _check(spec, path, method, r, template=None):
    template = template or path
    schema = _response_schema(spec, API + template, method, r.status_code)
    if "$ref" in schema:
        schema = {"$ref": schema["$ref"], "components": spec["components"]}
    jsonschema.validate(r.get_json(), schema, cls=jsonschema.Draft202012Validator)


def test_documented_response_schemas_match_real_answers(app, client, spec, admin, exhibitor_h):
    ex_id = own_exhibitor_id(app)
    calls = [
        ("/expo", "get", client.get(f"{API}/expo"), None),
        ("/categories", "get", client.get(f"{API}/categories"), None),
        ("/me", "get", client.get(f"{API}/me", headers=admin), None),
        ("/exhibitors", "get", client.get(f"{API}/exhibitors", headers=admin), None),
        ("/exhibitors", "get", client.get(f"{API}/exhibitors", headers=exhibitor_h), None),
        ("/exhibitors/4", "get", client.get(f"{API}/exhibitors/4", headers=admin), "/exhibitors/{exhibitor_id}"),
        (f"/exhibitors/{ex_id}/application", "get", client.get(f"{API}/exhibitors/{ex_id}/application",
                                                               headers=exhibitor_h),
         "/exhibitors/{exhibitor_id}/application"),
        ("/exhibitors/2/staff", "get", client.get(f"{API}/exhibitors/2/staff", headers=admin),
         "/exhibitors/{exhibitor_id}/staff"),
        ("/exhibitors/2/audit", "get", client.get(f"{API}/exhibitors/2/audit", headers=admin),
         "/exhibitors/{exhibitor_id}/audit"),
        ("/registrations", "post", client.post(f"{API}/registrations", json=registration(submit=True)), None),
        ("/registrations", "post", client.post(f"{API}/registrations", json=registration(email="bad")), None),
        ("/exhibitors/x", "patch", client.patch(f"{API}/exhibitors/{ex_id}", json={"city": "晋江"},
                                                headers=exhibitor_h), "/exhibitors/{exhibitor_id}"),
        ("/exhibitors/x/application", "patch", client.patch(f"{API}/exhibitors/{ex_id}/application",
                                                            json={"notes": "hi"}, headers=exhibitor_h),
         "/exhibitors/{exhibitor_id}/application"),
        ("/exhibitors/x/staff", "post", client.post(f"{API}/exhibitors/{ex_id}/staff", json={"name": "李娜"},
                                                    headers=exhibitor_h), "/exhibitors/{exhibitor_id}/staff"),
        ("/exhibitors/x/application/submit", "post",
         client.post(f"{API}/exhibitors/{ex_id}/application/submit", headers=exhibitor_h),
         "/exhibitors/{exhibitor_id}/application/{action}"),
        ("/applications/decisions", "post", client.post(f"{API}/applications/decisions", json={
            "application_ids": [a["app_id"] for a in _rows(app) if a["status"] == "submitted"],
            "decision": "waitlisted"}, headers=admin), None),
        ("/exhibitors/999999", "get", client.get(f"{API}/exhibitors/999999", headers=admin),
         "/exhibitors/{exhibitor_id}"),
        ("/me", "get", client.get(f"{API}/me"), None),
        ("/exhibitors", "get", client.get(f"{API}/exhibitors", headers=token_for_buyer(app)), None),
    ]
    seen = set()
    for path, method, r, template in calls:
        assert r.status_code < 500
        _check(spec, path, method, r, template)
        seen.add(r.status_code)
    assert {200, 201, 401, 403, 404, 422} <= seen
    staff = client.get(f"{API}/exhibitors/{ex_id}/staff", headers=exhibitor_h).get_json()
    r = client.get(f"{API}/exhibitors/{ex_id}/staff/{staff[0]['id']}", headers=exhibitor_h)
    _check(spec, None, "get", r, "/exhibitors/{exhibitor_id}/staff/{member_id}")


def token_for_buyer(app) -> dict[str, str]:
    with app.app_context():
        _row, secret = create_api_token(user("buyer@expo.test"), "tests")
        db.session.commit()
    return {"Authorization": f"Bearer {secret}"}


def test_dates_in_answers_are_iso(client, admin):
    item = client.get(f"{API}/exhibitors", query_string={"status": "approved"}, headers=admin).get_json()["items"][0]
    assert datetime.fromisoformat(item["application"]["submitted_at"].removesuffix("Z"))
    assert date.fromisoformat(client.get(f"{API}/expo").get_json()["starts_on"])
