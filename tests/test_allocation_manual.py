"""Manual booth allocation: the services' rules (assign, hold and its expiry, vacate, move, swap, merge of adjacent
booths only, block), self-selection's limits, the fee statement's figures, and the pages around them (who may open
them, CSRF, what one exhibitor can see of another's booths, the audit log)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from expo.allocation import services
from expo.audit import AuditEntry
from expo.db import utcnow
from expo.exhibitors.models import ApplicationStatus, SpaceApplication
from expo.exhibitors.services import application_of, current_expo
from expo.extensions import db
from expo.venue import geometry
from expo.venue.models import Booth, BoothStatus, Stand
from expo.venue.services import booth_rect
from tests.conftest import csrf_token
from tests.factories import PASSWORD, make_exhibitor, user

ADMIN = "admin@expo.test"


def approved(email: str | None = None, booths: int = 2, pavilion_id: int | None = None):
    """A new exhibitor with an approved application (booths requested, preferred pavilion)."""
    ex, account = make_exhibitor(email=email, application={"booths_requested": booths,
                                                           "preferred_pavilion_id": pavilion_id})
    application_of(ex).status = ApplicationStatus.APPROVED
    db.session.flush()
    return ex, account


def free_booths(pavilion_id: int | None = None, kind: str | None = None) -> list[Booth]:
    stmt = select(Booth).where(Booth.status == BoothStatus.AVAILABLE, Booth.raw_space.is_(False))
    if pavilion_id:
        stmt = stmt.where(Booth.pavilion_id == pavilion_id)
    if kind:
        stmt = stmt.where(Booth.kind == kind)
    return list(db.session.scalars(stmt.order_by(Booth.id)))


def adjacent_pair() -> tuple[Booth, Booth]:
    booths = free_booths()
    adjacency = geometry.neighbours({b.id: booth_rect(b) for b in booths if b.hall_id == booths[0].hall_id})
    by_id = {b.id: b for b in booths}
    for key, others in adjacency.items():
        if others:
            return by_id[key], by_id[min(others)]
    raise AssertionError("no adjacent free booths in the demo")


def apart_pair() -> tuple[Booth, Booth]:
    booths = [b for b in free_booths() if b.hall_id == free_booths()[0].hall_id]
    adjacency = geometry.neighbours({b.id: booth_rect(b) for b in booths})
    first = booths[0]
    other = next(b for b in booths[1:] if b.id not in adjacency[first.id])
    return first, other


def audit_actions(object_id: int | None = None) -> list[str]:
    stmt = select(AuditEntry.action).order_by(AuditEntry.id)
    if object_id is not None:
        stmt = stmt.where(AuditEntry.object_id == object_id)
    return list(db.session.scalars(stmt))


@pytest.fixture
def admin(ctx):
    return user(ADMIN)


# --- services ---------------------------------------------------------------------------------------------------

def test_assign_and_vacate_write_holder_and_audit(admin):
    expo = current_expo()
    ex, _ = approved()
    booth = free_booths()[0]
    services.assign(admin, expo, ex, [booth])
    assert (booth.status, booth.exhibitor_id) == ("assigned", ex.id)
    services.vacate(admin, expo, [booth])
    assert (booth.status, booth.exhibitor_id) == ("available", None)
    assert audit_actions(booth.id)[-2:] == ["booth_assigned", "booth_vacated"]
    with pytest.raises(services.AllocationError):
        services.vacate(admin, expo, [booth])  # free already


def test_not_approved_exhibitor_gets_no_booth(admin):
    ex, _ = make_exhibitor(submit=True)
    booth = free_booths()[0]
    for action in (services.assign, services.hold):
        with pytest.raises(services.AllocationError) as err:
            action(admin, current_expo(), ex, [booth])
        assert err.value.code == "not_approved"
    db.session.refresh(booth)
    assert booth.exhibitor_id is None


def test_assignment_is_all_or_nothing(admin, app):
    expo = current_expo()
    a, _ = approved()
    b, _ = approved()
    first, second = free_booths()[:2]
    services.assign(admin, expo, a, [second])
    db.session.commit()
    with pytest.raises(services.BoothTaken):
        services.assign(admin, expo, b, [first, second])
    db.session.rollback()
    assert db.session.get(Booth, first.id).exhibitor_id is None
    assert db.session.get(Booth, second.id).exhibitor_id == a.id


def test_hold_refuses_others_until_it_expires(admin):
    expo = current_expo()
    a, _ = approved()
    b, _ = approved()
    booth = free_booths()[0]
    services.hold(admin, expo, a, [booth], minutes=15)
    assert booth.status == "held" and booth.hold_expires_at > utcnow() + timedelta(minutes=14)
    with pytest.raises(services.BoothTaken):
        services.assign(admin, expo, b, [booth])
    services.assign(admin, expo, a, [booth])  # the holder itself may take it
    assert booth.status == "assigned"
    services.vacate(admin, expo, [booth])
    services.hold(admin, expo, a, [booth], minutes=15)
    booth.hold_expires_at = utcnow() - timedelta(seconds=1)  # time is up
    db.session.flush()
    services.assign(admin, expo, b, [booth])
    assert booth.exhibitor_id == b.id


def test_release_expired_holds_frees_only_expired(admin):
    expo = current_expo()
    a, _ = approved()
    old, running = free_booths()[:2]
    services.hold(admin, expo, a, [old, running], minutes=30)
    old.hold_expires_at = utcnow() - timedelta(minutes=1)
    db.session.flush()
    assert services.release_expired_holds(expo) == 1
    db.session.refresh(old)
    db.session.refresh(running)
    assert (old.status, old.exhibitor_id) == ("available", None)
    assert (running.status, running.exhibitor_id) == ("held", a.id)


def test_move_and_swap(admin):
    expo = current_expo()
    a, _ = approved()
    b, _ = approved()
    one, two, three = free_booths()[:3]
    services.assign(admin, expo, a, [one])
    services.assign(admin, expo, b, [two])
    services.move(admin, expo, one, three)
    assert (one.status, three.exhibitor_id) == ("available", a.id)
    with pytest.raises(services.BoothTaken), db.session.begin_nested():  # the view would roll back
        services.move(admin, expo, three, two)  # target is taken
    db.session.refresh(three)
    assert three.exhibitor_id == a.id
    services.swap(admin, expo, three, two)
    assert (three.exhibitor_id, two.exhibitor_id) == (b.id, a.id)
    with pytest.raises(services.AllocationError):
        services.swap(admin, expo, three, one)  # one is free
    assert "booth_moved" in audit_actions() and audit_actions().count("booths_swapped") == 2


def test_merge_adjacent_only(admin):
    expo = current_expo()
    ex, _ = approved(booths=4)
    first, second = adjacent_pair()
    services.assign(admin, expo, ex, [first, second])
    stand = services.merge(admin, expo, [first, second])
    assert first.stand_id == second.stand_id == stand.id
    far_a, far_b = apart_pair()
    services.assign(admin, expo, ex, [far_a, far_b])
    with pytest.raises(services.AllocationError) as err:
        services.merge(admin, expo, [far_a, far_b])
    assert err.value.code == "not_adjacent"
    assert "stand_merged" in audit_actions(stand.id)


def test_assign_numbers_merges_touching_booths(admin):
    expo = current_expo()
    ex, _ = approved(booths=4)
    first, second = adjacent_pair()
    hall_booths = [b for b in free_booths() if b.hall_id == first.hall_id]
    adjacency = geometry.neighbours({b.id: booth_rect(b) for b in hall_booths})
    lone = next(b for b in hall_booths if b.id not in adjacency[first.id] | adjacency[second.id] | {first.id, second.id})
    booths, stands = services.assign_numbers(admin, expo, ex, f"{first.number.lower()}, {second.number}; {lone.number}")
    assert {b.number for b in booths} == {first.number, second.number, lone.number}
    assert [sorted(b.number for b in s.booths) for s in stands] == [sorted([first.number, second.number])]
    assert lone.stand_id is None
    with pytest.raises(services.AllocationError) as err:
        services.assign_numbers(admin, expo, ex, "Z9-999")
    assert err.value.status == 404


def test_block_and_unblock(admin):
    expo = current_expo()
    ex, _ = approved()
    booth, taken = free_booths()[:2]
    services.block(admin, expo, booth)
    assert booth.status == "blocked"
    with pytest.raises(services.AllocationError) as err:
        services.assign(admin, expo, ex, [booth])
    assert err.value.code == "blocked"
    services.assign(admin, expo, ex, [taken])
    with pytest.raises(services.AllocationError):
        services.block(admin, expo, taken)  # an exhibitor has it
    services.unblock(admin, expo, booth)
    assert booth.status == "available"
    assert audit_actions(booth.id)[-2:] == ["booth_blocked", "booth_unblocked"]


def test_fee_statement_adds_corner_premium(admin):
    expo = current_expo()
    expo.corner_premium_percent = 15
    ex, _ = approved(booths=2)
    corner = free_booths(kind="corner")[0]
    plain = free_booths(kind="standard")[0]
    corner.price_cny, plain.price_cny = 12000, 10000
    services.assign(admin, expo, ex, [corner, plain])
    statement = services.fee_statement(expo, ex)
    by_booth = {line.booth: line for line in statement.lines}
    assert by_booth[corner.number].premium_cny == 1800 and by_booth[plain.number].premium_cny == 0
    assert statement.total_cny == 12000 + 1800 + 10000
    services.set_payment_status(admin, application_of(ex), "paid", 7)
    assert application_of(ex).paid_at is not None and application_of(ex).priority_bonus == 7
    assert services.fee_statement(expo, ex).payment_status == "paid"
    assert "payment_status_set" in audit_actions()


# --- self-selection -----------------------------------------------------------------------------------------------

def test_self_selection_limits_and_own_pavilion(admin):
    expo = current_expo()
    pav = free_booths()[0].pavilion_id
    ex, account = approved(booths=2, pavilion_id=pav)
    mine = free_booths(pavilion_id=pav)
    other = next(b for b in free_booths() if b.pavilion_id != pav)
    with pytest.raises(services.AllocationError) as err:
        services.select_booth(account, expo, ex, mine[0])
    assert err.value.code == "selection_closed"
    expo.self_selection_open = True
    assert {b.pavilion_id for b in services.selectable_booths(expo, ex)} == {pav}
    with pytest.raises(services.AllocationError) as err:
        services.select_booth(account, expo, ex, other)
    assert err.value.code == "other_pavilion"
    services.select_booth(account, expo, ex, mine[0])
    services.select_booth(account, expo, ex, mine[1])
    assert mine[0].status == "held" and mine[0].hold_expires_at is not None
    with pytest.raises(services.AllocationError) as err:
        services.select_booth(account, expo, ex, mine[2])  # applied for two
    assert err.value.code == "limit"
    services.release_selection(account, expo, ex, mine[1])
    services.select_booth(account, expo, ex, mine[2])
    mine[2].hold_expires_at = utcnow() - timedelta(seconds=1)  # this hold ran out before the confirmation
    db.session.flush()
    confirmed = services.confirm_selection(account, expo, ex)
    assert [b.number for b in confirmed] == [mine[0].number]
    assert mine[0].status == "assigned" and mine[2].status == "held"


# --- pages ----------------------------------------------------------------------------------------------------------

def _setup_two(app):
    """Two approved exhibitors A and B with one booth each; returns their ids, emails and booth ids."""
    with app.app_context():
        admin = user(ADMIN)
        a, _ = approved(email="a@example.com")
        b, _ = approved(email="b@example.com")
        booth_a, booth_b = free_booths(kind="corner")[:2]
        services.assign(admin, current_expo(), a, [booth_a])
        services.assign(admin, current_expo(), b, [booth_b])
        db.session.commit()
        return dict(a=a.id, b=b.id, booth_a=(booth_a.id, booth_a.number), booth_b=(booth_b.id, booth_b.number))


def test_organizer_booth_page_actions(app, client, auth):
    ids = _setup_two(app)
    with app.app_context():
        free = free_booths()[0]
        free_id, free_no = free.id, free.number
    auth.login(ADMIN)
    r = client.get(f"/organizer/booths?number={free_no.lower()}")
    assert r.status_code == 302 and r.headers["Location"].endswith(f"/organizer/booths/{free_id}")
    assert client.get("/organizer/booths?number=NOPE").status_code == 404
    page = client.get(f"/organizer/booths/{free_id}")
    assert page.status_code == 200 and free_no in page.get_data(as_text=True)
    r = client.get(f"/organizer/booths/{free_id}?q=example")
    assert r.status_code == 200
    r = client.post(f"/organizer/booths/{free_id}", data={"action": "hold", "exhibitor_id": ids["a"], "minutes": 20})
    assert r.status_code == 302
    assert "minutes left" in client.get(f"/organizer/booths/{free_id}").get_data(as_text=True)
    r = client.post(f"/organizer/booths/{free_id}", data={"action": "assign", "exhibitor_id": ids["b"]})
    assert r.status_code == 409 and "just been taken" in r.get_data(as_text=True)
    r = client.post(f"/organizer/booths/{free_id}", data={"action": "vacate"})
    assert r.status_code == 302
    r = client.post(f"/organizer/booths/{free_id}", data={"action": "assign"})  # no exhibitor chosen
    assert r.status_code == 400 and "Choose the exhibitor" in r.get_data(as_text=True)
    r = client.post(f"/organizer/booths/{free_id}", data={"action": "assign", "exhibitor_id": 999999})
    assert r.status_code == 404
    r = client.post(f"/organizer/booths/{ids['booth_a'][0]}", data={"action": "move", "target": free_no})
    assert r.status_code == 302 and r.headers["Location"].endswith(f"/organizer/booths/{free_id}")
    r = client.post(f"/organizer/booths/{free_id}", data={"action": "swap", "target": ids["booth_b"][1]})
    assert r.status_code == 302
    r = client.post(f"/organizer/booths/{ids['booth_a'][0]}", data={"action": "block"})
    assert r.status_code == 302
    with app.app_context():
        assert db.session.get(Booth, free_id).exhibitor_id == ids["b"]
        assert db.session.get(Booth, ids["booth_b"][0]).exhibitor_id == ids["a"]
        assert db.session.get(Booth, ids["booth_a"][0]).status == "blocked"
    r = client.post(f"/organizer/booths/{ids['booth_a'][0]}", data={"action": "nonsense"})
    assert r.status_code == 400


def test_assign_by_number_page(app, client, auth):
    ids = _setup_two(app)
    with app.app_context():
        one, two = adjacent_pair()
        numbers = (one.number, two.number)
    auth.login(ADMIN)
    assert client.get(f"/organizer/allocation/assign?exhibitor_id={ids['a']}").status_code == 200
    r = client.post("/organizer/allocation/assign", data={"exhibitor_id": ids["a"],
                                                          "booths": f"{numbers[0]}, {ids['booth_b'][1]}"})
    assert r.status_code == 409
    with app.app_context():  # nothing half-written
        assert db.session.scalar(select(Booth).where(Booth.number == numbers[0])).exhibitor_id is None
    r = client.post("/organizer/allocation/assign", data={"exhibitor_id": ids["a"], "booths": ", ".join(numbers)})
    assert r.status_code == 302
    with app.app_context():
        booths = list(db.session.scalars(select(Booth).where(Booth.number.in_(numbers))))
        assert {b.exhibitor_id for b in booths} == {ids["a"]} and len({b.stand_id for b in booths}) == 1
        assert booths[0].stand_id is not None and db.session.scalar(select(func.count(Stand.id))) == 1


def test_settings_and_payment_forms(app, client, auth):
    ids = _setup_two(app)
    auth.login(ADMIN)
    assert client.get("/organizer/allocation/settings").status_code == 200
    r = client.post("/organizer/allocation/settings", data={"hold_minutes": 0, "corner_premium_percent": 10})
    assert r.status_code == 400
    r = client.post("/organizer/allocation/settings", data={"hold_minutes": 45, "corner_premium_percent": 20,
                                                            "self_selection_open": "y"})
    assert r.status_code == 302
    r = client.post(f"/organizer/exhibitors/{ids['a']}/payment", data={"payment_status": "bogus"})
    assert r.status_code == 400
    r = client.post(f"/organizer/exhibitors/{ids['a']}/payment", data={"payment_status": "paid",
                                                                        "priority_bonus": 5})
    assert r.status_code == 302
    with app.app_context():
        expo = current_expo()
        assert (expo.hold_minutes, expo.corner_premium_percent, expo.self_selection_open) == (45, 20, True)
        application = db.session.scalar(select(SpaceApplication).where(SpaceApplication.exhibitor_id == ids["a"]))
        assert application.payment_status == "paid" and application.paid_at and application.priority_bonus == 5
        actions = set(db.session.scalars(select(AuditEntry.action)))
        assert {"allocation_settings_changed", "payment_status_set"} <= actions
    detail = client.get(f"/organizer/exhibitors/{ids['a']}").get_data(as_text=True)
    assert ids["booth_a"][1] in detail and "payment-form" in detail and "Booth assigned" in detail


def test_dashboard_shows_own_booths_and_fees_only(app, client, auth):
    ids = _setup_two(app)
    with app.app_context():
        price = db.session.get(Booth, ids["booth_a"][0]).price_cny
        premium = price * current_expo().corner_premium_percent // 100
    client.post("/login", data={"email": "a@example.com", "password": PASSWORD})
    page = client.get("/exhibitor/").get_data(as_text=True)
    # The panel of its own booths (the plan excerpt beside it shows the public plan around them, neighbours too).
    panel = page[page.index('id="my-booths"'):]
    panel = panel[:panel.index('id="plan-excerpt"')] if 'id="plan-excerpt"' in panel else panel
    assert ids["booth_a"][1] in panel and ids["booth_b"][1] not in panel
    assert f"¥{price + premium:,}" in page and f"¥{premium:,}" in page
    # A cannot reach B's booth, fees or the organizer's pages
    assert client.get(f"/organizer/exhibitors/{ids['b']}").status_code == 403
    assert client.get(f"/organizer/booths/{ids['booth_b'][0]}").status_code == 403
    assert client.post(f"/organizer/booths/{ids['booth_b'][0]}", data={"action": "vacate"}).status_code == 403
    assert client.post(f"/organizer/exhibitors/{ids['b']}/payment",
                       data={"payment_status": "paid"}).status_code == 403
    with app.app_context():
        pav = db.session.get(Booth, ids["booth_b"][0]).pavilion_id
        db.session.scalar(select(SpaceApplication).where(SpaceApplication.exhibitor_id == ids["a"])) \
            .preferred_pavilion_id = pav
        current_expo().self_selection_open = True
        db.session.commit()
    r = client.post("/exhibitor/booths/release", data={"booth_id": ids["booth_b"][0]})
    assert r.status_code == 409
    with app.app_context():
        assert db.session.get(Booth, ids["booth_b"][0]).exhibitor_id == ids["b"]


def test_anonymous_and_exhibitors_are_refused_organizer_pages(app, client, auth):
    ids = _setup_two(app)
    urls = [f"/organizer/booths/{ids['booth_a'][0]}", "/organizer/allocation/assign", "/organizer/allocation/settings"]
    for url in urls:
        r = client.get(url)
        assert r.status_code == 302 and "/login" in r.headers["Location"]
    r = client.post(f"/organizer/exhibitors/{ids['a']}/payment", data={"payment_status": "paid"})
    assert r.status_code == 302 and "/login" in r.headers["Location"]
    assert client.get("/exhibitor/booths/select").status_code == 302
    client.post("/login", data={"email": "a@example.com", "password": PASSWORD})
    for url in urls:
        assert client.get(url).status_code == 403
    auth.logout()
    auth.login(ADMIN)
    assert client.get("/exhibitor/booths/select").status_code == 403


def test_forms_refuse_missing_csrf(app, client, auth, csrf_enabled):
    ids = _setup_two(app)
    page = client.get("/login").get_data(as_text=True)
    client.post("/login", data={"email": ADMIN, "password": "expo-demo-2026", "csrf_token": csrf_token(page)})
    posts = [(f"/organizer/booths/{ids['booth_a'][0]}", {"action": "vacate"}),
             ("/organizer/allocation/assign", {"exhibitor_id": ids["a"], "booths": "A1-001"}),
             ("/organizer/allocation/settings", {"hold_minutes": 5, "corner_premium_percent": 5}),
             (f"/organizer/exhibitors/{ids['a']}/payment", {"payment_status": "paid"})]
    for url, data in posts:
        assert client.post(url, data=data).status_code == 400, url
    with app.app_context():
        assert db.session.get(Booth, ids["booth_a"][0]).exhibitor_id == ids["a"]
        assert current_expo().hold_minutes != 5
    page = client.get(f"/organizer/booths/{ids['booth_a'][0]}").get_data(as_text=True)
    r = client.post(f"/organizer/booths/{ids['booth_a'][0]}", data={"action": "vacate",
                                                                    "csrf_token": csrf_token(page)})
    assert r.status_code == 302


def test_self_selection_pages(app, client):
    with app.app_context():
        pav = free_booths()[0].pavilion_id
        approved(email="sel@example.com", booths=1, pavilion_id=pav)
        booths = free_booths(pavilion_id=pav)
        first, second = booths[0].id, booths[1].id
        db.session.commit()
    client.post("/login", data={"email": "sel@example.com", "password": PASSWORD})
    r = client.get("/exhibitor/booths/select")
    assert r.status_code == 200 and "closed" in r.get_data(as_text=True)
    assert client.post("/exhibitor/booths/select", data={"booth_id": first}).status_code == 403
    with app.app_context():
        current_expo().self_selection_open = True
        db.session.commit()
    assert client.post("/exhibitor/booths/select", data={"booth_id": first}).status_code == 302
    page = client.get("/exhibitor/booths/select").get_data(as_text=True)
    assert "minutes left" in page
    r = client.post("/exhibitor/booths/select", data={"booth_id": second})
    assert r.status_code == 409 and "applied for 1" in r.get_data(as_text=True)
    assert client.post("/exhibitor/booths/select", data={"booth_id": 999999}).status_code == 404
    assert client.post("/exhibitor/booths/confirm").status_code == 302
    with app.app_context():
        assert db.session.get(Booth, first).status == "assigned"
        assert "booth_assigned" in audit_actions(first)
    assert "minutes left" not in client.get("/exhibitor/").get_data(as_text=True)


def test_release_holds_command_frees_expired_holds(app, runner):
    with app.app_context():
        booth = db.session.scalar(select(Booth).where(Booth.status == BoothStatus.AVAILABLE).limit(1))
        other = db.session.scalar(select(Booth).where(Booth.status == BoothStatus.AVAILABLE, Booth.id != booth.id)
                                  .limit(1))
        exhibitor_id = db.session.scalar(select(SpaceApplication.exhibitor_id).limit(1))
        for b, minutes in ((booth, -1), (other, 30)):
            b.status, b.exhibitor_id, b.hold_expires_at = BoothStatus.HELD, exhibitor_id, utcnow() + timedelta(
                minutes=minutes)
        db.session.commit()
        booth_id, other_id = booth.id, other.id
    result = runner.invoke(args=["release-holds"])
    assert result.exit_code == 0, result.output
    assert "1 expired holds released" in result.output
    with app.app_context():
        assert db.session.get(Booth, booth_id).status == BoothStatus.AVAILABLE
        assert db.session.get(Booth, other_id).status == BoothStatus.HELD
