"""Accounts: passwords, throttled sign-in, password reset by e-mailed token, API tokens."""

from __future__ import annotations

import functools
import hashlib
import secrets
from datetime import timedelta

from flask import current_app
from flask_babel import force_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from sqlalchemy import bindparam, delete, func, or_, select
from werkzeug.security import check_password_hash, generate_password_hash

from expo import audit, mail
from expo.auth.models import ApiToken, LoginAttempt, Role, User
from expo.db import utcnow
from expo.errors import ExpoError
from expo.extensions import db

MIN_PASSWORD_LENGTH = 8


class AuthError(ExpoError):
    status = 401
    code = "bad_credentials"


class LoginThrottled(AuthError):
    status = 429
    code = "throttled"


def hash_password(password: str) -> str:
    return generate_password_hash(password, method=current_app.config["PASSWORD_HASH_METHOD"])


def normalize_email(email: str) -> str:
    return email.strip().lower()


def create_user(email: str, password: str, name: str, role: Role | str, *, exhibitor_id: int | None = None,
                locale: str | None = None, password_hash: str | None = None) -> User:
    """Create an account. ``password_hash`` lets bulk loaders reuse one hash (it is slow on purpose)."""
    email = normalize_email(email)
    if db.session.scalar(select(User.id).where(User.email == email)) is not None:
        raise ExpoError(_l("An account with this e-mail address already exists."), code="email_taken", field="email")
    if password_hash is None:
        check_password_strength(password)
    user = User(email=email, name=name, role=str(Role(role)), exhibitor_id=exhibitor_id, locale=locale,
                password_hash=password_hash or hash_password(password))
    db.session.add(user)
    db.session.flush()
    return user


def check_password_strength(password: str) -> None:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise ExpoError(_l("The password needs at least %(n)d characters.", n=MIN_PASSWORD_LENGTH),
                        code="weak_password", field="password")


def authenticate(email: str, password: str, ip: str) -> User:
    """Return the account for ``email`` if ``password`` fits and it is not throttled.

    Failures are recorded (the caller commits them even though sign-in failed). Too many recent failures for
    the account or from the address raise :class:`LoginThrottled` before the password is even checked, so
    guessing costs the attacker time, not us CPU.
    """
    cfg = current_app.config
    email = normalize_email(email)
    since = utcnow() - timedelta(seconds=int(cfg["LOGIN_THROTTLE_WINDOW_SECONDS"]))
    by_email, by_ip = db.session.execute(
        select(
            func.count().filter(LoginAttempt.email == email),
            func.count().filter(LoginAttempt.ip == ip),
        ).where(LoginAttempt.at >= since, or_(LoginAttempt.email == email, LoginAttempt.ip == ip))
    ).one()
    if by_email >= int(cfg["LOGIN_MAX_FAILURES_PER_ACCOUNT"]) or by_ip >= int(cfg["LOGIN_MAX_FAILURES_PER_IP"]):
        raise LoginThrottled(_l("Too many failed sign-ins. Please wait a few minutes and try again."))
    user = db.session.scalar(select(User).where(User.email == email))
    # An unknown address costs the same hashing as a known one, so response times do not tell which exist.
    password_ok = check_password_hash(user.password_hash if user is not None else _dummy_hash(), password)
    if user is None or not user.active or not password_ok:
        db.session.add(LoginAttempt(email=email, ip=ip))
        raise AuthError(_l("E-mail address or password is wrong."))
    db.session.execute(delete(LoginAttempt).where(LoginAttempt.email == email))
    user.last_login_at = utcnow()
    return user


@functools.cache
def _dummy_hash_for(method: str) -> str:
    return generate_password_hash(secrets.token_hex(16), method=method)


def _dummy_hash() -> str:
    return _dummy_hash_for(current_app.config["PASSWORD_HASH_METHOD"])


def user_for_session(session_id: str) -> User | None:
    """The active account a session or remember-me cookie names, if its password has not changed since."""
    user_id, _sep, fingerprint = session_id.partition(":")
    user = db.session.get(User, int(user_id)) if user_id.isdigit() and len(user_id) < 10 else None
    if user is None or not user.active or fingerprint != user.password_fingerprint:
        return None
    return user


