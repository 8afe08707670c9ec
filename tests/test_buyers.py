"""Buyers: self-registration, invitation by e-mailed link, the buyer's own pages, the hosted-buyer programme, the
organizer's buyer list (filters, search, sort, pages, CSV and XLSX exports), buyers by country, the statistics page
with its SVG charts, and who may open what.

Outputs are read back: the exports are opened again (csv, openpyxl), the invitation link is taken from the mail in
the outbox and followed, the charts are parsed as XML.
"""

from __future__ import annotations

import csv
import io
import itertools
import re
import xml.etree.ElementTree as ET
from urllib.parse import urlsplit

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from itsdangerous import TimestampSigner
from openpyxl import load_workbook
from sqlalchemy import func, select

from expo import charts, countries
from expo.audit import AuditEntry
from expo.auth.models import Role, User
from expo.buyers import queries, regions, services, stats
from expo.buyers.models import Buyer, BuyerStatus, Delegation, HostedStatus, Passport, buyer_categories
from expo.categories.models import ProductCategory
from expo.categories.tree import with_descendants
from expo.exhibitors.services import current_expo
from expo.extensions import db
from expo.mail import OutboxMail
from tests.factories import PASSWORD, user

_seq = itertools.count(1)
FUZZ = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                      HealthCheck.too_slow])


# --- helpers --------------------------------------------------------------------------------------------------------

def active_category_ids() -> list[int]:
    return list(db.session.scalars(select(ProductCategory.id).where(ProductCategory.active.is_(True))
                                   .order_by(ProductCategory.sort, ProductCategory.id)))


def category(code: str) -> ProductCategory:
    return db.session.scalar(select(ProductCategory).where(ProductCategory.code == code))


def registration(app, **overrides) -> dict:
    with app.app_context():
        cats = [str(category("athletic.running").id), str(category("children").id)]
    data = {"email": f"new-buyer{next(_seq)}@example.com", "password": PASSWORD, "password_confirm": PASSWORD,
            "name": "Lucas Moreau", "name_native": "", "company": "Moreau Chaussures SARL", "country": "FR",
            "job_title": "Head of Purchasing", "phone": "+33 1 23 45 67 89", "website": "https://moreau.example.com",
            "categories": cats, "purchase_volume": "1m_10m", "products_sought": "Leather shoes for 12 stores",
            "contact_consent": "y"}
    data.update(overrides)
    return data


def counts() -> dict[str, int]:
    return {m.__name__: db.session.scalar(select(func.count()).select_from(m)) for m in (User, Buyer, AuditEntry)}


def make_buyer(**values) -> Buyer:
    """A buyer straight into the table (no account), for list and statistics tests."""
    n = next(_seq)
    cats = values.pop("categories", [])
    data = {"expo_id": current_expo().id, "name": f"Test Buyer {n}", "country": "DE", "company": f"Test GmbH {n}",
            "email": f"test-buyer{n}@example.com"}
    data.update(values)
    buyer = Buyer(**data)
    buyer.categories = cats
    db.session.add(buyer)
    db.session.flush()
    return buyer


def assert_refusal(r, status: int = 400) -> str:
    assert r.status_code == status, (r.status_code, r.get_data(as_text=True)[:1500])
    html = r.get_data(as_text=True)
    assert 'class="error"' in html or "flash-error" in html, html[:2000]
    return html


def mails_to(address: str) -> list[OutboxMail]:
    return list(db.session.scalars(select(OutboxMail).where(OutboxMail.recipient == address).order_by(OutboxMail.id)))


def invitation_path(mail: OutboxMail) -> str:
    url = re.search(r"https?://\S+/buyers/invitation/\S+", mail.body).group(0)
    return urlsplit(url).path


# --- registration ---------------------------------------------------------------------------------------------------

def test_register_page_opens_for_everyone(client):
    r = client.get("/buyers/register")
    assert r.status_code == 200
    html = r.get_data(as_text=True)
    assert 'name="purchase_volume"' in html and 'name="hosted"' in html and 'name="contact_consent"' in html


def test_register_page_in_chinese(client):
    r = client.get("/buyers/register", headers={"Accept-Language": "zh-CN"})
    assert r.status_code == 200
    assert re.search(r"[\u4e00-\u9fff]", r.get_data(as_text=True))


def test_registration_creates_account_and_buyer(app, client):
    data = registration(app, hosted="y", name_native="Люка Моро")
    r = client.post("/buyers/register", data=data)
    assert r.status_code == 302 and urlsplit(r.location).path == "/buyer/"
    with app.app_context():
        account = user(data["email"])
        assert account.role == Role.BUYER and account.name == "Lucas Moreau"
        buyer = db.session.scalar(select(Buyer).where(Buyer.user_id == account.id))
        assert buyer.expo_id == current_expo().id and buyer.status == BuyerStatus.REGISTERED
        assert (buyer.email, buyer.country, buyer.company, buyer.purchase_volume) == \
            (data["email"], "FR", "Moreau Chaussures SARL", "1m_10m")
        assert buyer.name_native == "Люка Моро" and buyer.contact_consent is True
        assert sorted(c.code for c in buyer.categories) == ["athletic.running", "children"]
        assert buyer.hosted_status == HostedStatus.APPLIED
        actions = list(db.session.scalars(select(AuditEntry.action).where(
            AuditEntry.object_type == "Buyer", AuditEntry.object_id == buyer.id).order_by(AuditEntry.id)))
        assert actions == ["buyer_registered", "hosted_applied"]
    # The new buyer is signed in and lands on their own page.
    page = client.get("/buyer/").get_data(as_text=True)
    assert "Lucas Moreau" in page and "Moreau Chaussures SARL" in page and "Applied" in page


