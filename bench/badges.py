"""Badges: one PDF of 10,000 badges on one core (badges/s, peak memory) beside the floor — a bare reportlab script
drawing the same pages with the QR matrices computed beforehand — and one badge printed on demand at the print
desk, through the real app (p50/p95 of the server-side time).

    python bench/badges.py                 # seeds bench/out/badges.sqlite3 the first time (not timed), then measures
    python bench/badges.py --rounds 5      # more rounds: the machine is shared, the median of the rounds is reported

Every measurement runs in a fresh subprocess pinned to CPU 0 (``os.sched_setaffinity(0, {0})``), so that its
peak RSS (``ru_maxrss``) is its own and it uses one core. The rounds interleave the three batch measurements, so
the noise of a shared machine falls on all of them alike:

- floor:   this file run as ``--floor-child``: reportlab alone (no expo code, no database), A6 pages with a colour
           band, the name, the company, the country and the QR as one path of one rectangle per dark run (module
           by module in Python, as a plain script would), the matrices unpacked before the clock starts;
- pdf_of:  ``expo.badges.printing.pdf_of`` over the 10,000 badges loaded beforehand (what the renderer costs:
           the cards, the auto-fitted names, Chinese names in the embedded CJK font, the type label, the
           confirmation code, the vector QR);
- run_job: ``expo.badges.printing.run_job`` of a print job for every buyer (what the background job costs: the
           selection resolved, progress committed every 200 badges, the PDF kept in the job's row, 10,000 prints
           counted); its prints are removed afterwards so every round starts alike.

On demand: 200 ``POST /desk/badges/<id>/print`` (the print desk's print button, engineer F's view) signed in as
the print desk, timed around ``app.wsgi_app`` as bench/review_queue.py does, beside ``printing.pdf_of`` of the same
badge in an app context and the floor's one page.
"""

from __future__ import annotations

import sys

if __name__ == "__main__" and sys.argv[1:2] == ["--floor-child"]:
    # The floor imports nothing of the project, nor SQLAlchemy: its peak memory is reportlab's and the data's.
    import base64
    import io
    import json
    import os
    import resource
    import time

    from reportlab.lib.colors import HexColor, black, white
    from reportlab.lib.units import mm
    from reportlab.pdfgen.canvas import Canvas

    os.sched_setaffinity(0, {0})
    with open(sys.argv[2], encoding="utf-8") as f:
        rows = json.load(f)
    one = len(sys.argv) > 3 and sys.argv[3] == "--one"

    def unpack(data: bytes) -> list[list[bool]]:
        n = data[0]
        bits = format(int.from_bytes(data[1:], "big"), f"0{8 * (len(data) - 1)}b")
        return [[c == "1" for c in bits[r * n:(r + 1) * n]] for r in range(n)]

    badges = [(name, company, country, colour, unpack(base64.b64decode(qr)))
              for name, company, country, colour, qr in rows]  # the matrices, computed beforehand

    def draw(items) -> bytes:
        buf = io.BytesIO()
        canvas = Canvas(buf, pagesize=(105 * mm, 148 * mm), pageCompression=1)  # A6, compressed as the app does
        for name, company, country, colour, matrix in items:
            canvas.setFillColor(HexColor(colour))
            canvas.rect(0, 130 * mm, 105 * mm, 18 * mm, stroke=0, fill=1)
            canvas.setFillColor(black)
            canvas.setFont("Helvetica-Bold", 24)
            canvas.drawCentredString(52.5 * mm, 100 * mm, name)
            canvas.setFont("Helvetica", 12)
            canvas.drawCentredString(52.5 * mm, 72 * mm, company)
            canvas.setFont("Helvetica", 10)
            canvas.drawCentredString(52.5 * mm, 64 * mm, country)
            n = len(matrix)
            module = 44 * mm / (n + 8)
            x0, top = 30.5 * mm + 4 * module, 51 * mm - 4 * module
            canvas.setFillColor(white)
            canvas.rect(30.5 * mm, 7 * mm, 44 * mm, 44 * mm, stroke=0, fill=1)
            canvas.setFillColor(black)
            path = canvas.beginPath()
            for r, row in enumerate(matrix):
                c = 0
                while c < n:
                    if row[c]:
                        start = c
                        while c < n and row[c]:
                            c += 1
                        path.rect(x0 + start * module, top - (r + 1) * module, (c - start) * module, module)
                    else:
                        c += 1
            canvas.drawPath(path, stroke=0, fill=1)
            canvas.showPage()
        canvas.save()
        return buf.getvalue()

    if one:  # one page, 200 times: the floor of the on-demand badge
        times = []
        for item in badges[:200]:
            t0 = time.perf_counter()
            draw([item])
            times.append((time.perf_counter() - t0) * 1000)
        print(json.dumps({"ms": times}))
    else:
        t0 = time.perf_counter()
        pdf = draw(badges)
        seconds = time.perf_counter() - t0
        rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        with open("/proc/self/status", encoding="ascii") as f:
            hwm = next((int(line.split()[1]) for line in f if line.startswith("VmHWM:")), 0)
        print(json.dumps({"badges": len(badges), "seconds": seconds, "rss_kb": rss, "hwm_kb": hwm,
                          "pdf_bytes": len(pdf),
                          "pages": pdf.count(b"/Type /Page\n")}))
    sys.exit(0)

