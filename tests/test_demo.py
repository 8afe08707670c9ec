"""The demo expo and the commands that load it, run through Flask's CLI runner.

``flask demo`` fills an empty database with a realistic Jinjiang footwear expo (1,000 exhibitors in every
application state, Chinese and English names, at home and abroad; buyers from 30+ countries; 10+ pavilions in three
exhibition areas; halls for about 2,400 booths) in under a minute, prints sign-ins that work, gives the same data
every time, and refuses a database that already holds data unless told ``--reset``. New registrations after it get
fresh ids (PostgreSQL sequences are moved past the demo's explicit ids). ``flask quickstart --no-serve`` migrates an
empty database and loads the demo once.
"""

from __future__ import annotations

import re
import time
from datetime import date

import pytest
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import func, select

from expo import create_app, demo
from expo.auth.models import Role, User
from expo.buyers.models import Buyer, BuyerStatus, Delegation, HostedStatus, Passport, buyer_categories
from expo.exhibitors.models import ApplicationStatus, Exhibitor, SpaceApplication
from expo.extensions import db
from expo.venue.models import ExhibitionArea, Expo, Hall, Pavilion
from tests.factories import make_exhibitor, make_user
from tests.test_migrations import throwaway_database

HAN = re.compile(r"[\u4e00-\u9fff]")


def exhibitor_rows() -> list[tuple]:
    return db.session.execute(select(Exhibitor.id, Exhibitor.name_zh, Exhibitor.name_en, Exhibitor.country,
                                     SpaceApplication.status)
                              .join(SpaceApplication, SpaceApplication.exhibitor_id == Exhibitor.id)
                              .order_by(Exhibitor.id)).all()


def table_counts() -> dict[str, int]:
    return {t.name: db.session.scalar(select(func.count()).select_from(t)) for t in db.metadata.sorted_tables}


def printed_logins(output: str) -> tuple[str, list[tuple[str, str]]]:
    password = re.search(r"password for all: (\S+)\)", output).group(1)
    return password, re.findall(r"^ {2}(\w+) +(\S+@\S+)", output, re.M)


def sign_in(client, email: str, password: str) -> None:
    r = client.post("/login", data={"email": email, "password": password})
    assert r.status_code == 302, (email, r.get_data(as_text=True)[:500])
    assert "/login" not in r.headers["Location"]


