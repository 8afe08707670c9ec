"""Buyers, buyer delegations, their passport data and their visa invitation letters.

A buyer is one person who comes to buy: on their own (self-registered or invited by the organizer) or as a member
of a delegation. A delegation member is a buyer whose ``delegation_id`` is set; its leader (a user with the
delegation-leader role, :attr:`Delegation.leader_user_id`) manages the members.

Passport data sits in a table of its own (:class:`Passport`, one row per buyer): it is read only where a visa
letter or the leader's and the organizer's member pages need it, never by lists, searches or exports unless an
organizer admin asks for it, and every read of it is written to the audit log (:mod:`expo.buyers.passports`).
"""

from __future__ import annotations

import enum
from datetime import date, datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import JSON, Boolean, Column, Date, DateTime, ForeignKey, Index, Integer, String, Table, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from expo.categories.models import ProductCategory
from expo.db import TimestampMixin
from expo.extensions import db

if TYPE_CHECKING:
    from expo.auth.models import User


class BuyerStatus(enum.StrEnum):
    INVITED = "invited"  # the organizer sent an invitation link; not yet answered
    REGISTERED = "registered"  # registered (themselves, by the leader, by import or through the invitation)
    CANCELLED = "cancelled"  # will not come


class VolumeBand(enum.StrEnum):
    """Annual purchase volume, in US dollars."""

    UNDER_100K = "under_100k"
    FROM_100K = "100k_1m"
    FROM_1M = "1m_10m"
    FROM_10M = "10m_50m"
    OVER_50M = "over_50m"


class HostedStatus(enum.StrEnum):
    """The hosted-buyer programme: the organizer pays hotel nights and transfers for buyers it approves."""

    NONE = "none"
    APPLIED = "applied"
    APPROVED = "approved"
    DECLINED = "declined"


buyer_categories = Table(
    "buyer_categories",
    db.metadata,
    Column("buyer_id", ForeignKey("buyers.id", ondelete="CASCADE"), primary_key=True),
    Column("category_id", ForeignKey("product_categories.id", ondelete="CASCADE"), primary_key=True),
    # The buyer list's category filter reads a category's buyers from this index alone (it covers buyer_id).
    Index("ix_buyer_categories_category_buyer", "category_id", "buyer_id"),
)

delegation_categories = Table(
    "delegation_categories",
    db.metadata,
    Column("delegation_id", ForeignKey("delegations.id", ondelete="CASCADE"), primary_key=True),
    Column("category_id", ForeignKey("product_categories.id", ondelete="CASCADE"), primary_key=True, index=True),
)


