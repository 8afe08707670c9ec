"""Booth allocation by hand: assign, hold, vacate, move, swap and merge booths; fee statements.

The one rule that matters most: no booth is ever given to two exhibitors. Every change of a booth's holder goes
through :func:`_take` or :func:`_release`, a single guarded ``UPDATE ... WHERE`` that names the state the booth must
still be in. Two requests racing for one booth both run it; the database serializes the two writes to the row, and
the second finds the condition false and changes nothing (PostgreSQL re-checks the WHERE on the row the first one
committed; SQLite has one writer at a time). The loser gets :class:`BoothTaken`, and its transaction is rolled back
by the view, so nothing it did before is kept. ``tests/test_allocation_race.py`` proves it over real concurrent
PostgreSQL connections, beside a control that turns the guard off (:data:`GUARD`) and shows the double booking.

Services flush; views and commands commit.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask_babel import lazy_gettext as _l
from sqlalchemy import and_, or_, select, update

from expo import audit
from expo.auth.models import User
from expo.db import utcnow
from expo.errors import ExpoError
from expo.exhibitors.models import ApplicationStatus, Exhibitor, SpaceApplication
from expo.extensions import db
from expo.venue import geometry
from expo.venue.models import Booth, BoothStatus, Expo, Stand
from expo.venue.services import booth_rect


class AllocationError(ExpoError):
    code = "allocation"


class BoothTaken(AllocationError):
    status = 409
    code = "booth_taken"


#: The guard against double booking. Tests switch it off to show that the race test catches a double booking.
GUARD = True

#: Called between reading a booth and writing it when the guard is off (tests pause racing requests there).
_between_check_and_write: Callable[[], None] | None = None


def _takeable(exhibitor_id: int, now: datetime):
    """Booths that ``exhibitor_id`` may take now: available ones, its own holds, and holds that have expired."""
    return or_(
        Booth.status == BoothStatus.AVAILABLE,
        and_(Booth.status == BoothStatus.HELD, or_(Booth.exhibitor_id == exhibitor_id, Booth.hold_expires_at <= now)),
    )


def _take(booth: Booth, exhibitor_id: int, status: BoothStatus, expires: datetime | None, now: datetime) -> None:
    values = dict(status=str(status), exhibitor_id=exhibitor_id, hold_expires_at=expires, stand_id=None,
                  updated_at=now)
    if GUARD:
        result = db.session.execute(
            update(Booth).where(Booth.id == booth.id, _takeable(exhibitor_id, now)).values(**values)
            .execution_options(synchronize_session=False))
        taken = result.rowcount == 1
    else:  # check, then write: the unguarded way, kept only to prove the race test can fail
        current = db.session.execute(select(Booth.status, Booth.exhibitor_id, Booth.hold_expires_at)
                                     .where(Booth.id == booth.id)).one()
        free = current.status == BoothStatus.AVAILABLE or (
            current.status == BoothStatus.HELD and (current.exhibitor_id == exhibitor_id
                                                    or (current.hold_expires_at or now) <= now))
        if free and _between_check_and_write is not None:
            _between_check_and_write()
        if free:
            db.session.execute(update(Booth).where(Booth.id == booth.id).values(**values)
                               .execution_options(synchronize_session=False))
        taken = free
    if not taken:
        raise BoothTaken(_l("Booth %(number)s has just been taken by someone else. Choose another booth.",
                            number=booth.number))
    db.session.refresh(booth)


def _release(booth: Booth, exhibitor_id: int, now: datetime) -> None:
    result = db.session.execute(
        update(Booth).where(Booth.id == booth.id, Booth.exhibitor_id == exhibitor_id,
                            Booth.status.in_([BoothStatus.ASSIGNED, BoothStatus.HELD]))
        .values(status=str(BoothStatus.AVAILABLE), exhibitor_id=None, hold_expires_at=None, stand_id=None,
                updated_at=now).execution_options(synchronize_session=False))
    if result.rowcount != 1:
        raise BoothTaken(_l("Booth %(number)s has changed in the meantime. Reload and try again.",
                            number=booth.number))
    db.session.refresh(booth)


def approved_application(expo: Expo, exhibitor: Exhibitor) -> SpaceApplication:
    """The exhibitor's application for ``expo`` if it is approved; booths go only to approved exhibitors."""
    application = db.session.scalar(select(SpaceApplication).where(SpaceApplication.expo_id == expo.id,
                                                                   SpaceApplication.exhibitor_id == exhibitor.id))
    if application is None or application.status != ApplicationStatus.APPROVED:
        raise AllocationError(_l("Only approved exhibitors get booths."), code="not_approved", status=409)
    return application


