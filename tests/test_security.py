"""Security of accounts and access, proved by trying to break in.

- One exhibitor cannot read or change another exhibitor, through the pages or the API (404, or 403 where the role
  is wrong), and the other exhibitor's rows are byte-for-byte the same afterwards.
- Every view not declared public sends anonymous callers to the sign-in page (pages) or answers 401 (API); every
  organizer-only view answers 403 to exhibitor, gate, print-desk, buyer and delegation-leader accounts; admin-only
  pages answer 403 to organizer staff. The list of views comes from the app's URL map, so a new view is covered
  the day it is added.
- A view without an access declaration stops the app from starting (and is refused at request time if it ever ran).
- CSRF: every form that changes something is refused without a token (400, nothing changed) and works with the
  page's token; cookie-authenticated API writes need X-CSRFToken, bearer-token API writes do not.
- Passwords are stored as werkzeug hashes; sign-in failures are throttled per account and per address.
- Password reset by e-mailed link: same answer for known and unknown addresses, single-use, expiring, tamper-proof;
  the link is not shown to organizer staff in the outbox.
- API tokens: shown once, stored as a hash, revocable only by their owner.
- No open redirect through ``next`` on sign-in or on the language switch.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from flask import Blueprint, Flask
from flask_babel import force_locale, gettext
from itsdangerous import TimestampSigner
from sqlalchemy import func, inspect, select
from werkzeug.routing import IntegerConverter
from werkzeug.security import check_password_hash

from expo import create_app, demo
from expo.audit import AuditEntry
from expo.auth import services as auth_services
from expo.auth.access import PUBLIC, allow
from expo.auth.models import ApiToken, LoginAttempt, Role, User
from expo.categories.models import ProductCategory
from expo.exhibitors.models import ApplicationStatus, Exhibitor, ExhibitorStaff, SpaceApplication
from expo.extensions import db
from expo.mail import OutboxMail
from expo.venue.models import AllocationProposal, Booth
from tests.conftest import csrf_token
from tests.factories import PASSWORD, user

DEMO_PASSWORD = demo.DEMO_PASSWORD
OTHER_ROLES = ["exhibitor@expo.test", "gate@expo.test", "printdesk@expo.test", "buyer@expo.test",
               "leader@expo.test"]


# --- helpers --------------------------------------------------------------------------------------------------------

def sign_in(client, email: str, password: str = DEMO_PASSWORD) -> None:
    """Sign in through the page, with the page's CSRF token (works whether CSRF is checked or not)."""
    data = {"email": email, "password": password}
    page = client.get("/login").get_data(as_text=True)
    if app_checks_csrf(client):
        data["csrf_token"] = csrf_token(page)
    r = client.post("/login", data=data)
    assert r.status_code == 302, r.get_data(as_text=True)[:2000]


def app_checks_csrf(client) -> bool:
    return bool(client.application.config["WTF_CSRF_ENABLED"])


def columns(obj, skip: set[str] = frozenset()) -> dict[str, Any]:
    return {a.key: getattr(obj, a.key) for a in inspect(obj).mapper.column_attrs if a.key not in skip}


def exhibitor_state(exhibitor_id: int) -> dict[str, Any]:
    """Everything stored about one exhibitor: its row, application, staff, categories, accounts, log and mail."""
    db.session.expire_all()
    ex = db.session.get(Exhibitor, exhibitor_id)
    return {
        "exhibitor": columns(ex),
        "categories": sorted(c.id for c in ex.categories),
        "applications": [columns(a) for a in db.session.scalars(
            select(SpaceApplication).where(SpaceApplication.exhibitor_id == exhibitor_id).order_by(SpaceApplication.id))],
        "staff": [columns(m) for m in db.session.scalars(
            select(ExhibitorStaff).where(ExhibitorStaff.exhibitor_id == exhibitor_id).order_by(ExhibitorStaff.id))],
        # Signing in stamps last_login_at; everything else about the accounts must stay.
        "accounts": [columns(u, skip={"last_login_at", "updated_at"}) for u in db.session.scalars(
            select(User).where(User.exhibitor_id == exhibitor_id).order_by(User.id))],
        "audit": list(db.session.scalars(select(AuditEntry.id).where(AuditEntry.exhibitor_id == exhibitor_id))),
        "mail": list(db.session.scalars(select(OutboxMail.id).where(OutboxMail.exhibitor_id == exhibitor_id))),
    }


def audit_count() -> int:
    return db.session.scalar(select(func.count(AuditEntry.id)))


@dataclass
class Tenants:
    """Exhibitor A (the demo account, a draft) and exhibitor B (another company, submitted), with ids."""

    a_id: int
    a_member: int
    b_id: int
    b_app: int
    b_member: int
    b_email: str
    b_name: str


@pytest.fixture
def tenants(app) -> Tenants:
    with app.app_context():
        a = user("exhibitor@expo.test").exhibitor
        b_app = db.session.scalars(
            select(SpaceApplication).where(SpaceApplication.status == ApplicationStatus.SUBMITTED,
                                           SpaceApplication.exhibitor_id != a.id).order_by(SpaceApplication.id)).first()
        b = b_app.exhibitor
        assert a.staff and b.staff, "the demo gives every exhibitor at least one staff member"
        return Tenants(a_id=a.id, a_member=a.staff[0].id, b_id=b.id, b_app=b_app.id, b_member=b.staff[0].id,
                       b_email=b.accounts[0].email, b_name=b.name_en or b.name_zh)


def bearer(app, email: str) -> dict[str, str]:
    with app.app_context():
        _token, secret = auth_services.create_api_token(user(email), "test")
        db.session.commit()
    return {"Authorization": f"Bearer {secret}"}


# --- exhibitor A against exhibitor B --------------------------------------------------------------------------------

def test_exhibitor_pages_refuse_another_exhibitors_staff(app, client, tenants):
    with app.app_context():
        before = exhibitor_state(tenants.b_id)
    sign_in(client, "exhibitor@expo.test")
    # Control: A's own staff member opens, so the 404s below are about ownership, not a broken page.
    assert client.get(f"/exhibitor/staff/{tenants.a_member}").status_code == 200
    b_member_name = before["staff"][0]["name"]
    r = client.get(f"/exhibitor/staff/{tenants.b_member}")
    assert r.status_code == 404
    assert b_member_name not in r.get_data(as_text=True)
    assert client.post(f"/exhibitor/staff/{tenants.b_member}",
                       data={"name": "Hijacked", "title": "", "phone": "", "email": "", "id_number": ""}
                       ).status_code == 404
    assert client.post(f"/exhibitor/staff/{tenants.b_member}/delete").status_code == 404
    # Another company's member is answered exactly like one that does not exist.
    missing = client.get("/exhibitor/staff/999999")
    assert missing.status_code == 404
    # A's staff list does not link to B's people.
    assert f"/exhibitor/staff/{tenants.b_member}" not in client.get("/exhibitor/staff").get_data(as_text=True)
    # Organizer pages about B are closed to A.
    assert client.get(f"/organizer/exhibitors/{tenants.b_id}").status_code == 403
    assert client.post(f"/organizer/applications/{tenants.b_app}/decision",
                       data={"decision": "approved"}).status_code == 403
    assert client.post("/organizer/applications/bulk",
                       data={"application_ids": [tenants.b_app], "decision": "rejected", "reason": "x"}
                       ).status_code == 403
    with app.app_context():
        assert exhibitor_state(tenants.b_id) == before


