"""The print desk, the kiosk, online visitor registration and self-service badges, used as people would.

Badges are read back as a scanner and a reader would: the PDF page rendered to an image (pdftoppm), the QR decoded
(zxing-cpp) and its signature verified with the expo's public key, the printed name (Chinese too) extracted.
"""

from __future__ import annotations

import io
import re

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from pypdf import PdfReader
from sqlalchemy import func, select

from expo.audit import AuditEntry
from expo.badges import codes, desk, desk_views, keys, services
from expo.badges.models import Badge, BadgePrint, BadgeStatus, HolderKind, Visitor
from expo.buyers.models import Buyer, BuyerStatus, Delegation
from expo.exhibitors.models import ApplicationStatus, Exhibitor, ExhibitorStaff, SpaceApplication
from expo.exhibitors.services import current_expo
from expo.extensions import db
from expo.mail import OutboxMail
from tests.conftest import csrf_token
from tests.factories import user
from tests.test_badges_core import _decode_pages

PASSWORD = "expo-demo-2026"
FUZZ = settings(max_examples=60, deadline=None,
                suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])


@pytest.fixture(autouse=True)
def _fresh_registration_throttle(monkeypatch):
    """Each test starts with no online registrations counted against the test client's address."""
    monkeypatch.setattr(desk_views, "_registrations", {})


# --- helpers -------------------------------------------------------------------------------------------------------

def sign_in(client, email: str) -> None:
    r = client.post("/login", data={"email": email, "password": PASSWORD})
    assert r.status_code == 302, r.get_data(as_text=True)[:500]


def text_of(pdf: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)


def pages_of(pdf: bytes) -> int:
    return len(PdfReader(io.BytesIO(pdf)).pages)


def count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def verified_ids(app, pdf: bytes, tmp_path) -> list[int]:
    """Badge ids of every QR code on every page, decoded from the rendered pages and verified with the expo key."""
    found = _decode_pages(pdf, tmp_path)
    with app.app_context():
        public = keys.public_keys(current_expo())
        return sorted(codes.verify(code, public).badge_id for code in found)


def buyer_badge(app, **changes) -> dict:
    """A demo buyer with a native-script name and a badge; returns what the tests search by."""
    with app.app_context():
        buyer = db.session.scalar(select(Buyer).where(Buyer.delegation_id.is_(None), Buyer.user_id.is_(None))
                                  .order_by(Buyer.id).limit(1))
        buyer.name, buyer.name_native, buyer.company, buyer.phone = "Olga Smirnova", "奥尔加", \
            "Taiga Footwear Imports", "+7 912 345 6789"
        for key, value in changes.items():
            setattr(buyer, key, value)
        badge = services.issue_for(None, current_expo(), services.holder_of_buyer(buyer))
        db.session.commit()
        return {"id": badge.id, "code": badge.code, "confirmation": badge.confirmation, "buyer_id": buyer.id}


def approved_exhibitors(app, n: int = 2) -> list[dict]:
    """Exhibitors with an approved application, each with its account and staff."""
    with app.app_context():
        apps = db.session.scalars(select(SpaceApplication).where(SpaceApplication.status == ApplicationStatus.APPROVED)
                                  .order_by(SpaceApplication.id).limit(n)).all()
        out = []
        for application in apps:
            exhibitor = application.exhibitor
            out.append({"id": exhibitor.id, "email": exhibitor.accounts[0].email,
                        "staff": [(m.id, m.name) for m in exhibitor.staff]})
        assert len(out) == n and all(e["staff"] for e in out)
        return out


# --- the print desk: finding people ---------------------------------------------------------------------------------

def test_desk_finds_a_badge_by_each_key(app, client):
    b = buyer_badge(app)
    sign_in(client, "printdesk@expo.test")
    for q in ("Smirnova", "olga smir", "奥尔加", "Taiga Footwear", "912 345", "+79123456789", "79123456789"):
        r = client.get("/desk/", query_string={"q": q})
        assert r.status_code == 200, q
        assert f'/desk/badges/{b["id"]}"' in r.get_data(as_text=True), q
    # A confirmation code (read out, any case) or a scanned code (with what a wedge scanner adds) opens the badge.
    for q in (b["confirmation"], b["confirmation"].lower(), f' {b["code"].lower()}\n'):
        r = client.get("/desk/", query_string={"q": q})
        assert r.status_code == 302 and r.location.endswith(f'/desk/badges/{b["id"]}'), q
    # Nothing found is said, not an error; the search box is focused for the scanner.
    r = client.get("/desk/", query_string={"q": "Nobody Such Person"})
    html = r.get_data(as_text=True)
    assert r.status_code == 200 and "No badge found." in html and "autofocus" in html


