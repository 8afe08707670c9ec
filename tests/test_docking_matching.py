"""Recommendations: ranking order and reasons on a small known data set, the exclusions (not approved, inactive,
already met), buyers without needs (interests), delegations' needs, and the recommendation pages and API."""

from __future__ import annotations

from sqlalchemy import select

from expo.buyers.models import Buyer, BuyerStatus
from expo.categories.models import ProductCategory
from expo.docking import matching, needs
from expo.docking.models import Meeting
from expo.exhibitors.models import ApplicationStatus, Exhibitor, SpaceApplication
from expo.exhibitors.services import current_expo
from expo.extensions import db
from tests.factories import make_exhibitor, user


def cat(code: str) -> int:
    return db.session.scalar(select(ProductCategory.id).where(ProductCategory.code == code))


def _exhibitor(*, approved: bool = True, **offer) -> Exhibitor:
    exhibitor, _account = make_exhibitor()
    application = db.session.scalar(select(SpaceApplication).where(SpaceApplication.exhibitor_id == exhibitor.id))
    application.status = ApplicationStatus.APPROVED if approved else ApplicationStatus.SUBMITTED
    values = {"category_id": cat("casual.sneakers"), "products": "Sneakers", **offer}
    needs.create_offer(user("admin@expo.test"), current_expo(), exhibitor, values)
    return exhibitor


def _buyer(name: str = "Anna Schmidt", country: str = "DE", consent: bool = True, categories=()) -> Buyer:
    buyer = Buyer(expo_id=current_expo().id, name=name, country=country, company=f"{name} GmbH",
                  email=f"{name.split()[0].lower()}@example.de", phone="+49 30 000", job_title="Buyer",
                  contact_consent=consent, status=BuyerStatus.REGISTERED)
    buyer.categories = [db.session.get(ProductCategory, c) for c in categories]
    db.session.add(buyer)
    db.session.flush()
    return buyer


def _known_set():
    """A buyer wanting 10,000 pairs of OEM sneakers for Germany at US$10–20, and seven exhibitors."""
    admin = user("admin@expo.test")
    expo = current_expo()
    buyer = _buyer()
    needs.create_need(admin, expo, {"category_id": cat("casual.sneakers"), "title": "Sneakers, OEM",
                                    "quantity_pairs": 10_000, "price_band": "10_20", "markets": ["DE"]}, buyer=buyer)
    full = _exhibitor(monthly_capacity_pairs=50_000, min_order_pairs=1_000, price_band="10_20", markets=["155"],
                      oem=True)
    partial = _exhibitor(monthly_capacity_pairs=6_000, min_order_pairs=20_000, price_band="5_10", markets=["US"])
    sibling = _exhibitor(category_id=cat("casual.canvas"), monthly_capacity_pairs=10_000, min_order_pairs=500,
                         price_band="20_50", markets=["DE"])
    unrelated = _exhibitor(category_id=cat("athletic.running"), monthly_capacity_pairs=90_000, markets=["DE"])
    unapproved = _exhibitor(approved=False, monthly_capacity_pairs=50_000, markets=["DE"], price_band="10_20")
    met = _exhibitor(monthly_capacity_pairs=50_000, markets=["DE"], price_band="10_20")
    db.session.add(Meeting(expo_id=expo.id, buyer_id=buyer.id, exhibitor_id=met.id, requested_by="buyer",
                           status="declined"))
    inactive = _exhibitor(monthly_capacity_pairs=50_000, markets=["DE"], price_band="10_20")
    for offer in db.session.scalars(select(needs.ExhibitorOffer).where(
            needs.ExhibitorOffer.exhibitor_id == inactive.id)):
        needs.set_offer_active(admin, offer, False)
    db.session.flush()
    return buyer, {"full": full, "partial": partial, "sibling": sibling, "unrelated": unrelated,
                   "unapproved": unapproved, "met": met, "inactive": inactive}


