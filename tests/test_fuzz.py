"""Hypothesis fuzzes the registration page and the JSON API with hostile input.

Proves, for arbitrary text (unicode, control characters, NUL bytes, lone surrogates, very long strings), numbers
out of range, bad choices, missing fields and JSON of any shape:
- the app never answers 5xx (in testing mode an unexpected exception propagates, so a crash fails loudly);
- every refusal says why: the page marks a field (class "error") or flashes a reason, the API answers JSON with
  ``error`` and a non-empty ``message``;
- nothing is half-saved: a registration creates account, exhibitor and application together or nothing, and a
  refused change leaves the exhibitor, its application, staff and audit log exactly as they were.
Also checks directly that control characters are refused by every text field of every form, on pages and API,
because PostgreSQL cannot store NUL in text ("A string literal cannot contain NUL").
"""

from __future__ import annotations

import importlib
import itertools
import json
import pkgutil
import re

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select
from wtforms import Form, StringField

import expo
from expo.audit import AuditEntry
from expo.auth.models import User
from expo.auth.services import create_api_token
from expo.exhibitors.models import Exhibitor, ExhibitorStaff, SpaceApplication
from expo.extensions import db
from expo.forms import no_control_characters
from tests.factories import PASSWORD, user

API = "/api/v1"
FUZZ = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                       HealthCheck.too_slow])
_emails = itertools.count(1)

# --- strategies ---------------------------------------------------------------------------------------------------

control_text = st.just("\x00") | st.text(st.characters(max_codepoint=0x1F) | st.sampled_from("\x7f\x00"), min_size=1,
                                          max_size=8)
nasty_text = st.one_of(
    st.text(max_size=30),  # any unicode (no surrogates: a form post cannot encode them)
    st.builds(lambda a, c, b: a + c + b, st.text(max_size=5), control_text, st.text(max_size=5)),
    st.sampled_from(["\x00", "a\x00b", "\u202eevil", "🙂👟", "ＡＢＣ１２３", "' OR 1=1 --", "<script>x</script>",
                     "%", "_", "\\", "   ", "\r\n", "null", "None", "İİİ", "ß" * 60]),
    st.builds(lambda s, n: s * n, st.text(min_size=1, max_size=3), st.integers(60, 3000)),  # long
)
numbers_as_text = st.one_of(st.integers(), st.integers(-10**30, 10**30), st.floats()).map(str) | \
    st.sampled_from(["1e400", "nan", "-0", "0x10", "１２", "1_000", " 7 ", "2147483648", "9" * 40])
form_values = st.one_of(nasty_text, numbers_as_text, st.sampled_from(["standard", "raw", "prefer", "CN", "XX", "0"]))


def valid_form() -> dict[str, str]:
    return {"email": f"fuzz{next(_emails)}@example.com", "password": PASSWORD, "password_confirm": PASSWORD,
            "name_zh": "晋江测试鞋业有限公司", "name_en": "Jinjiang Fuzz Footwear Co., Ltd.", "country": "CN",
            "province": "福建", "city": "晋江", "address": "1 Test Road", "website": "https://example.com",
            "contact_name": "王伟", "contact_phone": "+86 139 0000 0000", "contact_email": "sales@example.com",
            "description": "Running shoes", "space_kind": "standard", "booths_requested": "2", "raw_space_m2": "",
            "preferred_area_id": "0", "preferred_pavilion_id": "0", "corner_preference": "none",
            "years_exhibited": "3", "competitors": "Rival Co.", "notes": ""}


FORM_FIELDS = sorted(valid_form())

json_scalars = st.none() | st.booleans() | st.integers() | st.integers(-10**30, 10**30) | st.floats() | \
    st.text(max_size=20) | nasty_text | st.text(st.characters(categories=["Cs"]), min_size=1, max_size=2)
json_values = st.recursive(json_scalars, lambda inner: st.lists(inner, max_size=4) |
                           st.dictionaries(st.text(max_size=8), inner, max_size=4), max_leaves=10)


def api_bodies(valid: dict, fields: list[str], free_text: list[str]):
    """Any JSON value; a valid body with a few fields replaced by wrong-typed values or left out; a valid body with
    hostile text in text fields (so it gets as far as the database); or the real field names with any values."""
    broken = st.builds(lambda over, drop: {k: v for k, v in {**valid, **over}.items() if k not in drop},
                       st.dictionaries(st.sampled_from(fields), json_values, min_size=1, max_size=3),
                       st.sets(st.sampled_from(fields), max_size=2))
    hostile_text = st.builds(lambda over: {**valid, **over},
                             st.dictionaries(st.sampled_from(free_text), nasty_text, min_size=1, max_size=3))
    wild = st.fixed_dictionaries({}, optional={name: json_values for name in fields})
    return st.one_of(broken, hostile_text, hostile_text, wild, json_values)