import base64  # noqa: E402 - the floor child above stops before this point
import json  # noqa: E402
import math  # noqa: E402
import os  # noqa: E402
import re  # noqa: E402
import resource  # noqa: E402
import statistics  # noqa: E402
import subprocess  # noqa: E402
import time  # noqa: E402

import click  # noqa: E402
from common import OUT, bench_app, machine, recreate_database  # noqa: E402

DEFAULT_URL = f"sqlite:///{OUT / 'badges.sqlite3'}"
FLOOR_DATA = OUT / "badges-floor.json"
TARGET_RATE = 300.0  # badges/s on one core
TARGET_RSS_MB = 400.0
TARGET_P95_MS = 50.0


# --- seeding (not timed) --------------------------------------------------------------------------------------------

def seed(url: str, n: int) -> None:
    """A demo expo with ``n`` buyers, each issued a badge (signed code, QR modules): the batch to print."""
    from flask_migrate import upgrade
    from sqlalchemy import func, select

    from expo import demo
    from expo.badges import services
    from expo.badges.models import Badge
    from expo.buyers.models import Buyer
    from expo.exhibitors.services import current_expo
    from expo.extensions import db

    app = bench_app(url)
    with app.app_context():
        try:
            have = db.session.scalar(select(func.count()).select_from(Badge).where(Badge.holder_kind == "buyer"))
        except Exception:  # noqa: BLE001 - no schema yet
            db.session.rollback()
            have = 0
        if have >= n:
            return
        db.engine.dispose()
    recreate_database(url)
    app = bench_app(url)
    with app.app_context():
        t0 = time.perf_counter()
        upgrade(directory=app.extensions["migrate"].directory)
        demo.load(exhibitors=100, buyers=n)
        db.session.commit()
        click.echo(f"  demo with {n} buyers: {time.perf_counter() - t0:.1f} s", err=True)
        expo = current_expo()
        buyers = list(db.session.scalars(select(Buyer).where(Buyer.expo_id == expo.id).order_by(Buyer.id)))
        t0 = time.perf_counter()
        with click.progressbar(length=len(buyers), label="  issuing badges", file=sys.stderr) as bar:
            for start in range(0, len(buyers), 500):
                chunk = buyers[start:start + 500]
                services.issue_many(None, expo, [services.holder_of_buyer(b) for b in chunk])
                db.session.commit()
                bar.update(len(chunk))
        click.echo(f"  {len(buyers)} badges issued: {time.perf_counter() - t0:.1f} s", err=True)
        db.engine.dispose()


