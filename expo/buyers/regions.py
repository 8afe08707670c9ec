"""World regions for grouping buyers' countries: the UN M49 subregions, named in Chinese and English by CLDR.

Data, not code: :data:`REGIONS` lists which country or region codes (ISO 3166-1 alpha-2, as :mod:`expo.countries`
has them) each world region holds. The region codes are the M49 numbers CLDR names (``"030"`` East Asia / 东亚),
so Babel gives both languages' names. Codes that belong to no inhabited region (Antarctica, uninhabited islands)
fall into :data:`OTHER`.
"""

from __future__ import annotations

from functools import cache

from babel import Locale
from flask_babel import lazy_gettext as _l

from expo.countries import lang_of

#: Region code → the country and region codes in it, in the order the organizer's pages list the regions.
REGIONS: dict[str, tuple[str, ...]] = {
    "030": ("CN", "HK", "MO", "TW", "JP", "KR", "KP", "MN"),  # East Asia
    "035": ("BN", "KH", "ID", "LA", "MY", "MM", "PH", "SG", "TH", "TL", "VN"),  # Southeast Asia
    "034": ("AF", "BD", "BT", "IN", "IR", "MV", "NP", "PK", "LK"),  # Southern Asia
    "143": ("KZ", "KG", "TJ", "TM", "UZ"),  # Central Asia
    "145": ("AM", "AZ", "BH", "CY", "GE", "IQ", "IL", "JO", "KW", "LB", "OM", "PS", "QA", "SA", "SY", "TR", "AE",
            "YE"),  # Western Asia
    "151": ("BY", "BG", "CZ", "HU", "MD", "PL", "RO", "RU", "SK", "UA"),  # Eastern Europe
    "154": ("AX", "CQ", "DK", "EE", "FI", "FO", "GB", "GG", "IE", "IM", "IS", "JE", "LT", "LV", "NO", "SE",
            "SJ"),  # Northern Europe
    "039": ("AD", "AL", "BA", "ES", "GI", "GR", "HR", "IT", "ME", "MK", "MT", "PT", "RS", "SI", "SM",
            "VA"),  # Southern Europe
    "155": ("AT", "BE", "CH", "DE", "FR", "LI", "LU", "MC", "NL"),  # Western Europe
    "015": ("DZ", "EA", "EG", "EH", "IC", "LY", "MA", "SD", "TN"),  # Northern Africa
    "202": ("AC", "AO", "BF", "BI", "BJ", "BW", "CD", "CF", "CG", "CI", "CM", "CV", "DG", "DJ", "ER", "ET", "GA",
            "GH", "GM", "GN", "GQ", "GW", "IO", "KE", "KM", "LR", "LS", "MG", "ML", "MR", "MU", "MW", "MZ", "NA",
            "NE", "NG", "RE", "RW", "SC", "SH", "SL", "SN", "SO", "SS", "ST", "SZ", "TA", "TD", "TG", "TZ", "UG",
            "YT", "ZA", "ZM", "ZW"),  # Sub-Saharan Africa
    "021": ("BM", "CA", "GL", "PM", "US"),  # Northern America
    "419": ("AG", "AI", "AR", "AW", "BB", "BL", "BO", "BQ", "BR", "BS", "BZ", "CL", "CO", "CR", "CU", "CW", "DM",
            "DO", "EC", "FK", "GD", "GF", "GP", "GT", "GY", "HN", "HT", "JM", "KN", "KY", "LC", "MF", "MQ", "MS",
            "MX", "NI", "PA", "PE", "PR", "PY", "SR", "SV", "SX", "TC", "TT", "UY", "VC", "VE", "VG",
            "VI"),  # Latin America and the Caribbean
    "009": ("AS", "AU", "CK", "CX", "CC", "FJ", "FM", "GU", "KI", "MH", "MP", "NC", "NF", "NR", "NU", "NZ", "PF",
            "PG", "PN", "PW", "SB", "TK", "TO", "TV", "UM", "VU", "WF", "WS"),  # Oceania
}

#: Where a code that lies in no region of :data:`REGIONS` is counted.
OTHER = "ZZ"

REGION_OF: dict[str, str] = {country: region for region, members in REGIONS.items() for country in members}


def region_of(country: str | None) -> str:
    """The region code of a country or region code (:data:`OTHER` for one in no region)."""
    return REGION_OF.get((country or "").upper(), OTHER)


def countries_in(region: str) -> tuple[str, ...]:
    """The country codes of a region; empty for :data:`OTHER` and for an unknown code."""
    return REGIONS.get(region, ())


def codes() -> tuple[str, ...]:
    """Every region code, in display order, :data:`OTHER` last."""
    return (*REGIONS, OTHER)


@cache
def _cldr_names(lang: str) -> dict[str, str]:
    territories = Locale.parse("zh_Hans" if lang == "zh" else "en").territories
    return {code: territories.get(code, code) for code in REGIONS}


def name(region: str, locale: str | None = "en") -> str:
    """The region's name in the reader's language."""
    if region == OTHER:
        return str(_l("Other regions"))
    return _cldr_names(lang_of(locale)).get(region, region)


def choices(locale: str | None = "en") -> list[tuple[str, str]]:
    """``(code, name)`` for every region, in display order."""
    return [(code, name(code, locale)) for code in codes()]
