"""Badge forms: the print desk (search, print, reprint, reissue, revoke, issue on the spot, register a visitor),
the kiosk and the online visitor registration.

Every form here accepts being built with no arguments (tests/test_fuzz.py instantiates each form class).
"""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import EmailField, HiddenField, RadioField, SelectField, SelectMultipleField, StringField
from wtforms.validators import DataRequired, Email, Length, NumberRange, Optional, Regexp, ValidationError
from wtforms.widgets import CheckboxInput, ListWidget

from expo import countries
from expo.badges import layouts
from expo.badges.models import HolderKind, VisitorKind
from expo.forms import ExpoForm, Integer, QueryForm, QuickSelect, options

PHONE = Regexp(r"^\+?[0-9][0-9 ()\-]{4,38}$", message=_l("Enter a phone number: digits, spaces, +, - and brackets."))

VISITOR_KINDS = [
    (VisitorKind.VISITOR.value, _l("Trade visitor")),
    (VisitorKind.PRESS.value, _l("Press")),
    (VisitorKind.CONTRACTOR.value, _l("Contractor")),
]


def _strip(value):
    return " ".join(value.split()) if isinstance(value, str) else value


class DeskSearchForm(QueryForm):
    """The print desk's one search box: a name, company, phone, confirmation code, or a scanned badge code."""

    # A scanned badge code is 117 characters; a little room for what wedge scanners add (prefixes, spaces).
    q = StringField(_l("Name, company, phone or code"), [Optional(), Length(max=200)], filters=[_strip])


class PrintForm(ExpoForm):
    """Print a badge at the desk: the first print needs no reason, every reprint one."""

    reason = StringField(_l("Reason for the reprint"), [Optional(), Length(max=200)], filters=[_strip])
    layout = SelectField(_l("Paper"), default="", widget=QuickSelect())

    def __init__(self, *args, locale: str = "en", **kwargs):
        super().__init__(*args, **kwargs)
        self.layout.choices = options([("", _l("The badge type's own layout"))] + layouts.choices(locale))


class ReasonForm(ExpoForm):
    """Revoke, or revoke and reissue: always with a reason (it is kept with the badge and in the audit log)."""

    reason = StringField(_l("Reason"), [DataRequired(message=_l("Say why.")), Length(max=200)], filters=[_strip])


class IssueForm(ExpoForm):
    """Issue a badge to a person the desk found (who has none yet)."""

    holder_kind = HiddenField(validators=[DataRequired()])
    holder_id = Integer(validators=[DataRequired()])
    q = HiddenField()  # the search to go back to

    def validate_holder_kind(self, field):
        if field.data not in {str(k) for k in HolderKind} - {str(HolderKind.ORGANIZER)}:
            raise ValidationError(_l("Not a valid choice."))


class VisitorForm(ExpoForm):
    """A visitor registered by the print desk: trade visitor, press or contractor."""

    name = StringField(_l("Name"), [DataRequired(message=_l("Give your name.")), Length(max=200)], filters=[_strip])
    company = StringField(_l("Company"), [Optional(), Length(max=200)], filters=[_strip])
    country = SelectField(_l("Country or region"), [DataRequired()], default="CN", widget=QuickSelect())
    phone = StringField(_l("Phone"), [DataRequired(message=_l("Give a phone number.")), PHONE], filters=[_strip])
    email = EmailField(_l("E-mail (optional)"), [Optional(), Length(max=254),
                                                  Email(message=_l("Enter a valid e-mail address."))],
                       filters=[_strip])
    kind = SelectField(_l("Kind of visitor"), default=VisitorKind.VISITOR.value)

    def __init__(self, *args, locale: str = "en", **kwargs):
        super().__init__(*args, **kwargs)
        self.country.choices = options(countries.choices(locale))
        if self.kind is not None:  # the kiosk's and the online form have none
            self.kind.choices = options(VISITOR_KINDS)


class KioskForm(VisitorForm):
    """A walk-in visitor at the kiosk: trade visitors only (press and contractors go to the desk)."""

    kind = None


class OnlineVisitorForm(KioskForm):
    """Online pre-registration: the e-mail address is needed for the confirmation."""

    email = EmailField(_l("E-mail"), [DataRequired(message=_l("Give your e-mail address: the confirmation is sent "
                                                               "there.")), Length(max=254),
                                       Email(message=_l("Enter a valid e-mail address."))], filters=[_strip])


# --- badge types, the badge list and batch printing (engineer G: expo.badges.admin_views) --------------------------

def _optional_id(value):
    """A select's row id, or None for its empty "all" / "choose" option."""
    from expo.forms import db_id

    return None if value in (None, "", "None") else db_id(value)