def test_desk_finds_people_without_a_badge_and_issues_theirs_on_the_spot(app, client):
    exhibitor = approved_exhibitors(app, 1)[0]
    member_id, member_name = exhibitor["staff"][0]
    with app.app_context():
        delegate = db.session.scalar(select(Buyer).where(Buyer.delegation_id.is_not(None)).order_by(Buyer.id).limit(1))
        delegate_id, delegate_name = delegate.id, delegate.name
        walk_in = Visitor(expo_id=current_expo().id, name="Pierre Dubois", company="Chaussures Dubois", country="FR",
                          phone="+33 1 23 45 67 89")
        db.session.add(walk_in)
        db.session.commit()
        visitor_id = walk_in.id
    sign_in(client, "printdesk@expo.test")
    cases = [(HolderKind.EXHIBITOR_STAFF, member_id, member_name, "EXH"),
             (HolderKind.BUYER, delegate_id, delegate_name, "DEL"),
             (HolderKind.VISITOR, visitor_id, "Dubois", "VIS")]
    for kind, holder_id, q, type_code in cases:
        html = client.get("/desk/", query_string={"q": q}).get_data(as_text=True)
        assert f'name="holder_kind" value="{kind}"><input type="hidden" name="holder_id" value="{holder_id}"' in html, q
        r = client.post("/desk/issue", data={"holder_kind": str(kind), "holder_id": holder_id, "q": q})
        assert r.status_code == 302, (q, r.get_data(as_text=True)[:500])
        with app.app_context():
            badge = db.session.scalar(select(Badge).where(Badge.holder_kind == str(kind), Badge.holder_id == holder_id))
            assert badge is not None and badge.badge_type.code == type_code
            assert r.location.endswith(f"/desk/badges/{badge.id}")
        # Found again, the person is under "Badges" now, not among the people without one.
        html = client.get("/desk/", query_string={"q": q}).get_data(as_text=True)
        assert f'name="holder_id" value="{holder_id}"' not in html
        # Issuing twice is harmless: the same badge.
        assert client.post("/desk/issue", data={"holder_kind": str(kind), "holder_id": holder_id}).location == r.location
    # Company name finds the exhibitor's staff too.
    with app.app_context():
        company = db.session.get(Exhibitor, exhibitor["id"]).name_en
        staff_badge = db.session.scalar(select(Badge.id).where(Badge.holder_kind == "exhibitor_staff",
                                                               Badge.holder_id == member_id))
    assert f'/desk/badges/{staff_badge}"' in client.get("/desk/", query_string={"q": company}).get_data(as_text=True)


def test_desk_refuses_badges_the_rules_do_not_allow(app, client):
    with app.app_context():
        pending = db.session.scalar(select(ExhibitorStaff).join(SpaceApplication, SpaceApplication.exhibitor_id ==
                                                                 ExhibitorStaff.exhibitor_id)
                                    .where(SpaceApplication.status == ApplicationStatus.SUBMITTED).limit(1))
        cancelled = db.session.scalar(select(Buyer).where(Buyer.user_id.is_(None)).order_by(Buyer.id.desc()).limit(1))
        cancelled.status = BuyerStatus.CANCELLED
        db.session.commit()
        pending_id, pending_name, cancelled_id = pending.id, pending.name, cancelled.id
        badges_before, audit_before = count(Badge), count(AuditEntry)
    sign_in(client, "printdesk@expo.test")
    html = client.get("/desk/", query_string={"q": pending_name}).get_data(as_text=True)
    assert "The company&#39;s application is not approved." in html
    assert f'name="holder_id" value="{pending_id}"' not in html  # no button for it
    r = client.post("/desk/issue", data={"holder_kind": "exhibitor_staff", "holder_id": pending_id})
    assert r.status_code == 409 and "once the company&#39;s application is approved" in r.get_data(as_text=True)
    r = client.post("/desk/issue", data={"holder_kind": "buyer", "holder_id": cancelled_id})
    assert r.status_code == 409 and "This buyer has cancelled." in r.get_data(as_text=True)
    for data in ({"holder_kind": "buyer", "holder_id": 999999}, {"holder_kind": "organizer", "holder_id": 1},
                 {"holder_kind": "buyer", "holder_id": "x"}, {}):
        r = client.post("/desk/issue", data=data)
        assert r.status_code in (400, 404), (data, r.status_code)
    with app.app_context():
        assert count(Badge) == badges_before and count(AuditEntry) == audit_before


