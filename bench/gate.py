"""Gate scans under load: gunicorn serving the real app on PostgreSQL, loaded on loopback by a Python generator.

    .venv/bin/python bench/gate.py seed                 # expo_leads_bench: the demo, 10,000 badges, gate tokens
    .venv/bin/python bench/gate.py run                  # floor and scans, sync and gthread workers
    .venv/bin/python bench/gate.py run --profile        # one sync worker under cProfile (bench/out/gate-profile.txt)
    .venv/bin/python bench/gate.py cpu                  # CPU per scan in one process, no HTTP (app and PostgreSQL)

What ``run`` measures, for each server set-up (``--servers sync:4,gthread:2x8``), in one run:

- **floor**: a minimal Flask app (one JSON hello-world endpoint) on the same gunicorn set-up, loaded by the same
  generator, closed loop with ``--clients`` connections for ``--seconds``: the most this machine, this server and
  this generator can do at all;
- **throughput**: ``POST /api/v1/gate/scans`` closed loop, same clients and time: sustained scans/s;
- **latency**: the same scans open loop at a fixed ``--rate`` (200/s) for ``--open-seconds`` (30 s): p50, p99 and
  max measured from each scan's scheduled time (a scan that waits for a free connection counts its wait).

The scans are a gate's mix: bearer tokens of four gate accounts, a device id per connection, a fresh nonce per
scan, at the demo's checkpoints (two entrances, a hall door, a docking room). Most are valid badges entering or
leaving (the generator keeps its own view of who is inside where); a few percent are refused: forged codes, revoked
badges, malformed text, and badges shown twice (already inside).

The generator is asyncio with raw HTTP/1.1 sockets (keep-alive where the server keeps the connection; gunicorn's
sync workers close it after each answer, as ``wrk`` sees too), in ``--procs`` processes. It records the CPU time of
itself, of gunicorn and of PostgreSQL, so the figures say where the two cores went.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing as mp
import os
import random
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

from common import OUT, ROOT, machine, recreate_database

DEFAULT_URL = os.environ.get("EXPO_BENCH_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/expo_leads_bench")
FIXTURE = OUT / "gate-fixture.json"
SECRET = "bench-secret"
GATES = ["gate@expo.test", "gate2@expo.test", "gate3@expo.test", "gate4@expo.test"]
#: Where the scans happen: (checkpoint code, share).
CHECKPOINT_MIX = [("W1", 0.40), ("E1", 0.40), ("A1", 0.15), ("R1", 0.05)]


# --- the floor app ---------------------------------------------------------------------------------------------------

def floor():
    """The floor: a minimal Flask app with one JSON endpoint (``gunicorn 'gate:floor()'``)."""
    from flask import Flask, jsonify

    app = Flask("floor")

    @app.post("/api/v1/gate/scans")
    @app.get("/hello")
    def hello():
        return jsonify(hello="world")

    return app


# --- seeding -----------------------------------------------------------------------------------------------------

def seed(url: str, badges: int) -> None:
    """The demo (with its checkpoints), ``badges`` badges issued to staff and buyers, 1 % of them reissued (their old
    codes are the revoked ones the scans show), gate accounts with API tokens; the fixture for ``run``."""
    from common import bench_app
    from flask_migrate import upgrade
    from sqlalchemy import select, text

    from expo import demo
    from expo.auth.models import Role, User
    from expo.auth.services import create_api_token, create_user
    from expo.badges import services
    from expo.badges.models import Badge
    from expo.buyers.models import Buyer
    from expo.checkin.models import Checkpoint
    from expo.exhibitors.models import Exhibitor, ExhibitorStaff
    from expo.exhibitors.services import current_expo
    from expo.extensions import db

    recreate_database(url)
    app = bench_app(url)
    app.config["PASSWORD_HASH_METHOD"] = "pbkdf2:sha256:1000"
    with app.app_context():
        t0 = time.perf_counter()
        upgrade(directory=app.extensions["migrate"].directory)
        demo.load(exhibitors=1000, buyers=max(1000, badges - 2000), checkpoints=True)
        db.session.commit()
        print(f"demo loaded: {time.perf_counter() - t0:.1f} s", file=sys.stderr)
        expo = current_expo()
        t0 = time.perf_counter()
        staff = db.session.execute(select(ExhibitorStaff, Exhibitor).join(Exhibitor).order_by(ExhibitorStaff.id)).all()
        holders = [services.holder_of_staff(m, e) for m, e in staff]
        holders += [services.holder_of_buyer(b) for b in db.session.scalars(select(Buyer).order_by(Buyer.id))]
        holders = holders[:badges]
        issued = []
        for start in range(0, len(holders), 1000):
            issued += [(b.id, b.code) for b in services.issue_many(None, expo, holders[start:start + 1000])]
            db.session.commit()
            print(f"  {len(issued)} badges", file=sys.stderr, end="\r")
        print(f"\n{len(issued)} badges issued: {time.perf_counter() - t0:.1f} s", file=sys.stderr)
        rng = random.Random(6)
        revoked = []
        for badge_id, old_code in rng.sample(issued, len(issued) // 100):
            services.revoke_and_reissue(None, db.session.get(Badge, badge_id), "bench: reported lost")
            revoked.append(old_code)
        db.session.commit()
        stale = set(revoked)
        current = dict(db.session.execute(text("SELECT id, code FROM badges")).all())
        valid = [(i, current[i]) for i, c in issued if c not in stale]
        tokens = []
        for email in GATES:
            user = db.session.scalar(select(User).where(User.email == email)) or \
                create_user(email, "bench-password-2026", email.split("@")[0], Role.GATE)
            tokens.append(create_api_token(user, "bench")[1])
        checkpoints = {c.code: {"id": c.id, "mode": c.mode, "zone": c.zone}
                       for c in db.session.scalars(select(Checkpoint).where(Checkpoint.expo_id == expo.id))}
        db.session.commit()
        db.engine.dispose()
    from sqlalchemy import create_engine

    engine = create_engine(url, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.execute(text(YESTERDAY))
        conn.execute(text("VACUUM ANALYZE"))
    engine.dispose()
    OUT.mkdir(exist_ok=True)
    FIXTURE.write_text(json.dumps({"url": url, "tokens": tokens, "checkpoints": checkpoints, "valid": valid,
                                   "revoked": revoked}))
    print(f"fixture: {FIXTURE} ({len(valid)} valid badges, {len(revoked)} revoked codes, {len(tokens)} tokens, "
          f"checkpoints {sorted(checkpoints)})", file=sys.stderr)


#: The scan log of the expo's first day, so that the measurements see a venue on its second morning: every badge
#: in at the west gate and out again (two rows each), five times over (as if scanned at several doors). The scans
#: table is then as big as a day's traffic makes it, as PostgreSQL plans lookups in it (an empty table is read
#: whole, and a statement prepared then keeps that plan until the table is analyzed: see bench/README.md).
YESTERDAY = """INSERT INTO scans (expo_id, checkpoint_id, badge_id, device_id, nonce, direction, result, reason,
    code_prefix, scanned_at, received_at, offline, by_id)
