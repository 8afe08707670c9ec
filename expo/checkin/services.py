"""Scanning badges at checkpoints: verify the code, apply the checkpoint's rules, admit or refuse, exactly once.

:func:`scan` is the one entry for the scanner page, the scan API and offline uploads alike. In order:

1. The scanner's ``(device_id, nonce)`` is claimed by inserting the scan row first: one ``INSERT ... ON CONFLICT DO
   NOTHING`` on the unique constraint (no read before it, no savepoint). A retry or an offline batch uploaded again
   inserts nothing, finds the first answer and returns it (``replayed``), counting nothing twice.
2. The code's Ed25519 signature is verified with the expo's public keys (:mod:`expo.badges.codes`).
3. The badge must exist, be active, and the code must carry its current serial (an older code of a reissued badge
   is refused as revoked).
4. The badge type's days and halls, and the checkpoint's own badge types and days.
5. Entry: one guarded upsert of the badge's presence in the checkpoint's zone, from outside (or no row yet) to
   inside: ``INSERT ... ON CONFLICT DO UPDATE ... WHERE outside``. Two gates scanning the same badge at once:
   exactly one statement changes the row, the other answers "already inside". An exit flips it back. A presence
   from an earlier day counts as outside (the automatic check-out at day's end).

The scan is on the hot path of every gate (``bench/gate.py``): a scan is four statements (claim, badge with its
type, presence, the scan's answer; the API adds the bearer token with its account and the checkpoint's rules), run
as plain SQL on the driver's cursor (:class:`_Driver`) because SQLAlchemy's statement building and result
processing cost more CPU than the statements themselves.

Services flush; the view commits once per scan.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from flask import current_app
from sqlalchemy import and_, select, update

from expo.auth.models import User
from expo.badges import codes, keys
from expo.badges.models import Badge, BadgeStatus, BadgeType
from expo.checkin.models import (
    Checkpoint,
    CheckpointKind,
    Direction,
    Presence,
    RefusalReason,
    Scan,
    ScanResult,
)
from expo.db import utcnow
from expo.extensions import db
from expo.venue.models import Expo

#: The guard against admitting one badge twice. Tests switch it off to show the race test catches a double entry.
GUARD = True
#: Called between reading the presence and writing it when the guard is off (tests pause racing scans there).
_between_check_and_write: Callable[[], None] | None = None

#: How far in the future a scanner's clock may be before its time is not believed (offline uploads).
CLOCK_SKEW = timedelta(minutes=10)


@dataclass(frozen=True)
class Answer:
    """What the gate shows: admitted or not, why, and whose badge it is."""

    result: str
    reason: str = ""
    badge_id: int | None = None
    name: str = ""
    name_native: str = ""
    company: str = ""
    country: str = ""
    badge_type: str = ""
    badge_type_zh: str = ""
    colour: str = ""
    scan_id: int | None = None
    replayed: bool = False

    @property
    def ok(self) -> bool:
        return self.result in (ScanResult.ADMITTED, ScanResult.EXITED)


def venue_day(moment: datetime) -> date:
    """The day at the venue of a UTC moment (``EXPO_TIMEZONE``, Asia/Shanghai by default)."""
    tz = ZoneInfo(current_app.config.get("TIMEZONE") or "Asia/Shanghai")
    return moment.replace(tzinfo=ZoneInfo("UTC")).astimezone(tz).date()


def insert_ignoring_conflict(table, values: dict, index_elements: list[str], returning=None):
    """``INSERT ... ON CONFLICT (index_elements) DO NOTHING`` [``RETURNING returning``]: the row is inserted unless
    one with the same key exists (or is being inserted by another transaction, which it waits for). One statement,
    race-safe, and no savepoint: on SQLite a savepoint opened before any write starts the transaction, and its
    release commits it. Returns the executed result."""
    stmt = _dialect_insert()(table).values(**values).on_conflict_do_nothing(index_elements=index_elements)
    if returning is not None:
        stmt = stmt.returning(returning)
    return db.session.execute(stmt)


def _dialect_insert():
    if db.session.get_bind().dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    return insert


_PRESENCES = Presence.__table__


@dataclass(frozen=True)
class _Holder:
    """What the scan needs of a badge and its type, read in one query (no ORM objects on the hot path)."""

    id: int
    expo_id: int
    status: str
    serial: int
    badge_type_id: int
    name: str
    name_native: str
    company: str
    country: str
    type_days: list
    type_areas: list
    type_en: str
    type_zh: str
    colour: str


class _Driver:
    """The hot path's SQL, run on the database driver's own cursor inside the session's transaction.

    A scan is a handful of one-row statements; SQLAlchemy's statement building, cache-key walk, execution context
    and result processing cost more CPU than the statements themselves (bench/README.md, "Gate scans"), so these
    few are plain SQL, the same text on PostgreSQL and SQLite (both have ``ON CONFLICT`` and ``RETURNING``). Only
    the parameter style and the values the drivers do not convert alike (times, JSON) differ."""

    SQL = {
        "claim": "INSERT INTO scans (expo_id, checkpoint_id, badge_id, device_id, nonce, direction, result, reason, "
                 "code_prefix, scanned_at, received_at, offline, by_id) VALUES (:expo_id, :checkpoint_id, NULL, "
                 ":device_id, :nonce, :direction, :result, '', :code_prefix, :scanned_at, :received_at, :offline, "
                 ":by_id) ON CONFLICT (device_id, nonce) DO NOTHING RETURNING id",
        "holder": "SELECT b.id, b.expo_id, b.status, b.serial, b.badge_type_id, b.name, b.name_native, b.company, "
                  "b.country, t.days, t.areas, t.name_en, t.name_zh, t.colour FROM badges b "
                  "JOIN badge_types t ON t.id = b.badge_type_id WHERE b.id = :badge_id",
        # A new presence, or the existing one flipped from outside to inside (yesterday's has lapsed); the WHERE
        # of ON CONFLICT DO UPDATE reads the existing row. Its row lock serializes two gates: the second re-reads
        # the row after the first commits, finds it inside, and changes nothing.
        "enter": "INSERT INTO presences (badge_id, zone, inside, since, last_entry_day, exited_on) VALUES "
                 "(:badge_id, :zone, :yes, :since, :day, '') ON CONFLICT (badge_id, zone) DO UPDATE SET "
                 "inside = excluded.inside, since = excluded.since, last_entry_day = excluded.last_entry_day "
                 "WHERE (presences.inside = :no OR presences.last_entry_day < :day){once} RETURNING badge_id",
        "leave": "UPDATE presences SET inside = :no, exited_on = :day WHERE badge_id = :badge_id AND zone = :zone "
                 "AND inside = :yes AND last_entry_day = :day",
        "answer": "UPDATE scans SET badge_id = :badge_id, result = :result, reason = :reason WHERE id = :scan_id",
        # The gate's fast path (expo.checkin.fastpath): the account behind a bearer token.
        "scanner": "SELECT u.id, u.role, u.locale FROM api_tokens t JOIN users u ON u.id = t.user_id "
                   "WHERE t.token_hash = :token_hash AND t.revoked_at IS NULL AND u.active = :yes",
        "rules": "SELECT c.id, c.expo_id, c.code, c.mode, c.kind, c.hall_code, c.badge_type_ids, c.days, c.reentry, "
                 "c.active, e.created_at FROM checkpoints c JOIN expos e ON e.id = c.expo_id "
                 "WHERE c.id = :checkpoint_id",
    }

    def __init__(self, dialect: str, paramstyle: str):
        self.sqlite = dialect == "sqlite"
        sql = dict(self.SQL, enter_once=self.SQL["enter"].format(once=" AND presences.exited_on <> :day"))
        sql["enter"] = sql["enter"].format(once="")
        # sqlite3 takes :name with a dict whatever SQLAlchemy's own style for it; psycopg takes %(name)s.
        if paramstyle in ("pyformat", "format") and not self.sqlite:
            sql = {k: re.sub(r":(\w+)", r"%(\1)s", v) for k, v in sql.items()}
        elif not self.sqlite:  # pragma: no cover - psycopg and sqlite3 are the drivers we run on
            raise RuntimeError(f"no SQL for the parameter style {paramstyle}")
        self.sql = sql

    def time(self, moment: datetime | None):
        """A time as the driver stores it: SQLite keeps text, in SQLAlchemy's format."""
        if moment is None or not self.sqlite:
            return moment
        return moment.strftime("%Y-%m-%d %H:%M:%S.%f")

    def json(self, value) -> list:
        """A JSON column as read: psycopg decodes it, sqlite3 gives its text."""
        if isinstance(value, str):
            return json.loads(value) if value else []
        return value or []

    def run(self, name: str, params: dict):
        cursor = db.session.connection().connection.dbapi_connection.cursor()
        cursor.execute(self.sql[name], params)
        return cursor


