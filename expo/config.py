"""Settings. Every key can be overridden by an ``EXPO_<KEY>`` environment variable.

The defaults run the embedded set-up: SQLite in the instance folder, mail kept in the outbox table.
Production sets at least ``EXPO_SECRET_KEY`` and ``EXPO_DATABASE_URL`` (PostgreSQL).
"""

from __future__ import annotations

import json
import os
from pathlib import Path

#: Defaults, documented in README.md ("Settings"). Values from the environment are parsed as JSON
#: where that works (numbers, booleans), and taken as strings otherwise.
DEFAULTS: dict[str, object] = {
    "SECRET_KEY": None,  # required in production; a random per-instance key is generated for development
    "DATABASE_URL": None,  # default: sqlite:///<instance>/expo.sqlite3
    "MAIL_SERVER": "",  # empty: mail stays in the outbox table (visible to organizers)
    "MAIL_PORT": 25,
    "MAIL_USE_TLS": False,
    "MAIL_USERNAME": "",
    "MAIL_PASSWORD": "",
    "MAIL_SENDER": "expo@localhost",
    "BASE_URL": "",  # used in e-mailed links when mail is sent outside a request
    "LOGIN_MAX_FAILURES_PER_ACCOUNT": 5,
    "LOGIN_MAX_FAILURES_PER_IP": 30,
    "LOGIN_THROTTLE_WINDOW_SECONDS": 900,
    "PASSWORD_RESET_MAX_AGE_SECONDS": 3600,
    "PASSWORD_HASH_METHOD": "scrypt",
    "MAX_UPLOAD_BYTES": 2 * 1024 * 1024,
    "LOGO_MAX_PIXELS": 20_000_000,
    "LOGO_SIZE_PX": 512,
    "PAGE_SIZE": 50,
    "SESSION_COOKIE_SECURE": False,
    "JOBS_INLINE": False,  # run background jobs (batch badge printing) inside the request instead of a thread
    "TIMEZONE": "Asia/Shanghai",  # the venue's time zone: which day a scan belongs to
    "GATE_FAST_PATH": True,  # scanners' scans answered by expo.checkin.fastpath instead of through Flask
    "DOCKING_CNY_RATES": {},  # yuan per unit of a currency, over expo.docking.currencies.RATES: {"USD": "7.10"}
    "DATABASE_POOL_SIZE": 10,  # PostgreSQL connections each server process keeps open: at least its threads
    "PROXY_FIX_X_FOR": 0,  # proxies in front that set X-Forwarded-For/-Proto/-Host (login throttling keys by client)
}


def _parse(value: str) -> object:
    try:
        return json.loads(value)
    except ValueError:
        return value


def load(instance_path: str, overrides: dict | None = None) -> dict:
    """Build the Flask config from defaults, ``EXPO_*`` variables and ``overrides`` (last wins)."""
    cfg: dict[str, object] = dict(DEFAULTS)
    for key in DEFAULTS:
        env = os.environ.get(f"EXPO_{key}")
        if env is not None:
            cfg[key] = _parse(env) if not isinstance(DEFAULTS[key], str) and DEFAULTS[key] is not None else env
    if overrides:
        cfg.update(overrides)
    if not cfg["DATABASE_URL"]:
        cfg["DATABASE_URL"] = f"sqlite:///{Path(instance_path) / 'expo.sqlite3'}"
    if not cfg["SECRET_KEY"]:
        cfg["SECRET_KEY"] = _instance_secret(Path(instance_path))
    cfg["SQLALCHEMY_DATABASE_URI"] = cfg["DATABASE_URL"]
    if str(cfg["DATABASE_URL"]).startswith("postgresql"):
        # A thread that finds every kept connection lent out opens one more and closes it after its request: a new
        # backend process for PostgreSQL each time. The gate's fast path holds one connection per thread.
        cfg.setdefault("SQLALCHEMY_ENGINE_OPTIONS", {"pool_size": int(cfg["DATABASE_POOL_SIZE"])})
    cfg["MAX_CONTENT_LENGTH"] = int(cfg["MAX_UPLOAD_BYTES"]) + 64 * 1024  # room for the other form fields
    cfg.setdefault("SESSION_COOKIE_HTTPONLY", True)
    cfg.setdefault("SESSION_COOKIE_SAMESITE", "Lax")
    cfg["REMEMBER_COOKIE_SECURE"] = cfg["SESSION_COOKIE_SECURE"]
    cfg["WTF_CSRF_CHECK_DEFAULT"] = False  # expo.create_app checks it for every request not using an API token
    cfg["WTF_CSRF_TIME_LIMIT"] = None  # a form left open at the front desk all day still submits
    cfg["BABEL_DEFAULT_LOCALE"] = "en"
    cfg["BABEL_TRANSLATION_DIRECTORIES"] = str(Path(__file__).parent / "translations")
    return cfg


def _instance_secret(instance: Path) -> str:
    """A development key kept in the instance folder, so sessions survive restarts of the embedded app."""
    instance.mkdir(parents=True, exist_ok=True)
    path = instance / "secret_key"
    if not path.exists():
        path.write_text(os.urandom(32).hex())
        path.chmod(0o600)
    return path.read_text().strip()
