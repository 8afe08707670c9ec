"""The automatic allocation's priority rule, as data: points per criterion.

An exhibitor's priority is the sum of points for years exhibited (per year, capped), booths requested (per booth,
capped), how early the application was submitted (full points for the first submission, fewer each day after),
payment (points when paid, more the earlier it was paid) and the organizer's bonus (``priority_bonus`` × weight).
The rule is a plain dict kept on :attr:`expo.venue.models.Expo.allocation_rule`; keys missing there take the value
of :data:`DEFAULT_RULE`. :func:`score` returns the points and their breakdown, so a proposal can say why one
exhibitor came before another. Ties are broken by submission time, then by application id (:func:`order_key`).

Pure: no Flask, no database. ``application`` is anything with the attributes of a
:class:`~expo.exhibitors.models.SpaceApplication` that are read here.
"""

from __future__ import annotations

import math
from datetime import datetime
from typing import Any

#: Standard booth size, m²: a raw-space request of 54 m² counts as 6 booths for the booth points.
STANDARD_BOOTH_M2 = 9

DEFAULT_RULE: dict[str, float] = {
    "years_points": 2,  # per year exhibited before
    "years_cap": 10,  # years counted at most
    "booth_points": 1,  # per booth requested
    "booths_cap": 12,  # booths counted at most
    "submitted_points": 20,  # for the first application submitted
    "submitted_decay_per_day": 0.5,  # fewer points per day after the first submission
    "paid_points": 10,  # when paid
    "paid_early_points": 10,  # for the first payment, fewer per day after it
    "paid_decay_per_day": 0.5,
    "bonus_weight": 1,  # × the organizer's priority bonus of the application
}

#: The range each value of the rule may take (the form and :func:`validate` check it).
LIMITS: dict[str, tuple[float, float]] = {
    "years_points": (0, 1000), "years_cap": (0, 100), "booth_points": (0, 1000), "booths_cap": (0, 1000),
    "submitted_points": (0, 1000), "submitted_decay_per_day": (0, 1000), "paid_points": (0, 1000),
    "paid_early_points": (0, 1000), "paid_decay_per_day": (0, 1000), "bonus_weight": (0, 100),
}

CRITERIA = ("years", "booths", "submitted", "paid", "bonus")


def effective(stored: dict[str, Any] | None) -> dict[str, float]:
    """The rule an expo works with: its stored values over :data:`DEFAULT_RULE`; unknown keys and values that are
    not numbers in range are ignored (a rule edited by hand in the database cannot break the allocation)."""
    rule = dict(DEFAULT_RULE)
    for key, value in (stored or {}).items():
        if key in LIMITS and isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value):
            low, high = LIMITS[key]
            if low <= value <= high:
                rule[key] = value
    return rule


def validate(values: dict[str, Any]) -> dict[str, str]:
    """Field → what is wrong with it (in English, for logs and the CLI; the form says it in the reader's language)."""
    errors = {}
    for key, (low, high) in LIMITS.items():
        value = values.get(key)
        if not isinstance(value, int | float) or isinstance(value, bool) or not math.isfinite(value):
            errors[key] = "not a number"
        elif not low <= value <= high:
            errors[key] = f"must be between {low:g} and {high:g}"
    return errors


def _days(later: datetime | None, first: datetime | None) -> float:
    if later is None or first is None:
        return 0.0
    return max(0.0, (later - first).total_seconds() / 86400)


def booths_wanted(application: Any) -> int:
    """Booths the application counts as: standard booths requested, or raw space in standard-booth equivalents."""
    if getattr(application, "space_kind", "standard") == "raw":
        return math.ceil((application.raw_space_m2 or 0) / STANDARD_BOOTH_M2)
    return application.booths_requested or 0


def score(application: Any, rule: dict[str, Any] | None = None, *, first_submitted: datetime | None = None,
          first_paid: datetime | None = None) -> tuple[float, dict[str, float]]:
    """(points, {criterion: points}) of ``application`` under ``rule``.

    ``first_submitted`` and ``first_paid`` are the earliest submission and payment among the applications being
    ranked; the earliest gets the full points of its criterion, the others lose the rule's decay per day after it.
    """
    r = effective(rule)
    years = min(application.years_exhibited or 0, r["years_cap"]) * r["years_points"]
    booths = min(booths_wanted(application), r["booths_cap"]) * r["booth_points"]
    submitted = 0.0
    if application.submitted_at is not None:
        submitted = max(0.0, r["submitted_points"] - r["submitted_decay_per_day"]
                        * _days(application.submitted_at, first_submitted or application.submitted_at))
    paid = 0.0
    if application.payment_status == "paid":
        paid_on = application.paid_at
        paid = r["paid_points"]
        if paid_on is not None:
            paid += max(0.0, r["paid_early_points"] - r["paid_decay_per_day"]
                        * _days(paid_on, first_paid or paid_on))
    bonus = (application.priority_bonus or 0) * r["bonus_weight"]
    breakdown = {"years": years, "booths": booths, "submitted": submitted, "paid": paid, "bonus": bonus}
    breakdown = {k: round(float(v), 2) for k, v in breakdown.items()}
    return round(sum(breakdown.values()), 2), breakdown


def order_key(points: float, submitted_at: datetime | None, application_id: int) -> tuple:
    """Highest points first; ties go to the earlier submission, then to the lower application id."""
    return (-points, submitted_at is None, submitted_at or datetime.max, application_id)
