"""Floor plans of the demo venue: the whole-venue PDF, and the web plan of one hall.

    python bench/floorplan.py            # builds bench/out/floorplan*.sqlite3, then measures
    python bench/floorplan.py --reuse    # measures on the databases built before

The data: the allocation scenario of bench/allocation.py (the demo venue, 2,430 booths, ~1,050 approved
exhibitors), its proposal applied and every multi-booth block merged into one stand — a full venue, every booth
named, as the plan looks after the allocation. A copy taken before applying is the open venue, every booth for
sale, for the sales plan with a price on each booth.

Measured, pinned to one core:
- the PDF: median of ``--renders`` renders of each variant (exhibitor plan A0 landscape in Chinese and English, A3
  in Chinese, sales plan A0 on the open and on the full venue), split into building the plan (the database) and
  drawing it, the whole request (GET /plan/<variant>.pdf, server-side), pages and bytes; beside it the floor: a
  bare reportlab canvas drawing the same rectangles, lines and strings (recorded from the renderer once, then
  replayed), without fitting or measuring a word;
- the web plan of one hall: GET /plan/?hall=<code> through the real app (Flask test client, server-side time
  around app.wsgi_app), anonymous and as an organizer (a link on every booth), rotating over the six halls and
  both languages, p50/p95 over ``--requests``; beside it the floor (build_plan + render_svg, no request or
  template) and, for reference, the whole venue on one page.
"""

from __future__ import annotations

import json
import os
import shutil
import statistics
import time
from io import BytesIO
from pathlib import Path

import click
from common import OUT, bench_app, machine
from review_queue import WsgiTimer, login, pct

FULL = OUT / "floorplan.sqlite3"
OPEN = OUT / "floorplan-open.sqlite3"
PDF_TARGET_S = 1.0
HALL_TARGET_MS = 200.0
#: (name, variant, paper, orientation, lang, database)
PDFS = [
    ("exhibitor A0 zh", "exhibitor", "A0", "landscape", "zh", "full"),
    ("exhibitor A0 en", "exhibitor", "A0", "landscape", "en", "full"),
    ("exhibitor A3 zh", "exhibitor", "A3", "landscape", "zh", "full"),
    ("sales A0 zh, open venue", "sales", "A0", "landscape", "zh", "open"),
    ("sales A0 en, full venue", "sales", "A0", "landscape", "en", "full"),
]


class CpuTimer(WsgiTimer):
    """WsgiTimer that also notes the process's CPU time for the request (what the machine's other work cannot
    stretch, unlike the wall time)."""

    def __init__(self, wsgi_app):
        super().__init__(wsgi_app)
        self.last_cpu = 0.0

    def __call__(self, environ, start_response):
        c0 = time.process_time()
        chunks = super().__call__(environ, start_response)
        self.last_cpu = time.process_time() - c0
        return chunks


def url_of(path: Path) -> str:
    return f"sqlite:///{path}"


# --- the data -----------------------------------------------------------------------------------------------------

def build(seed: int) -> dict:
    """The allocation scenario (open venue), copied; then its proposal applied and blocks merged (full venue)."""
    from allocation import build_scenario
    from sqlalchemy import select

    from expo.allocation import proposals
    from expo.allocation import services as allocation
    from expo.auth.models import User
    from expo.exhibitors.services import current_expo
    from expo.extensions import db
    from expo.venue.models import Booth

    scenario = build_scenario(url_of(FULL), 1, seed)
    for suffix in ("", "-wal", "-shm"):
        Path(f"{OPEN}{suffix}").unlink(missing_ok=True)
    shutil.copyfile(FULL, OPEN)
    app = bench_app(url_of(FULL))
    with app.app_context():
        actor = db.session.scalar(select(User).where(User.email == "admin@expo.test"))
        expo = current_expo()
        proposal = proposals.propose(actor, expo)
        proposals.apply(actor, proposal)
        stands = 0
        for row in proposal.result["assignments"]:
            if len(row["booth_ids"]) > 1:
                booths = list(db.session.scalars(select(Booth).where(Booth.id.in_(row["booth_ids"]))))
                allocation.merge(actor, expo, booths)
                stands += 1
        db.session.commit()
        served = proposal.result["summary"]["served"]
        db.session.remove()
        db.engine.dispose()
    return {**scenario, "served": served, "stands": stands}