def test_for_buyer_ranks_by_fit_with_reasons(ctx):
    buyer, ex = _known_set()
    found = matching.for_buyer(buyer)
    assert [(m.exhibitor_id, m.score) for m in found] == [(ex["full"].id, 100), (ex["sibling"].id, 70),
                                                          (ex["partial"].id, 55)]
    full, sibling, partial = found
    assert [(r.code, r.params) for r in full.reasons] == [
        ("same_category", {"category_id": cat("casual.sneakers")}),
        ("capacity", {"capacity": 50_000, "quantity": 10_000}),
        ("min_order", {"min_order": 1_000, "quantity": 10_000}),
        ("markets", {"markets": ["DE"]}),  # Germany lies in Western Europe (155), which the exhibitor serves
        ("price_band", {"band": "10_20"}),
        ("oem", {})]
    assert [r.code for r in sibling.reasons] == ["related_category", "capacity", "min_order", "markets",
                                                 "price_band_adjacent"]
    assert sibling.reasons[0].params == {"category_id": cat("casual.sneakers")}
    assert [r.code for r in partial.reasons] == ["same_category", "capacity_partial", "price_band_adjacent"]
    assert full.need_id is not None and full.offer_id is not None
    assert matching.for_buyer(buyer, limit=1) == [full]  # no related category can beat 100: not even asked
    assert matching.for_buyer(buyer, limit=2) == [full, sibling]  # 55 in its own category: the related 70 wins
    # The database's scores (which rank) are the same as score()'s (which explain).
    ranked = db.session.execute(matching.ranked_exhibitors_query(
        current_expo().id, buyer.id, matching.wants_of(buyer), matching.Tree.load(), 20)).all()
    assert [tuple(row) for row in ranked] == [(m.exhibitor_id, m.score) for m in found]


def test_the_best_need_and_offer_of_a_pair_count(ctx):
    buyer, ex = _known_set()
    # A second, better-fitting offer of the "partial" exhibitor lifts it above the sibling.
    needs.create_offer(user("admin@expo.test"), current_expo(), ex["partial"],
                       {"category_id": cat("casual.sneakers"), "products": "Vulcanized sneakers",
                        "monthly_capacity_pairs": 20_000, "min_order_pairs": 2_000, "price_band": "10_20",
                        "markets": ["DE"]})
    found = matching.for_buyer(buyer)
    assert [(m.exhibitor_id, m.score) for m in found] == [(ex["full"].id, 100), (ex["partial"].id, 95),
                                                          (ex["sibling"].id, 70)]


def test_buyer_without_needs_is_matched_by_interests_and_inactive_needs_do_not_count(ctx):
    admin = user("admin@expo.test")
    buyer = _buyer("Jan Novak", country="CZ", categories=[cat("casual")])
    need = needs.create_need(admin, current_expo(), {"category_id": cat("athletic.running"), "title": "Runners"},
                             buyer=buyer)
    sneakers = _exhibitor(markets=["151"])  # Eastern Europe, holding the Czech Republic
    running = _exhibitor(category_id=cat("athletic.running"))
    assert [m.exhibitor_id for m in matching.for_buyer(buyer)] == [running.id]
    needs.set_need_active(admin, need, False)
    found = matching.for_buyer(buyer)
    assert [(m.exhibitor_id, m.score, [r.code for r in m.reasons]) for m in found] == [
        (sneakers.id, 55, ["interest", "markets"])]
    assert found[0].reasons[0].params == {"category_id": cat("casual")}


