"""The outcome of a meeting as a form: the page posts it, the API validates its JSON body with the same class.
The rules that join fields (a cooperation needs products and a quantity or value) are the service's
(:func:`expo.docking.outcomes.check`), so the page and the API refuse the same things with the same words."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

from flask_babel import lazy_gettext as _l
from wtforms import DateField, DecimalField, RadioField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, NumberRange, Optional

from expo.docking import currencies
from expo.docking.models import OutcomeResult
from expo.docking.outcomes import MAX_NOTES, MAX_PAIRS, MAX_PRODUCTS, MAX_VALUE
from expo.forms import ExpoForm, Integer, QuickSelect, options

RESULT_LABELS = {
    OutcomeResult.INTENTION: _l("Cooperation intention"),
    OutcomeResult.AGREEMENT: _l("Signed agreement or order"),
    OutcomeResult.FOLLOW_UP: _l("Follow-up after the fair"),
    OutcomeResult.NONE: _l("Met, no result"),
    OutcomeResult.NO_SHOW: _l("The meeting did not take place"),
}


def result_label(result: str) -> str:
    return str(RESULT_LABELS.get(result, result))  # type: ignore[call-overload]


class Money(DecimalField):
    """A decimal amount: refuses NaN, infinities and numbers of more than 15 digits before the point, which
    NumberRange cannot compare or the database cannot hold."""

    def process_formdata(self, valuelist):
        if valuelist:
            text = str(valuelist[0]).strip().replace(",", "")
            try:
                number = Decimal(text) if text else None
            except InvalidOperation:
                number = Decimal("NaN")
            if number is not None and (not number.is_finite() or abs(number) >= Decimal(10) ** 15):
                self.data = None
                raise ValueError(self.gettext("Not a valid decimal value."))
            valuelist = [text]
        super().process_formdata(valuelist)


class OutcomeForm(ExpoForm):
    """What came of a meeting."""

    result = RadioField(_l("Result"), [DataRequired(message=_l("Choose what came of the meeting."))],
                        choices=options([(k.value, v) for k, v in RESULT_LABELS.items()]))
    products = StringField(_l("Products"), [Optional(), Length(max=MAX_PRODUCTS)],
                           description=_l("e.g. running shoes, OEM; needed for an intention or agreement."))
    quantity_pairs = Integer(_l("Quantity (pairs)"), [Optional(), NumberRange(min=0, max=MAX_PAIRS)])
    value = Money(_l("Value"), [Optional(), NumberRange(min=0, max=MAX_VALUE)], places=2)
    currency = SelectField(_l("Currency"), default="CNY", widget=QuickSelect())
    expected_order_on = DateField(_l("Expected order date"), [Optional()])
    notes = TextAreaField(_l("Notes"), [Optional(), Length(max=MAX_NOTES)])

    def __init__(self, *args, currency_codes=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.currency.choices = options([(c, c) for c in (currency_codes or currencies.codes())])
