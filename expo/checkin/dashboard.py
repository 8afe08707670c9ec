"""The gate's numbers: entries per hour per checkpoint, who is inside now, refusals by reason, and the scan log.

Times are stored in UTC and shown at the venue's time (``EXPO_TIMEZONE``). Hours are counted in the database with
one ``CASE`` of the day's 24 hour bounds (computed here in UTC, so a day with a daylight-saving change still
counts right), the same SQL on SQLite and PostgreSQL. Pure queries: no Flask request here.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from flask import current_app
from sqlalchemy import Select, and_, case, func, or_, select

from expo.badges.models import Badge, BadgeType
from expo.checkin.models import Checkpoint, Direction, Presence, Scan, ScanResult
from expo.extensions import db
from expo.venue.models import Expo


def _tz() -> ZoneInfo:
    return ZoneInfo(current_app.config.get("TIMEZONE") or "Asia/Shanghai")


def to_utc(local: datetime) -> datetime:
    """A venue-local naive time as naive UTC."""
    return local.replace(tzinfo=_tz()).astimezone(ZoneInfo("UTC")).replace(tzinfo=None)


def to_local(moment: datetime | None) -> datetime | None:
    """A naive UTC time as the venue's naive local time."""
    if moment is None:
        return None
    return moment.replace(tzinfo=ZoneInfo("UTC")).astimezone(_tz()).replace(tzinfo=None)


def today(now: datetime) -> date:
    return to_local(now).date()


def day_bounds(day: date) -> tuple[datetime, datetime]:
    """The UTC start and end of a venue day."""
    return to_utc(datetime.combine(day, time())), to_utc(datetime.combine(day + timedelta(days=1), time()))


@dataclass(frozen=True)
class HourlyEntries:
    """Entries per hour of one day: ``counts[checkpoint_id][hour]``, for the hours that had any scan."""

    checkpoints: list[Checkpoint]
    hours: list[int]
    counts: dict[int, dict[int, int]]

    def total(self, checkpoint_id: int) -> int:
        return sum(self.counts.get(checkpoint_id, {}).values())

    def hour_total(self, hour: int) -> int:
        return sum(c.get(hour, 0) for c in self.counts.values())


def entries_per_hour(expo: Expo, day: date) -> HourlyEntries:
    """Admissions per checkpoint and venue hour on ``day``."""
    start, end = day_bounds(day)
    bounds = [to_utc(datetime.combine(day, time(h))) for h in range(24)] + [end]
    hour = case(*[(and_(Scan.scanned_at >= bounds[h], Scan.scanned_at < bounds[h + 1]), h) for h in range(24)],
                else_=-1)
    rows = db.session.execute(
        select(Scan.checkpoint_id, hour.label("hour"), func.count(Scan.id))
        .where(Scan.expo_id == expo.id, Scan.scanned_at >= start, Scan.scanned_at < end,
               Scan.result == ScanResult.ADMITTED.value)
        .group_by(Scan.checkpoint_id, "hour"))
    counts: dict[int, dict[int, int]] = {}
    for checkpoint_id, h, n in rows:
        if h is not None and h >= 0:
            counts.setdefault(checkpoint_id, {})[h] = counts.get(checkpoint_id, {}).get(h, 0) + n
    checkpoints = list(db.session.scalars(select(Checkpoint).where(Checkpoint.expo_id == expo.id)
                                          .order_by(Checkpoint.code)))
    hours = sorted({h for c in counts.values() for h in c})
    return HourlyEntries(checkpoints, hours, counts)


def _inside(expo: Expo, zone: str, now: datetime):
    """The presences inside ``zone`` now (entered today and not left: yesterday's have lapsed)."""
    return and_(Presence.zone == zone, Presence.inside.is_(True), Presence.last_entry_day == today(now).isoformat(),
                Badge.expo_id == expo.id)


def inside_by_type(expo: Expo, now: datetime, zone: str = "venue") -> list[tuple[BadgeType, int]]:
    rows = db.session.execute(
        select(BadgeType, func.count(Presence.badge_id)).join(Badge, Badge.id == Presence.badge_id)
        .join(BadgeType, BadgeType.id == Badge.badge_type_id).where(_inside(expo, zone, now))
        .group_by(BadgeType.id).order_by(func.count(Presence.badge_id).desc(), BadgeType.sort, BadgeType.id))
    return [(t, n) for t, n in rows]


def inside_by_country(expo: Expo, now: datetime, zone: str = "venue") -> list[tuple[str, int]]:
    rows = db.session.execute(
        select(Badge.country, func.count(Presence.badge_id)).join(Badge, Badge.id == Presence.badge_id)
        .where(_inside(expo, zone, now)).group_by(Badge.country)
        .order_by(func.count(Presence.badge_id).desc(), Badge.country))
    return [(country or "", n) for country, n in rows]