def test_registration_with_a_taken_email_says_so(app, client):
    with app.app_context():
        from expo.auth.services import create_user

        create_user("taken@example.com", PASSWORD, "Taken", Role.EXHIBITOR)
        db.session.commit()
        before = counts()
    r = client.post("/buyers/register", data=registration(app, email="TAKEN@example.com"))
    html = assert_refusal(r)
    assert "An account with this e-mail address already exists." in html
    with app.app_context():
        assert counts() == before


@pytest.mark.parametrize("overrides, message", [
    ({"name": ""}, "This field is required."),
    ({"name": "王伟"}, "Write the name in Latin letters"),
    ({"country": "XX"}, "Not a valid choice"),
    ({"country": ""}, "This field is required."),
    ({"email": "not-an-address"}, "Enter a valid e-mail address."),
    ({"password_confirm": "something else"}, "The passwords differ."),
    ({"password": "short", "password_confirm": "short"}, "between 8 and 200"),
    ({"website": "moreau dot com"}, "Enter a web address"),
    ({"phone": "call me"}, "Enter a phone number"),
    ({"purchase_volume": "a lot"}, "Not a valid choice"),
    ({"categories": ["999999"]}, "not a valid choice"),
    ({"company": "x" * 201}, "longer than 200"),
    ({"products_sought": "a\x00b"}, "Remove the control characters"),
])
def test_registration_refuses_bad_input_with_a_reason(app, client, overrides, message):
    with app.app_context():
        before = counts()
    html = assert_refusal(client.post("/buyers/register", data=registration(app, **overrides)))
    assert message.lower() in html.lower()
    with app.app_context():
        assert counts() == before


def test_inactive_category_is_refused_by_the_service(app, ctx):
    cat = category("children")
    cat.active = False
    db.session.flush()
    with pytest.raises(services.BuyerError) as err:
        services.register(email="x@example.com", password=PASSWORD,
                          profile={"name": "Ana Lima", "country": "BR", "company": "Lima"}, category_ids=[cat.id])
    assert err.value.field == "categories"


# --- invitation -----------------------------------------------------------------------------------------------------

def invite(client, email="invitee@example.com", **overrides):
    data = {"name": "Sofia Rossi", "email": email, "company": "Rossi Calzature", "country": "IT", "language": "en"}
    data.update(overrides)
    return client.post("/organizer/buyers/invite", data=data)


def test_invitation_flow(app, client, auth):
    auth.login("staff@expo.test")
    r = invite(client)
    assert r.status_code == 302
    with app.app_context():
        buyer = db.session.scalar(select(Buyer).where(Buyer.email == "invitee@example.com"))
        assert buyer.status == BuyerStatus.INVITED and buyer.user_id is None and buyer.invited_at is not None
        assert urlsplit(r.location).path == f"/organizer/buyers/{buyer.id}"
        (mail,) = mails_to("invitee@example.com")
        assert "Sofia Rossi" in mail.body and "30 days" in mail.body
        link = invitation_path(mail)
        buyer_id = buyer.id
        audit_actions = list(db.session.scalars(select(AuditEntry.action).where(AuditEntry.object_id == buyer_id,
                                                                                AuditEntry.object_type == "Buyer")))
        assert audit_actions == ["buyer_invited"]
    auth.logout()
    # The invitee opens the link: the form is there, filled with what the organizer knew.
    page = client.get(link)
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "invitee@example.com" in html and 'value="Rossi Calzature"' in html
    data = registration(app, company="Rossi Calzature SpA", country="IT", name="Sofia Rossi")
    data.pop("email")
    r = client.post(link, data=data)
    assert r.status_code == 302 and urlsplit(r.location).path == "/buyer/"
    with app.app_context():
        buyer = db.session.get(Buyer, buyer_id)
        assert buyer.status == BuyerStatus.REGISTERED and buyer.company == "Rossi Calzature SpA"
        assert buyer.user.email == "invitee@example.com" and buyer.user.role == Role.BUYER
        assert db.session.scalar(select(func.count(Buyer.id)).where(Buyer.email == "invitee@example.com")) == 1
    assert client.get("/buyer/").status_code == 200
    client.post("/logout")
    # The link works once.
    again = client.get(link)
    assert again.status_code == 409 and "already been accepted" in again.get_data(as_text=True)
    with app.app_context():
        before = counts()
    assert client.post(link, data=data).status_code == 409
    with app.app_context():
        assert counts() == before


def test_invitation_mail_in_chinese(app, client, auth):
    auth.login()
    assert invite(client, email="zh-invitee@example.com", language="zh", country="TW").status_code == 302
    with app.app_context():
        (mail,) = mails_to("zh-invitee@example.com")
        assert re.search(r"[\u4e00-\u9fff]", mail.subject + mail.body)
        assert "/buyers/invitation/" in mail.body


@pytest.mark.parametrize("token", ["x", "not-a-token", "eyJiaWQiOjF9.AAAA.BBBB", "a" * 300])
def test_forged_invitation_links_are_refused(client, token):
    r = client.get(f"/buyers/invitation/{token}")
    assert r.status_code == 404
    assert "This invitation link is not valid." in r.get_data(as_text=True)
    assert client.post(f"/buyers/invitation/{token}", data={"password": PASSWORD}).status_code == 404


def test_tampered_invitation_link_is_refused(app, client, auth):
    auth.login()
    invite(client)
    with app.app_context():
        link = invitation_path(mails_to("invitee@example.com")[0])
    auth.logout()
    payload, _sep, rest = link.rpartition("/")[2].partition(".")
    forged = link.rsplit("/", 1)[0] + "/" + payload[:-2] + ("AA" if payload[-2:] != "AA" else "BB") + "." + rest
    assert client.get(forged).status_code == 404


