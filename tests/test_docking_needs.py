"""Purchase needs and offers: the services' rules, the pages of each role (buyer, delegation leader, exhibitor,
organizer), someone else's need or offer being 404 on pages and API, the organizer's lists and exports, and the
API fuzzed with hypothesis (no 5xx, every refusal explained, nothing half-saved)."""

from __future__ import annotations

import io
from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st
from openpyxl import load_workbook
from sqlalchemy import func, select

from expo.buyers.models import Buyer, Delegation
from expo.categories.models import ProductCategory
from expo.docking import needs
from expo.docking.models import BuyerNeed, ExhibitorOffer
from expo.exhibitors.services import current_expo
from expo.extensions import db
from tests.factories import make_exhibitor, user
from tests.test_fuzz import FUZZ, api_bodies, assert_api_refusal

API = "/api/v1/docking"


def cat(code: str) -> int:
    return db.session.scalar(select(ProductCategory.id).where(ProductCategory.code == code))


def demo_buyer() -> Buyer:
    return db.session.scalar(select(Buyer).where(Buyer.user_id == user("buyer@expo.test").id))


def leaders_delegation(email: str = "leader@expo.test") -> Delegation:
    return db.session.scalar(select(Delegation).where(Delegation.leader_user_id == user(email).id))


def need_values(**over):
    return {"category_id": cat("casual.sneakers"), "title": "Sneakers", "quantity_pairs": 5000, "price_band": "10_20",
            "delivery_from": date(2027, 6, 1), "delivery_until": date(2027, 9, 1), "markets": ["DE", "155"],
            "description": "White leather sneakers", **over}


def offer_values(**over):
    return {"category_id": cat("casual.sneakers"), "products": "Skate shoes", "min_order_pairs": 1000,
            "monthly_capacity_pairs": 30000, "price_band": "10_20", "oem": True, "odm": False,
            "certifications": "ISO 9001, BSCI；bsci", "markets": ["US"], "description": "", **over}


# --- services ---------------------------------------------------------------------------------------------------------

def test_create_need_normalizes_and_audits(ctx):
    buyer = demo_buyer()
    need = needs.create_need(user("buyer@expo.test"), current_expo(), need_values(markets="de, 155 ,DE"),
                             buyer=buyer)
    assert (need.buyer_id, need.delegation_id, need.markets, need.active) == (buyer.id, None, ["DE", "155"], True)
    from expo.audit import AuditEntry
    assert db.session.scalar(select(AuditEntry.action).where(AuditEntry.object_type == "BuyerNeed",
                                                             AuditEntry.object_id == need.id)) == "need_created"


@pytest.mark.parametrize(("over", "field"), [
    ({"category_id": 999999}, "category_id"),
    ({"title": "  "}, "title"),
    ({"quantity_pairs": -1}, "quantity_pairs"),
    ({"quantity_pairs": needs.MAX_PAIRS + 1}, "quantity_pairs"),
    ({"price_band": "cheap"}, "price_band"),
    ({"delivery_from": date(2027, 9, 2)}, "delivery_until"),
    ({"markets": ["XX"]}, "markets"),
    ({"markets": ["DE"] * 3 + [c for c in ("US", "FR", "IT", "ES", "GB", "PL", "CZ", "SK", "HU", "RO", "BG", "GR",
                                           "PT", "IE", "NL", "BE", "LU", "AT", "CH", "DK", "SE", "NO", "FI", "EE",
                                           "LV", "LT", "IS", "MT", "CY", "SI", "HR", "RS", "BA", "ME", "AL", "MK",
                                           "MD", "UA", "BY", "RU")]}, "markets"),
])
def test_need_rules(ctx, over, field):
    with pytest.raises(needs.NeedError) as refused:
        needs.create_need(user("buyer@expo.test"), current_expo(), need_values(**over), buyer=demo_buyer())
    assert refused.value.field == field


def test_inactive_category_is_refused(ctx):
    db.session.get(ProductCategory, cat("casual.canvas")).active = False
    with pytest.raises(needs.NeedError):
        needs.create_need(user("buyer@expo.test"), current_expo(), need_values(category_id=cat("casual.canvas")),
                          buyer=demo_buyer())


