"""Lead retrieval: an exhibitor's booth scans badges and keeps leads with notes, a rating and tags.

Proves: what a lead shows (a consenting buyer's contact details; a buyer without consent by name and country only;
visitors and other exhibitors' staff by what their badge prints), which codes are refused and why, one lead per
exhibitor and badge, notes, ratings and normalized tags with audit entries, the list's filters, pagination and
exports read back (contact columns empty without consent), that one exhibitor never reaches another's leads (404),
the API and its OpenAPI description, and hostile form posts and API bodies (hypothesis): never a 5xx, always a
reason, nothing half-written.
"""

from __future__ import annotations

import csv
import io
import json
import re
from dataclasses import dataclass

import jsonschema
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from openpyxl import load_workbook
from sqlalchemy import func, select

from expo.audit import AuditEntry
from expo.auth.models import User
from expo.badges import services as badge_services
from expo.badges.models import Visitor
from expo.buyers.models import Buyer
from expo.checkin import leads
from expo.checkin.models import Lead
from expo.exhibitors.models import Exhibitor, ExhibitorStaff
from expo.exhibitors.services import current_expo
from expo.extensions import db
from tests.test_checkin_api import flip

API = "/api/v1/leads"
MINE = "exhibitor@expo.test"
OTHER = "ex000002@expo.test"
FUZZ = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                      HealthCheck.too_slow])


@dataclass
class Booth:
    """Badges to scan at the demo exhibitor's booth, and what each holder registered."""

    exhibitor_id: int
    other_exhibitor_id: int
    consenting: str  # a buyer who agreed to be contacted
    consenting_name: str
    consenting_email: str
    consenting_phone: str
    consenting_company: str
    consenting_job: str
    silent: str  # a delegation member (a buyer) who did not
    silent_name: str
    silent_email: str
    silent_phone: str
    silent_company: str
    silent_country: str
    press: str
    other_staff: str
    other_company: str
    own_staff: str
    organizer: str
    old_code: str  # a reissued badge's previous code


def make_booth(app) -> Booth:
    with app.app_context():
        try:
            expo = current_expo()
            mine = db.session.scalar(select(User).where(User.email == MINE)).exhibitor_id
            other = db.session.scalar(select(User).where(User.email == OTHER)).exhibitor_id
            yes = db.session.scalar(select(Buyer).where(Buyer.contact_consent.is_(True), Buyer.job_title != "")
                                    .order_by(Buyer.id))
            no = db.session.scalar(select(Buyer).where(Buyer.contact_consent.is_(False),
                                                       Buyer.delegation_id.is_not(None)).order_by(Buyer.id))
            visitor = Visitor(expo_id=expo.id, kind="press", name="Li Hua 李华", company="Footwear Daily 鞋业日报",
                              country="CN", email="li.hua@press.example.com", phone="+86 139 0000 1111")
            db.session.add(visitor)
            db.session.flush()
            own_member = db.session.scalar(select(ExhibitorStaff).where(ExhibitorStaff.exhibitor_id == mine))
            other_member = db.session.scalar(select(ExhibitorStaff).where(ExhibitorStaff.exhibitor_id == other))
            other_ex = db.session.get(Exhibitor, other)
            issue = badge_services.issue_for
            b_yes = issue(None, expo, badge_services.holder_of_buyer(yes))
            b_no = issue(None, expo, badge_services.holder_of_buyer(no))
            b_press = issue(None, expo, badge_services.holder_of_visitor(visitor), visitor_kind="press")
            b_other = issue(None, expo, badge_services.holder_of_staff(other_member, other_ex))
            b_own = issue(None, expo, badge_services.holder_of_staff(own_member, db.session.get(Exhibitor, mine)))
            b_org = issue(None, expo, badge_services.holder_of_user(
                db.session.scalar(select(User).where(User.email == "staff@expo.test")), expo))
            lost = issue(None, expo, badge_services.holder_of_buyer(
                db.session.scalar(select(Buyer).where(Buyer.id.not_in([yes.id, no.id])).order_by(Buyer.id.desc()))))
            old_code = lost.code
            badge_services.revoke_and_reissue(None, lost, "lost at the hotel")
            db.session.commit()
            return Booth(mine, other, b_yes.code, b_yes.name, yes.email, yes.phone, yes.company, yes.job_title,
                         b_no.code, b_no.name, no.email, no.phone, no.company, no.country, b_press.code,
                         b_other.code, b_other.company, b_own.code, b_org.code, old_code)
        finally:
            db.session.remove()