_drivers: dict[str, _Driver] = {}


def _sql() -> _Driver:
    bind = db.session.get_bind()
    found = _drivers.get(bind.dialect.name)
    if found is None:
        found = _drivers[bind.dialect.name] = _Driver(bind.dialect.name, bind.dialect.paramstyle)
    return found


@dataclass(frozen=True)
class CheckpointRules:
    """What a scan needs of a checkpoint (and of its expo), read as plain values: the scan API's hot path loads
    this instead of two ORM objects with every column of the expo."""

    id: int
    expo_id: int
    code: str
    mode: str
    kind: str
    hall_code: str
    badge_type_ids: list
    days: list
    reentry: bool
    active: bool
    expo_created_at: datetime

    @property
    def zone(self) -> str:
        return "venue" if self.kind == CheckpointKind.ENTRANCE else f"{self.kind}:{self.hall_code}"


@dataclass(frozen=True)
class ExpoRef:
    """An expo by id (and creation time, which tells an expo loaded anew under a reused id from its predecessor)."""

    id: int
    created_at: datetime


def checkpoint_rules(checkpoint_id: int) -> tuple[CheckpointRules, ExpoRef] | None:
    """The checkpoint's rules and its expo in one light query (None: no such checkpoint); :func:`scan` takes them
    in place of the ORM objects."""
    sql = _sql()
    row = sql.run("rules", {"checkpoint_id": checkpoint_id}).fetchone()
    if row is None:
        return None
    (id_, expo_id, code, mode, kind, hall_code, type_ids, days, reentry, active, created_at) = row
    rules = CheckpointRules(id_, expo_id, code, mode, kind, hall_code, sql.json(type_ids), sql.json(days),
                            bool(reentry), bool(active), created_at)
    return rules, ExpoRef(expo_id, created_at)


