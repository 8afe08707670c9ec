"""The organizer dashboard's figures across the whole expo: booths sold and free, fees invoiced and paid,
exhibitors and buyers by country, check-ins per day, and the docking headline. Aggregated in SQL, a handful of
statements at any size; no request is read here (the view draws the charts).

Fees follow the fee statement (:func:`expo.allocation.services.fee_statement`): the price of each assigned booth
plus the corner premium on corner, peninsula and island booths, grouped by the payment status the organizer set on
the exhibitor's application. *Invoiced* counts every fee of an exhibitor that was invoiced, paid in part or paid;
*paid* those marked paid (a partial payment's amount is not recorded, so it is not counted as paid).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta

from sqlalchemy import and_, case, func, select

from expo.buyers.models import Buyer
from expo.checkin.dashboard import day_bounds
from expo.checkin.models import Checkpoint, CheckpointKind, Direction, Scan, ScanResult
from expo.docking import reports
from expo.exhibitors.models import ApplicationStatus, Exhibitor, PaymentStatus, SpaceApplication
from expo.extensions import db
from expo.venue.models import PREMIUM_KINDS, Booth, BoothStatus, Expo

INVOICED = (PaymentStatus.INVOICED.value, PaymentStatus.PARTIAL.value, PaymentStatus.PAID.value)


@dataclass
class Fees:
    by_status: dict[str, int] = field(default_factory=dict)  # payment status → yuan of assigned booths

    @property
    def total(self) -> int:
        return sum(self.by_status.values())

    @property
    def invoiced(self) -> int:
        return sum(self.by_status.get(s, 0) for s in INVOICED)

    @property
    def paid(self) -> int:
        return self.by_status.get(PaymentStatus.PAID.value, 0)


@dataclass
class ExpoFigures:
    booths: dict[str, int]  # booth status → count
    fees: Fees
    exhibitors_by_country: list[tuple[str, int]]  # approved exhibitors, most first
    buyers_by_country: list[tuple[str, int]]
    checkins: list[tuple[date, int, int]]  # day, entries, distinct people
    docking: reports.Headline
    docking_sentence_en: str = ""
    docking_sentence_zh: str = ""

    @property
    def booths_sold(self) -> int:
        return self.booths.get(BoothStatus.ASSIGNED.value, 0)

    @property
    def booths_free(self) -> int:
        return self.booths.get(BoothStatus.AVAILABLE.value, 0)


def booth_counts(expo: Expo) -> dict[str, int]:
    counts = {s.value: 0 for s in BoothStatus}
    counts.update(db.session.execute(select(Booth.status, func.count()).where(Booth.expo_id == expo.id)
                                     .group_by(Booth.status)).all())
    return counts


def fees(expo: Expo) -> Fees:
    """The fees of the assigned booths, per payment status of their exhibitor's application."""
    premium = case((Booth.kind.in_([k.value for k in PREMIUM_KINDS]),
                    Booth.price_cny * expo.corner_premium_percent // 100), else_=0)
    status = func.coalesce(SpaceApplication.payment_status, PaymentStatus.UNPAID.value)
    rows = db.session.execute(
        select(status, func.coalesce(func.sum(Booth.price_cny + premium), 0))
        .select_from(Booth)
        .outerjoin(SpaceApplication, and_(SpaceApplication.expo_id == Booth.expo_id,
                                          SpaceApplication.exhibitor_id == Booth.exhibitor_id))
        .where(Booth.expo_id == expo.id, Booth.status == BoothStatus.ASSIGNED.value)
        .group_by(status))
    return Fees({s: int(total) for s, total in rows})


def exhibitors_by_country(expo: Expo) -> list[tuple[str, int]]:
    """Exhibitors approved for the expo, per country or region, most first."""
    rows = db.session.execute(
        select(Exhibitor.country, func.count()).join(SpaceApplication, SpaceApplication.exhibitor_id == Exhibitor.id)
        .where(SpaceApplication.expo_id == expo.id, SpaceApplication.status == ApplicationStatus.APPROVED.value)
        .group_by(Exhibitor.country))
    return sorted(((c, int(n)) for c, n in rows), key=lambda r: (-r[1], r[0]))


def buyers_by_country(expo: Expo) -> list[tuple[str, int]]:
    rows = db.session.execute(select(Buyer.country, func.count()).where(Buyer.expo_id == expo.id)
                              .group_by(Buyer.country))
    return sorted(((c, int(n)) for c, n in rows), key=lambda r: (-r[1], r[0]))


def checkins_per_day(expo: Expo) -> list[tuple[date, int, int]]:
    """For each day of the expo: entries admitted at the venue's entrances, and the number of people (badges)."""
    days = [expo.starts_on + timedelta(days=i) for i in range((expo.ends_on - expo.starts_on).days + 1)]
    if not days:
        return []
    entrance = (select(Scan.badge_id, Scan.scanned_at).join(Checkpoint, Checkpoint.id == Scan.checkpoint_id)
                .where(Scan.expo_id == expo.id, Checkpoint.kind == CheckpointKind.ENTRANCE.value,
                       Scan.result == ScanResult.ADMITTED.value, Scan.direction == Direction.IN.value))
    out = []
    for day in days:
        start, end = day_bounds(day)
        sub = entrance.where(Scan.scanned_at >= start, Scan.scanned_at < end).subquery()
        entries, people = db.session.execute(
            select(func.count(), func.count(func.distinct(sub.c.badge_id))).select_from(sub)).one()
        out.append((day, int(entries), int(people)))
    return out


def figures(expo: Expo) -> ExpoFigures:
    head = reports.headline(expo)
    return ExpoFigures(booth_counts(expo), fees(expo), exhibitors_by_country(expo), buyers_by_country(expo),
                       checkins_per_day(expo), head, reports.sentence(head, "en"), reports.sentence(head, "zh"))
