"""Supply-demand docking (B2B matchmaking): buyers' purchase needs, exhibitors' offers, meetings between a buyer and an
exhibitor, the docking sessions that give meetings a time and a table, and what came of each meeting.

A meeting is requested by one side (a buyer, a delegation leader for a member, or an exhibitor) and accepted or
declined by the other. An accepted meeting is *scheduled* when it has a session, a slot and a table. Three unique
constraints make double-booking impossible even when two organizers (or the scheduler and an organizer) write at
once: one meeting per table and slot, one per buyer and slot, one per exhibitor and slot of a session. Sessions that
overlap in time are checked by the services (:mod:`expo.docking.scheduling`).

Money: an outcome keeps the value in the currency it was agreed in and, for the reports, its value in yuan at the
rate of the day it was recorded (:mod:`expo.docking.currencies`), so a later rate change does not rewrite history.
"""

from __future__ import annotations

import enum
from datetime import date, datetime
from decimal import Decimal
from typing import TYPE_CHECKING

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    CheckConstraint,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    Numeric,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from expo.categories.models import ProductCategory
from expo.db import TimestampMixin
from expo.extensions import db

if TYPE_CHECKING:
    from expo.auth.models import User
    from expo.buyers.models import Buyer, Delegation
    from expo.checkin.models import Checkpoint
    from expo.exhibitors.models import Exhibitor
    from expo.venue.models import Pavilion


class MeetingStatus(enum.StrEnum):
    REQUESTED = "requested"  # waiting for the other side
    ACCEPTED = "accepted"  # both sides want it; scheduled once it has a session, slot and table
    DECLINED = "declined"
    CANCELLED = "cancelled"  # withdrawn by the side that asked, or called off by the organizer


class RequestedBy(enum.StrEnum):
    BUYER = "buyer"  # the buyer, or their delegation's leader on their behalf
    EXHIBITOR = "exhibitor"
    ORGANIZER = "organizer"  # arranged by the organizer (hosted buyers, delegations)


class OutcomeResult(enum.StrEnum):
    INTENTION = "intention"  # a cooperation intention: products, quantity, value, expected order date
    AGREEMENT = "agreement"  # a signed agreement or order
    FOLLOW_UP = "follow_up"  # interest, to be continued after the fair
    NONE = "none"  # met, nothing came of it
    NO_SHOW = "no_show"  # the meeting did not take place


#: Results that count as a cooperation reached, in the reports' headline.
COOPERATION_RESULTS = (OutcomeResult.INTENTION, OutcomeResult.AGREEMENT)


class PriceBand(enum.StrEnum):
    """Factory price per pair, in US dollars."""

    UNDER_5 = "under_5"
    FROM_5 = "5_10"
    FROM_10 = "10_20"
    FROM_20 = "20_50"
    OVER_50 = "over_50"