class Buyer(TimestampMixin, db.Model):
    """A buyer: who they are, where they come from, what they want to buy."""

    __tablename__ = "buyers"
    __table_args__ = (
        Index("ix_buyers_expo_country", "expo_id", "country", "id"),
        Index("ix_buyers_expo_name", "expo_id", "name", "id"),
        Index("ix_buyers_expo_company", "expo_id", "company", "id"),
        # The organizer's list searches these columns with ILIKE '%text%': trigram indexes on PostgreSQL
        # (migration 0004), a scan on SQLite.
        *(Index(f"ix_buyers_{column}_trgm", column, postgresql_using="gin",
                postgresql_ops={column: "gin_trgm_ops"}).ddl_if(dialect="postgresql")
          for column in ("name", "name_native", "company", "email")),
        # SQLite only: every column the buyer list filters, searches and sorts by, in name order, so that its
        # statements read this index and never the table (SQLite keeps no statistics and would otherwise walk the
        # name index reading a table row per buyer to test a filter). expo.buyers.queries explains.
        Index("ix_buyers_list", "expo_id", "name", "id", "country", "status", "hosted_status", "delegation_id",
              "purchase_volume", "company", "name_native", "email").ddl_if(dialect="sqlite"),
        # SQLite only: the list filtered by hosted-buyer status (migration 0008), covering the one-pass probe.
        Index("ix_buyers_hosted", "expo_id", "hosted_status", "name", "id", "country", "status").ddl_if(dialect="sqlite"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    expo_id: Mapped[int] = mapped_column(ForeignKey("expos.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"), index=True)
    delegation_id: Mapped[int | None] = mapped_column(ForeignKey("delegations.id", ondelete="SET NULL"), index=True)
    #: The name as in the passport, in Latin letters.
    name: Mapped[str] = mapped_column(String(200))
    #: The name in the buyer's own script (中文, кириллица, العربية, ...), optional.
    name_native: Mapped[str] = mapped_column(String(200), default="")
    company: Mapped[str] = mapped_column(String(200), default="")
    country: Mapped[str] = mapped_column(String(2), index=True)  # ISO 3166-1 alpha-2, country or region
    email: Mapped[str] = mapped_column(String(254), default="")
    phone: Mapped[str] = mapped_column(String(40), default="")
    job_title: Mapped[str] = mapped_column(String(100), default="")
    website: Mapped[str] = mapped_column(String(300), default="")
    purchase_volume: Mapped[str] = mapped_column(String(20), default="")  # a VolumeBand or ""
    products_sought: Mapped[str] = mapped_column(Text, default="")
    #: Exhibitors may see the buyer's contact details (lead retrieval, matchmaking); without it, only the name.
    contact_consent: Mapped[bool] = mapped_column(Boolean, default=False)
    status: Mapped[str] = mapped_column(String(12), default=BuyerStatus.REGISTERED)
    invited_at: Mapped[datetime | None] = mapped_column(DateTime)
    hosted_status: Mapped[str] = mapped_column(String(10), default=HostedStatus.NONE)
    hosted_hotel_nights: Mapped[int] = mapped_column(Integer, default=0)
    hosted_transfers: Mapped[bool] = mapped_column(Boolean, default=False)
    hosted_note: Mapped[str] = mapped_column(Text, default="")
    hosted_decided_at: Mapped[datetime | None] = mapped_column(DateTime)

    categories: Mapped[list[ProductCategory]] = relationship(secondary=buyer_categories,
                                                              order_by="ProductCategory.sort")
    delegation: Mapped[Delegation | None] = relationship(back_populates="members")
    passport: Mapped[Passport | None] = relationship(back_populates="buyer", cascade="all, delete-orphan",
                                                     uselist=False, lazy="raise")
    user: Mapped[User | None] = relationship()

    def display_name(self, locale: str = "en") -> str:
        """The native-script name for Chinese readers when it is given, else the passport name."""
        if locale.startswith("zh") and self.name_native:
            return self.name_native
        return self.name

    def __repr__(self) -> str:
        return f"<Buyer {self.id} {self.name}>"


class Passport(db.Model):
    """A buyer's passport data, for visa invitation letters: kept apart from the buyer, read on purpose only."""

    __tablename__ = "passports"

    buyer_id: Mapped[int] = mapped_column(ForeignKey("buyers.id", ondelete="CASCADE"), primary_key=True)
    number: Mapped[str] = mapped_column(String(20))
    expires_on: Mapped[date | None] = mapped_column(Date)
    nationality: Mapped[str] = mapped_column(String(2))  # ISO 3166-1 alpha-2
    date_of_birth: Mapped[date | None] = mapped_column(Date)

    buyer: Mapped[Buyer] = relationship(back_populates="passport")


class Delegation(TimestampMixin, db.Model):
    """A buyer group from one country, region or association, travelling together under a leader."""

    __tablename__ = "delegations"
    __table_args__ = (Index("ix_delegations_expo_arrival", "expo_id", "arrival_date", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    expo_id: Mapped[int] = mapped_column(ForeignKey("expos.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    country: Mapped[str] = mapped_column(String(2), index=True)
    organization: Mapped[str] = mapped_column(String(200), default="")  # the leading organization or association
    leader_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"), index=True)
    arrival_date: Mapped[date | None] = mapped_column(Date)
    departure_date: Mapped[date | None] = mapped_column(Date)
    arrival_flight: Mapped[str] = mapped_column(String(20), default="")
    departure_flight: Mapped[str] = mapped_column(String(20), default="")
    hotel: Mapped[str] = mapped_column(String(200), default="")
    interpreter_needed: Mapped[bool] = mapped_column(Boolean, default=False)
    interpreter_language: Mapped[str] = mapped_column(String(40), default="")
    notes: Mapped[str] = mapped_column(Text, default="")

    leader: Mapped[User | None] = relationship()
    members: Mapped[list[Buyer]] = relationship(back_populates="delegation", order_by="Buyer.id")
    categories: Mapped[list[ProductCategory]] = relationship(secondary=delegation_categories,
                                                              order_by="ProductCategory.sort")

    def __repr__(self) -> str:
        return f"<Delegation {self.id} {self.name}>"


class InvitationLetter(db.Model):
    """A visa invitation letter as issued: its public reference and what it said, so that anyone can check it.

    ``holders`` keeps the letter's people as they were printed (name, native name, nationality, date of birth,
    passport number and expiry); the public verification page shows the names, the nationality and the last four
    characters of each passport number only.
    """

    __tablename__ = "invitation_letters"

    id: Mapped[int] = mapped_column(primary_key=True)
    expo_id: Mapped[int] = mapped_column(ForeignKey("expos.id", ondelete="CASCADE"), index=True)
    reference: Mapped[str] = mapped_column(String(24), unique=True)
    # SET NULL: a letter outlives its buyer or delegation (revoked), so its reference still verifies truthfully.
    buyer_id: Mapped[int | None] = mapped_column(ForeignKey("buyers.id", ondelete="SET NULL"), index=True)
    delegation_id: Mapped[int | None] = mapped_column(ForeignKey("delegations.id", ondelete="SET NULL"), index=True)
    issued_at: Mapped[datetime] = mapped_column(DateTime)
    issued_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    holders: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime)

    buyer: Mapped[Buyer | None] = relationship()
    delegation: Mapped[Delegation | None] = relationship()