@pytest.fixture
def booth(app) -> Booth:
    return make_booth(app)


def scan_page(client, code: str):
    return client.post("/exhibitor/leads/scan", data={"code": code})


def lead_id_of(response) -> int:
    assert response.status_code == 302, response.status_code
    return int(response.location.rstrip("/").rsplit("/", 1)[1])


def count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


# --- what a lead shows -------------------------------------------------------------------------------------------

def test_a_consenting_buyer_shows_contact_details(app, client, auth, booth):
    auth.login(MINE)
    page = client.get("/exhibitor/leads/scan")
    assert page.status_code == 200 and 'id="lead-code"' in page.get_data(as_text=True)
    r = scan_page(client, booth.consenting)
    lead_id = lead_id_of(r)
    html = client.get(f"/exhibitor/leads/{lead_id}").get_data(as_text=True)
    assert "New lead." in html
    for value in (booth.consenting_name, booth.consenting_email, booth.consenting_phone, booth.consenting_company,
                  booth.consenting_job):
        assert value in html, value
    assert 'id="lead-interests"' in html and 'id="lead-no-consent"' not in html
    with app.app_context():
        lead = db.session.get(Lead, lead_id)
        assert lead.exhibitor_id == booth.exhibitor_id and lead.scanned_by_id is not None
        entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "lead_captured"))
        assert entry.object_id == lead_id and entry.exhibitor_id == booth.exhibitor_id


def test_a_buyer_without_consent_shows_the_name_and_country_only(app, client, auth, booth):
    auth.login(MINE)
    lead_id = lead_id_of(scan_page(client, booth.silent))
    html = client.get(f"/exhibitor/leads/{lead_id}").get_data(as_text=True)
    assert booth.silent_name in html and 'id="lead-no-consent"' in html and 'id="lead-country"' in html
    for hidden in (booth.silent_email, booth.silent_phone, booth.silent_company):
        assert hidden not in html, hidden
    assert 'id="lead-email"' not in html and 'id="lead-interests"' not in html


def test_visitors_and_other_exhibitors_staff_show_what_their_badge_prints(app, client, auth, booth):
    auth.login(MINE)
    press = client.get(f"/exhibitor/leads/{lead_id_of(scan_page(client, booth.press))}").get_data(as_text=True)
    assert "Li Hua 李华" in press and "Footwear Daily 鞋业日报" in press and 'id="lead-badge-only"' in press
    assert "li.hua@press.example.com" not in press and "0000 1111" not in press  # no consent to exhibitors
    other = client.get(f"/exhibitor/leads/{lead_id_of(scan_page(client, booth.other_staff))}").get_data(as_text=True)
    assert booth.other_company in other and 'id="lead-email"' not in other


@pytest.mark.parametrize("which, reason", [("own_staff", "own staff"), ("organizer", "organizer"),
                                           ("forged", "Invalid signature"), ("old_code", "revoked"),
                                           ("garbage", "not a badge code")])
def test_codes_that_are_not_leads_are_refused_with_the_reason(app, client, auth, booth, which, reason):
    code = {"own_staff": booth.own_staff, "organizer": booth.organizer, "forged": flip(booth.consenting),
            "old_code": booth.old_code, "garbage": "HELLO-WORLD"}[which]
    auth.login(MINE)
    r = scan_page(client, code)
    assert r.status_code == 422
    html = r.get_data(as_text=True)
    assert reason.lower() in html.lower() and 'id="lead-error"' in html
    with app.app_context():
        assert count(Lead) == 0
    api = client.post(API, json={"code": code})
    assert api.status_code == 422 and api.get_json()["fields"]["code"]


def test_scanning_again_finds_the_same_lead(app, client, auth, booth):
    auth.login(MINE)
    first = lead_id_of(scan_page(client, booth.consenting))
    again = scan_page(client, " " + booth.consenting.lower() + "\n")  # a wedge with Caps Lock off, and a newline
    assert lead_id_of(again) == first
    assert "Already one of your leads" in client.get(again.location).get_data(as_text=True)
    with app.app_context():
        assert count(Lead) == 1
        assert db.session.scalar(select(func.count()).select_from(AuditEntry)
                                 .where(AuditEntry.action == "lead_captured")) == 1


# --- notes, rating, tags -----------------------------------------------------------------------------------------