@pytest.mark.parametrize("auth_by", ["cookie", "token"])
def test_exhibitor_api_refuses_another_exhibitor(app, client, tenants, auth_by):
    headers: dict[str, str] = {}
    if auth_by == "cookie":
        sign_in(client, "exhibitor@expo.test")
    else:
        headers = bearer(app, "exhibitor@expo.test")
    with app.app_context():
        before = exhibitor_state(tenants.b_id)
        audit_before = audit_count()

    def call(method: str, url: str, **kw):
        return client.open(url, method=method, headers=headers, **kw)

    # Controls: the same calls on A's own records work.
    assert call("GET", f"/api/v1/exhibitors/{tenants.a_id}").status_code == 200
    assert call("GET", f"/api/v1/exhibitors/{tenants.a_id}/application").status_code == 200
    assert call("GET", f"/api/v1/exhibitors/{tenants.a_id}/staff").status_code == 200
    assert call("GET", f"/api/v1/exhibitors/{tenants.a_id}/staff/{tenants.a_member}").status_code == 200

    b, m = tenants.b_id, tenants.b_member
    attempts = [
        ("GET", f"/api/v1/exhibitors/{b}", None),
        ("PATCH", f"/api/v1/exhibitors/{b}", {"city": "Hacked", "contact_email": "mole@evil.example"}),
        ("GET", f"/api/v1/exhibitors/{b}/application", None),
        ("PATCH", f"/api/v1/exhibitors/{b}/application", {"notes": "hacked", "booths_requested": 99}),
        ("POST", f"/api/v1/exhibitors/{b}/application/withdraw", {}),
        ("POST", f"/api/v1/exhibitors/{b}/application/submit", {}),
        ("POST", f"/api/v1/exhibitors/{b}/application/reopen", {}),
        ("POST", f"/api/v1/exhibitors/{b}/application/approved", {"reason": ""}),
        ("GET", f"/api/v1/exhibitors/{b}/staff", None),
        ("POST", f"/api/v1/exhibitors/{b}/staff", {"name": "Mole"}),
        ("GET", f"/api/v1/exhibitors/{b}/staff/{m}", None),
        ("PATCH", f"/api/v1/exhibitors/{b}/staff/{m}", {"name": "Hijacked"}),
        ("DELETE", f"/api/v1/exhibitors/{b}/staff/{m}", None),
        # B's member reached through A's own exhibitor id:
        ("GET", f"/api/v1/exhibitors/{tenants.a_id}/staff/{m}", None),
        ("PATCH", f"/api/v1/exhibitors/{tenants.a_id}/staff/{m}", {"name": "Hijacked"}),
        ("DELETE", f"/api/v1/exhibitors/{tenants.a_id}/staff/{m}", None),
    ]
    for method, url, body in attempts:
        r = call(method, url, json=body) if body is not None else call(method, url)
        assert r.status_code == 404, (method, url, r.status_code, r.get_data(as_text=True))
        assert r.is_json and r.get_json()["error"] == "not_found", (method, url)
        text = r.get_data(as_text=True)
        assert tenants.b_name not in text and before["staff"][0]["name"] not in text
    # Organizer-only calls answer 403: the role is wrong, whatever the target.
    r = call("GET", f"/api/v1/exhibitors/{b}/audit")
    assert r.status_code == 403 and r.is_json
    r = call("POST", "/api/v1/applications/decisions", json={"application_ids": [tenants.b_app],
                                                              "decision": "rejected", "reason": "x"})
    assert r.status_code == 403 and r.is_json
    # A 404 about B looks exactly like a 404 about an exhibitor that does not exist.
    assert call("GET", f"/api/v1/exhibitors/{b}").get_json() == call("GET", "/api/v1/exhibitors/999999").get_json()
    # The list shows A only, whatever the filter asks for.
    listing = call("GET", "/api/v1/exhibitors?per_page=200").get_json()
    assert [item["id"] for item in listing["items"]] == [tenants.a_id]
    assert call("GET", "/api/v1/exhibitors", query_string={"q": tenants.b_name}).get_json()["items"] == []
    with app.app_context():
        assert exhibitor_state(tenants.b_id) == before
        assert audit_count() == audit_before


def test_exhibitor_cannot_decide_its_own_application(app, client, tenants):
    """The organizer's decisions are not the exhibitor's to take, even on its own application."""
    with app.app_context():
        ex_user = user(tenants.b_email)
        before = exhibitor_state(tenants.b_id)
    sign_in(client, ex_user.email)
    for decision in ("approved", "waitlisted", "rejected"):
        r = client.post(f"/api/v1/exhibitors/{tenants.b_id}/application/{decision}", json={"reason": "self"})
        assert r.status_code in (403, 409), (decision, r.status_code)
        assert r.get_json()["error"] in ("forbidden", "bad_transition")
    with app.app_context():
        assert exhibitor_state(tenants.b_id) == before


# --- anonymous callers and wrong roles ------------------------------------------------------------------------------

def _sample_values(app) -> dict[str, Any]:
    """Real ids for URL parameters, so a refusal cannot be a 404 in disguise."""
    with app.app_context():
        app_row = db.session.scalars(select(SpaceApplication).order_by(SpaceApplication.id)).first()
        member = db.session.scalars(select(ExhibitorStaff).where(
            ExhibitorStaff.exhibitor_id == app_row.exhibitor_id)).first()
        category = db.session.scalars(select(ProductCategory).order_by(ProductCategory.id)).first()
        token, _secret = auth_services.create_api_token(user("admin@expo.test"), "sample")
        booth = db.session.scalars(select(Booth).order_by(Booth.id)).first()
        proposal = AllocationProposal(expo_id=booth.expo_id, basis="x", result={})
        db.session.add(proposal)
        db.session.commit()
        return {"exhibitor_id": app_row.exhibitor_id, "application_id": app_row.id, "member_id": member.id,
                "category_id": category.id, "token_id": token.id, "fmt": "csv", "action": "withdraw",
                "code": "zh", "token": "x", "booth_id": booth.id, "hall_id": booth.hall_id,
                "pavilion_id": booth.pavilion_id, "area_id": booth.pavilion.area_id, "proposal_id": proposal.id,
                "hall_code": booth.hall.code, "variant": "exhibitor", **_delegation_samples(),
                **_badge_admin_samples(), **_letter_samples(), **_badge_desk_samples(),
                **_gate_samples(), **_lead_samples(), **_docking_meet_samples(),
                **_docking_match_samples(), **_docking_sched_samples()}