SELECT b.expo_id, c.id, b.id, 'yesterday-' || r, b.id || '-' || d, d, CASE WHEN d = 'in' THEN 'admitted'
    ELSE 'exited' END, '', left(b.code, 24), now() - interval '1 day', now() - interval '1 day', false, NULL
FROM badges b JOIN checkpoints c ON c.expo_id = b.expo_id AND c.code = 'W1', generate_series(1, 5) r,
    (VALUES ('in'), ('out')) v(d)"""


# --- the load generator --------------------------------------------------------------------------------------------

class Conn:
    """One HTTP/1.1 connection: keep-alive while the server keeps it, reconnecting when it closes."""

    def __init__(self, host: str, port: int):
        self.host, self.port = host, port
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None
        self.connects = 0

    async def request(self, raw: bytes) -> tuple[int, bytes]:
        for attempt in (1, 2):
            if self.writer is None:
                self.reader, self.writer = await asyncio.open_connection(self.host, self.port)
                self.writer.transport.get_extra_info("socket").setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
                self.connects += 1
            try:
                self.writer.write(raw)
                head = await self.reader.readuntil(b"\r\n\r\n")
            except (ConnectionError, asyncio.IncompleteReadError):
                self.close()
                if attempt == 2:
                    raise
                continue  # the server closed an idle keep-alive connection: send again on a new one
            status = int(head[9:12])
            lower = head.lower()
            i = lower.find(b"content-length:")
            length = int(lower[i + 15:lower.find(b"\r\n", i)]) if i >= 0 else 0
            body = await self.reader.readexactly(length) if length else b""
            if b"connection: close" in lower:
                self.close()
            return status, body
        raise AssertionError("unreachable")

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
        self.reader = self.writer = None


def _flip(code: str, at: int) -> str:
    return code[:at] + ("A" if code[at] != "A" else "B") + code[at + 1:]


class ScanMix:
    """The scans of one generator process: its own share of the badges, and its own view of who is inside."""

    def __init__(self, fixture: dict, proc: int, procs: int, run_id: str, host: str, port: int, path: str):
        self.rng = random.Random(proc * 7919 + 1)
        self.valid = fixture["valid"][proc::procs]
        self.revoked = fixture["revoked"]
        self.tokens = fixture["tokens"]
        self.cps = fixture["checkpoints"]
        self.cp_codes = [c for c, _w in CHECKPOINT_MIX if c in self.cps]
        self.cp_weights = [w for c, w in CHECKPOINT_MIX if c in self.cps]
        self.inside: dict[tuple[int, str], bool] = {}
        self.run_id, self.n = run_id, 0
        self.head = f"POST {path} HTTP/1.1\r\nHost: {host}:{port}\r\nContent-Type: application/json\r\n" \
                    "Accept: application/json\r\nAccept-Language: en\r\n"

    def next(self, conn_index: int) -> tuple[bytes, tuple[int, str] | None]:
        """The request bytes, and the (badge, zone) whose presence its answer tells."""
        self.n += 1
        rng = self.rng
        code_name = rng.choices(self.cp_codes, self.cp_weights)[0]
        cp = self.cps[code_name]
        roll = rng.random()
        badge_id, code = rng.choice(self.valid)
        key = (badge_id, cp["zone"])
        direction = "in"
        if roll < 0.02:
            code, key = f"NOT-A-BADGE-{self.n}", None
        elif roll < 0.05:
            code, key = _flip(code, rng.randrange(20, 110)), None
        elif roll < 0.07:
            code, key = rng.choice(self.revoked), None
        elif roll < 0.10:
            inside = [k for k in list(self.inside)[-50:] if self.inside[k] and k[1] == cp["zone"]]
            if inside:  # shown twice: already inside
                key = inside[-1]
                code = self._code_of(key[0])
        elif self.inside.get(key) and cp["mode"] == "entry_exit":
            direction = "out"
        body = json.dumps({"checkpoint_id": cp["id"], "code": code, "device_id": f"bench-{self.run_id}-{conn_index}",
                           "nonce": f"{self.run_id}-{os.getpid()}-{self.n}", "direction": direction},
                          separators=(",", ":")).encode()
        token = self.tokens[conn_index % len(self.tokens)]
        raw = (f"{self.head}Authorization: Bearer {token}\r\nContent-Length: {len(body)}\r\n\r\n").encode() + body
        return raw, key

    def _code_of(self, badge_id: int) -> str:
        if not hasattr(self, "_codes"):
            self._codes = dict(self.valid)
        return self._codes[badge_id]

    def answer(self, key: tuple[int, str] | None, body: bytes, counts: dict) -> None:
        try:
            out = json.loads(body)
        except ValueError:
            counts["bad body"] = counts.get("bad body", 0) + 1
            return
        label = out.get("result") or out.get("error") or "?"
        if out.get("reason"):
            label += ":" + out["reason"]
        counts[label] = counts.get(label, 0) + 1
        if key is not None and (out.get("result") in ("admitted", "exited")
                                or out.get("reason") in ("already_inside", "not_inside")):
            # What the gate said is who is inside: the next scan of this badge here goes the other way.
            self.inside[key] = out["result"] == "admitted" or out.get("reason") == "already_inside"
            if len(self.inside) > 200_000:
                self.inside.clear()


def _hello_request(host: str, port: int) -> bytes:
    return f"GET /hello HTTP/1.1\r\nHost: {host}:{port}\r\nAccept: application/json\r\n\r\n".encode()


async def _closed(host: str, port: int, clients: int, warmup: float, seconds: float, mix: ScanMix | None,
                  proc: int) -> dict:
    lat: list[float] = []
    counts: dict[str, int] = {}
    statuses: dict[int, int] = {}
    errors = 0
    loop = asyncio.get_running_loop()
    start = loop.time()
    measure_from, stop = start + warmup, start + warmup + seconds
    hello = _hello_request(host, port)
    conns = [Conn(host, port) for _ in range(clients)]

    async def worker(i: int) -> None:
        nonlocal errors
        conn = conns[i]
        while True:
            raw, key = mix.next(proc * 1000 + i) if mix else (hello, None)
            t = loop.time()
            if t >= stop:
                return
            try:
                status, body = await conn.request(raw)
            except (OSError, asyncio.IncompleteReadError):
                errors += 1
                conn.close()
                continue
            end = loop.time()
            if mix:
                mix.answer(key, body, counts)
            if t >= measure_from and end <= stop:
                lat.append(end - t)
                statuses[status] = statuses.get(status, 0) + 1

    await asyncio.gather(*(worker(i) for i in range(clients)))
    for c in conns:
        c.close()
    return {"lat": lat, "counts": counts, "statuses": statuses, "errors": errors, "seconds": seconds,
            "connects": sum(c.connects for c in conns)}


async def _open(host: str, port: int, rate: float, seconds: float, mix: ScanMix, proc: int, pool: int) -> dict:
    lat: list[float] = []
    counts: dict[str, int] = {}
    statuses: dict[int, int] = {}
    errors = 0
    loop = asyncio.get_running_loop()
    queue: asyncio.Queue = asyncio.Queue()
    total = int(rate * seconds)
    t0 = loop.time() + 0.05

    async def producer() -> None:
        for i in range(total):
            at = t0 + i / rate
            delay = at - loop.time()
            if delay > 0:
                await asyncio.sleep(delay)
            queue.put_nowait(at)
        for _ in range(pool):
            queue.put_nowait(None)

    async def worker(i: int) -> None:
        nonlocal errors
        conn = Conn(host, port)
        while True:
            at = await queue.get()
            if at is None:
                conn.close()
                return
            raw, key = mix.next(proc * 1000 + i)
            try:
                status, body = await conn.request(raw)
            except (OSError, asyncio.IncompleteReadError):
                errors += 1
                conn.close()
                continue
            lat.append(loop.time() - at)  # from the scheduled time: waiting for a free connection counts
            statuses[status] = statuses.get(status, 0) + 1
            mix.answer(key, body, counts)

    await asyncio.gather(producer(), *(worker(i) for i in range(pool)))
    return {"lat": lat, "counts": counts, "statuses": statuses, "errors": errors, "seconds": seconds,
            "sent": total}


def _child(kind: str, args: dict, proc: int, out: mp.Queue) -> None:
    fixture = json.loads(FIXTURE.read_text()) if args["scans"] else None
    mix = ScanMix(fixture, proc, args["procs"], args["run_id"], args["host"], args["port"], "/api/v1/gate/scans") \
        if args["scans"] else None
    cpu0 = time.process_time()
    if kind == "closed":
        result = asyncio.run(_closed(args["host"], args["port"], args["clients"], args["warmup"], args["seconds"],
                                     mix, proc))
    else:
        result = asyncio.run(_open(args["host"], args["port"], args["rate"], args["seconds"], mix, proc,
                                   args["pool"]))
    result["cpu"] = time.process_time() - cpu0
    out.put(result)


def generate(kind: str, **args) -> dict:
    """Run the generator in ``procs`` processes (each its share of clients or of the rate) and merge their results."""
    procs = args["procs"]
    queue: mp.Queue = mp.get_context("fork").Queue()
    children = []
    for p in range(procs):
        share = dict(args)
        if kind == "closed":
            share["clients"] = args["clients"] // procs + (1 if p < args["clients"] % procs else 0)
        else:
            share["rate"] = args["rate"] / procs
            share["pool"] = max(4, args["pool"] // procs)
        child = mp.get_context("fork").Process(target=_child, args=(kind, share, p, queue))
        child.start()
        children.append(child)
    results = [queue.get(timeout=args.get("seconds", 30) + args.get("warmup", 0) + 120) for _ in children]
    for child in children:
        child.join(30)
    lat = sorted(x for r in results for x in r["lat"])
    counts: dict[str, int] = {}
    statuses: dict[str, int] = {}
    for r in results:
        for k, v in r["counts"].items():
            counts[k] = counts.get(k, 0) + v
        for k, v in r["statuses"].items():
            statuses[str(k)] = statuses.get(str(k), 0) + v
    seconds = args["seconds"]
    return {"requests": len(lat), "per_second": round(len(lat) / seconds, 1), "p50_ms": _pct(lat, 0.50),
            "p90_ms": _pct(lat, 0.90), "p99_ms": _pct(lat, 0.99), "max_ms": round(lat[-1] * 1000, 2) if lat else None,
            "errors": sum(r["errors"] for r in results), "statuses": statuses,
            "answers": dict(sorted(counts.items(), key=lambda kv: -kv[1])),
            "generator_cpu_s": round(sum(r["cpu"] for r in results), 2),
            "connects": sum(r.get("connects", 0) for r in results)}


def _pct(values: list[float], q: float) -> float | None:
    if not values:
        return None
    return round(values[min(len(values) - 1, int(q * len(values)))] * 1000, 2)


# --- servers and CPU accounting ------------------------------------------------------------------------------------

def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    """A gunicorn serving ``target``; stopped (with its workers) by its process group, which we started."""

    def __init__(self, target: str, spec: str, env: dict, chdir: Path, profile: bool = False):
        self.port = _free_port()
        kind, _, size = spec.partition(":")
        cmd = [sys.executable, "-m", "gunicorn", "-b", f"127.0.0.1:{self.port}", "--chdir", str(chdir),
               "--log-level", "warning", "--backlog", "2048", "--keep-alive", "5", "-k", kind]
        if kind == "gthread":
            workers, _, threads = size.partition("x")
            cmd += ["-w", workers, "--threads", threads or "4"]
        else:
            cmd += ["-w", size or "4"]
        if profile:
            cmd += ["-c", str(Path(__file__).resolve().parent / "gate_profile_conf.py")]
        cmd.append(target)
        # Started in ``chdir``: ``python -m`` puts the working directory first on sys.path, before PYTHONPATH.
        self.proc = subprocess.Popen(cmd, env=env, cwd=str(chdir), start_new_session=True)
        deadline = time.monotonic() + 60
        while True:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=1) as s:
                    s.sendall(b"GET /hello HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
                    if s.recv(64).startswith(b"HTTP/1."):
                        break
            except OSError:
                pass
            if self.proc.poll() is not None or time.monotonic() > deadline:
                raise SystemExit(f"gunicorn did not start: {' '.join(cmd)}")
            time.sleep(0.3)
        time.sleep(1.0)  # every worker up

    def pids(self) -> list[int]:
        return [self.proc.pid, *_children(self.proc.pid)]

    def stop(self) -> None:
        try:
            os.killpg(self.proc.pid, signal.SIGTERM)
        except ProcessLookupError:
            return
        try:
            self.proc.wait(30)
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(10)


def _children(pid: int) -> list[int]:
    out = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == pid:
                out.append(int(entry.name))
    return out


def _cpu_of(pids: list[int]) -> dict[int, float]:
    """CPU seconds (user + system) of each process."""
    tick = os.sysconf("SC_CLK_TCK")
    out = {}
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            out[pid] = (int(fields[11]) + int(fields[12])) / tick
        except OSError:
            pass
    return out


def _cpu_delta(before: dict[int, float], after: dict[int, float]) -> float:
    """The CPU the processes spent between two readings: a process that ended meanwhile is left out (its last
    seconds are lost), one that started counts whole."""
    return sum(cpu - before.get(pid, 0.0) for pid, cpu in after.items())


def _postgres_pids() -> list[int]:
    out = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if (entry / "comm").read_text().strip() == "postgres":
                    out.append(int(entry.name))
            except OSError:
                pass
    return out


def measured(server: Server, kind: str, **args) -> dict:
    """``generate`` with the CPU seconds gunicorn and PostgreSQL spent meanwhile (PostgreSQL: every backend,
    the other engineers' included: read it as an upper bound on a busy machine)."""
    if args.get("scans"):
        _check_out_everyone(FIXTURE_URL())
    g0, p0, w0 = _cpu_of(server.pids()), _cpu_of(_postgres_pids()), time.monotonic()
    result = generate(kind, **args)
    result["wall_s"] = round(time.monotonic() - w0, 1)
    result["gunicorn_cpu_s"] = round(_cpu_delta(g0, _cpu_of(server.pids())), 2)
    result["postgres_cpu_s"] = round(_cpu_delta(p0, _cpu_of(_postgres_pids())), 2)
    return result


def _wrk(port: int, clients: int, seconds: float) -> dict:
    """``wrk -t2 -c<clients> --latency`` on the floor's hello endpoint: requests/s, p50 and p99."""
    out = subprocess.run(["wrk", "-t2", f"-c{clients}", f"-d{int(seconds)}s", "--latency",
                          f"http://127.0.0.1:{port}/hello"], capture_output=True, text=True, timeout=seconds + 60).stdout

    def ms(label: str) -> float | None:
        match = re.search(rf"^\s*{label}\s+([\d.]+)(us|ms|s)\s*$", out, re.M)
        if not match:
            return None
        return round(float(match.group(1)) * {"us": 0.001, "ms": 1, "s": 1000}[match.group(2)], 2)

    rate = re.search(r"Requests/sec:\s+([\d.]+)", out)
    return {"per_second": float(rate.group(1)) if rate else None, "p50_ms": ms("50%"), "p99_ms": ms("99%")}


def loadavg() -> list[float]:
    return [float(x) for x in Path("/proc/loadavg").read_text().split()[:3]]


def run(args: argparse.Namespace) -> dict:
    if not FIXTURE.exists():
        raise SystemExit(f"no {FIXTURE}: run 'python bench/gate.py seed' first")
    fixture = json.loads(FIXTURE.read_text())
    env = {**os.environ, "EXPO_DATABASE_URL": fixture["url"], "EXPO_SECRET_KEY": SECRET, "PYTHONPATH": str(ROOT)}
    base = dict(host="127.0.0.1", procs=args.procs, warmup=args.warmup, run_id=f"{int(time.time())}")
    report: dict = {"machine": machine(), "loadavg_before": loadavg(), "clients": args.clients,
                    "seconds": args.seconds, "rate": args.rate, "open_seconds": args.open_seconds,
                    "procs": args.procs, "badges": len(fixture["valid"]), "servers": {}}
    for spec in args.servers.split(","):
        row: dict = {}
        floor_server = Server("gate:floor()", spec, env, Path(__file__).resolve().parent)
        try:
            row["floor"] = measured(floor_server, "closed", **base, port=floor_server.port, scans=False,
                                    clients=args.clients, seconds=args.seconds)
        finally:
            floor_server.stop()
        _say(spec, "floor", row["floor"])
        if args.wrk and shutil.which("wrk"):  # the same floor under wrk (C), to see what the Python generator costs
            floor_server = Server("gate:floor()", spec, env, Path(__file__).resolve().parent)
            try:
                row["floor_wrk"] = _wrk(floor_server.port, args.clients, args.seconds)
            finally:
                floor_server.stop()
            print(f"{spec:<12} floor (wrk)  {row['floor_wrk']}", file=sys.stderr)
        server = Server("expo:create_app()", spec, env, ROOT)
        try:
            row["scans"] = measured(server, "closed", **{**base, "run_id": base["run_id"] + spec + "c"},
                                    port=server.port, scans=True, clients=args.clients, seconds=args.seconds)
            _say(spec, "scans", row["scans"])
            if args.open_seconds > 0:  # (0: throughput only, e.g. to compare server set-ups)
                row["open"] = measured(server, "open", **{**base, "warmup": 0, "run_id": base["run_id"] + spec + "o"},
                                       port=server.port, scans=True, rate=args.rate, seconds=args.open_seconds,
                                       pool=args.pool)
                _say(spec, f"open {args.rate:g}/s", row["open"])
        finally:
            server.stop()
        if args.compare:  # the same scans against another checkout of the app (the code before a change)
            before_env = {**env, "PYTHONPATH": str(Path(args.compare).resolve())}
            server = Server("expo:create_app()", spec, before_env, Path(args.compare).resolve())
            try:
                row["scans_compared"] = measured(server, "closed", **{**base, "run_id": base["run_id"] + spec + "b"},
                                                 port=server.port, scans=True, clients=args.clients,
                                                 seconds=args.seconds)
                _say(spec, "compared", row["scans_compared"])
            finally:
                server.stop()
        row["ratio"] = round(row["scans"]["per_second"] / row["floor"]["per_second"], 3) \
            if row["floor"]["per_second"] else None
        report["servers"][spec] = row
    report["loadavg_after"] = loadavg()
    return report


def FIXTURE_URL() -> str:  # noqa: N802 - reads like the constant it stands for
    return json.loads(FIXTURE.read_text())["url"]


def _check_out_everyone(url: str) -> None:
    """Start each measurement from an empty venue (the 18:00 automatic check-out), so that the scans are entries and
    exits rather than "already inside" left over from the one before (each generator starts with no view of who is
    inside); and drop the earlier measurements' scans (yesterday's stay)."""
    from sqlalchemy import create_engine, text

    engine = create_engine(url)
    with engine.begin() as conn:
        conn.execute(text("UPDATE presences SET inside = false WHERE inside"))
        conn.execute(text("DELETE FROM scans WHERE device_id NOT LIKE 'yesterday-%'"))
    # And vacuumed, as overnight: else autovacuum cleans up after this reset during the measurement, on its cores.
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text("VACUUM ANALYZE presences, scans"))
    engine.dispose()


