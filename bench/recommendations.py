"""Recommendations at scale (issue 7): one buyer's ranked exhibitors among 30,000 exhibitors with offers and 300,000
buyers, beside its floor — the same ranking statement run bare through SQLAlchemy. Target: under 200 ms.

    python bench/recommendations.py seed                  # bench/out/recommendations.sqlite3 (~10 min)
    python bench/recommendations.py measure               # p50 / p95 / max of for_buyer, and of its floor
    python bench/recommendations.py seed --database-url postgresql+psycopg://postgres@127.0.0.1:5432/expo_bench_rec

``seed`` drops and creates the database, migrates it, loads the demo generator (``expo.demo.load``) at
30,000 exhibitors and 300,000 buyers in 550 delegations, approves 95 % of the exhibitors' applications, and adds in
bulk: 1–3 offers per exhibitor (in the exhibitor's own categories), 1–2 needs for a quarter of the buyers on their
own, 1–3 needs per delegation, and 20,000 meetings. ``measure`` times ``expo.docking.matching.for_buyer(buyer, 20)``
in an app context for a deterministic sample of buyers (half with needs of their own, a quarter delegation members,
a quarter with purchase interests only), interleaved with the floor: the same ranking statements
(``ranked_exhibitors_query``: the wants' own categories, then with the related ones when for_buyer needs them too),
built beforehand and executed bare through SQLAlchemy. Also, for information, ``for_exhibitor`` for a few exhibitors.
See bench/README.md, "Recommendations at scale".
"""

from __future__ import annotations

import json
import os
import random
import statistics
import sys
import time
from datetime import date, timedelta

import click
from common import OUT, bench_app, label, machine, recreate_database

SQLITE_URL = f"sqlite:///{OUT / 'recommendations.sqlite3'}"
EXHIBITORS, BUYERS, DELEGATIONS = 30_000, 300_000, 550
TARGET_MS = 200.0
MARKETS = ["US", "DE", "FR", "GB", "IT", "ES", "RU", "BR", "MX", "IN", "VN", "JP", "KR", "AE", "SA", "NG", "ZA",
           "AU", "CA", "PL", "TR", "ID", "TH", "MY", "155", "151", "419", "021", "202", "145", "035"]
CERTIFICATIONS = ["ISO 9001", "ISO 14001", "BSCI", "SEDEX", "CE EN ISO 20345", "WRAP", "GRS"]
BANDS = ["", "under_5", "5_10", "10_20", "20_50", "over_50"]
PRODUCTS = ["Running shoes", "Sneakers", "Canvas shoes", "Sandals", "Leather shoes", "Safety shoes", "Outsoles",
            "EVA midsoles", "Knitted uppers", "Boots", "Slippers", "Football boots"]


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))]


def summary(ms: list[float]) -> dict:
    return {"n": len(ms), "p50": round(pct(ms, .50), 2), "p95": round(pct(ms, .95), 2), "max": round(max(ms), 2),
            "mean": round(statistics.fmean(ms), 2)}


def _chunks(rows: list[dict], size: int = 5000):
    for start in range(0, len(rows), size):
        yield rows[start:start + size]