def test_notes_rating_and_tags_are_saved_normalized_and_audited(app, client, auth, booth):
    auth.login(MINE)
    lead_id = lead_id_of(scan_page(client, booth.consenting))
    r = client.post(f"/exhibitor/leads/{lead_id}", data={
        "notes": "Wants 5,000 pairs of running shoes.\r\nSend samples.", "rating": "4",
        "tags": "  Distributor, sample   REQUEST,distributor，跟进、 ;"})
    assert r.status_code == 302
    with app.app_context():
        lead = db.session.get(Lead, lead_id)
        assert lead.tags == ["distributor", "sample request", "跟进"]
        assert (lead.rating, lead.notes) == (4, "Wants 5,000 pairs of running shoes.\nSend samples.")
        entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "lead_updated"))
        assert entry.changes["rating"] == [0, 4] and entry.changes["tags"][1] == lead.tags
    html = client.get(f"/exhibitor/leads/{lead_id}").get_data(as_text=True)
    assert "Saved." in html and "sample request" in html
    assert re.search(r'<input checked[^>]*name="rating"[^>]*value="4"', html)
    # Nothing changed: no audit entry. A rating of 0 clears it.
    client.post(f"/exhibitor/leads/{lead_id}", data={"notes": lead.notes, "rating": "4",
                                                     "tags": "distributor, sample request, 跟进"})
    client.post(f"/exhibitor/leads/{lead_id}", data={"notes": "", "rating": "0", "tags": ""})
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(AuditEntry)
                                 .where(AuditEntry.action == "lead_updated")) == 2
        lead = db.session.get(Lead, lead_id)
        assert (lead.rating, lead.notes, lead.tags) == (0, "", [])


@pytest.mark.parametrize("data, field", [({"rating": "6"}, "rating"), ({"rating": "x"}, "rating"),
                                         ({"tags": "a" * 41}, "tags"),
                                         ({"tags": ",".join(f"t{i}" for i in range(21))}, "tags"),
                                         ({"notes": "x" * 5001}, "notes"), ({"notes": "a\x00b"}, "notes")])
def test_bad_notes_rating_or_tags_are_refused_and_nothing_changes(app, client, auth, booth, data, field):
    auth.login(MINE)
    lead_id = lead_id_of(scan_page(client, booth.consenting))
    with app.app_context():
        audits = count(AuditEntry)
    r = client.post(f"/exhibitor/leads/{lead_id}", data={"notes": "kept?", "rating": "2", "tags": "x", **data})
    assert r.status_code in (400, 422)
    assert 'class="error"' in r.get_data(as_text=True)
    with app.app_context():
        lead = db.session.get(Lead, lead_id)
        assert (lead.notes, lead.rating, lead.tags) == ("", 0, [])
        assert count(AuditEntry) == audits


def test_normalize_tags():
    assert leads.normalize_tags(" A,  b  c ,a,,B C") == ["a", "b c"]
    assert leads.normalize_tags(["Hot", "hot; Cold"]) == ["hot", "cold"]
    assert leads.normalize_tags("ÉTÉ，Straße") == ["été", "strasse"]
    assert leads.normalize_tags(None) == [] and leads.normalize_tags("") == []


# --- the list, its filters and exports ---------------------------------------------------------------------------

def _scan_all(client, booth: Booth) -> dict[str, int]:
    ids = {}
    for name in ("consenting", "silent", "press", "other_staff"):
        ids[name] = lead_id_of(scan_page(client, getattr(booth, name)))
    client.post(f"/exhibitor/leads/{ids['consenting']}", data={"rating": "5", "tags": "Distributor, 跟进",
                                                                "notes": "big order"})
    client.post(f"/exhibitor/leads/{ids['silent']}", data={"rating": "2", "tags": "distributor", "notes": ""})
    client.post(f"/exhibitor/leads/{ids['press']}", data={"rating": "0", "tags": "press", "notes": ""})
    return ids


def _listed(client, query: str = "") -> set[int]:
    r = client.get(f"/exhibitor/leads{query}")
    assert r.status_code == 200, query
    return {int(x) for x in re.findall(r'<tr id="lead-(\d+)"', r.get_data(as_text=True))}


