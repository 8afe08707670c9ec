"""Buyers at scale: 300,000 buyers in 550 delegations. Server-side time of the organizer's buyer list, the API list
and the organizer's delegations board, each beside its floor — the same query run bare through SQLAlchemy.

    python bench/buyers.py seed --pg          # once: bench/out/buyers.sqlite3 and PostgreSQL expo_bench_buyers
    python bench/buyers.py measure --pg       # SQLite, then PostgreSQL

For every database, one deterministic mix of 200 parameter sets (first pages, filters by country, region,
category, status and hosted status, searches by name, company and e-mail in Latin, Chinese and Cyrillic letters,
sorts, deep pages; both languages) is played three ways, interleaved so that the noise of a shared machine falls on
all of them alike:

- page:  GET /organizer/buyers as a signed-in organizer (session cookie, real login);
- api:   GET /api/v1/buyers with a bearer token;
- floor: expo.buyers.queries.buyer_page(expo, filter, page, per_page) in an app context, no request.

and a mix of 200 parameter sets for the delegations board, two ways:

- board: GET /organizer/delegations (filters, search, sorts, pages, and the arrival schedule above the list);
- floor: delegations.board_page(...) and delegations.arrival_schedule(...) bare.

Server-side time is measured inside the process around the WSGI application (app.wsgi_app, body included), after a
warm-up; SQL statements are counted per request. See bench/README.md, "Buyers at scale".
"""

from __future__ import annotations

import json
import math
import os
import random
import re
import statistics
import sys
import time
from collections import defaultdict
from datetime import date, timedelta
from urllib.parse import urlencode

import click
from common import OUT, PG_URL_ENV, bench_app, label, machine, recreate_database
from review_queue import StatementCounter, WsgiTimer, login, summary

SQLITE_URL = f"sqlite:///{OUT / 'buyers.sqlite3'}"
DEFAULT_PG = "postgresql+psycopg://postgres@127.0.0.1:5432/expo_bench_buyers"
BUYERS, DELEGATIONS, EXHIBITORS = 300_000, 550, 1_000
TARGET_P95_MS = 150.0

COUNTRIES = ["RU", "US", "BR", "VN", "IN", "DE", "AE", "NG", "KZ", "MY", "JP", "ET"]
REGIONS = ["030", "035", "034", "145", "151", "154", "155", "202", "021", "419", "015", "143"]
STATUSES = ["registered", "invited", "cancelled"]
HOSTED = ["applied", "approved", "declined", "none"]
#: What an organizer types: names (Latin, Chinese, Cyrillic, Vietnamese), companies, e-mail addresses.
SEARCHES = ["Petrov", "Maria Santos", "Nguyen", "林伟", "王", "陈静", "Иван", "Смирнова", "Nguyễn", "Atlas Trading",
            "Horizon Footwear", "Imports", "buyer012345@", "buyers.example.com", "santos", "xyz-no-match", "Kim"]
BOARD_SORTS = ["arrival", "departure", "name", "country", "members"]
BOARD_SEARCHES = ["Russia", "Footwear Importers", "Chamber of Commerce", "Nguyen Van An", "leader000123", "Brazil",
                  "Association", "no-such-delegation"]


def database_urls(no_sqlite: bool, pg: bool, pg_url: str | None) -> list[str]:
    urls = [] if no_sqlite else [SQLITE_URL]
    if pg or pg_url:
        urls.append(pg_url or os.environ.get(PG_URL_ENV, "").replace("/expo_bench", "/expo_bench_buyers")
                    or DEFAULT_PG)
    return urls


