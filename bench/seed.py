"""Seed a Canton-Fair-size data set for the benchmarks: `flask db upgrade` on an empty database, then the demo expo
generator (expo.demo.load) at 30,000 exhibitors.

    python bench/seed.py                 # SQLite: bench/out/bench.sqlite3
    python bench/seed.py --pg            # PostgreSQL: $EXPO_BENCH_PG_URL or .../expo_bench on 127.0.0.1
    python bench/seed.py --url URL       # any database URL

The database is dropped and created again first (the SQLite file removed; the PostgreSQL database dropped with
DROP DATABASE ... WITH (FORCE) and created), so point it at a database of its own.
"""

from __future__ import annotations

import json
import os
import sys
import time

import click
from common import OUT, PG_URL_ENV, SQLITE_URL, bench_app, label, machine, recreate_database

DEFAULT_PG = "postgresql+psycopg://postgres@127.0.0.1:5432/expo_bench"


def resolve_url(url: str | None, pg: bool) -> str:
    if url:
        return url
    if pg:
        return os.environ.get(PG_URL_ENV) or DEFAULT_PG
    return SQLITE_URL


@click.command()
@click.option("--url", help="Database URL (default: the SQLite file bench/out/bench.sqlite3).")
@click.option("--pg", is_flag=True, help=f"Use PostgreSQL: ${PG_URL_ENV} or {DEFAULT_PG}.")
@click.option("--exhibitors", default=30_000, show_default=True)
@click.option("--buyers", default=50_000, show_default=True)
def main(url: str | None, pg: bool, exhibitors: int, buyers: int) -> None:
    """Create the benchmark database and fill it with a Canton-Fair-size expo."""
    from flask_migrate import upgrade
    from sqlalchemy import text

    from expo import demo
    from expo.extensions import db

    url = resolve_url(url, pg)
    recreate_database(url)
    app = bench_app(url)
    with app.app_context():
        t0 = time.perf_counter()
        upgrade(directory=app.extensions["migrate"].directory)
        t_upgrade = time.perf_counter() - t0

        t0 = time.perf_counter()
        with click.progressbar(length=1 + exhibitors + buyers, label=f"Seeding {label(url)}", file=sys.stderr,
                               show_pos=True) as bar:
            summary = demo.load(exhibitors=exhibitors, buyers=buyers, progress=bar.update)
        t_load = time.perf_counter() - t0
        t0 = time.perf_counter()
        db.session.commit()
        t_commit = time.perf_counter() - t0

        # Fresh statistics, as autovacuum (PostgreSQL) would gather them shortly after a bulk load.
        t0 = time.perf_counter()
        if db.engine.dialect.name == "postgresql":
            with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
                conn.execute(text("VACUUM ANALYZE"))
        t_analyze = time.perf_counter() - t0
        db.session.remove()
        db.engine.dispose()

    total = t_upgrade + t_load + t_commit
    click.echo(f"{label(url)}: {summary.exhibitors} exhibitors, {summary.buyers} buyers, {summary.staff} staff")
    click.echo(f"  flask db upgrade {t_upgrade:6.2f} s")
    click.echo(f"  demo.load        {t_load:6.2f} s")
    click.echo(f"  commit           {t_commit:6.2f} s")
    click.echo(f"  seeding total    {total:6.2f} s" + (f"   (+ VACUUM ANALYZE {t_analyze:.2f} s)" if t_analyze > .01
                                                        else ""))
    OUT.mkdir(exist_ok=True)
    (OUT / f"seed-{label(url)}.json").write_text(json.dumps({
        "database": label(url), "exhibitors": summary.exhibitors, "buyers": summary.buyers, "staff": summary.staff,
        "seconds": {"upgrade": round(t_upgrade, 3), "load": round(t_load, 3), "commit": round(t_commit, 3),
                    "total": round(total, 3), "analyze": round(t_analyze, 3)},
        "machine": machine()}, indent=2))


if __name__ == "__main__":
    main()
