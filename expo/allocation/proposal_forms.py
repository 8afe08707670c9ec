"""Forms of the automatic allocation's pages: the priority rule, and the bare buttons (CSRF only)."""

from __future__ import annotations

import math

from flask_babel import lazy_gettext as _l
from wtforms import FloatField
from wtforms.validators import InputRequired, NumberRange, ValidationError

from expo.allocation.rules import LIMITS
from expo.forms import ExpoForm, Integer


def _finite(form, field) -> None:
    if field.data is not None and not math.isfinite(field.data):
        raise ValidationError(_l("Enter a number."))


def _range(key: str) -> list:
    low, high = LIMITS[key]
    return [InputRequired(), _finite, NumberRange(min=low, max=high)]


class RuleForm(ExpoForm):
    """The priority rule: points per criterion (see :mod:`expo.allocation.rules`)."""

    years_points = FloatField(_l("Points per year exhibited"), _range("years_points"))
    years_cap = Integer(_l("Years counted at most"), _range("years_cap"))
    booth_points = FloatField(_l("Points per booth requested"), _range("booth_points"))
    booths_cap = Integer(_l("Booths counted at most"), _range("booths_cap"))
    submitted_points = FloatField(_l("Points for the first application submitted"), _range("submitted_points"))
    submitted_decay_per_day = FloatField(_l("Fewer points per day submitted later"), _range("submitted_decay_per_day"))
    paid_points = FloatField(_l("Points when paid"), _range("paid_points"))
    paid_early_points = FloatField(_l("Points for the first payment"), _range("paid_early_points"))
    paid_decay_per_day = FloatField(_l("Fewer points per day paid later"), _range("paid_decay_per_day"))
    bonus_weight = FloatField(_l("Weight of the organizer's bonus"), _range("bonus_weight"))


class ButtonForm(ExpoForm):
    """A button that posts: compute, apply, discard."""