# --- printing, reprinting, revoking ----------------------------------------------------------------------------------

def test_print_then_reprint_needs_a_reason_and_is_counted(app, client, tmp_path):
    b = buyer_badge(app)
    sign_in(client, "printdesk@expo.test")
    page = client.get(f'/desk/badges/{b["id"]}').get_data(as_text=True)
    assert "<svg" in page and b["confirmation"] in page and 'id="print-count">0<' in page

    r = client.post(f'/desk/badges/{b["id"]}/print', data={"print-reason": "", "print-layout": ""})
    assert r.status_code == 200 and r.mimetype == "application/pdf"
    assert r.headers["Content-Disposition"].startswith("inline") and r.headers["Cache-Control"] == "no-store"
    assert "奥尔加" in text_of(r.data) and "Olga Smirnova" in text_of(r.data)
    assert verified_ids(app, r.data, tmp_path) == [b["id"]]

    # A reprint without a reason: refused beside the field, nothing counted.
    r = client.post(f'/desk/badges/{b["id"]}/print', data={"print-reason": "  ", "print-layout": ""})
    assert r.status_code == 400 and r.mimetype == "text/html"
    assert "Say why the badge is printed again." in r.get_data(as_text=True)
    r = client.post(f'/desk/badges/{b["id"]}/print', data={"print-reason": "coffee spilled", "print-layout": "cr80"})
    assert r.status_code == 200 and r.mimetype == "application/pdf"
    assert round(float(PdfReader(io.BytesIO(r.data)).pages[0].mediabox.width)) == 153  # the CR80 card chosen
    # An unknown paper is refused, and nothing is counted for it.
    assert client.post(f'/desk/badges/{b["id"]}/print', data={"print-reason": "x", "print-layout": "poster"}
                       ).status_code == 400
    with app.app_context():
        badge = db.session.get(Badge, b["id"])
        assert badge.print_count == 2
        assert sorted(db.session.scalars(select(BadgePrint.reason).where(BadgePrint.badge_id == badge.id))) == \
            ["", "coffee spilled"]
        assert db.session.scalar(select(func.count()).select_from(AuditEntry).where(
            AuditEntry.action == "badge_reprinted", AuditEntry.object_id == badge.id)) == 1
    page = client.get(f'/desk/badges/{b["id"]}').get_data(as_text=True)
    assert 'id="print-count">2<' in page and "coffee spilled" in page and "Print desk 制证处" in page
    assert "Reprint" in page