@pytest.mark.empty_db
def test_demo_loads_a_realistic_expo_deterministically(app, runner, client):
    started = time.monotonic()
    result = runner.invoke(args=["demo"])
    elapsed = time.monotonic() - started
    assert result.exit_code == 0, result.output
    assert elapsed < 60, f"the demo took {elapsed:.1f} s"

    with app.app_context():
        expo = db.session.scalar(select(Expo))
        assert expo.starts_on < expo.ends_on and expo.venue_en and expo.venue_zh
        rows = exhibitor_rows()
        assert len(rows) == 1000
        assert {status for *_x, status in rows} == set(ApplicationStatus)
        assert sum(bool(zh and HAN.search(zh)) for _i, zh, *_x in rows) > 500
        assert all(en and en.isascii() for _i, _zh, en, *_x in rows)  # every company also has an English name
        assert any(zh is None for _i, zh, *_x in rows)  # and some only an English one
        countries = {country for *_x, country, _s in rows}
        assert "CN" in countries and len(countries - {"CN"}) >= 9, countries
        buyer_countries = set(db.session.scalars(select(Buyer.country).distinct()))
        assert len(buyer_countries) >= 30
        areas = db.session.scalars(select(ExhibitionArea).where(ExhibitionArea.expo_id == expo.id)).all()
        pavilions = db.session.scalars(select(Pavilion).where(Pavilion.expo_id == expo.id)).all()
        assert len(areas) == 3 and len(pavilions) >= 10
        assert {p.area_id for p in pavilions} == {a.id for a in areas}  # every pavilion in one of the three areas
        names = " | ".join(p.name_en for p in pavilions)
        assert "Belt and Road" in names and "Taiwan" in names
        capacity = db.session.scalar(select(func.sum(Hall.standard_booth_capacity)).where(Hall.expo_id == expo.id))
        assert 2300 <= capacity <= 2500
        # Decided applications were submitted first; drafts were not.
        apps = db.session.scalars(select(SpaceApplication)).all()
        assert all((a.submitted_at is None) == (a.status == ApplicationStatus.DRAFT) for a in apps)
        assert all(a.decision_reason for a in apps if a.status == ApplicationStatus.REJECTED)

    # The sign-ins it printed work.
    password, logins = printed_logins(result.output)
    printed = {email for _role, email in logins}
    assert {email for email, _n, _r in demo.DEMO_ACCOUNTS} | {demo.DEMO_EXHIBITOR_EMAIL} <= printed
    for role, email in logins:
        sign_in(client, email, password)
        home = client.get("/", follow_redirects=True)  # each role is sent to its own home page
        assert home.status_code == 200 and home.request.path not in ("/", "/login"), (role, email)
        if role in ("admin", "staff"):
            assert client.get("/organizer/applications").status_code == 200
        client.post("/logout")
    sign_in(client, demo.DEMO_EXHIBITOR_EMAIL, password)
    dashboard = client.get("/exhibitor/")
    assert dashboard.status_code == 200 and "Draft" in dashboard.get_data(as_text=True)
    client.post("/logout")
    sign_in(client, "ex000002@expo.test", password)  # "one per exhibitor"
    assert client.get("/exhibitor/").status_code == 200

    # The same data again: same names, countries and states, in the same order.
    again = runner.invoke(args=["demo", "--reset"])
    assert again.exit_code == 0, again.output
    with app.app_context():
        assert exhibitor_rows() == rows
        assert len(set(db.session.scalars(select(Buyer.country).distinct()))) == len(buyer_countries)


def test_demo_refuses_a_database_with_data(app, runner):
    with app.app_context():
        before = (table_counts(), exhibitor_rows())
    assert before[0]["exhibitors"] == 12
    result = runner.invoke(args=["demo"])
    assert result.exit_code != 0
    assert "already holds data" in result.output and "--reset" in result.output
    with app.app_context():
        assert (table_counts(), exhibitor_rows()) == before


@pytest.mark.empty_db
def test_one_account_is_enough_to_refuse_and_reset_wipes_it(app, runner):
    with app.app_context():
        make_user(Role.ADMIN, email="real.admin@example.com")
        db.session.commit()
    result = runner.invoke(args=["demo", "--exhibitors", "20", "--buyers", "40"])
    assert result.exit_code != 0 and "already holds data" in result.output
    with app.app_context():
        assert table_counts()["exhibitors"] == 0
    result = runner.invoke(args=["demo", "--reset", "--exhibitors", "20", "--buyers", "40"])
    assert result.exit_code == 0, result.output
    with app.app_context():
        assert db.session.scalar(select(func.count(Exhibitor.id))) == 20
        assert db.session.scalar(select(User).where(User.email == "real.admin@example.com")) is None


@pytest.mark.empty_db
def test_registrations_after_the_demo_get_new_ids(app, runner):
    """The demo inserts exhibitors with explicit ids; on PostgreSQL the id sequence must be moved past them."""
    for reset, n in ((False, 30), (True, 25)):
        result = runner.invoke(args=["demo", *(["--reset"] if reset else []), "--exhibitors", n, "--buyers", 40])
        assert result.exit_code == 0, result.output
        with app.app_context():
            highest = db.session.scalar(select(func.max(Exhibitor.id)))
            exhibitor, _account = make_exhibitor(submit=True)
            db.session.commit()
            assert exhibitor.id > highest
            assert db.session.scalar(select(func.count(Exhibitor.id))) == n + 1