def _say(spec: str, what: str, r: dict) -> None:
    print(f"{spec:<12} {what:<12} {r['per_second']:>8.1f}/s  p50 {r['p50_ms']} ms  p99 {r['p99_ms']} ms  "
          f"max {r['max_ms']} ms  errors {r['errors']}  statuses {r['statuses']}  cpu gen/gunicorn/pg "
          f"{r['generator_cpu_s']}/{r['gunicorn_cpu_s']}/{r['postgres_cpu_s']} s in {r['wall_s']} s",
          file=sys.stderr)


def profile(args: argparse.Namespace) -> None:
    """One sync worker under cProfile, closed loop: where a scan's time goes."""
    import pstats

    fixture = json.loads(FIXTURE.read_text())
    out_dir = OUT / "gate-profile"
    out_dir.mkdir(parents=True, exist_ok=True)
    for f in out_dir.glob("*.prof"):
        f.unlink()
    env = {**os.environ, "EXPO_DATABASE_URL": fixture["url"], "EXPO_SECRET_KEY": SECRET, "PYTHONPATH": str(ROOT),
           "GATE_PROFILE_DIR": str(out_dir)}
    server = Server("expo:create_app()", "sync:1", env, ROOT, profile=True)
    try:
        r = generate("closed", host="127.0.0.1", port=server.port, procs=1, warmup=1, run_id=f"p{int(time.time())}",
                     scans=True, clients=4, seconds=args.seconds)
    finally:
        server.stop()
    print(f"profiled: {r['per_second']}/s with one worker, p50 {r['p50_ms']} ms", file=sys.stderr)
    files = [str(f) for f in out_dir.glob("*.prof")]
    if not files:
        raise SystemExit("no profile written")
    text_out = OUT / "gate-profile.txt"
    with open(text_out, "w") as fh:
        stats = pstats.Stats(*files, stream=fh)
        stats.sort_stats("cumulative").print_stats(60)
        stats.sort_stats("tottime").print_stats(40)
    print(f"written: {text_out}", file=sys.stderr)


