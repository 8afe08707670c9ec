"""The organizer's docking report and dashboard at expo size: how long the figures take with many meetings.

    python bench/docking_reports.py                 # SQLite: bench/out/docking-reports.sqlite3
    python bench/docking_reports.py --pg-url postgresql+psycopg://postgres@127.0.0.1:5432/expo_report_bench

The data set (deterministic): ``expo.demo.load`` with 3,000 exhibitors and 30,000 buyers, then ``--meetings``
(default 30,000) accepted meetings between them, half placed in 12 docking sessions, each with an outcome drawn
from the five results (intentions and agreements with pairs and a value in one of five currencies), plus 10% of
requested meetings that must not count. The database is created anew (its own file or database: never a shared one).

Measured (wall time in one process, p50/p95/max over ``--runs``): :func:`expo.docking.reports.report` (the headline
and the four breakdowns, as the report page and the API compute them), :func:`expo.dashboard.figures` (the whole
dashboard), and the PDF and XLSX renderers on that report. Beside them, a floor measured in the same run: one
``count(*)`` of the expo's meetings joined to their outcomes, the least any report must read.
"""

from __future__ import annotations

import json
import random
import statistics
import sys
import time
from datetime import datetime, timedelta
from decimal import Decimal

import click
from common import OUT, SQLITE_URL, bench_app, label, machine, recreate_database

from expo import dashboard, demo
from expo.db import utcnow
from expo.docking import currencies, report_render, reports
from expo.docking.models import DockingSession, Meeting, MeetingOutcome
from expo.exhibitors.services import current_expo
from expo.extensions import db

SEED = 2027
CURRENCIES = ("CNY", "USD", "EUR", "RUB", "INR")
RESULTS = ("intention", "agreement", "follow_up", "none", "no_show")


def seed(app, meetings: int, exhibitors: int, buyers: int) -> dict:
    """The demo expo plus ``meetings`` meetings with outcomes; returns the seeding times."""
    from flask_migrate import upgrade
    from sqlalchemy import select

    from expo.buyers.models import Buyer
    from expo.exhibitors.models import Exhibitor

    rng = random.Random(SEED)
    times = {}
    with app.app_context():
        t = time.perf_counter()
        upgrade(directory=app.extensions["migrate"].directory)
        demo.load(exhibitors=exhibitors, buyers=buyers)
        db.session.commit()
        times["demo_s"] = round(time.perf_counter() - t, 1)
        t = time.perf_counter()
        expo = current_expo()
        buyer_ids = list(db.session.scalars(select(Buyer.id).where(Buyer.expo_id == expo.id)))
        exhibitor_ids = list(db.session.scalars(select(Exhibitor.id)))
        start = datetime.combine(expo.starts_on, datetime.min.time()) + timedelta(hours=9)
        sessions = [DockingSession(expo_id=expo.id, name_zh=f"第{i + 1}场对接会", name_en=f"Docking session {i + 1}",
                                   room=f"R{i + 1}", starts_at=start + timedelta(days=i % 3, hours=i // 3),
                                   slot_minutes=20, slot_count=16, table_count=300) for i in range(12)]
        db.session.add_all(sessions)
        db.session.flush()
        now = utcnow()
        pairs: set[tuple[int, int]] = set(db.session.execute(select(Meeting.buyer_id, Meeting.exhibitor_id)).all())
        existing = len(pairs)
        rows, outcome_rows = [], []
        placed = 0
        while len(pairs) - existing < meetings * 11 // 10:
            pair = (rng.choice(buyer_ids), rng.choice(exhibitor_ids))
            if pair in pairs:
                continue
            pairs.add(pair)
            accepted = len(rows) % 11 != 10
            row = dict(expo_id=expo.id, buyer_id=pair[0], exhibitor_id=pair[1], requested_by="buyer", message="",
                       status="accepted" if accepted else "requested", answer_note="", pinned=False,
                       created_at=now, updated_at=now, session_id=None, slot=None, table_no=None)
            if accepted and rng.random() < 0.5:
                # One meeting per (session, slot): the three no-double-booking constraints hold trivially.
                row.update(session_id=sessions[placed % 12].id, slot=placed // 12, table_no=1)
                placed += 1
            rows.append(row)
        db.session.execute(Meeting.__table__.insert(), rows)
        ids = db.session.execute(select(Meeting.id, Meeting.status).outerjoin(MeetingOutcome).where(
            MeetingOutcome.id.is_(None))).all()
        for meeting_id, status in ids:
            if status != "accepted":
                continue
            result = rng.choice(RESULTS)
            coop = result in ("intention", "agreement")
            currency = rng.choice(CURRENCIES)
            value = Decimal(rng.randrange(10_000, 5_000_000)) if coop else Decimal(0)
            outcome_rows.append(dict(meeting_id=meeting_id, result=result, products="Shoes" if coop else "",
                                     quantity_pairs=rng.randrange(1_000, 200_000) if coop else 0, value=value,
                                     currency=currency, value_cny=currencies.to_cny(value, currency), notes="",
                                     created_at=now, updated_at=now))
        db.session.execute(MeetingOutcome.__table__.insert(), outcome_rows)
        db.session.commit()
        times["meetings_s"] = round(time.perf_counter() - t, 1)
        times["meetings"] = len(rows)
        times["outcomes"] = len(outcome_rows)
    return times


def timed(fn, runs: int) -> dict:
    fn()  # warm-up: caches, the CJK font
    samples = []
    for _ in range(runs):
        t = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - t) * 1000)
    samples.sort()
    return {"p50_ms": round(statistics.median(samples), 1),
            "p95_ms": round(samples[min(len(samples) - 1, int(len(samples) * 0.95))], 1),
            "max_ms": round(samples[-1], 1)}


