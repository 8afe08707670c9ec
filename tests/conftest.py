"""Test fixtures in the flaskr shape: app, client, runner, an auth helper; plus factories in tests/factories.py.

The schema is built once per run by the Alembic migrations (so every run also proves they work). The database is
SQLite in a temporary folder, or the PostgreSQL named by ``EXPO_TEST_DATABASE_URL`` (``.ci/run`` sets it). Each test
starts from a small demo expo.
"""

from __future__ import annotations

import os
import re

import pytest
from flask_migrate import upgrade
from sqlalchemy import text

from expo import create_app, demo
from expo.extensions import db

PG_URL = os.environ.get("EXPO_TEST_DATABASE_URL", "")
PASSWORD = "correct horse battery"


def _reset_postgres(url: str) -> None:
    from sqlalchemy import create_engine

    engine = create_engine(url)
    with engine.begin() as conn:
        conn.execute(text("DROP SCHEMA public CASCADE"))
        conn.execute(text("CREATE SCHEMA public"))
    engine.dispose()


@pytest.fixture(scope="session")
def database_url(tmp_path_factory) -> str:
    if PG_URL:
        _reset_postgres(PG_URL)
        return PG_URL
    return f"sqlite:///{tmp_path_factory.mktemp('db') / 'expo-test.sqlite3'}"


@pytest.fixture(scope="session")
def app(database_url, tmp_path_factory):
    app = create_app({
        "TESTING": True,
        "DATABASE_URL": database_url,
        "SECRET_KEY": "test-secret",
        "PASSWORD_HASH_METHOD": "pbkdf2:sha256:1000",  # the real scrypt is slow on purpose; tests need speed
        "WTF_CSRF_ENABLED": False,
        "SERVER_NAME": None,
    })
    app.instance_path = str(tmp_path_factory.mktemp("instance"))
    with app.app_context():
        upgrade(directory=app.extensions["migrate"].directory)
    yield app
    with app.app_context():
        db.session.remove()
        db.engine.dispose()  # close pooled connections, or PostgreSQL's stay open until garbage collection


def wipe_tables() -> None:
    tables = [t.name for t in db.metadata.sorted_tables]
    if db.engine.dialect.name == "postgresql":
        db.session.execute(text(f"TRUNCATE {', '.join(tables)} RESTART IDENTITY CASCADE"))
    else:
        for name in reversed(tables):
            db.session.execute(text(f"DELETE FROM {name}"))
    db.session.commit()


@pytest.fixture(autouse=True)
def _fresh_data(request, app):
    """Every test starts from a small demo expo (12 exhibitors), unless it is marked ``empty_db``."""
    with app.app_context():
        wipe_tables()
        if request.node.get_closest_marker("empty_db") is None:
            demo.load(exhibitors=12, buyers=40, hall_capacity=40)
            db.session.commit()
        db.session.remove()
    app.config["WTF_CSRF_ENABLED"] = False
    yield
    with app.app_context():
        db.session.remove()


@pytest.fixture
def csrf_enabled(app):
    app.config["WTF_CSRF_ENABLED"] = True
    yield
    app.config["WTF_CSRF_ENABLED"] = False


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


@pytest.fixture
def ctx(app):
    """An application context for calling services and queries directly."""
    with app.app_context():
        yield
        db.session.rollback()


class AuthActions:
    def __init__(self, client):
        self._client = client

    def login(self, email: str = "admin@expo.test", password: str = demo.DEMO_PASSWORD):
        return self._client.post("/login", data={"email": email, "password": password})

    def logout(self):
        return self._client.post("/logout")


@pytest.fixture
def auth(client):
    return AuthActions(client)


@pytest.fixture
def token(app):
    """``token(email)`` → request headers with a fresh bearer token for that account."""
    from expo.auth.services import create_api_token
    from tests.factories import user

    def make(email: str = "admin@expo.test") -> dict[str, str]:
        with app.app_context():
            _row, secret = create_api_token(user(email), "tests")
            db.session.commit()
        return {"Authorization": f"Bearer {secret}"}

    return make


def csrf_token(html: str) -> str:
    """The CSRF token of the first form on a page."""
    match = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', html) or \
        re.search(r'id="csrf_token" name="csrf_token" type="hidden" value="([^"]+)"', html)
    assert match, "no CSRF token on the page"
    return match.group(1)


def pytest_configure(config):
    config.addinivalue_line("markers", "empty_db: start the test with no rows at all")