def _docking_match_samples() -> dict[str, int]:
    """A purchase need of the demo buyer and an offer of the demo exhibitor (helper "match": needs and offers)."""
    from expo.buyers.models import Buyer
    from expo.docking.models import BuyerNeed, ExhibitorOffer
    from expo.exhibitors.services import current_expo

    expo = current_expo()
    buyer = db.session.scalars(select(Buyer).where(Buyer.user_id == user("buyer@expo.test").id)).first()
    category = db.session.scalars(select(ProductCategory).order_by(ProductCategory.id)).first()
    need = BuyerNeed(expo_id=expo.id, buyer_id=buyer.id, category_id=category.id, title="Sample", markets=[])
    offer = ExhibitorOffer(expo_id=expo.id, exhibitor_id=user("exhibitor@expo.test").exhibitor_id,
                           category_id=category.id, products="Sample", certifications=[], markets=[])
    db.session.add_all([need, offer])
    db.session.commit()
    return {"need_id": need.id, "offer_id": offer.id}


def _docking_sched_samples() -> dict[str, int]:
    """A docking session and a busy period (helper sched's sessions and availability): the demo buyer's."""
    from datetime import datetime, time

    from expo.buyers.models import Buyer
    from expo.docking.models import BusyPeriod, DockingSession
    from expo.exhibitors.services import current_expo

    expo = current_expo()
    buyer = db.session.scalars(select(Buyer).where(Buyer.email == "buyer@expo.test")).first()
    session = DockingSession(expo_id=expo.id, name_zh="样本", name_en="Sample",
                             starts_at=datetime.combine(expo.starts_on, time(9)), slot_minutes=20, slot_count=2,
                             table_count=2)
    busy = BusyPeriod(expo_id=expo.id, buyer_id=buyer.id, starts_at=datetime.combine(expo.starts_on, time(8)),
                      ends_at=datetime.combine(expo.starts_on, time(9)))
    db.session.add_all([session, busy])
    db.session.commit()
    return {"session_id": session.id, "busy_id": busy.id}


def _docking_meet_samples() -> dict[str, int]:
    """A meeting (helper meet's docking meetings): the demo buyer asked the demo exhibitor."""
    from expo.auth.models import User
    from expo.buyers.models import Buyer
    from expo.docking.models import Meeting
    from expo.exhibitors.services import current_expo

    exhibitor_id = db.session.scalar(select(User.exhibitor_id).where(User.email == "exhibitor@expo.test"))
    buyer = db.session.scalars(select(Buyer).where(Buyer.email == "buyer@expo.test")).first()
    meeting = Meeting(expo_id=current_expo().id, buyer_id=buyer.id, exhibitor_id=exhibitor_id,
                      requested_by="buyer", status="requested")
    db.session.add(meeting)
    db.session.commit()
    return {"meeting_id": meeting.id}


def _badge_desk_samples() -> dict[str, int]:
    """A badge (engineer F's print desk pages): the demo buyer's."""
    from expo.badges import services
    from expo.buyers.models import Buyer
    from expo.exhibitors.services import current_expo

    buyer = db.session.scalars(select(Buyer).order_by(Buyer.id)).first()
    badge = services.issue_for(None, current_expo(), services.holder_of_buyer(buyer))
    db.session.commit()
    return {"badge_id": badge.id}


def _letter_samples() -> dict[str, int]:
    """An invitation letter (engineer C's letter pages)."""
    from expo.buyers.models import InvitationLetter
    from expo.db import utcnow
    from expo.exhibitors.services import current_expo

    letter = InvitationLetter(expo_id=current_expo().id, reference="SAMPLE-00000000000", issued_at=utcnow(),
                              holders=[])
    db.session.add(letter)
    db.session.commit()
    return {"letter_id": letter.id}


def _delegation_samples() -> dict[str, int]:
    """A delegation and one of its members (the demo's first delegation)."""
    from expo.buyers.models import Buyer, Delegation

    delegation = db.session.scalars(select(Delegation).order_by(Delegation.id)).first()
    member = db.session.scalars(select(Buyer).where(Buyer.delegation_id == delegation.id).order_by(Buyer.id)).first() \
        if delegation else None
    return {"delegation_id": delegation.id if delegation else 1, "buyer_id": member.id if member else 1}


def _gate_samples() -> dict[str, int]:
    """A checkpoint (engineer H's gate pages)."""
    from expo.checkin.models import Checkpoint
    from expo.exhibitors.services import current_expo

    checkpoint = Checkpoint(expo_id=current_expo().id, code="SAMPLE", name_zh="样本", name_en="Sample",
                            badge_type_ids=[], days=[])
    db.session.add(checkpoint)
    db.session.commit()
    return {"checkpoint_id": checkpoint.id}


def _lead_samples() -> dict[str, int]:
    """A lead (engineer I's lead retrieval): the demo buyer, scanned at the demo exhibitor's booth."""
    from expo.badges import services
    from expo.buyers.models import Buyer
    from expo.checkin.models import Lead
    from expo.exhibitors.services import current_expo

    expo = current_expo()
    buyer = db.session.scalars(select(Buyer).order_by(Buyer.id)).first()
    badge = services.issue_for(None, expo, services.holder_of_buyer(buyer))
    lead = Lead(expo_id=expo.id, exhibitor_id=user("exhibitor@expo.test").exhibitor_id, badge_id=badge.id, notes="",
                rating=0, tags=[])
    db.session.add(lead)
    db.session.commit()
    return {"lead_id": lead.id}


def _badge_admin_samples() -> dict[str, int]:
    """A badge type and a print job (engineer G's badge pages)."""
    from expo.badges import printing, services
    from expo.exhibitors.services import current_expo

    expo = current_expo()
    badge_type = services.ensure_types(expo)["VIS"]
    job = printing.create_job(None, expo, {"badge_type_id": badge_type.id}, title="sample")
    db.session.commit()
    return {"type_id": badge_type.id, "job_id": job.id}


def _requests(app, values: dict[str, Any], audience_filter: Callable[[frozenset], bool]):
    """(method, url, endpoint) for every rule whose declared audience passes ``audience_filter``."""
    adapter = app.url_map.bind("localhost")
    out = []
    for rule in app.url_map.iter_rules():
        if rule.endpoint == "static":
            continue
        audience = app.view_functions[rule.endpoint].expo_access
        if not audience_filter(audience):
            continue
        args = {}
        for name, converter in rule._converters.items():
            assert name in values or not isinstance(converter, IntegerConverter), f"no sample value for {name}"
            args[name] = values.get(name, "x")
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            out.append((method, adapter.build(rule.endpoint, args, method=method), rule.endpoint))
    return out


def test_every_view_declares_its_audience(app):
    undeclared = [e for e, v in app.view_functions.items() if e != "static" and not hasattr(v, "expo_access")]
    assert undeclared == []


def test_anonymous_callers_reach_nothing_but_public_views(app, client):
    values = _sample_values(app)
    with app.app_context():
        audit_before = audit_count()
    requests = _requests(app, values, lambda audience: PUBLIC not in audience)
    endpoints = {endpoint for _m, _u, endpoint in requests}
    # The walk really covers the organizer's back office and the API.
    assert {"main.dashboard", "review.queue", "review.exhibitor_detail", "review.decide", "review.bulk",
            "review.export", "review.outbox", "categories.index", "auth.accounts", "api.decisions",
            "api.audit_log", "api.exhibitor_update"} <= endpoints
    assert len(requests) >= 30
    for method, url, _endpoint in requests:
        kw = {"json": {}} if url.startswith("/api/") and method != "GET" else {}
        r = client.open(url, method=method, **kw)
        if url.startswith("/api/"):
            assert r.status_code == 401, (method, url, r.status_code)
            assert r.is_json and r.get_json()["error"] == "unauthorized"
        else:
            assert r.status_code == 302, (method, url, r.status_code)
            target = urlsplit(r.location)
            assert target.path == "/login", (method, url, r.location)
            assert parse_qs(target.query)["next"] == [url], (method, url, r.location)
    with app.app_context():
        assert audit_count() == audit_before


