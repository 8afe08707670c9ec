"""Forms for buyer registration, the invitation, the buyer's profile, the hosted-buyer decision, and the
organizer's buyer list filters (also used by the API)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import (
    BooleanField,
    EmailField,
    PasswordField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.validators import URL, DataRequired, Email, EqualTo, InputRequired, Length, NumberRange, Optional, Regexp

from expo import countries
from expo.buyers import queries, regions
from expo.buyers.services import HOSTED_LABELS, MAX_HOTEL_NIGHTS, STATUS_LABELS, VOLUME_LABELS
from expo.exhibitors.forms import PHONE, optional_int
from expo.forms import ExpoForm, Integer, QueryForm, QuickSelect, options

#: Latin letters (with the accents of European and Vietnamese names), spaces, hyphens, apostrophes and dots: the
#: name as the passport's data page prints it. Names in other scripts go into the native-name field.
_LATIN = "A-Za-z\u00c0-\u00d6\u00d8-\u00f6\u00f8-\u024f\u1e00-\u1eff"
PASSPORT_NAME = Regexp(rf"^[{_LATIN}][{_LATIN} .,'’\-]*$",
                       message=_l("Write the name in Latin letters, as in the passport; write it in your own script "
                                  "in the next field."))


def _strip(value):
    return value.strip() if isinstance(value, str) else value


def _lower(value):
    return value.strip().lower() if isinstance(value, str) else value


class BuyerProfileForm(ExpoForm):
    """Who the buyer is and what they want to buy."""

    name = StringField(_l("Name as in the passport (Latin letters)"),
                       [DataRequired(), Length(max=200), PASSPORT_NAME], filters=[_strip])
    name_native = StringField(_l("Name in your own script (optional)"), [Optional(), Length(max=200)],
                              filters=[_strip])
    company = StringField(_l("Company"), [DataRequired(), Length(max=200)], filters=[_strip])
    country = SelectField(_l("Country or region"), [DataRequired()], default="")
    job_title = StringField(_l("Job title"), [Optional(), Length(max=100)], filters=[_strip])
    phone = StringField(_l("Phone"), [Optional(), PHONE], filters=[_strip])
    website = StringField(_l("Website"), [Optional(), Length(max=300),
                                          URL(message=_l("Enter a web address such as https://example.com."))],
                          filters=[_strip])
    categories = SelectMultipleField(_l("Purchase interests (product categories)"), coerce=int)
    purchase_volume = SelectField(_l("Annual purchase volume"), default="")
    products_sought = TextAreaField(_l("Products you are looking for"), [Optional(), Length(max=2000)])
    contact_consent = BooleanField(_l("Exhibitors may contact me about their products"))

    def __init__(self, *args, category_choices=(), locale="en", **kwargs):
        super().__init__(*args, **kwargs)
        self.country.choices = options([("", _l("Choose…"))] + countries.choices(locale))
        self.categories.choices = options(list(category_choices))
        self.purchase_volume.choices = options([("", _l("Not stated"))] + [(v.value, label) for v, label in
                                                                           VOLUME_LABELS.items()])


class _Password:
    password = PasswordField(_l("Password"), [DataRequired(), Length(min=8, max=200)])
    password_confirm = PasswordField(_l("Repeat the password"),
                                     [DataRequired(), EqualTo("password", message=_l("The passwords differ."))])
    hosted = BooleanField(_l("I apply to the hosted-buyer programme (hotel nights and transfers paid by the "
                             "organizer for selected buyers)"))


class BuyerRegistrationForm(_Password, BuyerProfileForm):
    """The public sign-up: account and profile on one page."""

    email = EmailField(_l("Your e-mail address (to sign in)"),
                       [DataRequired(), Length(max=254), Email(message=_l("Enter a valid e-mail address."))],
                       filters=[_lower])


class InvitationAcceptForm(_Password, BuyerProfileForm):
    """The invitee's answer: a password and the profile (the e-mail address is the invited one)."""


