"""Badges: who may enter (badge types and their access rights), the badges themselves, walk-in and online
visitors, reprints, print jobs, and the expo's signing key.

A badge belongs to one holder: an exhibitor's staff member, a buyer (delegation members are buyers), a visitor
(registered online or at a kiosk; press and contractors are visitors of their own badge type), or an organizer
account. It keeps a copy of what is printed on it (name, native-script name, company, country), so a reprint shows
what the first print showed unless the badge is reissued. The QR code carries a compact signed payload
(:mod:`expo.badges.codes`); ``serial`` counts reissues: a lost badge is revoked and reissued with the next serial,
and the old code no longer verifies against the badge (its serial is behind, and the badge id is on the revocation
list with the old serial).
"""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, DateTime, ForeignKey, Index, Integer, LargeBinary, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, deferred, mapped_column, relationship

from expo.db import TimestampMixin
from expo.extensions import db


class HolderKind(enum.StrEnum):
    EXHIBITOR_STAFF = "exhibitor_staff"
    BUYER = "buyer"
    VISITOR = "visitor"
    ORGANIZER = "organizer"


class BadgeStatus(enum.StrEnum):
    ACTIVE = "active"
    REVOKED = "revoked"


class VisitorKind(enum.StrEnum):
    VISITOR = "visitor"
    PRESS = "press"
    CONTRACTOR = "contractor"