def test_expired_invitation_link_is_refused(app, client, auth, monkeypatch):
    import time as time_module

    auth.login()
    invite(client)
    auth.logout()
    with app.app_context():
        buyer = db.session.scalar(select(Buyer).where(Buyer.email == "invitee@example.com"))
        issued = time_module.time() - services.INVITATION_MAX_AGE_SECONDS - 60
        monkeypatch.setattr(TimestampSigner, "get_timestamp", lambda self: int(issued))
        link = f"/buyers/invitation/{services.invitation_token(buyer)}"  # the same invitation, 30 days and a minute ago
        monkeypatch.undo()
        before = counts()
    r = client.get(link)
    assert r.status_code == 410 and "This invitation link has expired." in r.get_data(as_text=True)
    data = registration(app)
    data.pop("email")
    assert client.post(link, data=data).status_code == 410
    with app.app_context():
        assert counts() == before


def test_a_new_invitation_replaces_the_old_link(app, client, auth):
    auth.login()
    invite(client)
    with app.app_context():
        buyer_id = db.session.scalar(select(Buyer.id).where(Buyer.email == "invitee@example.com"))
        old = invitation_path(mails_to("invitee@example.com")[0])
    import time as time_module

    time_module.sleep(0.01)  # a new invitation time
    r = client.post(f"/organizer/buyers/{buyer_id}/invitation", data={"language": "zh"})
    assert r.status_code == 302
    with app.app_context():
        first, second = mails_to("invitee@example.com")
        new = invitation_path(second)
    auth.logout()
    assert new != old
    assert client.get(old).status_code == 410
    assert client.get(new).status_code == 200


def test_invitation_refuses_known_addresses(app, client, auth):
    auth.login()
    with app.app_context():
        before = counts()
    with app.app_context():
        from expo.auth.services import create_user

        create_user("taken@example.com", PASSWORD, "Taken", Role.STAFF)
        db.session.commit()
        before = counts()
    html = assert_refusal(invite(client, email="Taken@Example.com"))
    assert "An account with this e-mail address already exists." in html
    assert invite(client, email="dup@example.com").status_code == 302
    html = assert_refusal(invite(client, email="DUP@example.com"))
    assert "already registered or invited" in html
    html = assert_refusal(invite(client, email="x@example.com", name="Иван"))
    assert "Latin letters" in html
    with app.app_context():
        assert counts()["User"] == before["User"]
        assert counts()["Buyer"] == before["Buyer"] + 1


def test_signed_in_user_cannot_take_an_invitation(app, client, auth):
    auth.login()
    invite(client)
    with app.app_context():
        link = invitation_path(mails_to("invitee@example.com")[0])
    assert client.get(link).status_code == 409


def test_resending_is_only_for_open_invitations(app, client, auth):
    auth.login()
    with app.app_context():
        registered = services.buyer_of(user("buyer@expo.test")).id
    r = client.post(f"/organizer/buyers/{registered}/invitation")
    assert r.status_code == 409


# --- the buyer's own pages ------------------------------------------------------------------------------------------

def test_buyer_dashboard_and_profile(app, client, auth):
    auth.login("buyer@expo.test")
    page = client.get("/buyer/")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    with app.app_context():
        buyer = services.buyer_of(user("buyer@expo.test"))
        assert buyer.name in html
        form = client.get("/buyer/profile").get_data(as_text=True)
        for c in buyer.categories:
            assert re.search(rf'<option selected value="{c.id}"', form), c.code
        cats = [str(category("leather.women").id)]
    r = client.post("/buyer/profile", data={
        "name": "Maria Santos", "name_native": "", "company": "Santos Calçados Ltda", "country": "BR",
        "job_title": "Owner", "phone": "+55 11 5555 0000", "website": "", "categories": cats,
        "purchase_volume": "100k_1m", "products_sought": "Sandals", "contact_consent": "y"})
    assert r.status_code == 302
    with app.app_context():
        buyer = services.buyer_of(user("buyer@expo.test"))
        assert buyer.company == "Santos Calçados Ltda" and [c.code for c in buyer.categories] == ["leather.women"]
        entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "buyer_profile_updated",
                                                           AuditEntry.object_id == buyer.id))
        assert entry.changes["company"][1] == "Santos Calçados Ltda"
    r = client.post("/buyer/profile", data={"name": "", "country": "BR", "company": "x"})
    assert_refusal(r)


def test_buyer_account_without_a_buyer_record_gets_404(app, client, auth):
    with app.app_context():
        from expo.auth.services import create_user

        create_user("lonely@example.com", PASSWORD, "Lonely", Role.BUYER)
        db.session.commit()
    auth.login("lonely@example.com", PASSWORD)
    assert client.get("/buyer/").status_code == 404
    assert client.get("/buyer/profile").status_code == 404


# --- the hosted-buyer programme -------------------------------------------------------------------------------------

