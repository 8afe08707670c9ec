"""Forms of the letter pages: the organizer's list filters, issuing a letter, and the public verification box."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import SelectField, StringField
from wtforms.validators import Email, Length, NumberRange, Optional

from expo.exhibitors.forms import optional_int
from expo.forms import ExpoForm, Integer, QueryForm, QuickSelect, options

strip = [lambda s: s.strip() if isinstance(s, str) else s]

STATUS_CHOICES = [("valid", _l("Valid")), ("revoked", _l("Revoked"))]
KIND_CHOICES = [("buyer", _l("Buyer")), ("delegation", _l("Delegation")), ("member", _l("Delegation member"))]


class LetterFilterForm(QueryForm):
    q = StringField(_l("Reference or name"), [Optional(), Length(max=100)], filters=strip)
    status = SelectField(_l("Status"), coerce=str, default="", widget=QuickSelect())
    kind = SelectField(_l("For"), coerce=str, default="", widget=QuickSelect())
    page = Integer(default=1, validators=[Optional(), NumberRange(min=1, max=1_000_000)])
    per_page = Integer(default=50, validators=[Optional(), NumberRange(min=1, max=200)])

    def __init__(self, formdata=None, **kwargs):
        super().__init__(formdata, **kwargs)
        every = _l("All")
        self.status.choices = options([("", every)] + STATUS_CHOICES)
        self.kind.choices = options([("", every)] + KIND_CHOICES)


class IssueForm(ExpoForm):
    """Issue (or re-issue) a letter: for the buyer with this e-mail address, or for a delegation."""

    email = StringField(_l("Buyer's e-mail address"), [Optional(), Length(max=254), Email()], filters=strip)
    delegation_id = SelectField(_l("Delegation"), coerce=optional_int, widget=QuickSelect())

    def __init__(self, *args, delegation_choices=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.delegation_id.choices = options([(0, _l("None"))] + list(delegation_choices))

    def validate(self, extra_validators=None) -> bool:
        if not super().validate(extra_validators):
            return False
        if bool(self.email.data) == bool(self.delegation_id.data):
            self.email.errors = [*self.email.errors, _l("Give either a buyer's e-mail address or a delegation.")]
            return False
        return True


class VerifyForm(QueryForm):
    ref = StringField(_l("Reference number"), [Optional(), Length(max=80)], filters=strip)
