"""Request bodies of the JSON API: the JSON object itself, and its fields validated by the pages' own forms."""

from __future__ import annotations

from typing import Any

from flask import request
from flask_babel import lazy_gettext as _l

from expo.errors import ExpoError, InvalidInput
from expo.forms import form_errors, from_json, shape_errors


def json_body() -> dict[str, Any]:
    """The request's JSON object; a 400 (``not_json``) for anything else."""
    data = request.get_json(silent=True)
    if not isinstance(data, dict):
        raise ExpoError(_l("Send a JSON object with the header 'Content-Type: application/json'."), code="not_json")
    return data


def validated(form_cls, payload: dict[str, Any], stored: dict[str, Any] | None = None, **kwargs: Any):
    """``payload`` (merged over ``stored``, the row's values, for partial updates) validated by the page's form
    class, which takes ``kwargs``; :class:`InvalidInput` (422, each field's messages) when it does not pass."""
    # A stored value the row does not have (None) is left out, while a null the caller sends empties the field.
    merged = {**{k: v for k, v in (stored or {}).items() if v is not None}, **payload}
    form = from_json(form_cls, merged, **kwargs)
    valid = form.validate()
    errors = {**form_errors(form), **shape_errors(form, payload)}
    if errors or not valid:
        raise InvalidInput(errors)
    return form