def _reset_serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt="expo-password-reset")


def request_password_reset(email: str, reset_url_for: callable) -> None:
    """E-mail a reset link if the account exists. Says nothing either way, so accounts cannot be probed."""
    user = db.session.scalar(select(User).where(User.email == normalize_email(email), User.active.is_(True)))
    if user is None:
        return
    token = _reset_serializer().dumps({"uid": user.id, "fp": user.password_fingerprint})
    minutes = int(current_app.config["PASSWORD_RESET_MAX_AGE_SECONDS"]) // 60
    with force_locale(user.locale or "en"):
        mail.queue(
            user.email,
            _("Reset your expo password"),
            _("Hello %(name)s,\n\nopen this link to choose a new password (valid for %(minutes)d minutes):\n%(url)s\n\n"
              "If you did not ask for it, ignore this message.", name=user.name, minutes=minutes,
              url=reset_url_for(token)),
            exhibitor_id=user.exhibitor_id,
        )


def user_for_reset_token(token: str) -> User:
    """The account an e-mailed reset token is for, or an error saying why the link no longer works."""
    try:
        data = _reset_serializer().loads(token, max_age=int(current_app.config["PASSWORD_RESET_MAX_AGE_SECONDS"]))
    except SignatureExpired as exc:
        raise ExpoError(_l("This reset link has expired. Ask for a new one."), code="token_expired") from exc
    except BadSignature as exc:
        raise ExpoError(_l("This reset link is not valid."), code="token_invalid") from exc
    user = db.session.get(User, data.get("uid")) if isinstance(data, dict) else None
    if user is None or data.get("fp") != user.password_fingerprint:
        raise ExpoError(_l("This reset link has already been used."), code="token_used")
    return user


def reset_password(token: str, new_password: str) -> User:
    """Set a new password from an e-mailed token; the token is single-use and expires."""
    user = user_for_reset_token(token)
    check_password_strength(new_password)
    user.password_hash = hash_password(new_password)
    db.session.execute(delete(LoginAttempt).where(LoginAttempt.email == user.email))
    audit.record(user, "password_reset", user, exhibitor_id=user.exhibitor_id)
    return user


def create_api_token(user: User, name: str) -> tuple[ApiToken, str]:
    """Create a token for ``user``; returns the row and the secret, which is never shown again."""
    secret = "expo_" + secrets.token_urlsafe(32)
    token = ApiToken(user_id=user.id, name=name.strip() or "token", prefix=secret[:12],
                     token_hash=hashlib.sha256(secret.encode()).hexdigest())
    db.session.add(token)
    db.session.flush()
    audit.record(user, "api_token_created", token, exhibitor_id=user.exhibitor_id, name=token.name)
    return token, secret


def user_for_api_token(secret: str) -> User | None:
    """The active account behind a bearer token that is not revoked. One query (the token's account joined): it
    runs for every API call, the gate's scans included."""
    return db.session.scalar(_USER_FOR_TOKEN, {"token_hash": hashlib.sha256(secret.encode()).hexdigest()})


#: Built once with a bound parameter: building the statement anew costs more than running it.
_USER_FOR_TOKEN = (select(User).join(ApiToken, ApiToken.user_id == User.id)
                   .where(ApiToken.token_hash == bindparam("token_hash"), ApiToken.revoked_at.is_(None),
                          User.active.is_(True)))


def revoke_api_token(user: User, token_id: int) -> None:
    token = db.session.get(ApiToken, token_id)
    if token is None or token.user_id != user.id:
        raise ExpoError(_l("No such token."), code="not_found", status=404)
    token.revoked_at = utcnow()
    audit.record(user, "api_token_revoked", token, exhibitor_id=user.exhibitor_id)


def tokens_of(user: User) -> list[ApiToken]:
    return list(db.session.scalars(select(ApiToken).where(ApiToken.user_id == user.id).order_by(ApiToken.id.desc())))