def test_the_list_filters_and_paginates(app, client, auth, booth):
    auth.login(MINE)
    ids = _scan_all(client, booth)
    assert _listed(client) == set(ids.values())
    assert _listed(client, "?rating=4") == {ids["consenting"]}
    assert _listed(client, "?rating=2") == {ids["consenting"], ids["silent"]}
    assert _listed(client, "?tag=DISTRIBUTOR") == {ids["consenting"], ids["silent"]}
    assert _listed(client, "?tag=跟进") == {ids["consenting"]}
    assert _listed(client, "?tag=dist") == set()  # a whole tag, not a part of one
    assert _listed(client, f"?country={booth.silent_country}") >= {ids["silent"]}
    assert _listed(client, "?q=footwear+daily") == {ids["press"]}
    assert _listed(client, "?q=big+order") == {ids["consenting"]}
    assert _listed(client, "?q=" + booth.consenting_email.split("@")[0]) == {ids["consenting"]}
    # The company and e-mail of the buyer who did not consent cannot be found by searching either.
    assert ids["silent"] not in _listed(client, "?q=" + booth.silent_company.replace(" ", "+"))
    assert ids["silent"] not in _listed(client, "?q=" + booth.silent_email.split("@")[0])
    first, second = _listed(client, "?per_page=2"), _listed(client, "?per_page=2&page=2")
    assert len(first) == len(second) == 2 and first | second == set(ids.values())
    assert client.get("/exhibitor/leads?rating=9").status_code == 400
    assert client.get("/exhibitor/leads?page=x").status_code == 400


def test_exports_read_back_with_contact_columns_only_with_consent(app, client, auth, booth):
    auth.login(MINE)
    ids = _scan_all(client, booth)
    r = client.get("/exhibitor/leads.csv")
    assert r.status_code == 200 and r.mimetype == "text/csv"
    rows = list(csv.DictReader(io.StringIO(r.get_data().decode("utf-8-sig"))))
    by_id = {int(row["lead_id"]): row for row in rows}
    assert set(by_id) == set(ids.values())
    yes, no, press = by_id[ids["consenting"]], by_id[ids["silent"]], by_id[ids["press"]]
    assert (yes["email"], yes["company"], yes["contact_consent"]) == (booth.consenting_email,
                                                                      booth.consenting_company, "yes")
    assert yes["phone"] == "'" + booth.consenting_phone  # quoted against CSV formula injection (expo.listing)
    assert yes["interests"] and yes["job_title"] == booth.consenting_job
    assert (yes["rating"], yes["tags"], yes["notes"]) == ("5", "distributor, 跟进", "big order")
    assert no["name"] == booth.silent_name and no["contact_consent"] == "no"
    assert [no[c] for c in ("company", "email", "phone", "job_title", "interests", "products_sought")] == [""] * 6
    assert press["company"] == "Footwear Daily 鞋业日报" and press["email"] == "" and press["kind"] == "visitor"
    assert booth.silent_email not in r.get_data(as_text=True)

    x = client.get("/exhibitor/leads.xlsx?tag=distributor")
    assert x.status_code == 200
    sheet = load_workbook(io.BytesIO(x.get_data()), read_only=True).active
    table = [list(row) for row in sheet.iter_rows(values_only=True)]
    header, body = table[0], table[1:]
    assert tuple(header) == leads.EXPORT_HEADERS and len(body) == 2
    got = {row[0]: dict(zip(header, row, strict=True)) for row in body}
    assert got[ids["consenting"]]["email"] == booth.consenting_email
    assert got[ids["consenting"]]["phone"] == booth.consenting_phone  # a text cell: no quote needed
    assert got[ids["silent"]]["email"] in (None, "") and got[ids["silent"]]["phone"] in (None, "")
    assert client.get("/exhibitor/leads.pdf").status_code == 404
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(AuditEntry)
                                 .where(AuditEntry.action == "leads_exported")) == 2


# --- one exhibitor's leads are its own ---------------------------------------------------------------------------

def test_an_exhibitor_never_reaches_another_exhibitors_leads(app, client, auth, token, booth):
    auth.login(MINE)
    ids = _scan_all(client, booth)
    auth.logout()
    auth.login(OTHER)
    for lead_id in ids.values():
        assert client.get(f"/exhibitor/leads/{lead_id}").status_code == 404
        assert client.post(f"/exhibitor/leads/{lead_id}", data={"notes": "mine now", "rating": "1"}).status_code \
            == 404
    assert _listed(client) == set()
    assert client.get("/exhibitor/leads.csv").get_data().decode("utf-8-sig").count("\n") == 1  # the header only
    # The same badge at the other booth is the other exhibitor's own lead.
    theirs = lead_id_of(scan_page(client, booth.consenting))
    assert theirs not in ids.values() and _listed(client) == {theirs}
    headers, client = token(OTHER), app.test_client()
    for lead_id in ids.values():
        assert client.get(f"{API}/{lead_id}", headers=headers).status_code == 404
        r = client.patch(f"{API}/{lead_id}", json={"notes": "mine now"}, headers=headers)
        assert r.status_code == 404 and r.get_json()["error"] == "not_found"
    assert [i["id"] for i in app.test_client().get(API, headers=headers).get_json()["items"]] == [theirs]
    with app.app_context():
        assert db.session.get(Lead, ids["consenting"]).notes == "big order"