def write_floor_data(url: str, n: int) -> None:
    """What the floor draws, for each badge: name, company, country (English), colour and packed QR modules."""
    from sqlalchemy import select

    from expo import countries
    from expo.badges.models import Badge, BadgeType
    from expo.extensions import db

    def latin(text: str) -> str:  # the floor draws in Helvetica alone
        return text if all(ord(ch) <= 0xFF for ch in text) else text.encode("ascii", "replace").decode()

    app = bench_app(url)
    with app.app_context():
        rows = db.session.execute(select(Badge.name, Badge.company, Badge.country, BadgeType.colour,
                                         Badge.qr_modules).join(BadgeType, BadgeType.id == Badge.badge_type_id)
                                  .where(Badge.holder_kind == "buyer").order_by(Badge.id).limit(n)).all()
        data = [[latin(name), latin(company), countries.name(country, "en") if country else "", colour,
                 base64.b64encode(qr).decode()] for name, company, country, colour, qr in rows]
        db.engine.dispose()
    FLOOR_DATA.write_text(json.dumps(data, ensure_ascii=False))


# --- the measurements, each in its own process ---------------------------------------------------------------------

def child(kind: str, url: str, n: int) -> dict:
    """Run one measurement in this process (pinned to CPU 0) and return its figures."""
    if kind == "seed":
        seed(url, n)
        write_floor_data(url, n)
        return {}
    os.sched_setaffinity(0, {0})
    import gc

    from sqlalchemy import delete, select, update

    from expo.badges import printing
    from expo.badges.models import Badge, BadgePrint, PrintJob
    from expo.exhibitors.services import current_expo
    from expo.extensions import db

    app = bench_app(url)
    with app.app_context():
        expo = current_expo()
        if kind == "pdf_of":
            badges = list(db.session.scalars(select(Badge).where(Badge.expo_id == expo.id,
                                                                 Badge.holder_kind == "buyer")
                                             .order_by(Badge.id).limit(n)))
            gc.collect()
            t0 = time.perf_counter()
            pdf = printing.pdf_of(expo, badges, layout="a6")
            seconds = time.perf_counter() - t0
            rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
            return {"badges": len(badges), "seconds": seconds, "rss_kb": rss, "hwm_kb": vm_hwm(),
                    "pdf_bytes": len(pdf),
                    "pages": pdf.count(b"/Type /Page\n")}
        if kind == "run_job":
            job = printing.create_job(None, expo, {"holder_kind": "buyer"}, layout="a6", title="bench")
            db.session.commit()
            job_id = job.id
            db.session.expunge_all()
            gc.collect()
            t0 = time.perf_counter()
            printing.run_job(job_id)
            seconds = time.perf_counter() - t0
            rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
            job = db.session.get(PrintJob, job_id)
            out = {"badges": job.total, "seconds": seconds, "rss_kb": rss, "hwm_kb": vm_hwm(), "status": job.status,
                   "pdf_bytes": len(job.pdf or b""), "pages": (job.pdf or b"").count(b"/Type /Page\n")}
            # Every round starts alike: the job and its prints removed, the counters back to zero.
            db.session.execute(delete(BadgePrint).where(BadgePrint.job_id == job_id))
            db.session.execute(update(Badge).where(Badge.holder_kind == "buyer").values(print_count=0,
                                                                                        last_printed_at=None))
            db.session.execute(delete(PrintJob).where(PrintJob.id == job_id))
            db.session.commit()
            return out
        if kind == "on_demand":
            return on_demand(app, expo, n)
    raise SystemExit(f"unknown measurement {kind}")


def vm_hwm() -> int:
    """This process's own peak RSS in KB (``VmHWM``): a cross-check of ``ru_maxrss``, which on Linux also keeps
    the RSS the process had when it was forked (why the parent of the measurements stays small)."""
    try:
        with open("/proc/self/status", encoding="ascii") as f:
            return next((int(line.split()[1]) for line in f if line.startswith("VmHWM:")), 0)
    except OSError:
        return 0


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


