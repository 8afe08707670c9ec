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
    approved_application(expo, exhibitor)
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


# --- blocking, numbers typed in, self-selection, settings, payment ------------------------------------------------

def block(actor: User, expo: Expo, booth: Booth) -> Booth:
    """Take a free booth off sale (the organizer's own use, a service point, a fire exit)."""
    _same_expo(expo, [booth])
    _set_status(booth, BoothStatus.AVAILABLE, BoothStatus.BLOCKED,
                _l("Only a free booth can be blocked; booth %(number)s is not free.", number=booth.number))
    audit.record(actor, "booth_blocked", booth, booth=booth.number)
    db.session.flush()
    return booth


def unblock(actor: User, expo: Expo, booth: Booth) -> Booth:
    """Put a blocked booth back on sale."""
    _same_expo(expo, [booth])
    _set_status(booth, BoothStatus.BLOCKED, BoothStatus.AVAILABLE,
                _l("Booth %(number)s is not blocked.", number=booth.number))
    audit.record(actor, "booth_unblocked", booth, booth=booth.number)
    db.session.flush()
    return booth


def _set_status(booth: Booth, old: BoothStatus, new: BoothStatus, refusal) -> None:
    # Guarded like _take: the booth must still be in ``old`` state when the write lands, whoever raced us.
    result = db.session.execute(
        update(Booth).where(Booth.id == booth.id, Booth.status == old, Booth.exhibitor_id.is_(None))
        .values(status=str(new), updated_at=utcnow()).execution_options(synchronize_session=False))
    if result.rowcount != 1:
        raise AllocationError(refusal, code="booth_state", status=409)
    db.session.refresh(booth)


def parse_numbers(text: str) -> list[str]:
    """Booth numbers typed in as "A1-001, A1-002" (commas, semicolons, spaces or lines between them), upper-cased,
    each once, in the order given."""
    seen: dict[str, None] = {}
    for part in text.replace(";", ",").replace("\n", ",").replace(" ", ",").split(","):
        if part.strip():
            seen.setdefault(part.strip().upper(), None)
    return list(seen)


def booths_by_number(expo: Expo, numbers: Iterable[str]) -> list[Booth]:
    """The booths with these numbers; an unknown number is refused by name."""
    numbers = list(numbers)
    if not numbers:
        raise AllocationError(_l("Type at least one booth number."), code="no_booth", field="booths")
    found = {b.number.upper(): b for b in db.session.scalars(
        select(Booth).where(Booth.expo_id == expo.id, Booth.number.in_(numbers)))}
    missing = [n for n in numbers if n not in found]
    if missing:
        raise AllocationError(_l("There is no booth %(numbers)s.", numbers=", ".join(missing)), code="unknown_booth",
                              field="booths", status=404)
    return [found[n] for n in numbers]


def assign_numbers(actor: User, expo: Expo, exhibitor: Exhibitor, text: str) -> tuple[list[Booth], list[Stand]]:
    """Assign the booths typed in to ``exhibitor``, all or nothing, and merge the ones that touch each other into
    stands (a block of booths side by side becomes one stand without walls)."""
    booths = assign(actor, expo, exhibitor, booths_by_number(expo, parse_numbers(text)))
    stands = [merge(actor, expo, group) for group in adjacent_groups(booths) if len(group) > 1]
    return booths, stands


def adjacent_groups(booths: list[Booth]) -> list[list[Booth]]:
    """``booths`` split into blocks that touch each other (per hall), each block in number order."""
    groups: list[list[Booth]] = []
    by_hall: dict[int, list[Booth]] = {}
    for b in booths:
        by_hall.setdefault(b.hall_id, []).append(b)
    for hall_booths in by_hall.values():
        adjacency = geometry.neighbours({b.id: booth_rect(b) for b in hall_booths})
        by_id = {b.id: b for b in hall_booths}
        seen: set[int] = set()
        for b in hall_booths:
            if b.id in seen:
                continue
            block_ids, todo = {b.id}, [b.id]
            while todo:
                for nxt in adjacency[todo.pop()]:
                    if nxt not in block_ids:
                        block_ids.add(nxt)
                        todo.append(nxt)
            seen |= block_ids
            groups.append(sorted((by_id[i] for i in block_ids), key=lambda x: x.number))
    return groups


def booths_of(expo: Expo, exhibitor: Exhibitor, now: datetime | None = None) -> list[Booth]:
    """The exhibitor's assigned booths and its holds that are still running, in number order."""
    now = now or utcnow()
    return list(db.session.scalars(select(Booth).where(
        Booth.expo_id == expo.id, Booth.exhibitor_id == exhibitor.id,
        or_(Booth.status == BoothStatus.ASSIGNED, and_(Booth.status == BoothStatus.HELD, Booth.hold_expires_at > now)))
        .order_by(Booth.number)))


def booths_allowed(application: SpaceApplication) -> int:
    """How many booths self-selection lets the exhibitor have: what it applied for (one lot for raw space)."""
    return 1 if application.space_kind == "raw" else application.booths_requested


def _selection_application(expo: Expo, exhibitor: Exhibitor) -> SpaceApplication:
    if not expo.self_selection_open:
        raise AllocationError(_l("Booth self-selection is closed."), code="selection_closed", status=403)
    application = approved_application(expo, exhibitor)
    if application.preferred_pavilion_id is None:
        raise AllocationError(_l("Your application names no pavilion; the organizer will place you."),
                              code="no_pavilion", status=409)
    return application