# --- the PDF ------------------------------------------------------------------------------------------------------

_RECORDED = ("setFillColor", "setStrokeColor", "setLineWidth", "rect", "line", "setFont", "drawString",
             "drawCentredString", "drawRightString", "drawPath", "showPage")


def recording_canvas():
    """A reportlab Canvas that also notes the calls the plan's renderer makes on it (not those reportlab makes
    from inside them), to replay them bare."""
    from reportlab.pdfgen.canvas import Canvas

    class Recording(Canvas):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            self.ops: list[tuple[str, tuple]] = []
            self._depth = 0

    def wrap(name):
        method = getattr(Canvas, name)

        def recorded(self, *args, **kwargs):
            if self._depth == 0:
                self.ops.append((name, args, kwargs))
            self._depth += 1
            try:
                return method(self, *args, **kwargs)
            finally:
                self._depth -= 1
        return recorded

    for name in _RECORDED:
        setattr(Recording, name, wrap(name))
    return Recording


def record(plan, paper: str, orientation: str):
    """The renderer's drawing calls for ``plan``, and the page size."""
    from expo.floorplans import pdf

    original = pdf.Canvas
    pdf.Canvas = recording_canvas()
    try:
        writer = pdf._Writer(plan, paper, orientation, {})
        writer.render()
    finally:
        pdf.Canvas = original
    return writer.canvas.ops, writer.size


def replay(ops, size) -> bytes:
    """The floor: the same calls on a bare canvas."""
    from reportlab.pdfgen.canvas import Canvas

    buffer = BytesIO()
    c = Canvas(buffer, pagesize=size, pageCompression=1)
    for name, args, kwargs in ops:
        getattr(c, name)(*args, **kwargs)
    c.save()
    return buffer.getvalue()


def median_time(fn, n: int) -> tuple[float, object]:
    """(median wall time, the last result) of ``n`` calls; the median CPU time goes to CPU_TIMES."""
    times, cpu, out = [], [], None
    for _ in range(n):
        t0, c0 = time.perf_counter(), time.process_time()
        out = fn()
        times.append(time.perf_counter() - t0)
        cpu.append(time.process_time() - c0)
    CPU_TIMES.append(statistics.median(cpu))
    return statistics.median(times), out


CPU_TIMES: list[float] = []


