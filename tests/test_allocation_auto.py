"""The automatic allocation: priority rule, solver, proposals (apply / discard / stale), pages and the CLI.

Each test builds a small hall of its own (booths from the layout generator) in the demo expo, after clearing the
demo's booths and approvals, so every expectation is computed from that hall's geometry, not typed in.
"""

from __future__ import annotations

import io
from datetime import datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from openpyxl import load_workbook
from sqlalchemy import delete, func, select, update

from expo.allocation import auto, proposals, rules
from expo.allocation import services as allocation
from expo.auth.models import User
from expo.categories.models import ProductCategory
from expo.exhibitors.models import Exhibitor, SpaceApplication
from expo.exhibitors.services import current_expo
from expo.extensions import db
from expo.mail import OutboxMail
from expo.venue import geometry
from expo.venue import services as venue_services
from expo.venue.geometry import Rect
from expo.venue.layout import BlockLayout
from expo.venue.models import PREMIUM_KINDS, AllocationProposal, Booth, BoothStatus, Hall, Pavilion
from tests.factories import make_exhibitor, user

T0 = datetime(2026, 9, 1, 9, 0)


# -- building a small venue ---------------------------------------------------------------------------------------

def clear_demo():
    """No demo booths, no approved demo applications: only what the test builds takes part."""
    expo = current_expo()
    db.session.execute(update(Booth).where(Booth.expo_id == expo.id).values(stand_id=None))
    db.session.execute(delete(Booth).where(Booth.expo_id == expo.id))
    db.session.execute(update(SpaceApplication).where(SpaceApplication.status == "approved")
                       .values(status="submitted"))
    db.session.flush()
    return expo


def make_pavilion(expo, code: str, categories=()) -> Pavilion:
    p = Pavilion(expo_id=expo.id, code=code, name_zh=code, name_en=code, area_id=expo.areas[0].id)
    p.categories = list(categories)
    db.session.add(p)
    db.session.flush()
    return p


def make_hall(expo, code: str, width=40, depth=20) -> Hall:
    hall = Hall(expo_id=expo.id, code=code, name_zh=code, name_en=code, width_m=width, depth_m=depth,
                entrances=[], obstacles=[])
    db.session.add(hall)
    db.session.flush()
    return hall


def lay_out(hall, pavilion, region: Rect, prefix: str, *, per_row=5, rows=2, raw=False, w=3.0, d=3.0):
    spec = BlockLayout(region, prefix=prefix, booths_per_row=per_row, rows_per_block=rows, booth_width_m=w,
                       booth_depth_m=d)
    return venue_services.generate(None, hall, spec, pavilion=pavilion, price_cny=10000, raw_space=raw)


def approved(name: str, *, days=0, **application) -> SpaceApplication:
    values = {"booths_requested": 1, "corner_preference": "none", "competitors": "", "years_exhibited": 0,
              "preferred_pavilion_id": None, "preferred_area_id": None}
    values.update(application)
    exhibitor, _account = make_exhibitor(application=values, name_en=name, name_zh=None)
    app = exhibitor.applications[0]
    app.status, app.submitted_at = "approved", T0 + timedelta(days=days)
    db.session.flush()
    return app


def hall_booths(hall) -> dict[int, Booth]:
    return {b.id: b for b in db.session.scalars(select(Booth).where(Booth.hall_id == hall.id))}


def adjacency(hall):
    rects = {k: venue_services.booth_rect(b) for k, b in hall_booths(hall).items()}
    return geometry.neighbours(rects), geometry.facing(rects)


def proposed(proposal, application) -> list[Booth]:
    for row in proposal.result["assignments"]:
        if row["application_id"] == application.id:
            return list(db.session.scalars(select(Booth).where(Booth.id.in_(row["booth_ids"]))))
    return []


def unmet_row(proposal, application):
    return next((r for r in proposal.result["unmet"] if r["application_id"] == application.id), None)


def admin() -> User:
    return user("admin@expo.test")


@pytest.fixture
def venue(ctx):
    """One hall, two pavilions: P1 in the north band, P2 in the south band, double-row blocks of 5."""
    expo = clear_demo()
    p1, p2 = make_pavilion(expo, "P1"), make_pavilion(expo, "P2")
    hall = make_hall(expo, "T1", 40, 24)
    lay_out(hall, p1, Rect(3, 3, 33, 6), "T1-A")
    lay_out(hall, p2, Rect(3, 12, 33, 6), "T1-B")
    db.session.commit()
    return expo, hall, p1, p2