def test_hosted_buyer_application_and_approval_are_audited(app, client, auth):
    with app.app_context():
        buyer = services.buyer_of(user("buyer@expo.test"))
        buyer.hosted_status = HostedStatus.NONE
        db.session.commit()
        buyer_id, email = buyer.id, buyer.user.email
    auth.login("buyer@expo.test")
    assert client.post("/buyer/hosted/apply").status_code == 302
    assert client.post("/buyer/hosted/apply").status_code == 409  # applied already
    auth.logout()
    auth.login("staff@expo.test")
    page = client.get(f"/organizer/buyers/{buyer_id}").get_data(as_text=True)
    assert 'id="hosted-decision"' in page and "Applied" in page
    r = client.post(f"/organizer/buyers/{buyer_id}/hosted",
                    data={"decision": "approve", "hotel_nights": "3", "transfers": "y", "note": "Hotel Jinjiang"})
    assert r.status_code == 302
    with app.app_context():
        buyer = db.session.get(Buyer, buyer_id)
        assert (buyer.hosted_status, buyer.hosted_hotel_nights, buyer.hosted_transfers, buyer.hosted_note) == \
            (HostedStatus.APPROVED, 3, True, "Hotel Jinjiang")
        assert buyer.hosted_decided_at is not None
        entries = {e.action: e for e in db.session.scalars(select(AuditEntry).where(
            AuditEntry.object_type == "Buyer", AuditEntry.object_id == buyer_id))}
        assert entries["hosted_applied"].actor.email == "buyer@expo.test"
        approved = entries["hosted_approved"]
        assert approved.actor.email == "staff@expo.test"
        assert approved.changes["hosted_status"] == ["applied", "approved"]
        assert approved.changes["hosted_hotel_nights"][1] == 3
        assert "approved" in mails_to(email)[-1].subject
    page = client.get(f"/organizer/buyers/{buyer_id}").get_data(as_text=True)
    assert "Hosted buyer approved" in page and "3 hotel nights" in page
    # Out-of-range nights are refused beside the field, nothing changes.
    r = client.post(f"/organizer/buyers/{buyer_id}/hosted", data={"decision": "approve", "hotel_nights": "99"})
    assert_refusal(r)
    r = client.post(f"/organizer/buyers/{buyer_id}/hosted", data={"decision": "decline", "note": "Full"})
    assert r.status_code == 302
    with app.app_context():
        buyer = db.session.get(Buyer, buyer_id)
        assert buyer.hosted_status == HostedStatus.DECLINED and buyer.hosted_hotel_nights == 0
    auth.logout()
    auth.login("buyer@expo.test")
    html = client.get("/buyer/").get_data(as_text=True)
    assert "Declined" in html and "Full" in html
    assert client.post("/buyer/hosted/withdraw").status_code == 409


def test_buyer_cannot_decide_and_organizer_cannot_decline_unasked(app, ctx):
    buyer = services.buyer_of(user("buyer@expo.test"))
    buyer.hosted_status = HostedStatus.NONE
    with pytest.raises(services.BuyerError) as err:
        services.change_hosted(user("buyer@expo.test"), buyer, "approve", hotel_nights=3)
    assert err.value.status == 409
    with pytest.raises(services.BuyerError):
        services.change_hosted(user("admin@expo.test"), buyer, "decline")
    other = make_buyer()
    with pytest.raises(services.BuyerError) as err:
        services.change_hosted(user("buyer@expo.test"), other, "apply")
    assert err.value.status == 403


# --- the organizer's list -------------------------------------------------------------------------------------------

@pytest.fixture
def listed(app):
    """A known set of buyers beside the demo's: names to search, categories, statuses, a delegation."""
    with app.app_context():
        running, basketball, sandals = (category(c) for c in ("athletic.running", "athletic.basketball",
                                                               "casual.sandals"))
        delegation = db.session.scalar(select(Delegation).order_by(Delegation.id))
        made = [
            make_buyer(name="Zhang Wei", name_native="张伟", company="Wei Trading 50%_off", country="MY",
                       email="zhang@wei.example.com", categories=[running], hosted_status=HostedStatus.APPROVED),
            make_buyer(name="Ömer Yılmaz", company="Yılmaz Ayakkabı", country="TR", email="omer@example.com",
                       categories=[basketball], status=BuyerStatus.INVITED),
            make_buyer(name="Ana Lima", company="Lima Sandálias", country="BR", email="ana@lima.example.com",
                       categories=[sandals], delegation_id=delegation.id, purchase_volume="over_50m"),
        ]
        db.session.commit()
        return {b.name: b.id for b in made} | {"delegation": delegation.id}


def page_of(app, **kw) -> queries.BuyerPage:
    page, per_page = kw.pop("page", 1), kw.pop("per_page", 50)
    with app.app_context():
        result = queries.buyer_page(current_expo(), queries.BuyerFilter(**kw), page, per_page)
        result.items = [(b.id, b.name, b.country, b.company) for b in result.items]
        return result


def all_ids(app, **kw) -> list[int]:
    ids = []
    page = 1
    while True:
        p = page_of(app, page=page, per_page=7, **kw)
        ids += [i for i, *_rest in p.items]
        if not p.has_next:
            return ids
        page += 1


@pytest.mark.parametrize("q, name", [("zhang", "Zhang Wei"), ("张伟", "Zhang Wei"), ("WEI TRADING", "Zhang Wei"),
                                     ("50%_off", "Zhang Wei"), ("@lima.example", "Ana Lima"),
                                     ("yılmaz", "Ömer Yılmaz")])
def test_search_finds_name_native_name_company_and_email(app, listed, q, name):
    found = page_of(app, q=q)
    assert listed[name] in [i for i, *_r in found.items], (q, found.items)


def test_search_takes_wildcards_literally(app, listed):
    assert page_of(app, q="%").total == 1  # only "50%_off" holds a percent sign
    assert page_of(app, q="_").total == 1
    assert page_of(app, q="no such buyer anywhere").total == 0


