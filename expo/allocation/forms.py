"""Forms of manual allocation: the booth page's actions, booth numbers typed in, settings, payment, self-selection."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import BooleanField, SelectField, StringField
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional

from expo.forms import MAX_ID, ExpoForm, Integer, QueryForm, options

BOOTH_ACTIONS = ("assign", "hold", "vacate", "move", "swap", "block", "unblock")


class BoothActionForm(ExpoForm):
    """One of the booth page's actions. Which fields count depends on the action: an exhibitor for assign and
    hold, minutes for hold, another booth number for move and swap."""

    action = SelectField(_l("Action"), choices=options((a, a) for a in BOOTH_ACTIONS), validators=[InputRequired()])
    exhibitor_id = Integer(_l("Exhibitor number"), validators=[Optional(), NumberRange(min=1, max=MAX_ID)])
    minutes = Integer(_l("Hold for (minutes)"), validators=[Optional(), NumberRange(min=1, max=7 * 24 * 60)])
    target = StringField(_l("Other booth number"), validators=[Optional(), Length(max=20)])

    def validate(self, extra_validators=None) -> bool:
        if not super().validate(extra_validators):
            return False
        if self.action.data in ("assign", "hold") and not self.exhibitor_id.data:
            self.exhibitor_id.errors.append(_l("Choose the exhibitor."))
            return False
        if self.action.data in ("move", "swap") and not (self.target.data or "").strip():
            self.target.errors.append(_l("Type the other booth's number."))
            return False
        return True


class AssignNumbersForm(ExpoForm):
    """Booth numbers typed in for one exhibitor: all or nothing."""

    exhibitor_id = Integer(_l("Exhibitor number"), validators=[InputRequired(), NumberRange(min=1, max=MAX_ID)])
    booths = StringField(_l("Booth numbers (e.g. A1-001, A1-002)"), validators=[DataRequired(), Length(max=2000)])


class ExhibitorSearchForm(QueryForm):
    q = StringField(_l("Search exhibitors by name"), validators=[Optional(), Length(max=100)])


class SettingsForm(ExpoForm):
    hold_minutes = Integer(_l("A hold lasts (minutes)"), validators=[InputRequired(),
                                                                    NumberRange(min=1, max=7 * 24 * 60)])
    corner_premium_percent = Integer(_l("Corner premium (percent)"), validators=[InputRequired(),
                                                                                NumberRange(min=0, max=100)])
    self_selection_open = BooleanField(_l("Exhibitors may choose their booths themselves"))


class PaymentForm(ExpoForm):
    payment_status = SelectField(_l("Payment status"), choices=options([
        ("unpaid", _l("Unpaid")), ("invoiced", _l("Invoiced")), ("partial", _l("Partly paid")), ("paid", _l("Paid"))]),
        validators=[InputRequired()])
    priority_bonus = Integer(_l("Bonus points for the automatic allocation"),
                             validators=[Optional(), NumberRange(min=-1000, max=1000)])


class SelectBoothForm(ExpoForm):
    """Self-selection: take one booth, or give one back."""

    booth_id = Integer(_l("Booth"), validators=[InputRequired(), NumberRange(min=1, max=MAX_ID)])


class BoothFilterForm(QueryForm):
    """Filters of the booth list (API)."""

    hall = StringField(_l("Hall code"), validators=[Optional(), Length(max=20)])
    pavilion = StringField(_l("Pavilion code"), validators=[Optional(), Length(max=20)])
    status = SelectField(_l("Status"), choices=options([("", ""), ("available", "available"), ("held", "held"),
                                                        ("assigned", "assigned"), ("blocked", "blocked")]),
                         validators=[Optional()])
    kind = SelectField(_l("Kind"), choices=options([("", ""), ("standard", "standard"), ("corner", "corner"),
                                                    ("peninsula", "peninsula"), ("island", "island"), ("raw", "raw")]),
                       validators=[Optional()])
    page = Integer(_l("Page"), validators=[Optional(), NumberRange(min=1, max=100000)])
    per_page = Integer(_l("Per page"), validators=[Optional(), NumberRange(min=1, max=200)])
