"""The base of every user-facing domain error. The message is a lazy translation, shown as-is to the user."""

from __future__ import annotations


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