def _same_expo(expo: Expo, booths: Iterable[Booth]) -> list[Booth]:
    booths = list(booths)
    if not booths:
        raise AllocationError(_l("Choose at least one booth."), code="no_booth")
    if any(b.expo_id != expo.id for b in booths):
        raise AllocationError(_l("That booth belongs to another expo."), code="wrong_expo", status=404)
    return booths


def assign(actor: User, expo: Expo, exhibitor: Exhibitor, booths: Iterable[Booth]) -> list[Booth]:
    """Give ``booths`` to an approved exhibitor. All or nothing: if one is taken, none is assigned (the caller
    rolls back)."""
    approved_application(expo, exhibitor)
    now = utcnow()
    booths = sorted(_same_expo(expo, booths), key=lambda b: b.id)  # one lock order: no deadlock between two batches
    for booth in booths:
        if booth.status == BoothStatus.BLOCKED:
            raise AllocationError(_l("Booth %(number)s is not for sale.", number=booth.number), code="blocked",
                                  status=409)
        _take(booth, exhibitor.id, BoothStatus.ASSIGNED, None, now)
        audit.record(actor, "booth_assigned", booth, exhibitor_id=exhibitor.id, booth=booth.number)
    db.session.flush()
    return booths


def hold(actor: User, expo: Expo, exhibitor: Exhibitor, booths: Iterable[Booth], minutes: int | None = None) -> list[Booth]:
    """Hold booths for an exhibitor until they expire (``minutes``, or the expo's hold time)."""
    now = utcnow()
    expires = now + timedelta(minutes=minutes or expo.hold_minutes)
    booths = sorted(_same_expo(expo, booths), key=lambda b: b.id)
    for booth in booths:
        if booth.status == BoothStatus.BLOCKED:
            raise AllocationError(_l("Booth %(number)s is not for sale.", number=booth.number), code="blocked",
                                  status=409)
        _take(booth, exhibitor.id, BoothStatus.HELD, expires, now)
        audit.record(actor, "booth_held", booth, exhibitor_id=exhibitor.id, booth=booth.number,
                     until=expires.isoformat(timespec="minutes"))
    db.session.flush()
    return booths


def vacate(actor: User, expo: Expo, booths: Iterable[Booth]) -> list[Booth]:
    """Free assigned or held booths."""
    now = utcnow()
    booths = sorted(_same_expo(expo, booths), key=lambda b: b.id)
    for booth in booths:
        holder = booth.exhibitor_id
        if holder is None:
            raise AllocationError(_l("Booth %(number)s is free already.", number=booth.number), code="free",
                                  status=409)
        _release(booth, holder, now)
        audit.record(actor, "booth_vacated", booth, exhibitor_id=holder, booth=booth.number)
    db.session.flush()
    return booths


def move(actor: User, expo: Expo, source: Booth, target: Booth) -> Booth:
    """Move the exhibitor of ``source`` to the free booth ``target``."""
    holder = source.exhibitor_id
    if holder is None or source.status != BoothStatus.ASSIGNED:
        raise AllocationError(_l("Booth %(number)s has no exhibitor to move.", number=source.number),
                              code="free", status=409)
    _same_expo(expo, [source, target])
    now = utcnow()
    _release(source, holder, now)
    _take(target, holder, BoothStatus.ASSIGNED, None, now)
    audit.record(actor, "booth_moved", target, exhibitor_id=holder, booth=[source.number, target.number])
    db.session.flush()
    return target


