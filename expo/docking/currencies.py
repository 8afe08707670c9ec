"""Exchange rates to yuan, kept as data: how many yuan (CNY) one unit of each currency is worth.

The reports add up cooperation values in yuan. An outcome keeps the value in the currency it was agreed in and its
value in yuan at the rate of the day it was recorded (:attr:`MeetingOutcome.value_cny`), so a later change of these
rates does not rewrite the figures already reported.

The table holds indicative mid rates of :data:`RATES_DATE` (rounded to four significant digits; the organizer's
finance office is the authority). An installation sets its own, for instance the central parity of the expo's first
day, with the app config key ``DOCKING_CNY_RATES`` (``EXPO_DOCKING_CNY_RATES`` in the environment, as JSON):
``{"USD": "7.10", "EUR": "8.05"}``. Those replace or add single currencies; the rest stay as below.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

#: The day :data:`RATES` describe.
RATES_DATE = date(2026, 11, 2)

#: Yuan per one unit of the currency (ISO 4217). CNY first, then the currencies of the expo's buyer markets.
RATES: dict[str, Decimal] = {
    "CNY": Decimal("1"),
    "USD": Decimal("7.12"),
    "EUR": Decimal("8.23"),
    "GBP": Decimal("9.36"),
    "JPY": Decimal("0.0468"),
    "HKD": Decimal("0.9155"),
    "TWD": Decimal("0.2298"),
    "KRW": Decimal("0.004962"),
    "INR": Decimal("0.08034"),
    "RUB": Decimal("0.08812"),
    "BRL": Decimal("1.321"),
    "AED": Decimal("1.939"),
    "SAR": Decimal("1.899"),
    "SGD": Decimal("5.466"),
    "MYR": Decimal("1.694"),
    "THB": Decimal("0.2191"),
    "VND": Decimal("0.0002703"),
    "IDR": Decimal("0.0004281"),
    "PHP": Decimal("0.1213"),
    "AUD": Decimal("4.652"),
    "NZD": Decimal("4.071"),
    "CAD": Decimal("5.078"),
    "MXN": Decimal("0.3853"),
    "CHF": Decimal("8.851"),
    "PLN": Decimal("1.936"),
    "TRY": Decimal("0.1694"),
    "ZAR": Decimal("0.4101"),
    "NGN": Decimal("0.004871"),
    "EGP": Decimal("0.1497"),
    "KZT": Decimal("0.01352"),
    "PKR": Decimal("0.02519"),
    "BDT": Decimal("0.05843"),
}

#: The most yuan one unit of a configured currency may be worth: a guard against a rate typed the wrong way round.
MAX_RATE = Decimal("1000")


def rates(overrides: Mapping[str, object] | None = None) -> dict[str, Decimal]:
    """The rate table with ``overrides`` (currency → yuan per unit, as text or number) applied.

    Raises ``ValueError`` for a code that is not three letters or a rate that is not a positive number up to
    :data:`MAX_RATE` (a configuration mistake should stop the app, not skew every report)."""
    table = dict(RATES)
    for code, value in (overrides or {}).items():
        code = str(code).upper()
        if len(code) != 3 or not code.isalpha() or not code.isascii():
            raise ValueError(f"not a currency code: {code!r}")
        try:
            rate = Decimal(str(value))
        except InvalidOperation:
            raise ValueError(f"not a rate for {code}: {value!r}") from None
        if not rate.is_finite() or not 0 < rate <= MAX_RATE:
            raise ValueError(f"not a rate for {code}: {value!r}")
        table[code] = rate
    return table


def codes(table: Mapping[str, Decimal] | None = None) -> list[str]:
    """The currency codes known, CNY and USD first, then alphabetically."""
    keys = list(table or RATES)
    first = [c for c in ("CNY", "USD") if c in keys]
    return first + sorted(c for c in keys if c not in first)


def to_cny(value: Decimal | int | str, currency: str, table: Mapping[str, Decimal] | None = None) -> Decimal:
    """``value`` of ``currency`` in yuan, rounded half up to the fen. ``KeyError`` for an unknown currency."""
    rate = (table or RATES)[currency]
    return (Decimal(value) * rate).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