def seed_docking(rng: random.Random, meetings: int) -> dict:
    """Approve most applications and add offers, needs and meetings in bulk (the caller commits)."""
    from sqlalchemy import insert, select, update

    from expo.buyers.models import Buyer, Delegation
    from expo.categories.models import ProductCategory, exhibitor_categories
    from expo.db import utcnow
    from expo.docking.models import BuyerNeed, ExhibitorOffer, Meeting
    from expo.exhibitors.models import SpaceApplication
    from expo.exhibitors.services import current_expo
    from expo.extensions import db

    expo = current_expo()
    now = utcnow()
    db.session.execute(update(SpaceApplication).where(SpaceApplication.id % 20 != 0).values(status="approved"))
    leaves = list(db.session.scalars(select(ProductCategory.id).where(ProductCategory.parent_id.is_not(None))))
    own: dict[int, list[int]] = {}
    for exhibitor_id, category_id in db.session.execute(select(exhibitor_categories)):
        own.setdefault(exhibitor_id, []).append(category_id)
    exhibitor_ids = list(db.session.scalars(select(SpaceApplication.exhibitor_id).where(
        SpaceApplication.expo_id == expo.id)))
    offers = []
    for exhibitor_id in exhibitor_ids:
        for _ in range(rng.choice([1, 1, 2, 2, 3])):
            offers.append(dict(
                expo_id=expo.id, exhibitor_id=exhibitor_id, category_id=rng.choice(own.get(exhibitor_id) or leaves),
                products=rng.choice(PRODUCTS), min_order_pairs=rng.choice([0, 300, 500, 1000, 3000, 5000, 10000]),
                monthly_capacity_pairs=rng.choice([5000, 10000, 30000, 50000, 100000, 300000]),
                price_band=rng.choice(BANDS), oem=rng.random() < .6, odm=rng.random() < .3,
                certifications=rng.sample(CERTIFICATIONS, rng.randint(0, 3)),
                markets=rng.sample(MARKETS, rng.randint(1, 5)), description="", active=rng.random() < .97,
                created_at=now, updated_at=now))
    for chunk in _chunks(offers):
        db.session.execute(insert(ExhibitorOffer.__table__), chunk)

    def need(**owner) -> dict:
        start = date(2027, 5, 1) + timedelta(days=rng.randint(0, 120))
        return dict(expo_id=expo.id, category_id=rng.choice(leaves), title=rng.choice(PRODUCTS) +
                    (", OEM" if rng.random() < .3 else ""), quantity_pairs=rng.choice([0, 1000, 5000, 20000, 100000]),
                    price_band=rng.choice(BANDS), delivery_from=start, delivery_until=start + timedelta(days=90),
                    markets=rng.sample(MARKETS, rng.randint(0, 2)), description="", active=True, created_at=now,
                    updated_at=now, **{"buyer_id": None, "delegation_id": None, **owner})

    independent = list(db.session.scalars(select(Buyer.id).where(Buyer.delegation_id.is_(None))))
    needs = [need(buyer_id=b) for b in independent if rng.random() < .25 for _ in range(rng.randint(1, 2))]
    needs += [need(delegation_id=d) for d in db.session.scalars(select(Delegation.id))
              for _ in range(rng.randint(1, 3))]
    for chunk in _chunks(needs):
        db.session.execute(insert(BuyerNeed.__table__), chunk)
    buyer_ids = list(db.session.scalars(select(Buyer.id)))
    pairs = {(rng.choice(buyer_ids), rng.choice(exhibitor_ids)) for _ in range(meetings)}
    for chunk in _chunks([dict(expo_id=expo.id, buyer_id=b, exhibitor_id=e, requested_by="buyer",
                               status=rng.choice(["requested", "accepted", "declined"]), message="", answer_note="",
                               pinned=False, created_at=now, updated_at=now) for b, e in pairs]):
        db.session.execute(insert(Meeting.__table__), chunk)
    return {"offers": len(offers), "needs": len(needs), "meetings": len(pairs)}


@click.group()
def cli() -> None:
    """Recommendations at scale."""


