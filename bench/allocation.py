"""The automatic allocation on the demo venue: wall time, and quality against an upper bound of the optimum.

    python bench/allocation.py                 # 1×: 2,400 standard booths, ~1,050 approved applications (SQLite)
    python bench/allocation.py --scale 10      # 10×: 24,000 booths, ~10,500 applications
    python bench/allocation.py --pg            # the same on PostgreSQL (database expo_allocbench[_10x])

The scenario (deterministic, ``--seed``): the demo expo (``expo.demo.load``), for ``--scale 10`` with nine more
copies of its six halls and thirteen pavilions (same areas and product categories), every booth vacated, and
approved applications whose requests add up to ~130% of the free standard booths (and of the raw-space lots):
mostly 1–2 booths, some 4–12, a few raw-space requests, corner wishes, declared competitors, preferred pavilions
skewed so that some are oversubscribed. See bench/README.md.

Measured, pinned to one core: ``expo.allocation.proposals.propose`` (read the booths and applications, solve, store
the proposal, commit) and ``expo.allocation.auto.solve`` alone. Quality: the organizer's objective (Σ priority points
× booths over the requests served in full) against the optimum of a linear relaxation (scipy's HiGHS), which no
allocation under the solver's rules can beat. The solution is checked independently of the solver; the script stops
with an error if it breaks a rule.
"""

from __future__ import annotations

import json
import math
import os
import random
import statistics
import sys
import time
from collections import Counter, defaultdict
from datetime import timedelta

import click
from common import OUT, PG_URL_ENV, bench_app, label, machine, recreate_database

DEFAULT_PG = "postgresql+psycopg://postgres@127.0.0.1:5432/expo_allocbench"
SEED = 2027
#: Requests add up to this share of the free space: standard booths, and raw-space m².
DEMAND = 1.30
#: How much of its capacity each exhibition area is asked for, before scaling to DEMAND overall: the materials hall
#: is the most wanted, machinery the least.
AREA_PULL = {"SPORT": 1.25, "MAT": 1.6, "MACH": 1.15}
#: How popular each pavilion is as a first choice, relative to the others of its area.
PAVILION_PULL = {"BR": 4, "INTL": 3, "CITY": 1, "INDEX": 0.5, "KIDS": 1, "OUT": 1.5, "ECOM": 0.5,
                 "ECO": 3, "SOLE": 1, "TEX": 1, "TWM": 1, "TECH": 2.5, "AUTO": 1}
#: Booths per standard request: mostly one or two, some blocks of four to twelve (mean ~3).
BOOTHS = [(1, 34), (2, 26), (3, 10), (4, 12), (6, 8), (8, 5), (9, 2), (12, 3)]
RAW_M2 = [36, 54, 72, 108, 144]
TARGET_SECONDS = {1: 10.0, 10: 120.0}
TARGET_RATIO = 0.99


def default_url(scale: int, pg: bool, url: str | None) -> str:
    suffix = "" if scale == 1 else f"_{scale}x"
    if url:
        return url
    if pg:
        base = os.environ.get(PG_URL_ENV)
        return (base.rsplit("/", 1)[0] + f"/expo_allocbench{suffix}") if base else DEFAULT_PG + suffix
    return f"sqlite:///{OUT / f'alloc{suffix}.sqlite3'}"


# --- the scenario -------------------------------------------------------------------------------------------------