def test_offer_certifications_are_a_short_list(ctx):
    exhibitor_id = user("exhibitor@expo.test").exhibitor_id
    from expo.exhibitors.models import Exhibitor
    exhibitor = db.session.get(Exhibitor, exhibitor_id)
    offer = needs.create_offer(user("exhibitor@expo.test"), current_expo(), exhibitor, offer_values())
    assert offer.certifications == ["ISO 9001", "BSCI"]
    with pytest.raises(needs.NeedError) as refused:
        needs.update_offer(user("exhibitor@expo.test"), offer, {"certifications": "x" * 61})
    assert refused.value.field == "certifications"
    with pytest.raises(needs.NeedError):
        needs.update_offer(user("exhibitor@expo.test"), offer, {"certifications": [f"C{i}" for i in range(13)]})
    # Another exhibitor's account may not publish for this one.
    _other, account = make_exhibitor()
    with pytest.raises(needs.NotFound):
        needs.create_offer(account, current_expo(), exhibitor, offer_values())


def test_owner_rules(ctx):
    expo = current_expo()
    delegation = leaders_delegation()
    leader2 = user("leader2@expo.test")
    with pytest.raises(needs.NotFound):  # another leader's delegation
        needs.create_need(leader2, expo, need_values(), delegation=delegation)
    with pytest.raises(needs.NotFound):  # a buyer for someone else
        needs.create_need(user("leader@expo.test"), expo, need_values(), buyer=demo_buyer())
    with pytest.raises(needs.NeedError):  # neither or both owners
        needs.create_need(user("admin@expo.test"), expo, need_values())
    need = needs.create_need(user("leader@expo.test"), expo, need_values(), delegation=delegation)
    assert need.delegation_id == delegation.id and need.buyer_id is None
    with pytest.raises(needs.NotFound):
        needs.need_for(leader2, expo, need.id)
    with pytest.raises(needs.NotFound):
        needs.need_for(user("buyer@expo.test"), expo, need.id)
    assert needs.need_for(user("staff@expo.test"), expo, need.id) is need
    assert needs.set_need_active(user("leader@expo.test"), need, False) is True
    assert needs.set_need_active(user("leader@expo.test"), need, False) is False


# --- pages --------------------------------------------------------------------------------------------------------------

def _form(**over):
    data = {"category_id": "", "title": "Sneakers for the summer", "quantity_pairs": "12000", "price_band": "10_20",
            "delivery_from": "2027-06-01", "delivery_until": "2027-08-31", "markets": ["DE", "FR"],
            "description": "Canvas uppers"}
    data.update(over)
    return data


def test_buyer_adds_edits_and_deactivates_a_need(client, auth, app):
    with app.app_context():
        sneakers = cat("casual.sneakers")
    auth.login("buyer@expo.test")
    assert client.get("/docking/needs").status_code == 200
    assert client.get("/docking/needs/new").status_code == 200
    bad = client.post("/docking/needs/new", data=_form(category_id=str(sneakers), delivery_until="2027-05-01"))
    assert bad.status_code == 422 and "The delivery window ends before it starts." in bad.get_data(as_text=True)
    r = client.post("/docking/needs/new", data=_form(category_id=str(sneakers)))
    assert r.status_code == 302
    with app.app_context():
        need = db.session.scalar(select(BuyerNeed))
        assert (need.title, need.quantity_pairs, need.markets, need.buyer_id) == \
            ("Sneakers for the summer", 12000, ["DE", "FR"], demo_buyer().id)
        need_id = need.id
    html = client.get("/docking/needs").get_data(as_text=True)
    assert f'id="need-{need_id}"' in html and "12,000" in html
    assert 'value="Sneakers for the summer"' in client.get(f"/docking/needs/{need_id}").get_data(as_text=True)
    assert client.post(f"/docking/needs/{need_id}", data=_form(category_id=str(sneakers),
                                                               title="Vulcanized sneakers")).status_code == 302
    assert client.post(f"/docking/needs/{need_id}/deactivate").status_code == 302
    with app.app_context():
        need = db.session.get(BuyerNeed, need_id)
        assert (need.title, need.active) == ("Vulcanized sneakers", False)
    assert client.post(f"/docking/needs/{need_id}/reactivate").status_code == 302
    with app.app_context():
        assert db.session.get(BuyerNeed, need_id).active is True