class InviteForm(ExpoForm):
    """The organizer invites a buyer by e-mail."""

    name = StringField(_l("Name as in the passport (Latin letters)"),
                       [DataRequired(), Length(max=200), PASSPORT_NAME], filters=[_strip])
    email = EmailField(_l("E-mail"), [DataRequired(), Length(max=254),
                                      Email(message=_l("Enter a valid e-mail address."))], filters=[_lower])
    company = StringField(_l("Company"), [Optional(), Length(max=200)], filters=[_strip])
    country = SelectField(_l("Country or region"), [DataRequired()], default="")
    language = SelectField(_l("Language of the invitation"), default="en",
                           choices=options([("en", "English"), ("zh", "简体中文")]))

    def __init__(self, *args, locale="en", **kwargs):
        super().__init__(*args, **kwargs)
        self.country.choices = options([("", _l("Choose…"))] + countries.choices(locale))


HOSTED_DECISIONS = [("approve", _l("Approve")), ("decline", _l("Decline"))]


class HostedDecisionForm(ExpoForm):
    """The organizer's decision on the hosted-buyer programme."""

    decision = SelectField(_l("Decision"), [InputRequired()], choices=options(HOSTED_DECISIONS))
    hotel_nights = Integer(_l("Hotel nights"), [Optional(), NumberRange(min=0, max=MAX_HOTEL_NIGHTS)], default=3)
    transfers = BooleanField(_l("Airport transfers"), default=True)
    note = TextAreaField(_l("Note (sent to the buyer)"), [Optional(), Length(max=2000)])


DELEGATION_CHOICES = [("", _l("All")), (queries.IN_DELEGATION, _l("In a delegation")),
                      (queries.INDEPENDENT, _l("Independent"))]
SORT_CHOICES = [("name", _l("Name")), ("company", _l("Company")), ("country", _l("Country or region")),
                ("newest", _l("Newest first"))]


class BuyerFilterForm(QueryForm):
    """The buyer list's filters, read from the query string (a GET form: nothing changes, no CSRF). The API takes
    the same parameters."""

    q = StringField(_l("Search"), [Optional(), Length(max=100)])
    country = SelectField(_l("Country or region"), coerce=str, default="", widget=QuickSelect())
    region = SelectField(_l("World region"), coerce=str, default="", widget=QuickSelect())
    category_id = SelectField(_l("Product category"), coerce=optional_int, widget=QuickSelect())
    status = SelectField(_l("Status"), coerce=str, default="", widget=QuickSelect())
    hosted_status = SelectField(_l("Hosted buyer"), coerce=str, default="", widget=QuickSelect())
    delegation = SelectField(_l("Delegation"), coerce=str, default="", widget=QuickSelect(),
                             choices=options(DELEGATION_CHOICES))
    purchase_volume = SelectField(_l("Annual purchase volume"), coerce=str, default="", widget=QuickSelect())
    sort = SelectField(_l("Sort by"), coerce=str, default=queries.DEFAULT_SORT, widget=QuickSelect(),
                       choices=options(SORT_CHOICES))
    desc = BooleanField(_l("Reverse order"))
    page = Integer(default=1, validators=[Optional(), NumberRange(min=1, max=1_000_000)])
    per_page = Integer(default=50, validators=[Optional(), NumberRange(min=1, max=200)])

    def __init__(self, formdata=None, *, category_choices=(), locale="en", **kwargs):
        super().__init__(formdata, **kwargs)
        every = _l("All")
        self.country.choices = options([("", every)] + countries.choices(locale))
        self.region.choices = options([("", every)] + regions.choices(locale))
        self.category_id.choices = options([(0, every)] + list(category_choices))
        self.status.choices = options([("", every)] + [(s.value, label) for s, label in STATUS_LABELS.items()])
        self.hosted_status.choices = options([("", every)] + [(s.value, label) for s, label in
                                                              HOSTED_LABELS.items()])
        self.purchase_volume.choices = options([("", every)] + [(v.value, label) for v, label in
                                                                VOLUME_LABELS.items()])

    def to_filter(self) -> queries.BuyerFilter:
        """The validated filters as a :class:`~expo.buyers.queries.BuyerFilter`."""
        d = self.data
        return queries.BuyerFilter(
            country=d["country"] or None, region=d["region"] or None, category_id=d["category_id"],
            status=d["status"] or None, hosted_status=d["hosted_status"] or None,
            delegation=d["delegation"] or None, purchase_volume=d["purchase_volume"] or None,
            q=(d["q"] or "").strip() or None, sort=d["sort"] or queries.DEFAULT_SORT, descending=bool(d["desc"]))