def test_search_matching_more_than_it_counts(app, client, auth, token, listed, monkeypatch):
    """A search that matches more buyers than it counts says "more than" and pages up to the limit, in order; the
    page and the API agree. (At 300,000 buyers the limit is 20,000; here 5.)"""
    monkeypatch.setattr(queries, "SQLITE_PROBE_ROWS", 5)
    monkeypatch.setattr(queries, "SEARCH_COUNT_LIMIT", 5)
    with app.app_context():
        expo = current_expo()
        everyone = list(db.session.scalars(select(Buyer.id).where(Buyer.expo_id == expo.id,
                                                                  Buyer.email.like("%example%"))
                                           .order_by(Buyer.name, Buyer.id)))
    assert len(everyone) > 5
    first, second, beyond = (page_of(app, q="example", page=n, per_page=2) for n in (1, 2, 9))
    assert (first.exact, first.total, first.pages) == (False, 5, 3)
    assert [i for i, *_r in first.items + second.items] == everyone[:4]
    assert beyond.page == 3 and [i for i, *_r in beyond.items] == everyone[4:6]
    assert page_of(app, q="zhang").exact  # few matches: counted exactly

    auth.login("staff@expo.test")
    html = client.get("/organizer/buyers", query_string={"q": "example"}).get_data(as_text=True)
    assert "More than 5 buyers match the search" in html and "countries and regions" not in html
    body = client.get("/api/v1/buyers", query_string={"q": "example", "per_page": 2},
                      headers=token("staff@expo.test")).get_json()
    assert (body["total"], body["total_exact"], body["countries"], body["pages"]) == (5, False, None, 3)
    assert [b["id"] for b in body["items"]] == everyone[:2]


def test_filters(app, listed):
    with app.app_context():
        expo_id = current_expo().id
        every = db.session.scalar(select(func.count(Buyer.id)).where(Buyer.expo_id == expo_id))
        by_country_my = db.session.scalar(select(func.count(Buyer.id)).where(Buyer.country == "MY"))
        members = db.session.scalar(select(func.count(Buyer.id)).where(Buyer.delegation_id.is_not(None)))
        athletic = category("athletic").id
        in_athletic = db.session.scalar(select(func.count(func.distinct(buyer_categories.c.buyer_id))).where(
            buyer_categories.c.category_id.in_(with_descendants(athletic))))
        east_asia = db.session.scalar(select(func.count(Buyer.id)).where(
            Buyer.country.in_(regions.countries_in("030"))))
    assert page_of(app).total == every
    assert page_of(app, country="my").total == by_country_my
    assert page_of(app, delegation="delegation").total == members
    assert page_of(app, delegation="independent").total == every - members
    assert page_of(app, delegation_id=listed["delegation"]).total >= 1
    assert page_of(app, category_id=athletic).total == in_athletic  # subcategories included
    assert listed["Ömer Yılmaz"] in all_ids(app, category_id=athletic)
    assert listed["Ana Lima"] not in all_ids(app, category_id=athletic)
    assert page_of(app, region="030").total == east_asia
    assert listed["Zhang Wei"] in all_ids(app, region="035")  # Malaysia: Southeast Asia
    assert listed["Ömer Yılmaz"] in all_ids(app, status="invited")
    assert listed["Zhang Wei"] in all_ids(app, hosted_status="approved")
    assert all_ids(app, purchase_volume="over_50m", q="Lima") == [listed["Ana Lima"]]
    assert page_of(app, country="TR", q="Zhang").total == 0
    assert page_of(app, country="BR").countries == 1
    with app.app_context():
        assert page_of(app).countries == db.session.scalar(select(func.count(func.distinct(Buyer.country))))


def test_sorting_and_pages(app, listed):
    for sort in queries.SORTS:
        for descending in (False, True):
            ids = all_ids(app, sort=sort, descending=descending)
            assert len(ids) == len(set(ids)) == page_of(app).total, sort  # pages neither overlap nor skip
            # The database's own order of the whole list (its collation decides how text sorts).
            column = Buyer.id if sort == "newest" else getattr(Buyer, sort)
            backwards = descending != (sort == "newest")
            with app.app_context():
                expected = list(db.session.scalars(select(Buyer.id).where(Buyer.expo_id == current_expo().id)
                                                   .order_by(*((column.desc(), Buyer.id.desc()) if backwards
                                                               else (column.asc(), Buyer.id.asc())))))
            assert ids == expected, sort
    last = page_of(app, per_page=10, page=10_000)
    assert last.page == last.pages and last.items  # past the end: the last page


def test_sqlite_probe_and_the_plain_statements_agree(app, listed, monkeypatch):
    """On SQLite a selective filter is answered from one pass (see expo.buyers.queries): the same page and totals
    as the count-and-page statements give."""
    cases = [dict(q="a"), dict(hosted_status="approved"), dict(category_id=None), dict(delegation="independent",
                                                                                        sort="company"),
             dict(country="BR", sort="country", descending=True), dict(q="e", sort="newest")]
    with app.app_context():
        cases[2]["category_id"] = category("athletic").id
    for case in cases:
        for page in (1, 2, 3):
            probed = page_of(app, page=page, per_page=5, **case)
            monkeypatch.setattr(queries, "SQLITE_PROBE_ROWS", 0)
            plain = page_of(app, page=page, per_page=5, **case)
            monkeypatch.undo()
            assert (probed.items, probed.total, probed.countries, probed.page) == \
                (plain.items, plain.total, plain.countries, plain.page), case