@pytest.mark.parametrize("email", OTHER_ROLES)
def test_organizer_views_refuse_other_roles(app, client, email):
    values = _sample_values(app)
    with app.app_context():
        before = exhibitor_state(values["exhibitor_id"])
        audit_before = audit_count()
    sign_in(client, email)
    organizer_only = _requests(app, values, lambda audience: audience <= {Role.ADMIN.value, Role.STAFF.value})
    assert len(organizer_only) >= 14
    for method, url, _endpoint in organizer_only:
        kw = {} if method == "GET" else \
            {"json": {"application_ids": [values["application_id"]], "decision": "approved"}} \
            if url.startswith("/api/") else \
            {"data": {"decision": "approved", "application_ids": [values["application_id"]], "code": "x",
                      "name_zh": "x", "name_en": "x", "email": "new@example.com", "name": "x", "role": "admin",
                      "password": PASSWORD}}
        r = client.open(url, method=method, **kw)
        assert r.status_code == 403, (email, method, url, r.status_code)
        if url.startswith("/api/"):
            assert r.is_json and r.get_json()["error"] == "forbidden"
        else:
            assert "You do not have access to this page." in r.get_data(as_text=True)
    with app.app_context():
        assert exhibitor_state(values["exhibitor_id"]) == before
        assert audit_count() == audit_before
        assert user("new@example.com") is None


def test_admin_pages_refuse_organizer_staff(app, client):
    values = _sample_values(app)
    admin_only = _requests(app, values, lambda audience: audience == {Role.ADMIN.value})
    assert {endpoint for _m, _u, endpoint in admin_only} >= {"categories.index", "categories.edit", "auth.accounts"}
    with app.app_context():
        categories_before = [columns(c) for c in db.session.scalars(select(ProductCategory).order_by(ProductCategory.id))]
    sign_in(client, "staff@expo.test")
    for method, url, _endpoint in admin_only:
        data = {"code": "hacked", "name_zh": "黑", "name_en": "Hacked", "parent_id": "0", "sort": "0",
                "email": "mole@example.com", "name": "Mole", "role": "admin", "password": PASSWORD}
        r = client.open(url, method=method, data=data if method == "POST" else None)
        assert r.status_code == 403, (method, url, r.status_code)
    # Control: the staff account does reach the organizer's own pages.
    assert client.get("/organizer/applications").status_code == 200
    with app.app_context():
        assert [columns(c) for c in db.session.scalars(select(ProductCategory).order_by(ProductCategory.id))] \
            == categories_before
        assert user("mole@example.com") is None
    client.post("/logout")
    sign_in(client, "admin@expo.test")
    for method, url, _endpoint in admin_only:
        if method == "GET":
            assert client.get(url).status_code == 200, url


def test_exhibitor_pages_refuse_accounts_without_a_company(app, client):
    sign_in(client, "gate@expo.test")
    for url in ("/exhibitor/", "/exhibitor/profile", "/exhibitor/application", "/exhibitor/staff"):
        assert client.get(url).status_code == 403, url


# --- the start-up check ---------------------------------------------------------------------------------------------

def _throwaway_app(monkeypatch, view_decorator=None, skip_check: bool = False) -> Flask:
    """create_app with one extra blueprint whose only view carries ``view_decorator`` (or nothing)."""
    import expo
    import expo.auth.access

    extra = Blueprint("forgotten", __name__)

    def forgotten():
        return "anyone can read this"

    extra.add_url_rule("/forgotten", view_func=view_decorator(forgotten) if view_decorator else forgotten)
    original = expo._register_blueprints

    def register_with_extra(app):
        original(app)
        app.register_blueprint(extra)

    monkeypatch.setattr(expo, "_register_blueprints", register_with_extra)
    if skip_check:
        monkeypatch.setattr(expo.auth.access, "check_declared", lambda app: None)
    return create_app({"TESTING": True, "DATABASE_URL": "sqlite://", "SECRET_KEY": "throwaway",
                       "WTF_CSRF_ENABLED": False})


def _dispose(app: Flask) -> None:
    with app.app_context():
        db.engine.dispose()


def test_create_app_refuses_a_view_without_declaration(monkeypatch):
    with pytest.raises(RuntimeError, match=r"views without an access declaration: forgotten\.forgotten"):
        _throwaway_app(monkeypatch)


def test_create_app_accepts_the_same_view_once_declared(monkeypatch):
    app = _throwaway_app(monkeypatch, allow(PUBLIC))
    try:
        assert app.test_client().get("/forgotten").status_code == 200
    finally:
        _dispose(app)


def test_undeclared_view_is_refused_at_request_time_too(monkeypatch):
    """Second line of defence: even if the start-up check were skipped, the request hook denies."""
    app = _throwaway_app(monkeypatch, skip_check=True)
    try:
        r = app.test_client().get("/forgotten")
        assert r.status_code == 403
        assert "anyone can read this" not in r.get_data(as_text=True)
    finally:
        _dispose(app)


# --- CSRF -----------------------------------------------------------------------------------------------------------

def _registration(**overrides) -> dict[str, str]:
    data = {"email": "csrf@example.com", "password": PASSWORD, "password_confirm": PASSWORD,
            "name_zh": "晋江跨站鞋业有限公司", "name_en": "Jinjiang Cross Site Footwear Co., Ltd.", "country": "CN",
            "province": "福建", "city": "晋江", "address": "", "website": "", "contact_name": "林芳",
            "contact_phone": "+86 139 1234 5678", "contact_email": "sales@csrf.example.com", "description": "",
            "space_kind": "standard", "booths_requested": "2", "raw_space_m2": "", "preferred_area_id": "0",
            "preferred_pavilion_id": "0", "corner_preference": "none", "years_exhibited": "0", "competitors": "",
            "notes": ""}
    data.update(overrides)
    return data


def _profile(ex: Exhibitor, **overrides) -> dict[str, Any]:
    data = {k: getattr(ex, k) or "" for k in ("name_zh", "name_en", "country", "province", "city", "address",
                                             "website", "contact_name", "contact_phone", "contact_email",
                                             "description")}
    data["categories"] = [c.id for c in ex.categories]
    data.update(overrides)
    return data


def _application_form(app_row: SpaceApplication, **overrides) -> dict[str, Any]:
    data = {"space_kind": app_row.space_kind, "booths_requested": str(app_row.booths_requested or 1),
            "raw_space_m2": str(app_row.raw_space_m2 or ""), "preferred_area_id": str(app_row.preferred_area_id or 0),
            "preferred_pavilion_id": str(app_row.preferred_pavilion_id or 0),
            "corner_preference": app_row.corner_preference, "years_exhibited": str(app_row.years_exhibited),
            "competitors": app_row.competitors, "notes": app_row.notes}
    data.update(overrides)
    return data