def measure_pdfs(renders: int) -> list[dict]:
    from pypdf import PdfReader

    from expo.exhibitors.services import current_expo
    from expo.floorplans.pdf import render_pdf
    from expo.floorplans.plan import build_plan

    apps = {"full": bench_app(url_of(FULL)), "open": bench_app(url_of(OPEN))}
    timers = {k: CpuTimer(a.wsgi_app) for k, a in apps.items()}
    clients = {}
    for k, a in apps.items():
        a.wsgi_app = timers[k]
        clients[k] = a.test_client()
        login(clients[k])
    results = []
    for name, variant, paper, orientation, lang, which in PDFS:
        app = apps[which]
        with app.app_context():
            expo = current_expo()
            t_build, plan = median_time(lambda: build_plan(expo, lang, variant=variant), renders)  # noqa: B023
            t_draw, data = median_time(lambda: render_pdf(plan, paper, orientation), renders)  # noqa: B023
            ops, size = record(plan, paper, orientation)
            t_floor, floor_pdf = median_time(lambda: replay(ops, size), renders)  # noqa: B023
        query = f"/plan/{variant}.pdf?paper={paper}&orientation={orientation}&lang={lang}"
        request_times, request_cpu = [], []
        for _ in range(renders):
            response = clients[which].get(query)
            assert response.status_code == 200, (query, response.status_code)
            request_times.append(timers[which].last)
            request_cpu.append(timers[which].last_cpu)
        body = response.data
        reader = PdfReader(BytesIO(body))
        named = sum(1 for b in plan.booths if b.exhibitor)
        priced = sum(1 for b in plan.booths if b.price_cny is not None)
        results.append({
            "name": name, "variant": variant, "paper": paper, "lang": lang, "venue": which,
            "booths": len(plan.booths), "named": named, "priced": priced, "index": len(plan.index),
            "request_s": statistics.median(request_times), "request_all": [round(t, 3) for t in request_times],
            "request_cpu_s": statistics.median(request_cpu), "build_s": t_build, "draw_s": t_draw, "floor_s": t_floor,
            "build_cpu_s": CPU_TIMES[-3], "draw_cpu_s": CPU_TIMES[-2], "floor_cpu_s": CPU_TIMES[-1],
            "pages": len(reader.pages), "bytes": len(body), "draw_bytes": len(data), "floor_bytes": len(floor_pdf),
            "calls": len(ops)})
        click.echo(f"  {name:26} request {results[-1]['request_s']:.3f} s (build {t_build:.3f} + draw {t_draw:.3f});"
                   f" floor {t_floor:.3f} s; {len(reader.pages)} pages, {len(body) / 1024:,.0f} KiB", err=True)
    for a in apps.values():
        with a.app_context():
            from expo.extensions import db
            db.engine.dispose()
    return results


# --- the web plan of one hall -------------------------------------------------------------------------------------

