"""The expo edition and its venue: exhibition areas, themed pavilions, halls, booths and merged stands.

Geometry is in metres in each hall's own frame: x grows to the right (east), y grows down (south), the hall's
north-west corner is (0, 0). Booths are axis-aligned rectangles. Open sides and the booth kind (standard, corner,
peninsula, island) are derived from the geometry by :mod:`expo.venue.geometry`, never typed by hand.
"""

from __future__ import annotations

import enum
from datetime import date, datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    Numeric,
    String,
    Table,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from expo.categories.models import ProductCategory
from expo.db import TimestampMixin
from expo.extensions import db

if TYPE_CHECKING:
    from expo.exhibitors.models import Exhibitor


class BoothStatus(enum.StrEnum):
    AVAILABLE = "available"
    HELD = "held"  # reserved for one exhibitor until hold_expires_at
    ASSIGNED = "assigned"
    BLOCKED = "blocked"  # not for sale: organizer's own use, service, fire exits


class BoothKind(enum.StrEnum):
    STANDARD = "standard"  # one open side (an inline booth)
    CORNER = "corner"  # two open sides that meet
    PENINSULA = "peninsula"  # three open sides: the end of a block
    ISLAND = "island"  # open on all four sides
    RAW = "raw"  # raw space: the exhibitor builds its own stand


#: Booth kinds that cost the corner premium.
PREMIUM_KINDS = frozenset({BoothKind.CORNER, BoothKind.PENINSULA, BoothKind.ISLAND})

pavilion_categories = Table(
    "pavilion_categories",
    db.metadata,
    Column("pavilion_id", ForeignKey("pavilions.id", ondelete="CASCADE"), primary_key=True),
    Column("category_id", ForeignKey("product_categories.id", ondelete="CASCADE"), primary_key=True),
)


class Expo(TimestampMixin, db.Model):
    """One edition of a fair, e.g. the 27th China (Jinjiang) International Footwear Expo."""

    __tablename__ = "expos"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name_zh: Mapped[str] = mapped_column(String(200))
    name_en: Mapped[str] = mapped_column(String(200))
    starts_on: Mapped[date] = mapped_column(Date)
    ends_on: Mapped[date] = mapped_column(Date)
    venue_zh: Mapped[str] = mapped_column(String(200))
    venue_en: Mapped[str] = mapped_column(String(200))
    city_zh: Mapped[str] = mapped_column(String(100))
    city_en: Mapped[str] = mapped_column(String(100))
    area_m2: Mapped[int] = mapped_column(Integer, default=0)
    corner_premium_percent: Mapped[int] = mapped_column(Integer, default=10)
    hold_minutes: Mapped[int] = mapped_column(Integer, default=30)  # how long a hold or a self-selection pick lasts
    self_selection_open: Mapped[bool] = mapped_column(Boolean, default=False)
    #: The automatic allocation's priority rule: points per criterion (expo.allocation.rules.DEFAULT_RULE).
    allocation_rule: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    #: The organizer as it signs visa invitation letters (the letterhead and the signature block).
    organizer_zh: Mapped[str] = mapped_column(String(200), default="")
    organizer_en: Mapped[str] = mapped_column(String(200), default="")
    organizer_address_zh: Mapped[str] = mapped_column(String(300), default="")
    organizer_address_en: Mapped[str] = mapped_column(String(300), default="")
    organizer_phone: Mapped[str] = mapped_column(String(40), default="")
    organizer_email: Mapped[str] = mapped_column(String(254), default="")
    letter_signatory: Mapped[str] = mapped_column(String(200), default="")  # name and title under the signature

    areas: Mapped[list[ExhibitionArea]] = relationship(back_populates="expo", order_by="ExhibitionArea.sort")
    pavilions: Mapped[list[Pavilion]] = relationship(back_populates="expo", order_by="Pavilion.sort")
    halls: Mapped[list[Hall]] = relationship(back_populates="expo", order_by="Hall.code")


