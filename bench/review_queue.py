"""The review queue at Canton-Fair size: server-side time of the organizer's page and of the API list, beside the
floor — the same queue query (services.queue_query, count and page) run bare through SQLAlchemy.

    python bench/seed.py && python bench/seed.py --pg        # once: the data sets
    python bench/review_queue.py                             # SQLite
    python bench/review_queue.py --pg                        # SQLite and PostgreSQL

For every database, one deterministic mix of 200 parameter sets (filters, sorts, text searches, deep pages, both
languages) is played three ways, interleaved so that the noise of a shared machine falls on all three alike:

- page:  GET /organizer/applications as a signed-in organizer (session cookie, real login);
- api:   GET /api/v1/exhibitors with a bearer token;
- floor: listing.paginate(services.queue_query(...)) in an app context, no request: the count and the page.

Server-side time is measured inside the process around the WSGI application (app.wsgi_app, body included), after a
warm-up. SQL statements are counted per request with a SQLAlchemy event listener.
"""

from __future__ import annotations

import cProfile
import io
import json
import math
import os
import pstats
import random
import re
import statistics
import time
from collections import Counter, defaultdict
from datetime import date, timedelta
from pathlib import Path
from urllib.parse import urlencode

import click
from common import OUT, PG_URL_ENV, SQLITE_URL, bench_app, label, machine

DEFAULT_PG = "postgresql+psycopg://postgres@127.0.0.1:5432/expo_bench"
TARGET_P95_MS = 150.0
STATUSES = ["draft", "submitted", "approved", "waitlisted", "rejected", "withdrawn"]
SORTS = ["submitted", "name", "name_zh", "country", "status", "booths", "years"]
COUNTRIES = ["CN", "IT", "VN", "TW", "KR", "IN", "DE", "HK", "US"]
#: Words an organizer types: towns, brands, trades (English and Chinese), a foreign company, an exhibitor's e-mail.
SEARCHES = ["Jinjiang", "晋江", "Hongxing", "鸿星", "Atlas", "Machinery", "泉州华丰", "Putian", "Stride Soles", "鞋材",
            "Taichung", "sales@ex0123", "Wenzhou Xinli", "S.r.l.", "GmbH", "feng tay", "xyz-no-match"]


# --- the parameter mix --------------------------------------------------------------------------------------------

