"""Forms for delegations: the travel details (leader), everything (organizer), a member, and the board's filters.

The fields parse what was typed (dates, lengths, choices); the rules themselves are the services'
(:func:`expo.buyers.delegations.validate_member` and :func:`~expo.buyers.delegations.validate_delegation`). A form
given the ``expo`` runs them in ``validate()`` and shows every problem beside its field, so one post tells the
person everything to fix; the service checks the same rules again when it is called.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from flask_babel import lazy_gettext as _l
from wtforms import BooleanField, DateField, EmailField, SelectField, SelectMultipleField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, NumberRange, Optional

from expo import countries
from expo.buyers.delegations import DelegationData, MemberData, Problem, validate_delegation, validate_member
from expo.forms import ExpoForm, Integer, QueryForm, QuickSelect, db_id, options


def attach_problems(form, problems: list[Problem]) -> bool:
    """Put each problem beside its field (unless the field already has a complaint of its own); True if any was
    attached. Problems about fields the form does not have are left to the service, which refuses with them."""
    attached = False
    for problem in problems:
        f = form._fields.get(problem.field)
        if f is not None and not f.errors:
            f.errors = [*f.errors, str(problem)]
            attached = True
    return attached


def _strip(value: Any) -> Any:
    return value.strip() if isinstance(value, str) else value


class DelegationDetailsForm(ExpoForm):
    """What the leader keeps up to date: travel dates, flights, hotel, interpreter, interests."""

    arrival_date = DateField(_l("Arrival date"), [Optional()])
    arrival_flight = StringField(_l("Arrival flight"), [Optional(), Length(max=20)], filters=[_strip])
    departure_date = DateField(_l("Departure date"), [Optional()])
    departure_flight = StringField(_l("Departure flight"), [Optional(), Length(max=20)], filters=[_strip])
    hotel = StringField(_l("Hotel"), [Optional(), Length(max=200)])
    interpreter_needed = BooleanField(_l("An interpreter is needed"))
    interpreter_language = StringField(_l("Interpreter's language"), [Optional(), Length(max=40)])
    categories = SelectMultipleField(_l("Interests (product categories)"), coerce=db_id)

    #: Form fields that are DelegationData fields of the same name.
    DATA_FIELDS = ("name", "country", "organization", "arrival_date", "departure_date", "arrival_flight",
                   "departure_flight", "hotel", "interpreter_needed", "interpreter_language", "notes")

    def __init__(self, *args, category_choices=(), expo=None, base: DelegationData | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.categories.choices = options(list(category_choices))
        self._expo = expo
        self._base = base

    def delegation_data(self) -> DelegationData:
        """The delegation as typed: ``base`` (what it holds now) with this form's fields put in."""
        base = self._base or DelegationData(name="", country="")
        values = {name: self._fields[name].data for name in self.DATA_FIELDS if name in self._fields}
        return replace(base, **values, category_ids=list(self.categories.data or []))

    def validate(self, extra_validators=None):
        ok = super().validate(extra_validators)
        if self._expo is not None and attach_problems(self, validate_delegation(
                self._expo, self.delegation_data().normalized())):
            ok = False
        return ok


class OrganizerDelegationForm(DelegationDetailsForm):
    """Everything about a delegation, for the organizer: who they are, their leader, travel, interests, notes."""

    name = StringField(_l("Delegation name"), [DataRequired(), Length(max=200)])
    country = SelectField(_l("Country or region"), widget=QuickSelect(), validate_choice=False)
    organization = StringField(_l("Leading organization"), [Optional(), Length(max=200)])
    leader_email = EmailField(_l("Leader's e-mail address"), [Optional(), Length(max=254)], filters=[_strip])
    leader_name = StringField(_l("Leader's name (for a new account)"), [Optional(), Length(max=200)])
    notes = TextAreaField(_l("Notes (seen by the organizer only)"), [Optional(), Length(max=5000)])

    def __init__(self, *args, category_choices=(), expo=None, base=None, locale="en", **kwargs):
        super().__init__(*args, category_choices=category_choices, expo=expo, base=base, **kwargs)
        self.country.choices = options([("", _l("Choose…"))] + countries.choices(locale))


class MemberForm(ExpoForm):
    """A delegation member and their passport data."""

    name = StringField(_l("Name as in the passport (Latin letters)"), [Length(max=200)])
    name_native = StringField(_l("Name in own script"), [Optional(), Length(max=200)])
    company = StringField(_l("Company"), [Optional(), Length(max=200)])
    job_title = StringField(_l("Job title"), [Optional(), Length(max=100)])
    email = EmailField(_l("E-mail (optional)"), [Optional(), Length(max=254)])
    phone = StringField(_l("Phone"), [Optional(), Length(max=40)])
    passport_number = StringField(_l("Passport number"), [Length(max=40)])
    passport_expires_on = DateField(_l("Passport valid until"), [Optional()])
    # The service names a wrong code better than WTForms' "Not a valid choice." (imports and the API send codes).
    nationality = SelectField(_l("Nationality"), widget=QuickSelect(), default="", validate_choice=False)
    date_of_birth = DateField(_l("Date of birth"), [Optional()])

    def __init__(self, *args, locale="en", expo=None, delegation=None, member=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.nationality.choices = options([("", _l("Choose…"))] + countries.choices(locale))
        self._expo, self._delegation, self._member = expo, delegation, member

    def member_data(self) -> MemberData:
        return MemberData.from_mapping(self.data)

    def validate(self, extra_validators=None):
        ok = super().validate(extra_validators)
        if self._expo is not None and attach_problems(self, validate_member(
                self._expo, self.member_data().normalized(), delegation=self._delegation, member=self._member)):
            ok = False
        return ok


SORT_CHOICES = [("arrival", _l("Arrival")), ("departure", _l("Departure")), ("name", _l("Name")),
                ("country", _l("Country or region")), ("members", _l("Members"))]


class BoardFilterForm(QueryForm):
    """The delegations board's filters, from the query string."""

    q = StringField(_l("Search"), [Optional(), Length(max=100)])
    country = SelectField(_l("Country or region"), coerce=str, default="", widget=QuickSelect())
    arrival_from = DateField(_l("Arriving from"), [Optional()])
    arrival_to = DateField(_l("Arriving until"), [Optional()])
    interpreter = SelectField(_l("Interpreter"), coerce=str, default="", choices=options([
        ("", _l("All")), ("yes", _l("Interpreter needed")), ("no", _l("No interpreter needed"))]))
    sort = SelectField(_l("Sort by"), coerce=str, default="arrival", choices=options(SORT_CHOICES))
    desc = BooleanField(_l("Latest or largest first"))
    page = Integer(default=1, validators=[Optional(), NumberRange(min=1, max=1_000_000)])
    per_page = Integer(default=50, validators=[Optional(), NumberRange(min=1, max=200)])

    def __init__(self, formdata=None, *, locale="en", **kwargs):
        super().__init__(formdata, **kwargs)
        self.country.choices = options([("", _l("All"))] + countries.choices(locale))