def seed_database(url: str, buyers: int, delegations: int, exhibitors: int) -> dict:
    """Drop and create the database, migrate it, load the demo generator at this size and commit."""
    from flask_migrate import upgrade
    from sqlalchemy import text

    from expo import demo
    from expo.extensions import db

    recreate_database(url)
    app = bench_app(url)
    with app.app_context():
        t0 = time.perf_counter()
        upgrade(directory=app.extensions["migrate"].directory)
        t_upgrade = time.perf_counter() - t0
        t0 = time.perf_counter()
        with click.progressbar(length=1 + exhibitors + buyers, label=f"Seeding {label(url)}", file=sys.stderr,
                               show_pos=True) as bar:
            summary = demo.load(exhibitors=exhibitors, buyers=buyers, delegations=delegations, progress=bar.update)
        t_load = time.perf_counter() - t0
        t0 = time.perf_counter()
        db.session.commit()
        t_commit = time.perf_counter() - t0
        t0 = time.perf_counter()
        if db.engine.dialect.name == "postgresql":  # what autovacuum does shortly after a bulk load
            with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
                conn.execute(text("VACUUM ANALYZE"))
        t_analyze = time.perf_counter() - t0
        db.session.remove()
        db.engine.dispose()
    out = {"database": label(url), "buyers": summary.buyers, "delegations": summary.delegations,
           "countries": summary.buyer_countries, "exhibitors": summary.exhibitors,
           "seconds": {"upgrade": round(t_upgrade, 2), "load": round(t_load, 2), "commit": round(t_commit, 2),
                       "total": round(t_upgrade + t_load + t_commit, 2), "analyze": round(t_analyze, 2)},
           "machine": machine(), "load_average": os.getloadavg()}
    OUT.mkdir(exist_ok=True)
    (OUT / f"seed-buyers-{label(url)}.json").write_text(json.dumps(out, indent=2))
    return out


# --- the parameter mixes ------------------------------------------------------------------------------------------

