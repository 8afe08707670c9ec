"""Docking sessions (the organizer's rooms, tables and slots) and busy periods (when a buyer or an exhibitor cannot
meet).

A session that changes shape never strands a scheduled meeting silently: when fewer slots or tables, or a new time,
would leave meetings in slots or at tables the session no longer has, or put them at a time their people are busy
or elsewhere, :func:`save_session` refuses and names how many, unless the organizer asks to unschedule them
(``unschedule=True``), which it then does, audited. Deleting a session with meetings works the same way.

A busy period may not cover a meeting that is already scheduled: the organizer moves the meeting first.

Services flush and audit; views commit.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from expo import audit
from expo.auth.models import User
from expo.buyers.models import Buyer
from expo.categories.models import ProductCategory
from expo.checkin.models import Checkpoint
from expo.docking import scheduling
from expo.docking.models import BusyPeriod, DockingSession, Meeting
from expo.errors import ExpoError, NotFound
from expo.exhibitors.models import Exhibitor
from expo.extensions import db
from expo.venue.models import Expo, Pavilion

MAX_SLOTS = 96
MAX_TABLES = 1000
MIN_SLOT_MINUTES = 5
MAX_SLOT_MINUTES = 240
MAX_NOTE = 200
#: Sessions may run from the build-up days before the expo to the day after it.
DAYS_AROUND = 7


class SessionError(ExpoError):
    code = "session"


@dataclass(frozen=True)
class SessionData:
    """A docking session as the organizer typed it."""

    name_zh: str
    name_en: str
    starts_at: datetime
    slot_minutes: int = 20
    slot_count: int = 12
    table_count: int = 20
    room: str = ""
    checkpoint_id: int | None = None
    pavilion_id: int | None = None
    category_id: int | None = None
    published: bool = False
    notes: str = ""


def session_for(expo: Expo, session_id: int) -> DockingSession:
    """A session of ``expo``; another expo's (or none) is "not found"."""
    session = db.session.get(DockingSession, session_id)
    if session is None or session.expo_id != expo.id:
        raise NotFound(_l("There is no such docking session."))
    return session


def _clean(data: SessionData, expo: Expo) -> dict:
    values = {"name_zh": " ".join((data.name_zh or "").split()), "name_en": " ".join((data.name_en or "").split()),
              "room": " ".join((data.room or "").split()), "notes": (data.notes or "").strip()}
    for name in ("name_zh", "name_en"):
        if not values[name]:
            raise SessionError(_l("Give the session a name."), field=name)
        if len(values[name]) > 200:
            raise SessionError(_l("At most %(n)d characters.", n=200), field=name)
    if len(values["room"]) > 100:
        raise SessionError(_l("At most %(n)d characters.", n=100), field="room")
    if not isinstance(data.starts_at, datetime):
        raise SessionError(_l("Give the day and time the session starts."), field="starts_at")
    first = expo.starts_on - timedelta(days=DAYS_AROUND)
    last = expo.ends_on + timedelta(days=DAYS_AROUND)
    if not first <= data.starts_at.date() <= last:
        raise SessionError(_l("A session takes place between %(first)s and %(last)s.", first=first.isoformat(),
                              last=last.isoformat()), field="starts_at")
    checks = (("slot_minutes", MIN_SLOT_MINUTES, MAX_SLOT_MINUTES), ("slot_count", 1, MAX_SLOTS),
              ("table_count", 1, MAX_TABLES))
    for name, low, high in checks:
        value = getattr(data, name)
        if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
            raise SessionError(_l("Between %(low)d and %(high)d.", low=low, high=high), field=name)
    end = data.starts_at + timedelta(minutes=data.slot_minutes * data.slot_count)
    if end > datetime.combine(data.starts_at.date() + timedelta(days=1), time()):
        raise SessionError(_l("A session ends on the day it starts: fewer or shorter slots."), field="slot_count")
    if data.checkpoint_id is not None:
        checkpoint = db.session.get(Checkpoint, data.checkpoint_id)
        if checkpoint is None or checkpoint.expo_id != expo.id:
            raise SessionError(_l("Choose a checkpoint of this expo."), field="checkpoint_id")
    if data.pavilion_id is not None:
        pavilion = db.session.get(Pavilion, data.pavilion_id)
        if pavilion is None or pavilion.expo_id != expo.id:
            raise SessionError(_l("Choose a pavilion of this expo."), field="pavilion_id")
    if data.category_id is not None and db.session.get(ProductCategory, data.category_id) is None:
        raise SessionError(_l("Choose a product category."), field="category_id")
    values.update(starts_at=data.starts_at.replace(second=0, microsecond=0), slot_minutes=data.slot_minutes,
                  slot_count=data.slot_count, table_count=data.table_count, checkpoint_id=data.checkpoint_id,
                  pavilion_id=data.pavilion_id, category_id=data.category_id, published=bool(data.published))
    return values


def save_session(actor: User | None, expo: Expo, data: SessionData, session: DockingSession | None = None, *,
                 unschedule: bool = False) -> DockingSession:
    """Create a session (``session`` None) or change one; audited. See the module docstring for meetings a change
    would strand."""
    values = _clean(data, expo)
    if session is None:
        session = DockingSession(expo_id=expo.id, **values)
        db.session.add(session)
        db.session.flush()
        audit.record(actor, "docking_session_created", session, **{k: v for k, v in values.items() if k != "notes"})
        return session
    scheduling._lock([session.id])
    changes = audit.diff(session, values)
    if not changes:
        return session
    db.session.flush()
    stranded = stranded_meetings(session)
    if stranded and not unschedule:
        raise SessionError(_l("%(n)d scheduled meetings would lose their slot or table, or clash at the new time. "
                              "Move them first, or tick 'Unschedule the meetings this change strands'.",
                              n=len(stranded)), code="stranded", status=409)
    for meeting in stranded:
        scheduling.unschedule(actor, meeting)
    audit.record(actor, "docking_session_changed", session, unscheduled=[m.id for m in stranded], **changes)
    return session


