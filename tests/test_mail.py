"""Mail goes to the outbox in the same transaction as the change, then out through a real SMTP server when one is
configured; failures stay in the outbox and `flask mail send` retries them."""

from __future__ import annotations

import socket

import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import select

from expo.extensions import db
from expo.mail import OutboxMail


class Inbox:
    def __init__(self):
        self.messages = []

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd's hook name
        self.messages.append((envelope.rcpt_tos, envelope.content.decode("utf-8", "replace")))
        return "250 OK"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def smtp(app):
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=free_port())
    controller.start()
    app.config.update(MAIL_SERVER="127.0.0.1", MAIL_PORT=controller.port)
    yield inbox
    app.config.update(MAIL_SERVER="", MAIL_PORT=25)
    controller.stop()


def outbox(app):
    with app.app_context():
        return [(m.recipient, m.subject, m.sent_at, m.attempts) for m in db.session.scalars(select(OutboxMail))]


def test_without_smtp_mail_stays_in_the_outbox(app, client):
    client.post("/password/forgot", data={"email": "staff@expo.test"})
    [(recipient, subject, sent_at, attempts)] = outbox(app)
    assert recipient == "staff@expo.test" and "password" in subject.lower()
    assert sent_at is None and attempts == 0


def test_with_smtp_the_reset_mail_is_delivered(app, client, smtp):
    r = client.post("/password/forgot", data={"email": "staff@expo.test"})
    assert r.status_code == 302
    assert len(smtp.messages) == 1
    rcpt, content = smtp.messages[0]
    assert rcpt == ["staff@expo.test"]
    assert "/password/reset/" in content
    [(_r, _s, sent_at, attempts)] = outbox(app)
    assert sent_at is not None and attempts == 1


def test_failed_delivery_is_kept_and_retried_by_the_cli(app, client, runner):
    app.config.update(MAIL_SERVER="127.0.0.1", MAIL_PORT=free_port())  # nothing listens there
    try:
        client.post("/password/forgot", data={"email": "staff@expo.test"})
        [(_r, _s, sent_at, attempts)] = outbox(app)
        assert sent_at is None and attempts == 1
        inbox = Inbox()
        controller = Controller(inbox, hostname="127.0.0.1", port=free_port())
        controller.start()
        try:
            app.config["MAIL_PORT"] = controller.port
            result = runner.invoke(args=["mail", "send"])
            assert result.exit_code == 0, result.output
            assert "1 of 1 messages sent" in result.output
            assert len(inbox.messages) == 1
        finally:
            controller.stop()
        [(_r, _s, sent_at, attempts)] = outbox(app)
        assert sent_at is not None and attempts == 2
    finally:
        app.config.update(MAIL_SERVER="", MAIL_PORT=25)


def test_mail_of_a_rolled_back_change_is_never_sent(app, smtp):
    from expo import mail

    with app.app_context():
        mail.queue("someone@example.com", "subject", "body")
        db.session.rollback()
        db.session.commit()
        assert db.session.scalars(select(OutboxMail)).all() == []
    assert smtp.messages == []