def buyer_mix(n: int, seed: int, *, categories: list[int], total: int, sorts: list[str]) -> list[dict]:
    """``n`` query-string dicts as the buyer list's filter form sends them (``sorts``: the keys its sort field
    offers), each with a "kind" for the report."""
    rng = random.Random(seed)
    kinds = [("first page", 20), ("filter", 26), ("search", 20), ("sort", 12), ("deep page", 12), ("delegation", 10)]
    out = []
    for _ in range(n):
        kind = rng.choices([k for k, _w in kinds], weights=[w for _k, w in kinds])[0]
        p: dict = {}
        if kind == "first page":
            if rng.random() < 0.3:
                p["sort"] = rng.choice(sorts)
        elif kind == "filter":
            for key, values, share in (("country", COUNTRIES, .35), ("region", REGIONS, .25),
                                       ("category_id", categories, .35), ("status", STATUSES, .2),
                                       ("hosted_status", HOSTED[:3], .3)):
                if rng.random() < share:
                    p[key] = rng.choice(values)
            if not p:
                p["hosted_status"] = rng.choice(HOSTED[:3])
            p["page"] = rng.choice([1, 1, 1, 2, 3])
        elif kind == "search":
            p["q"] = rng.choice(SEARCHES)
            if rng.random() < 0.25:
                p["country"] = rng.choice(COUNTRIES)
        elif kind == "sort":
            p["sort"] = rng.choice(sorts)
            p["page"] = rng.choice([1, 2, 5, 10])
        elif kind == "deep page":
            p["sort"] = rng.choice(sorts)
            per_page = rng.choice([50, 50, 100])
            last = max(1, math.ceil(total / per_page))
            p["per_page"] = per_page
            p["page"] = rng.choice([rng.randint(last // 4, last), last, last + 50])  # past the end: clamped
        elif kind == "delegation":
            p["delegation"] = rng.choice(["delegation", "independent"])
            if rng.random() < 0.5:
                p["country"] = rng.choice(COUNTRIES)
        if rng.random() < 0.3:
            p["desc"] = "y"
        if kind != "deep page" and rng.random() < 0.15:
            p["per_page"] = rng.choice([100, 200])
        out.append({"kind": kind, "lang": rng.choice(["en", "zh"]), "params": p})
    return out


def board_mix(n: int, seed: int, *, delegations: int) -> list[dict]:
    """``n`` query-string dicts as the delegations board's filter form sends them."""
    rng = random.Random(seed)
    kinds = [("first page", 30), ("filter", 25), ("search", 20), ("sort", 15), ("deep page", 10)]
    out = []
    for _ in range(n):
        kind = rng.choices([k for k, _w in kinds], weights=[w for _k, w in kinds])[0]
        p: dict = {}
        if kind == "filter":
            if rng.random() < 0.5:
                p["country"] = rng.choice(COUNTRIES)
            if rng.random() < 0.5:
                start = date(2027, 4, 16) + timedelta(days=rng.randint(0, 3))
                p["arrival_from"] = start.isoformat()
                p["arrival_to"] = (start + timedelta(days=rng.choice([0, 1, 3]))).isoformat()
            if rng.random() < 0.4 or not p:
                p["interpreter"] = rng.choice(["yes", "no"])
        elif kind == "search":
            p["q"] = rng.choice(BOARD_SEARCHES)
        elif kind == "sort":
            p["sort"] = rng.choice(BOARD_SORTS)
            p["page"] = rng.choice([1, 2, 5])
        elif kind == "deep page":
            p["sort"] = rng.choice(BOARD_SORTS)
            p["page"] = rng.choice([math.ceil(delegations / 50), 5, 99])
        if rng.random() < 0.3:
            p["desc"] = "y"
        out.append({"kind": kind, "lang": rng.choice(["en", "zh"]), "params": p})
    return out


def buyer_filter(params: dict):
    """The BuyerFilter the views build from these parameters (what the filter form gives them)."""
    from expo.buyers.queries import BuyerFilter

    return BuyerFilter(country=params.get("country"), region=params.get("region"),
                       category_id=params.get("category_id"), status=params.get("status"),
                       hosted_status=params.get("hosted_status"), delegation=params.get("delegation"),
                       q=(params.get("q") or "").strip() or None, sort=params.get("sort") or "name",
                       descending=bool(params.get("desc")))


def board_filter(params: dict):
    from expo.buyers.delegations import BoardFilter

    def day(key):
        return date.fromisoformat(params[key]) if params.get(key) else None

    return BoardFilter(country=params.get("country"), arrival_from=day("arrival_from"), arrival_to=day("arrival_to"),
                       interpreter={"yes": True, "no": False}.get(params.get("interpreter", "")),
                       q=params.get("q"), sort=params.get("sort") or "arrival", descending=bool(params.get("desc")))


# --- measuring ----------------------------------------------------------------------------------------------------



def run_database(url: str, n: int, seed: int, warmup: int) -> dict:
    from sqlalchemy import event, func, select

    from expo.auth import services as auth_services
    from expo.auth.models import User
    from expo.buyers import delegations as delegation_services
    from expo.buyers.forms import SORT_CHOICES
    from expo.buyers.models import Buyer, Delegation
    from expo.buyers.queries import buyer_page
    from expo.categories.models import ProductCategory
    from expo.exhibitors.services import current_expo
    from expo.extensions import db
    from expo.venue.models import Expo

    app = bench_app(url)
    timer = WsgiTimer(app.wsgi_app)
    app.wsgi_app = timer
    with app.app_context():
        expo = current_expo()
        total = db.session.scalar(select(func.count(Buyer.id)).where(Buyer.expo_id == expo.id))
        n_delegations = db.session.scalar(select(func.count(Delegation.id)).where(Delegation.expo_id == expo.id))
        if total < 1000:
            raise SystemExit(f"{label(url)} holds {total} buyers: run `bench/buyers.py seed` first")
        categories = list(db.session.scalars(select(ProductCategory.id).order_by(ProductCategory.id)))
        admin = db.session.scalar(select(User).where(User.email == "admin@expo.test"))
        _tok, secret = auth_services.create_api_token(admin, "bench")
        db.session.commit()
        expo_id = expo.id
        db.session.remove()
        counter = StatementCounter()
        event.listen(db.engine, "before_cursor_execute", counter)

    client = app.test_client()
    login(client)
    api_client = app.test_client()  # no session cookie: the bearer token alone signs the API calls in
    bearer = {"Authorization": f"Bearer {secret}"}

    def get(c, path, item, headers=None):
        r = c.get(f"{path}?{urlencode(item['params'])}", headers={**(headers or {}), "Accept-Language": item["lang"]})
        assert r.status_code == 200, (r.status_code, path, item, r.get_data(as_text=True)[:300])
        return r

    def buyer_floor(item):
        p = item["params"]
        with app.app_context():
            expo_obj = db.session.get(Expo, expo_id)
            counter.n = 0
            t0 = time.perf_counter()
            page = buyer_page(expo_obj, buyer_filter(p), int(p.get("page", 1)), int(p.get("per_page", 50)))
            elapsed = time.perf_counter() - t0
            ids = [b.id for b in page.items]
            db.session.remove()
        return elapsed, (page.total, page.page, ids)

    def board_floor(item):
        p = item["params"]
        with app.app_context():
            expo_obj = db.session.get(Expo, expo_id)
            counter.n = 0
            flt = board_filter(p)
            t0 = time.perf_counter()
            page = delegation_services.board_page(expo_obj, flt, int(p.get("page", 1)), int(p.get("per_page", 50)))
            delegation_services.arrival_schedule(expo_obj, flt)
            elapsed = time.perf_counter() - t0
            ids = [row[0].id for row in page.items]
            db.session.remove()
        return elapsed, (page.total, page.page, ids)

    def page_ids(html: str, pattern: str) -> list[int]:
        return [int(v) for v in re.findall(pattern, html)]

    endpoints = {
        # name: (request, ids it shows)
        "page": (lambda item: get(client, "/organizer/buyers", item),
                 lambda r: list(dict.fromkeys(page_ids(r.get_data(as_text=True), BUYER_LINK)))),
        "api": (lambda item: get(api_client, "/api/v1/buyers", item, bearer),
                lambda r: [b["id"] for b in r.get_json()["items"]]),
        "board": (lambda item: get(client, "/organizer/delegations", item),
                  lambda r: list(dict.fromkeys(page_ids(r.get_data(as_text=True), DELEGATION_LINK)))),
    }
    sorts = [key for key, _label in SORT_CHOICES]
    buyers = buyer_mix(n, seed, categories=categories, total=total, sorts=sorts)
    board = board_mix(n, seed + 7, delegations=n_delegations)
    plays = [("buyers", item, ("page", "api"), buyer_floor) for item in buyers] + \
            [("board", item, ("board",), board_floor) for item in board]
    random.Random(seed).shuffle(plays)  # the two mixes interleaved too
    warm = [("buyers", item, ("page", "api"), buyer_floor) for item in buyer_mix(warmup, seed + 1,
                                                                                  categories=categories, total=total,
                                                                                  sorts=sorts)]
    warm += [("board", item, ("board",), board_floor) for item in board_mix(warmup, seed + 8,
                                                                            delegations=n_delegations)]
    for _mix, item, names, floor in warm:
        for name in names:
            endpoints[name][0](item)
        floor(item)

    names = ("page", "api", "board", "buyer_floor", "board_floor")
    times: dict[str, list[float]] = {name: [] for name in names}
    statements: dict[str, list[int]] = {name: [] for name in names}
    by_kind: dict[str, dict[str, list[float]]] = defaultdict(lambda: defaultdict(list))
    slowest: dict[str, list] = {name: [] for name in names}
    for mix, item, shown_by, floor in plays:
        elapsed, (matched, page_no, ids) = floor(item)
        floor_name = f"{'buyer' if mix == 'buyers' else 'board'}_floor"
        for name, ms, sql in [(floor_name, elapsed * 1000, counter.n)] + [
                (name, *_play(endpoints[name], item, ids, timer, counter)) for name in shown_by]:
            times[name].append(ms)
            statements[name].append(sql)
            by_kind[f"{mix}: {item['kind']}"][name].append(ms)
            slowest[name].append((round(ms, 2), item["kind"], item["params"]))
    with app.app_context():
        event.remove(db.engine, "before_cursor_execute", counter)
        db.engine.dispose()

    result = {"database": label(url), "buyers": total, "delegations": n_delegations, "requests": n, "seed": seed}
    for name in names:
        result[name] = summary(times[name]) | {
            "sql_statements": {"min": min(statements[name]), "median": statistics.median(statements[name]),
                               "max": max(statements[name])},
            "slowest": sorted(slowest[name], key=lambda x: -x[0])[:5]}
    for name, floor_name in (("page", "buyer_floor"), ("api", "buyer_floor"), ("board", "board_floor")):
        result[name]["ratio_p50"] = round(result[name]["p50"] / result[floor_name]["p50"], 2)
        result[name]["ratio_p95"] = round(result[name]["p95"] / result[floor_name]["p95"], 2)
    result["by_kind"] = {kind: {name: summary(v) for name, v in d.items()} for kind, d in sorted(by_kind.items())}
    return result


#: The links that name a row on the pages: a buyer's detail page, a delegation's on the board.
BUYER_LINK = r'href="/organizer/buyers/(\d+)"'
DELEGATION_LINK = r'href="/organizer/delegations/(\d+)"'


def _play(endpoint, item, floor_ids: list[int], timer: WsgiTimer, counter: StatementCounter) -> tuple[float, int]:
    """One request; checks that it shows the floor's rows in the floor's order. Returns (ms, SQL statements)."""
    request, shown = endpoint
    counter.n = 0
    r = request(item)
    ids = shown(r)
    if ids != floor_ids:
        raise SystemExit(f"the answer does not show the floor's rows for {item}: {ids[:10]} != {floor_ids[:10]}")
    return timer.last * 1000, counter.n


def print_report(results: list[dict]) -> None:
    click.echo("")
    head = (f"{'database':<11}{'endpoint':<24}{'n':>4}{'p50 ms':>9}{'p95 ms':>9}{'max ms':>9}{'SQL/req':>9}"
            f"{'floor p50':>11}{'floor p95':>11}{'×p50':>7}{'×p95':>7}  target")
    click.echo(head)
    click.echo("-" * len(head))
    for r in results:
        for name, path, floor_name in (("page", "/organizer/buyers", "buyer_floor"),
                                       ("api", "/api/v1/buyers", "buyer_floor"),
                                       ("board", "/organizer/delegations", "board_floor")):
            e, f = r[name], r[floor_name]
            ok = "ok" if e["p95"] < TARGET_P95_MS else "MISSED"
            click.echo(f"{r['database']:<11}{path:<24}{e['n']:>4}{e['p50']:>9.1f}{e['p95']:>9.1f}{e['max']:>9.1f}"
                       f"{e['sql_statements']['median']:>9g}{f['p50']:>11.1f}{f['p95']:>11.1f}"
                       f"{e['ratio_p50']:>7.2f}{e['ratio_p95']:>7.2f}  p95<{TARGET_P95_MS:g} {ok}")
        for name, what in (("buyer_floor", "floor: buyer_page"), ("board_floor", "floor: board + schedule")):
            x = r[name]
            click.echo(f"{r['database']:<11}{what:<24}{x['n']:>4}{x['p50']:>9.1f}{x['p95']:>9.1f}{x['max']:>9.1f}"
                       f"{x['sql_statements']['median']:>9g}")
    click.echo("\nBy kind of request (p50 / p95 ms):")
    for r in results:
        click.echo(f"  {r['database']}")
        for kind, d in r["by_kind"].items():
            cells = "   ".join(f"{name} {v['p50']:6.1f} / {v['p95']:6.1f}" for name, v in d.items())
            click.echo(f"    {kind:<22} n={next(iter(d.values()))['n']:<3}  {cells}")
    click.echo("\nSlowest requests:")
    for r in results:
        for name in ("page", "api", "board", "buyer_floor"):
            for ms, kind, params in r[name]["slowest"][:3]:
                click.echo(f"  {r['database']:<11}{name:<12}{ms:8.1f} ms  {kind:<11} {params}")


@click.group()
def cli() -> None:
    """Buyers at scale: seed the data sets, then measure."""


@cli.command()
@click.option("--no-sqlite", is_flag=True, help="Skip SQLite.")
@click.option("--pg", is_flag=True, help=f"Also PostgreSQL: ${PG_URL_ENV} (database expo_bench_buyers) or "
                                         f"{DEFAULT_PG}.")
@click.option("--pg-url", help="PostgreSQL URL (implies --pg). Its database is dropped and created again.")
@click.option("--buyers", default=BUYERS, show_default=True)
@click.option("--delegations", default=DELEGATIONS, show_default=True)
@click.option("--exhibitors", default=EXHIBITORS, show_default=True)
def seed(no_sqlite, pg, pg_url, buyers, delegations, exhibitors) -> None:
    """Create the benchmark databases and fill them with the demo expo at buyer scale."""
    for url in database_urls(no_sqlite, pg, pg_url):
        r = seed_database(url, buyers, delegations, exhibitors)
        s = r["seconds"]
        click.echo(f"{r['database']}: {r['buyers']} buyers from {r['countries']} countries in {r['delegations']} "
                   f"delegations; upgrade {s['upgrade']} s, demo.load {s['load']} s, commit {s['commit']} s, "
                   f"total {s['total']} s" + (f" (+ VACUUM ANALYZE {s['analyze']} s)" if s["analyze"] > .01 else ""))


@cli.command()
@click.option("--no-sqlite", is_flag=True, help="Skip SQLite.")
@click.option("--pg", is_flag=True, help=f"Also PostgreSQL: ${PG_URL_ENV} (database expo_bench_buyers) or "
                                         f"{DEFAULT_PG}.")
@click.option("--pg-url", help="PostgreSQL URL (implies --pg).")
@click.option("--requests", "n", default=200, show_default=True, help="Parameter sets per mix.")
@click.option("--warmup", default=30, show_default=True)
@click.option("--seed", "mix_seed", default=2027, show_default=True, help="Seed of the parameter mixes.")
def measure(no_sqlite, pg, pg_url, n, warmup, mix_seed) -> None:
    """Measure the buyer list page, the API list and the delegations board against their bare queries."""
    results = []
    load = {"start": os.getloadavg()}
    for url in database_urls(no_sqlite, pg, pg_url):
        click.echo(f"{label(url)}: {warmup} warm-up and {n} measured parameter sets per mix ...", err=True)
        t0 = time.perf_counter()
        results.append(run_database(url, n, mix_seed, warmup))
        click.echo(f"  done in {time.perf_counter() - t0:.1f} s", err=True)
    load["end"] = os.getloadavg()
    print_report(results)
    click.echo(f"\nload average (1, 5, 15 min): at the start {load['start']}, at the end {load['end']}")
    seeds = {}
    for r in results:
        p = OUT / f"seed-buyers-{r['database']}.json"
        if p.exists():
            seeds[r["database"]] = json.loads(p.read_text())["seconds"]
    out = {"target_p95_ms": TARGET_P95_MS, "when": time.strftime("%Y-%m-%dT%H:%M:%S"), "machine": machine(),
           "load_average": load, "seeding_seconds": seeds, "results": results}
    OUT.mkdir(exist_ok=True)
    path = OUT / "buyers.json"
    path.write_text(json.dumps(out, indent=2, ensure_ascii=False, default=str))
    click.echo(f"written to {path}")


if __name__ == "__main__":
    cli()
