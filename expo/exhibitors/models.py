"""Exhibitors (companies), their space applications and their staff."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import DDL, DateTime, ForeignKey, Index, Integer, LargeBinary, String, Text, UniqueConstraint, event
from sqlalchemy.orm import Mapped, deferred, mapped_column, relationship

from expo.categories.models import ProductCategory, exhibitor_categories
from expo.db import TimestampMixin
from expo.extensions import db

if TYPE_CHECKING:
    from expo.auth.models import User
    from expo.venue.models import ExhibitionArea, Expo, Pavilion


class ApplicationStatus(enum.StrEnum):
    DRAFT = "draft"
    SUBMITTED = "submitted"
    APPROVED = "approved"
    WAITLISTED = "waitlisted"
    REJECTED = "rejected"
    WITHDRAWN = "withdrawn"


class SpaceKind(enum.StrEnum):
    STANDARD = "standard"  # standard 3×3 m shell-scheme booths, counted
    RAW = "raw"  # raw space in m², the exhibitor builds its own stand


class PaymentStatus(enum.StrEnum):
    UNPAID = "unpaid"
    INVOICED = "invoiced"
    PARTIAL = "partial"
    PAID = "paid"


class CornerPreference(enum.StrEnum):
    NONE = "none"
    PREFER = "prefer"
    REQUIRE = "require"


#: The exhibitor columns the review queue's text search looks in.
SEARCHED_COLUMNS = ("name_zh", "name_en", "contact_email", "city")


class Exhibitor(TimestampMixin, db.Model):
    """A company that exhibits. Its legal name may be given in Chinese, in English, or both."""

    __tablename__ = "exhibitors"
    #: The review queue's search (ILIKE '%text%' on these columns) through trigram indexes on PostgreSQL (pg_trgm,
    #: migration 0002). SQLite has no such index; it scans, which is fast enough at its size.
    __table_args__ = tuple(
        Index(f"ix_exhibitors_{column}_trgm", column, postgresql_using="gin",
              postgresql_ops={column: "gin_trgm_ops"}).ddl_if(dialect="postgresql")
        for column in SEARCHED_COLUMNS
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    name_zh: Mapped[str | None] = mapped_column(String(200), index=True)
    name_en: Mapped[str | None] = mapped_column(String(200), index=True)
    country: Mapped[str] = mapped_column(String(2), index=True)  # ISO 3166-1 alpha-2, country or region
    province: Mapped[str] = mapped_column(String(100), default="")
    city: Mapped[str] = mapped_column(String(100), default="")
    address: Mapped[str] = mapped_column(String(300), default="")
    website: Mapped[str] = mapped_column(String(300), default="")
    contact_name: Mapped[str] = mapped_column(String(100))
    contact_phone: Mapped[str] = mapped_column(String(40))
    contact_email: Mapped[str] = mapped_column(String(254))
    description: Mapped[str] = mapped_column(Text, default="")
    logo_png: Mapped[bytes | None] = deferred(mapped_column(LargeBinary))
    logo_updated_at: Mapped[datetime | None] = mapped_column(DateTime)

    categories: Mapped[list[ProductCategory]] = relationship(secondary=exhibitor_categories, order_by="ProductCategory.sort")
    applications: Mapped[list[SpaceApplication]] = relationship(back_populates="exhibitor", cascade="all, delete-orphan")
    staff: Mapped[list[ExhibitorStaff]] = relationship(
        back_populates="exhibitor", cascade="all, delete-orphan", order_by="ExhibitorStaff.id"
    )
    accounts: Mapped[list[User]] = relationship(back_populates="exhibitor")

    def display_name(self, locale: str = "en") -> str:
        """The name in the reader's language, falling back to the other one."""
        first, second = (self.name_zh, self.name_en) if locale.startswith("zh") else (self.name_en, self.name_zh)
        return first or second or ""

    def __repr__(self) -> str:
        return f"<Exhibitor {self.id} {self.name_en or self.name_zh}>"