class BadgeTypeForm(ExpoForm):
    """A badge type: its names, colour band, layout, and where and when it admits (nothing ticked: everywhere)."""

    code = StringField(_l("Code"), [Optional(), Length(max=16)], filters=[_strip],
                       description=_l("1 to 16 letters A–Z and digits, e.g. VIP; it cannot be changed later."))
    name_zh = StringField(_l("Name in Chinese"), [DataRequired(message=_l("Give the badge type a name.")),
                                                  Length(max=100)], filters=[_strip])
    name_en = StringField(_l("Name in English"), [DataRequired(message=_l("Give the badge type a name.")),
                                                  Length(max=100)], filters=[_strip])
    colour = StringField(_l("Colour band"), [DataRequired(), Regexp(r"^#[0-9a-fA-F]{6}$", message=_l(
        "Give the colour as #rrggbb, for example #1f6feb."))], default="#1f6feb", filters=[_strip])
    layout = SelectField(_l("Layout"), default="a6")
    areas = SelectMultipleField(_l("Halls admitted (none ticked: every hall)"), coerce=str,
                                widget=ListWidget(prefix_label=False), option_widget=CheckboxInput())
    days = SelectMultipleField(_l("Days admitted (none ticked: every day)"), coerce=str,
                               widget=ListWidget(prefix_label=False), option_widget=CheckboxInput())
    sort = Integer(_l("Sort"), [Optional(), NumberRange(min=-1000, max=1000)], default=0)

    def __init__(self, *args, locale: str = "en", halls=(), days=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.layout.choices = options(layouts.choices(locale))
        self.areas.choices = options(list(halls))
        self.days.choices = options(list(days))


HOLDER_KINDS = [
    (HolderKind.BUYER.value, _l("Every buyer")),
    (HolderKind.EXHIBITOR_STAFF.value, _l("The staff of every exhibitor holding a booth")),
    (HolderKind.VISITOR.value, _l("Every registered visitor")),
    (HolderKind.ORGANIZER.value, _l("Every organizer account")),
]
PRINT_BY = [("delegation", _l("A delegation")), ("pavilion", _l("The exhibitors of a pavilion")),
            ("badge_type", _l("A badge type (badges already issued)")), ("holder_kind", _l("Everyone of a kind")),
            ("selection", _l("The badges ticked in the badge list"))]


class BatchPrintForm(ExpoForm):
    """What one print job prints: a delegation, a pavilion, a badge type, everyone of a kind, or ticked badges."""

    by = RadioField(_l("Print"), choices=options(PRINT_BY), default="delegation")
    delegation_id = SelectField(_l("Delegation"), coerce=_optional_id, widget=QuickSelect())
    pavilion_id = SelectField(_l("Pavilion"), coerce=_optional_id)
    badge_type_id = SelectField(_l("Badge type"), coerce=_optional_id)
    holder_kind = SelectField(_l("Who"), choices=options(HOLDER_KINDS), default=HolderKind.BUYER.value)
    badge_ids = SelectMultipleField(coerce=_optional_id, validate_choice=False)
    layout = SelectField(_l("Layout"), default="")

    #: Which field holds the choice of each ``by``.
    FIELD_OF = {"delegation": "delegation_id", "pavilion": "pavilion_id", "badge_type": "badge_type_id",
                "holder_kind": "holder_kind", "selection": "badge_ids"}

    def __init__(self, *args, locale: str = "en", delegations=(), pavilions=(), badge_types=(), **kwargs):
        super().__init__(*args, **kwargs)
        choose = [("", _l("Choose…"))]
        self.delegation_id.choices = options(choose + list(delegations))
        self.pavilion_id.choices = options(choose + list(pavilions))
        self.badge_type_id.choices = options(choose + list(badge_types))
        self.layout.choices = options([("", _l("Each badge type's own layout"))] + layouts.choices(locale))

    def validate(self, extra_validators=None):
        ok = super().validate(extra_validators)
        name = self.FIELD_OF.get(self.by.data)
        if ok and name and not self._fields[name].data:
            field = self._fields[name]
            field.errors = [*field.errors, str(_l("Tick some badges in the badge list first.") if name == "badge_ids"
                                               else _l("Choose one."))]
            ok = False
        return ok

    def selection(self) -> dict:
        """The print job's selection (expo.badges.printing)."""
        name = self.FIELD_OF[self.by.data]
        value = self._fields[name].data
        if name == "badge_ids":
            value = list(dict.fromkeys(v for v in value if v))  # in the order ticked, once each
        return {name: value}


class BadgeFilterForm(QueryForm):
    """The badge list's filters, from the query string."""

    q = StringField(_l("Search"), [Optional(), Length(max=100)], filters=[_strip])
    badge_type_id = SelectField(_l("Badge type"), coerce=_optional_id, default=None)
    delegation_id = SelectField(_l("Delegation"), coerce=_optional_id, default=None, widget=QuickSelect())
    exhibitor = StringField(_l("Exhibitor"), [Optional(), Length(max=100)], filters=[_strip])
    exhibitor_id = Integer(validators=[Optional(), NumberRange(min=1, max=2**31 - 1)])
    holder_kind = SelectField(_l("Holder"), default="", choices=options([("", _l("All"))] + [
        (HolderKind.EXHIBITOR_STAFF.value, _l("Exhibitor staff")), (HolderKind.BUYER.value, _l("Buyers")),
        (HolderKind.VISITOR.value, _l("Visitors")), (HolderKind.ORGANIZER.value, _l("Organizer"))]))
    status = SelectField(_l("Status"), default="", choices=options([("", _l("All")), ("active", _l("Active")),
                                                                    ("revoked", _l("Revoked"))]))
    printed = SelectField(_l("Printed"), default="", choices=options([("", _l("All")), ("yes", _l("Printed")),
                                                                      ("no", _l("Not printed yet"))]))
    page = Integer(default=1, validators=[Optional(), NumberRange(min=1, max=1_000_000)])
    per_page = Integer(default=50, validators=[Optional(), NumberRange(min=1, max=200)])

    def __init__(self, formdata=None, *, badge_types=(), delegations=(), **kwargs):
        super().__init__(formdata, **kwargs)
        self.badge_type_id.choices = options([("", _l("All"))] + list(badge_types))
        self.delegation_id.choices = options([("", _l("All"))] + list(delegations))
