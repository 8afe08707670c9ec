"""Shared pieces of the benchmarks: where the data lives, and an app bound to it."""

from __future__ import annotations

import os
import platform
import sys
from pathlib import Path

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
OUT = HERE / "out"
SQLITE_URL = f"sqlite:///{OUT / 'bench.sqlite3'}"
#: The PostgreSQL database the benchmarks use when asked to (never the shared ``test`` database).
PG_URL_ENV = "EXPO_BENCH_PG_URL"

if str(ROOT) not in sys.path:  # run as `python bench/x.py` from a checkout
    sys.path.insert(0, str(ROOT))


def bench_app(url: str):
    """The real app (no TESTING flag: the production code paths), bound to ``url``."""
    from expo import create_app

    OUT.mkdir(exist_ok=True)
    app = create_app({"DATABASE_URL": url, "SECRET_KEY": "bench-secret", "SERVER_NAME": None})
    app.instance_path = str(OUT / "instance")
    return app


def label(url: str) -> str:
    return "postgresql" if url.startswith("postgresql") else "sqlite"


def recreate_database(url: str) -> None:
    """An empty database at ``url``: the SQLite file removed, or the PostgreSQL database dropped and created."""
    u = make_url(url)
    if u.get_backend_name() == "sqlite":
        for suffix in ("", "-wal", "-shm"):
            Path(f"{u.database}{suffix}").unlink(missing_ok=True)
        Path(u.database).parent.mkdir(parents=True, exist_ok=True)
        return
    name = u.database
    if name in (None, "", "postgres", "template0", "template1"):
        raise SystemExit(f"refusing to drop the database {name!r}: name a database of its own, e.g. expo_bench")
    admin = create_engine(u.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()


def machine() -> dict:
    info = {"python": platform.python_version(), "platform": platform.platform(), "cpus": os.cpu_count()}
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                info["cpu"] = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return info
