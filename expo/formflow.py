"""The one way a page's posted form runs a service: validate, call, commit once or roll back and explain.

Views stay thin: ``outcome = run_form(form, lambda: services.thing(...))``; on success they flash and redirect,
otherwise they render the form again with ``outcome.status`` (200 for a first GET, 400 for invalid input, the
rule's own 4xx when a service refused).
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from dataclasses import dataclass
from typing import Any

from flask import flash, request
from flask_wtf import FlaskForm

from expo.errors import ExpoError
from expo.extensions import db


@dataclass
class Outcome:
    ok: bool
    status: int = 200
    value: Any = None


def attach_error(form: FlaskForm, exc: ExpoError) -> None:
    """Show a rule's refusal beside the field it concerns, or above the form."""
    field = getattr(form, exc.field, None) if exc.field else None
    if field is not None:
        field.errors = [*field.errors, str(exc.message)]
    else:
        flash(str(exc.message), "error")


def run_form(form: FlaskForm, action: Callable[[], Any]) -> Outcome:
    """Validate ``form`` if it was posted and run ``action``; commit on success, roll back on a refusal (nothing
    half-written) and attach the refusal to the form."""
    if not form.validate_on_submit():
        return Outcome(False, 400 if request.method == "POST" else 200)
    try:
        value = action()
    except ExpoError as exc:
        db.session.rollback()
        attach_error(form, exc)
        return Outcome(False, exc.status)
    db.session.commit()
    return Outcome(True, 200, value)


def filter_args(keys: Collection[str], *, keep_empty: bool = False) -> dict[str, str]:
    """A list page's filters from the query string (only ``keys``), for the links that keep them: pages of the list,
    its exports, a redirect back after an action. Empty values are dropped unless ``keep_empty``."""
    return {k: v for k, v in request.args.items() if k in keys and (v or keep_empty)}
