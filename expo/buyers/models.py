"""Buyers. The foundation keeps who they are and where they come from; the buyers issue adds the rest."""

from __future__ import annotations

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from expo.db import TimestampMixin
from expo.extensions import db


class Buyer(TimestampMixin, db.Model):
    __tablename__ = "buyers"

    id: Mapped[int] = mapped_column(primary_key=True)
    expo_id: Mapped[int] = mapped_column(ForeignKey("expos.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    company: Mapped[str] = mapped_column(String(200), default="")
    country: Mapped[str] = mapped_column(String(2), index=True)
    email: Mapped[str] = mapped_column(String(254), default="")
    job_title: Mapped[str] = mapped_column(String(100), default="")