def measure_web(requests: int, warmup: int) -> dict:
    from sqlalchemy import select

    from expo.exhibitors.services import current_expo
    from expo.extensions import db
    from expo.floorplans.plan import build_plan
    from expo.floorplans.svg import render_svg
    from expo.venue.models import Hall

    app = bench_app(url_of(FULL))
    timer = CpuTimer(app.wsgi_app)
    app.wsgi_app = timer
    with app.app_context():
        halls = list(db.session.scalars(select(Hall.code).order_by(Hall.code)))
    anonymous = app.test_client()
    organizer = app.test_client()
    login(organizer)
    mix = [(halls[i % len(halls)], ("zh", "en")[(i // len(halls)) % 2]) for i in range(requests)]

    def page(client, path, lang):
        r = client.get(path, headers={"Accept-Language": lang})
        assert r.status_code == 200, (path, r.status_code)
        return timer.last, timer.last_cpu, len(r.data), r.data.count(b'data-booth-id="')

    def floor(hall, lang):
        with app.app_context():
            t0, c0 = time.perf_counter(), time.process_time()
            plan = build_plan(current_expo(), lang, hall=hall)
            svg = render_svg(plan, title="Floor plan")
            elapsed, cpu = time.perf_counter() - t0, time.process_time() - c0
            db.session.remove()
        return elapsed, cpu, len(svg), len(plan.booths)

    kinds = {
        "one hall, anonymous": lambda h, lang: page(anonymous, f"/plan/?hall={h}", lang),
        "one hall, organizer": lambda h, lang: page(organizer, f"/plan/?hall={h}", lang),
        "floor: build_plan + render_svg of the hall": floor,
    }
    for hall, lang in mix[:warmup]:
        for fn in kinds.values():
            fn(hall, lang)
    samples: dict[str, list] = {k: [] for k in kinds}
    venue: list = []
    for i, (hall, lang) in enumerate(mix):
        for k, fn in kinds.items():  # interleaved: the noise of a shared machine falls on all alike
            samples[k].append(fn(hall, lang))
        if i % 3 == 0:  # the whole venue, for reference
            venue.append(page(anonymous, "/plan/", lang))
    samples["whole venue, anonymous"] = venue
    out = {}
    for k, rows in samples.items():
        ms = [t * 1000 for t, _cpu, _size, _booths in rows]
        cpu = [c * 1000 for _t, c, _size, _booths in rows]
        out[k] = {"n": len(ms), "p50": round(pct(ms, .5), 1), "p95": round(pct(ms, .95), 1),
                  "max": round(max(ms), 1), "cpu_p50": round(pct(cpu, .5), 1), "cpu_p95": round(pct(cpu, .95), 1),
                  "kib": round(statistics.fmean(s for _t, _c, s, _b in rows) / 1024, 1),
                  "booths": round(statistics.fmean(b for _t, _c, _s, b in rows))}
    with app.app_context():
        db.engine.dispose()
    return out


@click.command()
@click.option("--reuse", is_flag=True, help="Measure on the databases built before.")
@click.option("--seed", default=2027, show_default=True)
@click.option("--renders", default=5, show_default=True, help="Renders of each PDF (the median is reported).")
@click.option("--requests", default=60, show_default=True, help="Requests per kind for the web plan.")
@click.option("--warmup", default=12, show_default=True)
@click.option("--cpu", default=0, show_default=True, help="The core the measurement is pinned to.")
def main(reuse: bool, seed: int, renders: int, requests: int, warmup: int, cpu: int) -> None:
    """Time the whole-venue PDF and the web plan of one hall on the full demo venue."""
    OUT.mkdir(exist_ok=True)
    data = None
    if not reuse:
        click.echo("building the full venue (allocation scenario, applied) ...", err=True)
        data = build(seed)
        click.echo(f"  {data}", err=True)
    os.sched_setaffinity(0, {cpu})
    load_before = os.getloadavg()
    try:
        import _rl_accel  # noqa: F401 - the C accelerator of reportlab (PyPI: rl_accel)
        accel = True
    except ImportError:
        accel = False
    pdfs = measure_pdfs(renders)
    web = measure_web(requests, warmup)
    load_end = os.getloadavg()

    click.echo(f"\nWhole-venue PDF (median of {renders}; target < {PDF_TARGET_S:g} s; rl_accel "
               f"{'installed' if accel else 'missing'}):")
    click.echo(f"  {'plan':26} {'request':>8} {'CPU':>6} {'build':>7} {'draw':>7} {'floor':>7} {'×floor':>7} "
               f"{'CPU ×':>6} {'pages':>5} {'KiB':>6}  booths named/priced")
    for r in pdfs:
        click.echo(f"  {r['name']:26} {r['request_s']:8.3f} {r['request_cpu_s']:6.3f} {r['build_s']:7.3f} "
                   f"{r['draw_s']:7.3f} {r['floor_s']:7.3f} {r['draw_s'] / r['floor_s']:7.1f} "
                   f"{r['draw_cpu_s'] / r['floor_cpu_s']:6.1f} {r['pages']:5} {r['bytes'] / 1024:6.0f}  "
                   f"{r['booths']} {r['named']}/{r['priced']}")
    click.echo(f"\nWeb plan (ms, server-side; target p95 < {HALL_TARGET_MS:g} ms for one hall):")
    click.echo(f"  {'page':44} {'n':>3} {'p50':>7} {'p95':>7} {'max':>7} {'CPU p50':>8} {'CPU p95':>8} "
               f"{'KiB':>7} {'booths':>6}")
    for k, s in web.items():
        click.echo(f"  {k:44} {s['n']:3} {s['p50']:7.1f} {s['p95']:7.1f} {s['max']:7.1f} {s['cpu_p50']:8.1f} "
                   f"{s['cpu_p95']:8.1f} {s['kib']:7.1f} {s['booths']:6}")
    click.echo(f"  load average {load_before} at the start, {load_end} at the end")
    result = {"pdf": pdfs, "web": web, "data": data, "rl_accel": accel, "load_before": load_before,
              "load_end": load_end, "machine": machine(), "cpu": cpu}
    (OUT / "floorplan.json").write_text(json.dumps(result, indent=2, default=str))


if __name__ == "__main__":
    main()