# --- helpers ------------------------------------------------------------------------------------------------------

def counts(app) -> dict[str, int]:
    with app.app_context():
        return {m.__name__: db.session.scalar(select(func.count()).select_from(m))
                for m in (User, Exhibitor, SpaceApplication, ExhibitorStaff, AuditEntry)}


def assert_page_refusal(r) -> None:
    assert 400 <= r.status_code < 500, r.status_code
    html = r.get_data(as_text=True)
    assert 'class="error"' in html or "flash-error" in html, html[:2000]


def assert_api_refusal(r) -> None:
    assert 400 <= r.status_code < 500, (r.status_code, r.get_data(as_text=True)[:300])
    assert r.is_json, r.get_data(as_text=True)[:300]
    body = r.get_json()
    assert isinstance(body["error"], str) and body["error"]
    assert isinstance(body["message"], str) and body["message"].strip()


@pytest.fixture
def bearer(app):
    def make(email: str) -> dict[str, str]:
        with app.app_context():
            _row, secret = create_api_token(user(email), "fuzz")
            db.session.commit()
        return {"Authorization": f"Bearer {secret}"}

    return make


# --- the registration page ----------------------------------------------------------------------------------------

PAGE_FREE_TEXT = ["name_zh", "name_en", "province", "city", "address", "contact_name", "description", "competitors",
                  "notes"]


@FUZZ
@given(over=st.dictionaries(st.sampled_from(FORM_FIELDS), form_values | st.lists(form_values, max_size=3),
                            max_size=4) |
       st.dictionaries(st.sampled_from(PAGE_FREE_TEXT), nasty_text, min_size=1, max_size=3),  # gets to the database
       drop=st.sets(st.sampled_from(FORM_FIELDS), max_size=3), submit=st.booleans())
def test_fuzz_registration_page(app, over, drop, submit):
    data = {k: v for k, v in {**valid_form(), **over}.items() if k not in drop}
    if submit:
        data["submit"] = "1"
    before = counts(app)
    r = app.test_client().post("/register", data=data)  # a fresh client: a success signs the client in
    event(f"status {r.status_code}")
    after = counts(app)
    if r.status_code == 302:
        assert {k: after[k] - before[k] for k in ("User", "Exhibitor", "SpaceApplication")} == \
            {"User": 1, "Exhibitor": 1, "SpaceApplication": 1}
    else:
        assert_page_refusal(r)
        assert after == before


# --- the API --------------------------------------------------------------------------------------------------------

def valid_registration() -> dict:
    return {"email": f"api-fuzz{next(_emails)}@example.com", "password": PASSWORD, "name_zh": "晋江测试鞋业有限公司",
            "name_en": "Jinjiang Fuzz Footwear", "country": "CN", "province": "福建", "city": "晋江",
            "address": "1 Test Road", "website": "https://example.com", "contact_name": "王伟",
            "contact_phone": "+86 139 0000 0000", "contact_email": "sales@example.com", "categories": [],
            "description": "Running shoes", "space_kind": "standard", "booths_requested": 2,
            "raw_space_m2": None, "preferred_area_id": None, "preferred_pavilion_id": None,
            "corner_preference": "none", "years_exhibited": 3, "competitors": "Rival Co.", "notes": "",
            "submit": True}


REGISTRATION = valid_registration()
REGISTRATION_FIELDS = sorted(REGISTRATION)


@FUZZ
@given(body=api_bodies(REGISTRATION, REGISTRATION_FIELDS,
                      ["name_zh", "name_en", "province", "city", "address", "contact_name", "description",
                       "competitors", "notes"]))
def test_fuzz_api_registration(app, client, body):
    if isinstance(body, dict) and body.get("email") == REGISTRATION["email"]:
        body = {**body, "email": f"api-fuzz{next(_emails)}@example.com"}  # else only the first could succeed
    before = counts(app)
    r = client.post(f"{API}/registrations", json=body)
    event(f"status {r.status_code}")
    after = counts(app)
    if r.status_code == 201:
        assert {k: after[k] - before[k] for k in ("User", "Exhibitor", "SpaceApplication")} == \
            {"User": 1, "Exhibitor": 1, "SpaceApplication": 1}
    else:
        assert_api_refusal(r)
        assert after == before


PROFILE = {"name_zh": "晋江测试鞋业", "name_en": "Fuzz Footwear", "country": "VN", "province": "", "city": "Hanoi",
           "address": "2 Road", "website": "https://fuzz.example.com", "contact_name": "Nguyen",
           "contact_phone": "+84 24 1234 5678", "contact_email": "fuzz@example.com", "categories": [],
           "description": "Sandals"}
