"""The docking scheduler: 3,000 accepted meeting requests, 300 tables, 16 slots, busy periods for ~20% of people.

    python bench/scheduler.py                  # two sessions of 8 slots on two days, 300 tables each
    python bench/scheduler.py --overlap        # two rooms of 150 tables side by side, 16 slots at the same times
    python bench/scheduler.py --tables 180     # fewer tables: the tables bind, not only the popular exhibitors
    python bench/scheduler.py --no-lp          # without the LP bound (scipy)
    python bench/scheduler.py --db sqlite      # also through the app: rows in SQLite, schedule(), commit
    python bench/scheduler.py --db postgresql+psycopg://postgres@127.0.0.1:5432/expo_schedbench

The instance (deterministic, ``--seed``): 1,200 buyers and 600 exhibitors; each buyer asks for 1–6 meetings
(mean ~2.5), the exhibitor drawn by a Zipf law (s = 0.5), so the most popular exhibitors are asked by more buyers
than they have slots (the first by 58); ~20% of buyers and of exhibitors have a busy period: "not before 10:00 on day 1", "leaves at
11:00 on day 2", or a block of 40–80 minutes.

Measured (wall time, one process): :func:`expo.docking.planner.solve` on the instance, the combinatorial upper
bound of :func:`expo.docking.planner.upper_bound` (what the app shows), and, with scipy, the optimum of the linear
relaxation (HiGHS), a bound at least as tight. The schedule is checked by :func:`expo.docking.planner.violations`
(independent of the solver); the script stops with an error if it breaks a rule. Targets: ≥ 98% of the bound,
< 30 s.
"""

from __future__ import annotations

import json
import random
import sys
import time
from datetime import datetime, timedelta

import click
from common import OUT, machine

from expo.docking import planner

SEED = 2026
SQLITE_URL = f"sqlite:///{OUT / 'scheduler.sqlite3'}"
TARGET_RATIO = 0.98
ZIPF = 0.5
TARGET_SECONDS = 30.0