def test_leader_publishes_for_the_delegation_and_others_get_404(client, auth, app):
    with app.app_context():
        delegation = leaders_delegation()
        other = leaders_delegation("leader2@expo.test")
        sneakers = cat("casual.sneakers")
        delegation_id, other_id = delegation.id, other.id
    auth.login("leader@expo.test")
    assert client.get(f"/docking/needs/new?delegation_id={other_id}").status_code == 404
    r = client.post(f"/docking/needs/new?delegation_id={delegation_id}", data=_form(category_id=str(sneakers)))
    assert r.status_code == 302
    with app.app_context():
        need = db.session.scalar(select(BuyerNeed))
        assert (need.delegation_id, need.buyer_id) == (delegation_id, None)
        need_id = need.id
    assert f'id="need-{need_id}"' in client.get("/docking/needs").get_data(as_text=True)
    auth.logout()
    for email in ("leader2@expo.test", "buyer@expo.test"):
        auth.login(email)
        assert client.get(f"/docking/needs/{need_id}").status_code == 404
        assert client.post(f"/docking/needs/{need_id}/deactivate").status_code == 404
        assert f'id="need-{need_id}"' not in client.get("/docking/needs").get_data(as_text=True)
        auth.logout()
    auth.login("exhibitor@expo.test")
    assert client.get(f"/docking/needs/{need_id}").status_code == 403


def test_exhibitor_offers_pages_and_another_exhibitors_offer_is_404(client, auth, app):
    with app.app_context():
        sneakers = cat("casual.sneakers")
    auth.login("exhibitor@expo.test")
    assert client.get("/docking/offers").status_code == 200
    r = client.post("/docking/offers/new", data={"category_id": str(sneakers), "products": "Skate shoes",
                                                 "min_order_pairs": "500", "monthly_capacity_pairs": "20000",
                                                 "price_band": "", "oem": "y", "certifications": "BSCI",
                                                 "markets": ["US", "021"]})
    assert r.status_code == 302
    with app.app_context():
        offer = db.session.scalar(select(ExhibitorOffer))
        assert (offer.products, offer.oem, offer.odm, offer.markets, offer.certifications) == \
            ("Skate shoes", True, False, ["US", "021"], ["BSCI"])
        offer_id = offer.id
    assert 'value="BSCI"' in client.get(f"/docking/offers/{offer_id}").get_data(as_text=True)
    assert client.post(f"/docking/offers/{offer_id}/deactivate").status_code == 302
    auth.logout()
    with app.app_context():
        _other, account = make_exhibitor(email="rival@example.com")
        db.session.commit()
    client.post("/login", data={"email": "rival@example.com", "password": "correct horse battery"})
    assert client.get(f"/docking/offers/{offer_id}").status_code == 404
    assert client.post(f"/docking/offers/{offer_id}/reactivate").status_code == 404
    assert f'id="offer-{offer_id}"' not in client.get("/docking/offers").get_data(as_text=True)


def _seed_lists(app):
    with app.app_context():
        from expo.exhibitors.models import Exhibitor
        admin, expo = user("admin@expo.test"), current_expo()
        needs.create_need(admin, expo, need_values(title="Sneakers for Brazil"), buyer=demo_buyer())
        needs.create_need(admin, expo, need_values(title="Boots", category_id=cat("leather.men")),
                          delegation=leaders_delegation())
        exhibitor = db.session.get(Exhibitor, user("exhibitor@expo.test").exhibitor_id)
        needs.create_offer(admin, expo, exhibitor, offer_values(products="Skate shoes =SUM(A1)"))
        db.session.commit()
        return demo_buyer().country, leaders_delegation().country