def on_demand(app, expo, n: int, warmup: int = 20) -> dict:
    """One badge printed at the desk, ``n`` times (each a different badge), through the app; and the same badge's
    ``printing.pdf_of`` in an app context."""
    from sqlalchemy import select

    from expo.badges import printing
    from expo.badges.models import Badge
    from expo.demo import DEMO_PASSWORD
    from expo.extensions import db

    ids = list(db.session.scalars(select(Badge.id).where(Badge.expo_id == expo.id, Badge.holder_kind == "buyer")
                                  .order_by(Badge.id).limit(n + warmup)))
    expo_id = expo.id
    db.session.remove()
    endpoint = "badge_desk.print_badge" if "badge_desk.print_badge" in app.view_functions else None
    result: dict = {"endpoint": None, "app_ms": [], "pdf_of_ms": []}
    if endpoint:
        timer = WsgiTimer(app.wsgi_app)
        app.wsgi_app = timer
        client = app.test_client()
        page = client.get("/login").get_data(as_text=True)
        token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page)
        r = client.post("/login", data={"email": "printdesk@expo.test", "password": DEMO_PASSWORD,
                                        "csrf_token": token.group(1) if token else ""})
        if r.status_code != 302:
            raise SystemExit(f"could not sign in as printdesk@expo.test ({r.status_code})")
        page = client.get(f"/desk/badges/{ids[0]}").get_data(as_text=True)
        found = re.search(r'name="print-csrf_token" type="hidden" value="([^"]+)"', page) or \
            re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page)
        csrf = found.group(1) if found else ""
        with app.test_request_context():
            from flask import url_for

            result["endpoint"] = "POST " + url_for(endpoint, badge_id=0).replace("/0/", "/<badge_id>/")
        for i, badge_id in enumerate(ids):
            r = client.post(f"/desk/badges/{badge_id}/print",
                            data={"print-csrf_token": csrf, "csrf_token": csrf, "print-reason": "bench",
                                  "print-layout": ""})
            if r.status_code != 200 or r.mimetype != "application/pdf":
                raise SystemExit(f"the desk's print answered {r.status_code} {r.mimetype}: "
                                 f"{r.get_data(as_text=True)[:300]}")
            if i >= warmup:
                result["app_ms"].append(timer.last * 1000)
    with app.app_context():
        from expo.venue.models import Expo

        for i, badge_id in enumerate(ids):
            t0 = time.perf_counter()
            badge = db.session.get(Badge, badge_id)
            printing.pdf_of(db.session.get(Expo, expo_id), [badge])
            if i >= warmup:
                result["pdf_of_ms"].append((time.perf_counter() - t0) * 1000)
            db.session.expire_all()
    return result


