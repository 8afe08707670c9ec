"""Error answers: JSON under /api/, a translated page elsewhere. Never a bare 500 for bad input."""

from __future__ import annotations

from flask import Flask, current_app, jsonify, render_template, request
from flask_babel import lazy_gettext as _l
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException, RequestEntityTooLarge

from expo.errors import ExpoError, fields_of
from expo.extensions import db

MESSAGES = {
    400: _l("The request could not be understood."),
    401: _l("Please sign in."),
    403: _l("You do not have access to this page."),
    404: _l("There is nothing at this address."),
    405: _l("This action is not available here."),
    409: _l("This conflicts with the current state. Reload and try again."),
    413: _l("The upload is too large."),
    415: _l("Send this form from its page; this address does not take JSON."),
    422: _l("Some of the data is not valid."),
    429: _l("Too many requests. Please wait a moment."),
    500: _l("Something went wrong on our side. It has been logged."),
}


def error_response(status: int, message, code: str | None = None, **extra):
    db.session.rollback()
    if request.path.startswith("/api/"):
        return jsonify(error=code or str(status), message=str(message), **extra), status
    return render_template("errors/error.html", status=status, message=message), status


def register(app: Flask) -> None:
    @app.errorhandler(CSRFError)
    def csrf_error(exc):
        return error_response(400, _l("The form has expired or was sent from another site. Reload the page and "
                                      "send it again."), "csrf")

    @app.errorhandler(ExpoError)
    def domain_error(exc: ExpoError):
        fields = fields_of(exc) if request.path.startswith("/api/") else None
        return error_response(exc.status, exc.message, exc.code, **({"fields": fields} if fields else {}))

    @app.errorhandler(RequestEntityTooLarge)
    def too_large(exc):
        # Werkzeug refuses a body over MAX_CONTENT_LENGTH before any view runs: say what the limit is.
        mb = round(int(current_app.config["MAX_UPLOAD_BYTES"]) / 1024 / 1024, 1)
        return error_response(413, _l("The upload is too large: a file may be at most %(mb)s MB.", mb=mb),
                              "request_entity_too_large")

    @app.errorhandler(HTTPException)
    def http_error(exc: HTTPException):
        status = exc.code or 500
        return error_response(status, MESSAGES.get(status, exc.description), exc.name.lower().replace(" ", "_"))

    @app.errorhandler(Exception)
    def unexpected(exc: Exception):  # pragma: no cover - logged and shown as a 500 page
        app.logger.exception("unexpected error")
        if app.config.get("TESTING") and app.config.get("PROPAGATE_UNEXPECTED", True):
            raise exc
        return error_response(500, MESSAGES[500], "server_error")