# -- the rule -----------------------------------------------------------------------------------------------------

def test_score_follows_the_rule(venue):
    expo, *_ = venue
    a = approved("Old Hand", years_exhibited=30, booths_requested=4)
    a.payment_status, a.paid_at, a.priority_bonus = "paid", T0, 3
    b = approved("Newcomer", days=10, years_exhibited=1, booths_requested=1)
    rule = dict(rules.DEFAULT_RULE)
    pa, ba = rules.score(a, rule, first_submitted=T0, first_paid=T0)
    pb, bb = rules.score(b, rule, first_submitted=T0, first_paid=T0)
    assert ba["years"] == rule["years_cap"] * rule["years_points"]  # capped
    assert ba["booths"] == 4 * rule["booth_points"]
    assert ba["bonus"] == 3 * rule["bonus_weight"]
    assert ba["paid"] == rule["paid_points"] + rule["paid_early_points"]
    assert bb["submitted"] == rule["submitted_points"] - 10 * rule["submitted_decay_per_day"]
    assert bb["paid"] == 0
    assert pa == pytest.approx(sum(ba.values())) and pa > pb
    # ties: the earlier submission, then the lower id
    assert sorted([rules.order_key(5, T0 + timedelta(1), 1), rules.order_key(5, T0, 2)])[0][-1] == 2


# -- the solver ---------------------------------------------------------------------------------------------------

def test_same_input_same_proposal(venue):
    expo, hall, p1, p2 = venue
    for i, n in enumerate([3, 2, 4, 1, 2]):
        approved(f"Maker {i}", booths_requested=n, preferred_pavilion_id=(p1 if i % 2 else p2).id,
                 corner_preference=["none", "prefer", "require"][i % 3], years_exhibited=i % 2)
    first = proposals.propose(admin(), expo)
    second = proposals.propose(admin(), expo)
    assert first.result == second.result
    assert first.basis == second.basis
    assert first.result["summary"]["served"] == 5


def test_multi_booth_blocks_are_contiguous_and_exact(venue):
    expo, hall, p1, p2 = venue
    wanted = {approved(f"Multi {n}", booths_requested=n, preferred_pavilion_id=p1.id).id: n for n in (4, 3, 2)}
    proposal = proposals.propose(admin(), expo)
    near, _across = adjacency(hall)
    used = []
    for row in proposal.result["assignments"]:
        assert len(row["booth_ids"]) == wanted[row["application_id"]]  # never more, never fewer than requested
        assert geometry.contiguous(row["booth_ids"], near)
        used += row["booth_ids"]
    assert len(used) == len(set(used)) == sum(wanted.values())
    # straight runs along an aisle where the rows allow them: each block on one line, all fronting one aisle
    for row in proposal.result["assignments"]:
        booths = db.session.scalars(select(Booth).where(Booth.id.in_(row["booth_ids"]))).all()
        on_a_line = len({b.y_m for b in booths}) == 1 or len({b.x_m for b in booths}) == 1
        fronts = set("NESW").intersection(*(set(b.open_sides) for b in booths))
        assert row["straight"] and on_a_line and fronts


def test_large_request_gets_a_compact_block_not_more(venue):
    expo, hall, p1, p2 = venue
    app = approved("Big Brand", booths_requested=8, preferred_pavilion_id=p1.id)  # rows hold 5: two rows of 4
    proposal = proposals.propose(admin(), expo)
    booths = proposed(proposal, app)
    near, _ = adjacency(hall)
    assert len(booths) == 8 and geometry.contiguous([b.id for b in booths], near)
    assert all(b.pavilion_id == p1.id for b in booths)


def test_existing_booths_count_against_the_request(venue):
    expo, hall, p1, p2 = venue
    app = approved("Half Served", booths_requested=3, preferred_pavilion_id=p2.id)
    first = db.session.scalars(select(Booth).where(Booth.pavilion_id == p2.id).order_by(Booth.number)).first()
    allocation.assign(admin(), expo, app.exhibitor, [first])
    proposal = proposals.propose(admin(), expo)
    booths = proposed(proposal, app)
    near, _ = adjacency(hall)
    assert len(booths) == 2  # 3 requested, 1 held already
    assert geometry.contiguous([first.id] + [b.id for b in booths], near)  # next to the booth it has