def test_revoke_and_reissue_refuses_the_old_code(app, client, tmp_path):
    b = buyer_badge(app)
    sign_in(client, "printdesk@expo.test")
    r = client.post(f'/desk/badges/{b["id"]}/reissue', data={"reissue-reason": ""})
    assert r.status_code == 400 and "Say why." in r.get_data(as_text=True)
    r = client.post(f'/desk/badges/{b["id"]}/reissue', data={"reissue-reason": "lost at the hotel"})
    assert r.status_code == 302
    with app.app_context():
        expo = current_expo()
        badge = db.session.get(Badge, b["id"])
        assert badge.code != b["code"] and badge.serial == 2 and badge.status == BadgeStatus.ACTIVE
        # The old code still carries a genuine signature; its serial is behind, so it is refused.
        old = codes.verify(b["code"], keys.public_keys(expo))
        assert old.badge_id == badge.id and old.serial < badge.serial
        assert desk.check_code(expo, b["code"]).verdict == "reissued"
        assert desk.check_code(expo, badge.code).verdict == "valid"
        new_code = badge.code
    # Scanned at the desk, the old code is named as old; the new one opens the badge.
    r = client.get("/desk/", query_string={"q": b["code"]})
    assert r.status_code == 200 and "This is an old code" in r.get_data(as_text=True)
    assert client.get("/desk/", query_string={"q": new_code}).status_code == 302
    # The reprint of the new code decodes to the new code.
    r = client.post(f'/desk/badges/{b["id"]}/print', data={"print-reason": "", "print-layout": ""})
    assert r.status_code == 200
    assert _decode_pages(r.data, tmp_path) == [new_code]
    (tmp_path / "again").mkdir()
    assert verified_ids(app, r.data, tmp_path / "again") == [b["id"]]

    r = client.post(f'/desk/badges/{b["id"]}/revoke', data={"revoke-reason": ""})
    assert r.status_code == 400
    r = client.post(f'/desk/badges/{b["id"]}/revoke', data={"revoke-reason": "no longer comes"})
    assert r.status_code == 302
    r = client.post(f'/desk/badges/{b["id"]}/print', data={"print-reason": "again", "print-layout": ""})
    assert r.status_code == 409 and "This badge is revoked; reissue it first." in r.get_data(as_text=True)
    with app.app_context():
        assert desk.check_code(current_expo(), new_code).verdict == "revoked"
        assert db.session.get(Badge, b["id"]).print_count == 1
    assert "This badge is revoked." in client.get("/desk/", query_string={"q": new_code}).get_data(as_text=True)
    # A revoked badge can be brought back with a new code.
    assert client.post(f'/desk/badges/{b["id"]}/reissue', data={"reissue-reason": "found after all"}
                       ).status_code == 302
    with app.app_context():
        assert db.session.get(Badge, b["id"]).status == BadgeStatus.ACTIVE


def test_forged_and_foreign_codes_are_named_at_the_desk(app, client):
    b = buyer_badge(app)
    sign_in(client, "printdesk@expo.test")
    forged = b["code"][:50] + ("A" if b["code"][50] != "A" else "B") + b["code"][51:]
    r = client.get("/desk/", query_string={"q": forged})
    assert r.status_code == 200 and "This is not a valid badge code." in r.get_data(as_text=True)


# --- the kiosk -----------------------------------------------------------------------------------------------------

WALK_IN = {"name": "欧阳建华", "company": "晋江鞋材贸易有限公司", "country": "CN", "phone": "+86 139 0000 1111",
           "email": ""}


def test_kiosk_walk_in_ends_with_a_readable_badge(app, client, tmp_path):
    sign_in(client, "printdesk@expo.test")
    page = client.get("/kiosk/").get_data(as_text=True)
    assert 'name="kind"' not in page  # press and contractors go to the desk
    r = client.post("/kiosk/", data={**WALK_IN, "kind": "press"})
    assert r.status_code == 302 and r.location.endswith("/kiosk/done")
    done = client.get("/kiosk/done").get_data(as_text=True)
    link = re.search(r'id="badge-pdf" href="([^"]+)"', done).group(1)
    assert 'http-equiv="refresh"' in done and "Next visitor" in done
    pdf = client.get(link)
    assert pdf.status_code == 200 and pdf.mimetype == "application/pdf"
    assert pdf.headers["Content-Disposition"].startswith("inline")
    text = text_of(pdf.data)
    assert "欧阳建华" in text and "专业观众" in text
    ids = verified_ids(app, pdf.data, tmp_path)
    with app.app_context():
        visitor = db.session.scalar(select(Visitor).where(Visitor.name == "欧阳建华"))
        assert visitor.registered_at_kiosk and visitor.kind == "visitor"
        badge = db.session.scalar(select(Badge).where(Badge.holder_kind == "visitor", Badge.holder_id == visitor.id))
        assert ids == [badge.id] and badge.badge_type.code == "VIS" and badge.print_count == 1
        assert desk.check_code(current_expo(), badge.code).verdict == "valid"
        assert badge.confirmation in done
    # The viewer fetching it again is not another print; another kiosk session cannot fetch it at all.
    assert client.get(link).status_code == 200
    other = app.test_client()
    sign_in(other, "printdesk@expo.test")
    assert other.get(link).status_code == 404
    # "Next visitor" empties the kiosk: the badge is no longer reachable from it.
    assert client.get("/kiosk/").status_code == 200
    assert client.get(link).status_code == 404
    assert client.get("/kiosk/done").status_code == 302
    with app.app_context():
        assert db.session.get(Badge, badge.id).print_count == 1