def stranded_meetings(session: DockingSession) -> list[Meeting]:
    """The session's scheduled meetings its current shape no longer holds: beyond its slots or tables, or at a time
    that clashes with their people's other meetings or busy periods."""
    out = []
    for meeting in db.session.scalars(select(Meeting).where(Meeting.session_id == session.id)
                                      .order_by(Meeting.slot, Meeting.table_no)):
        slot, table = meeting.slot or 0, meeting.table_no or 0
        if slot >= session.slot_count or table > session.table_count or \
                scheduling.conflict(meeting, session, slot, None) is not None:
            out.append(meeting)
    return out


def delete_session(actor: User | None, session: DockingSession, *, unschedule: bool = False) -> None:
    """Delete a session; its scheduled meetings are refused unless ``unschedule`` (then they lose their slot)."""
    scheduling._lock([session.id])
    meetings = list(db.session.scalars(select(Meeting).where(Meeting.session_id == session.id)))
    if meetings and not unschedule:
        raise SessionError(_l("%(n)d meetings are scheduled in this session. Move them first, or tick "
                              "'Unschedule its meetings'.", n=len(meetings)), code="stranded", status=409)
    for meeting in meetings:
        scheduling.unschedule(actor, meeting)
    audit.record(actor, "docking_session_deleted", session, name_en=session.name_en,
                 unscheduled=[m.id for m in meetings])
    db.session.delete(session)
    db.session.flush()


def session_counts(expo: Expo) -> dict[int, int]:
    """Session id → scheduled meetings."""
    from sqlalchemy import func

    return dict(db.session.execute(select(Meeting.session_id, func.count(Meeting.id))
                                   .where(Meeting.expo_id == expo.id, Meeting.session_id.is_not(None))
                                   .group_by(Meeting.session_id)).all())


# --- busy periods -------------------------------------------------------------------------------------------------

def busy_periods(*, buyer: Buyer | None = None, exhibitor: Exhibitor | None = None) -> list[BusyPeriod]:
    """A buyer's or an exhibitor's busy periods, in time order."""
    return scheduling._busy_of(buyer_id=buyer.id) if buyer is not None else \
        scheduling._busy_of(exhibitor_id=exhibitor.id if exhibitor is not None else 0)


def busy_span(day: date, start: time | None, end: time | None) -> tuple[datetime, datetime]:
    """A period of ``day`` from ``start`` (empty: the start of the day) until ``end`` (empty: its end)."""
    begin = datetime.combine(day, start or time())
    finish = datetime.combine(day, end) if end is not None else datetime.combine(day + timedelta(days=1), time())
    return begin, finish


def add_busy(actor: User | None, expo: Expo, *, buyer: Buyer | None = None, exhibitor: Exhibitor | None = None,
             starts_at: datetime, ends_at: datetime, note: str = "") -> BusyPeriod:
    """Mark a time when the buyer or the exhibitor cannot meet; refused when one of their meetings is scheduled then."""
    if (buyer is None) == (exhibitor is None):
        raise SessionError(_l("A busy period is a buyer's or an exhibitor's."))
    if ends_at <= starts_at:
        raise SessionError(_l("The end must be after the start."), field="end")
    first, last = expo.starts_on - timedelta(days=DAYS_AROUND), expo.ends_on + timedelta(days=DAYS_AROUND)
    if not first <= starts_at.date() <= last:
        raise SessionError(_l("Choose a day between %(first)s and %(last)s.", first=first.isoformat(),
                              last=last.isoformat()), field="day")
    note = " ".join((note or "").split())
    if len(note) > MAX_NOTE:
        raise SessionError(_l("At most %(n)d characters.", n=MAX_NOTE), field="note")
    placed = scheduling._placed_of(buyer_id=buyer.id) if buyer is not None else \
        scheduling._placed_of(exhibitor_id=exhibitor.id)  # type: ignore[union-attr]
    for meeting, session in sorted(placed, key=lambda pair: scheduling.slot_start(pair[1], pair[0].slot or 0)):
        start = scheduling.slot_start(session, meeting.slot or 0)
        if start < ends_at and starts_at < scheduling.slot_end(session, meeting.slot or 0):
            raise SessionError(_l("A meeting is scheduled at %(time)s on %(day)s (table %(table)s): ask the "
                                  "organizer to move it first.", time=scheduling.hhmm(start),
                                  day=start.date().isoformat(), table=meeting.table_no),
                               code="meeting_scheduled", status=409, field="start")
    period = BusyPeriod(expo_id=expo.id, buyer_id=buyer.id if buyer else None,
                        exhibitor_id=exhibitor.id if exhibitor else None, starts_at=starts_at, ends_at=ends_at,
                        note=note)
    db.session.add(period)
    db.session.flush()
    audit.record(actor, "busy_period_added", period, exhibitor_id=period.exhibitor_id, buyer_id=period.buyer_id,
                 starts_at=starts_at, ends_at=ends_at)
    return period


def remove_busy(actor: User | None, period: BusyPeriod) -> None:
    audit.record(actor, "busy_period_removed", period, exhibitor_id=period.exhibitor_id, buyer_id=period.buyer_id,
                 starts_at=period.starts_at, ends_at=period.ends_at)
    db.session.delete(period)
    db.session.flush()