def parameter_mix(n: int, seed: int, *, areas: list[int], pavilions: list[int], categories: list[int],
                  total: int) -> list[dict]:
    """``n`` query-string dicts, as the review queue's filter form sends them; each has a "kind" for the report."""
    rng = random.Random(seed)
    kinds = [("first page", 22), ("status", 18), ("filter", 18), ("search", 14), ("sort", 10), ("date range", 6),
             ("deep page", 12)]
    out = []
    for _ in range(n):
        kind = rng.choices([k for k, _w in kinds], weights=[w for _k, w in kinds])[0]
        p: dict = {}
        if kind == "status":
            p["status"] = rng.choices(STATUSES, weights=[8, 40, 30, 10, 6, 6])[0]
            p["sort"] = rng.choice(["submitted", "submitted", "name", "booths", "years"])
            p["page"] = rng.choice([1, 1, 1, 2, 3])
        elif kind == "filter":
            for key, values in (("area_id", areas), ("pavilion_id", pavilions), ("country", COUNTRIES),
                                ("category_id", categories)):
                if rng.random() < 0.4:
                    p[key] = rng.choice(values)
            if not p:
                p["pavilion_id"] = rng.choice(pavilions)
            if rng.random() < 0.5:
                p["status"] = "submitted"
            p["page"] = rng.choice([1, 1, 2])
        elif kind == "search":
            p["q"] = rng.choice(SEARCHES)
            if rng.random() < 0.3:
                p["status"] = rng.choice(STATUSES[:3])
        elif kind == "sort":
            p["sort"] = rng.choice(SORTS)
            p["page"] = rng.choice([1, 2, 5, 10])
        elif kind == "date range":
            start = date(2026, 6, 1) + timedelta(days=rng.randint(0, 120))
            p["submitted_from"] = start.isoformat()
            p["submitted_to"] = (start + timedelta(days=rng.choice([1, 7, 30]))).isoformat()
            p["sort"] = "submitted"
        elif kind == "deep page":
            p["sort"] = rng.choice(SORTS)
            per_page = rng.choice([50, 50, 100])
            last = max(1, math.ceil(total / per_page))
            p["per_page"] = per_page
            # the middle, the end, and past the end (clamped to the last page by the app)
            p["page"] = rng.choice([rng.randint(last // 4, last), last, last + 50])
        if rng.random() < 0.35:
            p["desc"] = "y"
        if kind != "deep page" and rng.random() < 0.15:
            p["per_page"] = rng.choice([100, 200])
        out.append({"kind": kind, "lang": rng.choice(["en", "zh"]), "params": p})
    return out


def queue_filter(params: dict):
    """The QueueFilter the views build from these parameters (what the filter form would give them)."""
    from expo.exhibitors.services import QueueFilter

    def day(key):
        return date.fromisoformat(params[key]) if params.get(key) else None

    return QueueFilter(status=params.get("status") or None, area_id=params.get("area_id"),
                       pavilion_id=params.get("pavilion_id"), country=params.get("country") or None,
                       category_id=params.get("category_id"), q=params.get("q") or None,
                       submitted_from=day("submitted_from"), submitted_to=day("submitted_to"),
                       sort=params.get("sort") or "submitted", descending=bool(params.get("desc")))


# --- measuring ----------------------------------------------------------------------------------------------------

class WsgiTimer:
    """Wraps app.wsgi_app: the time from the call to the last byte of the body, for the last request."""

    def __init__(self, wsgi_app):
        self.wsgi_app = wsgi_app
        self.last = 0.0

    def __call__(self, environ, start_response):
        t0 = time.perf_counter()
        body = self.wsgi_app(environ, start_response)
        try:
            chunks = list(body)
        finally:
            if hasattr(body, "close"):
                body.close()
        self.last = time.perf_counter() - t0
        return chunks


class StatementCounter:
    def __init__(self):
        self.n = 0

    def __call__(self, *_args, **_kw):
        self.n += 1


def pct(values: list[float], q: float) -> float:
    """Nearest-rank percentile."""
    s = sorted(values)
    return s[max(0, math.ceil(q * len(s)) - 1)]


def summary(ms: list[float]) -> dict:
    return {"n": len(ms), "p50": round(pct(ms, .50), 2), "p95": round(pct(ms, .95), 2), "max": round(max(ms), 2),
            "mean": round(statistics.fmean(ms), 2)}


def login(client) -> None:
    from expo.demo import DEMO_PASSWORD

    html = client.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', html) or re.search(
        r'name="csrf_token" value="([^"]+)"', html)
    r = client.post("/login", data={"email": "admin@expo.test", "password": DEMO_PASSWORD,
                                    "csrf_token": token.group(1) if token else ""})
    if r.status_code != 302:
        raise SystemExit(f"could not sign in as admin@expo.test (status {r.status_code})")


def run_database(url: str, n: int, seed: int, warmup: int, profile: str | None) -> dict:
    from sqlalchemy import event, func, select

    from expo import listing
    from expo.auth import services as auth_services
    from expo.auth.models import User
    from expo.categories.models import ProductCategory
    from expo.exhibitors import services
    from expo.exhibitors.models import SpaceApplication
    from expo.extensions import db
    from expo.venue.models import ExhibitionArea, Expo, Pavilion

    app = bench_app(url)
    timer = WsgiTimer(app.wsgi_app)
    app.wsgi_app = timer
    with app.app_context():
        expo = services.current_expo()
        total = db.session.scalar(select(func.count()).select_from(SpaceApplication)
                                  .where(SpaceApplication.expo_id == expo.id))
        if total < 1000:
            raise SystemExit(f"{label(url)} holds {total} applications: run bench/seed.py first")
        areas = list(db.session.scalars(select(ExhibitionArea.id).where(ExhibitionArea.expo_id == expo.id)))
        pavilions = list(db.session.scalars(select(Pavilion.id).where(Pavilion.expo_id == expo.id)))
        categories = list(db.session.scalars(select(ProductCategory.id)))
        admin = db.session.scalar(select(User).where(User.email == "admin@expo.test"))
        _tok, secret = auth_services.create_api_token(admin, "bench")
        db.session.commit()
        expo_id = expo.id
        db.session.remove()
        counter = StatementCounter()
        event.listen(db.engine, "before_cursor_execute", counter)

    mix = parameter_mix(n, seed, areas=areas, pavilions=pavilions, categories=categories, total=total)
    warm = parameter_mix(warmup, seed + 1, areas=areas, pavilions=pavilions, categories=categories, total=total)
    client = app.test_client()
    login(client)
    api_client = app.test_client()  # no session cookie: the bearer token alone signs the API calls in
    bearer = {"Authorization": f"Bearer {secret}"}

    def page(item):
        r = client.get(f"/organizer/applications?{urlencode(item['params'])}",
                       headers={"Accept-Language": item["lang"]})
        assert r.status_code == 200, (r.status_code, item)
        return r

    def api(item):
        r = api_client.get(f"/api/v1/exhibitors?{urlencode(item['params'])}",
                       headers={**bearer, "Accept-Language": item["lang"]})
        assert r.status_code == 200, (r.status_code, item, r.get_data(as_text=True)[:300])
        return r

    def floor(item, naive=False):
        """The data access of one page, bare: the count and the page's rows, no request, form or template."""
        p = item["params"]
        with app.app_context():
            expo_obj = db.session.get(Expo, expo_id)
            flt, number, per_page = queue_filter(p), int(p.get("page", 1)), int(p.get("per_page", 50))
            t0 = time.perf_counter()
            if naive:  # the straightforward form: count a subquery of the join, then LIMIT/OFFSET whole rows
                pg = listing.paginate(services.queue_query(expo_obj, flt), number, per_page)
            else:
                pg = services.queue_page(expo_obj, flt, number, per_page)
            elapsed = time.perf_counter() - t0
            ids = [row[0].id for row in pg.items]
            db.session.remove()
        return elapsed, (pg.total, pg.page, ids)

    def naive(item):
        return floor(item, naive=True)

    def shown_ids(name, response) -> list[int]:
        """The application ids a response shows, in its order: the page's checkboxes, the API's items."""
        if name == "page":
            html = response.get_data(as_text=True)
            return [int(v) for v in re.findall(r'name="application_ids" value="(\d+)"', html)]
        return [item["application"]["id"] for item in response.get_json()["items"]]

    for item in warm:
        page(item), api(item), floor(item), naive(item)

    if profile:
        prof = cProfile.Profile()
        prof.enable()
        for item in mix:
            {"page": page, "api": api, "floor": floor}[profile](item)
        prof.disable()
        buf = io.StringIO()
        pstats.Stats(prof, stream=buf).sort_stats("cumulative").print_stats(60)
        path = OUT / f"profile-{label(url)}-{profile}.txt"
        path.write_text(buf.getvalue())
        click.echo(f"profile written to {path}")

    names = ("page", "api", "floor", "naive")
    times: dict[str, list[float]] = {name: [] for name in names}
    statements: dict[str, list[int]] = {name: [] for name in names}
    by_kind: dict[str, dict[str, list[float]]] = defaultdict(lambda: defaultdict(list))
    slowest: dict[str, list] = {name: [] for name in names}
    totals = Counter()
    for item in mix:
        seen, shown = None, {}
        for name, fn in (("page", page), ("api", api), ("floor", floor), ("naive", naive)):
            counter.n = 0
            if name in ("floor", "naive"):
                elapsed, got = fn(item)
                totals[f"{name}_matched"] += got[0]
                if name == "naive" and got != seen:  # the page the app shows is the one the plain query gives
                    raise SystemExit(f"queue_page and paginate(queue_query) differ for {item}: {seen} != {got}")
                seen = got
                if name == "floor" and not shown["page"] == shown["api"] == got[2]:
                    raise SystemExit(f"the page or the API does not show the floor's rows for {item}")
            else:
                r = fn(item)
                elapsed = timer.last
                totals[f"{name}_bytes"] += len(r.get_data())
                shown[name] = shown_ids(name, r)
            ms = elapsed * 1000
            times[name].append(ms)
            # the floor's own app context adds one statement (the Expo) outside the timed part
            statements[name].append(counter.n - (1 if name in ("floor", "naive") else 0))
            by_kind[item["kind"]][name].append(ms)
            slowest[name].append((round(ms, 2), item["kind"], item["params"]))
    with app.app_context():
        event.remove(db.engine, "before_cursor_execute", counter)
        db.engine.dispose()

    result = {"database": label(url), "applications": total, "requests": n, "seed": seed}
    if totals["floor_matched"] != totals["naive_matched"]:
        raise SystemExit(f"the floor and the naive query disagree on the totals: {totals}")
    for name in names:
        result[name] = summary(times[name]) | {
            "sql_statements": {"min": min(statements[name]), "median": statistics.median(statements[name]),
                               "max": max(statements[name])},
            "slowest": sorted(slowest[name], key=lambda x: -x[0])[:5]}
    for name in ("page", "api"):
        result[name]["ratio_p50"] = round(result[name]["p50"] / result["floor"]["p50"], 2)
        result[name]["ratio_p95"] = round(result[name]["p95"] / result["floor"]["p95"], 2)
        result[name]["avg_bytes"] = totals[f"{name}_bytes"] // n
    result["by_kind"] = {kind: {name: summary(v) for name, v in d.items()} | {"n": len(d["page"])}
                         for kind, d in sorted(by_kind.items())}
    return result


def print_report(results: list[dict]) -> None:
    click.echo("")
    head = (f"{'database':<11}{'endpoint':<30}{'n':>4}{'p50 ms':>9}{'p95 ms':>9}{'max ms':>9}{'SQL/req':>9}"
            f"{'floor p50':>11}{'floor p95':>11}{'×p50':>7}{'×p95':>7}  target")
    click.echo(head)
    click.echo("-" * len(head))
    for r in results:
        f = r["floor"]
        for name, path in (("page", "/organizer/applications"), ("api", "/api/v1/exhibitors")):
            e = r[name]
            ok = "ok" if e["p95"] < TARGET_P95_MS else "MISSED"
            click.echo(f"{r['database']:<11}{path:<30}{e['n']:>4}{e['p50']:>9.1f}{e['p95']:>9.1f}{e['max']:>9.1f}"
                       f"{e['sql_statements']['median']:>9g}{f['p50']:>11.1f}{f['p95']:>11.1f}"
                       f"{e['ratio_p50']:>7.2f}{e['ratio_p95']:>7.2f}  p95<{TARGET_P95_MS:g} {ok}")
        for name, what in (("floor", "floor: queue_page, bare"), ("naive", "paginate(queue_query), bare")):
            x = r[name]
            click.echo(f"{r['database']:<11}{what:<30}{x['n']:>4}{x['p50']:>9.1f}{x['p95']:>9.1f}{x['max']:>9.1f}"
                       f"{x['sql_statements']['median']:>9g}")
    click.echo("\nBy kind of request (p50 / p95 ms):")
    names = ("page", "api", "floor", "naive")
    for r in results:
        click.echo(f"  {r['database']}")
        for kind, d in r["by_kind"].items():
            cells = "   ".join(f"{name} {d[name]['p50']:6.1f} / {d[name]['p95']:6.1f}" for name in names)
            click.echo(f"    {kind:<11} n={d['n']:<3}  {cells}")
    click.echo("\nSlowest requests:")
    for r in results:
        for name in ("page", "api", "floor"):
            for ms, kind, params in r[name]["slowest"][:3]:
                click.echo(f"  {r['database']:<11}{name:<6}{ms:8.1f} ms  {kind:<11} {params}")


@click.command()
@click.option("--sqlite-url", default=SQLITE_URL, show_default=True)
@click.option("--no-sqlite", is_flag=True, help="Skip SQLite.")
@click.option("--pg", is_flag=True, help=f"Also PostgreSQL: ${PG_URL_ENV} or {DEFAULT_PG}.")
@click.option("--pg-url", help="PostgreSQL URL (implies --pg).")
@click.option("--requests", "n", default=200, show_default=True)
@click.option("--warmup", default=30, show_default=True)
@click.option("--seed", default=2027, show_default=True, help="Seed of the parameter mix.")
@click.option("--profile", type=click.Choice(["page", "api", "floor"]),
              help="Also run the mix once under cProfile and write bench/out/profile-<db>-<what>.txt.")
def main(sqlite_url, no_sqlite, pg, pg_url, n, warmup, seed, profile) -> None:
    """Measure the review-queue page and the API list against the bare query."""
    urls = [] if no_sqlite else [sqlite_url]
    if pg or pg_url:
        urls.append(pg_url or os.environ.get(PG_URL_ENV) or DEFAULT_PG)
    results = []
    for url in urls:
        click.echo(f"{label(url)}: {warmup} warm-up and {n} measured parameter sets × (page, api, floor) ...",
                   err=True)
        t0 = time.perf_counter()
        results.append(run_database(url, n, seed, warmup, profile))
        click.echo(f"  done in {time.perf_counter() - t0:.1f} s", err=True)
    print_report(results)
    seeds = {}
    for r in results:
        p = OUT / f"seed-{r['database']}.json"
        if p.exists():
            seeds[r["database"]] = json.loads(p.read_text())["seconds"]
    out = {"target_p95_ms": TARGET_P95_MS, "when": time.strftime("%Y-%m-%dT%H:%M:%S"), "machine": machine(),
           "load_average": os.getloadavg(), "seeding_seconds": seeds, "results": results}
    OUT.mkdir(exist_ok=True)
    path = OUT / "review_queue.json"
    path.write_text(json.dumps(out, indent=2, ensure_ascii=False, default=str))
    click.echo(f"\nwritten to {Path(path).relative_to(Path.cwd()) if path.is_relative_to(Path.cwd()) else path}")


if __name__ == "__main__":
    main()
