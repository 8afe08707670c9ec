"""The demo expo's supply-demand docking: exhibitors' offers, buyers' needs, two docking sessions, meetings
requested, accepted and declined, a schedule made by the automatic scheduler, and what came of the scheduled meetings
(as if the sessions had taken place: the demo shows the reports filled).

Loaded by ``flask demo`` / ``flask quickstart`` (``expo.demo.load(docking=True)``), so that every docking page —
recommendations, meetings, schedules, the organizer's report and dashboard — has something to show. The demo
buyer (``buyer@expo.test``) and the demo exhibitor's company take part, so that their pages are not empty.
"""

from __future__ import annotations

import random
from datetime import date, datetime, time, timedelta
from decimal import Decimal

from sqlalchemy import select

from expo.buyers.models import Buyer
from expo.docking import scheduling
from expo.docking.models import (
    BusyPeriod,
    BuyerNeed,
    DockingSession,
    ExhibitorOffer,
    Meeting,
    MeetingOutcome,
    MeetingStatus,
    OutcomeResult,
    PriceBand,
    RequestedBy,
)
from expo.exhibitors.models import ApplicationStatus, Exhibitor, SpaceApplication
from expo.extensions import db
from expo.venue.models import Expo, Pavilion

CERTIFICATIONS = ["ISO 9001", "ISO 14001", "BSCI", "SA8000", "GRS", "OEKO-TEX", "REACH", "CE"]
MARKETS = ["US", "EU", "RU", "AE", "BR", "MX", "ZA", "NG", "IN", "VN", "TH", "MY", "ID", "JP", "KR", "AU", "GB", "SA"]
PRICE_BANDS = [str(b) for b in PriceBand]
#: Factory price per pair in yuan, by price band (for the demo's order values).
PAIR_PRICE_CNY = {"under_5": 28, "5_10": 55, "10_20": 105, "20_50": 230, "over_50": 420}

# (zh, en, room, day of the expo, start, slots, slot minutes, tables, pavilion code or None)
SESSIONS = [
    ("“一带一路”品牌馆供需对接会", "Belt and Road brand pavilion supply-demand docking", "R1", 0, time(14, 0), 12, 20,
     20, "BR"),
    ("运动鞋及鞋材采购对接会", "Sports footwear and shoe materials sourcing session", "R1", 1, time(9, 30), 10, 20,
     16, None),
]


def load(expo: Expo, rng: random.Random, *, demo_buyer_email: str, demo_exhibitor_id: int | None) -> dict[str, int]:
    """Offers, needs, sessions, meetings and outcomes for ``expo`` (whose exhibitors and buyers exist). The caller
    commits. Returns how many of each were made."""
    approved = list(db.session.scalars(
        select(Exhibitor).join(SpaceApplication, SpaceApplication.exhibitor_id == Exhibitor.id)
        .where(SpaceApplication.expo_id == expo.id, SpaceApplication.status == ApplicationStatus.APPROVED)
        .order_by(Exhibitor.id)).unique())
    offers = _offers(expo, rng, approved, demo_exhibitor_id)
    buyers = list(db.session.scalars(select(Buyer).where(Buyer.expo_id == expo.id).order_by(Buyer.id)))
    needs = _needs(expo, rng, buyers, demo_buyer_email)
    sessions = _sessions(expo)
    meetings = _meetings(expo, rng, needs, offers, demo_buyer_email)
    busy = _busy_periods(expo, rng, meetings, sessions)
    db.session.flush()
    result = scheduling.schedule(None, expo)
    outcomes = sum(record_outcomes(expo, rng, session) for session in sessions)
    return {"offers": len(offers), "needs": len(needs), "sessions": len(sessions), "meetings": len(meetings),
            "busy_periods": busy, "scheduled": result.scheduled, "outcomes": outcomes}


def _offers(expo: Expo, rng: random.Random, exhibitors: list[Exhibitor], demo_exhibitor_id: int | None):
    offers = []
    for ex in exhibitors:
        if not ex.categories:
            continue
        category = ex.categories[0]
        capacity = rng.choice([20_000, 50_000, 80_000, 120_000, 200_000, 300_000, 500_000])
        offers.append(ExhibitorOffer(
            expo_id=expo.id, exhibitor_id=ex.id, category_id=category.id,
            products=f"{category.name_en} / {category.name_zh}"[:200],
            min_order_pairs=rng.choice([300, 500, 1000, 2000, 3000]), monthly_capacity_pairs=capacity,
            price_band=rng.choice(PRICE_BANDS), oem=rng.random() < 0.7, odm=rng.random() < 0.4,
            certifications=sorted(rng.sample(CERTIFICATIONS, rng.randint(0, 3))),
            markets=sorted(rng.sample(MARKETS, rng.randint(2, 6))), description=ex.description or ""))
    if demo_exhibitor_id is not None and not any(o.exhibitor_id == demo_exhibitor_id for o in offers):
        ex = db.session.get(Exhibitor, demo_exhibitor_id)
        if ex is not None and ex.categories:
            category = ex.categories[0]
            offers.append(ExhibitorOffer(
                expo_id=expo.id, exhibitor_id=ex.id, category_id=category.id,
                products=f"{category.name_en} / {category.name_zh}"[:200], min_order_pairs=1000,
                monthly_capacity_pairs=150_000, price_band="10_20", oem=True, odm=True,
                certifications=["BSCI", "ISO 9001"], markets=["EU", "RU", "US"], description=ex.description or ""))
    db.session.add_all(offers)
    return offers