def test_kiosk_refuses_bad_input_and_writes_nothing(app, client):
    sign_in(client, "printdesk@expo.test")
    with app.app_context():
        before = (count(Visitor), count(Badge), count(AuditEntry))
    for change in ({"name": "  "}, {"phone": "call me"}, {"phone": ""}, {"country": "XX"}, {"email": "not-an-address"},
                   {"name": "x" * 201}, {"company": "a\x00b"}):
        r = client.post("/kiosk/", data={**WALK_IN, **change})
        assert r.status_code == 400, change
        assert 'class="error"' in r.get_data(as_text=True), change
    with app.app_context():
        assert (count(Visitor), count(Badge), count(AuditEntry)) == before


def test_kiosk_form_needs_its_csrf_token(app, client, csrf_enabled):
    page = client.get("/login").get_data(as_text=True)
    client.post("/login", data={"email": "printdesk@expo.test", "password": PASSWORD, "csrf_token": csrf_token(page)})
    with app.app_context():
        before = count(Visitor)
    assert client.post("/kiosk/", data=WALK_IN).status_code == 400
    token = csrf_token(client.get("/kiosk/").get_data(as_text=True))
    assert client.post("/kiosk/", data={**WALK_IN, "csrf_token": token}).status_code == 302
    with app.app_context():
        assert count(Visitor) == before + 1


def test_desk_registers_press_and_contractors(app, client):
    sign_in(client, "printdesk@expo.test")
    r = client.post("/desk/visitors/new", data={**WALK_IN, "name": "Li Ming", "kind": "press"})
    assert r.status_code == 302
    with app.app_context():
        badge = db.session.scalar(select(Badge).order_by(Badge.id.desc()).limit(1))
        assert badge.name == "Li Ming" and badge.badge_type.code == "PRS"
        visitor = db.session.get(Visitor, badge.holder_id)
        assert visitor.kind == "press" and not visitor.registered_at_kiosk
    assert client.post("/desk/visitors/new", data={**WALK_IN, "kind": "vip"}).status_code == 400


# --- online pre-registration ---------------------------------------------------------------------------------------

ONLINE = {"name": "Anna Müller", "company": "Schuhhaus Müller GmbH", "country": "DE", "phone": "+49 30 1234 5678",
          "email": "anna@schuhhaus.example.com"}


def test_online_registration_confirms_with_code_qr_and_mail(app, client, tmp_path):
    assert client.get("/visit/register").status_code == 200  # public
    r = client.post("/visit/register", data=ONLINE)
    assert r.status_code == 302 and "/visit/badge/" in r.location
    page = client.get(r.location)
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and page.headers["Cache-Control"] == "no-store"
    with app.app_context():
        visitor = db.session.scalar(select(Visitor).where(Visitor.email == ONLINE["email"]))
        assert not visitor.registered_at_kiosk
        badge = db.session.scalar(select(Badge).where(Badge.holder_kind == "visitor", Badge.holder_id == visitor.id))
        assert badge.confirmation in html and "<svg" in html and "Anna Müller" in html
        mails = db.session.scalars(select(OutboxMail).where(OutboxMail.recipient == ONLINE["email"])).all()
        assert len(mails) == 1 and badge.confirmation in mails[0].body
        link = re.search(r"(http://\S+/visit/badge/\S+)", mails[0].body).group(1)
        badge_id, code = badge.id, badge.code
    assert client.get(link.replace("http://localhost", "")).status_code == 200
    # The QR on the confirmation page is the badge's signed code: the desk scans it and prints.
    desk_client = app.test_client()
    sign_in(desk_client, "printdesk@expo.test")
    assert desk_client.get("/desk/", query_string={"q": code}).location.endswith(f"/desk/badges/{badge_id}")

    # The same address again: the confirmation goes to it again, and the page shows nothing of the registration.
    r = client.post("/visit/register", data={**ONLINE, "name": "Somebody Else"})
    assert r.status_code == 200
    html = r.get_data(as_text=True)
    assert "already registered" in html and code not in html
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Visitor).where(
            Visitor.email == ONLINE["email"])) == 1
        assert db.session.scalar(select(func.count()).select_from(OutboxMail).where(
            OutboxMail.recipient == ONLINE["email"])) == 2
    # A tampered link and an old link (after a reissue) lead nowhere.
    token = link.rsplit("/", 1)[1]
    assert client.get(f"/visit/badge/{token[:-2]}xx").status_code == 404
    assert client.get("/visit/badge/WzEsMV0.forged").status_code == 404
    sign_in(desk_client, "printdesk@expo.test")
    desk_client.post(f"/desk/badges/{badge_id}/reissue", data={"reissue-reason": "phone stolen"})
    assert client.get(f"/visit/badge/{token}").status_code == 404