def swap(actor: User, expo: Expo, first: Booth, second: Booth) -> None:
    """Exchange the exhibitors of two assigned booths."""
    _same_expo(expo, [first, second])
    a, b = first.exhibitor_id, second.exhibitor_id
    if a is None or b is None or first.status != BoothStatus.ASSIGNED or second.status != BoothStatus.ASSIGNED:
        raise AllocationError(_l("Both booths need an exhibitor to swap them."), code="free", status=409)
    if a == b:
        raise AllocationError(_l("Both booths belong to the same exhibitor."), code="same_exhibitor")
    now = utcnow()
    for booth, old, new in sorted([(first, a, b), (second, b, a)], key=lambda t: t[0].id):
        result = db.session.execute(
            update(Booth).where(Booth.id == booth.id, Booth.exhibitor_id == old, Booth.status == BoothStatus.ASSIGNED)
            .values(exhibitor_id=new, stand_id=None, updated_at=now).execution_options(synchronize_session=False))
        if result.rowcount != 1:
            raise BoothTaken(_l("Booth %(number)s has changed in the meantime. Reload and try again.",
                                number=booth.number))
        db.session.refresh(booth)
    audit.record(actor, "booths_swapped", first, exhibitor_id=a, booth=[first.number, second.number])
    audit.record(actor, "booths_swapped", second, exhibitor_id=b, booth=[second.number, first.number])
    db.session.flush()


def merge(actor: User, expo: Expo, booths: Iterable[Booth]) -> Stand:
    """Merge adjacent booths of one exhibitor into one stand (no walls between them)."""
    booths = _same_expo(expo, booths)
    holders = {b.exhibitor_id for b in booths}
    if len(booths) < 2 or len(holders) != 1 or None in holders or any(b.status != BoothStatus.ASSIGNED
                                                                       for b in booths):
        raise AllocationError(_l("Merge two or more booths assigned to the same exhibitor."), code="merge")
    if len({b.hall_id for b in booths}) != 1 or not geometry.contiguous(
            [b.id for b in booths], geometry.neighbours({b.id: booth_rect(b) for b in booths})):
        raise AllocationError(_l("Only booths that touch each other can be merged into one stand."),
                              code="not_adjacent")
    stand = Stand(expo_id=expo.id, exhibitor_id=holders.pop())
    db.session.add(stand)
    db.session.flush()
    for b in booths:
        b.stand_id = stand.id
    audit.record(actor, "stand_merged", stand, exhibitor_id=stand.exhibitor_id,
                 booths=sorted(b.number for b in booths))
    db.session.flush()
    return stand


def release_expired_holds(expo: Expo, now: datetime | None = None) -> int:
    """Free the holds whose time is up; returns how many."""
    now = now or utcnow()
    result = db.session.execute(
        update(Booth).where(Booth.expo_id == expo.id, Booth.status == BoothStatus.HELD, Booth.hold_expires_at <= now)
        .values(status=str(BoothStatus.AVAILABLE), exhibitor_id=None, hold_expires_at=None, updated_at=now)
        .execution_options(synchronize_session=False))
    return result.rowcount


@dataclass(frozen=True)
class FeeLine:
    booth: str
    kind: str
    area_m2: float
    price_cny: int
    premium_cny: int

    @property
    def total_cny(self) -> int:
        return self.price_cny + self.premium_cny


@dataclass(frozen=True)
class FeeStatement:
    lines: list[FeeLine]
    premium_percent: int
    payment_status: str

    @property
    def total_cny(self) -> int:
        return sum(line.total_cny for line in self.lines)


def fee_statement(expo: Expo, exhibitor: Exhibitor) -> FeeStatement:
    """The exhibitor's booths with their prices, the corner premium on corner, peninsula and island booths, and
    the payment status the organizer set."""
    booths = db.session.scalars(select(Booth).where(Booth.expo_id == expo.id, Booth.exhibitor_id == exhibitor.id,
                                                    Booth.status == BoothStatus.ASSIGNED).order_by(Booth.number))
    lines = [FeeLine(b.number, b.kind, b.area_m2, b.price_cny,
                     b.price_cny * expo.corner_premium_percent // 100 if b.premium else 0) for b in booths]
    application = db.session.scalar(select(SpaceApplication).where(SpaceApplication.expo_id == expo.id,
                                                                   SpaceApplication.exhibitor_id == exhibitor.id))
    return FeeStatement(lines, expo.corner_premium_percent, application.payment_status if application else "unpaid")