def test_preferred_pavilion_first_then_theme(venue, ctx):
    expo, hall, p1, p2 = venue
    shoes = db.session.scalars(select(ProductCategory).where(ProductCategory.parent_id.is_(None))
                               .order_by(ProductCategory.id)).first()
    child = db.session.scalars(select(ProductCategory).where(ProductCategory.parent_id == shoes.id)).first()
    p2.categories = [shoes]
    wants_p2 = approved("Wants P2", booths_requested=2, preferred_pavilion_id=p2.id)
    themed = approved("Themed", booths_requested=2)
    themed.exhibitor.categories = [child]  # a sub-category of P2's theme
    plain = approved("No Preference", booths_requested=2)
    db.session.flush()
    proposal = proposals.propose(admin(), expo)
    assert {b.pavilion_id for b in proposed(proposal, wants_p2)} == {p2.id}
    assert {b.pavilion_id for b in proposed(proposal, themed)} == {p2.id}
    assert len(proposed(proposal, plain)) == 2  # no preference: wherever there is room
    tiers = {r["application_id"]: r["tier"] for r in proposal.result["assignments"]}
    assert tiers[wants_p2.id] == "pavilion" and tiers[themed.id] == "theme" and tiers[plain.id] == "anywhere"


def test_corner_requirement(venue):
    expo, hall, p1, p2 = venue
    needs = approved("Needs Corner", booths_requested=2, preferred_pavilion_id=p1.id, corner_preference="require")
    proposal = proposals.propose(admin(), expo)
    assert any(b.kind in PREMIUM_KINDS for b in proposed(proposal, needs))
    proposals.discard(admin(), proposal)
    # every corner booth of P1 blocked: no block can satisfy it, and the reason says so
    db.session.execute(update(Booth).where(Booth.pavilion_id == p1.id, Booth.kind.in_([str(k) for k in PREMIUM_KINDS]))
                       .values(status=BoothStatus.BLOCKED))
    area_less = approved("Needs Corner Too", booths_requested=1, preferred_pavilion_id=p1.id,
                         corner_preference="require")
    proposal = proposals.propose(admin(), expo)
    assert proposed(proposal, area_less) == []
    assert unmet_row(proposal, area_less)["reason"] == "no_corner"


@pytest.mark.parametrize("who_names", ["newcomer", "holder"])
def test_competitors_never_adjacent_or_facing(venue, who_names):
    expo, hall, p1, p2 = venue
    holder_comp = "  acme   SHOES ltd " if who_names == "holder" else ""
    holder = approved("Bolt Footwear", competitors=holder_comp, preferred_pavilion_id=p1.id)
    # the holder stands in the middle of the first row of P1
    row = db.session.scalars(select(Booth).where(Booth.pavilion_id == p1.id).order_by(Booth.y_m, Booth.x_m)).all()
    allocation.assign(admin(), expo, holder.exhibitor, [row[2]])
    newcomer = approved("Acme Shoes Ltd", booths_requested=2, preferred_pavilion_id=p1.id,
                        competitors="BOLT footwear" if who_names == "newcomer" else "")
    proposal = proposals.propose(admin(), expo)
    booths = proposed(proposal, newcomer)
    assert len(booths) == 2
    near, across = adjacency(hall)
    forbidden = near[row[2].id] | across[row[2].id]
    assert forbidden, "the geometry must give the holder neighbours for this test to mean something"
    assert not {b.id for b in booths} & forbidden
    # control: without the competitor declaration the same newcomer goes right next to the holder's row
    proposals.discard(admin(), proposal)
    holder.competitors, newcomer.competitors = "", ""
    proposal = proposals.propose(admin(), expo)
    assert {b.id for b in proposed(proposal, newcomer)} & forbidden


