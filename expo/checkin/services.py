"""Scanning badges at checkpoints: verify the code, apply the checkpoint's rules, admit or refuse, exactly once.

:func:`scan` is the one entry for the scanner page, the scan API and offline uploads alike. What it decides:

- The code's Ed25519 signature is verified with the expo's public keys (:mod:`expo.badges.codes`).
- The badge must exist, be active, and the code must carry its current serial (an older code of a reissued badge
  is refused as revoked).
- The badge type's days and halls, and the checkpoint's own badge types and days.
- Entry: the badge's presence in the checkpoint's zone goes from outside (or no row yet) to inside in one guarded
  upsert, ``INSERT ... ON CONFLICT DO UPDATE ... WHERE outside``. Two gates scanning the same badge at once:
  exactly one statement changes the row (the other waits for its row lock, re-reads it, and answers "already
  inside"). An exit flips it back. A presence from an earlier day counts as outside (the automatic check-out).
- Exactly once: the scanner's ``(device_id, nonce)`` is unique among scans. A retry, or an offline batch uploaded
  again, inserts nothing, changes nothing, and returns the first answer (``replayed``).

How, on each database (the statements are plain SQL on the driver's cursor, :class:`_Driver`: a scan is a handful
of one-row statements, and SQLAlchemy's statement building and result processing cost more CPU than they do):

- **PostgreSQL** (the venue's database): the badge is read (on the fast path together with the token's account and
  the checkpoint's rules, :mod:`expo.checkin.fastpath`), the checks run, and then *one* statement writes the scan's
  row with its answer and the presence change the answer depends on (data-modifying CTEs, :func:`_record_in`).
  Two round trips a scan; atomic without a transaction of its own, so the fast path runs it in autocommit.
- **SQLite** (one desk; writers are serialized): the nonce is claimed first by inserting the scan's row, so that
  the write lock is taken before anything is read; then the checks, the presence, and the answer.

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
from expo.badges.models import Badge, BadgeStatus
from expo.checkin.models import (
    Checkpoint,
    CheckpointKind,
    Direction,
    Presence,
    RefusalReason,
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


# --- the scan's statements on PostgreSQL ---------------------------------------------------------------------------
# A scan is one read (the badge, or on the fast path everything in one row) and one write: the scan's row with its
# answer, and the presence change that answer depends on, in a single statement (data-modifying CTEs). No BEGIN and
# COMMIT round trips needed for it to be atomic; the nonce and the row lock guard it as they guard the SQLite order.

_SCAN_COLUMNS = ("expo_id, checkpoint_id, badge_id, device_id, nonce, direction, result, reason, code_prefix, "
                 "scanned_at, received_at, offline, by_id")


def _scan_values(result: str, reason: str, badge_id: str = "CAST(:badge_id AS INTEGER)") -> str:
    # The casts: a NULL in a SELECT list is text to PostgreSQL unless told otherwise.
    return (f":expo_id, :checkpoint_id, {badge_id}, :device_id, :nonce, :direction, {result}, {reason}, "
            ":code_prefix, :scanned_at, :received_at, :offline, CAST(:by_id AS INTEGER)")


def _record(change: str = "", answer: str = "", result: str = ":result", reason: str = ":reason") -> str:
    """The scan's row with its answer, unless this device's nonce has one already (then nothing: the caller reads
    the first answer). ``change``: CTEs that change the presence; ``answer``: the CTE ``answer(reason)`` computed
    from what they changed (``result`` and ``reason`` read it)."""
    ctes = ["prior AS (SELECT 1 FROM scans WHERE device_id = :device_id AND nonce = :nonce)", change, answer]
    with_ = "WITH " + ", ".join(c for c in ctes if c) + " " if change else ""
    return (f"{with_}INSERT INTO scans ({_SCAN_COLUMNS}) SELECT {_scan_values(result, reason)}"
            f"{' FROM answer' if answer else ''} ON CONFLICT (device_id, nonce) DO NOTHING RETURNING id, result, reason")


_EMPTY = "''"
#: A nonce seen before changes nothing: its presence change is skipped, and its insert finds the first row.
_UNSEEN = "NOT EXISTS (SELECT 1 FROM prior)"


def _record_in(reentry: bool) -> str:
    """Entering: the presence flipped from outside (or no row yet, or yesterday's) to inside, and the scan's row with
    the answer that flip gives. The WHERE of ON CONFLICT DO UPDATE reads the existing row under its row lock: of two
    gates scanning one badge at once the second waits, re-reads the row the first made inside, and changes nothing
    ("already inside"). The same nonce sent twice at once: the second waits the same way, then its insert meets the
    first's row, and it answers with the first's answer."""
    once = "" if reentry else " AND presences.exited_on <> :day"
    no_reentry = "" if reentry else (f"WHEN (SELECT exited_on FROM presences WHERE badge_id = :badge_id AND zone = "
                                     f":zone) = :day THEN '{RefusalReason.NO_REENTRY}' ")
    change = ("entered AS (INSERT INTO presences (badge_id, zone, inside, since, last_entry_day, exited_on) SELECT "
              f":badge_id, :zone, :yes, :since, :day, '' WHERE {_UNSEEN} ON CONFLICT (badge_id, zone) DO UPDATE SET "
              "inside = excluded.inside, since = excluded.since, last_entry_day = excluded.last_entry_day WHERE "
              f"(presences.inside = :no OR presences.last_entry_day < :day){once} RETURNING badge_id)")
    answer = (f"answer AS (SELECT CASE WHEN EXISTS (SELECT 1 FROM entered) THEN '' {no_reentry}"
              f"ELSE '{RefusalReason.ALREADY_INSIDE}' END AS reason)")
    return _record(change, answer, f"CASE WHEN answer.reason = '' THEN '{ScanResult.ADMITTED}' ELSE "
                                   f"'{ScanResult.REFUSED}' END", "answer.reason")


def _record_out() -> str:
    """Leaving: the presence flipped from inside (entered today) to outside, and the scan's row with its answer."""
    change = ("went AS (UPDATE presences SET inside = :no, exited_on = :day WHERE badge_id = :badge_id AND zone = "
              f":zone AND inside = :yes AND last_entry_day = :day AND {_UNSEEN} RETURNING badge_id)")
    answer = (f"answer AS (SELECT CASE WHEN EXISTS (SELECT 1 FROM went) THEN '' ELSE '{RefusalReason.NOT_INSIDE}' "
              "END AS reason)")
    return _record(change, answer, f"CASE WHEN answer.reason = '' THEN '{ScanResult.EXITED}' ELSE "
                                   f"'{ScanResult.REFUSED}' END", "answer.reason")


class _Driver:
    """The hot path's SQL, run on the database driver's own cursor inside the session's transaction.

    A scan is a handful of one-row statements; SQLAlchemy's statement building, cache-key walk, execution context
    and result processing cost more CPU than the statements themselves (bench/README.md, "Gate scans"), so these
    few are plain SQL, the same text on PostgreSQL and SQLite (both have ``ON CONFLICT`` and ``RETURNING``). Only
    the parameter style and the values the drivers do not convert alike (times, JSON) differ."""

    SQL = {
        # SQLite, which serializes writers: the nonce claimed first (the write lock taken before anything is read),
        # then the checks, the presence ("enter" / "leave"), and the answer.
        "claim": f"INSERT INTO scans ({_SCAN_COLUMNS}) VALUES ({_scan_values(':result', _EMPTY, badge_id='NULL')}) "
                 "ON CONFLICT (device_id, nonce) DO NOTHING RETURNING id",
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
        # PostgreSQL: the scan in one statement, after the checks (see _record).
        "record": _record(),
        "record_in": _record_in(reentry=True),
        "record_in_once": _record_in(reentry=False),
        "record_out": _record_out(),
        # The first answer to a nonce sent again.
        "replay": "SELECT s.id, s.result, s.reason, b.id, b.name, b.name_native, b.company, b.country, t.name_en, "
                  "t.name_zh, t.colour FROM scans s LEFT JOIN badges b ON b.id = s.badge_id LEFT JOIN badge_types t "
                  "ON t.id = b.badge_type_id WHERE s.device_id = :device_id AND s.nonce = :nonce",
        "rules": "SELECT c.id, c.expo_id, c.code, c.mode, c.kind, c.hall_code, c.badge_type_ids, c.days, c.reentry, "
                 "c.active, e.created_at FROM checkpoints c JOIN expos e ON e.id = c.expo_id "
                 "WHERE c.id = :checkpoint_id",
        # The account behind a bearer token (part of "gate", below).
        "scanner": "SELECT u.id, u.role, u.locale FROM api_tokens t JOIN users u ON u.id = t.user_id "
                   "WHERE t.token_hash = :token_hash AND t.revoked_at IS NULL AND u.active = :yes",
    }
    # The gate's fast path (expo.checkin.fastpath): everything a scan reads, in one row: the account behind the
    # bearer token, the checkpoint's rules, the badge the code names (NULLs where there is none).
    SQL["gate"] = (f"SELECT * FROM (SELECT 1 AS one) one LEFT JOIN ({SQL['scanner']}) a ON true "
                   f"LEFT JOIN ({SQL['rules']}) r ON true LEFT JOIN ({SQL['holder']}) h ON true")

    def __init__(self, dialect: str, paramstyle: str):
        self.sqlite = dialect == "sqlite"
        #: A DBAPI connection of the caller's (the fast path's, in autocommit); None: the session's.
        self.connection = None
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

    def on(self, connection) -> _Driver:
        """The same statements, run on ``connection`` (a DBAPI connection) instead of the session's."""
        bound = object.__new__(_Driver)
        bound.__dict__.update(self.__dict__, connection=connection)
        return bound

    def run(self, name: str, params: dict, *, prepare: bool | None = None):
        """Execute statement ``name``; ``prepare=False``: plan it for this execution only (PostgreSQL)."""
        connection = self.connection or db.session.connection().connection.dbapi_connection
        cursor = connection.cursor()
        if self.sqlite:
            cursor.execute(self.sql[name], params)
        else:  # psycopg prepares a statement it has run a few times (None), unless told not to
            cursor.execute(self.sql[name], params, prepare=prepare)
        return cursor


_drivers: dict[str, _Driver] = {}


def _sql(bind=None) -> _Driver:
    """The statements for the session's database (or ``bind``'s)."""
    bind = bind if bind is not None else db.session.get_bind()
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
    return rules_of(sql, sql.run("rules", {"checkpoint_id": checkpoint_id}).fetchone())


#: The columns of the ``rules`` statement.
RULES_COLUMNS = 11


def rules_of(sql: _Driver, row) -> tuple[CheckpointRules, ExpoRef] | None:
    """A checkpoint's rules and its expo from a row of the ``rules`` statement's columns (None: no checkpoint)."""
    if row is None or row[0] is None:
        return None
    (id_, expo_id, code, mode, kind, hall_code, type_ids, days, reentry, active, created_at) = row
    rules = CheckpointRules(id_, expo_id, code, mode, kind, hall_code, sql.json(type_ids), sql.json(days),
                            bool(reentry), bool(active), created_at)
    return rules, ExpoRef(expo_id, created_at)


#: PostgreSQL plans a prepared statement once, for the sizes of the tables at that moment, and keeps the plan until
#: a table it reads is next analyzed. The scans and presences tables start an expo empty, and a lookup in them
#: planned then reads the whole table (cheaper than an index while it is empty), for the minute or more until
#: autovacuum analyzes it, while the opening rush fills it: about +40 % of PostgreSQL's CPU a scan by 25,000 scans
#: (bench/README.md, "Gate scans"). So a process plans its scans' write afresh each time (a tenth of a millisecond)
#: for its first ``PREPARE_AFTER`` scans, and prepares it after that, when the tables are big enough that the plan
#: is an index lookup. A process started later, on full tables, only pays the planning for those first scans.
PREPARE_AFTER = 1000
_writes = 0

#: ``scan(holder=UNREAD)``: the service reads the badge itself.
UNREAD = object()


def scan(actor: User | None, expo: Expo, checkpoint: Checkpoint, code_text: str, *, device_id: str, nonce: str,
         direction: str = Direction.IN, scanned_at: datetime | None = None, offline: bool = False,
         public_keys: dict | None = None, holder=UNREAD, sql: _Driver | None = None) -> Answer:
    """Scan ``code_text`` at ``checkpoint`` (see the module's docstring). ``scanned_at`` is the scanner's UTC time
    (for offline scans); the server's time is used when it is missing or in the future. ``holder`` and ``sql``: the
    fast path's (:mod:`expo.checkin.fastpath`): the badge it read already (``holder_of(row)``, None for none) and
    its own connection."""
    now = utcnow()
    at = scanned_at if scanned_at is not None and scanned_at <= now + CLOCK_SKEW else now
    direction = Direction.OUT if direction == Direction.OUT and checkpoint.mode == "entry_exit" else Direction.IN
    sql = sql or _sql()
    row = dict(expo_id=expo.id, checkpoint_id=checkpoint.id, device_id=device_id.strip()[:64],
               nonce=nonce.strip()[:64], direction=str(direction), code_prefix=codes.normalize(code_text)[:24],
               scanned_at=sql.time(at), received_at=sql.time(now), offline=offline,
               by_id=actor.id if actor is not None and actor.is_authenticated else None)
    if sql.sqlite or not GUARD:
        return _scan_claiming_first(sql, row, expo, checkpoint, code_text, at, public_keys)
    day = venue_day(at)
    holder, reason = _check(expo, checkpoint, code_text, day, public_keys, sql, holder)
    params = dict(row, badge_id=holder.id if holder is not None else None)
    global _writes
    _writes += 1
    prepare = None if _writes > PREPARE_AFTER else False
    if reason is not None:
        found = sql.run("record", dict(params, result=str(ScanResult.REFUSED), reason=str(reason)),
                        prepare=prepare).fetchone()
    else:
        name = "record_out" if direction == Direction.OUT else "record_in" if checkpoint.reentry else "record_in_once"
        found = sql.run(name, dict(params, zone=checkpoint.zone, day=day.isoformat(), since=at, yes=True,
                                   no=False), prepare=prepare).fetchone()
    if found is None:  # this nonce was sent before (or at this moment on another connection, now committed)
        return _replay(sql, row["device_id"], row["nonce"])
    return _answer(holder, *found)


def _scan_claiming_first(sql: _Driver, row: dict, expo, checkpoint, code_text: str, at: datetime,
                         public_keys: dict | None) -> Answer:
    """SQLite's order, which serializes writers: the nonce claimed first by inserting the scan's row (the write lock
    taken before anything is read), then the checks, the presence, the answer. Also the unguarded control."""
    found = sql.run("claim", dict(row, result=str(ScanResult.REFUSED))).fetchone()
    if found is None:
        return _replay(sql, row["device_id"], row["nonce"])
    scan_id = found[0]
    holder, reason = _check(expo, checkpoint, code_text, venue_day(at), public_keys, sql)
    if reason is None:
        reason = _enter(holder, checkpoint, at) if row["direction"] == Direction.IN else _leave(holder, checkpoint, at)
    result = (ScanResult.REFUSED if reason else ScanResult.EXITED if row["direction"] == Direction.OUT
              else ScanResult.ADMITTED)
    sql.run("answer", dict(scan_id=scan_id, badge_id=holder.id if holder is not None else None,
                           result=str(result), reason=reason or ""))
    return _answer(holder, scan_id, str(result), reason or "")


def _answer(holder: _Holder | None, scan_id: int, result: str, reason: str) -> Answer:
    if holder is None:
        return Answer(result, reason, scan_id=scan_id)
    return Answer(result, reason, holder.id, holder.name, holder.name_native, holder.company, holder.country,
                  holder.type_en, holder.type_zh, holder.colour, scan_id)


def _replay(sql: _Driver, device_id: str, nonce: str) -> Answer:
    """The first answer to a nonce: its scan's row, with the badge as it is now."""
    found = sql.run("replay", {"device_id": device_id, "nonce": nonce}, prepare=False).fetchone()  # (rare)
    if found is None:  # pragma: no cover - the conflicting row was rolled back after all; never seen
        raise RuntimeError("a scan's nonce conflicted with a row that does not exist")
    scan_id, result, reason, badge_id, *badge = found
    if badge_id is None:
        return Answer(result, reason, scan_id=scan_id, replayed=True)
    return Answer(result, reason, badge_id, *(v or "" for v in badge), scan_id=scan_id, replayed=True)


#: The columns of the ``holder`` statement, which the fast path's ``gate`` statement ends with.
HOLDER_COLUMNS = 14


def holder_of(sql: _Driver, row) -> _Holder | None:
    """The badge and its type from a row of the ``holder`` statement's columns (None: no such badge)."""
    if row is None or row[0] is None:
        return None
    return _Holder(*row[:9], sql.json(row[9]), sql.json(row[10]), *row[11:])


def _check(expo: Expo, checkpoint: Checkpoint, code_text: str, day: date, public_keys: dict | None,
           sql: _Driver, holder=UNREAD) -> tuple[_Holder | None, str | None]:
    """The badge with its type, and the reason to refuse it here today (None: it may pass)."""
    if not checkpoint.active:
        return None, RefusalReason.CLOSED
    try:
        claim = codes.verify(code_text, public_keys if public_keys is not None else keys.public_keys(expo))
    except codes.InvalidCode as exc:
        return None, exc.reason
    if holder is UNREAD:
        holder = holder_of(sql, sql.run("holder", {"badge_id": claim.badge_id}).fetchone())
    if holder is None or holder.id != claim.badge_id or holder.expo_id != expo.id:
        return None, RefusalReason.UNKNOWN_BADGE
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
