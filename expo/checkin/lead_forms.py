"""Lead retrieval forms: the booth's scan, a lead's notes, rating and tags, and the leads list's filters. The API
validates its bodies and queries with the same classes. Every form accepts being built with no arguments."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import RadioField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, NumberRange, Optional

from expo import countries
from expo.checkin.leads import MAX_NOTES
from expo.forms import ExpoForm, Integer, QueryForm, QuickSelect, options

#: The most characters a scanned code may have before it is not even looked at (a badge code has 117).
MAX_CODE = 1000

RATING_LABELS = {0: _l("No rating"), 1: "★", 2: "★★", 3: "★★★", 4: "★★★★", 5: "★★★★★"}


def _rating(value) -> int:
    """A rating from a form or JSON: empty (or null) is no rating."""
    if value in (None, "", "None"):
        return 0
    return int(value)


def _strip(value):
    return value.strip() if isinstance(value, str) else value


class LeadScanForm(ExpoForm):
    """A badge code, typed by a keyboard-wedge scanner (and Enter) or read by the phone's camera."""

    code = StringField(_l("Badge code"), [DataRequired(message=_l("Scan or type a badge code.")),
                                          Length(max=MAX_CODE)], filters=[_strip])


class LeadForm(ExpoForm):
    """What the booth notes about a lead."""

    notes = TextAreaField(_l("Notes"), [Optional(), Length(max=MAX_NOTES)])
    rating = RadioField(_l("Rating"), coerce=_rating, default=0,
                        choices=options([(k, v) for k, v in RATING_LABELS.items()]))
    tags = StringField(_l("Tags"), [Optional(), Length(max=1000)],
                       description=_l("Separated by commas, e.g. distributor, sample request, follow up."))


class LeadFilterForm(QueryForm):
    """The leads list's filters (and the API's query): at least so many stars, a tag, a country, a search."""

    rating = SelectField(_l("Rating"), coerce=_rating, default=0, widget=QuickSelect(),
                         choices=options([(0, _l("Any"))] + [(n, _l("At least %(stars)s", stars="★" * n))
                                                             for n in range(1, 6)]))
    tag = StringField(_l("Tag"), [Optional(), Length(max=40)], filters=[_strip])
    country = SelectField(_l("Country or region"), coerce=str, default="", widget=QuickSelect())
    q = StringField(_l("Search"), [Optional(), Length(max=100)], filters=[_strip],
                    description=_l("Name, company, e-mail or notes"))
    page = Integer(default=1, validators=[Optional(), NumberRange(min=1, max=1_000_000)])
    per_page = Integer(default=50, validators=[Optional(), NumberRange(min=1, max=200)])

    def __init__(self, formdata=None, *, country_codes=(), locale="en", **kwargs):
        super().__init__(formdata, **kwargs)
        # Every country, so that a link with a country the list no longer holds is an empty list, not an error;
        # the ones the leads come from first.
        first = [(c, countries.name(c, locale)) for c in country_codes]
        self.country.choices = options([("", _l("All"))] + first + [
            (c, n) for c, n in countries.choices(locale) if c not in set(country_codes)])
