"""Gate check-in: checkpoints and their rules, every scan, who is inside where, and exhibitors' leads.

A checkpoint guards a *zone*: the venue (its entrances), a hall, or a docking-session room. Presence is kept per
badge and zone (:class:`Presence`): entering flips ``inside`` from false to true in one guarded UPDATE, so of two
gates scanning the same badge at the same moment exactly one admits and the other answers "already inside".
Every scan is kept (:class:`Scan`) with the scanner's nonce, unique: a retried or re-uploaded scan finds its first
answer instead of counting twice.
"""

from __future__ import annotations

import enum
from datetime import datetime, time

from sqlalchemy import JSON, Boolean, DateTime, ForeignKey, Index, Integer, String, Text, Time, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from expo.db import TimestampMixin
from expo.extensions import db


class CheckpointKind(enum.StrEnum):
    ENTRANCE = "entrance"  # a gate of the venue: zone "venue"
    HALL = "hall"  # the door of a hall: zone "hall:<code>"
    ROOM = "room"  # a docking-session room: zone "room:<code>"


class Direction(enum.StrEnum):
    IN = "in"
    OUT = "out"


class ScanResult(enum.StrEnum):
    ADMITTED = "admitted"
    EXITED = "exited"
    REFUSED = "refused"


class RefusalReason(enum.StrEnum):
    MALFORMED = "malformed"  # not a badge code at all
    BAD_SIGNATURE = "bad_signature"  # forged or damaged
    UNKNOWN_KEY = "unknown_key"
    UNKNOWN_BADGE = "unknown_badge"
    REVOKED = "revoked"  # revoked, or an older code of a reissued badge
    WRONG_DAY = "wrong_day"
    NOT_ADMITTED_HERE = "not_admitted_here"
    ALREADY_INSIDE = "already_inside"
    NOT_INSIDE = "not_inside"  # an exit scan of someone who never came in
    NO_REENTRY = "no_reentry"
    CLOSED = "closed"  # the checkpoint is inactive


class Checkpoint(TimestampMixin, db.Model):
    """A place where badges are scanned, with its rules.

    ``badge_type_ids``: the badge types it admits (empty: every type whose own halls include its zone).
    ``days``: ISO dates it is open (empty: every day the badge type admits). ``mode``: "entry" (scans are entries)
    or "entry_exit" (the scanner says which). ``reentry``: may someone who left come back in the same day.
    ``auto_checkout_at``: at this time of day everyone still inside its zone is checked out.
    """

    __tablename__ = "checkpoints"
    __table_args__ = (UniqueConstraint("expo_id", "code"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    expo_id: Mapped[int] = mapped_column(ForeignKey("expos.id", ondelete="CASCADE"), index=True)
    code: Mapped[str] = mapped_column(String(20))
    name_zh: Mapped[str] = mapped_column(String(100))
    name_en: Mapped[str] = mapped_column(String(100))
    kind: Mapped[str] = mapped_column(String(10), default=CheckpointKind.ENTRANCE)
    hall_code: Mapped[str] = mapped_column(String(20), default="")  # the hall (kind hall) or room code (kind room)
    badge_type_ids: Mapped[list[int]] = mapped_column(JSON, default=list)
    days: Mapped[list[str]] = mapped_column(JSON, default=list)
    mode: Mapped[str] = mapped_column(String(12), default="entry_exit")
    reentry: Mapped[bool] = mapped_column(Boolean, default=True)
    auto_checkout_at: Mapped[time | None] = mapped_column(Time)
    active: Mapped[bool] = mapped_column(Boolean, default=True)

    @property
    def zone(self) -> str:
        if self.kind == CheckpointKind.ENTRANCE:
            return "venue"
        return f"{self.kind}:{self.hall_code}"


class Scan(db.Model):
    """One scan at one checkpoint and its answer; ``nonce`` is the scanner's id for it (unique per device)."""

    __tablename__ = "scans"
    __table_args__ = (
        UniqueConstraint("device_id", "nonce"),
        Index("ix_scans_expo_at", "expo_id", "scanned_at"),
        Index("ix_scans_checkpoint_at", "checkpoint_id", "scanned_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    expo_id: Mapped[int] = mapped_column(ForeignKey("expos.id", ondelete="CASCADE"))
    checkpoint_id: Mapped[int] = mapped_column(ForeignKey("checkpoints.id", ondelete="CASCADE"))
    badge_id: Mapped[int | None] = mapped_column(ForeignKey("badges.id", ondelete="SET NULL"), index=True)
    device_id: Mapped[str] = mapped_column(String(64))
    nonce: Mapped[str] = mapped_column(String(64))
    direction: Mapped[str] = mapped_column(String(3), default=Direction.IN)
    result: Mapped[str] = mapped_column(String(10))
    reason: Mapped[str] = mapped_column(String(20), default="")
    code_prefix: Mapped[str] = mapped_column(String(24), default="")  # the first characters, for the log
    scanned_at: Mapped[datetime] = mapped_column(DateTime)  # on the scanner (offline scans upload later)
    received_at: Mapped[datetime] = mapped_column(DateTime)
    offline: Mapped[bool] = mapped_column(Boolean, default=False)
    by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))

    checkpoint: Mapped[Checkpoint] = relationship()


class Presence(db.Model):
    """Whether a badge's holder is inside a zone now, and since when; the row of the race guard."""

    __tablename__ = "presences"

    badge_id: Mapped[int] = mapped_column(ForeignKey("badges.id", ondelete="CASCADE"), primary_key=True)
    zone: Mapped[str] = mapped_column(String(40), primary_key=True)
    inside: Mapped[bool] = mapped_column(Boolean, default=False)
    since: Mapped[datetime | None] = mapped_column(DateTime)
    last_entry_day: Mapped[str] = mapped_column(String(10), default="")  # ISO date of the last entry
    exited_on: Mapped[str] = mapped_column(String(10), default="")  # ISO date of the last exit (re-entry rule)


class Lead(TimestampMixin, db.Model):
    """A buyer an exhibitor's staff scanned at the booth, with their notes, rating and tags."""

    __tablename__ = "leads"
    __table_args__ = (UniqueConstraint("exhibitor_id", "badge_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    expo_id: Mapped[int] = mapped_column(ForeignKey("expos.id", ondelete="CASCADE"), index=True)
    exhibitor_id: Mapped[int] = mapped_column(ForeignKey("exhibitors.id", ondelete="CASCADE"), index=True)
    badge_id: Mapped[int] = mapped_column(ForeignKey("badges.id", ondelete="CASCADE"), index=True)
    scanned_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    notes: Mapped[str] = mapped_column(Text, default="")
    rating: Mapped[int] = mapped_column(Integer, default=0)  # 0 = none, 1–5
    tags: Mapped[list[str]] = mapped_column(JSON, default=list)
