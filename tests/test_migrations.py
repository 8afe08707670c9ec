"""The migrations and the models describe the same schema.

On a fresh, empty database (a SQLite file; and a throwaway PostgreSQL database when ``EXPO_TEST_DATABASE_URL`` is
set) ``flask db upgrade`` builds the schema, and Alembic's autogenerate comparison (types included) finds nothing
missing or different. A control shows the comparison does notice a drifted model; downgrading to base removes every
table and upgrading again gives the same schema.
"""

from __future__ import annotations

import uuid
from contextlib import contextmanager

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from flask_migrate import downgrade, upgrade
from sqlalchemy import Column, Integer, MetaData, String, Table, create_engine, inspect, text
from sqlalchemy.engine import make_url

from expo import create_app
from expo.db import UNMODELLED_TABLES, autogenerate_filter
from expo.extensions import db
from tests.conftest import PG_URL

pytestmark = pytest.mark.empty_db  # the session database is not used here; spare it the demo load


def _new_app(url: str, tmp_path):
    app = create_app({"TESTING": True, "DATABASE_URL": url, "SECRET_KEY": "migrations-test",
                      "WTF_CSRF_ENABLED": False})
    app.instance_path = str(tmp_path / "instance")
    return app


def _differences(metadata: MetaData) -> list:
    with db.engine.connect() as conn:
        # The filter migrations/env.py uses: indexes the models declare for PostgreSQL only are no drift on SQLite.
        context = MigrationContext.configure(conn, opts={"compare_type": True, "compare_server_default": False,
                                                         "include_object": autogenerate_filter(conn.dialect.name)})
        return compare_metadata(context, metadata)


def _clone(metadata: MetaData) -> MetaData:
    copy = MetaData(naming_convention=metadata.naming_convention)
    for table in metadata.sorted_tables:
        table.to_metadata(copy)
    return copy


@contextmanager
def throwaway_database(kind: str, tmp_path):
    """The URL of a database with no tables: a new SQLite file, or a new PostgreSQL database (beside the one
    ``EXPO_TEST_DATABASE_URL`` names, which the other tests use) dropped afterwards."""
    if kind == "sqlite":
        yield f"sqlite:///{tmp_path / 'empty.sqlite3'}"
        return
    if not PG_URL:
        pytest.skip("EXPO_TEST_DATABASE_URL is not set")
    server = make_url(PG_URL)
    name = f"{server.database}_empty_{uuid.uuid4().hex[:8]}"
    admin = create_engine(server.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield server.set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def empty_database(request, tmp_path):
    with throwaway_database(request.param, tmp_path) as url:
        yield url


def test_upgrade_from_empty_matches_the_models(empty_database, tmp_path):
    app = _new_app(empty_database, tmp_path)
    with app.app_context():
        try:
            assert inspect(db.engine).get_table_names() == []
            upgrade(directory=app.extensions["migrate"].directory)
            # Less the tables the migrations make outside the models (SQLite's full-text index of buyers).
            tables = {t for t in inspect(db.engine).get_table_names() if not t.startswith(UNMODELLED_TABLES)}
            assert {t.name for t in db.metadata.sorted_tables} | {"alembic_version"} == tables
            assert _differences(db.metadata) == []

            # The control: the same comparison reports a column, a table and a type the migrations do not have.
            drifted = _clone(db.metadata)
            drifted.tables["exhibitors"].append_column(Column("vat_number", String(30)))
            Table("booth_holds", drifted, Column("id", Integer, primary_key=True))
            drifted.tables["halls"].c.code.type = String(64)
            found = _differences(drifted)
            kinds = {(d[0], d[2], d[3].name) if d[0] == "add_column" else d[0] for d in found
                     if not isinstance(d, list)}
            assert ("add_column", "exhibitors", "vat_number") in kinds
            assert "add_table" in kinds
            assert any(d[0][0] == "modify_type" and d[0][2:4] == ("halls", "code")
                       for d in found if isinstance(d, list)), found
        finally:
            db.session.remove()
            db.engine.dispose()


def test_downgrade_to_base_and_upgrade_again(empty_database, tmp_path):
    app = _new_app(empty_database, tmp_path)
    directory = app.extensions["migrate"].directory
    with app.app_context():
        try:
            upgrade(directory=directory)
            downgrade(directory=directory, revision="base")
            left = set(inspect(db.engine).get_table_names()) - {"alembic_version"}
            assert left == set()
            with db.engine.connect() as conn:
                assert MigrationContext.configure(conn).get_current_revision() is None
            upgrade(directory=directory)
            with db.engine.connect() as conn:
                assert MigrationContext.configure(conn).get_current_revision() == ScriptDirectory(directory).get_current_head()
            assert _differences(db.metadata) == []
        finally:
            db.session.remove()
            db.engine.dispose()