def copy_venue(expo, copies: int) -> None:
    """``copies`` more of the demo's six halls, each copy with its own thirteen pavilions (same exhibition areas and
    product categories, codes BR2, BR3, ...), laid out by the demo's own hall generator."""
    from sqlalchemy import select

    from expo import demo
    from expo.extensions import db
    from expo.venue.models import Hall, Pavilion

    base = {p.code: p for p in db.session.scalars(select(Pavilion).where(Pavilion.expo_id == expo.id))}
    sort = max(p.sort for p in base.values()) + 1
    for k in range(2, copies + 2):
        pavilions = {}
        for code, p in base.items():
            pavilions[code] = Pavilion(expo_id=expo.id, area_id=p.area_id, code=f"{code}{k}",
                                       name_zh=f"{p.name_zh}{k}", name_en=f"{p.name_en} {k}", colour=p.colour,
                                       sort=sort, categories=list(p.categories))
            sort += 1
        db.session.add_all(pavilions.values())
        for i, (code, zh, en, w, d, cap) in enumerate(demo.HALLS):
            # Copy k lies south of the previous ones on the venue plan; its codes keep the letter (C = machinery).
            hall = Hall(expo_id=expo.id, code=f"{code}-{k}", name_zh=f"{zh}-{k}", name_en=f"{en} ({k})", width_m=w,
                        depth_m=d, standard_booth_capacity=cap, plan_x_m=(i // 2) * (w + 20),
                        plan_y_m=(i % 2) * (d + 20) + (k - 1) * 2 * (d + 20), entrances=[], obstacles=[])
            db.session.add(hall)
            db.session.flush()
            demo._lay_out_hall(hall, [pavilions[c] for c in demo.HALL_PAVILIONS[code]])


def build_scenario(url: str, scale: int, seed: int) -> dict:
    """Create the database at ``url`` and fill it with the allocation scenario; returns what it holds."""
    from flask_migrate import upgrade
    from sqlalchemy import delete, func, select, text, update

    from expo import demo
    from expo.categories.models import exhibitor_categories
    from expo.exhibitors.models import Exhibitor, SpaceApplication
    from expo.extensions import db
    from expo.venue.models import Booth, ExhibitionArea, Expo, Pavilion, Stand

    recreate_database(url)
    app = bench_app(url)
    rng = random.Random(seed)
    t_start = time.perf_counter()
    with app.app_context():
        upgrade(directory=app.extensions["migrate"].directory)
        # Enough exhibitors to draw the approved ones from (the others stay submitted, rejected, ...).
        exhibitors = 1600 * scale
        demo.load(exhibitors=exhibitors, buyers=0)
        expo = db.session.scalar(select(Expo))
        if scale > 1:
            copy_venue(expo, scale - 1)
        # Every booth vacated, no stands.
        db.session.execute(update(Booth).values(status="available", exhibitor_id=None, stand_id=None,
                                                hold_expires_at=None))
        db.session.execute(delete(Stand))

        areas = {a.id: a.code for a in db.session.scalars(select(ExhibitionArea))}
        pavilions = list(db.session.scalars(select(Pavilion).order_by(Pavilion.id)))
        pav_by_area: dict[int, list[Pavilion]] = defaultdict(list)
        for p in pavilions:
            pav_by_area[p.area_id].append(p)
        standard = Counter()  # area id → free standard booths
        raw_m2 = 0.0
        pav_area = {p.id: p.area_id for p in pavilions}
        for pavilion_id, raw, w, d in db.session.execute(select(Booth.pavilion_id, Booth.raw_space, Booth.width_m,
                                                                Booth.depth_m)):
            if raw:
                raw_m2 += w * d
            else:
                standard[pav_area.get(pavilion_id)] += 1
        free_standard = sum(standard.values())
        pull_total = sum(AREA_PULL[areas[a]] * n for a, n in standard.items())
        budget = {a: DEMAND * free_standard * AREA_PULL[areas[a]] * n / pull_total for a, n in standard.items()}
        raw_budget = DEMAND * raw_m2

        rows = db.session.execute(
            select(SpaceApplication.id, SpaceApplication.exhibitor_id, SpaceApplication.preferred_area_id,
                   SpaceApplication.status, SpaceApplication.submitted_at, SpaceApplication.created_at,
                   Exhibitor.name_zh, Exhibitor.name_en)
            .join(Exhibitor, Exhibitor.id == SpaceApplication.exhibitor_id).order_by(SpaceApplication.id)).all()
        order = list(rows)
        rng.shuffle(order)
        chosen, updates = [], {}
        demand = Counter()
        raw_demand = 0.0
        machinery = [a for a, code in areas.items() if code == "MACH"][0]
        for row in order:
            area = row.preferred_area_id
            # A few machinery exhibitors (and the odd other one) ask for raw space to build their own stand.
            raw = raw_demand < raw_budget and rng.random() < (0.06 if area == machinery else 0.01)
            if raw:
                m2 = rng.choice(RAW_M2)
                raw_demand += m2
                booths = 0
            else:
                if demand[area] >= budget[area]:
                    continue
                booths = rng.choices([n for n, _w in BOOTHS], weights=[w for _n, w in BOOTHS])[0]
                demand[area] += booths
                m2 = 0
            in_area = pav_by_area[area]
            pav = None
            if rng.random() < 0.75:
                pav = rng.choices(in_area, weights=[PAVILION_PULL[p.code.rstrip("0123456789")] for p in in_area])[0]
            submitted = row.submitted_at or (row.created_at + timedelta(hours=rng.randint(1, 240)))
            paid = rng.random() < 0.45
            updates[row.id] = dict(
                id=row.id, status="approved", space_kind="raw" if raw else "standard", booths_requested=booths,
                raw_space_m2=m2, preferred_area_id=area if rng.random() < 0.95 else None,
                preferred_pavilion_id=pav.id if pav else None,
                corner_preference=rng.choices(["none", "prefer", "require"], weights=[70, 25, 5])[0],
                submitted_at=submitted, decided_at=submitted + timedelta(days=rng.randint(1, 20)),
                payment_status="paid" if paid else rng.choice(["unpaid", "invoiced", "partial"]),
                paid_at=submitted + timedelta(days=rng.randint(2, 60)) if paid else None,
                priority_bonus=rng.choice([10, 20, 30, 50]) if rng.random() < 0.04 else 0, competitors="")
            chosen.append(row)
            if all(demand[a] >= budget[a] for a in budget) and raw_demand >= raw_budget:
                break
        # Competitors: 8% name one to three others, mostly exhibitors of their own pavilion or area (sometimes in
        # other letters' case or spacing, sometimes a company that is not at the fair at all).
        by_pavilion: dict[int | None, list] = defaultdict(list)
        by_area: dict[int | None, list] = defaultdict(list)
        for row in chosen:
            by_pavilion[updates[row.id]["preferred_pavilion_id"]].append(row)
            by_area[row.preferred_area_id].append(row)
        declared = 0
        for row in chosen:
            if rng.random() >= 0.08:
                continue
            u = updates[row.id]
            pool = by_pavilion.get(u["preferred_pavilion_id"]) if u["preferred_pavilion_id"] else None
            pool = pool if pool and len(pool) > 3 else by_area[row.preferred_area_id]
            names = []
            for other in rng.sample(pool, k=min(len(pool), rng.randint(1, 3))):
                if other.id == row.id:
                    continue
                name = other.name_zh if other.name_zh and rng.random() < 0.5 else other.name_en
                names.append(name.upper() if rng.random() < 0.1 else name)
            if rng.random() < 0.2:
                names.append("Some Absent Footwear Co., Ltd.")
            u["competitors"] = "\n".join(names)
            declared += 1
        # Everyone else approved by the demo goes back to the review queue: only the scenario's requests take part.
        db.session.execute(update(SpaceApplication).where(SpaceApplication.status == "approved")
                           .values(status="submitted", decided_at=None))
        db.session.execute(update(SpaceApplication), list(updates.values()))
        db.session.commit()
        t_seed = time.perf_counter() - t_start
        if db.engine.dialect.name == "postgresql":
            with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
                conn.execute(text("VACUUM ANALYZE"))
        n_booths = db.session.scalar(select(func.count(Booth.id)))
        n_cats = db.session.scalar(select(func.count()).select_from(exhibitor_categories))
        summary = {"booths": n_booths, "standard_booths": free_standard, "raw_m2": raw_m2,
                   "pavilions": len(pavilions), "exhibitors": exhibitors, "exhibitor_categories": n_cats,
                   "approved": len(updates), "standard_requested": sum(demand.values()),
                   "raw_m2_requested": raw_demand, "competitor_declarations": declared,
                   "seconds": round(t_seed, 2)}
        db.session.remove()
        db.engine.dispose()
    return summary


# --- the organizer's objective and its upper bound ---------------------------------------------------------------

def weight(request) -> float:
    """What serving ``request`` in full is worth: its priority points × the booths it gets (raw space in standard
    booth equivalents, as the priority rule counts it)."""
    from expo.allocation.rules import STANDARD_BOOTH_M2

    booths = math.ceil(request.raw_m2 / STANDARD_BOOTH_M2) if request.raw else request.booths
    return request.points * booths


def objective(problem, solution) -> float:
    by_id = {r.application_id: r for r in problem.requests}
    return sum(weight(by_id[a.application_id]) for a in solution.assignments)


def eligible_pavilions(problem) -> dict[int, frozenset]:
    """Application id → every pavilion (None: booths outside any pavilion) where the solver's rules let it stand:
    next to its own booths, its preferred pavilion, the pavilions of its product categories, those of its preferred
    exhibition area; anywhere for raw space or a request with none of these. Written out again here from the rules
    (not taken from the solver), so the bound and the check below do not trust the solver's reading of them."""
    pavilion_of = {b.id: b.pavilion_id for b in problem.booths}
    own: dict[int, set] = defaultdict(set)
    for b in problem.booths:
        if b.holder is not None:
            own[b.holder].add(pavilion_of[b.id])
    everywhere = frozenset([p.id for p in problem.pavilions] + [None])
    result = {}
    for r in problem.requests:
        ids = set(own.get(r.exhibitor_id, ()))
        if r.preferred_pavilion_id is not None:
            ids.add(r.preferred_pavilion_id)
        ids |= {p.id for p in problem.pavilions if p.category_ids & r.category_ids}
        if r.preferred_area_id is not None:
            ids |= {p.id for p in problem.pavilions if p.area_id == r.preferred_area_id}
        result[r.application_id] = everywhere if (r.raw or not ids) else frozenset(ids)
    return result


def upper_bound(problem, time_limit: float = 120.0, integral: bool = False) -> dict:
    """The optimum of the objective over a relaxation of the allocation, by HiGHS (scipy).

    ``s[a]`` ∈ [0, 1] is how much of request ``a`` is served (all or nothing relaxed). Booths are pooled per
    pavilion, and requests per class: those that may stand in the same pavilions (and alike require a corner or
    not, or ask for raw space). ``x[k, p]`` is how many booths of pavilion ``p`` go to class ``k``:

    - standard: Σ_p x[k, p] = Σ_{a in k} booths_a × s_a; a class that requires a corner also gets Σ s_a corner
      booths (``c[k, p]`` ≤ ``x[k, p]``, counted in its booths);
    - raw space: Σ_p lot m² × x[k, p] ≥ Σ m²_a × s_a, and Σ_p x[k, p] ≥ Σ lots_a × s_a, where lots_a is how many
      lots ``m²_a`` takes when every lot is as large as the largest the class may get (144 m² takes three lots
      of 54 m², whichever three);
    - each pavilion gives at most its free booths, of which at most its free corner booths to the classes that
      require one, and at most its free lots.

    Maximize Σ weight_a × s_a. Dropped: contiguity, straight runs, competitors, which booth of a pavilion, and
    (unless ``integral``) all or nothing. Every allocation the solver may make gives a solution of this (its
    requests' booths summed per class and pavilion), so the optimum is an upper bound; with ``integral`` (s binary,
    a MILP) it is tighter, and HiGHS's proven bound is reported when it stops at ``time_limit``.
    """
    import numpy as np
    from scipy.optimize import Bounds, LinearConstraint, milp
    from scipy.sparse import coo_matrix

    from expo.allocation.auto import PREMIUM

    free = [b for b in problem.booths if b.free and b.holder is None]
    cap, prem, lots, lot_m2 = Counter(), Counter(), Counter(), defaultdict(float)
    for b in free:
        if b.raw:
            lots[b.pavilion_id] += 1
            lot_m2[b.pavilion_id] = max(lot_m2[b.pavilion_id], b.rect.w * b.rect.d)
        else:
            cap[b.pavilion_id] += 1
            if b.kind in PREMIUM:
                prem[b.pavilion_id] += 1
    eligible = eligible_pavilions(problem)
    requests = [r for r in problem.requests if (r.raw_m2 > 0 if r.raw else r.booths > 0)]
    classes: dict[tuple, list[int]] = defaultdict(list)
    for i, r in enumerate(requests):
        places = tuple(sorted((p for p in eligible[r.application_id] if (lots if r.raw else cap)[p] > 0),
                              key=lambda p: (p is None, p or 0)))
        classes[(r.raw, r.corner == "require" and not r.raw, places)].append(i)

    rows, cols, vals, lower, upper = [], [], [], [], []

    def add(r: int, c: int, v: float) -> None:
        rows.append(r)
        cols.append(c)
        vals.append(v)

    def constraint(lo: float, hi: float) -> int:
        lower.append(lo)
        upper.append(hi)
        return len(lower) - 1

    n_var = len(requests)  # s[a] first
    cost = [-weight(r) for r in requests]

    def variable() -> int:
        nonlocal n_var
        cost.append(0.0)
        n_var += 1
        return n_var - 1

    pools: dict[tuple[str, object], int] = {}

    def pool(kind: str, pavilion) -> int:
        if (kind, pavilion) not in pools:
            pools[(kind, pavilion)] = constraint(-np.inf, {"all": cap, "corner": prem, "lots": lots}[kind][pavilion])
        return pools[(kind, pavilion)]

    for (raw, corner, places), members in sorted(classes.items(), key=lambda kv: kv[1][0]):
        if raw:
            area, count = constraint(0.0, np.inf), constraint(0.0, np.inf)
            largest = max((lot_m2[p] for p in places), default=0.0)
            for i in members:
                add(area, i, -requests[i].raw_m2)
                if largest:
                    add(count, i, -float(math.ceil(requests[i].raw_m2 / largest - 1e-9)))
            for p in places:
                j = variable()
                add(area, j, lot_m2[p])
                add(count, j, 1.0)
                add(pool("lots", p), j, 1.0)
            continue
        booths = constraint(0.0, 0.0)
        for i in members:
            add(booths, i, -float(requests[i].booths))
        corners = constraint(0.0, np.inf) if corner else None
        if corners is not None:
            for i in members:
                add(corners, i, -1.0)
        for p in places:
            j = variable()
            add(booths, j, 1.0)
            add(pool("all", p), j, 1.0)
            if corners is not None and prem[p] > 0:
                k = variable()
                add(corners, k, 1.0)
                add(pool("corner", p), k, 1.0)
                within = constraint(-np.inf, 0.0)  # the corner booths are some of its booths
                add(within, k, 1.0)
                add(within, j, -1.0)
    matrix = coo_matrix((vals, (rows, cols)), shape=(len(lower), n_var)).tocsr()
    ub = np.full(n_var, np.inf)
    ub[:len(requests)] = 1.0
    integrality = np.zeros(n_var)
    if integral:
        integrality[:len(requests)] = 1
    t0 = time.perf_counter()
    result = milp(np.array(cost), constraints=LinearConstraint(matrix, np.array(lower), np.array(upper)),
                  bounds=Bounds(np.zeros(n_var), ub), integrality=integrality,
                  options={"time_limit": time_limit, "disp": False, "mip_rel_gap": 1e-6})
    seconds = time.perf_counter() - t0
    if integral and getattr(result, "mip_dual_bound", None) is not None and result.status == 1:
        bound = -result.mip_dual_bound  # stopped at the time limit: the bound proven so far
    elif result.status == 0:
        bound = -result.fun
    else:
        raise SystemExit(f"HiGHS did not solve the relaxation: {result.message}")
    served = result.x[:len(requests)] if result.x is not None else np.zeros(len(requests))
    return {"bound": bound, "seconds": round(seconds, 2), "variables": n_var, "constraints": len(lower),
            "classes": len(classes), "status": result.message,
            "fractional": int(sum(1 for s in served if 1e-6 < s < 1 - 1e-6)), "served": float(sum(served)),
            "share": {r.application_id: float(s) for r, s in zip(requests, served, strict=True)}}


# --- checking the solution on its own ----------------------------------------------------------------------------

EPS = 0.01
FACING_M = 6.0


def _touch(a, b) -> bool:
    """Share a stretch of wall."""
    if abs(a.x + a.w - b.x) <= EPS or abs(b.x + b.w - a.x) <= EPS:
        return min(a.y + a.d, b.y + b.d) - max(a.y, b.y) > EPS
    if abs(a.y + a.d - b.y) <= EPS or abs(b.y + b.d - a.y) <= EPS:
        return min(a.x + a.w, b.x + b.w) - max(a.x, b.x) > EPS
    return False


def _face(a, b, others) -> bool:
    """Across an aisle of at most 6 m over at least a metre, with no booth in the corridor between them."""
    for lo_a, hi_a, lo_b, hi_b, s0a, s1a, s0b, s1b, vertical in (
            (a.y, a.y + a.d, b.y, b.y + b.d, a.x, a.x + a.w, b.x, b.x + b.w, True),
            (a.x, a.x + a.w, b.x, b.x + b.w, a.y, a.y + a.d, b.y, b.y + b.d, False)):
        if hi_a <= lo_b + EPS:
            gap0, gap1 = hi_a, lo_b
        elif hi_b <= lo_a + EPS:
            gap0, gap1 = hi_b, lo_a
        else:
            continue
        if not EPS < gap1 - gap0 <= FACING_M + EPS:
            continue
        s0, s1 = max(s0a, s0b), min(s1a, s1b)
        if s1 - s0 < 1.0 - EPS:
            continue
        corridor = (s0, gap0, s1, gap1) if vertical else (gap0, s0, gap1, s1)  # x0, y0, x1, y1
        if not any(o.x < corridor[2] - EPS and corridor[0] < o.x + o.w - EPS and o.y < corridor[3] - EPS
                   and corridor[1] < o.y + o.d - EPS for o in others):
            return True
    return False


def check(problem, solution) -> tuple[list[str], dict]:
    """Every rule the allocation must keep, checked from the booths' rectangles: (what is wrong, counts)."""
    from expo.allocation.auto import PREMIUM, normalize_name
    from expo.allocation.rules import order_key

    booths = {b.id: b for b in problem.booths}
    requests = {r.application_id: r for r in problem.requests}
    eligible = eligible_pavilions(problem)
    errors: list[str] = []
    owner: dict[int, int] = {b.id: b.holder for b in problem.booths if b.holder is not None}
    seen_apps = set()
    for a in solution.assignments:
        r = requests.get(a.application_id)
        if r is None or a.application_id in seen_apps:
            errors.append(f"application {a.application_id}: not asked for, or served twice")
            continue
        seen_apps.add(a.application_id)
        block = [booths[i] for i in a.booth_ids]
        for b in block:
            if b.id in owner:
                errors.append(f"booth {b.number}: given twice, or not free")
            owner[b.id] = r.exhibitor_id
            if not b.free or b.raw != r.raw:
                errors.append(f"booth {b.number}: not available, or not the space {a.application_id} asked for")
            if b.pavilion_id not in eligible[r.application_id]:
                errors.append(f"booth {b.number}: in a pavilion application {a.application_id} may not stand in")
        if len({b.hall_id for b in block}) != 1 or not _connected([b.rect for b in block]):
            errors.append(f"application {a.application_id}: booths {a.numbers} are not one block")
        if r.raw:
            area = sum(b.rect.w * b.rect.d for b in block)
            if area < r.raw_m2 - EPS or (len(block) > 1 and area - min(b.rect.w * b.rect.d for b in block)
                                         >= r.raw_m2 - EPS):
                errors.append(f"application {a.application_id}: {area:g} m² of lots for {r.raw_m2:g} m²")
        else:
            if len(block) != r.booths:
                errors.append(f"application {a.application_id}: {len(block)} booths for {r.booths} requested")
            if r.corner == "require" and not any(b.kind in PREMIUM for b in block):
                errors.append(f"application {a.application_id}: no corner booth, which it requires")
    # Competitors: who named whom, by name, as the rules say; then every pair of their booths.
    names: dict[str, set[int]] = defaultdict(set)
    for e in problem.exhibitors:
        for n in e.names:
            if n.strip():
                names[normalize_name(n)].add(e.id)
    pairs = set()
    for e in problem.exhibitors:
        for n in e.competitors:
            for other in names.get(normalize_name(n), ()):
                if other != e.id:
                    pairs.add((min(e.id, other), max(e.id, other)))
    by_exhibitor: dict[int, list] = defaultdict(list)
    for booth_id, ex in owner.items():
        by_exhibitor[ex].append(booths[booth_id])
    by_hall: dict[int, list] = defaultdict(list)
    for b in problem.booths:
        by_hall[b.hall_id].append(b.rect)
    checked = 0
    for x, y in sorted(pairs):
        for bx in by_exhibitor.get(x, ()):
            for by in by_exhibitor.get(y, ()):
                if bx.hall_id != by.hall_id:
                    continue
                checked += 1
                if _touch(bx.rect, by.rect) or _face(bx.rect, by.rect, [o for o in by_hall[bx.hall_id]
                                                                         if o is not bx.rect and o is not by.rect]):
                    errors.append(f"competitors {x} and {y}: booths {bx.number} and {by.number} touch or face")
    # Determinism's other half: everyone asked for is either served or told why, once.
    unmet_ids = [u.application_id for u in solution.unmet]
    if set(unmet_ids) & seen_apps or len(unmet_ids) != len(set(unmet_ids)):
        errors.append("an application is both served and unmet, or unmet twice")
    asked = {r.application_id for r in problem.requests if (r.raw_m2 > 0 if r.raw else r.booths > 0)}
    if asked != seen_apps | set(unmet_ids):
        errors.append("an application is neither served nor unmet")
    # Priority: nobody served ahead of a higher-priority request that needed the same kind of space and was left
    # without (not a rule by itself, as a larger block may not fit where a smaller one does; counted, not failed).
    ranked = sorted(problem.requests, key=lambda r: order_key(r.points, r.submitted_at, r.application_id))
    rank = {r.application_id: i for i, r in enumerate(ranked)}
    return errors, {"competitor_pairs": len(pairs), "competitor_booth_pairs_checked": checked,
                    "served_below_an_unmet": _inversions(solution, rank, requests)}


def _connected(rects) -> bool:
    todo, seen = [0], {0}
    while todo:
        i = todo.pop()
        for j, r in enumerate(rects):
            if j not in seen and _touch(rects[i], r):
                seen.add(j)
                todo.append(j)
    return len(seen) == len(rects)


def _inversions(solution, rank, requests) -> int:
    """Served requests of one booth ranked below an unmet request of one booth with the same eligible places."""
    unmet_best: dict[tuple, int] = {}
    for u in solution.unmet:
        r = requests[u.application_id]
        if not r.raw and r.booths == 1 and r.corner != "require":
            key = (r.preferred_pavilion_id, r.preferred_area_id, r.category_ids)
            unmet_best[key] = min(unmet_best.get(key, 1 << 30), rank[u.application_id])
    n = 0
    for a in solution.assignments:
        r = requests[a.application_id]
        key = (r.preferred_pavilion_id, r.preferred_area_id, r.category_ids)
        if not r.raw and r.booths == 1 and key in unmet_best and rank[a.application_id] > unmet_best[key]:
            n += 1
    return n


# --- measuring ----------------------------------------------------------------------------------------------------

def same(s1, s2) -> bool:
    return ([(a.application_id, a.booth_ids) for a in s1.assignments] == [(a.application_id, a.booth_ids)
                                                                           for a in s2.assignments]
            and [(u.application_id, u.reason) for u in s1.unmet] == [(u.application_id, u.reason) for u in s2.unmet])


def baseline_solver(rev: str):
    """``expo.allocation.auto`` as it was at git revision ``rev`` (read with ``git show``), as a module."""
    import importlib.util
    import subprocess
    import tempfile

    from common import ROOT

    source = subprocess.run(["git", "show", f"{rev}:expo/allocation/auto.py"], cwd=ROOT, check=True,
                            capture_output=True, text=True).stdout
    path = os.path.join(tempfile.mkdtemp(), "auto_baseline.py")
    with open(path, "w") as f:
        f.write(source)
    spec = importlib.util.spec_from_file_location("auto_baseline", path)
    module = importlib.util.module_from_spec(spec)
    sys.modules["auto_baseline"] = module
    spec.loader.exec_module(module)
    return module


def measure(url: str, scale: int, repeats: int, cpu: int, integral: bool, bound_limit: float,
            baseline: str | None = None) -> dict:
    from sqlalchemy import select

    from expo.allocation import auto, proposals
    from expo.auth.models import User
    from expo.exhibitors.services import current_expo
    from expo.extensions import db

    os.sched_setaffinity(0, {cpu})
    app = bench_app(url)
    out: dict = {"database": label(url), "scale": scale, "cpu": cpu,
                 "load_before": os.getloadavg()}
    with app.app_context():
        actor = db.session.scalar(select(User).where(User.email == "admin@expo.test"))
        expo = current_expo()
        # The whole proposal: read, solve, store, commit.
        times, cpu, read_times, ids = [], [], [], []
        for _ in range(repeats):
            t0, c0 = time.perf_counter(), time.process_time()
            proposal = proposals.propose(actor, expo)
            db.session.commit()
            times.append(time.perf_counter() - t0)
            cpu.append(time.process_time() - c0)
            ids.append(proposal.id)
            db.session.expire_all()
            t0 = time.perf_counter()
            problem, _info, _held = proposals._problem(current_expo())
            read_times.append(time.perf_counter() - t0)
            db.session.rollback()
        stored = db.session.get(type(proposal), ids[-1]).result
        solve_times, solve_cpu, solutions = [], [], []
        base_times, base_cpu, base_solutions = [], [], []
        old = baseline_solver(baseline) if baseline else None
        for _ in range(repeats):  # interleaved with the baseline, if any: the same noise for both
            t0, c0 = time.perf_counter(), time.process_time()
            solutions.append(auto.solve(problem))
            solve_times.append(time.perf_counter() - t0)
            solve_cpu.append(time.process_time() - c0)
            if old is not None:
                t0, c0 = time.perf_counter(), time.process_time()
                base_solutions.append(old.solve(problem))
                base_times.append(time.perf_counter() - t0)
                base_cpu.append(time.process_time() - c0)
        db.session.remove()
        db.engine.dispose()
    solution = solutions[0]
    deterministic = all(same(solution, s) for s in solutions[1:])
    stored_same = ([(r["application_id"], tuple(r["booth_ids"])) for r in stored["assignments"]]
                   == [(a.application_id, a.booth_ids) for a in solution.assignments])
    out["load_after_timing"] = os.getloadavg()
    out["propose_s"] = {"median": statistics.median(times), "all": [round(t, 3) for t in times],
                        "cpu": statistics.median(cpu)}
    out["read_s"] = {"median": statistics.median(read_times)}
    out["solve_s"] = {"median": statistics.median(solve_times), "all": [round(t, 3) for t in solve_times],
                      "cpu": statistics.median(solve_cpu)}
    out["deterministic"] = deterministic and stored_same
    if baseline:
        out["baseline"] = {"rev": baseline, "median": statistics.median(base_times),
                           "all": [round(t, 3) for t in base_times], "cpu": statistics.median(base_cpu),
                           "same_solution": all(same(solution, s) for s in base_solutions)}

    requests = [r for r in problem.requests if (r.raw_m2 > 0 if r.raw else r.booths > 0)]
    free = [b for b in problem.booths if b.free and b.holder is None]
    by_id = {b.id: b for b in problem.booths}
    used = [by_id[i] for a in solution.assignments for i in a.booth_ids]
    value = objective(problem, solution)
    errors, counts = check(problem, solution)
    t0 = time.perf_counter()
    lp = upper_bound(problem, time_limit=bound_limit)
    lp.pop("share")  # per request: for a closer look by hand, not for the report
    out["lp"] = lp
    if integral:
        out["milp"] = upper_bound(problem, time_limit=bound_limit, integral=True)
        out["milp"].pop("share")
    out["check_and_bound_s"] = round(time.perf_counter() - t0, 2)
    out.update({
        "requests": len(requests),
        "standard_requests": sum(1 for r in requests if not r.raw),
        "raw_requests": sum(1 for r in requests if r.raw),
        "booths_requested": sum(r.booths for r in requests if not r.raw),
        "raw_m2_requested": sum(r.raw_m2 for r in requests if r.raw),
        "free_standard": sum(1 for b in free if not b.raw),
        "free_lots": sum(1 for b in free if b.raw),
        "standard_filled": sum(1 for b in used if not b.raw),
        "lots_filled": sum(1 for b in used if b.raw),
        "served": len(solution.assignments),
        "served_booths_by_size": dict(sorted(Counter(len(a.booth_ids) for a in solution.assignments
                                                    if not by_id[a.booth_ids[0]].raw).items())),
        "unmet_by_reason": dict(sorted(Counter(u.reason for u in solution.unmet).items())),
        "unmet_by_size": dict(sorted(Counter(u.booths for u in solution.unmet if u.booths).items())),
        "tiers": dict(Counter(a.tier for a in solution.assignments)),
        "straight": sum(1 for a in solution.assignments if a.straight and len(a.booth_ids) > 1),
        "multi": sum(1 for a in solution.assignments if len(a.booth_ids) > 1),
        "objective": value,
        "ratio_lp": value / lp["bound"] if lp["bound"] else 1.0,
        "check": {"errors": errors[:20], "error_count": len(errors), **counts},
    })
    if integral:
        out["ratio_milp"] = value / out["milp"]["bound"] if out["milp"]["bound"] else 1.0
    out["load_end"] = os.getloadavg()
    return out


def report(r: dict) -> None:
    target = TARGET_SECONDS.get(r["scale"], TARGET_SECONDS[10] * r["scale"] / 10)
    click.echo(f"\n{r['database']}, {r['scale']}×: {r['requests']} approved requests ({r['standard_requests']} "
               f"standard for {r['booths_requested']} booths, {r['raw_requests']} raw for "
               f"{r['raw_m2_requested']:g} m²); free: {r['free_standard']} standard booths, {r['free_lots']} lots")
    click.echo(f"  propose (read + solve + store + commit), median of {len(r['propose_s']['all'])}: "
               f"{r['propose_s']['median']:.2f} s   {r['propose_s']['all']}   (target < {target:g} s); "
               f"CPU {r['propose_s']['cpu']:.2f} s")
    click.echo(f"    of which reading the problem          {r['read_s']['median']:.2f} s")
    click.echo(f"  auto.solve alone, median:                {r['solve_s']['median']:.2f} s   {r['solve_s']['all']}; "
               f"CPU {r['solve_s']['cpu']:.2f} s")
    if "baseline" in r:
        b = r["baseline"]
        click.echo(f"  baseline solver of {b['rev']}, median:   {b['median']:.2f} s   {b['all']}; CPU {b['cpu']:.2f} s;"
                   f" same solution: {b['same_solution']}")
    click.echo(f"  deterministic (runs and stored proposal alike): {r['deterministic']}")
    click.echo(f"  objective Σ points × booths served:  {r['objective']:,.1f}")
    click.echo(f"  LP bound (HiGHS, {r['lp']['seconds']} s, {r['lp']['variables']} variables): {r['lp']['bound']:,.1f}"
               f"   ratio {r['ratio_lp']:.2%}   (target ≥ {TARGET_RATIO:.0%})")
    if "milp" in r:
        status = "optimal" if "Optimal" in r["milp"]["status"] else r["milp"]["status"]
        click.echo(f"  MILP bound (all or nothing kept, {r['milp']['seconds']} s, {status}): "
                   f"{r['milp']['bound']:,.1f}   ratio {r['ratio_milp']:.2%}")
    click.echo(f"  booths filled {r['standard_filled']} / {r['free_standard']} free "
               f"({r['standard_filled'] / max(1, r['free_standard']):.1%}), lots {r['lots_filled']} / {r['free_lots']}")
    click.echo(f"  requests served in full {r['served']} / {r['requests']}; multi-booth blocks {r['multi']}, "
               f"{r['straight']} of them straight runs; tiers {r['tiers']}")
    click.echo(f"  unmet by reason {r['unmet_by_reason']}; by booths asked {r['unmet_by_size']}")
    c = r["check"]
    click.echo(f"  check: {c['error_count']} errors; {c['competitor_pairs']} competitor pairs, "
               f"{c['competitor_booth_pairs_checked']} booth pairs of theirs in one hall checked; "
               f"1-booth requests served below an unmet one of the same wishes: {c['served_below_an_unmet']}")


@click.command()
@click.option("--scale", default=1, show_default=True, help="1: the demo venue; 10: ten copies of it.")
@click.option("--pg", is_flag=True, help=f"PostgreSQL: ${PG_URL_ENV}'s server or {DEFAULT_PG}[_10x].")
@click.option("--url", help="Any database URL (dropped and created again unless --reuse).")
@click.option("--reuse", is_flag=True, help="Measure on the database as it is (built before by this script).")
@click.option("--seed", default=SEED, show_default=True)
@click.option("--repeats", default=3, show_default=True)
@click.option("--cpu", default=0, show_default=True, help="The core the measurement is pinned to.")
@click.option("--milp/--no-milp", default=True, show_default=True, help="Also the integral bound (HiGHS MILP).")
@click.option("--bound-limit", default=300.0, show_default=True, help="Seconds HiGHS may take for a bound.")
@click.option("--baseline", metavar="REV", help="Also time the solver of this git revision (e.g. fd21895) on the "
              "same problem, and check it gives the same solution.")
def main(scale: int, pg: bool, url: str | None, reuse: bool, seed: int, repeats: int, cpu: int, milp: bool,
         bound_limit: float, baseline: str | None) -> None:
    """Build the allocation scenario, time the proposal and the solver, and compare with the upper bound."""
    url = default_url(scale, pg, url)
    OUT.mkdir(exist_ok=True)
    scenario = None
    if not reuse:
        click.echo(f"building the {scale}× scenario in {label(url)} ...", err=True)
        scenario = build_scenario(url, scale, seed)
        click.echo(f"  {scenario}", err=True)
    result = measure(url, scale, repeats, cpu, milp, bound_limit, baseline)
    result["scenario"] = scenario
    result["machine"] = machine()
    report(result)
    name = OUT / f"allocation-{scale}x-{label(url)}.json"
    name.write_text(json.dumps(result, indent=2, default=str))
    click.echo(f"  load average {result['load_before']} at the start, {result['load_end']} at the end; "
               f"written to {name}")
    if result["check"]["error_count"]:
        for e in result["check"]["errors"]:
            click.echo(f"  INVALID: {e}", err=True)
        raise SystemExit(f"the allocation breaks its rules ({result['check']['error_count']} errors)")
    if not result["deterministic"]:
        raise SystemExit("the allocation is not deterministic")
    if baseline and not result["baseline"]["same_solution"]:
        raise SystemExit(f"the solver of {baseline} gives another solution")


if __name__ == "__main__":
    sys.exit(main())