def measure(app, runs: int) -> dict:
    from sqlalchemy import func, select

    with app.app_context(), app.test_request_context():
        expo = current_expo()

        def floor():
            db.session.execute(select(func.count()).select_from(Meeting).outerjoin(
                MeetingOutcome, MeetingOutcome.meeting_id == Meeting.id).where(Meeting.expo_id == expo.id)).one()

        data = reports.report(expo)
        out = {"floor_count": timed(floor, runs), "report": timed(lambda: reports.report(expo), runs),
               "dashboard": timed(lambda: dashboard.figures(expo), runs),
               "pdf": timed(lambda: report_render.render_pdf(data, report_render.Labels()), max(runs // 4, 3)),
               "xlsx": timed(lambda: report_render.render_xlsx(data, report_render.Labels()), max(runs // 4, 3)),
               "sentence_en": data.sentence_en, "sentence_zh": data.sentence_zh,
               "rows": {k: len(v) for k, v in data.breakdowns.items()}}
        out["report_over_floor"] = round(out["report"]["p50_ms"] / max(out["floor_count"]["p50_ms"], 0.01), 1)
    return out


@click.command()
@click.option("--pg-url", default=None, help="a PostgreSQL database of its own (dropped and created)")
@click.option("--no-sqlite", is_flag=True)
@click.option("--meetings", default=30_000, show_default=True)
@click.option("--exhibitors", default=3_000, show_default=True)
@click.option("--buyers", default=30_000, show_default=True)
@click.option("--runs", default=20, show_default=True)
def main(pg_url, no_sqlite, meetings, exhibitors, buyers, runs):
    urls = ([] if no_sqlite else [SQLITE_URL.replace("bench.sqlite3", "docking-reports.sqlite3")]) + \
        ([pg_url] if pg_url else [])
    summary = {"machine": machine(), "results": {}}
    for url in urls:
        recreate_database(url)
        app = bench_app(url)
        seeded = seed(app, meetings, exhibitors, buyers)
        if url.startswith("postgresql"):
            with app.app_context():
                db.session.commit()
                with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
                    conn.exec_driver_sql("VACUUM ANALYZE")
        result = {"seed": seeded, **measure(app, runs)}
        summary["results"][label(url)] = result
        print(label(url), json.dumps(result, ensure_ascii=False, indent=1))
        with app.app_context():
            db.session.remove()
            db.engine.dispose()
    OUT.mkdir(exist_ok=True)
    (OUT / "docking_reports.json").write_text(json.dumps(summary, ensure_ascii=False, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