def scan(actor: User | None, expo: Expo, checkpoint: Checkpoint, code_text: str, *, device_id: str, nonce: str,
         direction: str = Direction.IN, scanned_at: datetime | None = None, offline: bool = False,
         public_keys: dict | None = None) -> Answer:
    """Scan ``code_text`` at ``checkpoint`` (see the module's docstring). ``scanned_at`` is the scanner's UTC time
    (for offline scans); the server's time is used when it is missing or in the future."""
    now = utcnow()
    at = scanned_at if scanned_at is not None and scanned_at <= now + CLOCK_SKEW else now
    direction = Direction.OUT if direction == Direction.OUT and checkpoint.mode == "entry_exit" else Direction.IN
    device_id, nonce = device_id.strip()[:64], nonce.strip()[:64]
    sql = _sql()

    # Claim the nonce first: the scan row, refused until the checks below say otherwise.
    row = sql.run("claim", dict(
        expo_id=expo.id, checkpoint_id=checkpoint.id, device_id=device_id, nonce=nonce, direction=str(direction),
        result=str(ScanResult.REFUSED), code_prefix=codes.normalize(code_text)[:24], scanned_at=sql.time(at),
        received_at=sql.time(now), offline=offline,
        by_id=actor.id if actor is not None and actor.is_authenticated else None)).fetchone()
    scan_id = row[0] if row is not None else None
    if scan_id is None:  # sent before (or at this moment on another connection, now committed): its answer stands
        previous = _replay(device_id, nonce)
        if previous is None:  # pragma: no cover - the conflicting row was rolled back after all; never seen
            raise RuntimeError("a scan's nonce conflicted with a row that does not exist")
        return previous
    holder, reason = _check(expo, checkpoint, code_text, venue_day(at), public_keys)
    if reason is None:
        reason = _enter(holder, checkpoint, at) if direction == Direction.IN else _leave(holder, checkpoint, at)
    result = (ScanResult.REFUSED if reason else ScanResult.EXITED if direction == Direction.OUT
              else ScanResult.ADMITTED)
    sql.run("answer", dict(scan_id=scan_id, badge_id=holder.id if holder is not None else None,
                           result=str(result), reason=reason or ""))
    if holder is None:
        return Answer(str(result), reason or "", scan_id=scan_id)
    return Answer(str(result), reason or "", holder.id, holder.name, holder.name_native, holder.company,
                  holder.country, holder.type_en, holder.type_zh, holder.colour, scan_id)


def _replay(device_id: str, nonce: str) -> Answer | None:
    found = db.session.scalar(select(Scan).where(Scan.device_id == device_id, Scan.nonce == nonce))
    if found is None:
        return None
    badge = db.session.get(Badge, found.badge_id) if found.badge_id else None
    badge_type = db.session.get(BadgeType, badge.badge_type_id) if badge is not None else None
    if badge is None:
        return Answer(found.result, found.reason, scan_id=found.id, replayed=True)
    return Answer(found.result, found.reason, badge.id, badge.name, badge.name_native, badge.company, badge.country,
                  badge_type.name_en if badge_type else "", badge_type.name_zh if badge_type else "",
                  badge_type.colour if badge_type else "", found.id, True)