def test_sqlite_search_index_follows_the_buyers(app, listed, monkeypatch):
    """SQLite searches text of three characters or more in a full-text index kept by triggers (migration 0004): it
    finds what LIKE finds, and follows inserts, changes and deletions."""
    with app.app_context():
        if db.session.get_bind().dialect.name != "sqlite":
            pytest.skip("SQLite's search index")
        assert queries._sqlite_search_index("zhang")
        assert not queries._sqlite_search_index("张伟")  # two characters: LIKE
    for q in ("zhang", "Wei Trading", "TRADING 50%_", "@lima.example", "example.com", "Buyer", "Sol", 'a"b', "n%d"):
        indexed = all_ids(app, q=q)
        monkeypatch.setattr(queries, "_sqlite_search_index", lambda q: False)
        assert all_ids(app, q=q) == indexed, q
        monkeypatch.undo()
    with app.app_context():
        buyer = db.session.get(Buyer, listed["Zhang Wei"])
        buyer.company = "Renamed Holdings"
        db.session.commit()
    assert all_ids(app, q="renamed hold") == [listed["Zhang Wei"]]
    assert all_ids(app, q="Wei Trading") == []
    with app.app_context():
        db.session.delete(db.session.get(Buyer, listed["Zhang Wei"]))
        added = make_buyer(name="Renata Hold", company="Other")
        db.session.commit()
        added_id = added.id
    assert all_ids(app, q="renamed hold") == []
    assert all_ids(app, q="renata h") == [added_id]


def test_list_page(app, client, auth, listed):
    auth.login("staff@expo.test")
    r = client.get("/organizer/buyers", query_string={"q": "zhang", "hosted_status": "approved"})
    assert r.status_code == 200
    html = r.get_data(as_text=True)
    assert "Zhang Wei" in html and "张伟" in html and "Wei Trading" in html
    assert re.search(r"1 buyer</strong>", html) and "from 1 country or region" in html
    r = client.get("/organizer/buyers", query_string={"per_page": "5", "page": "2", "sort": "company"})
    assert r.status_code == 200 and 'rel="prev"' in r.get_data(as_text=True)
    r = client.get("/organizer/buyers", query_string={"sort": "nonsense"})
    assert_refusal(r)
    r = client.get("/organizer/buyers", query_string={"q": "a\x00b"})
    assert r.status_code == 400 and "Remove the control characters" in r.get_data(as_text=True)
    zh = client.get("/organizer/buyers", headers={"Accept-Language": "zh-CN"}).get_data(as_text=True)
    assert "马来西亚" in zh or "巴西" in zh


PASSPORT_WORDS = ("passport", "护照", "date of birth", "出生")


def test_exports_read_back_without_passport_data(app, client, auth, listed):
    auth.login("staff@expo.test")
    with app.app_context():
        numbers = list(db.session.scalars(select(Passport.number)))
        assert numbers, "the demo gives delegation members passports"
        expected = page_of(app, country="BR").total
    r = client.get("/organizer/buyers/export.csv", query_string={"country": "BR"})
    assert r.status_code == 200 and r.mimetype == "text/csv"
    text = r.get_data(as_text=True)
    rows = list(csv.reader(io.StringIO(text.lstrip("\ufeff"))))
    header, body = rows[0], rows[1:]
    assert len(body) == expected
    assert not any(word in cell.lower() for cell in header for word in PASSPORT_WORDS)
    assert not any(number in text for number in numbers)
    lima = next(row for row in body if row[1] == "Ana Lima")
    assert lima[header.index("Country code")] == "BR" and lima[header.index("Company")] == "Lima Sandálias"
    assert lima[header.index("Delegation")]
    r = client.get("/organizer/buyers/export.xlsx", query_string={"q": "zhang"})
    assert r.status_code == 200
    sheet = load_workbook(io.BytesIO(r.data)).active
    values = [[c.value for c in row] for row in sheet.iter_rows()]
    assert len(values) == 2
    header = values[0]
    assert not any(word in str(cell).lower() for cell in header for word in PASSPORT_WORDS)
    row = dict(zip(header, values[1], strict=True))
    assert row["Name (Latin letters)"] == "Zhang Wei" and row["Name in own script"] == "张伟"
    assert row["Hosted buyer"] == "Approved" and row["World region"] == "Southeast Asia"
    everything = client.get("/organizer/buyers/export.xlsx")
    workbook_text = "".join(str(c.value) for row in load_workbook(io.BytesIO(everything.data)).active.iter_rows()
                            for c in row)
    assert not any(number in workbook_text for number in numbers)
    assert client.get("/organizer/buyers/export.pdf").status_code == 404
    assert client.get("/organizer/buyers/export.csv", query_string={"page": "0"}).status_code == 400


def test_export_is_safe_against_formulas(app, client, auth):
    with app.app_context():
        make_buyer(name="Eve Formula", company="=HYPERLINK(\"http://evil\")", country="GB")
        db.session.commit()
    auth.login()
    text = client.get("/organizer/buyers/export.csv", query_string={"q": "Eve Formula"}).get_data(as_text=True)
    assert "'=HYPERLINK" in text


# --- by country, statistics -----------------------------------------------------------------------------------------

def test_buyers_by_country(app, client, auth, listed):
    auth.login()
    r = client.get("/organizer/buyers/countries")
    assert r.status_code == 200
    html = r.get_data(as_text=True)
    with app.app_context():
        expo_id = current_expo().id
        buyer_countries = set(db.session.scalars(select(Buyer.country).where(Buyer.expo_id == expo_id)))
        delegation_countries = set(db.session.scalars(select(Delegation.country).where(Delegation.expo_id == expo_id)))
        facets = stats.facets(current_expo())
        assert facets.country_count == len(buyer_countries | delegation_countries)
        assert sum(r.buyers for r in facets.countries) == facets.total == page_of(app).total
        grouped = stats.by_region(facets.countries)
        assert sum(g.buyers for g in grouped) == facets.total
        assert {c.country for g in grouped for c in g.countries} == buyer_countries | delegation_countries
        assert facets.hosted["approved"] >= 1 and facets.status["invited"] >= 1 and facets.volume["over_50m"] >= 1
        assert sum(facets.volume.values()) == facets.total
    assert re.search(rf'id="country-count">{facets.country_count}<', html)
    assert "Southeast Asia" in html and "/organizer/buyers?country=MY" in html
    # The list's header counts the same countries.
    assert f"from {len(buyer_countries)} countries and regions" in \
        client.get("/organizer/buyers").get_data(as_text=True)


