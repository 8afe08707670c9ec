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

import pytest
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import func, select

from expo import create_app, demo
from expo.auth.models import Role, User
from expo.buyers.models import Buyer
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