def instance(seed: int = SEED, *, requests: int = 3000, buyers: int = 1200, exhibitors: int = 600,
             overlap: bool = False, busy_share: float = 0.2, tables: int = 300) -> planner.Problem:
    rng = random.Random(seed)
    day1 = datetime(2026, 4, 19, 9, 0)
    if overlap:  # two rooms at the same times: 16 time slots, half the tables each
        sessions = [(1, day1, 16, tables // 2), (2, day1, 16, tables - tables // 2)]
    else:  # day 1 morning and day 2 morning: 8 slots each, all the tables
        sessions = [(1, day1, 8, tables), (2, day1 + timedelta(days=1), 8, tables)]
    slots = [planner.Slot((sid, k), start + timedelta(minutes=20 * k), start + timedelta(minutes=20 * (k + 1)), tables)
             for sid, start, count, tables in sessions for k in range(count)]
    weights = [1 / (rank + 1) ** ZIPF for rank in range(exhibitors)]
    pairs: set[tuple[int, int]] = set()
    while len(pairs) < requests:
        b = rng.randrange(buyers)
        for _ in range(min(6, 1 + int(rng.expovariate(0.7)))):
            pairs.add((b, rng.choices(range(exhibitors), weights)[0]))
            if len(pairs) >= requests:
                break
    reqs = [planner.Request(i + 1, b, e) for i, (b, e) in enumerate(sorted(pairs))]

    def busy(n: int) -> dict[int, int]:
        out = {}
        for person in rng.sample(range(n), int(n * busy_share)):
            kind = rng.random()
            if kind < 0.4:  # not before 10:00 on day 1
                period = (day1.replace(hour=0), day1.replace(hour=10))
            elif kind < 0.7:  # leaves at 11:00 on day 2 (or the rooms' day in the overlap case)
                last = day1 + timedelta(days=0 if overlap else 1)
                period = (last.replace(hour=11), last.replace(hour=23))
            else:
                start = rng.choice(slots).starts_at
                period = (start, start + timedelta(minutes=rng.choice((40, 60, 80))))
            out[person] = planner.busy_mask(slots, [period])
        return out

    return planner.Problem(slots, reqs, busy(buyers), busy(exhibitors))


def lp_bound(problem: planner.Problem) -> float:
    """The optimum of the linear relaxation: x[r, j] ≥ 0 over allowed slots, each request ≤ 1, each slot's tables,
    each person ≤ 1 in every group of clashing slots (each slot with those overlapping it)."""
    import numpy as np
    from scipy.optimize import linprog
    from scipy.sparse import coo_matrix

    clash = planner.clash_masks(problem.slots)
    full = (1 << len(problem.slots)) - 1
    var: list[tuple[int, int]] = []
    for i, r in enumerate(problem.requests):
        mask = (1 << r.fixed) if r.fixed is not None else \
            full & ~problem.buyer_busy.get(r.buyer, 0) & ~problem.exhibitor_busy.get(r.exhibitor, 0)
        var += [(i, j) for j in range(len(problem.slots)) if (mask >> j) & 1]
    rows, cols, bounds = [], [], []
    row = 0

    def add(members: list[int], limit: float) -> None:
        nonlocal row
        rows.extend([row] * len(members))
        cols.extend(members)
        bounds.append(limit)
        row += 1

    by_req: dict[int, list[int]] = {}
    by_slot: dict[int, list[int]] = {}
    by_person_slot: dict[tuple[str, int, int], list[int]] = {}
    for v, (i, j) in enumerate(var):
        r = problem.requests[i]
        by_req.setdefault(i, []).append(v)
        by_slot.setdefault(j, []).append(v)
        for anchor in range(len(problem.slots)):
            if (clash[anchor] >> j) & 1:
                by_person_slot.setdefault(("b", r.buyer, anchor), []).append(v)
                by_person_slot.setdefault(("e", r.exhibitor, anchor), []).append(v)
    for members in by_req.values():
        add(members, 1)
    for j, members in by_slot.items():
        add(members, problem.slots[j].tables)
    for members in by_person_slot.values():
        add(members, 1)
    a = coo_matrix((np.ones(len(rows)), (rows, cols)), shape=(row, len(var))).tocsr()
    res = linprog(-np.ones(len(var)), A_ub=a, b_ub=np.array(bounds), bounds=(0, 1), method="highs")
    if res.status != 0:
        raise SystemExit(f"LP failed: {res.message}")
    return -res.fun


def through_the_app(problem: planner.Problem, url: str) -> dict:
    """The same instance as rows (buyers, exhibitors, sessions, accepted meetings, busy periods) in a fresh database
    at ``url``, scheduled by :func:`expo.docking.scheduling.schedule` (read, solve, write) and committed, timed; then
    checked by :func:`expo.docking.scheduling.check`."""
    from common import bench_app, recreate_database
    from flask_migrate import upgrade
    from sqlalchemy import func, insert, select

    from expo import demo
    from expo.buyers.models import Buyer
    from expo.docking import scheduling
    from expo.docking.models import BusyPeriod, DockingSession, Meeting
    from expo.exhibitors.models import Exhibitor
    from expo.exhibitors.services import current_expo
    from expo.extensions import db

    recreate_database(url)
    app = bench_app(url)
    with app.app_context():
        upgrade(directory=app.extensions["migrate"].directory)
        demo.load(exhibitors=1, buyers=0)
        db.session.commit()
        expo = current_expo()
        first_day = problem.slots[0].starts_at.date()
        shift = expo.starts_on - first_day  # the instance's days become the expo's
        buyers = sorted({r.buyer for r in problem.requests} | set(problem.buyer_busy))
        exhibitors = sorted({r.exhibitor for r in problem.requests} | set(problem.exhibitor_busy))
        before = {m: db.session.scalar(select(func.coalesce(func.max(m.id), 0))) for m in (Buyer, Exhibitor)}
        db.session.execute(insert(Buyer), [dict(expo_id=expo.id, name=f"Buyer {b}", country="DE", email=f"b{b}@x.test")
                                           for b in buyers])
        db.session.execute(insert(Exhibitor), [dict(name_zh=f"展商{e}", name_en=f"Exhibitor {e}", country="CN",
                                                    contact_name="x", contact_phone="1", contact_email="e@x.test")
                                               for e in exhibitors])
        buyer_ids, exhibitor_ids = (dict(zip(people, db.session.scalars(
            select(m.id).where(m.id > before[m]).order_by(m.id)), strict=True))
            for people, m in ((buyers, Buyer), (exhibitors, Exhibitor)))
        sessions: dict[int, DockingSession] = {}
        for slot in problem.slots:
            sid, k = slot.key
            if sid not in sessions:
                sessions[sid] = DockingSession(expo_id=expo.id, name_zh=f"对接会{sid}", name_en=f"Session {sid}",
                                               starts_at=slot.starts_at + shift, slot_minutes=20, slot_count=0,
                                               table_count=slot.tables)
            sessions[sid].slot_count = k + 1
        db.session.add_all(sessions.values())
        db.session.execute(insert(Meeting), [dict(expo_id=expo.id, buyer_id=buyer_ids[r.buyer],
                                                  exhibitor_id=exhibitor_ids[r.exhibitor], requested_by="buyer",
                                                  status="accepted", pinned=False, message="", answer_note="")
                                             for r in problem.requests])
        busy = []
        for people, ids, column in ((problem.buyer_busy, buyer_ids, "buyer_id"),
                                    (problem.exhibitor_busy, exhibitor_ids, "exhibitor_id")):
            for person, mask in people.items():
                for j in range(len(problem.slots)):
                    if (mask >> j) & 1:
                        busy.append({"expo_id": expo.id, column: ids[person], "note": "",
                                     "starts_at": problem.slots[j].starts_at + shift,
                                     "ends_at": problem.slots[j].ends_at + shift})
        db.session.execute(insert(BusyPeriod), busy)
        db.session.commit()
        t0 = time.perf_counter()
        result = scheduling.schedule(None, current_expo())
        db.session.commit()
        seconds = time.perf_counter() - t0
        broken = scheduling.check(current_expo())
        if broken:
            raise SystemExit("the stored schedule breaks rules:\n" + "\n".join(broken[:20]))
        out = {"database": url.split(":", 1)[0], "scheduled": result.scheduled, "bound": result.bound,
               "seconds": round(seconds, 2)}
        db.session.remove()
        db.engine.dispose()
    return out


@click.command()
@click.option("--seed", default=SEED, show_default=True)
@click.option("--requests", default=3000, show_default=True)
@click.option("--overlap", is_flag=True, help="two rooms side by side instead of two days")
@click.option("--tables", default=300, show_default=True, help="tables at any one time (fewer: tables bind)")
@click.option("--lp/--no-lp", default=True, help="also the LP relaxation's bound (scipy)")
@click.option("--db", "db_url", default="", help="also through the app on this database (read, solve, write)")
def main(seed: int, requests: int, overlap: bool, tables: int, lp: bool, db_url: str) -> None:
    problem = instance(seed, requests=requests, overlap=overlap, tables=tables)
    t0 = time.perf_counter()
    placement = planner.solve(problem)
    table_of = planner.assign_tables(problem, placement, {})
    solve_s = time.perf_counter() - t0
    broken = planner.violations(problem, placement, table_of)
    if broken:
        raise SystemExit("the schedule breaks rules:\n" + "\n".join(broken[:20]))
    t1 = time.perf_counter()
    bound = planner.upper_bound(problem)
    bound_s = time.perf_counter() - t1
    out = {"instance": {"requests": len(problem.requests), "slots": len(problem.slots),
                        "tables_per_time": max(sum(t.tables for t in problem.slots if t.starts_at == s.starts_at)
                                               for s in problem.slots),
                        "overlapping_rooms": overlap, "seed": seed,
                        "busy_buyers": len(problem.buyer_busy), "busy_exhibitors": len(problem.exhibitor_busy)},
           "scheduled": len(placement), "bound": bound, "ratio": round(len(placement) / bound, 4) if bound else 1,
           "solve_seconds": round(solve_s, 2), "bound_seconds": round(bound_s, 2)}
    if lp:
        t2 = time.perf_counter()
        lp_value = lp_bound(problem)
        out["lp_bound"] = round(lp_value, 2)
        out["ratio_lp"] = round(len(placement) / int(lp_value + 1e-6), 4) if lp_value else 1
        out["lp_seconds"] = round(time.perf_counter() - t2, 2)
    if db_url:
        out["through_the_app"] = through_the_app(problem, SQLITE_URL if db_url == "sqlite" else db_url)
    out["targets_met"] = out["ratio"] >= TARGET_RATIO and solve_s < TARGET_SECONDS
    out["machine"] = machine()
    OUT.mkdir(exist_ok=True)
    (OUT / f"scheduler{'-overlap' if overlap else ''}{'' if tables == 300 else f'-{tables}'}.json").write_text(json.dumps(out, indent=2))
    json.dump(out, sys.stdout, indent=2)
    print()


if __name__ == "__main__":
    main()