def test_statistics_page_draws_svg_charts(app, client, auth, listed):
    auth.login()
    for lang in ("en", "zh-CN"):
        r = client.get("/organizer/buyers/stats", headers={"Accept-Language": lang})
        assert r.status_code == 200
        html = r.get_data(as_text=True)
        svgs = re.findall(r"<svg .*?</svg>", html, re.S)
        assert len(svgs) == 5
        for svg in svgs:
            root = ET.fromstring(svg)  # well-formed XML
            assert root.get("role") == "img" and root.get("aria-label")
        assert "<script" not in html.split("<main>")[1]
    with app.app_context():
        interests = dict((c.code, n) for c, n in stats.interests(current_expo()))
        running = db.session.scalar(select(func.count()).select_from(buyer_categories).where(
            buyer_categories.c.category_id == category("athletic.running").id))
        assert interests["athletic.running"] == running


def test_statistics_on_an_empty_expo(app, client, auth):
    with app.app_context():
        db.session.execute(buyer_categories.delete())
        db.session.execute(Buyer.__table__.update().values(delegation_id=None))
        db.session.execute(Passport.__table__.delete())
        db.session.execute(Buyer.__table__.update().values(user_id=None))
        db.session.execute(Buyer.__table__.delete())
        db.session.commit()
    auth.login()
    for url in ("/organizer/buyers/stats", "/organizer/buyers/countries", "/organizer/buyers"):
        assert client.get(url).status_code == 200, url


# --- charts and regions ---------------------------------------------------------------------------------------------

def test_bar_chart_escapes_and_scales():
    svg = charts.bar_chart([("<script>alert(1)</script>", 10), ("Brasil & Cia", 5), ("中国台湾", 0)],
                           title='"quoted" <title>')
    root = ET.fromstring(svg)
    assert "<script>" not in svg and "&lt;script&gt;" in svg
    rects = root.findall("{http://www.w3.org/2000/svg}g/{http://www.w3.org/2000/svg}rect")
    widths = [float(r.get("width")) for r in rects]
    assert widths[0] > widths[1] > widths[2] == 0
    assert abs(widths[0] - 2 * widths[1]) < 0.5
    labels = [t.text for t in root.iter("{http://www.w3.org/2000/svg}text")]
    assert "中国台湾" in labels


def test_bar_chart_series_legend_and_long_labels():
    svg = charts.bar_chart([("Russian Federation and the Commonwealth of Independent States " * 3, (10, 2))],
                           series=("Buyers", "Delegations"), title="t")
    root = ET.fromstring(svg)
    ns = "{http://www.w3.org/2000/svg}"
    assert len(root.findall(f"{ns}g/{ns}rect")) == 2
    texts = [t.text for t in root.iter(f"{ns}text")]
    assert "Buyers" in texts and "Delegations" in texts
    assert any(t.endswith("…") for t in texts)  # cut, the full label stays in the bar's <title>
    assert "Commonwealth of Independent States Russian" in "".join(t.text for t in root.iter(f"{ns}title"))
    empty = ET.fromstring(charts.bar_chart([], title="none", empty_text="No data"))
    assert [t.text for t in empty.iter(f"{ns}text")] == ["No data"]


def test_top_n_folds_the_rest():
    rows = [("a", 5), ("b", 4), ("c", 3), ("d", 2)]
    assert charts.top_n(rows, 2, other_label="Others") == [("a", 5), ("b", 4), ("Others", 5)]
    assert charts.top_n(rows, 3, other_label="Others") == rows  # one row is not folded into "Others"
    assert charts.top_n([("a", (1, 2)), ("b", (3, 4)), ("c", (5, 6))], 1, other_label="O") == \
        [("a", (1, 2)), ("O", (8, 10))]


def test_every_country_is_in_one_region():
    placed = [c for members in regions.REGIONS.values() for c in members]
    assert len(placed) == len(set(placed))
    assert set(placed) <= countries.codes()
    assert set(countries.codes()) - set(placed) == {"AQ", "BV", "CP", "GS", "HM", "TF"}  # uninhabited
    assert regions.region_of("CN") == "030" and regions.region_of("br") == "419" and regions.region_of("AQ") == "ZZ"
    assert regions.name("030", "zh") == "东亚" and regions.name("030", "en") == "Eastern Asia"


# --- who may open what ----------------------------------------------------------------------------------------------

ORGANIZER_PAGES = ["/organizer/buyers", "/organizer/buyers/countries", "/organizer/buyers/stats",
                   "/organizer/buyers/invite", "/organizer/buyers/export.csv", "/organizer/buyers/export.xlsx"]


@pytest.mark.parametrize("email", ["buyer@expo.test", "leader@expo.test", "exhibitor@expo.test", "gate@expo.test"])
def test_organizer_pages_refuse_other_roles(app, client, auth, email):
    with app.app_context():
        buyer_id = db.session.scalar(select(Buyer.id).order_by(Buyer.id))
        before = counts()
    auth.login(email)
    for url in [*ORGANIZER_PAGES, f"/organizer/buyers/{buyer_id}"]:
        assert client.get(url).status_code == 403, (email, url)
    for url in ("/organizer/buyers/invite", f"/organizer/buyers/{buyer_id}/hosted",
                f"/organizer/buyers/{buyer_id}/invitation"):
        r = client.post(url, data={"name": "Mole", "email": "mole@example.com", "country": "FR",
                                   "decision": "approve", "hotel_nights": "9"})
        assert r.status_code == 403, (email, url)
    with app.app_context():
        assert counts() == before