@dataclass
class FormCase:
    """A form that changes something: who is signed in, the page that carries the form, where it posts, what it
    sends, and how to read the state it changes. ``ids`` fills in ids and data from the database."""

    name: str
    account: str | None
    page: str
    url: str
    data: dict[str, Any] | Callable[[dict], dict[str, Any]]
    state: Callable[[dict], Any]
    ids: Callable[[], dict] = field(default=lambda: {})
    ok_status: int = 302


def _ids_exhibitor() -> dict:
    ex = user("exhibitor@expo.test").exhibitor
    from expo.exhibitors.services import application_of
    return {"ex": ex.id, "member": ex.staff[0].id, "app": application_of(ex).id}


def _ids_submitted() -> dict:
    rows = list(db.session.scalars(select(SpaceApplication).where(
        SpaceApplication.status == ApplicationStatus.SUBMITTED).order_by(SpaceApplication.id).limit(2)))
    return {"app": rows[0].id, "ex": rows[0].exhibitor_id, "apps": [r.id for r in rows]}


def _ids_category() -> dict:
    return {"cat": db.session.scalars(select(ProductCategory).order_by(ProductCategory.id)).first().id}


def _ids_token() -> dict:
    token, _secret = auth_services.create_api_token(user("staff@expo.test"), "to revoke")
    db.session.commit()
    return {"token": token.id}


def _ids_reset() -> dict:
    captured = []
    auth_services.request_password_reset("staff@expo.test", lambda token: captured.append(token) or "url")
    db.session.commit()
    return {"token": captured[0]}


def _status_of(app_id: int) -> str:
    return db.session.get(SpaceApplication, app_id).status


FORM_CASES = [
    FormCase("login", None, "/login", "/login", {"email": "staff@expo.test", "password": DEMO_PASSWORD},
             state=lambda ids: db.session.scalar(select(User.last_login_at).where(User.email == "staff@expo.test"))),
    FormCase("register", None, "/register", "/register", _registration(),
             state=lambda ids: user("csrf@example.com") is not None),
    FormCase("logout", "staff@expo.test", "/organizer/", "/logout", {}, state=None),
    FormCase("language", "staff@expo.test", "/organizer/", "/language/zh", {"next": "/organizer/"},
             state=lambda ids: user("staff@expo.test").locale),
    FormCase("profile", "exhibitor@expo.test", "/exhibitor/profile", "/exhibitor/profile",
             lambda ids: _profile(db.session.get(Exhibitor, ids["ex"]), city="石狮"),
             state=lambda ids: db.session.get(Exhibitor, ids["ex"]).city, ids=_ids_exhibitor),
    FormCase("application", "exhibitor@expo.test", "/exhibitor/application", "/exhibitor/application",
             lambda ids: _application_form(db.session.get(SpaceApplication, ids["app"]), notes="Near the entrance"),
             state=lambda ids: db.session.get(SpaceApplication, ids["app"]).notes, ids=_ids_exhibitor),
    FormCase("application action", "exhibitor@expo.test", "/exhibitor/", "/exhibitor/application/withdraw", {},
             state=lambda ids: _status_of(ids["app"]), ids=_ids_exhibitor),
    FormCase("staff add", "exhibitor@expo.test", "/exhibitor/staff", "/exhibitor/staff",
             {"name": "New Colleague", "title": "Sales"},
             state=lambda ids: len(db.session.get(Exhibitor, ids["ex"]).staff), ids=_ids_exhibitor),
    FormCase("staff edit", "exhibitor@expo.test", "/exhibitor/staff/{member}", "/exhibitor/staff/{member}",
             {"name": "Renamed Colleague"},
             state=lambda ids: db.session.get(ExhibitorStaff, ids["member"]).name, ids=_ids_exhibitor),
    FormCase("staff delete", "exhibitor@expo.test", "/exhibitor/staff", "/exhibitor/staff/{member}/delete", {},
             state=lambda ids: db.session.get(ExhibitorStaff, ids["member"]) is not None, ids=_ids_exhibitor),
    FormCase("decision", "staff@expo.test", "/organizer/exhibitors/{ex}", "/organizer/applications/{app}/decision",
             {"decision": "approved", "reason": ""}, state=lambda ids: _status_of(ids["app"]), ids=_ids_submitted),
    FormCase("bulk", "staff@expo.test", "/organizer/applications", "/organizer/applications/bulk",
             lambda ids: {"application_ids": ids["apps"], "decision": "waitlisted", "reason": ""},
             state=lambda ids: sorted(_status_of(a) for a in ids["apps"]), ids=_ids_submitted),
    FormCase("category add", "admin@expo.test", "/organizer/categories/", "/organizer/categories/",
             {"code": "csrf-test", "name_zh": "测试", "name_en": "Test", "parent_id": "0", "sort": "5", "active": "y"},
             state=lambda ids: db.session.scalar(select(func.count(ProductCategory.id)))),
    FormCase("category edit", "admin@expo.test", "/organizer/categories/{cat}", "/organizer/categories/{cat}",
             lambda ids: {"code": db.session.get(ProductCategory, ids["cat"]).code, "name_zh": "改名",
                          "name_en": "Renamed", "parent_id": "0", "sort": "1", "active": "y"},
             state=lambda ids: db.session.get(ProductCategory, ids["cat"]).name_en, ids=_ids_category),
    FormCase("account add", "admin@expo.test", "/organizer/accounts", "/organizer/accounts",
             {"email": "gate2@example.com", "name": "Gate 2", "role": "gate", "password": PASSWORD},
             state=lambda ids: user("gate2@example.com") is not None),
    FormCase("token create", "staff@expo.test", "/account", "/account", {"name": "integration"},
             state=lambda ids: db.session.scalar(select(func.count(ApiToken.id))), ok_status=200),
    FormCase("token revoke", "staff@expo.test", "/account", "/account/tokens/{token}/revoke", {},
             state=lambda ids: db.session.get(ApiToken, ids["token"]).revoked_at is None, ids=_ids_token),
    FormCase("password forgot", None, "/password/forgot", "/password/forgot", {"email": "staff@expo.test"},
             state=lambda ids: db.session.scalar(select(func.count(OutboxMail.id)))),
    FormCase("password reset", None, "/password/reset/{token}", "/password/reset/{token}",
             {"password": "a brand new secret", "password_confirm": "a brand new secret"},
             state=lambda ids: user("staff@expo.test").password_hash, ids=_ids_reset),
]