@pytest.fixture(params=["sqlite", "postgresql"])
def blank_app(request, tmp_path):
    """An app on a database that has no tables at all (not even Alembic's)."""
    with throwaway_database(request.param, tmp_path) as url:
        app = create_app({"TESTING": True, "DATABASE_URL": url, "SECRET_KEY": "quickstart-test",
                          "PASSWORD_HASH_METHOD": "pbkdf2:sha256:1000", "WTF_CSRF_ENABLED": False})
        app.instance_path = str(tmp_path / "instance")
        try:
            yield app
        finally:
            with app.app_context():
                db.session.remove()
                db.engine.dispose()


@pytest.mark.empty_db
def test_quickstart_migrates_and_loads_once(blank_app):
    runner = blank_app.test_cli_runner()
    first = runner.invoke(args=["quickstart", "--no-serve"])
    assert first.exit_code == 0, first.output
    assert "Demo expo loaded" in first.output and demo.DEMO_PASSWORD in first.output
    with blank_app.app_context():
        with db.engine.connect() as conn:
            head = ScriptDirectory(blank_app.extensions["migrate"].directory).get_current_head()
            assert MigrationContext.configure(conn).get_current_revision() == head
        loaded = exhibitor_rows()
        assert len(loaded) == 1000
        counts = table_counts()

    second = runner.invoke(args=["quickstart", "--no-serve"])
    assert second.exit_code == 0, second.output
    assert "not loaded again" in second.output and "Demo expo loaded" not in second.output
    assert demo.DEMO_PASSWORD in second.output  # the sign-ins are still printed
    with blank_app.app_context():
        assert exhibitor_rows() == loaded and table_counts() == counts


# Buyers and delegations -------------------------------------------------------------------------------------------

def buyer_rows() -> list[tuple]:
    return db.session.execute(select(Buyer.id, Buyer.name, Buyer.name_native, Buyer.country, Buyer.delegation_id,
                                     Buyer.status, Buyer.hosted_status, Buyer.contact_consent)
                              .order_by(Buyer.id)).all()


def delegation_rows() -> list[tuple]:
    return db.session.execute(select(Delegation.id, Delegation.name, Delegation.country, Delegation.arrival_date,
                                     Delegation.hotel, User.email)
                              .join(User, User.id == Delegation.leader_user_id, isouter=True)
                              .order_by(Delegation.id)).all()


def test_demo_delegations_leaders_and_passports(app):
    """The fixed sign-ins of the small demo every test starts from: two delegations with their leaders, and
    the demo buyer on their own."""
    with app.app_context():
        delegations = db.session.scalars(select(Delegation).order_by(Delegation.id)).all()
        assert len(delegations) == 2  # max(2, 40 // 100)
        first, second = delegations
        assert (first.id, first.name, first.country) == (1, "Russian Footwear Retailers Delegation", "RU")
        assert first.leader.email == "leader@expo.test" and first.leader.name == "Ivan Petrov"
        assert first.leader.role == Role.DELEGATION_LEADER
        assert (second.id, second.country) == (2, "VN")
        assert second.leader.email == "leader2@expo.test" and second.leader.name == "Nguyen Van An"
        assert second.leader.role == Role.DELEGATION_LEADER
        assert len(first.members) >= 5 and len(second.members) >= 3
        for delegation in delegations:
            assert delegation.organization and delegation.hotel and delegation.arrival_flight
            assert date(2027, 4, 17) <= delegation.arrival_date < delegation.departure_date <= date(2027, 4, 23)
            assert delegation.categories
            assert {m.country for m in delegation.members} == {delegation.country}
        # Names in their own script: Cyrillic for the Russians, Vietnamese letters for the Vietnamese.
        assert first.members[0].name == "Ivan Petrov" and first.members[0].name_native == "Иван Петров"
        assert any("Nguyễn" in m.name_native or "ă" in m.name_native for m in second.members)

        members = db.session.scalars(select(Buyer).where(Buyer.delegation_id.is_not(None))).all()
        passports = {p.buyer_id: p for p in db.session.scalars(select(Passport))}
        assert all(m.id in passports for m in members)  # every member can get a visa letter
        for m in members:
            p = passports[m.id]
            assert p.number and p.nationality == m.country and p.date_of_birth < date(2010, 1, 1)
            assert p.expires_on > date(2027, 10, 22)  # valid six months past the expo

        buyer_account = db.session.scalar(select(User).where(User.email == "buyer@expo.test"))
        maria = db.session.scalar(select(Buyer).where(Buyer.user_id == buyer_account.id))
        assert (maria.name, maria.country, maria.delegation_id, maria.email) == \
            ("Maria Santos", "BR", None, "buyer@expo.test")
        assert maria.id in passports
        assert 14 <= len(members) <= 18  # about 40 % of the 40 buyers
        # Every buyer is interested in one to three product categories.
        per_buyer = dict(db.session.execute(select(buyer_categories.c.buyer_id, func.count())
                                            .group_by(buyer_categories.c.buyer_id)).all())
        assert len(per_buyer) == 40 and set(per_buyer.values()) <= {1, 2, 3}