def _check(expo: Expo, checkpoint: Checkpoint, code_text: str, day: date, public_keys: dict | None
           ) -> tuple[_Holder | None, str | None]:
    """The badge with its type, and the reason to refuse it here today (None: it may pass)."""
    if not checkpoint.active:
        return None, RefusalReason.CLOSED
    try:
        claim = codes.verify(code_text, public_keys if public_keys is not None else keys.public_keys(expo))
    except codes.InvalidCode as exc:
        return None, exc.reason
    sql = _sql()
    row = sql.run("holder", {"badge_id": claim.badge_id}).fetchone()
    if row is None or row[1] != expo.id:
        return None, RefusalReason.UNKNOWN_BADGE
    holder = _Holder(*row[:9], sql.json(row[9]), sql.json(row[10]), *row[11:])
    if holder.status != BadgeStatus.ACTIVE or claim.serial != holder.serial:
        return holder, RefusalReason.REVOKED
    iso = day.isoformat()
    if (holder.type_days and iso not in holder.type_days) or (checkpoint.days and iso not in checkpoint.days):
        return holder, RefusalReason.WRONG_DAY
    if checkpoint.badge_type_ids and holder.badge_type_id not in checkpoint.badge_type_ids:
        return holder, RefusalReason.NOT_ADMITTED_HERE
    if checkpoint.kind == "hall" and holder.type_areas and checkpoint.hall_code not in holder.type_areas:
        return holder, RefusalReason.NOT_ADMITTED_HERE
    return holder, None


def _presence(badge_id: int, zone: str) -> None:
    """Make sure the presence row exists (outside), so that the unguarded check-then-write has a row to read."""
    insert_ignoring_conflict(_PRESENCES, dict(badge_id=badge_id, zone=zone, inside=False, since=None,
                                              last_entry_day="", exited_on=""), ["badge_id", "zone"])


def _enter(badge: _Holder, checkpoint: Checkpoint, at: datetime) -> str | None:
    zone, day = checkpoint.zone, venue_day(at).isoformat()
    values = dict(inside=True, since=at, last_entry_day=day)
    if GUARD:
        sql = _sql()
        found = sql.run("enter" if checkpoint.reentry else "enter_once", dict(
            badge_id=badge.id, zone=zone, yes=True, no=False, since=sql.time(at), day=day)).fetchone()
        if found is not None:
            return None
        if not checkpoint.reentry and db.session.scalar(select(Presence.exited_on).where(
                Presence.badge_id == badge.id, Presence.zone == zone)) == day:
            return RefusalReason.NO_REENTRY  # refused: say why (only this rare path reads the row once more)
        return RefusalReason.ALREADY_INSIDE
    # Check, then write: the unguarded way, kept only to prove the race test can fail.
    key = and_(Presence.badge_id == badge.id, Presence.zone == zone)
    _presence(badge.id, zone)
    if not checkpoint.reentry:
        exited_on = db.session.scalar(select(Presence.exited_on).where(key))
        if exited_on == day:
            return RefusalReason.NO_REENTRY
    current = db.session.execute(select(Presence.inside, Presence.last_entry_day).where(key)).one()
    admitted = not current.inside or current.last_entry_day < day
    if admitted and _between_check_and_write is not None:
        _between_check_and_write()
    if admitted:
        db.session.execute(update(Presence).where(key).values(**values)
                           .execution_options(synchronize_session=False))
    return None if admitted else RefusalReason.ALREADY_INSIDE


def _leave(badge: _Holder, checkpoint: Checkpoint, at: datetime) -> str | None:
    zone, day = checkpoint.zone, venue_day(at).isoformat()
    cursor = _sql().run("leave", dict(badge_id=badge.id, zone=zone, day=day, yes=True, no=False))
    return None if cursor.rowcount == 1 else RefusalReason.NOT_INSIDE


def check_out_everyone(expo: Expo, checkpoint: Checkpoint, at: datetime | None = None) -> int:
    """The automatic check-out at the end of the day: everyone inside the checkpoint's zone leaves."""
    at = at or utcnow()
    day = venue_day(at).isoformat()
    badge_ids = select(Badge.id).where(Badge.expo_id == expo.id)
    result = db.session.execute(update(Presence).where(
        Presence.zone == checkpoint.zone, Presence.inside.is_(True), Presence.badge_id.in_(badge_ids))
        .values(inside=False, exited_on=day).execution_options(synchronize_session=False))
    return result.rowcount or 0