class BadgeType(db.Model):
    """A kind of badge: its colour band, which layout prints it, and where and when it admits its holder.

    ``areas`` lists hall codes (empty: every hall); ``days`` lists ISO dates (empty: every day of the expo).
    """

    __tablename__ = "badge_types"
    __table_args__ = (UniqueConstraint("expo_id", "code"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    expo_id: Mapped[int] = mapped_column(ForeignKey("expos.id", ondelete="CASCADE"), index=True)
    code: Mapped[str] = mapped_column(String(16))  # EXH, BUY, DEL, VIS, PRS, ORG, CON
    name_zh: Mapped[str] = mapped_column(String(100))
    name_en: Mapped[str] = mapped_column(String(100))
    colour: Mapped[str] = mapped_column(String(7), default="#1f6feb")  # the colour band, #rrggbb
    layout: Mapped[str] = mapped_column(String(20), default="a6")  # a preset of expo.badges.layouts.PRESETS
    areas: Mapped[list[str]] = mapped_column(JSON, default=list)
    days: Mapped[list[str]] = mapped_column(JSON, default=list)
    sort: Mapped[int] = mapped_column(Integer, default=0)


class Visitor(TimestampMixin, db.Model):
    """A trade visitor, journalist or contractor, registered online or at a kiosk at the venue."""

    __tablename__ = "visitors"
    __table_args__ = (Index("ix_visitors_expo_name", "expo_id", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    expo_id: Mapped[int] = mapped_column(ForeignKey("expos.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(12), default=VisitorKind.VISITOR)
    name: Mapped[str] = mapped_column(String(200))
    company: Mapped[str] = mapped_column(String(200), default="")
    country: Mapped[str] = mapped_column(String(2), default="CN")
    email: Mapped[str] = mapped_column(String(254), default="")
    phone: Mapped[str] = mapped_column(String(40), default="")
    registered_at_kiosk: Mapped[bool] = mapped_column(Boolean, default=False)


class Badge(TimestampMixin, db.Model):
    """One person's badge at one expo; ``code`` is the signed text in its QR code, ``confirmation`` a short code
    the holder can read out or show at the print desk."""

    __tablename__ = "badges"
    __table_args__ = (
        Index("ix_badges_expo_type", "expo_id", "badge_type_id", "id"),
        Index("ix_badges_expo_name", "expo_id", "name"),
        UniqueConstraint("expo_id", "holder_kind", "holder_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    expo_id: Mapped[int] = mapped_column(ForeignKey("expos.id", ondelete="CASCADE"), index=True)
    badge_type_id: Mapped[int] = mapped_column(ForeignKey("badge_types.id", ondelete="RESTRICT"), index=True)
    holder_kind: Mapped[str] = mapped_column(String(20))
    #: The id of the holder in its table (exhibitor_staff, buyers, visitors, users), by ``holder_kind``.
    holder_id: Mapped[int] = mapped_column(Integer)
    exhibitor_id: Mapped[int | None] = mapped_column(ForeignKey("exhibitors.id", ondelete="CASCADE"), index=True)
    delegation_id: Mapped[int | None] = mapped_column(ForeignKey("delegations.id", ondelete="SET NULL"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    name_native: Mapped[str] = mapped_column(String(200), default="")
    company: Mapped[str] = mapped_column(String(200), default="")
    country: Mapped[str] = mapped_column(String(2), default="")
    phone: Mapped[str] = mapped_column(String(40), default="")
    serial: Mapped[int] = mapped_column(Integer, default=1)  # 1 for the first issue, +1 for every reissue
    code: Mapped[str] = mapped_column(String(160), unique=True)
    #: The QR code's modules for ``code``, one bit each, row by row (computed once when the code is minted: the
    #: mask search is most of the cost of a QR code, and batch printing draws thousands).
    qr_modules: Mapped[bytes | None] = deferred(mapped_column(LargeBinary))
    confirmation: Mapped[str] = mapped_column(String(12), unique=True)
    status: Mapped[str] = mapped_column(String(10), default=BadgeStatus.ACTIVE)
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime)
    revoke_reason: Mapped[str] = mapped_column(String(200), default="")
    print_count: Mapped[int] = mapped_column(Integer, default=0)
    last_printed_at: Mapped[datetime | None] = mapped_column(DateTime)

    badge_type: Mapped[BadgeType] = relationship()


class BadgePrint(db.Model):
    """Every print of a badge: the first, batch prints, and reprints with their reason."""

    __tablename__ = "badge_prints"

    id: Mapped[int] = mapped_column(primary_key=True)
    badge_id: Mapped[int] = mapped_column(ForeignKey("badges.id", ondelete="CASCADE"), index=True)
    at: Mapped[datetime] = mapped_column(DateTime)
    by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    reason: Mapped[str] = mapped_column(String(200), default="")
    job_id: Mapped[int | None] = mapped_column(ForeignKey("print_jobs.id", ondelete="SET NULL"))


class PrintJob(TimestampMixin, db.Model):
    """A batch of badges printed in the background: its selection, progress and, when done, the PDF."""

    __tablename__ = "print_jobs"

    id: Mapped[int] = mapped_column(primary_key=True)
    expo_id: Mapped[int] = mapped_column(ForeignKey("expos.id", ondelete="CASCADE"), index=True)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    title: Mapped[str] = mapped_column(String(200), default="")
    selection: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)  # what to print (see expo.badges.jobs)
    layout: Mapped[str] = mapped_column(String(20), default="")  # "" = each badge type's own layout
    status: Mapped[str] = mapped_column(String(10), default="queued")  # queued, running, done, failed
    total: Mapped[int] = mapped_column(Integer, default=0)
    done: Mapped[int] = mapped_column(Integer, default=0)
    error: Mapped[str] = mapped_column(Text, default="")
    finished_at: Mapped[datetime | None] = mapped_column(DateTime)
    pdf: Mapped[bytes | None] = deferred(mapped_column(LargeBinary))


class SigningKey(db.Model):
    """The expo's Ed25519 key pair for badge codes. Scanners get the public key; the private key stays here,
    encrypted with a key derived from the app's secret key (:mod:`expo.badges.codes`)."""

    __tablename__ = "signing_keys"

    id: Mapped[int] = mapped_column(primary_key=True)
    expo_id: Mapped[int] = mapped_column(ForeignKey("expos.id", ondelete="CASCADE"), index=True)
    public_key: Mapped[bytes] = mapped_column(LargeBinary(32))
    private_key_encrypted: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(DateTime)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