@pytest.mark.empty_db
def test_demo_buyers_at_scale_are_realistic_and_deterministic(app):
    with app.app_context():
        summary = demo.load(exhibitors=12, buyers=2000, delegations=15, hall_capacity=40)
        db.session.commit()
        assert summary.delegations == 15 and summary.buyers == 2000 and summary.buyer_countries >= 30
        buyers, delegations = buyer_rows(), delegation_rows()
        assert len(buyers) == 2000 and len(delegations) == 15
        members = [b for b in buyers if b.delegation_id is not None]
        assert 0.37 < len(members) / len(buyers) < 0.43
        assert {b.delegation_id for b in members} == {d.id for d in delegations}  # no empty delegation
        assert db.session.scalar(select(func.count(Passport.buyer_id))) == len(members) + 1  # + the demo buyer
        share = {s: sum(b.hosted_status == s for b in buyers) / len(buyers) for s in HostedStatus}
        assert 0.07 < share[HostedStatus.APPLIED] < 0.13
        assert 0.03 < share[HostedStatus.APPROVED] < 0.07
        assert 0.01 < share[HostedStatus.DECLINED] < 0.035
        approved = db.session.scalars(select(Buyer).where(Buyer.hosted_status == HostedStatus.APPROVED)).all()
        assert all(b.hosted_hotel_nights == 3 and b.hosted_transfers and b.hosted_decided_at for b in approved)
        assert 0.65 < sum(b.contact_consent for b in buyers) / len(buyers) < 0.75
        invited = [b for b in buyers if b.status == BuyerStatus.INVITED]
        assert invited and all(b.delegation_id is None for b in invited)
        assert any(b.name_native and HAN.search(b.name_native) for b in buyers)  # Chinese names render too
        assert 0.1 < sum(bool(b.name_native) for b in buyers) / len(buyers) < 0.9
        filled = db.session.execute(select(func.count()).where(
            Buyer.phone != "", Buyer.purchase_volume != "", Buyer.products_sought != "")).scalar()
        assert filled == 2000
        # Each delegation has its own leader account (the same demo password).
        leaders = [email for *_x, email in delegations]
        assert leaders[:2] == ["leader@expo.test", "leader2@expo.test"]
        assert len(set(leaders)) == 15 and all(e.endswith("@delegations.example.com") for e in leaders[2:])
        # New buyers and delegations after the demo get fresh ids (PostgreSQL: the sequences were moved).
        expo = db.session.scalar(select(Expo))
        extra_delegation = Delegation(expo_id=expo.id, name="Late", country="FR")
        extra_buyer = Buyer(expo_id=expo.id, name="Late Buyer", country="FR")
        db.session.add_all([extra_delegation, extra_buyer])
        db.session.flush()
        assert extra_delegation.id == 16 and extra_buyer.id > max(b.id for b in buyers)
        db.session.rollback()

        demo.load(exhibitors=12, buyers=2000, delegations=15, hall_capacity=40, force=True)
        db.session.commit()
        assert buyer_rows() == buyers and delegation_rows() == delegations
        passport_numbers = db.session.scalars(select(Passport.number).order_by(Passport.buyer_id)).all()
        demo.load(exhibitors=12, buyers=2000, delegations=15, hall_capacity=40, force=True)
        assert db.session.scalars(select(Passport.number).order_by(Passport.buyer_id)).all() == passport_numbers
        db.session.rollback()