class ExhibitionArea(db.Model):
    """A broad product area: sporting goods; shoe materials and textiles; machinery and equipment."""

    __tablename__ = "exhibition_areas"
    __table_args__ = (UniqueConstraint("expo_id", "code"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    expo_id: Mapped[int] = mapped_column(ForeignKey("expos.id", ondelete="CASCADE"), index=True)
    code: Mapped[str] = mapped_column(String(20))
    name_zh: Mapped[str] = mapped_column(String(100))
    name_en: Mapped[str] = mapped_column(String(100))
    sort: Mapped[int] = mapped_column(Integer, default=0)

    expo: Mapped[Expo] = relationship(back_populates="areas")
    pavilions: Mapped[list[Pavilion]] = relationship(back_populates="area", order_by="Pavilion.sort")


class Pavilion(db.Model):
    """A themed pavilion inside an exhibition area, e.g. the Belt and Road brand pavilion."""

    __tablename__ = "pavilions"
    __table_args__ = (UniqueConstraint("expo_id", "code"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    expo_id: Mapped[int] = mapped_column(ForeignKey("expos.id", ondelete="CASCADE"), index=True)
    area_id: Mapped[int | None] = mapped_column(ForeignKey("exhibition_areas.id", ondelete="SET NULL"), index=True)
    code: Mapped[str] = mapped_column(String(20))
    name_zh: Mapped[str] = mapped_column(String(100))
    name_en: Mapped[str] = mapped_column(String(100))
    colour: Mapped[str] = mapped_column(String(7), default="#888888")  # #rrggbb, used on plans and badges
    sort: Mapped[int] = mapped_column(Integer, default=0)

    expo: Mapped[Expo] = relationship(back_populates="pavilions")
    area: Mapped[ExhibitionArea | None] = relationship(back_populates="pavilions")
    categories: Mapped[list[ProductCategory]] = relationship(secondary=pavilion_categories,
                                                             order_by="ProductCategory.sort")


class Hall(db.Model):
    """An exhibition hall: a rectangle of ``width_m`` × ``depth_m`` with entrances in its walls and obstacles
    (columns, stairs, service rooms) inside, placed at (``plan_x_m``, ``plan_y_m``) on the whole-venue plan."""

    __tablename__ = "halls"
    __table_args__ = (UniqueConstraint("expo_id", "code"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    expo_id: Mapped[int] = mapped_column(ForeignKey("expos.id", ondelete="CASCADE"), index=True)
    code: Mapped[str] = mapped_column(String(20))
    name_zh: Mapped[str] = mapped_column(String(100))
    name_en: Mapped[str] = mapped_column(String(100))
    width_m: Mapped[float] = mapped_column(Numeric(8, 2))
    depth_m: Mapped[float] = mapped_column(Numeric(8, 2))
    standard_booth_capacity: Mapped[int] = mapped_column(Integer, default=0)
    plan_x_m: Mapped[float] = mapped_column(Float, default=0)
    plan_y_m: Mapped[float] = mapped_column(Float, default=0)
    #: [{"name": "East gate", "side": "E", "offset_m": 30, "width_m": 8}]: side N/E/S/W, offset along that wall.
    entrances: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    #: [{"label": "column", "x_m": 30, "y_m": 20, "width_m": 1, "depth_m": 1}]: no booth may overlap one.
    obstacles: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)

    expo: Mapped[Expo] = relationship(back_populates="halls")
    booths: Mapped[list[Booth]] = relationship(back_populates="hall", order_by="Booth.number")


class Stand(db.Model):
    """Adjacent booths of one exhibitor merged into one stand (no walls between them), shown as one outline."""

    __tablename__ = "stands"

    id: Mapped[int] = mapped_column(primary_key=True)
    expo_id: Mapped[int] = mapped_column(ForeignKey("expos.id", ondelete="CASCADE"), index=True)
    exhibitor_id: Mapped[int] = mapped_column(ForeignKey("exhibitors.id", ondelete="CASCADE"), index=True)

    booths: Mapped[list[Booth]] = relationship(back_populates="stand", order_by="Booth.number")


class Booth(TimestampMixin, db.Model):
    """A booth: a rectangle in a hall with a number such as "A1-023", a pavilion, a price and a status.

    ``exhibitor_id`` is who has it (status assigned) or for whom it is held (status held, until
    ``hold_expires_at``). Every change of those goes through :mod:`expo.allocation.services`, whose guarded update
    makes sure two people taking the same booth at once cannot both get it.
    """

    __tablename__ = "booths"
    __table_args__ = (
        UniqueConstraint("expo_id", "number"),
        Index("ix_booths_expo_status", "expo_id", "status"),
        Index("ix_booths_hall_position", "hall_id", "y_m", "x_m"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    expo_id: Mapped[int] = mapped_column(ForeignKey("expos.id", ondelete="CASCADE"))
    hall_id: Mapped[int] = mapped_column(ForeignKey("halls.id", ondelete="CASCADE"))
    pavilion_id: Mapped[int | None] = mapped_column(ForeignKey("pavilions.id", ondelete="SET NULL"), index=True)
    number: Mapped[str] = mapped_column(String(20))
    x_m: Mapped[float] = mapped_column(Float)
    y_m: Mapped[float] = mapped_column(Float)
    width_m: Mapped[float] = mapped_column(Float, default=3)
    depth_m: Mapped[float] = mapped_column(Float, default=3)
    raw_space: Mapped[bool] = mapped_column(Boolean, default=False)
    kind: Mapped[str] = mapped_column(String(10), default=BoothKind.STANDARD)  # derived: expo.venue.geometry
    open_sides: Mapped[str] = mapped_column(String(4), default="")  # derived: some of "NESW"
    price_cny: Mapped[int] = mapped_column(Integer, default=0)
    status: Mapped[str] = mapped_column(String(10), default=BoothStatus.AVAILABLE)
    exhibitor_id: Mapped[int | None] = mapped_column(ForeignKey("exhibitors.id", ondelete="SET NULL"), index=True)
    hold_expires_at: Mapped[datetime | None] = mapped_column(DateTime)
    stand_id: Mapped[int | None] = mapped_column(ForeignKey("stands.id", ondelete="SET NULL"), index=True)

    expo: Mapped[Expo] = relationship()
    hall: Mapped[Hall] = relationship(back_populates="booths")
    pavilion: Mapped[Pavilion | None] = relationship()
    exhibitor: Mapped[Exhibitor | None] = relationship()
    stand: Mapped[Stand | None] = relationship(back_populates="booths")

    @property
    def area_m2(self) -> float:
        return round(self.width_m * self.depth_m, 2)

    @property
    def premium(self) -> bool:
        return self.kind in PREMIUM_KINDS

    def __repr__(self) -> str:
        return f"<Booth {self.number} {self.status}>"


class AllocationProposal(TimestampMixin, db.Model):
    """A proposal of the automatic allocation, kept for the organizer to review, then applied or discarded.

    ``result`` holds who gets which booths and why, who is unmet and why, and the rule it was computed with;
    ``basis`` fingerprints the booths' state it was computed on, so applying a stale proposal is refused.
    """

    __tablename__ = "allocation_proposals"

    id: Mapped[int] = mapped_column(primary_key=True)
    expo_id: Mapped[int] = mapped_column(ForeignKey("expos.id", ondelete="CASCADE"), index=True)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    status: Mapped[str] = mapped_column(String(10), default="open")  # open, applied, discarded
    basis: Mapped[str] = mapped_column(String(64))
    result: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