def test_higher_priority_gets_the_contested_block(venue):
    expo, hall, p1, p2 = venue
    # leave exactly one run of 4 free in P1
    p1_booths = db.session.scalars(select(Booth).where(Booth.pavilion_id == p1.id)
                                   .order_by(Booth.y_m, Booth.x_m)).all()
    keep = {b.id for b in p1_booths[:4]}
    lone = p1_booths[-1]  # one more free booth, far from the run: room, but no block of 4
    near, _ = adjacency(hall)
    assert not near[lone.id] & keep
    db.session.execute(update(Booth).where(Booth.pavilion_id == p1.id, Booth.id.not_in(keep | {lone.id}))
                       .values(status=BoothStatus.BLOCKED))
    db.session.execute(update(Booth).where(Booth.pavilion_id == p2.id).values(status=BoothStatus.BLOCKED))
    veteran = approved("Veteran", booths_requested=4, preferred_pavilion_id=p1.id, years_exhibited=8, days=5)
    early = approved("Early Bird", booths_requested=4, preferred_pavilion_id=p1.id, years_exhibited=0)
    proposal = proposals.propose(admin(), expo)
    winner, loser = ((veteran, early) if rules.score(veteran, expo.allocation_rule, first_submitted=T0)[0]
                     > rules.score(early, expo.allocation_rule, first_submitted=T0)[0] else (early, veteran))
    assert {b.id for b in proposed(proposal, winner)} == keep
    assert proposed(proposal, loser) == [] and unmet_row(proposal, loser)["reason"] == "no_block"
    # the organizer's bonus turns it round
    proposals.discard(admin(), proposal)
    loser.priority_bonus = 100
    proposal = proposals.propose(admin(), expo)
    assert {b.id for b in proposed(proposal, loser)} == keep and proposed(proposal, winner) == []


def test_raw_space(venue):
    expo, hall, p1, p2 = venue
    raw_hall = make_hall(expo, "R1", 40, 20)
    lots = lay_out(raw_hall, p1, Rect(3, 3, 30, 12), "R1-L", per_row=2, rows=2, raw=True, w=9, d=6)  # 54 m² lots
    one = approved("One Lot", space_kind="raw", raw_space_m2=40, booths_requested=0)
    two = approved("Two Lots", space_kind="raw", raw_space_m2=100, booths_requested=0, years_exhibited=1)
    proposal = proposals.propose(admin(), expo)
    near = geometry.neighbours({b.id: venue_services.booth_rect(b) for b in lots})
    got_one, got_two = proposed(proposal, one), proposed(proposal, two)
    assert len(got_one) == 1 and got_one[0].raw_space and got_one[0].area_m2 >= 40
    assert len(got_two) == 2 and sum(b.area_m2 for b in got_two) >= 100
    assert all(b.raw_space for b in got_two) and geometry.contiguous([b.id for b in got_two], near)
    assert not {b.id for b in got_one} & {b.id for b in got_two}
    # never more than it takes: dropping any lot leaves too little
    assert all(sum(b.area_m2 for b in got_two) - b.area_m2 < 100 for b in got_two)


def test_solver_alone_is_pure_and_deterministic():
    booths = [auto.BoothIn(i, f"X-{i:02d}", 1, 7, Rect(3 * i, 0, 3, 3)) for i in range(6)]
    requests = [auto.RequestIn(10 + i, 100 + i, points=0, booths=2, preferred_pavilion_id=7) for i in range(4)]
    problem = auto.Problem(booths, list(reversed(requests)), [auto.PavilionIn(7)])
    a, b = auto.solve(problem), auto.solve(auto.Problem(booths[::-1], requests, [auto.PavilionIn(7)]))
    assert a == b
    assert [x.application_id for x in a.assignments] == [10, 11, 12]  # equal points: lower id first
    assert [u.reason for u in a.unmet] == ["no_free_booths"]


# -- apply, discard, stale ----------------------------------------------------------------------------------------