def test_organizer_lists_filter_and_export(client, auth, app):
    buyer_country, delegation_country = _seed_lists(app)
    auth.login("staff@expo.test")
    with app.app_context():
        casual, leather = cat("casual"), cat("leather")
    html = client.get("/docking/admin/needs").get_data(as_text=True)
    assert "Sneakers for Brazil" in html and "Boots" in html
    html = client.get(f"/docking/admin/needs?category={casual}").get_data(as_text=True)
    assert "Sneakers for Brazil" in html and "Boots" not in html  # a parent category holds its subcategories
    html = client.get(f"/docking/admin/needs?country={delegation_country}").get_data(as_text=True)
    assert "Boots" in html and "Sneakers for Brazil" not in html
    assert client.get("/docking/admin/needs?country=XX").status_code == 400
    csv = client.get(f"/docking/admin/needs.csv?category={leather}")
    assert csv.status_code == 200 and csv.mimetype == "text/csv"
    lines = csv.get_data(as_text=True).lstrip("\ufeff").splitlines()
    assert lines[0].startswith("need_id,active,owner") and len(lines) == 2 and "Boots" in lines[1]
    xlsx = client.get("/docking/admin/offers.xlsx")
    rows = list(load_workbook(io.BytesIO(xlsx.data)).active.iter_rows(values_only=True))
    assert rows[0][:3] == ("offer_id", "active", "exhibitor") and rows[1][5] == "Skate shoes =SUM(A1)"
    assert "Skate shoes" in client.get("/docking/admin/offers").get_data(as_text=True)
    assert client.get("/docking/admin/offers.pdf").status_code == 404
    auth.logout()
    auth.login("buyer@expo.test")
    assert client.get("/docking/admin/needs").status_code == 403
    assert client.get("/docking/admin/needs.csv").status_code == 403


# --- API ----------------------------------------------------------------------------------------------------------------

def test_api_needs_crud_and_ownership(client, app, token):
    with app.app_context():
        sneakers = cat("casual.sneakers")
        delegation_id = leaders_delegation().id
    buyer = token("buyer@expo.test")
    r = client.post(f"{API}/needs", json={"category_id": sneakers, "title": "Sneakers", "quantity_pairs": 800,
                                          "markets": ["BR"]}, headers=buyer)
    assert r.status_code == 201, r.get_json()
    need = r.get_json()
    assert (need["quantity_pairs"], need["markets"], need["delegation_id"]) == (800, ["BR"], None)
    r = client.patch(f"{API}/needs/{need['id']}", json={"price_band": "5_10"}, headers=buyer)
    assert r.status_code == 200 and r.get_json()["price_band"] == "5_10" and r.get_json()["title"] == "Sneakers"
    r = client.patch(f"{API}/needs/{need['id']}", json={"quantity_pairs": -5}, headers=buyer)
    assert r.status_code == 422 and "quantity_pairs" in r.get_json()["fields"]
    listed = client.get(f"{API}/needs", headers=buyer).get_json()
    assert [n["id"] for n in listed["items"]] == [need["id"]]
    leader = token("leader@expo.test")
    r = client.post(f"{API}/needs", json={"category_id": sneakers, "title": "For the group"}, headers=leader)
    assert r.status_code == 201 and r.get_json()["delegation_id"] == delegation_id
    for other in (leader, token("leader2@expo.test")):
        assert client.get(f"{API}/needs/{need['id']}", headers=other).status_code == 404
        assert client.patch(f"{API}/needs/{need['id']}", json={"title": "x"}, headers=other).status_code == 404
        assert client.delete(f"{API}/needs/{need['id']}", headers=other).status_code == 404
    r = client.delete(f"{API}/needs/{need['id']}", headers=buyer)
    assert r.status_code == 200 and r.get_json()["active"] is False
    admin = token("admin@expo.test")
    assert client.get(f"{API}/needs", headers=admin).get_json()["total"] == 2
    r = client.post(f"{API}/needs", json={"category_id": sneakers, "title": "By the organizer",
                                          "delegation_id": delegation_id}, headers=admin)
    assert r.status_code == 201 and r.get_json()["delegation_id"] == delegation_id
    assert client.get(f"{API}/needs", headers=token("exhibitor@expo.test")).status_code == 403