@pytest.mark.parametrize("case", FORM_CASES, ids=lambda c: c.name)
def test_forms_without_csrf_token_are_refused(app, client, csrf_enabled, case: FormCase):
    with app.app_context():
        ids = case.ids()
        data = case.data(ids) if callable(case.data) else dict(case.data)
    page, url = case.page.format(**ids), case.url.format(**ids)
    if case.account:
        sign_in(client, case.account)

    def state():
        if case.state is None:  # logout: the state is who the session belongs to
            r = client.get("/account")
            return r.status_code
        with app.app_context():
            db.session.expire_all()
            return case.state(ids)

    before = state()
    # No token at all, then a valid token from someone else's session: both refused, nothing changed.
    stranger = app.test_client()
    foreign_token = csrf_token(stranger.get("/login").get_data(as_text=True))
    for token in (None, foreign_token):
        sent = dict(data) if token is None else {**data, "csrf_token": token}
        r = client.post(url, data=sent)
        assert r.status_code == 400, (case.name, token is not None, r.status_code)
        assert "The form has expired or was sent from another site." in r.get_data(as_text=True)
        assert state() == before, case.name
    # The same form with the token from its own page goes through.
    r = client.get(page)
    assert r.status_code == 200, (case.name, page, r.status_code)
    r = client.post(url, data={**data, "csrf_token": csrf_token(r.get_data(as_text=True))})
    assert r.status_code == case.ok_status, (case.name, r.status_code, r.get_data(as_text=True)[:3000])
    assert state() != before, case.name


def test_cookie_api_writes_need_the_csrf_header(app, client, csrf_enabled, tenants):
    sign_in(client, "exhibitor@expo.test")
    url = f"/api/v1/exhibitors/{tenants.a_id}"
    with app.app_context():
        before = exhibitor_state(tenants.a_id)
    # Reads need no token.
    assert client.get(url).status_code == 200
    writes = [("PATCH", url, {"city": "石狮"}), ("POST", f"{url}/staff", {"name": "Forged"}),
              ("PATCH", f"{url}/application", {"notes": "forged"}), ("POST", f"{url}/application/withdraw", {}),
              ("DELETE", f"{url}/staff/{tenants.a_member}", None)]
    for method, target, body in writes:
        r = client.open(target, method=method, json=body)
        assert r.status_code == 400, (method, target, r.status_code)
        assert r.is_json and r.get_json()["error"] == "csrf", (method, target)
        # A bearer header that does not authenticate anybody does not buy an exemption.
        r = client.open(target, method=method, json=body, headers={"Authorization": "Bearer expo_junk"})
        assert r.status_code == 400 and r.get_json()["error"] == "csrf", (method, target)
    with app.app_context():
        assert exhibitor_state(tenants.a_id) == before
    token = csrf_token(client.get("/exhibitor/profile").get_data(as_text=True))
    r = client.patch(url, json={"city": "石狮"}, headers={"X-CSRFToken": token})
    assert r.status_code == 200, r.get_data(as_text=True)
    assert r.get_json()["city"] == "石狮"


def test_bearer_token_api_writes_need_no_csrf_header(app, csrf_enabled, tenants):
    headers = bearer(app, "exhibitor@expo.test")
    client = app.test_client()  # no cookie at all: the token is the only credential
    r = client.patch(f"/api/v1/exhibitors/{tenants.a_id}", json={"city": "石狮"}, headers=headers)
    assert r.status_code == 200, r.get_data(as_text=True)
    r = client.post(f"/api/v1/exhibitors/{tenants.a_id}/staff", json={"name": "Via Token"}, headers=headers)
    assert r.status_code == 201
    with app.app_context():
        assert db.session.get(Exhibitor, tenants.a_id).city == "石狮"
        assert "Via Token" in {m.name for m in db.session.get(Exhibitor, tenants.a_id).staff}


@pytest.mark.parametrize("body", ["{", '"text"', "[1, 2]", '{"email": {"a": 1}, "password": "x"}'])
def test_pages_take_form_posts_only(app, client, body):
    """A JSON body sent to a page is refused with a 4xx page (it used to reach the form and fail with a 500)."""
    for url in ("/login", "/register", "/password/forgot"):
        r = client.post(url, data=body, content_type="application/json")
        assert r.status_code in (400, 415), (url, body, r.status_code)
        assert r.mimetype == "text/html"
    sign_in(client, "exhibitor@expo.test")
    with app.app_context():
        before = exhibitor_state(user("exhibitor@expo.test").exhibitor_id)
    for url in ("/exhibitor/profile", "/exhibitor/staff", "/account"):
        r = client.post(url, data=body, content_type="application/json")
        assert r.status_code in (400, 415), (url, body, r.status_code)
    with app.app_context():
        assert exhibitor_state(user("exhibitor@expo.test").exhibitor_id) == before


# --- passwords and sign-in ------------------------------------------------------------------------------------------

WERKZEUG_HASH = re.compile(r"^(scrypt|pbkdf2):[^$]+\$[^$]+\$[0-9a-f]{32,}$")


def test_passwords_are_stored_as_werkzeug_hashes(app, client):
    secret = "my very own secret 42"
    r = client.post("/register", data=_registration(email="hash@example.com", password=secret,
                                                     password_confirm=secret))
    assert r.status_code == 302
    with app.app_context():
        stored = user("hash@example.com").password_hash
        assert stored != secret and secret not in stored
        assert WERKZEUG_HASH.match(stored), stored
        assert check_password_hash(stored, secret)
        assert not check_password_hash(stored, secret + "x")
        # Nothing else holds the password either.
        for mail in db.session.scalars(select(OutboxMail)):
            assert secret not in mail.body
        for entry in db.session.scalars(select(AuditEntry)):
            assert secret not in str(entry.changes)
        # Every account in the database is hashed, demo ones included.
        assert all(WERKZEUG_HASH.match(h) for h in db.session.scalars(select(User.password_hash)))
        # Production's default is scrypt (the tests use a cheaper method for speed).
        from expo.config import DEFAULTS
        saved = app.config["PASSWORD_HASH_METHOD"]
        app.config["PASSWORD_HASH_METHOD"] = DEFAULTS["PASSWORD_HASH_METHOD"]
        try:
            assert auth_services.hash_password(secret).startswith("scrypt:")
        finally:
            app.config["PASSWORD_HASH_METHOD"] = saved


def test_session_cookie_and_page_headers(client):
    r = client.post("/login", data={"email": "staff@expo.test", "password": DEMO_PASSWORD})
    cookie = next(h for h in r.headers.getlist("Set-Cookie") if h.startswith("session="))
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie
    page = client.get("/organizer/")
    assert page.headers["X-Frame-Options"] == "DENY"
    assert page.headers["X-Content-Type-Options"] == "nosniff"
    assert "frame-ancestors 'none'" in page.headers["Content-Security-Policy"]
    assert "script-src" not in page.headers["Content-Security-Policy"]  # falls back to default-src 'self'


def test_wrong_password_and_unknown_account_get_the_same_401(client):
    wrong = client.post("/login", data={"email": "staff@expo.test", "password": "not it at all"})
    unknown = client.post("/login", data={"email": "nobody@expo.test", "password": "not it at all"})
    for r in (wrong, unknown):
        assert r.status_code == 401
        assert "E-mail address or password is wrong." in r.get_data(as_text=True)
    assert client.get("/organizer/").status_code == 302  # still anonymous


def test_inactive_account_cannot_sign_in(app, client):
    with app.app_context():
        user("staff@expo.test").active = False
        db.session.commit()
    r = client.post("/login", data={"email": "staff@expo.test", "password": DEMO_PASSWORD})
    assert r.status_code == 401