def test_apply_assigns_and_waitlists(venue):
    expo, hall, p1, p2 = venue
    served = approved("Served", booths_requested=2, preferred_pavilion_id=p2.id)
    db.session.execute(update(Booth).where(Booth.pavilion_id == p1.id, Booth.kind.in_([str(k) for k in PREMIUM_KINDS]))
                       .values(status=BoothStatus.BLOCKED))
    hopeless = approved("Hopeless", booths_requested=1, preferred_pavilion_id=p1.id, corner_preference="require")
    hopeless.preferred_area_id = None
    db.session.commit()
    proposal = proposals.propose(admin(), expo)
    numbers = next(r["booths"] for r in proposal.result["assignments"] if r["application_id"] == served.id)
    mails_before = db.session.scalar(select(func.count()).select_from(OutboxMail)
                                     .where(OutboxMail.exhibitor_id == hopeless.exhibitor_id))
    proposals.apply(admin(), proposal)
    db.session.commit()
    assert sorted(db.session.scalars(select(Booth.number).where(Booth.exhibitor_id == served.exhibitor_id,
                                                                Booth.status == "assigned"))) == numbers
    assert proposal.status == "applied"
    assert db.session.get(SpaceApplication, hopeless.id).status == "waitlisted"
    mails = db.session.scalars(select(OutboxMail).where(OutboxMail.exhibitor_id == hopeless.exhibitor_id)
                               .order_by(OutboxMail.id)).all()
    assert len(mails) == mails_before + 1 and "corner" in mails[-1].body
    with pytest.raises(proposals.ProposalError) as exc:  # twice: refused
        proposals.apply(admin(), proposal)
    assert exc.value.status == 409


def test_stale_proposal_is_refused(venue, client, auth):
    expo, hall, p1, p2 = venue
    app = approved("Stale", booths_requested=1, preferred_pavilion_id=p1.id)
    other = approved("Walk In", booths_requested=1, preferred_pavilion_id=p2.id)
    proposal = proposals.propose(admin(), expo)
    booth = db.session.scalars(select(Booth).where(Booth.pavilion_id == p2.id, Booth.status == "available")
                               .order_by(Booth.number.desc())).first()
    allocation.assign(admin(), expo, other.exhibitor, [booth])  # a manual change after the proposal
    db.session.commit()
    pid = proposal.id
    auth.login()
    response = client.post(f"/organizer/allocation/proposals/{pid}/apply")
    assert response.status_code == 409
    assert "Booths have changed since this proposal was computed" in response.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(AllocationProposal, pid).status == "open"
    assert db.session.scalar(select(func.count()).select_from(Booth).where(Booth.exhibitor_id == app.exhibitor_id)) == 0


def test_apply_is_all_or_nothing(venue, monkeypatch):
    expo, hall, p1, p2 = venue
    apps = [approved(f"Batch {i}", booths_requested=2, preferred_pavilion_id=p1.id) for i in range(3)]
    doomed = approved("Doomed", booths_requested=1, preferred_pavilion_id=p1.id, corner_preference="require")
    db.session.execute(update(Booth).where(Booth.pavilion_id == p1.id, Booth.kind.in_([str(k) for k in PREMIUM_KINDS]))
                       .values(status=BoothStatus.BLOCKED))
    intruder, _account = make_exhibitor()  # registered, not approved: not part of the proposal
    db.session.commit()
    proposal = proposals.propose(admin(), expo)
    db.session.commit()
    rows = proposal.result["assignments"]
    assert len(rows) >= 3 and unmet_row(proposal, doomed)
    last_booth = max(rows, key=lambda r: r["application_id"])["booth_ids"][-1]
    intruder_id = intruder.id

    def someone_takes_a_booth():
        # another request, on its own connection, takes a proposed booth after the staleness check
        with db.engine.begin() as conn:
            conn.execute(update(Booth).where(Booth.id == last_booth)
                         .values(status="assigned", exhibitor_id=intruder_id))

    monkeypatch.setattr(proposals, "_after_basis_check", someone_takes_a_booth)
    with pytest.raises(allocation.BoothTaken):
        proposals.apply(admin(), proposal)
    db.session.rollback()
    for app in apps:
        assert db.session.scalar(select(func.count()).select_from(Booth)
                                 .where(Booth.exhibitor_id == app.exhibitor_id)) == 0
    assert db.session.get(SpaceApplication, doomed.id).status == "approved"
    assert db.session.get(AllocationProposal, proposal.id).status == "open"


# -- pages and the command ----------------------------------------------------------------------------------------

