"""Forms for exhibitor self-registration, the profile, the space application, staff, and organizer decisions."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import (
    BooleanField,
    DateField,
    EmailField,
    PasswordField,
    RadioField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.validators import (
    URL,
    DataRequired,
    Email,
    EqualTo,
    InputRequired,
    Length,
    NumberRange,
    Optional,
    Regexp,
    StopValidation,
)

from expo import countries
from expo.exhibitors.models import ApplicationStatus, CornerPreference, SpaceKind
from expo.forms import ExpoForm, Integer, QueryForm, QuickSelect, db_id, options

PHONE = Regexp(r"^\+?[0-9][0-9 ()\-]{4,38}$", message=_l("Enter a phone number: digits, spaces, +, - and brackets."))
ID_NUMBER = Regexp(r"^[A-Za-z0-9]{5,20}$", message=_l("Use 5 to 20 letters and digits, as printed on the document."))


def _add_error(field, message) -> None:
    field.errors = [*field.errors, message]


def for_space_kind(kind: SpaceKind):
    """Check the quantity only when the application asks for this kind of space; the other one is ignored (the
    service sets it to 0), so a form filled from a standard-booth application (raw space 0) still validates."""

    def check(form, field):
        if form.space_kind.data != kind:
            field.errors[:] = []
            raise StopValidation()

    return check


def optional_int(value):
    if value in (None, "", "0", 0):
        return None
    return db_id(value)


class ProfileForm(ExpoForm):
    name_zh = StringField(_l("Company name in Chinese"), [Optional(), Length(max=200)],
                          filters=[lambda s: s.strip() if s else s])
    name_en = StringField(_l("Company name in English"), [Optional(), Length(max=200)],
                          filters=[lambda s: s.strip() if s else s])
    country = SelectField(_l("Country or region"), [DataRequired()], default="CN")
    province = StringField(_l("Province or state"), [Optional(), Length(max=100)])
    city = StringField(_l("City"), [Optional(), Length(max=100)])
    address = StringField(_l("Address"), [Optional(), Length(max=300)])
    website = StringField(_l("Website"), [Optional(), Length(max=300),
                                          URL(message=_l("Enter a web address such as https://example.com."))])
    contact_name = StringField(_l("Contact person"), [DataRequired(), Length(max=100)])
    contact_phone = StringField(_l("Contact phone"), [DataRequired(), PHONE])
    contact_email = EmailField(_l("Contact e-mail"), [DataRequired(), Length(max=254),
                                                       Email(message=_l("Enter a valid e-mail address."))])
    categories = SelectMultipleField(_l("Product categories"), coerce=int)
    description = TextAreaField(_l("Products"), [Optional(), Length(max=5000)])
    logo = FileField(_l("Logo (PNG, JPEG or WebP, at most 2 MB)"))

    def __init__(self, *args, category_choices=(), locale="en", **kwargs):
        super().__init__(*args, **kwargs)
        self.country.choices = options(countries.choices(locale))
        self.categories.choices = options(list(category_choices))

    def validate(self, extra_validators=None):
        # Form-level, because Optional() on both name fields stops their own validators when they are empty.
        ok = super().validate(extra_validators)
        if not (self.name_zh.data or "").strip() and not (self.name_en.data or "").strip():
            _add_error(self.name_en, _l("Give the company name in Chinese, in English, or both."))
            ok = False
        return ok


class ApplicationForm(ExpoForm):
    space_kind = RadioField(_l("Kind of space"), default=SpaceKind.STANDARD.value, choices=options([
        (SpaceKind.STANDARD.value, _l("Standard booths (3 × 3 m)")),
        (SpaceKind.RAW.value, _l("Raw space (m²)")),
    ]))
    booths_requested = Integer(_l("Number of standard booths"), [
        for_space_kind(SpaceKind.STANDARD), Optional(), NumberRange(min=1, max=100)], default=1)
    raw_space_m2 = Integer(_l("Raw space in m²"), [
        for_space_kind(SpaceKind.RAW), Optional(), NumberRange(min=18, max=5000)])
    preferred_area_id = SelectField(_l("Preferred exhibition area"), coerce=optional_int)
    preferred_pavilion_id = SelectField(_l("Preferred pavilion"), coerce=optional_int)
    corner_preference = SelectField(_l("Corner booth"), default=CornerPreference.NONE.value, choices=options([
        (CornerPreference.NONE.value, _l("No preference")),
        (CornerPreference.PREFER.value, _l("Preferred")),
        (CornerPreference.REQUIRE.value, _l("Required")),
    ]))
    years_exhibited = Integer(_l("Years exhibited before"), [Optional(), NumberRange(min=0, max=60)], default=0)
    competitors = TextAreaField(_l("Competitors not to be placed next to us (one per line)"),
                                [Optional(), Length(max=2000)])
    notes = TextAreaField(_l("Notes"), [Optional(), Length(max=2000)])

    def __init__(self, *args, area_choices=(), pavilion_choices=(), **kwargs):
        super().__init__(*args, **kwargs)
        no_pref = [(0, _l("No preference"))]
        self.preferred_area_id.choices = options(no_pref + list(area_choices))
        self.preferred_pavilion_id.choices = options(no_pref + list(pavilion_choices))

    def validate(self, extra_validators=None):
        ok = super().validate(extra_validators)
        if self.space_kind.data == SpaceKind.STANDARD and not self.booths_requested.data \
                and not self.booths_requested.errors:
            _add_error(self.booths_requested, _l("Say how many standard booths you need."))
            ok = False
        if self.space_kind.data == SpaceKind.RAW and not self.raw_space_m2.data and not self.raw_space_m2.errors:
            _add_error(self.raw_space_m2, _l("Say how many m² of raw space you need (at least 18)."))
            ok = False
        return ok


class RegistrationForm(ProfileForm, ApplicationForm):
    """Account, company profile and space application on one public page."""

    email = EmailField(_l("Your e-mail address (to sign in)"),
                       [DataRequired(), Length(max=254), Email(message=_l("Enter a valid e-mail address."))])
    password = PasswordField(_l("Password"), [DataRequired(), Length(min=8, max=200)])
    password_confirm = PasswordField(_l("Repeat the password"),
                                     [DataRequired(), EqualTo("password", message=_l("The passwords differ."))])

    def __init__(self, *args, category_choices=(), locale="en", area_choices=(), pavilion_choices=(), **kwargs):
        FlaskForm.__init__(self, *args, **kwargs)
        self.country.choices = options(countries.choices(locale))
        self.categories.choices = options(list(category_choices))
        no_pref = [(0, _l("No preference"))]
        self.preferred_area_id.choices = options(no_pref + list(area_choices))
        self.preferred_pavilion_id.choices = options(no_pref + list(pavilion_choices))


class StaffForm(ExpoForm):
    name = StringField(_l("Name"), [DataRequired(), Length(max=100)])
    title = StringField(_l("Job title"), [Optional(), Length(max=100)])
    phone = StringField(_l("Phone"), [Optional(), PHONE])
    email = EmailField(_l("E-mail"), [Optional(), Length(max=254), Email(message=_l("Enter a valid e-mail address."))])
    id_number = StringField(_l("ID card or passport number (optional, for badges)"), [Optional(), ID_NUMBER])


DECISIONS = [
    (ApplicationStatus.APPROVED.value, _l("Approve")),
    (ApplicationStatus.WAITLISTED.value, _l("Waitlist")),
    (ApplicationStatus.REJECTED.value, _l("Reject")),
]


class ReasonForm(ExpoForm):
    """The reason that goes with a step of the application (the API names the step in the URL)."""

    reason = TextAreaField(_l("Reason (sent to the exhibitor)"), [Optional(), Length(max=2000)])


class DecisionForm(ReasonForm):
    decision = SelectField(_l("Decision"), [InputRequired()], choices=options(DECISIONS))


class BulkDecisionForm(DecisionForm):
    application_ids = SelectMultipleField(_l("Applications"), coerce=db_id, validate_choice=False,
                                          validators=[DataRequired(message=_l("Select at least one application."))])


class EmptyForm(ExpoForm):
    """A form with only the CSRF token, for buttons that change state (submit, withdraw, delete)."""


class QueueFilterForm(QueryForm):
    """The review queue's filters, read from the query string (a GET form: nothing changes, no CSRF)."""

    status = SelectField(_l("Status"), coerce=str, default="", widget=QuickSelect())
    area_id = SelectField(_l("Exhibition area"), coerce=optional_int, widget=QuickSelect())
    pavilion_id = SelectField(_l("Pavilion"), coerce=optional_int, widget=QuickSelect())
    country = SelectField(_l("Country or region"), coerce=str, default="", widget=QuickSelect())
    category_id = SelectField(_l("Product category"), coerce=optional_int, widget=QuickSelect())
    q = StringField(_l("Search"), [Optional(), Length(max=100)])
    submitted_from = DateField(_l("Submitted from"), [Optional()])
    submitted_to = DateField(_l("Submitted until"), [Optional()])
    sort = SelectField(_l("Sort by"), coerce=str, default="submitted", widget=QuickSelect(), choices=options([
        ("submitted", _l("Submitted date")), ("name", _l("Name (English)")), ("name_zh", _l("Name (Chinese)")),
        ("country", _l("Country or region")), ("status", _l("Status")), ("booths", _l("Booths requested")),
        ("years", _l("Years exhibited")),
    ]))
    desc = BooleanField(_l("Newest or largest first"))
    page = Integer(default=1, validators=[Optional(), NumberRange(min=1, max=1_000_000)])
    per_page = Integer(default=50, validators=[Optional(), NumberRange(min=1, max=200)])

    def __init__(self, formdata, *, status_choices, area_choices, pavilion_choices, category_choices, locale):
        super().__init__(formdata)
        every = _l("All")
        self.status.choices = options([("", every)] + list(status_choices))
        self.area_id.choices = options([(0, every)] + list(area_choices))
        self.pavilion_id.choices = options([(0, every)] + list(pavilion_choices))
        self.category_id.choices = options([(0, every)] + list(category_choices))
        self.country.choices = options([("", every)] + countries.choices(locale))