def test_login_is_throttled_per_account(app, client):
    limit = app.config["LOGIN_MAX_FAILURES_PER_ACCOUNT"]
    for _ in range(limit):
        assert client.post("/login", data={"email": "staff@expo.test", "password": "guess"}).status_code == 401
    r = client.post("/login", data={"email": "Staff@Expo.test ", "password": DEMO_PASSWORD})
    assert r.status_code == 429
    assert "Too many failed sign-ins." in r.get_data(as_text=True)
    assert client.get("/organizer/").status_code == 302  # the right password did not sign in
    # Another account from the same address is not locked by this one's failures.
    other = app.test_client()
    assert other.post("/login", data={"email": "admin@expo.test", "password": DEMO_PASSWORD}).status_code == 302


def test_throttle_message_is_translated(app, client):
    for _ in range(app.config["LOGIN_MAX_FAILURES_PER_ACCOUNT"]):
        client.post("/login", data={"email": "staff@expo.test", "password": "guess"})
    r = client.post("/login", data={"email": "staff@expo.test", "password": DEMO_PASSWORD},
                    headers={"Accept-Language": "zh-CN,zh;q=0.9"})
    assert r.status_code == 429
    english = "Too many failed sign-ins. Please wait a few minutes and try again."
    with app.test_request_context(), force_locale("zh"):
        expected = gettext(english)
    assert expected != english, "the Chinese catalog has no translation for the throttle message"
    body = r.get_data(as_text=True)
    assert 'lang="zh-Hans"' in body
    assert expected in body and english not in body


def test_login_is_throttled_per_address(app):
    saved = app.config["LOGIN_MAX_FAILURES_PER_IP"]
    app.config["LOGIN_MAX_FAILURES_PER_IP"] = 3
    try:
        attacker = app.test_client()
        attacker.environ_base["REMOTE_ADDR"] = "203.0.113.7"
        for i in range(3):  # a different account each time: the per-account limit is never reached
            r = attacker.post("/login", data={"email": f"guess{i}@expo.test", "password": "guess"})
            assert r.status_code == 401
        r = attacker.post("/login", data={"email": "staff@expo.test", "password": DEMO_PASSWORD})
        assert r.status_code == 429
        assert "Too many failed sign-ins." in r.get_data(as_text=True)
        elsewhere = app.test_client()
        elsewhere.environ_base["REMOTE_ADDR"] = "198.51.100.20"
        assert elsewhere.post("/login", data={"email": "staff@expo.test", "password": DEMO_PASSWORD}
                              ).status_code == 302
    finally:
        app.config["LOGIN_MAX_FAILURES_PER_IP"] = saved


def test_successful_sign_in_resets_the_account_counter(app, client):
    limit = app.config["LOGIN_MAX_FAILURES_PER_ACCOUNT"]
    for _round in range(2):
        for _ in range(limit - 1):
            assert client.post("/login", data={"email": "staff@expo.test", "password": "guess"}).status_code == 401
        r = client.post("/login", data={"email": "staff@expo.test", "password": DEMO_PASSWORD})
        assert r.status_code == 302  # without the reset, the second round would be throttled here
        with app.app_context():
            assert db.session.scalar(select(func.count(LoginAttempt.id))
                                     .where(LoginAttempt.email == "staff@expo.test")) == 0
        client.post("/logout")


# --- password reset -------------------------------------------------------------------------------------------------

RESET_LINK = re.compile(r"https?://[^/\s]+(/password/reset/[^\s]+)")
SAME_ANSWER = "If an account exists for this address, we have sent it a link to choose a new password."


def _outbox(app) -> list[OutboxMail]:
    with app.app_context():
        mails = list(db.session.scalars(select(OutboxMail).order_by(OutboxMail.id)))
        db.session.expunge_all()
        return mails


def _reset_link(app, client, email: str) -> str:
    before = len(_outbox(app))
    client.post("/password/forgot", data={"email": email})
    mails = _outbox(app)
    assert len(mails) == before + 1
    match = RESET_LINK.search(mails[-1].body)
    assert match, mails[-1].body
    return match.group(1)


def test_forgot_password_answers_the_same_for_known_and_unknown_addresses(app, client):
    known = client.post("/password/forgot", data={"email": "staff@expo.test"}, follow_redirects=True)
    after_known = _outbox(app)
    unknown = client.post("/password/forgot", data={"email": "nobody@expo.test"}, follow_redirects=True)
    assert known.status_code == unknown.status_code == 200
    assert SAME_ANSWER in known.get_data(as_text=True) and SAME_ANSWER in unknown.get_data(as_text=True)
    assert known.request.path == unknown.request.path == "/login"
    assert len(after_known) == 1 and after_known[0].recipient == "staff@expo.test"
    assert RESET_LINK.search(after_known[0].body)
    assert len(_outbox(app)) == 1  # the unknown address got nothing


def test_reset_link_sets_a_new_password_once(app, client):
    link = _reset_link(app, client, "staff@expo.test")
    assert client.get(link).status_code == 200
    r = client.post(link, data={"password": "a brand new secret", "password_confirm": "a brand new secret"})
    assert r.status_code == 302 and urlsplit(r.location).path == "/login"
    assert client.post("/login", data={"email": "staff@expo.test", "password": DEMO_PASSWORD}).status_code == 401
    assert client.post("/login", data={"email": "staff@expo.test", "password": "a brand new secret"}
                       ).status_code == 302
    client.post("/logout")
    # Single use: the same link cannot set the password again.
    for r in (client.get(link), client.post(link, data={"password": "attacker's choice",
                                                         "password_confirm": "attacker's choice"})):
        assert r.status_code == 400
        assert "This reset link has already been used." in r.get_data(as_text=True)
    assert client.post("/login", data={"email": "staff@expo.test", "password": "attacker's choice"}
                       ).status_code == 401


def test_password_reset_signs_out_the_accounts_other_sessions(app, client):
    thief = app.test_client()
    assert thief.post("/login", data={"email": "staff@expo.test", "password": DEMO_PASSWORD}).status_code == 302
    assert thief.get("/organizer/applications").status_code == 200
    link = _reset_link(app, client, "staff@expo.test")
    client.post(link, data={"password": "a brand new secret", "password_confirm": "a brand new secret"})
    r = thief.get("/organizer/applications")
    assert r.status_code == 302 and urlsplit(r.location).path == "/login"  # the old session no longer counts
    assert client.post("/login", data={"email": "staff@expo.test", "password": "a brand new secret"}
                       ).status_code == 302
    assert client.get("/organizer/applications").status_code == 200


def test_unknown_address_costs_a_password_check_too(app, client, monkeypatch):
    import expo.auth.services as auth_services

    checked = []
    real = auth_services.check_password_hash
    monkeypatch.setattr(auth_services, "check_password_hash", lambda h, p: checked.append(h) or real(h, p))
    assert client.post("/login", data={"email": "nobody@expo.test", "password": "guess"}).status_code == 401
    assert checked and checked[0].startswith("pbkdf2:sha256:1000")  # same method and cost as real accounts