@pytest.mark.empty_db
def test_demo_command_takes_a_delegation_count_and_its_leaders_sign_in(app, runner, client):
    result = runner.invoke(args=["demo", "--exhibitors", "12", "--buyers", "300", "--delegations", "5"])
    assert result.exit_code == 0, result.output
    assert "5 delegations" in result.output and "leader2@expo.test" in result.output
    with app.app_context():
        assert db.session.scalar(select(func.count(Delegation.id))) == 5
    password, _logins = printed_logins(result.output)
    for email in ("leader2@expo.test", "leader000005@delegations.example.com"):
        sign_in(client, email, password)
        client.post("/logout")


@pytest.mark.empty_db
def test_tiny_demos_still_have_the_fixed_sign_ins(app):
    """However few buyers, the two fixed delegations get what their members' pages need."""
    with app.app_context():
        for buyers, delegations in ((0, None), (3, None), (12, 0), (12, 1), (12, None)):
            summary = demo.load(exhibitors=2, buyers=buyers, delegations=delegations, hall_capacity=40, force=True)
            db.session.commit()
            assert summary.delegations == db.session.scalar(select(func.count(Delegation.id)))
            assert db.session.scalar(select(func.count(Buyer.id))) == buyers
            db.session.expunge_all()
        assert [len(d.members) for d in db.session.scalars(select(Delegation).order_by(Delegation.id))] == [6, 4]


@pytest.mark.empty_db
def test_demo_command_sets_up_the_gate_checkpoints(app, runner, client):
    """``flask demo`` loads two entrances, a hall door and a docking room, so gate staff can scan at once (the small
    demo the tests start from has none: gate tests make their own)."""
    from expo.checkin.models import Checkpoint

    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Checkpoint)) == 0
    result = runner.invoke(args=["demo", "--exhibitors", "12", "--buyers", "40"])
    assert result.exit_code == 0, result.output
    with app.app_context():
        rows = {c.code: c for c in db.session.scalars(select(Checkpoint))}
        first_hall = db.session.scalar(select(Hall.code).order_by(Hall.id))
        assert set(rows) == {"W1", "E1", first_hall, "R1"}
        assert (rows["W1"].name_zh, rows["W1"].name_en, rows["E1"].name_zh, rows["E1"].name_en) == (
            "西门", "West gate", "东门", "East gate")
        for code in ("W1", "E1"):
            c = rows[code]
            assert (c.kind, c.zone, c.mode, c.reentry, c.auto_checkout_at.strftime("%H:%M"), c.active) == (
                "entrance", "venue", "entry_exit", True, "18:00", True)
        assert (rows[first_hall].kind, rows[first_hall].zone) == ("hall", f"hall:{first_hall}")
        assert (rows["R1"].kind, rows["R1"].zone) == ("room", "room:R1")
        ids = {code: c.id for code, c in rows.items()}
    password, _logins = printed_logins(result.output)
    sign_in(client, "gate@expo.test", password)
    chooser = client.get("/gate/").get_data(as_text=True)
    assert all(f'data-checkpoint-id="{i}"' in chooser for i in ids.values())
    assert client.get(f"/gate/{ids['W1']}").status_code == 200
