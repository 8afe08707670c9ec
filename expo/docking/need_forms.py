"""Forms of purchase needs, offers, the organizer's lists' filters and the recommendations. The API validates its
bodies and queries with the same classes. Every form accepts being built with no arguments (choices that come from
the database are passed as keyword arguments)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import BooleanField, DateField, SelectField, SelectMultipleField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, NumberRange, Optional

from expo import countries
from expo.buyers import regions
from expo.docking.matching import DEFAULT_LIMIT, MAX_LIMIT
from expo.docking.models import PriceBand
from expo.docking.needs import MAX_DESCRIPTION, MAX_PAIRS, MAX_TITLE
from expo.forms import ExpoForm, Integer, QueryForm, QuickSelect, db_id, options

PRICE_BAND_LABELS = {
    PriceBand.UNDER_5: _l("Under US$5 a pair"),
    PriceBand.FROM_5: _l("US$5–10 a pair"),
    PriceBand.FROM_10: _l("US$10–20 a pair"),
    PriceBand.FROM_20: _l("US$20–50 a pair"),
    PriceBand.OVER_50: _l("Over US$50 a pair"),
}


def price_band_label(band: str) -> str:
    return str(PRICE_BAND_LABELS.get(band, band)) if band else ""


def _optional_id(value):
    """A category filter: empty (or 0) is "all"."""
    if value in (None, "", "0", 0, "None"):
        return None
    return db_id(value)


def _strip(value):
    return value.strip() if isinstance(value, str) else value


def market_choices(locale: str = "en") -> list[tuple[str, str]]:
    """World regions first, then every country or region."""
    return [(code, regions.name(code, locale)) for code in regions.REGIONS] + countries.choices(locale)


def _pairs(label):
    return Integer(label, [Optional(), NumberRange(min=0, max=MAX_PAIRS)], default=0)


_BANDS = [("", _l("Not said"))] + list(PRICE_BAND_LABELS.items())


class _CategoryForm(ExpoForm):
    category_id = SelectField(_l("Product category"), coerce=db_id,
                              validators=[DataRequired(message=_l("Choose a product category from the list."))])
    price_band = SelectField(_l("Price band"), default="", choices=options(_BANDS))
    markets = SelectMultipleField(_l("Markets"), coerce=str, widget=QuickSelect(multiple=True),
                                  description=_l("Countries, regions or world regions"))
    description = TextAreaField(_l("Description"), [Optional(), Length(max=MAX_DESCRIPTION)])

    def __init__(self, *args, category_choices=(), locale="en", **kwargs):
        super().__init__(*args, **kwargs)
        self.category_id.choices = options(category_choices)
        self.markets.choices = options(market_choices(locale))


class NeedForm(_CategoryForm):
    """A buyer's (or a delegation's) purchase need."""

    title = StringField(_l("What you want to buy"), [DataRequired(), Length(max=MAX_TITLE)], filters=[_strip],
                        description=_l("e.g. Men's running shoes, EVA sole, OEM"))
    quantity_pairs = _pairs(_l("Quantity (pairs per order)"))
    delivery_from = DateField(_l("Delivery from"), [Optional()])
    delivery_until = DateField(_l("Delivery until"), [Optional()])


class OfferForm(_CategoryForm):
    """An exhibitor's offer."""

    products = StringField(_l("Products"), [DataRequired(), Length(max=MAX_TITLE)], filters=[_strip],
                           description=_l("e.g. Running shoes, knitted uppers"))
    min_order_pairs = _pairs(_l("Minimum order (pairs)"))
    monthly_capacity_pairs = _pairs(_l("Monthly capacity (pairs)"))
    oem = BooleanField(_l("OEM: we make to the buyer's design and brand"))
    odm = BooleanField(_l("ODM: we design and make under the buyer's brand"))
    certifications = StringField(_l("Certifications"), [Optional(), Length(max=800)],
                                 description=_l("Separated by commas, e.g. ISO 9001, BSCI"))


class OwnerForm(ExpoForm):
    """Whose need the organizer (or a leader of several delegations) publishes: a buyer or a delegation."""

    buyer_id = Integer(_l("Buyer"), [Optional(), NumberRange(min=1, max=2**31 - 1)])
    delegation_id = Integer(_l("Delegation"), [Optional(), NumberRange(min=1, max=2**31 - 1)])


class ExhibitorIdForm(ExpoForm):
    """For which exhibitor the organizer publishes an offer."""

    exhibitor_id = Integer(_l("Exhibitor"), [Optional(), NumberRange(min=1, max=2**31 - 1)])


class DocketFilterForm(QueryForm):
    """The organizer's lists of needs and offers (and the API's query): category, country, active only, page."""

    # An id that is no category filters to an empty list (a stale link), not an error.
    category = SelectField(_l("Product category"), coerce=_optional_id, default=None, widget=QuickSelect(),
                           validate_choice=False)
    country = SelectField(_l("Country or region"), coerce=str, default="", widget=QuickSelect())
    active = BooleanField(_l("Active only"))
    page = Integer(default=1, validators=[Optional(), NumberRange(min=1, max=1_000_000)])
    per_page = Integer(default=50, validators=[Optional(), NumberRange(min=1, max=200)])

    def __init__(self, formdata=None, *, category_choices=(), locale="en", **kwargs):
        super().__init__(formdata, **kwargs)
        self.category.choices = options([("", _l("All"))] + list(category_choices))
        self.country.choices = options([("", _l("All"))] + countries.choices(locale))


class RecommendationQueryForm(QueryForm):
    """How many recommendations to show."""

    limit = Integer(_l("How many"), [Optional(), NumberRange(min=1, max=MAX_LIMIT)], default=DEFAULT_LIMIT)
