"""The gate's hot path: ``POST /api/v1/gate/scans`` from a scanner with a bearer token, answered without Flask's
request machinery, on PostgreSQL.

On top of a scan's own work, a request through Flask costs the request context, Flask-Login's loaders (the token's
account loaded as an ORM object), the CSRF and access hooks, Flask-Babel's locale selection, the response hooks
and a session's transaction (BEGIN and COMMIT round trips): more CPU than the scan itself (bench/README.md, "Gate
scans"). This WSGI middleware answers the scans a scanner app or the scanner page sends with a token in two
statements on a pooled connection in autocommit: one read of everything the scan needs in one row (the token's
account, the checkpoint's rules, the badge the code names), then :func:`expo.checkin.services.scan`'s one write.
The role is checked against the same audience as the route (:data:`expo.checkin.api.SCANNERS`), the body by the
route's own validators, and the answer is the route's (:func:`expo.checkin.api.answer_json`), with the same
security headers.

It only ever answers what the app would answer with a 200. Everything else goes on to the Flask app untouched (the
body handed back): another path or method, no bearer token, a request with cookies (a browser: its session may
choose the language), a token that is unknown, revoked or not a scanner's, a body that is not a valid scan, an
unknown checkpoint or one of another expo, any error. The app then answers as it always did, with its error
messages and status codes. On SQLite (one desk, writers serialized) every scan goes to the app. ``GATE_FAST_PATH =
False`` in the settings turns the middleware off (the tests run the gate API both ways).
"""

from __future__ import annotations

import hashlib
import io
import json
from dataclasses import dataclass
from typing import Any

import psycopg
from flask import Flask
from werkzeug.datastructures import LanguageAccept
from werkzeug.http import parse_accept_header

from expo import SECURITY_HEADERS
from expo.badges import codes
from expo.errors import ExpoError
from expo.extensions import db

SCAN_PATH = "/api/v1/gate/scans"
#: A scan's body is a few hundred bytes; a larger one goes to the app, which reads it with its own limits.
MAX_BODY = 16 * 1024


@dataclass(frozen=True)
class Scanner:
    """The account behind the token, as much as a scan needs (the service records ``id`` on the scan)."""

    id: int
    role: str
    locale: str | None
    is_authenticated: bool = True


class ScanFastPath:
    """WSGI middleware in front of ``flask_app``'s own WSGI app (see the module's docstring)."""

    def __init__(self, wsgi_app, flask_app: Flask):
        self.wsgi_app = wsgi_app
        self.flask_app = flask_app

    def __call__(self, environ: dict, start_response):
        if (environ.get("PATH_INFO") != SCAN_PATH or environ.get("REQUEST_METHOD") != "POST"
                or not self.flask_app.config.get("GATE_FAST_PATH", True)
                or not self.flask_app.config["SQLALCHEMY_DATABASE_URI"].startswith("postgresql")):
            return self.wsgi_app(environ, start_response)
        authorization = environ.get("HTTP_AUTHORIZATION", "")
        length = environ.get("CONTENT_LENGTH") or ""
        if (not authorization.startswith("Bearer ") or environ.get("HTTP_COOKIE")
                or not environ.get("CONTENT_TYPE", "").startswith("application/json")
                or not length.isdigit() or not 0 < int(length) <= MAX_BODY):
            return self.wsgi_app(environ, start_response)
        body = environ["wsgi.input"].read(int(length))
        environ["wsgi.input"] = io.BytesIO(body)  # for the app, should it take the request after all
        answer = self._answer(environ, body, authorization[7:].strip())
        if answer is None:
            return self.wsgi_app(environ, start_response)
        out = json.dumps(answer, ensure_ascii=False, separators=(",", ":")).encode() + b"\n"
        start_response("200 OK", [("Content-Type", "application/json"), ("Content-Length", str(len(out))),
                                  *RESPONSE_HEADERS])
        return [out]

    def _answer(self, environ: dict, body: bytes, token: str) -> dict[str, Any] | None:
        """The scan's answer, or None to leave the request to the app."""
        from expo.checkin import api, services

        try:
            data = json.loads(body)
        except ValueError:
            return None
        if not isinstance(data, dict) or not token:
            return None
        try:
            nonce = api._text(data, "nonce", required=True)
            device_id = api._text(data, "device_id", required=True)
            code, direction, at = api._code(data), api._direction(data), api._scanned_at(data)
            checkpoint_id = api._checkpoint_id(data)
        except ExpoError:
            return None
        claim = codes.peek(code)  # which badge to read with the rest; the service verifies the code before it
        badge_id = claim.badge_id if claim is not None else None  # believes any of it
        with self.flask_app.app_context():
            pooled = db.engine.raw_connection()
            connection = pooled.driver_connection
            try:
                # Autocommit: the scan's one write statement is atomic by itself (services.scan), and BEGIN and
                # COMMIT would be two more round trips.
                connection.autocommit = True
                sql = services._sql(db.engine).on(connection)
                row = sql.run("gate", {"token_hash": hashlib.sha256(token.encode()).hexdigest(), "yes": True,
                                       "checkpoint_id": checkpoint_id, "badge_id": badge_id}).fetchone()
                user_id, role, locale = row[1:4]
                if user_id is None or role not in api.SCANNERS:
                    return None
                found = services.rules_of(sql, row[4:4 + services.RULES_COLUMNS])
                if found is None or not api._is_current(found[1].id):
                    return None
                checkpoint, expo = found
                scanner = Scanner(user_id, role, locale)
                answer = services.scan(scanner, expo, checkpoint, code, device_id=device_id, nonce=nonce,
                                       direction=direction, scanned_at=at, public_keys=api._public_keys(expo, code),
                                       holder=services.holder_of(sql, row[4 + services.RULES_COLUMNS:]), sql=sql)
                return api.answer_json(answer, checkpoint, direction=direction, nonce=nonce,
                                       lang=_language(scanner, environ))
            except Exception:  # the app answers it, as it would have without this path (and logs what it finds);
                # a scan written before the failure is found again by its nonce, and counts once
                self.flask_app.logger.exception("gate fast path: left the scan to the app")
                return None
            finally:
                try:
                    connection.autocommit = False  # as the pool lends its connections to the session
                except psycopg.Error:
                    pooled.invalidate()  # broken: the pool opens a new one
                pooled.close()


_ACCEPTED = ["en", "zh", "zh-CN", "zh-Hans", "zh-TW"]


def _language(scanner: Scanner, environ: dict) -> str:
    """As :func:`expo.i18n.select_locale` decides for a caller without a session: the account's language, else the
    browser's."""
    if scanner.locale in ("en", "zh"):
        return scanner.locale
    header = environ.get("HTTP_ACCEPT_LANGUAGE", "")
    if not header:
        return "en"
    found = _languages.get(header)
    if found is None:  # a scanner sends the same header every time: parsed once
        best = parse_accept_header(header, LanguageAccept).best_match(_ACCEPTED, default="en")
        found = "zh" if best.startswith("zh") else "en"
        if len(_languages) > 256:
            _languages.clear()
        _languages[header] = found
    return found


_languages: dict[str, str] = {}


RESPONSE_HEADERS = [*SECURITY_HEADERS.items(), ("Cache-Control", "no-store")]  # as the app's after_request