class BuyerNeed(TimestampMixin, db.Model):
    """A purchase need published by a buyer, or by a delegation's leader for the whole delegation."""

    __tablename__ = "buyer_needs"
    __table_args__ = (
        CheckConstraint("(buyer_id IS NULL) <> (delegation_id IS NULL)", name="one_owner"),
        Index("ix_buyer_needs_expo_category", "expo_id", "category_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    expo_id: Mapped[int] = mapped_column(ForeignKey("expos.id", ondelete="CASCADE"), index=True)
    buyer_id: Mapped[int | None] = mapped_column(ForeignKey("buyers.id", ondelete="CASCADE"), index=True)
    delegation_id: Mapped[int | None] = mapped_column(ForeignKey("delegations.id", ondelete="CASCADE"), index=True)
    category_id: Mapped[int] = mapped_column(ForeignKey("product_categories.id", ondelete="RESTRICT"))
    title: Mapped[str] = mapped_column(String(200))
    quantity_pairs: Mapped[int] = mapped_column(Integer, default=0)  # pairs per order (0: not said)
    price_band: Mapped[str] = mapped_column(String(10), default="")  # a PriceBand or ""
    delivery_from: Mapped[date | None] = mapped_column(Date)
    delivery_until: Mapped[date | None] = mapped_column(Date)
    #: ISO 3166-1 alpha-2 codes of the markets the shoes are sold in (the buyer's own country when empty).
    markets: Mapped[list[str]] = mapped_column(JSON, default=list)
    description: Mapped[str] = mapped_column(Text, default="")
    active: Mapped[bool] = mapped_column(Boolean, default=True)

    category: Mapped[ProductCategory] = relationship()
    buyer: Mapped[Buyer | None] = relationship()
    delegation: Mapped[Delegation | None] = relationship()


class ExhibitorOffer(TimestampMixin, db.Model):
    """What an exhibitor offers to buyers: products of one category, order sizes, capacity, services, markets."""

    __tablename__ = "exhibitor_offers"
    __table_args__ = (Index("ix_exhibitor_offers_expo_category", "expo_id", "category_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    expo_id: Mapped[int] = mapped_column(ForeignKey("expos.id", ondelete="CASCADE"), index=True)
    exhibitor_id: Mapped[int] = mapped_column(ForeignKey("exhibitors.id", ondelete="CASCADE"), index=True)
    category_id: Mapped[int] = mapped_column(ForeignKey("product_categories.id", ondelete="RESTRICT"))
    products: Mapped[str] = mapped_column(String(200))
    min_order_pairs: Mapped[int] = mapped_column(Integer, default=0)
    monthly_capacity_pairs: Mapped[int] = mapped_column(Integer, default=0)
    price_band: Mapped[str] = mapped_column(String(10), default="")
    oem: Mapped[bool] = mapped_column(Boolean, default=False)  # makes to the buyer's design and brand
    odm: Mapped[bool] = mapped_column(Boolean, default=False)  # designs and makes under the buyer's brand
    #: e.g. ["ISO 9001", "BSCI", "CE EN ISO 20345"]
    certifications: Mapped[list[str]] = mapped_column(JSON, default=list)
    #: ISO 3166-1 alpha-2 codes of the markets already served.
    markets: Mapped[list[str]] = mapped_column(JSON, default=list)
    description: Mapped[str] = mapped_column(Text, default="")
    active: Mapped[bool] = mapped_column(Boolean, default=True)

    category: Mapped[ProductCategory] = relationship()
    exhibitor: Mapped[Exhibitor] = relationship()


class DockingSession(TimestampMixin, db.Model):
    """A docking session: a room with numbered tables (1..table_count) for a run of equal slots from ``starts_at``.

    Slot ``k`` (0-based) runs from ``starts_at + k × slot_minutes`` for ``slot_minutes``. ``starts_at`` is local
    venue time (the app's TIMEZONE), as printed on schedules.
    """

    __tablename__ = "docking_sessions"
    __table_args__ = (
        CheckConstraint("table_count > 0 AND slot_count > 0 AND slot_minutes > 0", name="positive"),
        Index("ix_docking_sessions_expo_start", "expo_id", "starts_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    expo_id: Mapped[int] = mapped_column(ForeignKey("expos.id", ondelete="CASCADE"), index=True)
    name_zh: Mapped[str] = mapped_column(String(200))
    name_en: Mapped[str] = mapped_column(String(200))
    room: Mapped[str] = mapped_column(String(100), default="")
    #: The room's checkpoint (kind "room"), where badges are scanned at the door, if there is one.
    checkpoint_id: Mapped[int | None] = mapped_column(ForeignKey("checkpoints.id", ondelete="SET NULL"), index=True)
    #: A themed session (e.g. the Belt and Road pavilion's buyers), for the reports by pavilion.
    pavilion_id: Mapped[int | None] = mapped_column(ForeignKey("pavilions.id", ondelete="SET NULL"), index=True)
    category_id: Mapped[int | None] = mapped_column(ForeignKey("product_categories.id", ondelete="SET NULL"))
    starts_at: Mapped[datetime] = mapped_column(DateTime)
    slot_minutes: Mapped[int] = mapped_column(Integer, default=20)
    slot_count: Mapped[int] = mapped_column(Integer, default=12)
    table_count: Mapped[int] = mapped_column(Integer, default=20)
    #: Published sessions show their meetings on everyone's schedule; drafts only to the organizer.
    published: Mapped[bool] = mapped_column(Boolean, default=False)
    notes: Mapped[str] = mapped_column(Text, default="")

    checkpoint: Mapped[Checkpoint | None] = relationship()
    pavilion: Mapped[Pavilion | None] = relationship()
    category: Mapped[ProductCategory | None] = relationship()

    def display_name(self, locale: str = "en") -> str:
        return self.name_zh if locale.startswith("zh") and self.name_zh else self.name_en


class Meeting(TimestampMixin, db.Model):
    """A meeting between one buyer and one exhibitor: requested, answered, scheduled, and its outcome."""

    __tablename__ = "meetings"
    __table_args__ = (
        UniqueConstraint("expo_id", "buyer_id", "exhibitor_id"),  # one meeting per pair; a declined one reopens
        # No double booking, enforced by the database: NULLs (unscheduled) never collide.
        UniqueConstraint("session_id", "slot", "table_no", name="uq_meetings_table_slot"),
        UniqueConstraint("session_id", "slot", "buyer_id", name="uq_meetings_buyer_slot"),
        UniqueConstraint("session_id", "slot", "exhibitor_id", name="uq_meetings_exhibitor_slot"),
        CheckConstraint("(session_id IS NULL) = (slot IS NULL) AND (slot IS NULL) = (table_no IS NULL)",
                        name="placed_whole"),
        Index("ix_meetings_expo_status", "expo_id", "status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    expo_id: Mapped[int] = mapped_column(ForeignKey("expos.id", ondelete="CASCADE"), index=True)
    buyer_id: Mapped[int] = mapped_column(ForeignKey("buyers.id", ondelete="CASCADE"), index=True)
    exhibitor_id: Mapped[int] = mapped_column(ForeignKey("exhibitors.id", ondelete="CASCADE"), index=True)
    need_id: Mapped[int | None] = mapped_column(ForeignKey("buyer_needs.id", ondelete="SET NULL"))
    offer_id: Mapped[int | None] = mapped_column(ForeignKey("exhibitor_offers.id", ondelete="SET NULL"))
    requested_by: Mapped[str] = mapped_column(String(10))  # a RequestedBy
    requested_by_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    message: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[str] = mapped_column(String(10), default=MeetingStatus.REQUESTED)
    answered_at: Mapped[datetime | None] = mapped_column(DateTime)
    answer_note: Mapped[str] = mapped_column(Text, default="")  # e.g. why declined
    #: The recommendation score when it was requested (0–100), kept for the reports on matchmaking quality.
    score: Mapped[int | None] = mapped_column(Integer)
    session_id: Mapped[int | None] = mapped_column(ForeignKey("docking_sessions.id", ondelete="SET NULL"),
                                                   index=True)
    slot: Mapped[int | None] = mapped_column(Integer)  # 0-based slot of the session
    table_no: Mapped[int | None] = mapped_column(Integer)  # 1..session.table_count
    #: Placed by hand by the organizer: the automatic scheduler keeps it where it is.
    pinned: Mapped[bool] = mapped_column(Boolean, default=False)

    buyer: Mapped[Buyer] = relationship()
    exhibitor: Mapped[Exhibitor] = relationship()
    need: Mapped[BuyerNeed | None] = relationship()
    offer: Mapped[ExhibitorOffer | None] = relationship()
    session: Mapped[DockingSession | None] = relationship()
    requested_by_user: Mapped[User | None] = relationship()
    outcome: Mapped[MeetingOutcome | None] = relationship(back_populates="meeting", uselist=False,
                                                          cascade="all, delete-orphan")

    @property
    def scheduled(self) -> bool:
        return self.session_id is not None


class BusyPeriod(db.Model):
    """A time when a buyer or an exhibitor cannot meet (local venue time): the scheduler keeps meetings out of it."""

    __tablename__ = "busy_periods"
    __table_args__ = (
        CheckConstraint("(buyer_id IS NULL) <> (exhibitor_id IS NULL)", name="one_party"),
        CheckConstraint("ends_at > starts_at", name="ordered"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    expo_id: Mapped[int] = mapped_column(ForeignKey("expos.id", ondelete="CASCADE"), index=True)
    buyer_id: Mapped[int | None] = mapped_column(ForeignKey("buyers.id", ondelete="CASCADE"), index=True)
    exhibitor_id: Mapped[int | None] = mapped_column(ForeignKey("exhibitors.id", ondelete="CASCADE"), index=True)
    starts_at: Mapped[datetime] = mapped_column(DateTime)
    ends_at: Mapped[datetime] = mapped_column(DateTime)
    note: Mapped[str] = mapped_column(String(200), default="")


class MeetingOutcome(TimestampMixin, db.Model):
    """What came of a meeting, recorded by either side or the organizer after it."""

    __tablename__ = "meeting_outcomes"

    id: Mapped[int] = mapped_column(primary_key=True)
    meeting_id: Mapped[int] = mapped_column(ForeignKey("meetings.id", ondelete="CASCADE"), unique=True)
    result: Mapped[str] = mapped_column(String(10))  # an OutcomeResult
    products: Mapped[str] = mapped_column(String(200), default="")
    quantity_pairs: Mapped[int] = mapped_column(BigInteger, default=0)
    value: Mapped[Decimal] = mapped_column(Numeric(16, 2), default=0)
    currency: Mapped[str] = mapped_column(String(3), default="CNY")  # ISO 4217
    #: ``value`` in yuan at the rate of the day it was recorded (what the reports add up).
    value_cny: Mapped[Decimal] = mapped_column(Numeric(16, 2), default=0)
    expected_order_on: Mapped[date | None] = mapped_column(Date)
    notes: Mapped[str] = mapped_column(Text, default="")
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))

    meeting: Mapped[Meeting] = relationship(back_populates="outcome")
    recorded_by: Mapped[User | None] = relationship()
