"""Accounts, roles, login attempts (for throttling) and API tokens."""

from __future__ import annotations

import enum
import hashlib
from datetime import datetime
from typing import TYPE_CHECKING

from flask_login import UserMixin
from sqlalchemy import Boolean, DateTime, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from expo.db import TimestampMixin, utcnow
from expo.extensions import db

if TYPE_CHECKING:
    from expo.exhibitors.models import Exhibitor


class Role(enum.StrEnum):
    ADMIN = "admin"  # organizer admin: everything, including accounts and the taxonomy
    STAFF = "staff"  # organizer back office and front desk
    EXHIBITOR = "exhibitor"  # a company account
    DELEGATION_LEADER = "delegation_leader"
    BUYER = "buyer"
    GATE = "gate"
    PRINT_DESK = "print_desk"

    @property
    def is_organizer(self) -> bool:
        return self in ORGANIZER_ROLES


ORGANIZER_ROLES = frozenset({Role.ADMIN, Role.STAFF})


class User(UserMixin, TimestampMixin, db.Model):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)  # stored lower-case
    name: Mapped[str] = mapped_column(String(200))
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[str] = mapped_column(String(20), index=True)
    locale: Mapped[str | None] = mapped_column(String(10))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    exhibitor_id: Mapped[int | None] = mapped_column(ForeignKey("exhibitors.id", ondelete="CASCADE"), index=True)
    last_login_at: Mapped[datetime | None] = mapped_column(DateTime)

    exhibitor: Mapped[Exhibitor | None] = relationship(back_populates="accounts")

    @property
    def password_fingerprint(self) -> str:
        """A short digest of the current password hash: it changes whenever the password does."""
        return hashlib.sha256(self.password_hash.encode()).hexdigest()[:16]

    def get_id(self) -> str:
        # The session carries the password's fingerprint too, so a password change (a reset after a stolen
        # laptop, say) signs out every other session and remember-me cookie of the account.
        return f"{self.id}:{self.password_fingerprint}"

    @property
    def is_active(self) -> bool:  # Flask-Login refuses inactive accounts
        return self.active

    @property
    def is_organizer(self) -> bool:
        return self.role in ORGANIZER_ROLES

    def __repr__(self) -> str:
        return f"<User {self.email} {self.role}>"


class LoginAttempt(db.Model):
    """One failed login. Counted per account and per address inside a window to throttle guessing."""

    __tablename__ = "login_attempts"
    __table_args__ = (Index("ix_login_attempts_email_at", "email", "at"), Index("ix_login_attempts_ip_at", "ip", "at"))

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254))
    ip: Mapped[str] = mapped_column(String(64))
    at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)


class ApiToken(TimestampMixin, db.Model):
    """A bearer token for integrations. Only its SHA-256 is stored; the token is shown once."""

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    prefix: Mapped[str] = mapped_column(String(12))  # first characters, so a person can tell tokens apart
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime)

    user: Mapped[User] = relationship()