def test_online_registration_refuses_bad_input_and_is_throttled(app, client, monkeypatch):
    with app.app_context():
        before = count(Visitor)
    for change in ({"email": ""}, {"email": "nope"}, {"name": ""}, {"phone": "12"}, {"country": "ZZ"}):
        r = client.post("/visit/register", data={**ONLINE, **change})
        assert r.status_code == 400 and 'class="error"' in r.get_data(as_text=True), change
    with app.app_context():
        assert count(Visitor) == before
    monkeypatch.setitem(app.config, "VISITOR_REGISTRATIONS_PER_IP", 2)
    for n in range(2):
        assert client.post("/visit/register", data={**ONLINE, "email": f"v{n}@example.com"}).status_code == 302
    r = client.post("/visit/register", data={**ONLINE, "email": "v3@example.com"})
    assert r.status_code == 429 and "Too many registrations" in r.get_data(as_text=True)
    with app.app_context():
        assert count(Visitor) == before + 2


def test_online_registration_needs_its_csrf_token(app, client, csrf_enabled):
    assert client.post("/visit/register", data=ONLINE).status_code == 400
    token = csrf_token(client.get("/visit/register").get_data(as_text=True))
    assert client.post("/visit/register", data={**ONLINE, "csrf_token": token}).status_code == 302


# --- who may do what -----------------------------------------------------------------------------------------------

DESK_PAGES = ["/desk/", "/desk/visitors/new", "/kiosk/", "/kiosk/done"]


@pytest.mark.parametrize("email", ["exhibitor@expo.test", "gate@expo.test", "buyer@expo.test", "leader@expo.test"])
def test_desk_and_kiosk_refuse_other_roles(app, client, email):
    b = buyer_badge(app)
    with app.app_context():
        before = (count(Badge), count(Visitor), count(BadgePrint), count(AuditEntry))
    sign_in(client, email)
    for url in [*DESK_PAGES, f'/desk/badges/{b["id"]}', f'/kiosk/badges/{b["id"]}.pdf']:
        assert client.get(url).status_code == 403, url
    posts = {"/desk/issue": {"holder_kind": "buyer", "holder_id": b["buyer_id"]},
             f'/desk/badges/{b["id"]}/print': {"print-reason": "x"},
             f'/desk/badges/{b["id"]}/reissue': {"reissue-reason": "x"},
             f'/desk/badges/{b["id"]}/revoke': {"revoke-reason": "x"},
             "/kiosk/": WALK_IN, "/desk/visitors/new": WALK_IN}
    for url, data in posts.items():
        assert client.post(url, data=data).status_code == 403, url
    with app.app_context():
        assert (count(Badge), count(Visitor), count(BadgePrint), count(AuditEntry)) == before


def test_desk_is_open_to_the_organizer_and_closed_to_anonymous(app, client):
    for url in DESK_PAGES[:3]:
        r = client.get(url)
        assert r.status_code == 302 and "/login" in r.location, url
    for url in ("/exhibitor/badges", "/buyer/badge", "/buyer/badge.pdf", "/leader/badges"):
        assert client.get(url).status_code == 302, url
    sign_in(client, "staff@expo.test")
    for url in DESK_PAGES[:3]:
        assert client.get(url).status_code == 200, url