def test_organizer_pages_need_sign_in(client):
    for url in ORGANIZER_PAGES + ["/buyer/", "/buyer/profile"]:
        r = client.get(url)
        assert r.status_code == 302 and urlsplit(r.location).path == "/login", url


def test_buyer_sees_themselves_only(app, client, auth):
    with app.app_context():
        me = services.buyer_of(user("buyer@expo.test"))
        other = db.session.scalar(select(Buyer).where(Buyer.id != me.id).order_by(Buyer.id))
        me_id, other_id, other_name = me.id, other.id, other.name
    auth.login("buyer@expo.test")
    assert client.get(f"/buyers/{me_id}").status_code == 200
    r = client.get(f"/buyers/{other_id}")
    assert r.status_code == 404 and other_name not in r.get_data(as_text=True)
    assert client.get("/buyers/2147483647").status_code == 404
    # Pages of the buyer role are the buyer's: no organizer page, no other buyer's data.
    assert other_name not in client.get("/buyer/").get_data(as_text=True)


def test_leader_sees_own_members_only(app, client, auth):
    with app.app_context():
        leader = user("leader@expo.test")
        own = db.session.scalar(select(Buyer).join(Delegation).where(Delegation.leader_user_id == leader.id))
        stranger = services.buyer_of(user("buyer@expo.test"))
        own_id, stranger_id = own.id, stranger.id
    auth.login("leader@expo.test")
    assert client.get(f"/buyers/{own_id}").status_code == 200
    assert client.get(f"/buyers/{stranger_id}").status_code == 404
    assert client.get("/buyer/").status_code == 403


def test_organizer_is_sent_to_the_detail_page(app, client, auth):
    with app.app_context():
        buyer_id = db.session.scalar(select(Buyer.id).order_by(Buyer.id))
    auth.login("staff@expo.test")
    r = client.get(f"/buyers/{buyer_id}")
    assert r.status_code == 302 and urlsplit(r.location).path == f"/organizer/buyers/{buyer_id}"
    assert client.get(f"/organizer/buyers/{buyer_id}").status_code == 200
    assert client.get("/organizer/buyers/2147483647").status_code == 404


def test_navigation_links(client, auth):
    assert "/buyers/register" in client.get("/login").get_data(as_text=True)
    auth.login("staff@expo.test")
    assert 'href="/organizer/buyers"' in client.get("/organizer/").get_data(as_text=True)
    auth.logout()
    auth.login("buyer@expo.test")
    assert 'href="/buyer/"' in client.get("/buyer/").get_data(as_text=True)


# --- fuzz -----------------------------------------------------------------------------------------------------------

nasty_text = st.one_of(
    st.text(max_size=30),
    st.sampled_from(["\x00", "a\x00b", "\u202eevil", "🙂👟", "' OR 1=1 --", "<script>x</script>", "%", "_", "\\",
                     "   ", "\r\n", "İİİ", "ß" * 60, "Иван", "王伟", "O'Brien", "x" * 250]),
    st.builds(lambda s, n: s * n, st.text(min_size=1, max_size=3), st.integers(60, 3000)),
)
values = nasty_text | st.sampled_from(["FR", "XX", "cn", "", "0", "-1", "99999999999", "1m_10m", "y", "over_50m"])
REGISTRATION_FIELDS = ["email", "password", "password_confirm", "name", "name_native", "company", "country",
                       "job_title", "phone", "website", "categories", "purchase_volume", "products_sought",
                       "contact_consent", "hosted"]


@FUZZ
@given(over=st.dictionaries(st.sampled_from(REGISTRATION_FIELDS), values | st.lists(values, max_size=3), max_size=4),
       drop=st.sets(st.sampled_from(REGISTRATION_FIELDS), max_size=3))
def test_fuzz_registration(app, over, drop):
    data = {k: v for k, v in {**registration(app), **over}.items() if k not in drop}
    with app.app_context():
        before = counts()
    r = app.test_client().post("/buyers/register", data=data)
    event(f"status {r.status_code}")
    with app.app_context():
        after = counts()
    if r.status_code == 302:
        assert after["User"] - before["User"] == 1 and after["Buyer"] - before["Buyer"] == 1
    else:
        assert_refusal(r, r.status_code)
        assert 400 <= r.status_code < 500
        assert after == before


LIST_PARAMS = ["q", "country", "region", "category_id", "status", "hosted_status", "delegation", "purchase_volume",
               "sort", "desc", "page", "per_page"]
list_values = values | st.sampled_from(["030", "ZZ", "name", "company", "newest", "approved", "invited",
                                        "independent", "delegation", "1", "200", "201", "2147483648"])


@FUZZ
@given(params=st.dictionaries(st.sampled_from(LIST_PARAMS), list_values, max_size=5))
def test_fuzz_list_parameters(app, params):
    client = app.test_client()
    client.post("/login", data={"email": "staff@expo.test", "password": "expo-demo-2026"})
    r = client.get("/organizer/buyers", query_string=params)
    event(f"status {r.status_code}")
    assert r.status_code in (200, 400), r.status_code
    if r.status_code == 400:
        assert 'class="error"' in r.get_data(as_text=True)
    e = client.get("/organizer/buyers/export.csv", query_string=params)
    assert e.status_code in (200, 400), e.status_code