@cli.command()
@click.option("--database-url", default=None, help="Database URL (default: bench/out/recommendations.sqlite3).")
@click.option("--exhibitors", default=EXHIBITORS, show_default=True)
@click.option("--buyers", default=BUYERS, show_default=True)
@click.option("--delegations", default=DELEGATIONS, show_default=True)
@click.option("--meetings", default=20_000, show_default=True)
def seed(database_url: str | None, exhibitors: int, buyers: int, delegations: int, meetings: int) -> None:
    """Drop and create the database, migrate, load the demo expo at this size, add offers, needs and meetings."""
    from flask_migrate import upgrade
    from sqlalchemy import text

    from expo import demo
    from expo.extensions import db

    url = database_url or SQLITE_URL
    recreate_database(url)
    app = bench_app(url)
    with app.app_context():
        t0 = time.perf_counter()
        upgrade(directory=app.extensions["migrate"].directory)
        with click.progressbar(length=1 + exhibitors + buyers, label=f"Seeding {label(url)}", file=sys.stderr,
                               show_pos=True) as bar:
            loaded = demo.load(exhibitors=exhibitors, buyers=buyers, delegations=delegations, progress=bar.update)
        t_demo = time.perf_counter() - t0
        t0 = time.perf_counter()
        docking = seed_docking(random.Random(2027), meetings)
        db.session.commit()
        t_docking = time.perf_counter() - t0
        if db.engine.dialect.name == "postgresql":
            with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
                conn.execute(text("VACUUM ANALYZE"))
        else:
            db.session.execute(text("ANALYZE"))
            db.session.commit()
        db.session.remove()
        db.engine.dispose()
    out = {"database": label(url), "exhibitors": loaded.exhibitors, "buyers": loaded.buyers,
           "delegations": loaded.delegations, **docking,
           "seconds": {"demo": round(t_demo, 1), "docking": round(t_docking, 1)}, "machine": machine()}
    OUT.mkdir(exist_ok=True)
    (OUT / f"seed-recommendations-{label(url)}.json").write_text(json.dumps(out, indent=2))
    click.echo(json.dumps(out, indent=2))