def cpu(args: argparse.Namespace) -> dict:
    """CPU per scan in one process: the app's WSGI callable called directly with the bench's scans (no HTTP, no
    gunicorn, no generator), ``time.process_time`` of this process and of PostgreSQL's backends."""
    import io

    fixture = json.loads(FIXTURE.read_text())
    _check_out_everyone(fixture["url"])
    os.environ.update(EXPO_DATABASE_URL=fixture["url"], EXPO_SECRET_KEY=SECRET)
    from expo import create_app

    app = create_app()
    mix = ScanMix(fixture, 0, 1, f"cpu{int(time.time())}", "127.0.0.1", 80, "/api/v1/gate/scans")
    counts: dict = {}
    statuses: dict[str, int] = {}

    def one(i: int) -> None:
        raw, key = mix.next(i % 16)
        head, body = raw.split(b"\r\n\r\n", 1)
        headers = dict(line.split(": ", 1) for line in head.decode().split("\r\n")[1:])
        environ = {"REQUEST_METHOD": "POST", "PATH_INFO": "/api/v1/gate/scans", "SERVER_NAME": "127.0.0.1",
                   "SERVER_PORT": "80", "SERVER_PROTOCOL": "HTTP/1.1", "wsgi.url_scheme": "http",
                   "wsgi.input": io.BytesIO(body), "wsgi.errors": sys.stderr, "QUERY_STRING": "",
                   "CONTENT_TYPE": headers["Content-Type"], "CONTENT_LENGTH": headers["Content-Length"],
                   **{"HTTP_" + k.upper().replace("-", "_"): v for k, v in headers.items()
                      if k not in ("Content-Type", "Content-Length")}}
        status: list[str] = []
        out = b"".join(app(environ, lambda s, h, exc_info=None: status.append(s)))
        statuses[status[0]] = statuses.get(status[0], 0) + 1
        mix.answer(key, out, counts)

    for i in range(args.warm):
        one(i)
    pg = _postgres_pids()
    pg_before, t0, w0 = _cpu_of(pg), time.process_time(), time.perf_counter()
    for i in range(args.scans):
        one(i)
    cpu_s, wall = time.process_time() - t0, time.perf_counter() - w0
    pg_s = _cpu_delta(pg_before, _cpu_of(pg))
    report = {"scans": args.scans, "app_cpu_ms_per_scan": round(cpu_s / args.scans * 1000, 3),
              "postgres_cpu_ms_per_scan": round(pg_s / args.scans * 1000, 3),
              "wall_ms_per_scan": round(wall / args.scans * 1000, 3), "statuses": statuses, "answers": counts,
              "fast_path": app.config.get("GATE_FAST_PATH", True)}
    print(json.dumps(report, indent=2))
    return report


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    s = sub.add_parser("seed", help="create the bench database, the badges and the gate tokens")
    s.add_argument("--url", default=DEFAULT_URL)
    s.add_argument("--badges", type=int, default=10_000)
    r = sub.add_parser("run", help="measure the floor, the throughput and the latency")
    r.add_argument("--servers", default="sync:4,gthread:2x8",
                   help="gunicorn set-ups: sync:WORKERS or gthread:WORKERSxTHREADS, comma-separated")
    r.add_argument("--clients", type=int, default=16)
    r.add_argument("--seconds", type=float, default=15.0, help="closed-loop measurement time")
    r.add_argument("--warmup", type=float, default=5.0)
    r.add_argument("--rate", type=float, default=200.0)
    r.add_argument("--open-seconds", type=float, default=30.0, help="0: no open-loop latency measurement")
    r.add_argument("--pool", type=int, default=32, help="connections of the open-loop generator")
    r.add_argument("--procs", type=int, default=2, help="generator processes")
    r.add_argument("--profile", action="store_true", help="instead: one sync worker under cProfile")
    r.add_argument("--wrk", action="store_true", help="also load the floor with wrk (apt-get install wrk), if there")
    r.add_argument("--compare", metavar="DIR", help="also measure the scans of the app in DIR (another checkout: "
                                                    "the code before a change), same set-up, same run")
    c = sub.add_parser("cpu", help="CPU per scan in one process (the WSGI app called directly)")
    c.add_argument("--scans", type=int, default=3000)
    c.add_argument("--warm", type=int, default=300)
    args = parser.parse_args()
    if args.command == "cpu":
        cpu(args)
        return
    if args.command == "seed":
        seed(args.url, args.badges)
        return
    if args.profile:
        profile(args)
        return
    report = run(args)
    out = OUT / "gate.json"
    out.write_text(json.dumps(report, indent=2))
    print(json.dumps({spec: {"floor/s": row["floor"]["per_second"],
                             **({"floor wrk/s": row["floor_wrk"]["per_second"]} if "floor_wrk" in row else {}),
                             "scans/s": row["scans"]["per_second"],
                             "ratio": row["ratio"], **({"open p50 ms": row["open"]["p50_ms"],
                                                         "open p99 ms": row["open"]["p99_ms"],
                                                         "open per_second": row["open"]["per_second"]}
                                                        if "open" in row else {}),
                             **({"compared scans/s": row["scans_compared"]["per_second"]}
                                if "scans_compared" in row else {})}
                      for spec, row in report["servers"].items()}, indent=2))
    print(f"load average before {report['loadavg_before']}, after {report['loadavg_after']}; written: {out}")


if __name__ == "__main__":
    main()
