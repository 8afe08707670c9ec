"""Delegations: the rules for a delegation and its members, the leader's pages, the organizer's board and exports.

- Services: every member field is checked (Latin passport name, passport number normalized and 5–20 A–Z/0–9,
  passport valid six months after the expo, ISO nationality, a sensible date of birth, e-mail and passport number
  unique in the delegation); delegation dates (departure after arrival, around the expo); a new leader e-mail gets a
  delegation-leader account and a working set-password link.
- The leader adds, edits and removes members and keeps the travel details; leader@ cannot see or change leader2@'s
  delegation or members (404, nothing changed); buyers and exhibitors get 403.
- Passport data: every read is in the audit log; exports leave it out unless an organizer admin asks (staff: 403).
- The organizer's board: the arrival schedule grouped by day, filters, search, pages, CSV/XLSX read back.
- Hypothesis fuzzes the member and delegation forms: no 5xx, a reason for every refusal, nothing half-written.
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import replace
from datetime import date, datetime, timedelta
from typing import Any

import pytest
from flask import url_for
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from openpyxl import load_workbook
from sqlalchemy import func, inspect, select

from expo import demo
from expo.audit import AuditEntry
from expo.auth.models import Role, User
from expo.buyers import delegations as services
from expo.buyers.delegations import DelegationData, DelegationError, MemberData, MemberError
from expo.buyers.models import Buyer, Delegation, Passport
from expo.categories.models import ProductCategory
from expo.errors import ExpoError
from expo.exhibitors.services import current_expo
from expo.extensions import db
from expo.mail import OutboxMail
from tests.factories import user

LEADER, LEADER2 = "leader@expo.test", "leader2@expo.test"
FUZZ = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                      HealthCheck.too_slow])


# --- helpers ---------------------------------------------------------------------------------------------------------

def member_data(**overrides: Any) -> MemberData:
    values = dict(name="Sergey Volkov", name_native="Сергей Волков", company="Volkov Obuv", job_title="Buyer",
                  email="s.volkov@example.ru", phone="+7 495 123-45-67", passport_number="751234567",
                  passport_expires_on=date(2031, 5, 1), nationality="RU", date_of_birth=date(1979, 3, 8))
    values.update(overrides)
    return MemberData(**values)


def member_form(**overrides: str) -> dict[str, str]:
    form = {"name": "Sergey Volkov", "name_native": "Сергей Волков", "company": "Volkov Obuv", "job_title": "Buyer",
            "email": "s.volkov@example.ru", "phone": "+7 495 123-45-67", "passport_number": "75 1234567",
            "passport_expires_on": "2031-05-01", "nationality": "RU", "date_of_birth": "1979-03-08"}
    form.update(overrides)
    return form


def ensure_demo_delegations() -> dict[str, int]:
    """Ids of delegation 1 (leader@) and delegation 2 (leader2@) and one member of each: the demo's, or made here
    with the services if the demo does not have them."""
    admin = user("admin@expo.test")
    expo = current_expo()
    out: dict[str, int] = {}
    for key, email, name, country in (("d1", LEADER, "Russian Footwear Retailers Delegation", "RU"),
                                      ("d2", LEADER2, "Vietnam Leather and Footwear Buyers Delegation", "VN")):
        leader = user(email)
        delegation = db.session.scalars(select(Delegation).where(Delegation.leader_user_id == leader.id)
                                        .order_by(Delegation.id)).first() if leader else None
        if delegation is None:
            delegation = services.create_delegation(admin, expo, DelegationData(name=name, country=country),
                                                    leader_email=email, leader_name=name)
        members = services.members_of(delegation)
        for i in range(len(members), 3):
            services.add_member(admin, delegation, member_data(
                name=f"Member {chr(65 + i)} {key}", email="", passport_number=f"{key.upper()}X{i:05d}",
                nationality=country))
        db.session.commit()
        out[key] = delegation.id
        out[f"{key}_member"] = services.members_of(delegation)[0].id
    return out


@pytest.fixture
def ids(app) -> dict[str, int]:
    with app.app_context():
        return ensure_demo_delegations()


def sign_in(client, email: str) -> None:
    r = client.post("/login", data={"email": email, "password": demo.DEMO_PASSWORD})
    assert r.status_code == 302, r.get_data(as_text=True)[:500]


def columns(obj) -> dict[str, Any]:
    return {a.key: getattr(obj, a.key) for a in inspect(obj).mapper.column_attrs}


def delegation_state(delegation_id: int) -> dict[str, Any]:
    """Everything stored about a delegation: its row, interests, members and their passports."""
    db.session.expire_all()
    d = db.session.get(Delegation, delegation_id)
    members = list(db.session.scalars(select(Buyer).where(Buyer.delegation_id == delegation_id).order_by(Buyer.id)))
    passports = list(db.session.scalars(select(Passport).where(Passport.buyer_id.in_([m.id for m in members]))
                                        .order_by(Passport.buyer_id)))
    return {"delegation": columns(d), "categories": sorted(c.id for c in d.categories),
            "members": [columns(m) for m in members], "passports": [columns(p) for p in passports]}


def counts() -> dict[str, int]:
    db.session.expire_all()
    return {m.__name__: db.session.scalar(select(func.count()).select_from(m))
            for m in (Buyer, Passport, Delegation, User, AuditEntry, OutboxMail)}


def errors_in(html: str) -> list[str]:
    return re.findall(r'class="error" role="alert">([^<]*)<', html)


def passport_reads(**where: Any) -> list[AuditEntry]:
    entries = db.session.scalars(select(AuditEntry).where(AuditEntry.action == "passport_read")).all()
    return [e for e in entries if all(e.changes.get(k) == v for k, v in where.items())]


# --- services: members -------------------------------------------------------------------------------------------------

def test_add_member_normalizes_stores_the_passport_apart_and_audits_without_it(app, ctx, ids):
    delegation = db.session.get(Delegation, ids["d1"])
    leader = user(LEADER)
    buyer = services.add_member(leader, delegation, member_data(
        name="  Sergey   Volkov ", passport_number="ｅ12 345-678", nationality="ru", email="S.Volkov@Example.RU"))
    db.session.commit()
    assert (buyer.name, buyer.email, buyer.country, buyer.delegation_id) == \
        ("Sergey Volkov", "s.volkov@example.ru", delegation.country, delegation.id)
    passport = db.session.get(Passport, buyer.id)
    assert (passport.number, passport.nationality, passport.date_of_birth) == ("E12345678", "RU", date(1979, 3, 8))
    entry = db.session.scalars(select(AuditEntry).where(AuditEntry.action == "delegation_member_added",
                                                        AuditEntry.object_id == buyer.id)).one()
    assert entry.actor_id == leader.id and entry.changes["name"] == "Sergey Volkov"
    assert "E12345678" not in str(entry.changes) and "1979" not in str(entry.changes)


def _problems(data: MemberData, **kwargs) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for p in services.validate_member(current_expo(), data.normalized(), **kwargs):
        out.setdefault(p.field, []).append(str(p))
    return out


def test_a_valid_member_has_no_problems(ctx):
    assert _problems(member_data()) == {}
    assert _problems(member_data(name="José O'Neil-Smith Jr.", name_native="", company="", job_title="", email="",
                                 phone="", passport_number="Ａ１２３４５６")) == {}


EXPO_END_PLUS_6M = date(2027, 10, 22)  # the demo expo ends on 2027-04-22


@pytest.mark.parametrize(("field", "value", "message"), [
    ("name", "", "Give the name as written in the passport"),
    ("name", "Иван Петров", "Latin letters"),
    ("name", "王伟", "Latin letters"),
    ("name", "Ivan Petrov 2", "Latin letters"),
    ("name", "...", "Latin letters"),
    ("name", "A" * 201, "at most 200"),
    ("name_native", "Ж" * 201, "at most 200"),
    ("company", "C" * 201, "at most 200"),
    ("job_title", "J" * 101, "at most 100"),
    ("email", "not-an-address", "valid e-mail"),
    ("email", "a@b", "valid e-mail"),
    ("email", "a" * 250 + "@x.com", "at most 254"),
    ("phone", "call me", "phone number"),
    ("passport_number", "", "Give the passport number"),
    ("passport_number", "AB12", "5 to 20"),
    ("passport_number", "A" * 21, "5 to 20"),
    ("passport_number", "AB#12345", "5 to 20"),
    ("passport_number", "ПАСПОРТ123", "5 to 20"),
    ("nationality", "", "Choose the nationality"),
    ("nationality", "XX", "two-letter country code"),
    ("nationality", "RUS", "two-letter country code"),
    ("passport_expires_on", None, "Give the date the passport expires"),
    ("passport_expires_on", EXPO_END_PLUS_6M - timedelta(days=1), "needs a new passport"),
    ("passport_expires_on", date(2027, 4, 1), "needs a new passport"),
    ("passport_expires_on", date(2020, 1, 1), "needs a new passport"),
    ("passport_expires_on", date(2099, 1, 1), "no passport is valid that long"),
    ("date_of_birth", None, "Give the date of birth"),
    ("date_of_birth", date.today(), "in the past"),
    ("date_of_birth", date.today() + timedelta(days=400), "in the past"),
    ("date_of_birth", date(1899, 12, 31), "before 1900"),
])
def test_each_member_field_is_checked(ctx, field, value, message):
    problems = _problems(member_data(**{field: value}))
    assert list(problems) == [field], problems
    assert message in problems[field][0], problems


def test_passport_valid_exactly_six_months_after_the_expo_is_enough(ctx):
    assert services.passport_valid_until(current_expo()) == EXPO_END_PLUS_6M
    assert _problems(member_data(passport_expires_on=EXPO_END_PLUS_6M)) == {}
    assert services.add_months(date(2027, 8, 31), 6) == date(2028, 2, 29)


def test_values_as_imports_and_the_api_send_them_are_understood(ctx):
    assert _problems(member_data(passport_expires_on="2031-05-01", date_of_birth=datetime(1979, 3, 8),
                                 nationality=" ru ", passport_number=" 75 123-4567 ")) == {}
    problems = _problems(member_data(date_of_birth="08.03.1979", passport_expires_on="soon"))
    assert problems == {"date_of_birth": ["Enter the date as YYYY-MM-DD."],
                        "passport_expires_on": ["Enter the date as YYYY-MM-DD."]}
    assert services.validate_delegation(current_expo(), delegation_data(arrival_date="tomorrow").normalized())[0] \
        .field == "arrival_date"


def test_control_characters_are_refused_by_the_services_too(ctx, ids):
    """An import cell or an API value may carry NUL past the forms: refused with a reason, never sent to the
    database (PostgreSQL cannot even compare it)."""
    d1 = db.session.get(Delegation, ids["d1"])
    problems = _problems(member_data(email="a\x00@x.com", passport_number="AB\x0012345", name="Iv\x00an"),
                         delegation=d1)
    assert set(problems) == {"email", "passport_number", "name"}
    assert all("control characters" in p[0] for p in problems.values())
    admin, expo = user("admin@expo.test"), current_expo()
    for kwargs in ({"data": delegation_data(name="Bad\x00name")}, {"leader_email": "a\x00@example.com"},
                   {"leader_email": "new@example.com", "leader_name": "Nul\x00"}):
        with pytest.raises(DelegationError):
            services.create_delegation(admin, expo, kwargs.pop("data", delegation_data()), **kwargs)
        db.session.rollback()


def test_email_and_passport_number_are_unique_within_the_delegation(ctx, ids):
    d1, d2 = db.session.get(Delegation, ids["d1"]), db.session.get(Delegation, ids["d2"])
    admin = user("admin@expo.test")
    first = services.add_member(admin, d1, member_data())
    again = member_data(email="S.VOLKOV@example.ru", passport_number="75-1234567")
    problems = _problems(again, delegation=d1)
    assert set(problems) == {"email", "passport_number"}
    assert "Sergey Volkov" in problems["email"][0]  # the leader sees who has it: their own member
    with pytest.raises(MemberError) as refused:
        services.add_member(admin, d1, again)
    assert {p.field for p in refused.value.problems} == {"email", "passport_number"}
    # Another delegation may have the same person's e-mail; a member keeps their own data when edited.
    assert _problems(again, delegation=d2) == {}
    assert _problems(member_data(), delegation=d1, member=first) == {}


def test_a_refused_member_writes_nothing(ctx, ids):
    delegation = db.session.get(Delegation, ids["d1"])
    before = counts()
    with pytest.raises(MemberError) as refused:
        services.add_member(user(LEADER), delegation, member_data(name="Иван", passport_number="x",
                                                                  date_of_birth=None))
    db.session.rollback()
    assert refused.value.field == "name" and refused.value.status == 400
    assert {p.field for p in refused.value.problems} == {"name", "passport_number", "date_of_birth"}
    assert counts() == before


def test_update_member_masks_passport_data_in_the_audit_log(ctx, ids):
    delegation = db.session.get(Delegation, ids["d1"])
    leader = user(LEADER)
    member = services.add_member(leader, delegation, member_data())
    changes = services.update_member(leader, member, member_data(job_title="Owner", passport_number="761111111",
                                                                 date_of_birth=date(1980, 1, 2), nationality="KZ"))
    db.session.commit()
    assert changes["job_title"] == ["Buyer", "Owner"]
    assert changes["passport_number"] == ["***", "***"] and changes["date_of_birth"] == ["***", "***"]
    assert changes["nationality"] == ["RU", "KZ"]
    assert db.session.get(Passport, member.id).number == "761111111"
    entry = db.session.scalars(select(AuditEntry).where(AuditEntry.action == "delegation_member_updated")).one()
    assert "751234567" not in str(entry.changes) and "761111111" not in str(entry.changes)
    assert services.update_member(leader, member, member_data(job_title="Owner", passport_number="761111111",
                                                              date_of_birth=date(1980, 1, 2), nationality="KZ")) == {}


def test_remove_member_deletes_them_and_their_passport(ctx, ids):
    delegation = db.session.get(Delegation, ids["d1"])
    leader = user(LEADER)
    member = services.add_member(leader, delegation, member_data())
    member_id = member.id
    services.remove_member(leader, member)
    db.session.commit()
    assert db.session.get(Buyer, member_id) is None and db.session.get(Passport, member_id) is None
    assert db.session.scalars(select(AuditEntry).where(AuditEntry.action == "delegation_member_removed",
                                                       AuditEntry.object_id == member_id)).one()


def test_removing_a_buyer_with_an_account_only_takes_them_off_the_delegation(ctx, ids):
    delegation = db.session.get(Delegation, ids["d1"])
    member = services.add_member(user("admin@expo.test"), delegation, member_data())
    member.user_id = user("buyer@expo.test").id
    services.remove_member(user(LEADER), member)
    db.session.commit()
    assert db.session.get(Buyer, member.id).delegation_id is None


def test_members_of_another_leader_are_refused_by_the_services_too(ctx, ids):
    other = db.session.get(Delegation, ids["d2"])
    member = db.session.get(Buyer, ids["d2_member"])
    leader = user(LEADER)
    for call in (lambda: services.add_member(leader, other, member_data()),
                 lambda: services.update_member(leader, member, member_data()),
                 lambda: services.remove_member(leader, member),
                 lambda: services.update_delegation(leader, other, DelegationData.of(other))):
        with pytest.raises(ExpoError) as refused:
            call()
        assert refused.value.status == 403


# --- services: delegations ---------------------------------------------------------------------------------------------

def delegation_data(**overrides: Any) -> DelegationData:
    values = dict(name="Kenya Footwear Importers", country="KE", organization="Kenya Importers Association",
                  arrival_date=date(2027, 4, 18), departure_date=date(2027, 4, 23), arrival_flight="et 690",
                  departure_flight="ET 691", hotel="Wanda Realm Jinjiang", interpreter_needed=True,
                  interpreter_language="Swahili", notes="VIP", category_ids=[])
    values.update(overrides)
    return DelegationData(**values)


@pytest.mark.parametrize(("overrides", "field", "message"), [
    ({"name": "  "}, "name", "Give the delegation a name"),
    ({"country": ""}, "country", "Choose the country"),
    ({"country": "XX"}, "country", "from the list"),
    ({"departure_date": date(2027, 4, 17)}, "departure_date", "cannot be before the arrival"),
    ({"arrival_date": date(2027, 4, 23), "departure_date": date(2027, 4, 25)}, "arrival_date",
     "arrive by the expo's last day"),
    ({"arrival_date": None, "departure_date": date(2027, 4, 18)}, "departure_date", "stay until the expo's first"),
    ({"arrival_date": date(2026, 12, 1)}, "arrival_date", "more than two months before"),
    ({"departure_date": date(2027, 9, 1)}, "departure_date", "more than two months after"),
    ({"interpreter_language": " "}, "interpreter_language", "Say which language"),
    ({"arrival_flight": "X" * 21}, "arrival_flight", "at most 20"),
    ({"category_ids": [2**31 - 1]}, "categories", "Choose product categories"),
])
def test_delegation_rules(ctx, overrides, field, message):
    problems = services.validate_delegation(current_expo(), delegation_data(**overrides).normalized())
    assert [p.field for p in problems] == [field], problems
    assert message in problems[0]


def test_create_delegation_for_a_new_leader_makes_the_account_and_mails_a_working_link(app, client, ids):
    with app.app_context():
        expo = current_expo()
        before = counts()
        delegation = services.create_delegation(
            user("admin@expo.test"), expo, delegation_data(), leader_email="Wanjiru@Example.com",
            leader_name="Wanjiru Kamau", set_password_url_for=lambda token: f"http://localhost/password/reset/{token}")
        db.session.commit()
        leader = user("wanjiru@example.com")
        assert leader.role == Role.DELEGATION_LEADER and delegation.leader_user_id == leader.id
        assert (delegation.arrival_flight, delegation.notes) == ("ET 690", "VIP")
        mail = db.session.scalars(select(OutboxMail).where(OutboxMail.recipient == "wanjiru@example.com")).one()
        assert "Kenya Footwear Importers" in mail.body
        link = re.search(r"http://localhost(/password/reset/\S+)", mail.body).group(1)
        after = counts()
        assert after["User"] == before["User"] + 1 and after["Delegation"] == before["Delegation"] + 1
        actions = set(db.session.scalars(select(AuditEntry.action).where(AuditEntry.id > 0)))
        assert {"delegation_created", "leader_account_created", "delegation_leader_assigned"} <= actions
        delegation_id = delegation.id
    assert client.get(link).status_code == 200
    r = client.post(link, data={"password": "a new leader password", "password_confirm": "a new leader password"})
    assert r.status_code == 302
    assert client.post("/login", data={"email": "wanjiru@example.com", "password": "a new leader password"}
                       ).status_code == 302
    r = client.get("/leader/", follow_redirects=True)
    assert r.status_code == 200 and "Kenya Footwear Importers" in r.get_data(as_text=True)
    assert r.request.path == f"/leader/delegations/{delegation_id}"


def test_leader_email_of_another_kind_of_account_is_refused_and_an_existing_leader_is_reused(ctx, ids):
    admin, expo = user("admin@expo.test"), current_expo()
    before = counts()
    with pytest.raises(DelegationError) as refused:
        services.create_delegation(admin, expo, delegation_data(), leader_email="exhibitor@expo.test")
    assert refused.value.field == "leader_email"
    db.session.rollback()
    with pytest.raises(DelegationError) as refused:
        services.create_delegation(admin, expo, delegation_data(), leader_email="nobody@example.com")
    assert refused.value.field == "leader_name"
    db.session.rollback()
    assert counts() == before
    second = services.create_delegation(admin, expo, delegation_data(), leader_email=LEADER)
    db.session.commit()
    assert second.leader_user_id == user(LEADER).id
    assert counts()["OutboxMail"] == before["OutboxMail"] and counts()["User"] == before["User"]


def test_the_leader_may_change_travel_details_but_not_who_the_delegation_is(ctx, ids):
    delegation = db.session.get(Delegation, ids["d1"])
    leader = user(LEADER)
    changes = services.update_delegation(leader, delegation, replace(
        DelegationData.of(delegation), hotel="Quanzhou Hotel", arrival_date=date(2027, 4, 18)))
    assert changes["hotel"][1] == "Quanzhou Hotel"
    with pytest.raises(DelegationError) as refused:
        services.update_delegation(leader, delegation, replace(DelegationData.of(delegation), name="Renamed"))
    assert refused.value.status == 403


# --- the leader's pages ------------------------------------------------------------------------------------------------

def test_leader_home_opens_the_only_delegation(client, ids):
    sign_in(client, LEADER)
    r = client.get("/leader/")
    assert r.status_code == 302 and r.location.endswith(f"/leader/delegations/{ids['d1']}")
    assert "My delegation" in client.get(r.location).get_data(as_text=True)


def test_the_delegation_page_links_to_the_letters_and_the_import(app, client, ids):
    from expo.buyers.delegation_views import OTHER_PAGES

    for side, email, prefix in (("leader", LEADER, "/leader"), ("organizer", "staff@expo.test", "/organizer")):
        sign_in(client, email)
        html = client.get(f"{prefix}/delegations/{ids['d1']}").get_data(as_text=True)
        for key, endpoint in OTHER_PAGES[side].items():
            if endpoint in app.view_functions:
                with app.test_request_context():
                    assert f'href="{url_for(endpoint, delegation_id=ids["d1"])}"' in html, (side, key)
        client.post("/logout")


def test_leader_sees_members_with_passport_data_and_each_read_is_audited(app, client, ids):
    sign_in(client, LEADER)
    r = client.get(f"/leader/delegations/{ids['d1']}")
    assert r.status_code == 200
    html = r.get_data(as_text=True)
    with app.app_context():
        delegation = db.session.get(Delegation, ids["d1"])
        members = services.members_of(delegation)
        numbers = [db.session.get(Passport, m.id).number for m in members]
        other_numbers = [db.session.get(Passport, m.id).number
                         for m in services.members_of(db.session.get(Delegation, ids["d2"]))]
        reads = passport_reads(purpose="member_page")
        assert len(reads) == len(members)
        assert {e.object_id for e in reads} == {m.id for m in members}
        assert {e.actor_id for e in reads} == {user(LEADER).id}
    assert all(n in html for n in numbers)
    assert not any(n in html for n in other_numbers)


def test_leader_adds_edits_and_removes_a_member_through_the_pages(app, client, ids):
    sign_in(client, LEADER)
    d1 = ids["d1"]
    r = client.get(f"/leader/delegations/{d1}/members/new")
    assert r.status_code == 200 and '<option selected value="RU">' in r.get_data(as_text=True)
    r = client.post(f"/leader/delegations/{d1}/members/new", data=member_form())
    assert r.status_code == 302 and r.location.endswith(f"/leader/delegations/{d1}#members")
    with app.app_context():
        member = db.session.scalars(select(Buyer).where(Buyer.email == "s.volkov@example.ru")).one()
        member_id = member.id
        assert db.session.get(Passport, member_id).number == "751234567"
    html = client.get(f"/leader/delegations/{d1}").get_data(as_text=True)
    assert "Sergey Volkov" in html
    assert f'href="/leader/delegations/{d1}/members/{member_id}"' in html
    assert f'href="/leader/delegations/{d1}/members/{member_id}/remove"' in html

    r = client.get(f"/leader/delegations/{d1}/members/{member_id}")
    assert r.status_code == 200 and 'value="751234567"' in r.get_data(as_text=True)
    r = client.post(f"/leader/delegations/{d1}/members/{member_id}",
                    data=member_form(job_title="Owner", passport_number="PX9999999"))
    assert r.status_code == 302
    with app.app_context():
        assert db.session.get(Buyer, member_id).job_title == "Owner"
        assert db.session.get(Passport, member_id).number == "PX9999999"
        assert passport_reads(purpose="member_page")  # the edit page read it, audited

    r = client.get(f"/leader/delegations/{d1}/members/{member_id}/remove")
    assert r.status_code == 200 and "Sergey Volkov" in r.get_data(as_text=True)
    with app.app_context():
        assert db.session.get(Buyer, member_id) is not None  # asking is not removing
    r = client.post(f"/leader/delegations/{d1}/members/{member_id}/remove")
    assert r.status_code == 302
    with app.app_context():
        assert db.session.get(Buyer, member_id) is None


def test_save_and_add_another_returns_to_the_empty_form(client, ids):
    sign_in(client, LEADER)
    r = client.post(f"/leader/delegations/{ids['d1']}/members/new", data={**member_form(), "add_another": ""})
    assert r.status_code == 302 and r.location.endswith(f"/leader/delegations/{ids['d1']}/members/new")


def test_a_bad_member_form_says_why_beside_each_field_and_saves_nothing(app, client, ids):
    sign_in(client, LEADER)
    with app.app_context():
        before = counts()
    r = client.post(f"/leader/delegations/{ids['d1']}/members/new", data=member_form(
        name="Сергей", passport_number="12", passport_expires_on="2027-05-01", nationality="XX",
        date_of_birth="2999-01-01", email="nope"))
    assert r.status_code == 400
    errors = errors_in(r.get_data(as_text=True))
    assert len(errors) == 6, errors
    assert any("2027-10-22" in e for e in errors)
    with app.app_context():
        assert counts() == before


def test_leader_keeps_the_travel_details(app, client, ids):
    sign_in(client, LEADER)
    d1 = ids["d1"]
    with app.app_context():
        category = db.session.scalars(select(ProductCategory.id).order_by(ProductCategory.id)).first()
    r = client.post(f"/leader/delegations/{d1}", data={
        "arrival_date": "2027-04-18", "arrival_flight": "su 204", "departure_date": "2027-04-23",
        "departure_flight": "SU 205", "hotel": "晋江万达嘉华酒店", "interpreter_needed": "y",
        "interpreter_language": "Russian", "categories": [str(category)],
        "name": "Hijacked name"})  # not a field of the leader's form: ignored
    assert r.status_code == 302
    with app.app_context():
        d = db.session.get(Delegation, d1)
        assert (d.arrival_date, d.arrival_flight, d.hotel, d.interpreter_language) == \
            (date(2027, 4, 18), "SU 204", "晋江万达嘉华酒店", "Russian")
        assert [c.id for c in d.categories] == [category]
        assert d.name != "Hijacked name"
        before = delegation_state(d1)
    r = client.post(f"/leader/delegations/{d1}", data={"arrival_date": "2027-04-20", "departure_date": "2027-04-19"})
    assert r.status_code == 400
    assert "The departure cannot be before the arrival." in errors_in(r.get_data(as_text=True))
    with app.app_context():
        assert delegation_state(d1) == before


def _other_leaders_urls(ids) -> list[tuple[str, str]]:
    d1, d2, m2 = ids["d1"], ids["d2"], ids["d2_member"]
    pages = [f"/leader/delegations/{d2}", f"/leader/delegations/{d2}/members/new",
             f"/leader/delegations/{d2}/members/{m2}", f"/leader/delegations/{d2}/members/{m2}/remove",
             # another delegation's member through one's own delegation
             f"/leader/delegations/{d1}/members/{m2}", f"/leader/delegations/{d1}/members/{m2}/remove"]
    return [(method, url) for url in pages for method in ("GET", "POST")]


def test_one_leader_cannot_see_or_change_another_leaders_delegation(app, client, ids):
    with app.app_context():
        before = delegation_state(ids["d2"])
        members2 = {m["id"] for m in before["members"]}
        numbers2 = [p["number"] for p in before["passports"]]
        names2 = [m["name"] for m in before["members"]]
    sign_in(client, LEADER)
    for method, url in _other_leaders_urls(ids):
        r = client.open(url, method=method, data={**member_form(name="Hacker One", passport_number="HACK12345"),
                                                  "hotel": "Hacked", "arrival_date": "2027-04-18"})
        assert r.status_code == 404, (method, url, r.status_code)
        html = r.get_data(as_text=True)
        assert not any(n in html for n in numbers2 + names2), url
    # Own pages do not show them either.
    html = client.get(f"/leader/delegations/{ids['d1']}").get_data(as_text=True)
    assert not any(n in html for n in numbers2)
    with app.app_context():
        assert delegation_state(ids["d2"]) == before
        assert not db.session.scalar(select(func.count()).select_from(Buyer).where(Buyer.name == "Hacker One"))
        assert not [e for e in passport_reads() if e.object_id in members2]
    # Control: leader2 does reach them.
    client.post("/logout")
    sign_in(client, LEADER2)
    assert client.get(f"/leader/delegations/{ids['d2']}").status_code == 200
    assert client.get(f"/leader/delegations/{ids['d1']}").status_code == 404


@pytest.mark.parametrize("email", ["buyer@expo.test", "exhibitor@expo.test", "gate@expo.test"])
def test_other_roles_get_403_on_the_leader_and_organizer_pages(client, ids, email):
    sign_in(client, email)
    d1, m1 = ids["d1"], ids["d1_member"]
    for url in ("/leader/", f"/leader/delegations/{d1}", f"/leader/delegations/{d1}/members/{m1}",
                "/organizer/delegations", f"/organizer/delegations/{d1}", "/organizer/delegations/export.csv",
                "/organizer/delegations/members.csv?passports=1"):
        assert client.get(url).status_code == 403, url
    assert client.post(f"/leader/delegations/{d1}/members/{m1}/remove").status_code == 403


def test_leaders_get_403_on_the_organizer_pages(client, ids):
    sign_in(client, LEADER)
    for url in ("/organizer/delegations", f"/organizer/delegations/{ids['d1']}", "/organizer/delegations/new",
                "/organizer/delegations/members.xlsx"):
        assert client.get(url).status_code == 403, url


# --- the organizer's pages ---------------------------------------------------------------------------------------------

def _spread_arrivals(ids) -> dict[str, int]:
    """Three more delegations, so the schedule has several days: returns name → id."""
    admin, expo = user("admin@expo.test"), current_expo()
    out = {}
    for name, country, arrival, interpreter in (("Kazakh Sports Buyers", "KZ", date(2027, 4, 17), True),
                                                ("German Shoe Retailers", "DE", date(2027, 4, 18), False),
                                                ("Chile Importers", "CL", None, False)):
        d = services.create_delegation(admin, expo, delegation_data(
            name=name, country=country, arrival_date=arrival, departure_date=date(2027, 4, 23),
            interpreter_needed=interpreter, interpreter_language="Russian" if interpreter else "",
            organization=f"{name} Union"), leader_email=LEADER)
        for i in range(2):
            services.add_member(admin, d, member_data(name=f"Member {name[:3]} {chr(65 + i)}", email="",
                                                      passport_number=f"{country}{i}12345", nationality=country))
        out[name] = d.id
    db.session.commit()
    return out


def test_board_shows_the_arrival_schedule_grouped_by_day(app, client, ids):
    with app.app_context():
        _spread_arrivals(ids)
        expected: dict[date | None, list[int]] = {}
        for d in db.session.scalars(select(Delegation)):
            n = db.session.scalar(select(func.count()).select_from(Buyer).where(Buyer.delegation_id == d.id))
            expected.setdefault(d.arrival_date, [0, 0])
            expected[d.arrival_date][0] += 1
            expected[d.arrival_date][1] += n
        schedule = services.arrival_schedule(current_expo(), services.BoardFilter())
        assert {s.day: [s.delegations, s.people] for s in schedule} == expected
        assert [s.day for s in schedule] == sorted(d for d in expected if d) + [None]
        rows = db.session.execute(services.board_query(current_expo(), services.BoardFilter())).all()
        arrivals = [d.arrival_date for d, _l, _n in rows]
        assert arrivals == sorted(a for a in arrivals if a) + [None] * arrivals.count(None)
    sign_in(client, "staff@expo.test")
    r = client.get("/organizer/delegations")
    assert r.status_code == 200
    html = r.get_data(as_text=True)
    assert html.count('<tr class="day">') == len(expected)
    assert "Saturday, April 17, 2027" in html and "Arrival not known yet" in html
    people_17 = expected[date(2027, 4, 17)][1]
    assert f"{people_17} people arriving" in html or f"{people_17} person arriving" in html


def _board_names(client, query: str) -> list[str]:
    r = client.get("/organizer/delegations" + query)
    assert r.status_code == 200, r.status_code
    table = r.get_data(as_text=True).split('id="board"', 1)[1]
    return re.findall(r'/organizer/delegations/\d+">([^<]+)</a>', table)


def test_board_filters_search_sort_and_pages(app, client, ids):
    with app.app_context():
        made = _spread_arrivals(ids)
        leader2 = user(LEADER2).name
        d2_name = db.session.get(Delegation, ids["d2"]).name
    sign_in(client, "admin@expo.test")
    assert _board_names(client, "?country=KZ") == ["Kazakh Sports Buyers"]
    assert _board_names(client, "?arrival_from=2027-04-17&arrival_to=2027-04-17") == \
        [n for n in _board_names(client, "?arrival_to=2027-04-17")]
    assert "Kazakh Sports Buyers" in _board_names(client, "?arrival_from=2027-04-17&arrival_to=2027-04-17")
    assert "Chile Importers" not in _board_names(client, "?arrival_from=2027-01-01")
    assert "Kazakh Sports Buyers" in _board_names(client, "?interpreter=yes")
    assert "German Shoe Retailers" not in _board_names(client, "?interpreter=yes")
    assert "German Shoe Retailers" in _board_names(client, "?interpreter=no")
    assert _board_names(client, "?q=shoe+retailers+union") == ["German Shoe Retailers"]  # the organization
    assert d2_name in _board_names(client, f"?q={leader2.split()[0]}")  # the leader's name
    assert _board_names(client, "?q=%25") == _board_names(client, "?q=%25")  # LIKE wildcards are literal
    assert _board_names(client, "?q=zzzz-nothing") == []
    by_name = _board_names(client, "?sort=name")
    assert by_name == sorted(by_name)
    assert _board_names(client, "?sort=name&desc=y") == by_name[::-1]
    pages = (len(by_name) + 1) // 2
    assert [n for page in range(1, pages + 1) for n in _board_names(client, f"?sort=name&per_page=2&page={page}")] \
        == by_name
    assert set(made) <= set(by_name)
    assert client.get("/organizer/delegations?arrival_from=nonsense").status_code == 400
    assert client.get("/organizer/delegations?per_page=100000").status_code == 400


def _read_csv(body: bytes) -> list[list[str]]:
    return list(csv.reader(io.StringIO(body.decode("utf-8-sig"))))


def _read_xlsx(body: bytes) -> list[list[Any]]:
    ws = load_workbook(io.BytesIO(body), read_only=True).active
    return [list(row) for row in ws.iter_rows(values_only=True)]


def test_board_export_csv_and_xlsx_read_back_without_passport_data(app, client, ids):
    with app.app_context():
        _spread_arrivals(ids)
        total = db.session.scalar(select(func.count()).select_from(Delegation))
        numbers = [p.number for p in db.session.scalars(select(Passport))]
    sign_in(client, "staff@expo.test")
    r = client.get("/organizer/delegations/export.csv")
    assert r.status_code == 200 and r.mimetype == "text/csv"
    rows = _read_csv(r.data)
    assert rows[0][:3] == ["Delegation", "Name", "Country or region"]
    assert len(rows) == total + 1
    assert any(row[1] == "Kazakh Sports Buyers" and row[2] == "Kazakhstan" and row[7] == "2027-04-17"
               for row in rows[1:])
    xrows = _read_xlsx(client.get("/organizer/delegations/export.xlsx").data)
    assert len(xrows) == total + 1 and xrows[0][:3] == ["Delegation", "Name", "Country or region"]
    kz = _read_csv(client.get("/organizer/delegations/export.csv?country=KZ").data)
    assert [row[1] for row in kz[1:]] == ["Kazakh Sports Buyers"]
    body = r.data.decode("utf-8-sig") + str(xrows)
    assert not any(n in body for n in numbers) and "Passport" not in body
    assert client.get("/organizer/delegations/export.pdf").status_code == 404


def test_member_exports_leave_passports_out_unless_an_admin_asks(app, client, ids):
    with app.app_context():
        d1 = db.session.get(Delegation, ids["d1"])
        members = services.members_of(d1)
        numbers = {db.session.get(Passport, m.id).number for m in members}
        names, member_ids = {m.name for m in members}, {m.id for m in members}
        audit_before = counts()["AuditEntry"]
    sign_in(client, "staff@expo.test")
    for url in (f"/organizer/delegations/{ids['d1']}/members.csv", "/organizer/delegations/members.csv"):
        r = client.get(url)
        assert r.status_code == 200
        rows = _read_csv(r.data)
        assert "Passport number" not in rows[0] and "Date of birth" not in rows[0]
        assert not any(n in r.data.decode() for n in numbers)
    assert names <= {row[2] for row in _read_csv(
        client.get(f"/organizer/delegations/{ids['d1']}/members.csv").data)[1:]}
    # Staff may not export passport data: 403, and nothing read.
    for url in (f"/organizer/delegations/{ids['d1']}/members.xlsx?passports=1",
                "/organizer/delegations/members.csv?passports=1"):
        assert client.get(url).status_code == 403
    with app.app_context():
        assert counts()["AuditEntry"] == audit_before
    client.post("/logout")
    sign_in(client, "admin@expo.test")
    r = client.get(f"/organizer/delegations/{ids['d1']}/members.xlsx?passports=1")
    assert r.status_code == 200
    rows = _read_xlsx(r.data)
    assert rows[0][-4:] == ["Passport number", "Passport expires", "Nationality", "Date of birth"]
    assert {row[-4] for row in rows[1:]} == numbers
    with app.app_context():
        reads = passport_reads(purpose="export")
        assert {e.object_id for e in reads} == member_ids
        assert {e.actor_id for e in reads} == {user("admin@expo.test").id}
        assert db.session.scalars(select(AuditEntry).where(
            AuditEntry.action == "delegation_members_exported")).one().changes["with_passports"] is True
    # The board-wide export with passports: every delegation's members.
    r = client.get("/organizer/delegations/members.csv?passports=1")
    assert r.status_code == 200 and numbers <= {row[-4] for row in _read_csv(r.data)[1:]}


def test_organizer_detail_shows_passport_data_only_on_request_and_audits_it(app, client, ids):
    with app.app_context():
        members = services.members_of(db.session.get(Delegation, ids["d1"]))
        numbers = [db.session.get(Passport, m.id).number for m in members]
        names, member_ids = [m.name for m in members], {m.id for m in members}
    sign_in(client, "staff@expo.test")
    r = client.get(f"/organizer/delegations/{ids['d1']}")
    html = r.get_data(as_text=True)
    assert r.status_code == 200 and "Show passport data" in html
    assert not any(n in html for n in numbers)
    assert all(name in html for name in names)
    with app.app_context():
        assert passport_reads() == []
    html = client.get(f"/organizer/delegations/{ids['d1']}?passports=1").get_data(as_text=True)
    assert all(n in html for n in numbers)
    assert "Export members with passport data" not in html  # staff: no such option
    with app.app_context():
        reads = passport_reads(purpose="member_page")
        assert {e.object_id for e in reads} == member_ids
        assert {e.actor_id for e in reads} == {user("staff@expo.test").id}


def test_organizer_sets_up_a_delegation_edits_it_and_manages_members(app, client, ids):
    sign_in(client, "admin@expo.test")
    assert client.get("/organizer/delegations/new").status_code == 200
    r = client.post("/organizer/delegations/new", data={
        "name": "Egypt Footwear Traders", "country": "EG", "organization": "Cairo Chamber", "leader_email":
        "amina@example.eg", "leader_name": "Amina Hassan", "arrival_date": "2027-04-18",
        "departure_date": "2027-04-22", "notes": "Halal meals"})
    assert r.status_code == 302
    delegation_id = int(r.location.rsplit("/", 1)[1])
    with app.app_context():
        d = db.session.get(Delegation, delegation_id)
        assert (d.country, d.leader.email, d.notes) == ("EG", "amina@example.eg", "Halal meals")
        assert db.session.scalars(select(OutboxMail).where(OutboxMail.recipient == "amina@example.eg")).one()
    r = client.post(f"/organizer/delegations/{delegation_id}/members/new",
                    data=member_form(nationality="EG", name="Omar Haddad", name_native="عمر حداد", email=""))
    assert r.status_code == 302 and r.location.endswith(f"/organizer/delegations/{delegation_id}#members")
    html = client.get(f"/organizer/delegations/{delegation_id}?passports=1").get_data(as_text=True)
    assert "عمر حداد" in html and "751234567" in html
    # Everything is editable, the leader too; a wrong leader address changes nothing.
    with app.app_context():
        before = delegation_state(delegation_id)
    r = client.post(f"/organizer/delegations/{delegation_id}", data={
        "name": "Renamed", "country": "EG", "leader_email": "exhibitor@expo.test", "arrival_date": "2027-04-18"})
    assert r.status_code == 400
    assert any("not a delegation leader" in e for e in errors_in(r.get_data(as_text=True)))
    with app.app_context():
        assert delegation_state(delegation_id) == before
    r = client.post(f"/organizer/delegations/{delegation_id}", data={
        "name": "Egypt Footwear Traders 2027", "country": "EG", "leader_email": LEADER2,
        "arrival_date": "2027-04-19", "departure_date": "2027-04-22"})
    assert r.status_code == 302
    with app.app_context():
        d = db.session.get(Delegation, delegation_id)
        assert (d.name, d.leader_user_id) == ("Egypt Footwear Traders 2027", user(LEADER2).id)


def test_chinese_pages_render(client, ids):
    sign_in(client, LEADER)
    client.post("/language/zh", data={"next": "/"})
    assert client.get(f"/leader/delegations/{ids['d1']}").status_code == 200
    assert client.get(f"/leader/delegations/{ids['d1']}/members/new").status_code == 200


# --- hypothesis ----------------------------------------------------------------------------------------------------

text_values = st.one_of(
    st.text(max_size=30),
    st.sampled_from(["", " ", "\x00", "a\x00b", "Иван", "王伟", "José Ñúñez", "E1234567", "ｅ１２３４５", "2027-10-22",
                     "2031-01-01", "1900-01-01", "0001-01-01", "9999-12-31", "2027-02-30", "RU", "XX", "ru",
                     "x@y.com", "+7 495", "' OR 1=1 --", "<b>x</b>", "%", "_"]),
    st.builds(lambda s, n: s * n, st.text(min_size=1, max_size=3), st.integers(50, 400)),
)
MEMBER_FIELDS = sorted(member_form())


@FUZZ
@given(over=st.dictionaries(st.sampled_from(MEMBER_FIELDS), text_values, max_size=5),
       drop=st.sets(st.sampled_from(MEMBER_FIELDS), max_size=2))
def test_fuzz_member_form(app, client, ids, over, drop):
    sign_in(client, LEADER)
    data = {k: v for k, v in {**member_form(email=""), **over}.items() if k not in drop}
    with app.app_context():
        before = counts()
    r = client.post(f"/leader/delegations/{ids['d1']}/members/new", data=data)
    assert r.status_code < 500
    with app.app_context():
        after = counts()
        if r.status_code == 302:
            assert after["Buyer"] == before["Buyer"] + 1 and after["Passport"] == before["Passport"] + 1
            newest = db.session.scalars(select(Buyer).order_by(Buyer.id.desc())).first()
            passport = db.session.get(Passport, newest.id)
            assert services.validate_member(current_expo(), services.member_data_of(newest, passport)) == []
            services.remove_member(user(LEADER), newest)  # keep the delegation's e-mails and numbers free
            db.session.commit()
        else:
            assert 400 <= r.status_code < 500
            html = r.get_data(as_text=True)
            assert 'class="error"' in html or "flash-error" in html
            assert after == before


DETAIL_FIELDS = ["arrival_date", "departure_date", "arrival_flight", "departure_flight", "hotel",
                 "interpreter_needed", "interpreter_language", "categories"]


@FUZZ
@given(over=st.dictionaries(st.sampled_from(DETAIL_FIELDS), text_values, max_size=5))
def test_fuzz_leader_details_form(app, client, ids, over):
    sign_in(client, LEADER)
    with app.app_context():
        before = delegation_state(ids["d1"])
    data = {"arrival_date": "2027-04-18", "departure_date": "2027-04-23", **over}
    r = client.post(f"/leader/delegations/{ids['d1']}", data=data)
    assert r.status_code < 500
    with app.app_context():
        if r.status_code != 302:
            assert 400 <= r.status_code < 500
            html = r.get_data(as_text=True)
            assert 'class="error"' in html or "flash-error" in html
            assert delegation_state(ids["d1"]) == before
        else:
            d = db.session.get(Delegation, ids["d1"])
            assert services.validate_delegation(current_expo(), DelegationData.of(d).normalized()) == []


ORGANIZER_FIELDS = ["name", "country", "organization", "leader_email", "leader_name", "notes", *DETAIL_FIELDS]


@FUZZ
@given(over=st.dictionaries(st.sampled_from(ORGANIZER_FIELDS), text_values, max_size=5))
def test_fuzz_organizer_new_delegation(app, client, ids, over):
    sign_in(client, "admin@expo.test")
    with app.app_context():
        before = counts()
    data = {"name": "Fuzz Delegation", "country": "KE", "arrival_date": "2027-04-18", **over}
    r = client.post("/organizer/delegations/new", data=data)
    assert r.status_code < 500
    with app.app_context():
        after = counts()
        if r.status_code == 302:
            assert after["Delegation"] == before["Delegation"] + 1
        else:
            assert 400 <= r.status_code < 500
            html = r.get_data(as_text=True)
            assert 'class="error"' in html or "flash-error" in html
            assert after == before