def test_only_exhibitor_accounts_collect_leads(app, client, auth, token, booth):
    for email in ("gate@expo.test", "staff@expo.test", "buyer@expo.test"):
        auth.login(email)
        assert client.get("/exhibitor/leads").status_code == 403
        assert client.post("/exhibitor/leads/scan", data={"code": booth.consenting}).status_code == 403
        auth.logout()
        # A program with a token carries no cookies (Flask-Login's strong session protection would otherwise
        # take the logged-out session for a stolen one and ignore the token).
        bare = app.test_client()
        assert bare.post(API, json={"code": booth.consenting}, headers=token(email)).status_code == 403
    assert app.test_client().get(API).status_code == 401
    assert client.get("/exhibitor/leads").status_code == 302
    with app.app_context():
        assert count(Lead) == 0


# --- the API -----------------------------------------------------------------------------------------------------

@pytest.fixture
def spec(client):
    return client.get("/api/v1/openapi.json").get_json()


def _check(spec, path: str, method: str, r) -> None:
    schema = spec["paths"][path][method]["responses"][str(r.status_code)]["content"]["application/json"]["schema"]
    jsonschema.validate(r.get_json(), {**schema, "components": spec["components"]},
                        cls=jsonschema.Draft202012Validator)


def test_the_api_scans_lists_and_changes_leads(app, client, token, booth, spec):
    headers = token(MINE)
    r = client.post(API, json={"code": booth.consenting, "rating": 3, "tags": ["Hot", "hot", "Shoes"]},
                    headers=headers)
    assert r.status_code == 200, r.get_json()
    _check(spec, API, "post", r)
    body = r.get_json()
    assert body["created"] is True and body["email"] == booth.consenting_email and body["contact_consent"] is True
    assert (body["rating"], body["tags"]) == (3, ["hot", "shoes"])
    again = client.post(API, json={"code": booth.consenting}, headers=headers).get_json()
    assert again["created"] is False and again["id"] == body["id"] and again["rating"] == 3
    silent = client.post(API, json={"code": booth.silent}, headers=headers).get_json()
    assert silent["contact_consent"] is False and silent["name"] == booth.silent_name
    assert [silent[k] for k in ("company", "email", "phone", "job_title", "products_sought")] == [""] * 5
    assert silent["interests"] == [] and silent["country"] == booth.silent_country

    listing = client.get(f"{API}?rating=3", headers=headers)
    _check(spec, API, "get", listing)
    assert [i["id"] for i in listing.get_json()["items"]] == [body["id"]]
    assert client.get(f"{API}?tag=shoes", headers=headers).get_json()["total"] == 1

    patched = client.patch(f"{API}/{body['id']}", json={"notes": "call back", "tags": "a, B"}, headers=headers)
    assert patched.status_code == 200
    _check(spec, f"{API}/{{lead_id}}", "patch", patched)
    assert (patched.get_json()["notes"], patched.get_json()["tags"], patched.get_json()["rating"]) == (
        "call back", ["a", "b"], 3)  # what the body leaves out stays
    cleared = client.patch(f"{API}/{body['id']}", json={"rating": None}, headers=headers).get_json()
    assert cleared["rating"] == 0 and cleared["notes"] == "call back"
    one = client.get(f"{API}/{body['id']}", headers=headers)
    _check(spec, f"{API}/{{lead_id}}", "get", one)
    assert one.get_json()["notes"] == "call back"