APPLICATION = {"space_kind": "raw", "booths_requested": None, "raw_space_m2": 36, "preferred_area_id": None,
               "preferred_pavilion_id": None, "corner_preference": "require", "years_exhibited": 1,
               "competitors": "A\nB", "notes": "fuzz"}
STAFF = {"name": "李娜", "title": "Sales", "phone": "+86 139 0000 1234", "email": "li@example.com",
         "id_number": "E1234567"}


@FUZZ
@given(body=api_bodies(PROFILE, sorted(PROFILE), ["name_zh", "name_en", "province", "city", "address",
                                                  "contact_name", "description"]))
def test_fuzz_api_profile_patch(app, client, bearer, body):
    headers = bearer("exhibitor@expo.test")
    with app.app_context():
        ex_id = user("exhibitor@expo.test").exhibitor_id
    url = f"{API}/exhibitors/{ex_id}"
    before, rows = client.get(url, headers=headers).get_json(), counts(app)
    r = client.patch(url, json=body, headers=headers)
    event(f"status {r.status_code}")
    if r.status_code == 200:
        assert r.get_json() == client.get(url, headers=headers).get_json()
    else:
        assert_api_refusal(r)
        assert client.get(url, headers=headers).get_json() == before
        assert counts(app) == rows


@FUZZ
@given(body=api_bodies(APPLICATION, sorted(APPLICATION), ["competitors", "notes"]))
def test_fuzz_api_application_patch(app, client, bearer, body):
    headers = bearer("admin@expo.test")  # organizers may change an application in any status
    url = f"{API}/exhibitors/2/application"
    before, rows = client.get(url, headers=headers).get_json(), counts(app)
    r = client.patch(url, json=body, headers=headers)
    event(f"status {r.status_code}")
    if r.status_code == 200:
        assert r.get_json() == client.get(url, headers=headers).get_json()
    else:
        assert_api_refusal(r)
        assert client.get(url, headers=headers).get_json() == before
        assert counts(app) == rows


@FUZZ
@given(body=api_bodies(STAFF, sorted(STAFF), ["name", "title"]))
def test_fuzz_api_staff_post(app, client, bearer, body):
    headers = bearer("exhibitor@expo.test")
    with app.app_context():
        ex_id = user("exhibitor@expo.test").exhibitor_id
    url = f"{API}/exhibitors/{ex_id}/staff"
    before, rows = client.get(url, headers=headers).get_json(), counts(app)
    r = client.post(url, json=body, headers=headers)
    event(f"status {r.status_code}")
    after = client.get(url, headers=headers).get_json()
    if r.status_code == 201:
        assert after == [*before, r.get_json()]
    else:
        assert_api_refusal(r)
        assert after == before and counts(app) == rows


@FUZZ
@given(params=st.dictionaries(st.sampled_from(["status", "country", "area_id", "pavilion_id", "category_id", "q",
                                               "submitted_from", "submitted_to", "sort", "desc", "page",
                                               "per_page"]), form_values, max_size=4))
def test_fuzz_api_list_filters(client, bearer, params):
    r = client.get(f"{API}/exhibitors", query_string=params, headers=bearer("staff@expo.test"))
    event(f"status {r.status_code}")
    if r.status_code != 200:
        assert_api_refusal(r)


# --- control characters: every text field, pages and API ------------------------------------------------------------

def _all_form_classes() -> list[type[Form]]:
    for info in pkgutil.walk_packages(expo.__path__, "expo."):
        importlib.import_module(info.name)
    seen, todo = [], [Form]
    while todo:
        for sub in todo.pop().__subclasses__():
            todo.append(sub)
            if sub.__module__.startswith("expo.") and sub not in seen:
                seen.append(sub)
    return seen


def _instance(form_cls, formdata):
    from flask_wtf import FlaskForm

    kwargs = {"meta": {"csrf": False}} if issubclass(form_cls, FlaskForm) else {}
    try:
        return form_cls(formdata, **kwargs)
    except TypeError:  # forms that take their choices as keyword arguments
        return form_cls(formdata, status_choices=(), area_choices=(), pavilion_choices=(), category_choices=(),
                        locale="en")