def test_for_exhibitor_ranks_buyers_including_delegation_members_and_interests(ctx):
    from expo.buyers.models import Delegation

    admin = user("admin@expo.test")
    expo = current_expo()
    exhibitor = _exhibitor(monthly_capacity_pairs=50_000, min_order_pairs=1_000, price_band="10_20",
                           markets=["DE", "RU"], oem=True)
    with_need = _buyer("Anna Schmidt", "DE")
    needs.create_need(admin, expo, {"category_id": cat("casual.sneakers"), "title": "Sneakers",
                                    "quantity_pairs": 5_000, "price_band": "10_20"}, buyer=with_need)
    oem_buyer = _buyer("Olga Ivanova", "RU")
    needs.create_need(admin, expo, {"category_id": cat("casual.canvas"), "title": "Canvas shoes",
                                    "description": "Private label, OEM", "quantity_pairs": 80_000,
                                    "price_band": "5_10", "markets": ["151"]}, buyer=oem_buyer)
    delegation = db.session.get(Delegation, 1)
    member = _buyer("Ivan Petrov", "RU")
    member.delegation_id = delegation.id
    needs.create_need(admin, expo, {"category_id": cat("casual"), "title": "Casual shoes",
                                    "quantity_pairs": 100_000}, delegation=delegation)
    interested = _buyer("Li Wei", "SG", categories=[cat("casual.sneakers")])
    cancelled = _buyer("Gone Away", "DE", categories=[cat("casual.sneakers")])
    cancelled.status = BuyerStatus.CANCELLED
    uninterested = _buyer("Other Person", "DE", categories=[cat("athletic.running")])
    db.session.flush()
    found = matching.for_exhibitor(exhibitor, expo, limit=100)
    ranked = [(m.buyer_id, m.score) for m in found]
    # Anna: category, capacity, min order, her own country DE, price band = 40+20+10+15+10.
    assert ranked[0] == (with_need.id, 95)
    assert (interested.id, 40) in ranked
    ids = [b for b, _s in ranked]
    assert member.id in ids and cancelled.id not in ids and uninterested.id not in ids
    # Olga: a sibling category, half the capacity, min order, Russia in Eastern Europe, adjacent band, OEM.
    oem_match = next(m for m in found if m.buyer_id == oem_buyer.id)
    assert [r.code for r in oem_match.reasons] == ["related_category", "capacity_partial", "min_order", "markets",
                                                   "price_band_adjacent", "oem"]
    assert oem_match.score == 65
    member_match = next(m for m in found if m.buyer_id == member.id)
    # The delegation's need for casual shoes (the parent category): same category (sneakers lie under casual),
    # capacity half of 100,000, min order fits, Russia served.
    assert [r.code for r in member_match.reasons] == ["same_category", "capacity_partial", "min_order", "markets"]
    assert member_match.score == 75
    # The database's scores (which rank) are score()'s (which explain), the limit cut included.
    supplies = [matching.Supply(*row[:8], markets=tuple(row[8])) for row in db.session.execute(
        select(*matching._OFFER_COLUMNS).where(needs.ExhibitorOffer.exhibitor_id == exhibitor.id))]
    tree = matching.Tree.load()
    own_sql = db.session.execute(matching.ranked_buyers_query(expo.id, exhibitor.id, supplies, tree, 100)).all()
    assert [tuple(row) for row in own_sql] == [(b, p) for b, p in ranked if b in (with_need.id, oem_buyer.id)]
    assert db.session.execute(matching.ranked_delegations_query(expo.id, supplies, tree)).all() == [
        (delegation.id, 75)]
    assert matching._ranked_buyer_ids(expo.id, exhibitor.id, supplies, tree, 100) == ids
    assert matching.for_exhibitor(exhibitor, expo, limit=3) == found[:3]
    # A meeting takes the pair out.
    db.session.add(Meeting(expo_id=expo.id, buyer_id=with_need.id, exhibitor_id=exhibitor.id, requested_by="buyer",
                           status="requested"))
    db.session.flush()
    assert with_need.id not in [m.buyer_id for m in matching.for_exhibitor(exhibitor, expo, limit=100)]


def test_markets_overlap_regions_both_ways():
    assert matching.markets_overlap(["DE", "US"], ["155"]) == ["DE"]
    assert matching.markets_overlap(["155"], ["FR"]) == ["155"]
    assert matching.markets_overlap(["155"], ["155"]) == ["155"]
    assert matching.markets_overlap(["US"], ["CA"]) == []
    assert matching.markets_overlap([], ["CA"]) == []


# --- pages and API ------------------------------------------------------------------------------------------------------

def _demo_pair(app):
    """The demo buyer (Brazil, interested in one category) and the demo exhibitor, approved, with a fitting offer."""
    with app.app_context():
        buyer = db.session.scalar(select(Buyer).where(Buyer.user_id == user("buyer@expo.test").id))
        exhibitor = db.session.get(Exhibitor, user("exhibitor@expo.test").exhibitor_id)
        application = db.session.scalar(select(SpaceApplication).where(
            SpaceApplication.exhibitor_id == exhibitor.id))
        application.status = ApplicationStatus.APPROVED
        needs.create_need(user("admin@expo.test"), current_expo(),
                          {"category_id": cat("casual.sneakers"), "title": "Sneakers for Brazil",
                           "quantity_pairs": 3_000, "markets": ["BR"]}, buyer=buyer)
        needs.create_offer(user("admin@expo.test"), current_expo(), exhibitor,
                           {"category_id": cat("casual.sneakers"), "products": "Skate shoes",
                            "monthly_capacity_pairs": 8_000, "markets": ["419"]})
        db.session.commit()
        return buyer.id, exhibitor.id, buyer.name


