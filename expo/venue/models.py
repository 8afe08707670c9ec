"""The expo edition and its venue: exhibition areas, themed pavilions and halls."""

from __future__ import annotations

from datetime import date

from sqlalchemy import Date, ForeignKey, Integer, Numeric, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from expo.db import TimestampMixin
from expo.extensions import db


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


class Hall(db.Model):
    """An exhibition hall. Booth geometry inside it arrives with the venue issue; here its size and capacity."""

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

    expo: Mapped[Expo] = relationship(back_populates="halls")