def test_pages_refuse_non_organizers(venue, client, auth):
    expo, *_ = venue
    proposal = proposals.propose(admin(), expo)
    db.session.commit()
    urls = ["/organizer/allocation/proposals", f"/organizer/allocation/proposals/{proposal.id}",
            f"/organizer/allocation/proposals/{proposal.id}/export.csv"]
    for url in urls:
        assert client.get(url).status_code == 302  # anonymous: to the sign-in page
    auth.login("exhibitor@expo.test")
    for url in urls:
        assert client.get(url).status_code == 403
    for url in ["/organizer/allocation/proposals", f"/organizer/allocation/proposals/{proposal.id}/apply",
                f"/organizer/allocation/proposals/{proposal.id}/discard", "/organizer/allocation/rule"]:
        assert client.post(url).status_code == 403
    db.session.expire_all()
    assert db.session.get(AllocationProposal, proposal.id).status == "open"


def test_forms_need_csrf(venue, client, auth, csrf_enabled):
    expo, hall, p1, p2 = venue
    approved("Needs A Booth", preferred_pavilion_id=p1.id)
    proposal = proposals.propose(admin(), expo)
    db.session.commit()
    auth_page = client.get("/login").get_data(as_text=True)
    token = auth_page.split('name="csrf_token" type="hidden" value="')[1].split('"')[0]
    client.post("/login", data={"email": "admin@expo.test", "password": "expo-demo-2026", "csrf_token": token})
    count = db.session.scalar(select(func.count()).select_from(AllocationProposal))
    assert client.post("/organizer/allocation/proposals").status_code == 400
    assert client.post(f"/organizer/allocation/proposals/{proposal.id}/apply").status_code == 400
    assert client.post(f"/organizer/allocation/proposals/{proposal.id}/discard").status_code == 400
    assert client.post("/organizer/allocation/rule", data={k: 1 for k in rules.DEFAULT_RULE}).status_code == 400
    db.session.expire_all()
    assert db.session.scalar(select(func.count()).select_from(AllocationProposal)) == count
    assert db.session.get(AllocationProposal, proposal.id).status == "open"
    assert current_expo().allocation_rule in ({}, None)
    # with the token, it works
    page = client.get("/organizer/allocation/proposals").get_data(as_text=True)
    token = page.split('name="csrf_token" type="hidden" value="')[1].split('"')[0]
    response = client.post("/organizer/allocation/proposals", data={"csrf_token": token})
    assert response.status_code == 302


def test_bad_rule_gives_400_with_messages(venue, client, auth):
    auth.login()
    good = {k: v for k, v in rules.DEFAULT_RULE.items()}
    for field, value in [("years_points", "many"), ("years_cap", "-1"), ("bonus_weight", "nan"),
                         ("booth_points", "1e400"), ("years_cap", "9" * 40), ("paid_points", "")]:
        response = client.post("/organizer/allocation/rule", data={**good, field: value})
        assert response.status_code == 400, (field, value)
        assert 'class="error"' in response.get_data(as_text=True)
    db.session.expire_all()
    assert not current_expo().allocation_rule
    response = client.post("/organizer/allocation/rule", data={**good, "years_points": "7.5", "years_cap": "3"})
    assert response.status_code == 302
    db.session.expire_all()
    assert rules.effective(current_expo().allocation_rule)["years_points"] == 7.5
    assert current_expo().allocation_rule["years_cap"] == 3


def test_review_page_apply_discard_and_export(venue, client, auth):
    expo, hall, p1, p2 = venue
    apps = [approved(f"Page Maker {i}", booths_requested=2, preferred_pavilion_id=p1.id, years_exhibited=i)
            for i in range(3)]
    db.session.commit()
    auth.login()
    assert "Automatic allocation" in client.get("/organizer/allocation/proposals").get_data(as_text=True)
    response = client.post("/organizer/allocation/proposals")
    assert response.status_code == 302
    pid = int(response.headers["Location"].rstrip("/").split("/")[-1])
    page = client.get(f"/organizer/allocation/proposals/{pid}").get_data(as_text=True)
    proposal = db.session.get(AllocationProposal, pid)
    for row in proposal.result["assignments"]:
        assert all(number in page for number in row["booths"])
    assert "Years exhibited" in page
    csv_text = client.get(f"/organizer/allocation/proposals/{pid}/export.csv").get_data().decode("utf-8-sig")
    assert all(f"Page Maker {i}" in csv_text for i in range(3))
    xlsx = client.get(f"/organizer/allocation/proposals/{pid}/export.xlsx").get_data()
    sheet = load_workbook(io.BytesIO(xlsx)).active
    cells = [c for row in sheet.iter_rows(values_only=True) for c in row]
    assert all(" ".join(r["booths"]) in cells for r in proposal.result["assignments"])
    assert client.get(f"/organizer/allocation/proposals/{pid}/export.pdf").status_code == 404
    assert client.post(f"/organizer/allocation/proposals/{pid}/apply").status_code == 302
    db.session.expire_all()
    for app in apps:
        assert db.session.scalar(select(func.count()).select_from(Booth)
                                 .where(Booth.exhibitor_id == app.exhibitor_id, Booth.status == "assigned")) == 2
    assert client.post(f"/organizer/allocation/proposals/{pid}/discard").status_code == 409  # applied already
    second = client.post("/organizer/allocation/proposals").headers["Location"].rstrip("/").split("/")[-1]
    assert client.post(f"/organizer/allocation/proposals/{second}/discard").status_code == 302
    db.session.expire_all()
    assert db.session.get(AllocationProposal, int(second)).status == "discarded"
    assert client.get("/organizer/allocation/proposals/99999").status_code == 404


