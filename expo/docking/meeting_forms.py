"""Meeting forms: a request (pages and API), an answer or cancellation with a note, and the meetings list's filters.
Every form accepts being built with no arguments (the fuzz test builds them so)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, NumberRange, Optional

from expo import countries
from expo.docking.meetings import MAX_MESSAGE, MAX_NOTE, STATUS_LABELS
from expo.exhibitors.forms import optional_int
from expo.forms import ExpoForm, Integer, QueryForm, QuickSelect, db_id, options

_ID_RANGE = NumberRange(min=1, max=2**31 - 1)


def _strip(value):
    return value.strip() if isinstance(value, str) else value


class MeetingRequestForm(ExpoForm):
    """A request as the page asks it: the parties are chosen from what the asker may pick (the view fills the
    choices: a leader picks one of the members; the party asked is fixed by the link), an optional purchase need
    and offer it is about, and a message."""

    buyer_id = SelectField(_l("Buyer"), coerce=db_id, widget=QuickSelect(), choices=[],
                           validators=[DataRequired(message=_l("Choose the buyer."))])
    exhibitor_id = SelectField(_l("Exhibitor"), coerce=db_id, widget=QuickSelect(), choices=[],
                               validators=[DataRequired(message=_l("Choose the exhibitor."))])
    need_id = SelectField(_l("About this purchase need"), coerce=optional_int, widget=QuickSelect(),
                          choices=options([(None, "")]))
    offer_id = SelectField(_l("About this offer"), coerce=optional_int, widget=QuickSelect(),
                           choices=options([(None, "")]))
    message = TextAreaField(_l("Message"), [Optional(), Length(max=MAX_MESSAGE)], filters=[_strip],
                            description=_l("What you would like to talk about: products, quantities, markets."))


class MeetingBodyForm(ExpoForm):
    """The API's request body (and the organizer's form, which may name any buyer and exhibitor by id)."""

    buyer_id = Integer(_l("Buyer"), [Optional(), _ID_RANGE],
                       description=_l("The buyer: yourself by default; a leader names one of the members."))
    exhibitor_id = Integer(_l("Exhibitor"), [Optional(), _ID_RANGE],
                           description=_l("The exhibitor: your own company by default for an exhibitor's account."))
    need_id = Integer(_l("About this purchase need"), [Optional(), _ID_RANGE])
    offer_id = Integer(_l("About this offer"), [Optional(), _ID_RANGE])
    message = TextAreaField(_l("Message"), [Optional(), Length(max=MAX_MESSAGE)], filters=[_strip])


class MeetingAnswerForm(ExpoForm):
    """Accept, decline or cancel, with an optional note (for instance why it is declined)."""

    note = TextAreaField(_l("Note"), [Optional(), Length(max=MAX_NOTE)], filters=[_strip])


def session_choice(value):
    """The session filter: empty for any, 0 for "not scheduled", else a session id."""
    if value in (None, "", "None"):
        return None
    number = int(value)
    if number == 0:
        return 0
    return db_id(number)


class MeetingFilterForm(QueryForm):
    """The meetings list's filters (and the API's query): status, docking session, buyer's country, a search."""

    status = SelectField(_l("Status"), coerce=str, default="", widget=QuickSelect(),
                         choices=options([("", _l("Any"))] + [(str(k), v) for k, v in STATUS_LABELS.items()]))
    session_id = SelectField(_l("Docking session"), coerce=session_choice, default=None, widget=QuickSelect())
    country = SelectField(_l("Country or region"), coerce=str, default="", widget=QuickSelect())
    q = StringField(_l("Search"), [Optional(), Length(max=100)], filters=[_strip],
                    description=_l("Buyer, company or exhibitor"))
    page = Integer(default=1, validators=[Optional(), NumberRange(min=1, max=1_000_000)])
    per_page = Integer(default=50, validators=[Optional(), NumberRange(min=1, max=200)])

    def __init__(self, formdata=None, *, sessions=(), country_codes=(), locale="en", **kwargs):
        super().__init__(formdata, **kwargs)
        self.session_id.choices = options([(None, _l("Any")), (0, _l("Not scheduled"))] + [
            (s.id, s.display_name(locale)) for s in sessions])
        first = [(c, countries.name(c, locale)) for c in country_codes]
        self.country.choices = options([("", _l("All"))] + first + [
            (c, n) for c, n in countries.choices(locale) if c not in set(country_codes)])