def test_tampered_reset_link_is_refused(app, client):
    link = _reset_link(app, client, "staff@expo.test")
    token = link.rsplit("/", 1)[1]
    with app.app_context():
        admin_id = user("admin@expo.test").id
    # Change the signed payload (another user id) without re-signing, and flip a signature character.
    payload, rest = token.split(".", 1)
    import base64
    import json
    decoded = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    decoded["uid"] = admin_id
    forged_payload = base64.urlsafe_b64encode(json.dumps(decoded, separators=(",", ":")).encode()).rstrip(b"=")
    flipped = token[:-6] + ("A" if token[-6] != "A" else "B") + token[-5:]
    with app.app_context():
        hash_before = user("admin@expo.test").password_hash
    for bad in (f"{forged_payload.decode()}.{rest}", flipped, "not-a-token"):
        for r in (client.get(f"/password/reset/{bad}"),
                  client.post(f"/password/reset/{bad}", data={"password": "attacker's choice",
                                                              "password_confirm": "attacker's choice"})):
            assert r.status_code == 400, (bad, r.status_code)
            assert "This reset link is not valid." in r.get_data(as_text=True)
    with app.app_context():
        assert user("admin@expo.test").password_hash == hash_before


def test_expired_reset_link_is_refused(app, client, monkeypatch):
    import time as time_module

    issued = time_module.time() - app.config["PASSWORD_RESET_MAX_AGE_SECONDS"] - 60
    monkeypatch.setattr(TimestampSigner, "get_timestamp", lambda self: int(issued))
    link = _reset_link(app, client, "staff@expo.test")
    monkeypatch.undo()
    with app.app_context():
        hash_before = user("staff@expo.test").password_hash
    r = client.post(link, data={"password": "a brand new secret", "password_confirm": "a brand new secret"})
    assert r.status_code == 400
    assert "This reset link has expired. Ask for a new one." in r.get_data(as_text=True)
    assert client.get(link).status_code == 400
    with app.app_context():
        assert user("staff@expo.test").password_hash == hash_before


def test_organizer_staff_cannot_read_reset_links_in_the_outbox(app, client):
    """Otherwise staff could ask for the admin's reset and take over the admin account."""
    link = _reset_link(app, client, "admin@expo.test")
    token = link.rsplit("/", 1)[1]
    sign_in(client, "staff@expo.test")
    page = client.get("/organizer/outbox").get_data(as_text=True)
    assert "admin@expo.test" in page  # the message is listed...
    assert token not in page  # ...without the secret link
    client.post("/logout")
    sign_in(client, "admin@expo.test")
    assert token in client.get("/organizer/outbox").get_data(as_text=True)


# --- API tokens -----------------------------------------------------------------------------------------------------

def test_api_token_is_shown_once_and_stored_as_a_hash(app, client):
    sign_in(client, "staff@expo.test")
    page = client.post("/account", data={"name": "integration"}).get_data(as_text=True)
    match = re.search(r'<code class="secret" id="new-token">([^<]+)</code>', page)
    assert match, page
    secret = match.group(1)
    assert secret not in client.get("/account").get_data(as_text=True)  # shown once
    with app.app_context():
        token = db.session.scalar(select(ApiToken).where(ApiToken.name == "integration"))
        assert token.token_hash == hashlib.sha256(secret.encode()).hexdigest()
        assert secret not in str(columns(token).values())
        token_id = token.id
    api = app.test_client()
    r = api.get("/api/v1/me", headers={"Authorization": f"Bearer {secret}"})
    assert r.status_code == 200 and r.get_json()["email"] == "staff@expo.test"
    assert client.post(f"/account/tokens/{token_id}/revoke").status_code == 302
    r = api.get("/api/v1/me", headers={"Authorization": f"Bearer {secret}"})
    assert r.status_code == 401 and r.get_json()["error"] == "unauthorized"


def test_another_users_token_cannot_be_revoked(app, client):
    with app.app_context():
        token, secret = auth_services.create_api_token(user("admin@expo.test"), "admin's")
        db.session.commit()
        token_id = token.id
    sign_in(client, "staff@expo.test")
    r = client.post(f"/account/tokens/{token_id}/revoke")
    assert r.status_code == 404
    assert "No such token." in r.get_data(as_text=True)
    with app.app_context():
        assert db.session.get(ApiToken, token_id).revoked_at is None
    assert app.test_client().get("/api/v1/me", headers={"Authorization": f"Bearer {secret}"}).status_code == 200


# --- open redirects -------------------------------------------------------------------------------------------------

OFFSITE = ["//evil.example", "https://evil.example", "http:evil.example", "/\\evil.example", "\\\\evil.example",
           "/\\/evil.example", "/\t/evil.example", "/%09/evil.example", " //evil.example", "javascript:alert(1)"]


def _stays_on_site(location: str) -> bool:
    # Browsers treat "\" like "/" and drop tabs and newlines, so judge the target the way they do.
    normalized = re.sub(r"[\t\n\r]", "", location).replace("\\", "/").strip()
    parts = urlsplit(normalized)
    return parts.scheme in ("", "http", "https") and parts.netloc in ("", "localhost") \
        and not normalized.startswith("//") and parts.scheme != "javascript"


@pytest.mark.parametrize("target", OFFSITE)
def test_login_next_does_not_leave_the_site(client, target):
    r = client.post("/login", query_string={"next": target},
                    data={"email": "staff@expo.test", "password": DEMO_PASSWORD})
    assert r.status_code == 302
    assert _stays_on_site(r.location), r.location


def test_login_next_within_the_site_is_followed(client):
    r = client.post("/login?next=/organizer/applications%3Fstatus%3Dsubmitted",
                    data={"email": "staff@expo.test", "password": DEMO_PASSWORD})
    assert r.status_code == 302 and r.location == "/organizer/applications?status=submitted"


@pytest.mark.parametrize("target", OFFSITE)
def test_language_switch_does_not_leave_the_site(client, target):
    r = client.post("/language/zh", data={"next": target})
    assert r.status_code == 302
    assert _stays_on_site(r.location), r.location


def test_language_switch_returns_to_the_page(client):
    r = client.post("/language/zh", data={"next": "/register?x=1"})
    assert r.status_code == 302 and r.location == "/register?x=1"
    assert 'lang="zh-Hans"' in client.get("/login").get_data(as_text=True)


def _failed_login_ip(flask_app) -> str:
    client = flask_app.test_client()
    client.post("/login", data={"email": "staff@expo.test", "password": "guess"},
                headers={"X-Forwarded-For": "198.51.100.1, 203.0.113.9"}, environ_base={"REMOTE_ADDR": "10.0.0.2"})
    with flask_app.app_context():
        ip = db.session.scalar(select(LoginAttempt.ip).order_by(LoginAttempt.id.desc()).limit(1))
        db.session.remove()
        return ip


def test_proxy_fix_trusts_only_the_configured_hops(app):
    from expo import create_app

    assert _failed_login_ip(app) == "10.0.0.2"  # off by default: the header is anyone's to forge
    behind = create_app({"DATABASE_URL": app.config["DATABASE_URL"], "SECRET_KEY": "test-secret",
                         "PASSWORD_HASH_METHOD": "pbkdf2:sha256:1000", "WTF_CSRF_ENABLED": False,
                         "PROXY_FIX_X_FOR": 1})
    try:
        # One proxy trusted: the address it saw (the last one), not whatever the client put before it.
        assert _failed_login_ip(behind) == "203.0.113.9"
    finally:
        with behind.app_context():
            db.engine.dispose()