def selectable_booths(expo: Expo, exhibitor: Exhibitor) -> list[Booth]:
    """Booths the exhibitor may pick now: free ones (or expired holds) of its own pavilion and kind of space."""
    application = _selection_application(expo, exhibitor)
    now = utcnow()
    return list(db.session.scalars(select(Booth).where(
        Booth.expo_id == expo.id, Booth.pavilion_id == application.preferred_pavilion_id,
        Booth.raw_space.is_(application.space_kind == "raw"),
        or_(Booth.status == BoothStatus.AVAILABLE, and_(Booth.status == BoothStatus.HELD,
                                                        Booth.hold_expires_at <= now)))
        .order_by(Booth.number)))


def select_booth(actor: User, expo: Expo, exhibitor: Exhibitor, booth: Booth) -> Booth:
    """Self-selection: the exhibitor takes ``booth`` under a hold timer; never more than it applied for, only in its
    own pavilion."""
    application = _selection_application(expo, exhibitor)
    if booth.pavilion_id != application.preferred_pavilion_id or booth.raw_space != (application.space_kind == "raw"):
        raise AllocationError(_l("You can only choose booths of your own pavilion."), code="other_pavilion",
                              status=403)
    mine = booths_of(expo, exhibitor)
    if booth in mine:
        raise AllocationError(_l("Booth %(number)s is yours already.", number=booth.number), code="mine", status=409)
    if len(mine) >= booths_allowed(application):
        raise AllocationError(_l("You applied for %(n)d booths and have them all; release one to choose another.",
                                 n=booths_allowed(application)), code="limit", status=409)
    hold(actor, expo, exhibitor, [booth])
    return booth


def release_selection(actor: User, expo: Expo, exhibitor: Exhibitor, booth: Booth) -> None:
    """Self-selection: give back one of the exhibitor's own holds."""
    _selection_application(expo, exhibitor)
    if booth.exhibitor_id != exhibitor.id or booth.status != BoothStatus.HELD:
        raise AllocationError(_l("Booth %(number)s is not held for you.", number=booth.number), code="not_held",
                              status=409)
    vacate(actor, expo, [booth])


def confirm_selection(actor: User, expo: Expo, exhibitor: Exhibitor) -> list[Booth]:
    """Self-selection: turn the exhibitor's running holds into assignments (holds whose time is up are lost)."""
    application = _selection_application(expo, exhibitor)
    now = utcnow()
    held = [b for b in booths_of(expo, exhibitor, now) if b.status == BoothStatus.HELD]
    if not held:
        raise AllocationError(_l("You hold no booths to confirm; your holds may have expired."), code="no_hold",
                              status=409)
    assigned = [b for b in booths_of(expo, exhibitor, now) if b.status == BoothStatus.ASSIGNED]
    if len(assigned) + len(held) > booths_allowed(application):
        raise AllocationError(_l("You applied for %(n)d booths and have them all; release one to choose another.",
                                 n=booths_allowed(application)), code="limit", status=409)
    for booth in sorted(held, key=lambda b: b.id):
        # Only a hold of ours that is still running may become an assignment: the WHERE names it exactly.
        result = db.session.execute(
            update(Booth).where(Booth.id == booth.id, Booth.exhibitor_id == exhibitor.id,
                                Booth.status == BoothStatus.HELD, Booth.hold_expires_at > now)
            .values(status=str(BoothStatus.ASSIGNED), hold_expires_at=None, updated_at=now)
            .execution_options(synchronize_session=False))
        if result.rowcount != 1:
            raise BoothTaken(_l("Your hold on booth %(number)s has expired. Choose it again.", number=booth.number))
        db.session.refresh(booth)
        audit.record(actor, "booth_assigned", booth, exhibitor_id=exhibitor.id, booth=booth.number,
                     source="self_selection")
    db.session.flush()
    return held


def update_settings(actor: User, expo: Expo, *, hold_minutes: int, corner_premium_percent: int,
                    self_selection_open: bool) -> dict[str, list]:
    """The organizer's allocation settings: hold time, corner premium, whether exhibitors may pick booths."""
    if not 1 <= hold_minutes <= 7 * 24 * 60:
        raise AllocationError(_l("A hold lasts between 1 minute and 7 days."), code="invalid", field="hold_minutes")
    if not 0 <= corner_premium_percent <= 100:
        raise AllocationError(_l("The corner premium is between 0 and 100 percent."), code="invalid",
                              field="corner_premium_percent")
    changes = audit.diff(expo, dict(hold_minutes=hold_minutes, corner_premium_percent=corner_premium_percent,
                                    self_selection_open=self_selection_open))
    if changes:
        audit.record(actor, "allocation_settings_changed", expo, **changes)
    db.session.flush()
    return changes


PAYMENT_STATUSES = ("unpaid", "invoiced", "partial", "paid")


def set_payment_status(actor: User, application: SpaceApplication, status: str,
                       priority_bonus: int | None = None) -> dict[str, list]:
    """Record the payment status the organizer set (``paid_at`` when it becomes paid) and, if given, the
    organizer's bonus points for the automatic allocation."""
    if status not in PAYMENT_STATUSES:
        raise AllocationError(_l("Choose a payment status."), code="invalid", field="payment_status")
    values: dict = {"payment_status": status}
    if status == "paid" and application.payment_status != "paid":
        values["paid_at"] = utcnow()
    elif status != "paid":
        values["paid_at"] = None
    if priority_bonus is not None:
        if not -1000 <= priority_bonus <= 1000:
            raise AllocationError(_l("Bonus points are between -1000 and 1000."), code="invalid",
                                  field="priority_bonus")
        values["priority_bonus"] = priority_bonus
    changes = audit.diff(application, values)
    if changes:
        audit.record(actor, "payment_status_set", application, exhibitor_id=application.exhibitor_id, **changes)
    db.session.flush()
    return changes