def test_cli_allocate(venue, runner):
    expo, hall, p1, p2 = venue
    app = approved("Cli Maker", booths_requested=3, preferred_pavilion_id=p2.id)
    db.session.commit()
    result = runner.invoke(args=["allocate"])
    assert result.exit_code == 0, result.output
    assert "1 of 1 exhibitors served" in result.output
    assert db.session.scalar(select(func.count()).select_from(Booth).where(Booth.exhibitor_id == app.exhibitor_id)) == 0
    result = runner.invoke(args=["allocate", "--apply"])
    assert result.exit_code == 0, result.output
    db.session.expire_all()
    assert db.session.scalar(select(func.count()).select_from(Booth).where(Booth.exhibitor_id == app.exhibitor_id)) == 3
    assert runner.invoke(args=["allocate", "--as", "exhibitor@expo.test"]).exit_code != 0


def test_exhibitor_model_names_used(venue):
    # guards the competitor rule's inputs: an exhibitor with only a Chinese name still takes part
    expo, hall, p1, p2 = venue
    zh_only = approved("ignored")
    zh_only.exhibitor.name_en, zh_only.exhibitor.name_zh = None, "晋江对手鞋业"
    holder = approved("Holder Co", competitors="晋江对手鞋业", preferred_pavilion_id=p1.id)
    zh_only.preferred_pavilion_id = p1.id
    db.session.flush()
    proposal = proposals.propose(admin(), expo)
    a, b = proposed(proposal, holder), proposed(proposal, zh_only)
    near, across = adjacency(hall)
    assert a and b
    assert not {x.id for x in b} & set().union(*(near[x.id] | across[x.id] for x in a))
    assert isinstance(db.session.get(Exhibitor, zh_only.exhibitor_id), Exhibitor)


# -- the solver's cached search against the plain one --------------------------------------------------------------