@pytest.mark.parametrize("body, status, field", [
    ("not json", 400, None), ({}, 422, "code"), ({"code": ""}, 422, "code"), ({"code": ["x"]}, 422, "code"),
    ({"code": True}, 422, "code"), ({"code": "A" * 1001}, 422, "code"), ({"code": "ABC"}, 422, "code"),
    ({"code": "__consenting__", "rating": 6}, 422, "rating"),
    ({"code": "__consenting__", "rating": "x"}, 422, "rating"),
    ({"code": "__consenting__", "rating": True}, 422, "rating"),
    ({"code": "__consenting__", "tags": [1, 2]}, 422, "tags"),
    ({"code": "__consenting__", "tags": {"a": 1}}, 422, "tags"),
    ({"code": "__consenting__", "tags": ",".join(f"t{i}" for i in range(30))}, 422, "tags"),
    ({"code": "__consenting__", "notes": "\x00"}, 422, "notes"),
])
def test_the_api_refuses_bad_bodies_with_reasons(app, client, token, booth, body, status, field):
    headers = token(MINE)
    if isinstance(body, dict) and body.get("code") == "__consenting__":
        body = {**body, "code": booth.consenting}
    r = client.post(API, data=body, headers=headers) if isinstance(body, str) else \
        client.post(API, json=body, headers=headers)
    assert r.status_code == status, r.get_json()
    out = r.get_json()
    assert out["error"] and out["message"]
    if field:
        assert field in out["fields"], out
    with app.app_context():
        assert count(Lead) == 0  # nothing half-written: a refused note does not leave a lead behind


def test_openapi_documents_the_leads_api(spec):
    paths = spec["paths"]
    assert set(paths[API]) == {"get", "post"} and set(paths[f"{API}/{{lead_id}}"]) == {"get", "patch"}
    assert paths[API]["post"]["x-roles"] == ["exhibitor"]
    assert {p["name"] for p in paths[API]["get"]["parameters"]} >= {"rating", "tag", "country", "q", "page"}
    assert paths[API]["post"]["requestBody"]["content"]["application/json"]["schema"]["required"] == ["code"]


# --- hostile input -----------------------------------------------------------------------------------------------

text = st.one_of(st.text(max_size=60), st.sampled_from(["\x00", "a\x00b", "，，", "、", "🙂👟", "' OR 1=1 --", "%",
                                                        "_", "\\", "null", " " * 10]),
                 st.builds(lambda s, n: s * n, st.text(min_size=1, max_size=3), st.integers(30, 2500)))
json_value = st.recursive(st.none() | st.booleans() | st.integers(-10**20, 10**20) | st.floats() | text,
                          lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=5), inner,
                                                                                      max_size=3), max_leaves=8)


@FUZZ
@given(notes=text, rating=st.one_of(text, st.integers(-3, 9).map(str)), tags=text)
def test_fuzz_the_lead_form(app, client, auth, booth, notes, rating, tags):
    auth.login(MINE)
    lead_id = lead_id_of(scan_page(client, booth.consenting))
    with app.app_context():
        before = db.session.get(Lead, lead_id)
        before = (before.notes, before.rating, list(before.tags))
        audits = count(AuditEntry)
    r = client.post(f"/exhibitor/leads/{lead_id}", data={"notes": notes, "rating": rating, "tags": tags})
    assert r.status_code < 500
    with app.app_context():
        after = db.session.get(Lead, lead_id)
        if r.status_code == 302:
            assert 0 <= after.rating <= 5 and len(after.tags) <= leads.MAX_TAGS
            assert all(t == t.casefold() and t.strip() == t and t for t in after.tags)
        else:
            assert r.status_code in (400, 422) and 'class="error"' in r.get_data(as_text=True)
            assert (after.notes, after.rating, list(after.tags)) == before and count(AuditEntry) == audits


@FUZZ
@given(code=text)
def test_fuzz_the_scan_form(app, client, auth, code):
    auth.login(MINE)
    r = client.post("/exhibitor/leads/scan", data={"code": code})
    assert r.status_code in (400, 422)  # none of these is a badge code
    assert 'class="error"' in r.get_data(as_text=True)
    with app.app_context():
        assert count(Lead) == 0


@FUZZ
@given(body=st.dictionaries(st.sampled_from(["code", "notes", "rating", "tags", "other"]), json_value, max_size=5),
       patch=st.booleans())
def test_fuzz_the_api_bodies(app, client, token, booth, body, patch):
    headers = token(MINE)
    if patch:
        lead = client.post(API, json={"code": booth.consenting}, headers=headers).get_json()
        r = client.patch(f"{API}/{lead['id']}", data=json.dumps(body), headers=headers,
                         content_type="application/json")
    else:
        r = client.post(API, data=json.dumps(body), headers=headers, content_type="application/json")
    assert r.status_code < 500
    out = r.get_json()
    if r.status_code >= 400:
        assert out["error"] and out["message"]
    else:
        assert 0 <= out["rating"] <= 5 and len(out["tags"]) <= leads.MAX_TAGS