def test_buyer_sees_recommended_exhibitors_with_reasons_and_a_meeting_link(client, auth, app):
    _buyer_id, exhibitor_id, _name = _demo_pair(app)
    auth.login("buyer@expo.test")
    page = client.get("/docking/recommendations")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert f'id="exhibitor-{exhibitor_id}" data-score="85"' in html
    assert "Skate shoes" in html and "Monthly capacity 8,000 pairs covers 3,000 pairs" in html
    assert "Serves the markets Brazil" in html
    assert f"/docking/meetings/new?exhibitor_id={exhibitor_id}" in html


def test_exhibitor_sees_buyers_contact_only_with_consent(client, auth, app):
    buyer_id, _exhibitor_id, name = _demo_pair(app)
    auth.login("exhibitor@expo.test")
    html = client.get("/docking/recommendations").get_data(as_text=True)
    assert f'id="buyer-{buyer_id}"' in html and name in html and 'data-consent="1"' in html
    assert f"/docking/meetings/new?buyer_id={buyer_id}" in html
    with app.app_context():
        buyer = db.session.get(Buyer, buyer_id)
        buyer.contact_consent = False
        email, company = buyer.email, buyer.company
        db.session.commit()
    html = client.get("/docking/recommendations").get_data(as_text=True)
    assert name in html and 'data-consent="0"' in html
    assert email not in html and (not company or company not in html)


def test_recommendations_api_for_both_sides(client, app, token):
    buyer_id, exhibitor_id, _name = _demo_pair(app)
    body = client.get("/api/v1/docking/recommendations?limit=5", headers=token("buyer@expo.test")).get_json()
    assert body["side"] == "exhibitors"
    first = body["items"][0]
    assert (first["exhibitor_id"], first["score"]) == (exhibitor_id, 85)
    assert [r["code"] for r in first["reasons"]] == ["same_category", "capacity", "min_order", "markets"]
    body = client.get("/api/v1/docking/recommendations", headers=token("exhibitor@expo.test")).get_json()
    assert body["side"] == "buyers" and body["items"][0]["buyer_id"] == buyer_id
    assert client.get("/api/v1/docking/recommendations?limit=0",
                      headers=token("buyer@expo.test")).status_code == 422
    assert client.get("/api/v1/docking/recommendations", headers=token("admin@expo.test")).status_code == 403


def test_organizer_and_leader_see_recommendations_for_others(client, auth, app):
    buyer_id, exhibitor_id, _name = _demo_pair(app)
    with app.app_context():
        from expo.buyers.models import Delegation
        member = db.session.scalar(select(Buyer).where(Buyer.delegation_id == db.session.scalar(
            select(Delegation.id).where(Delegation.leader_user_id == user("leader@expo.test").id))))
        needs.create_need(user("admin@expo.test"), current_expo(),
                          {"category_id": cat("casual.sneakers"), "title": "Sneakers"}, buyer=member)
        db.session.commit()
        member_id = member.id
    auth.login("staff@expo.test")
    html = client.get(f"/docking/buyers/{buyer_id}/recommendations").get_data(as_text=True)
    assert f'id="exhibitor-{exhibitor_id}"' in html
    assert f"/docking/meetings/new?exhibitor_id={exhibitor_id}&amp;buyer_id={buyer_id}" in html
    html = client.get(f"/docking/exhibitors/{exhibitor_id}/recommendations").get_data(as_text=True)
    assert f"/docking/meetings/new?buyer_id={buyer_id}&amp;exhibitor_id={exhibitor_id}" in html
    assert f'href="/docking/buyers/{buyer_id}/recommendations"' in client.get("/docking/admin/needs").get_data(
        as_text=True)
    auth.logout()
    auth.login("leader@expo.test")
    with app.app_context():
        delegation_id = db.session.get(Buyer, member_id).delegation_id
    members = client.get(f"/leader/delegations/{delegation_id}").get_data(as_text=True)  # where a leader finds it
    assert f'href="/docking/buyers/{member_id}/recommendations"' in members
    html = client.get(f"/docking/buyers/{member_id}/recommendations").get_data(as_text=True)
    assert f'id="exhibitor-{exhibitor_id}"' in html
    assert client.get(f"/docking/buyers/{buyer_id}/recommendations").status_code == 404  # not a member
    assert client.get(f"/docking/exhibitors/{exhibitor_id}/recommendations").status_code == 403
    auth.logout()
    auth.login("leader2@expo.test")
    assert client.get(f"/docking/buyers/{member_id}/recommendations").status_code == 404