def test_api_offers_crud_and_ownership(client, app, token):
    with app.app_context():
        sneakers = cat("casual.sneakers")
        _other, _account = make_exhibitor(email="rival2@example.com")
        db.session.commit()
    mine = token("exhibitor@expo.test")
    r = client.post(f"{API}/offers", json={"category_id": sneakers, "products": "Skate shoes", "oem": True,
                                           "certifications": ["ISO 9001", "BSCI"], "markets": ["US"]},
                    headers=mine)
    assert r.status_code == 201, r.get_json()
    offer = r.get_json()
    assert (offer["oem"], offer["certifications"]) == (True, ["ISO 9001", "BSCI"])
    r = client.patch(f"{API}/offers/{offer['id']}", json={"monthly_capacity_pairs": 9000}, headers=mine)
    assert r.status_code == 200 and r.get_json()["monthly_capacity_pairs"] == 9000 and r.get_json()["oem"] is True
    rival = token("rival2@example.com")
    assert client.get(f"{API}/offers/{offer['id']}", headers=rival).status_code == 404
    assert client.patch(f"{API}/offers/{offer['id']}", json={"products": "x"}, headers=rival).status_code == 404
    assert client.delete(f"{API}/offers/{offer['id']}", headers=rival).status_code == 404
    assert client.get(f"{API}/offers", headers=rival).get_json()["total"] == 0
    assert client.get(f"{API}/offers?category={sneakers}", headers=token("staff@expo.test")).get_json()["total"] == 1
    assert client.post(f"{API}/offers", json={"products": "x", "category_id": sneakers},
                       headers=token("staff@expo.test")).status_code == 404  # no exhibitor_id
    r = client.delete(f"{API}/offers/{offer['id']}", headers=mine)
    assert r.get_json()["active"] is False
    r = client.patch(f"{API}/offers/{offer['id']}", json={"active": True}, headers=mine)
    assert r.get_json()["active"] is True


NEED_FIELDS = ["category_id", "title", "quantity_pairs", "price_band", "delivery_from", "delivery_until", "markets",
               "description", "buyer_id", "delegation_id"]
OFFER_FIELDS = ["category_id", "products", "min_order_pairs", "monthly_capacity_pairs", "price_band", "oem", "odm",
                "certifications", "markets", "description", "exhibitor_id", "active"]


def _count(app, model) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(model))


@pytest.fixture
def fuzz_headers(app):
    from expo.auth.services import create_api_token
    with app.app_context():
        out = {}
        for email in ("buyer@expo.test", "exhibitor@expo.test"):
            _row, secret = create_api_token(user(email), "fuzz")
            out[email] = {"Authorization": f"Bearer {secret}"}
        db.session.commit()
        return out


@FUZZ
@given(body=api_bodies({"category_id": 16, "title": "Sneakers", "quantity_pairs": 100, "markets": ["DE"]},
                       NEED_FIELDS, ["title", "description"]),
       method=st.sampled_from(["post", "patch"]))
def test_fuzz_needs_api(app, fuzz_headers, body, method):
    client = app.test_client()
    before = _count(app, BuyerNeed)
    if method == "post":
        r = client.post(f"{API}/needs", json=body, headers=fuzz_headers["buyer@expo.test"])
    else:
        with app.app_context():
            need = db.session.scalar(select(BuyerNeed)) or needs.create_need(
                user("buyer@expo.test"), current_expo(), need_values(), buyer=demo_buyer())
            db.session.commit()
            need_id = need.id
        before = _count(app, BuyerNeed)
        r = client.patch(f"{API}/needs/{need_id}", json=body, headers=fuzz_headers["buyer@expo.test"])
    if r.status_code in (200, 201):
        assert r.get_json()["id"]
    else:
        assert_api_refusal(r)
        assert _count(app, BuyerNeed) == before


@FUZZ
@given(body=api_bodies({"category_id": 16, "products": "Skate shoes", "oem": True, "certifications": ["BSCI"]},
                       OFFER_FIELDS, ["products", "description", "certifications"]))
def test_fuzz_offers_api(app, fuzz_headers, body):
    client = app.test_client()
    before = _count(app, ExhibitorOffer)
    r = client.post(f"{API}/offers", json=body, headers=fuzz_headers["exhibitor@expo.test"])
    if r.status_code == 201:
        assert r.get_json()["id"] and _count(app, ExhibitorOffer) == before + 1
    else:
        assert_api_refusal(r)
        assert _count(app, ExhibitorOffer) == before


def test_api_list_query_is_validated(client, token):
    r = client.get(f"{API}/needs?per_page=0", headers=token("buyer@expo.test"))
    assert_api_refusal(r)
    r = client.get(f"{API}/offers?country=XX", headers=token("exhibitor@expo.test"))
    assert_api_refusal(r)
