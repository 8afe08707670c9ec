"""Outgoing mail. Every message is first written to the outbox table, in the same transaction as the change
that caused it; after the commit it goes out through SMTP when ``EXPO_MAIL_SERVER`` is set. Messages that fail
stay in the outbox and ``flask mail send`` retries them.
"""

from __future__ import annotations

import smtplib
from datetime import datetime
from email.message import EmailMessage

from flask import current_app
from sqlalchemy import DateTime, ForeignKey, Integer, String, Text, event, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from expo.db import utcnow
from expo.extensions import db


class OutboxMail(db.Model):
    __tablename__ = "outbox_mail"

    id: Mapped[int] = mapped_column(primary_key=True)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, index=True)
    recipient: Mapped[str] = mapped_column(String(254), index=True)
    subject: Mapped[str] = mapped_column(String(300))
    body: Mapped[str] = mapped_column(Text)
    # The exhibitor a message concerns, so its dashboard can list what it was told.
    exhibitor_id: Mapped[int | None] = mapped_column(ForeignKey("exhibitors.id", ondelete="CASCADE"), index=True)
    sent_at: Mapped[datetime | None] = mapped_column(DateTime)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str] = mapped_column(Text, default="")


def queue(recipient: str, subject: str, body: str, *, exhibitor_id: int | None = None) -> OutboxMail:
    """Put a message in the outbox; it is sent after the surrounding transaction commits."""
    mail = OutboxMail(recipient=recipient, subject=subject, body=body, exhibitor_id=exhibitor_id)
    db.session.add(mail)
    db.session.info.setdefault("expo_mail_queued", []).append(mail)
    return mail


@event.listens_for(Session, "after_commit")
def _deliver_after_commit(session: Session) -> None:
    queued = session.info.pop("expo_mail_queued", None)
    if queued and current_app and current_app.config.get("MAIL_SERVER"):
        # Deliver in a fresh session: this one is finishing its commit.
        with Session(db.engine) as fresh:
            ids = [m.id for m in queued if m.id is not None]
            deliver(fresh, fresh.scalars(select(OutboxMail).where(OutboxMail.id.in_(ids))).all())
            fresh.commit()


@event.listens_for(Session, "after_rollback")
def _forget_after_rollback(session: Session) -> None:
    session.info.pop("expo_mail_queued", None)


def deliver(session: Session, mails: list[OutboxMail]) -> int:
    """Send ``mails`` through the configured SMTP server; returns how many went out."""
    cfg = current_app.config
    if not cfg.get("MAIL_SERVER") or not mails:
        return 0
    sent = 0
    try:
        smtp = smtplib.SMTP(cfg["MAIL_SERVER"], int(cfg["MAIL_PORT"]), timeout=10)
    except OSError as exc:
        for mail in mails:
            mail.attempts += 1
            mail.last_error = str(exc)
        return 0
    with smtp:
        if cfg.get("MAIL_USE_TLS"):
            smtp.starttls()
        if cfg.get("MAIL_USERNAME"):
            smtp.login(cfg["MAIL_USERNAME"], cfg["MAIL_PASSWORD"])
        for mail in mails:
            msg = EmailMessage()
            msg["From"] = cfg["MAIL_SENDER"]
            msg["To"] = mail.recipient
            msg["Subject"] = mail.subject
            msg.set_content(mail.body)
            mail.attempts += 1
            try:
                smtp.send_message(msg)
            except smtplib.SMTPException as exc:
                mail.last_error = str(exc)
                continue
            mail.sent_at = utcnow()
            mail.last_error = ""
            sent += 1
    return sent


def pending() -> list[OutboxMail]:
    return list(db.session.scalars(select(OutboxMail).where(OutboxMail.sent_at.is_(None)).order_by(OutboxMail.id)))