# The trigram indexes need the extension; migration 0002 creates it too (metadata.create_all is for scratch schemas).
event.listen(Exhibitor.__table__, "before_create",
             DDL("CREATE EXTENSION IF NOT EXISTS pg_trgm").execute_if(dialect="postgresql"))


class SpaceApplication(TimestampMixin, db.Model):
    """An exhibitor's application for space at one expo edition."""

    __tablename__ = "space_applications"
    __table_args__ = (
        UniqueConstraint("expo_id", "exhibitor_id"),
        Index("ix_space_applications_queue", "expo_id", "status", "submitted_at"),
        Index("ix_space_applications_submitted", "expo_id", "submitted_at"),
        # The review queue's other sorts, in its order (the id breaks ties): a deep page walks the index instead of
        # sorting every application of the expo (migration 0002).
        Index("ix_space_applications_by_status", "expo_id", "status", "id"),
        Index("ix_space_applications_by_booths", "expo_id", "booths_requested", "id"),
        Index("ix_space_applications_by_years", "expo_id", "years_exhibited", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    expo_id: Mapped[int] = mapped_column(ForeignKey("expos.id", ondelete="CASCADE"))
    exhibitor_id: Mapped[int] = mapped_column(ForeignKey("exhibitors.id", ondelete="CASCADE"), index=True)
    status: Mapped[str] = mapped_column(String(20), default=ApplicationStatus.DRAFT)
    space_kind: Mapped[str] = mapped_column(String(10), default=SpaceKind.STANDARD)
    booths_requested: Mapped[int] = mapped_column(Integer, default=1)
    raw_space_m2: Mapped[int] = mapped_column(Integer, default=0)
    preferred_area_id: Mapped[int | None] = mapped_column(
        ForeignKey("exhibition_areas.id", ondelete="SET NULL"), index=True
    )
    preferred_pavilion_id: Mapped[int | None] = mapped_column(ForeignKey("pavilions.id", ondelete="SET NULL"), index=True)
    corner_preference: Mapped[str] = mapped_column(String(10), default=CornerPreference.NONE)
    years_exhibited: Mapped[int] = mapped_column(Integer, default=0)
    competitors: Mapped[str] = mapped_column(Text, default="")  # one company name per line
    notes: Mapped[str] = mapped_column(Text, default="")
    submitted_at: Mapped[datetime | None] = mapped_column(DateTime)
    decided_at: Mapped[datetime | None] = mapped_column(DateTime)
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    decision_reason: Mapped[str] = mapped_column(Text, default="")
    payment_status: Mapped[str] = mapped_column(String(10), default=PaymentStatus.UNPAID)
    paid_at: Mapped[datetime | None] = mapped_column(DateTime)
    #: Organizer's bonus points in the automatic allocation (a strategic brand, a sponsor).
    priority_bonus: Mapped[int] = mapped_column(Integer, default=0)

    expo: Mapped[Expo] = relationship()
    exhibitor: Mapped[Exhibitor] = relationship(back_populates="applications")
    preferred_area: Mapped[ExhibitionArea | None] = relationship()
    preferred_pavilion: Mapped[Pavilion | None] = relationship()

    @property
    def competitor_list(self) -> list[str]:
        return [line.strip() for line in self.competitors.splitlines() if line.strip()]


class ExhibitorStaff(TimestampMixin, db.Model):
    """A person the exhibitor brings to the fair; the badges issue prints their badges."""

    __tablename__ = "exhibitor_staff"

    id: Mapped[int] = mapped_column(primary_key=True)
    exhibitor_id: Mapped[int] = mapped_column(ForeignKey("exhibitors.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    title: Mapped[str] = mapped_column(String(100), default="")
    phone: Mapped[str] = mapped_column(String(40), default="")
    email: Mapped[str] = mapped_column(String(254), default="")
    id_number: Mapped[str] = mapped_column(String(40), default="")  # ID card or passport, optional

    exhibitor: Mapped[Exhibitor] = relationship(back_populates="staff")