def _random_problem(seed: int) -> auto.Problem:
    """Two halls of double-row blocks in bands, some bands shared by two pavilions that touch mid-block (so a block
    may run across both), raw lots, booths held, sold and blocked, and approved requests of every kind."""
    import random

    from expo.venue import layout

    rng = random.Random(seed)
    pavilions = [auto.PavilionIn(p, area_id=1 + p % 2, category_ids=frozenset({p % 3})) for p in range(1, 7)]
    booths, next_id = [], 1
    exhibitors = list(range(100, 200))
    for hall in (1, 2):
        rects: list[tuple[Rect, int | None, bool]] = []
        for band in range(3):
            region = Rect(3, 3 + band * 10, 57, 6)
            spec = layout.BlockLayout(region, prefix="", booths_per_row=rng.choice([4, 5, 8, 10]))
            first, second = rng.sample(range(1, 7), 2)
            cut = rng.choice([None, 15.0, 30.0])  # where the band changes pavilion: None = one pavilion
            for s in layout.generate(spec):
                pavilion = first if cut is None or s.rect.x < cut else second
                rects.append((s.rect, pavilion if rng.random() > 0.03 else None, False))
        if hall == 2:
            for s in layout.generate(layout.BlockLayout(Rect(3, 33, 57, 12), prefix="", booth_width_m=9,
                                                        booth_depth_m=6, booths_per_row=2, cross_aisle_m=4)):
                rects.append((s.rect, rng.choice([1, 2]), True))
        keyed = {next_id + i: r for i, (r, _p, _raw) in enumerate(rects)}
        sides = geometry.open_sides(keyed, 63, 48)
        for i, (rect, pavilion, raw) in enumerate(rects):
            key = next_id + i
            state = rng.random()
            holder = rng.choice(exhibitors) if state < 0.06 else None
            booths.append(auto.BoothIn(key, f"{hall}-{key:04d}", hall, pavilion, rect, raw,
                                       str(geometry.kind_for(sides[key], raw)), sides[key], holder,
                                       free=holder is None and state > 0.09))
        next_id += len(rects)
    names = {e: (f"Maker {e}", f"制造{e}") for e in exhibitors}
    people = [auto.ExhibitorIn(e, names[e], tuple(rng.choice(names[o]).upper()
                                                   for o in rng.sample(exhibitors, rng.choice([0, 0, 0, 1, 2]))))
              for e in exhibitors]
    requests = []
    for i, e in enumerate(rng.sample(exhibitors, 80)):
        raw = rng.random() < 0.08
        requests.append(auto.RequestIn(
            1000 + i, e, points=float(rng.randint(0, 6)), booths=0 if raw else rng.choice([1, 1, 2, 2, 3, 4, 6, 8, 12]),
            raw=raw, raw_m2=rng.choice([30.0, 54.0, 100.0, 150.0]) if raw else 0.0,
            preferred_pavilion_id=rng.choice([None, *range(1, 7)]), preferred_area_id=rng.choice([None, 1, 2]),
            corner=rng.choice(["none", "none", "prefer", "require"]),
            category_ids=frozenset(rng.sample(range(4), rng.randint(0, 2))),
            submitted_at=T0 + timedelta(hours=rng.randint(0, 5))))
    return auto.Problem(booths, requests, pavilions, people)


@settings(max_examples=25, deadline=None)
@given(st.integers(0, 2**32))
def test_cached_search_gives_the_plain_searchs_solution(seed):
    """The solver keeps each pavilion's candidate blocks and patches them as booths are taken; computing every
    tier's candidates afresh instead (the plain form of the rules) must give exactly the same proposal."""
    problem = _random_problem(seed)
    cached, plain = auto.solve(problem), auto.solve(problem, cached=False)
    assert cached == plain
    assert cached.assignments, "the random venue should serve someone"
    taken = [b for a in cached.assignments for b in a.booth_ids]
    assert len(taken) == len(set(taken))


def test_cached_search_is_exercised_by_the_random_venues():
    """Control for the test above: its venues do have pavilions that touch (searched afresh every time), pavilions
    that do not (cached), and requests that outnumber the booths (so the caches get patched)."""
    search = auto._Search(_random_problem(7))
    keys = {(b.pavilion_id, b.raw) for b in search.venue.booths.values()}
    assert search.groups and set(search.groups) != keys
    problem = _random_problem(7)
    asked = sum(r.booths for r in problem.requests)
    assert asked > sum(1 for b in problem.booths if b.free and b.holder is None and not b.raw)


def test_block_runs_across_two_touching_pavilions_only_when_both_are_allowed():
    booths = [auto.BoothIn(i, f"X-{i:02d}", 1, 7 if i < 2 else 8, Rect(3 * i, 0, 3, 3), open_sides="N")
              for i in range(4)]
    pavilions = [auto.PavilionIn(7), auto.PavilionIn(8)]
    anywhere = auto.solve(auto.Problem(booths, [auto.RequestIn(1, 100, booths=4)], pavilions))
    assert [a.booth_ids for a in anywhere.assignments] == [(0, 1, 2, 3)]
    assert anywhere.assignments[0].tier == "anywhere" and anywhere.assignments[0].straight
    in_seven = auto.solve(auto.Problem(booths, [auto.RequestIn(1, 100, booths=4, preferred_pavilion_id=7)],
                                       pavilions))
    assert not in_seven.assignments and [u.reason for u in in_seven.unmet] == ["no_block"]
    assert auto.solve(auto.Problem(booths, [auto.RequestIn(1, 100, booths=4)], pavilions), cached=False) == anywhere