def test_exhibitor_downloads_its_own_staff_badges_only(app, client, tmp_path):
    a, b = approved_exhibitors(app, 2)
    sign_in(client, a["email"])
    page = client.get("/exhibitor/badges").get_data(as_text=True)
    assert all(name in page for _id, name in a["staff"]) and not any(name in page for _id, name in b["staff"])
    r = client.get("/exhibitor/badges.pdf")
    assert r.status_code == 200 and r.mimetype == "application/pdf"
    assert pages_of(r.data) == len(a["staff"])
    text = text_of(r.data)
    assert all(name in text for _id, name in a["staff"])
    with app.app_context():
        a_badges = db.session.scalars(select(Badge.id).where(Badge.exhibitor_id == a["id"])).all()
    assert verified_ids(app, r.data, tmp_path) == sorted(a_badges)
    four_up = client.get("/exhibitor/badges.pdf?layout=a4x4")
    assert pages_of(four_up.data) == -(-len(a["staff"]) // 4)
    assert client.get("/exhibitor/badges.pdf?layout=poster").status_code == 400
    own = client.get(f'/exhibitor/badges/{a["staff"][0][0]}.pdf')
    assert own.status_code == 200 and a["staff"][0][1] in text_of(own.data)
    # B's people: answered as if they did not exist, and nothing is issued for them.
    for member_id, name in b["staff"]:
        r = client.get(f"/exhibitor/badges/{member_id}.pdf")
        assert r.status_code == 404 and name not in r.get_data(as_text=True)
    assert client.get("/exhibitor/badges/999999.pdf").status_code == 404
    with app.app_context():
        assert count_where(Badge.exhibitor_id == b["id"]) == 0


def count_where(condition) -> int:
    return db.session.scalar(select(func.count()).select_from(Badge).where(condition))


def test_exhibitor_without_approval_gets_no_badges(app, client):
    sign_in(client, "exhibitor@expo.test")  # the demo account: a draft application
    page = client.get("/exhibitor/badges")
    assert page.status_code == 200 and 'id="not-approved"' in page.get_data(as_text=True)
    assert client.get("/exhibitor/badges.pdf").status_code == 409
    with app.app_context():
        exhibitor_id = user("exhibitor@expo.test").exhibitor_id
        assert count_where(Badge.exhibitor_id == exhibitor_id) == 0


def test_leader_downloads_own_delegation_badges_only(app, client, tmp_path):
    with app.app_context():
        mine = db.session.scalar(select(Delegation).where(Delegation.leader_user_id == user("leader@expo.test").id))
        theirs = db.session.scalar(select(Delegation).where(Delegation.leader_user_id == user("leader2@expo.test").id))
        members = db.session.scalars(select(Buyer.name).where(Buyer.delegation_id == mine.id)).all()
        their_members = db.session.scalars(select(Buyer.name).where(Buyer.delegation_id == theirs.id)).all()
        mine_id, theirs_id = mine.id, theirs.id
    sign_in(client, "leader@expo.test")
    assert f"/leader/delegations/{mine_id}/badges.pdf" in client.get("/leader/badges").get_data(as_text=True)
    r = client.get(f"/leader/delegations/{mine_id}/badges.pdf")
    assert r.status_code == 200 and pages_of(r.data) == len(members)
    text = text_of(r.data).replace("\n", " ")
    assert all(name.split()[-1] in text for name in members)
    assert not any(name in text for name in their_members if name not in members)
    assert len(verified_ids(app, r.data, tmp_path)) == len(members)
    r = client.get(f"/leader/delegations/{theirs_id}/badges.pdf")
    assert r.status_code == 404
    assert client.get("/leader/delegations/999999/badges.pdf").status_code == 404
    with app.app_context():
        assert count_where(Badge.delegation_id == theirs_id) == 0
        assert count_where(Badge.delegation_id == mine_id) == len(members)
        assert {b.badge_type.code for b in db.session.scalars(select(Badge).where(Badge.delegation_id == mine_id))} \
            == {"DEL"}


def test_buyer_sees_own_badge_on_the_phone_and_as_pdf(app, client, tmp_path):
    sign_in(client, "buyer@expo.test")
    page = client.get("/buyer/badge")
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and "<svg" in html and "Maria Santos" in html
    with app.app_context():
        buyer = db.session.scalar(select(Buyer).where(Buyer.user_id == user("buyer@expo.test").id))
        badge = db.session.scalar(select(Badge).where(Badge.holder_kind == "buyer", Badge.holder_id == buyer.id))
        assert badge.confirmation in html and badge.badge_type.code == "BUY"
        badge_id = badge.id
    r = client.get("/buyer/badge.pdf")
    assert r.status_code == 200 and "Maria Santos" in text_of(r.data)
    assert verified_ids(app, r.data, tmp_path) == [badge_id]
    with app.app_context():
        assert count(Badge) == 1  # nobody else's badge was issued
        assert db.session.get(Badge, badge_id).print_count == 0  # a download is not a print at the desk


# --- fuzz: no 500s, nothing half-written -----------------------------------------------------------------------------

nasty = st.one_of(st.text(max_size=40), st.sampled_from(["\x00", "a\x00b", "‮evil", "%", "_", "\\", "   ", "🙂",
                                                          "' OR 1=1 --", "<script>x</script>", "x" * 300, "９９９",
                                                          "+86 139 0000 1111", "CN", "XX", "press"]),
                  st.builds(lambda s, n: s * n, st.text(min_size=1, max_size=3), st.integers(50, 400)))
VISITOR_FIELDS = ["name", "company", "country", "phone", "email", "kind"]


def _visitor_counts() -> tuple[int, int, int]:
    return count(Visitor), count(Badge), count(AuditEntry)


@FUZZ
@given(over=st.dictionaries(st.sampled_from(VISITOR_FIELDS), nasty, max_size=4),
       drop=st.sets(st.sampled_from(VISITOR_FIELDS), max_size=2))
def test_fuzz_kiosk_form(app, over, drop):
    client = app.test_client()
    sign_in(client, "printdesk@expo.test")
    data = {k: v for k, v in {**WALK_IN, **over}.items() if k not in drop}
    with app.app_context():
        before = _visitor_counts()
    r = client.post("/kiosk/", data=data)
    event(f"status {r.status_code}")
    with app.app_context():
        after = _visitor_counts()
        if r.status_code == 302:
            assert after[:2] == (before[0] + 1, before[1] + 1)
            visitor = db.session.scalar(select(Visitor).order_by(Visitor.id.desc()).limit(1))
            assert visitor.kind == "visitor"  # whatever "kind" was sent
        else:
            assert 400 <= r.status_code < 500
            assert 'class="error"' in r.get_data(as_text=True) or "flash-error" in r.get_data(as_text=True)
            assert after == before


@FUZZ
@given(over=st.dictionaries(st.sampled_from(VISITOR_FIELDS), nasty, max_size=4),
       drop=st.sets(st.sampled_from(VISITOR_FIELDS), max_size=2), n=st.integers(0, 10**9))
def test_fuzz_online_registration(app, over, drop, n):
    app.config["VISITOR_REGISTRATIONS_PER_IP"] = 10**9
    try:
        data = {k: v for k, v in {**ONLINE, "email": f"fuzz{n}@example.com", **over}.items() if k not in drop}
        with app.app_context():
            before = _visitor_counts()
        r = app.test_client().post("/visit/register", data=data)
        event(f"status {r.status_code}")
        with app.app_context():
            after = _visitor_counts()
            if r.status_code == 302:
                assert after[:2] == (before[0] + 1, before[1] + 1)
            elif r.status_code == 200:  # an address registered before: nothing new
                assert after == before
            else:
                assert 400 <= r.status_code < 500
                assert 'class="error"' in r.get_data(as_text=True)
                assert after == before
    finally:
        app.config.pop("VISITOR_REGISTRATIONS_PER_IP", None)


@FUZZ
@given(q=nasty | st.sampled_from(["A" * 117, "a" * 117, "2" * 117, "ABCD2345"]))
def test_fuzz_desk_search(app, q):
    client = app.test_client()
    sign_in(client, "printdesk@expo.test")
    r = client.get("/desk/", query_string={"q": q})
    event(f"status {r.status_code}")
    assert r.status_code in (200, 302, 400), r.status_code
    with app.app_context():
        assert count(Badge) == 0  # a search writes nothing


@FUZZ
@given(kind=nasty, holder_id=st.one_of(st.integers(-10, 10**12).map(str), nasty))
def test_fuzz_issue_on_the_spot(app, kind, holder_id):
    client = app.test_client()
    sign_in(client, "printdesk@expo.test")
    r = client.post("/desk/issue", data={"holder_kind": kind, "holder_id": holder_id})
    assert r.status_code in (302, 400, 404, 409), r.status_code
