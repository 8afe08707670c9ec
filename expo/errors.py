"""The base of every user-facing domain error. The message is a lazy translation, shown as-is to the user."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l


class ExpoError(Exception):
    """A rule said no. ``status`` is the HTTP status the views answer with; ``code`` is a stable reason code."""

    status = 400
    code = "invalid"

    def __init__(self, message, *, code: str | None = None, status: int | None = None, field: str | None = None):
        super().__init__(str(message))
        self.message = message
        self.field = field
        if code:
            self.code = code
        if status:
            self.status = status


class NotFound(ExpoError):
    status = 404
    code = "not_found"


class Forbidden(ExpoError):
    status = 403
    code = "forbidden"


class InvalidInput(ExpoError):
    """A request that does not hold what it should (an API body or query): 422, with each field's messages in
    ``fields`` and the first of them as the message."""

    status = 422
    code = "invalid"

    def __init__(self, fields: dict[str, list], message=None):
        first = next((m for messages in fields.values() for m in messages), None)
        super().__init__(message or first or _l("Some of the data is not valid."))
        self.fields = fields


def fields_of(exc: ExpoError) -> dict[str, list[str]] | None:
    """The per-field messages of a refusal, for a JSON answer: an invalid input's, or the one field a rule named."""
    fields = getattr(exc, "fields", None)
    if fields:
        return {k: [str(m) for m in v] for k, v in fields.items()}
    return {exc.field: [str(exc.message)]} if exc.field else None