def inside_by_zone(expo: Expo, now: datetime) -> list[tuple[str, int]]:
    rows = db.session.execute(
        select(Presence.zone, func.count(Presence.badge_id)).join(Badge, Badge.id == Presence.badge_id)
        .where(Presence.inside.is_(True), Presence.last_entry_day == today(now).isoformat(),
               Badge.expo_id == expo.id).group_by(Presence.zone).order_by(Presence.zone))
    return [(zone, n) for zone, n in rows]


def refusals_by_reason(expo: Expo, day: date) -> list[tuple[str, int]]:
    start, end = day_bounds(day)
    rows = db.session.execute(
        select(Scan.reason, func.count(Scan.id))
        .where(Scan.expo_id == expo.id, Scan.scanned_at >= start, Scan.scanned_at < end,
               Scan.result == ScanResult.REFUSED.value)
        .group_by(Scan.reason).order_by(func.count(Scan.id).desc(), Scan.reason))
    return [(reason, n) for reason, n in rows]


@dataclass(frozen=True)
class DayTotals:
    scans: int
    admitted: int
    exited: int
    refused: int
    offline: int


def day_totals(expo: Expo, day: date) -> DayTotals:
    start, end = day_bounds(day)

    def count_if(condition):
        return func.coalesce(func.sum(case((condition, 1), else_=0)), 0)

    row = db.session.execute(select(
        func.count(Scan.id), count_if(Scan.result == ScanResult.ADMITTED.value),
        count_if(Scan.result == ScanResult.EXITED.value), count_if(Scan.result == ScanResult.REFUSED.value),
        count_if(Scan.offline.is_(True)))
        .where(Scan.expo_id == expo.id, Scan.scanned_at >= start, Scan.scanned_at < end)).one()
    return DayTotals(*(int(v or 0) for v in row))


# --- the scan log ---------------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class ScanFilter:
    """What the scan log shows; None is "all"."""

    checkpoint_id: int | None = None
    result: str | None = None
    reason: str | None = None
    day: date | None = None
    q: str | None = None  # text in the holder's name (either script)


def scan_query(expo: Expo, flt: ScanFilter) -> Select:
    """(Scan, Checkpoint, Badge | None, BadgeType | None) rows, newest first."""
    from expo.exhibitors.services import escape_like

    stmt = (select(Scan, Checkpoint, Badge, BadgeType).join(Checkpoint, Checkpoint.id == Scan.checkpoint_id)
            .outerjoin(Badge, Badge.id == Scan.badge_id).outerjoin(BadgeType, BadgeType.id == Badge.badge_type_id)
            .where(Scan.expo_id == expo.id))
    if flt.checkpoint_id:
        stmt = stmt.where(Scan.checkpoint_id == flt.checkpoint_id)
    if flt.result:
        stmt = stmt.where(Scan.result == flt.result)
    if flt.reason:
        stmt = stmt.where(Scan.reason == flt.reason)
    if flt.day:
        start, end = day_bounds(flt.day)
        stmt = stmt.where(Scan.scanned_at >= start, Scan.scanned_at < end)
    if flt.q:
        like = f"%{escape_like(flt.q)}%"
        stmt = stmt.where(or_(Badge.name.ilike(like, escape="\\"), Badge.name_native.ilike(like, escape="\\")))
    return stmt.order_by(Scan.scanned_at.desc(), Scan.id.desc())


EXPORT_HEADERS = ("scan_id", "scanned_at", "received_at", "offline", "checkpoint", "checkpoint_name", "direction",
                  "result", "reason", "reason_text", "badge_id", "name", "name_native", "company", "country",
                  "badge_type", "device_id")


def export_rows(rows: Iterable[tuple[Scan, Checkpoint, Badge | None, BadgeType | None]], locale: str = "en",
                reason_label: Callable[[str], str] = str) -> Iterable[list]:
    """The log as export rows, at venue time: result and reason as codes (for sorting and formulas), the reason
    in words too. No badge codes: the log keeps only a code's first characters anyway."""
    zh = locale == "zh"
    for scan, checkpoint, badge, badge_type in rows:
        yield [scan.id, _iso(to_local(scan.scanned_at)), _iso(to_local(scan.received_at)), "yes" if scan.offline
               else "no", checkpoint.code, checkpoint.name_zh if zh else checkpoint.name_en,
               "out" if scan.direction == Direction.OUT else "in", scan.result, scan.reason,
               reason_label(scan.reason) if scan.reason else "", badge.id if badge else "", badge.name if badge else "",
               badge.name_native if badge else "", badge.company if badge else "", badge.country if badge else "",
               (badge_type.name_zh if zh else badge_type.name_en) if badge_type else "", scan.device_id]


def _iso(moment: datetime | None) -> str:
    return moment.isoformat(sep=" ", timespec="seconds") if moment else ""