def test_every_text_field_of_every_form_refuses_control_characters(app):
    from werkzeug.datastructures import MultiDict

    classes = _all_form_classes()
    assert {"RegistrationForm", "LoginForm", "StaffForm", "QueueFilterForm", "CategoryForm", "AccountForm",
            "ReasonForm"} <= {c.__name__ for c in classes}
    checked = 0
    with app.test_request_context():
        for form_cls in classes:
            names = [n for n, f in _instance(form_cls, None)._fields.items()
                     if isinstance(f, StringField) and n != "csrf_token"]
            form = _instance(form_cls, MultiDict({n: "ok\x00bad" for n in names}))
            form.validate()
            for name in names:
                field = form._fields[name]
                assert no_control_characters in field.validators, (form_cls.__name__, name)
                assert any("control characters" in str(e) for e in field.errors), (form_cls.__name__, name,
                                                                                   field.errors)
                checked += 1
    assert checked >= 30


@pytest.mark.parametrize("text", ["a\x00b", "\x00", "\x1b[31mred", "bell\x07", "del\x7f"])
def test_control_characters_refused_on_the_pages(app, client, auth, text):
    before = counts(app)
    r = client.post("/register", data={**valid_form(), "city": text, "notes": text, "submit": "1"})
    assert_page_refusal(r)
    assert r.get_data(as_text=True).count("Remove the control characters") == 2
    r = client.post("/login", data={"email": f"admin@expo.test{text}", "password": text})
    assert_page_refusal(r)
    assert "Remove the control characters" in r.get_data(as_text=True)
    auth.login("exhibitor@expo.test")
    r = client.post("/exhibitor/staff", data={"name": text, "title": "t"})
    assert_page_refusal(r)
    r = client.get("/exhibitor/staff")
    assert text not in r.get_data(as_text=True)
    assert counts(app)["ExhibitorStaff"] == before["ExhibitorStaff"]
    auth.logout()
    auth.login()
    r = client.get("/organizer/applications", query_string={"q": text})
    assert r.status_code == 400 and "Remove the control characters" in r.get_data(as_text=True)
    assert counts(app) == {**before, "AuditEntry": counts(app)["AuditEntry"]}


def test_control_characters_refused_in_chinese_on_the_page(client):
    r = client.post("/register", data={**valid_form(), "city": "晋\x00江"}, headers={"Accept-Language": "zh-CN"})
    assert_page_refusal(r)
    errors = re.findall(r'<p class="error"[^>]*>([^<]+)</p>', r.get_data(as_text=True))
    assert len(errors) == 1 and re.search(r"[\u4e00-\u9fff]", errors[0]), errors


def test_control_characters_refused_by_the_api(app, client, bearer):
    headers = bearer("admin@expo.test")
    before = counts(app)
    for field in ("name_en", "city", "description", "contact_name", "email", "password", "competitors"):
        r = client.post(f"{API}/registrations", json={**valid_registration(), field: "x\x00y"})
        assert_api_refusal(r)
        assert any("control characters" in m for m in r.get_json()["fields"][field]), (field, r.get_json())
    profile = client.get(f"{API}/exhibitors/3", headers=headers).get_json()
    for raw in ('{"city": "a\\u0000b"}', '{"city": "\\ud800"}', '{"address": "\\udfff x"}'):
        r = client.patch(f"{API}/exhibitors/3", data=raw, content_type="application/json", headers=headers)
        assert_api_refusal(r)
    assert client.get(f"{API}/exhibitors/3", headers=headers).get_json() == profile
    assert_api_refusal(client.post(f"{API}/exhibitors/3/staff", json={"name": "\x1b[2J"}, headers=headers))
    assert_api_refusal(client.post(f"{API}/exhibitors/2/application/rejected", json={"reason": "no\x00"},
                                   headers=headers))
    assert_api_refusal(client.get(f"{API}/exhibitors", query_string={"q": "\x00"}, headers=headers))
    assert counts(app) == before
    # tabs and line breaks are ordinary text
    r = client.patch(f"{API}/exhibitors/3", json={"description": "Line one\r\nLine\ttwo"}, headers=headers)
    assert r.status_code == 200 and r.get_json()["description"] == "Line one\r\nLine\ttwo"


def test_lone_surrogates_and_huge_numbers_in_json(app, client, bearer):
    headers = bearer("admin@expo.test")
    raw = json.dumps({**valid_registration(), "name_en": "\ud83d"})  # half of an emoji
    assert_api_refusal(client.post(f"{API}/registrations", data=raw, content_type="application/json"))
    for ids in ([10**30], [2**31], [0], [-1], ["1e3"]):
        r = client.post(f"{API}/applications/decisions", json={"application_ids": ids, "decision": "approved"},
                        headers=headers)
        assert_api_refusal(r)
    r = client.post(f"{API}/registrations", data='{"booths_requested": ' + "9" * 5000 + "}",
                    content_type="application/json")
    assert_api_refusal(r)
    assert_api_refusal(client.get(f"{API}/exhibitors/" + "9" * 5000, headers=headers))