def _sample(n: int, seed_: int) -> list[int]:
    """Buyer ids: half with needs of their own, a quarter delegation members, a quarter with interests only."""
    from sqlalchemy import exists, select

    from expo.buyers.models import Buyer
    from expo.docking.models import BuyerNeed
    from expo.extensions import db

    rng = random.Random(seed_)
    with_needs = list(db.session.scalars(select(BuyerNeed.buyer_id).where(BuyerNeed.buyer_id.is_not(None))
                                         .distinct()))
    members = list(db.session.scalars(select(Buyer.id).where(Buyer.delegation_id.is_not(None))))
    interests = list(db.session.scalars(select(Buyer.id).where(
        Buyer.delegation_id.is_(None), ~exists().where(BuyerNeed.buyer_id == Buyer.id))))
    out = rng.sample(with_needs, min(len(with_needs), n // 2)) + rng.sample(members, min(len(members), n // 4))
    out += rng.sample(interests, min(len(interests), n - len(out)))
    rng.shuffle(out)
    return out


@cli.command()
@click.option("--database-url", default=None, help="Database URL (default: bench/out/recommendations.sqlite3).")
@click.option("--buyers", "n", default=200, show_default=True, help="How many buyers to time.")
@click.option("--warmup", default=20, show_default=True)
@click.option("--exhibitor-samples", default=20, show_default=True)
@click.option("--seed", "seed_", default=2027, show_default=True)
def measure(database_url: str | None, n: int, warmup: int, exhibitor_samples: int, seed_: int) -> None:
    """Time for_buyer for a sample of buyers, each beside its ranking statement run bare (the floor)."""
    from sqlalchemy import func, select

    from expo.buyers.models import Buyer
    from expo.docking import matching
    from expo.docking.models import BuyerNeed, ExhibitorOffer
    from expo.exhibitors.models import Exhibitor
    from expo.exhibitors.services import current_expo
    from expo.extensions import db

    url = database_url or SQLITE_URL
    app = bench_app(url)
    load_start = os.getloadavg()
    with app.app_context():
        counts = {"exhibitors": db.session.scalar(select(func.count()).select_from(Exhibitor)),
                  "buyers": db.session.scalar(select(func.count()).select_from(Buyer)),
                  "offers": db.session.scalar(select(func.count()).select_from(ExhibitorOffer)),
                  "needs": db.session.scalar(select(func.count()).select_from(BuyerNeed))}
        ids = _sample(n + warmup, seed_)
        tree = matching.Tree.load()
        plans = []
        for buyer_id in ids:  # the floor's statement and the candidates' count, built beforehand
            buyer = db.session.get(Buyer, buyer_id)
            wants = matching.wants_of(buyer)
            categories: set[int] = set()
            for want in wants:
                categories |= tree.related(want.category_id)
            count = db.session.scalar(select(func.count()).select_from(matching.candidate_offers_query(
                buyer.expo_id, buyer_id, categories).subquery())) if wants else 0
            statements = []
            if wants:  # what for_buyer runs: its own categories first, the related ones when they may count
                statements.append(matching.ranked_exhibitors_query(buyer.expo_id, buyer_id, wants, tree, 20,
                                                                   related_too=False))
                top = db.session.execute(statements[0]).all()
                if len(top) < 20 or top[-1][1] <= max(matching.related_best(w) for w in wants):
                    statements.append(matching.ranked_exhibitors_query(buyer.expo_id, buyer_id, wants, tree, 20))
            plans.append((buyer_id, statements, count))
        db.session.remove()
        full, floor, candidates, results = [], [], [], []
        for i, (buyer_id, statements, count) in enumerate(plans):
            buyer = db.session.get(Buyer, buyer_id)
            t0 = time.perf_counter()
            found = matching.for_buyer(buyer, 20)
            t_full = (time.perf_counter() - t0) * 1000
            t0 = time.perf_counter()
            for statement in statements:
                db.session.execute(statement).all()
            t_floor = (time.perf_counter() - t0) * 1000
            if i >= warmup:
                full.append(t_full)
                floor.append(t_floor)
                candidates.append(count)
                results.append(len(found))
            db.session.expunge_all()
        expo = current_expo()
        exhibitor_ids = list(db.session.scalars(select(ExhibitorOffer.exhibitor_id).distinct()
                                                .order_by(ExhibitorOffer.exhibitor_id)))
        rng = random.Random(seed_)
        ex_ms = []
        for exhibitor_id in rng.sample(exhibitor_ids, min(exhibitor_samples, len(exhibitor_ids))):
            exhibitor = db.session.get(Exhibitor, exhibitor_id)
            t0 = time.perf_counter()
            matching.for_exhibitor(exhibitor, expo, 20)
            ex_ms.append((time.perf_counter() - t0) * 1000)
    f, fl = summary(full), summary(floor)
    out = {"database": label(url), **counts, "for_buyer_ms": f, "floor_ms": fl,
           "ratio_p50": round(f["p50"] / fl["p50"], 2) if fl["p50"] else None,
           "ratio_p95": round(f["p95"] / fl["p95"], 2) if fl["p95"] else None,
           "candidates": {"p50": pct(candidates, .5), "p95": pct(candidates, .95), "max": max(candidates)},
           "recommended_per_buyer": {"p50": pct(results, .5), "min": min(results)},
           "target_ms": TARGET_MS, "target_met": f["p95"] < TARGET_MS,
           "for_exhibitor_ms": summary(ex_ms) if ex_ms else None,
           "machine": machine(), "load_average": {"start": load_start, "end": os.getloadavg()}}
    OUT.mkdir(exist_ok=True)
    (OUT / f"recommendations-{label(url)}.json").write_text(json.dumps(out, indent=2))
    click.echo(f"{label(url)}: {counts['exhibitors']:,} exhibitors, {counts['offers']:,} offers, "
               f"{counts['buyers']:,} buyers, {counts['needs']:,} needs")
    click.echo(f"for_buyer  p50 {f['p50']:.1f} ms  p95 {f['p95']:.1f} ms  max {f['max']:.1f} ms  (n={f['n']})")
    click.echo(f"floor      p50 {fl['p50']:.1f} ms  p95 {fl['p95']:.1f} ms  max {fl['max']:.1f} ms  "
               f"ratio p50 {out['ratio_p50']}  p95 {out['ratio_p95']}")
    click.echo(f"candidates per buyer p50 {out['candidates']['p50']}  p95 {out['candidates']['p95']}  "
               f"max {out['candidates']['max']}; target p95 < {TARGET_MS:.0f} ms: "
               f"{'met' if out['target_met'] else 'NOT met'}")
    if ex_ms:
        e = out["for_exhibitor_ms"]
        click.echo(f"for_exhibitor (information) p50 {e['p50']:.1f} ms  p95 {e['p95']:.1f} ms  max {e['max']:.1f} ms")


if __name__ == "__main__":
    cli()