def _needs(expo: Expo, rng: random.Random, buyers: list[Buyer], demo_buyer_email: str):
    needs = []
    start = expo.starts_on or date(2027, 4, 19)
    for buyer in buyers:
        if not buyer.categories or (buyer.email != demo_buyer_email and rng.random() > 0.35):
            continue
        category = rng.choice(buyer.categories)
        delivery_from = start + timedelta(days=rng.choice([30, 45, 60, 90]))
        needs.append(BuyerNeed(
            expo_id=expo.id, buyer_id=buyer.id, category_id=category.id,
            title=f"{category.name_en} for {buyer.company or buyer.name}"[:200],
            quantity_pairs=rng.choice([5_000, 10_000, 20_000, 50_000, 100_000, 200_000]),
            price_band=rng.choice(PRICE_BANDS), delivery_from=delivery_from,
            delivery_until=delivery_from + timedelta(days=rng.choice([30, 60, 90])),
            markets=[buyer.country], description=buyer.products_sought or ""))
    db.session.add_all(needs)
    db.session.flush()
    return needs


def _sessions(expo: Expo) -> list[DockingSession]:
    pavilions = {p.code: p.id for p in db.session.scalars(select(Pavilion).where(Pavilion.expo_id == expo.id))}
    start = expo.starts_on or date(2027, 4, 19)
    rows = [DockingSession(expo_id=expo.id, name_zh=zh, name_en=en, room=room,
                           pavilion_id=pavilions.get(pavilion) if pavilion else None,
                           starts_at=datetime.combine(start + timedelta(days=day), at), slot_count=slots,
                           slot_minutes=minutes, table_count=tables, published=True)
            for zh, en, room, day, at, slots, minutes, tables, pavilion in SESSIONS]
    db.session.add_all(rows)
    db.session.flush()
    return rows


def _meetings(expo: Expo, rng: random.Random, needs: list[BuyerNeed], offers: list[ExhibitorOffer],
              demo_buyer_email: str) -> list[Meeting]:
    """For a third of the buyers' needs (and the demo buyer's), up to three exhibitors offering the same category: mostly accepted, some waiting for an
    answer, a few declined. One meeting per pair."""
    by_category: dict[int, list[ExhibitorOffer]] = {}
    for offer in offers:
        by_category.setdefault(offer.category_id, []).append(offer)
    meetings, pairs = [], set()
    for need in needs:
        if need.buyer.email != demo_buyer_email and rng.random() > 0.3:
            continue
        candidates = by_category.get(need.category_id, [])
        for offer in rng.sample(candidates, min(len(candidates), rng.randint(1, 3))):
            if (need.buyer_id, offer.exhibitor_id) in pairs:
                continue
            pairs.add((need.buyer_id, offer.exhibitor_id))
            roll = rng.random()
            status = MeetingStatus.ACCEPTED if roll < 0.7 else (
                MeetingStatus.REQUESTED if roll < 0.9 else MeetingStatus.DECLINED)
            by = RequestedBy.BUYER if rng.random() < 0.6 else RequestedBy.EXHIBITOR
            meetings.append(Meeting(
                expo_id=expo.id, buyer_id=need.buyer_id, exhibitor_id=offer.exhibitor_id, need_id=need.id,
                offer_id=offer.id, requested_by=str(by), status=str(status),
                message="We would like to discuss an order for the coming season." if by == RequestedBy.BUYER
                else "我们可以按您的设计和品牌生产 (OEM/ODM)。",
                answer_note="Capacity fully booked this season." if status == MeetingStatus.DECLINED else ""))
    db.session.add_all(meetings)
    db.session.flush()
    return meetings


def _busy_periods(expo: Expo, rng: random.Random, meetings: list[Meeting], sessions: list[DockingSession]) -> int:
    """Some buyers arrive late on the first session's day: busy until an hour after it starts."""
    first = sessions[0]
    late = sorted({m.buyer_id for m in meetings if m.status == MeetingStatus.ACCEPTED})[::7]
    rows = [BusyPeriod(expo_id=expo.id, buyer_id=buyer_id, starts_at=first.starts_at - timedelta(hours=4),
                       ends_at=first.starts_at + timedelta(hours=1), note="Flight arrives at noon")
            for buyer_id in late]
    db.session.add_all(rows)
    return len(rows)


def record_outcomes(expo: Expo, rng: random.Random, session: DockingSession) -> int:
    """What came of the scheduled meetings of ``session``, as if it had taken place: mostly cooperation intentions
    (pairs, value in yuan, an expected order date), some agreements, follow-ups, nothing, or a no-show."""
    meetings = list(db.session.scalars(select(Meeting).where(Meeting.session_id == session.id)
                                       .order_by(Meeting.id)))
    rows = []
    for meeting in meetings:
        roll = rng.random()
        result = (OutcomeResult.INTENTION if roll < 0.45 else OutcomeResult.AGREEMENT if roll < 0.6
                  else OutcomeResult.FOLLOW_UP if roll < 0.8 else OutcomeResult.NONE if roll < 0.93
                  else OutcomeResult.NO_SHOW)
        pairs, value = 0, Decimal(0)
        if result in (OutcomeResult.INTENTION, OutcomeResult.AGREEMENT):
            pairs = rng.choice([20_000, 50_000, 80_000, 120_000, 200_000, 300_000, 600_000])
            band = (meeting.offer.price_band if meeting.offer and meeting.offer.price_band else "10_20")
            value = Decimal(pairs * PAIR_PRICE_CNY[band])
        products = meeting.offer.products if meeting.offer and pairs else ""
        rows.append(MeetingOutcome(
            meeting_id=meeting.id, result=str(result), products=products, quantity_pairs=pairs, value=value,
            currency="CNY", value_cny=value,
            expected_order_on=session.starts_at.date() + timedelta(days=rng.choice([30, 60, 90])) if pairs else None,
            notes=""))
    db.session.add_all(rows)
    db.session.flush()
    return len(rows)