def run_child(kind: str, url: str, n: int) -> dict:
    """``kind`` in a fresh interpreter (its own peak RSS), as this script's ``--child``."""
    if kind in ("floor", "floor_one"):
        cmd = [sys.executable, __file__, "--floor-child", str(FLOOR_DATA)] + (["--one"] if kind == "floor_one" else [])
    else:
        cmd = [sys.executable, __file__, "--child", kind, "--url", url, "--badges", str(n)]
    done = subprocess.run(cmd, capture_output=True, text=True)
    if done.returncode != 0:
        raise SystemExit(f"{kind} failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


# --- report -----------------------------------------------------------------------------------------------------------

def pct(values: list[float], q: float) -> float:
    s = sorted(values)
    return s[max(0, math.ceil(q * len(s)) - 1)]


def summarize_batch(runs: list[dict]) -> dict:
    rates = [r["badges"] / r["seconds"] for r in runs]
    return {"badges": runs[0]["badges"], "rate_median": round(statistics.median(rates), 1),
            "rate_best": round(max(rates), 1), "rates": [round(x, 1) for x in rates],
            "seconds_median": round(statistics.median(r["seconds"] for r in runs), 2),
            "rss_mb_max": round(max(r["rss_kb"] for r in runs) / 1024, 1),
            "hwm_mb_max": round(max(r.get("hwm_kb", 0) for r in runs) / 1024, 1),
            "pdf_mb": round(runs[-1]["pdf_bytes"] / 2**20, 1), "pages": runs[-1]["pages"]}


def summarize_ms(ms: list[float]) -> dict:
    if not ms:
        return {}
    return {"n": len(ms), "p50": round(pct(ms, .5), 2), "p95": round(pct(ms, .95), 2), "max": round(max(ms), 2)}


@click.command()
@click.option("--url", default=DEFAULT_URL, show_default=True, help="The benchmark's own database (SQLite).")
@click.option("--badges", "n", default=10_000, show_default=True)
@click.option("--rounds", default=3, show_default=True)
@click.option("--requests", "requests_", default=200, show_default=True, help="On-demand prints measured.")
@click.option("--child", "child_kind", type=click.Choice(["seed", "pdf_of", "run_job", "on_demand"]), hidden=True)
@click.option("--profile", is_flag=True, help="Also profile pdf_of once and write bench/out/profile-badges.txt.")
@click.option("--rounds-only", "rounds_only", type=click.Choice(["batch", "on-demand"]),
              help="Only the batch rounds, or only the on-demand badge.")
def main(url: str, n: int, rounds: int, requests_: int, child_kind: str | None, profile: bool,
         rounds_only: str | None) -> None:
    """Measure batch badge printing and one badge on demand beside their floors."""
    if child_kind:
        out = child(child_kind, url, n)
        print(json.dumps(out))
        return
    OUT.mkdir(exist_ok=True)
    click.echo(f"seeding {url} (once, not timed) ...", err=True)
    # In a subprocess, as everything that loads the app: this process stays small, so that the peak RSS its
    # children report (which on Linux starts from the RSS of the process that forked them) is their own.
    subprocess.run([sys.executable, __file__, "--child", "seed", "--url", url, "--badges", str(n)], check=True)
    loads = [os.getloadavg()]
    batch: dict[str, list[dict]] = {"floor": [], "pdf_of": [], "run_job": []}
    for round_ in range(rounds if rounds_only != "on-demand" else 0):
        for kind in ("floor", "pdf_of", "run_job"):
            click.echo(f"round {round_ + 1}/{rounds}: {kind} ...", err=True)
            result = run_child(kind, url, n)
            batch[kind].append(result)
            click.echo(f"  {result['badges'] / result['seconds']:.0f} badges/s, "
                       f"{result['rss_kb'] / 1024:.0f} MB peak, load {os.getloadavg()[0]:.2f}", err=True)
            loads.append(os.getloadavg())
    demand = {"endpoint": None, "app_ms": [], "pdf_of_ms": []}
    floor_one = {"ms": []}
    if rounds_only != "batch":
        click.echo("on demand ...", err=True)
        demand = run_child("on_demand", url, requests_)
        floor_one = run_child("floor_one", url, n)
    loads.append(os.getloadavg())

    summary = {kind: summarize_batch(runs) for kind, runs in batch.items() if runs}
    for kind in ("pdf_of", "run_job"):
        if kind in summary:
            summary[kind]["ratio_to_floor"] = round(summary[kind]["rate_median"] / summary["floor"]["rate_median"],
                                                    2)
        if kind in summary and len(batch[kind]) == len(batch["floor"]):  # round by round: the same noise
            summary[kind]["ratio_by_round"] = [round((a["badges"] / a["seconds"]) / (f["badges"] / f["seconds"]), 2)
                                               for a, f in zip(batch[kind], batch["floor"], strict=True)]
    on = {"endpoint": demand["endpoint"] or "(no print desk view: printing.pdf_of in an app context)",
          "app": summarize_ms(demand["app_ms"]), "pdf_of": summarize_ms(demand["pdf_of_ms"]),
          "floor_one_page": summarize_ms(floor_one["ms"])}
    click.echo("")
    if summary:
        print_batch(summary, n)
    print_on_demand(on)
    click.echo(f"load average: {loads[0]} at the start, {loads[-1]} at the end")
    out = {"when": time.strftime("%Y-%m-%dT%H:%M:%S"), "machine": machine(), "load_average": loads,
           "badges": n, "batch": summary, "batch_runs": batch, "on_demand": on,
           "targets": {"rate": TARGET_RATE, "rss_mb": TARGET_RSS_MB, "p95_ms": TARGET_P95_MS}}
    path = OUT / ("badges.json" if not rounds_only else f"badges-{rounds_only}.json")
    path.write_text(json.dumps(out, indent=2, default=str))
    click.echo(f"written to {path}")
    if profile:  # last: it loads the app into this process
        profile_pdf_of(url, n)


def print_batch(summary: dict, n: int) -> None:
    head = (f"{'batch of ' + str(n):<26}{'badges/s (median)':>18}{'best':>8}{'× floor':>9}{'peak RSS MB':>13}"
            f"{'VmHWM MB':>10}{'PDF MB':>8}")
    click.echo(head)
    click.echo("-" * len(head))
    for kind, label in (("floor", "floor: bare reportlab"), ("pdf_of", "printing.pdf_of"),
                        ("run_job", "printing.run_job")):
        s = summary[kind]
        ratio = f"{s['ratio_to_floor']:.2f}" if "ratio_to_floor" in s else "1"
        click.echo(f"{label:<26}{s['rate_median']:>18.1f}{s['rate_best']:>8.1f}{ratio:>9}{s['rss_mb_max']:>13.1f}"
                   f"{s['hwm_mb_max']:>10.1f}{s['pdf_mb']:>8.1f}")
    ok_rate = summary["pdf_of"]["rate_median"] >= TARGET_RATE
    ok_rss = max(summary["pdf_of"]["rss_mb_max"], summary["run_job"]["rss_mb_max"]) < TARGET_RSS_MB
    click.echo(f"targets: ≥ {TARGET_RATE:g} badges/s on one core {'ok' if ok_rate else 'MISSED'}; "
               f"peak RSS < {TARGET_RSS_MB:g} MB {'ok' if ok_rss else 'MISSED'}")
    for kind in ("pdf_of", "run_job"):
        if "ratio_by_round" in summary[kind]:
            click.echo(f"{kind} ÷ floor, round by round: {summary[kind]['ratio_by_round']}")


def print_on_demand(on: dict) -> None:
    key = "app" if on["app"] else "pdf_of"
    if not on[key]:
        return
    click.echo(f"\none badge on demand ({on['endpoint']}), ms:")
    for part, label in (("app", "through the app"), ("pdf_of", "printing.pdf_of, app context"),
                        ("floor_one_page", "floor: bare reportlab page")):
        s = on[part]
        if s:
            click.echo(f"  {label:<32} p50 {s['p50']:6.2f}  p95 {s['p95']:6.2f}  max {s['max']:6.2f}  (n={s['n']})")
    click.echo(f"target: p95 < {TARGET_P95_MS:g} ms {'ok' if on[key]['p95'] < TARGET_P95_MS else 'MISSED'}")


def profile_pdf_of(url: str, n: int) -> None:
    import cProfile
    import io
    import pstats

    from sqlalchemy import select

    from expo.badges import printing
    from expo.badges.models import Badge
    from expo.exhibitors.services import current_expo
    from expo.extensions import db

    app = bench_app(url)
    with app.app_context():
        expo = current_expo()
        badges = list(db.session.scalars(select(Badge).where(Badge.holder_kind == "buyer").order_by(Badge.id)
                                         .limit(min(n, 2000))))
        prof = cProfile.Profile()
        prof.enable()
        printing.pdf_of(expo, badges, layout="a6")
        prof.disable()
    buf = io.StringIO()
    pstats.Stats(prof, stream=buf).sort_stats("tottime").print_stats(40)
    (OUT / "profile-badges.txt").write_text(buf.getvalue())
    click.echo(f"profile written to {OUT / 'profile-badges.txt'}", err=True)


if __name__ == "__main__":
    main()
