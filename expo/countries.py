"""Countries and regions by ISO 3166-1 alpha-2 code, named in Chinese and English from the CLDR data in Babel.

Taiwan, Hong Kong and Macao are listed as regions of China, as Chinese trade fairs name them.
"""

from __future__ import annotations

from functools import cache

from babel import Locale

_REGION_NAMES = {
    "TW": ("中国台湾", "Taiwan, China"),
    "HK": ("中国香港", "Hong Kong, China"),
    "MO": ("中国澳门", "Macao, China"),
}
_NOT_COUNTRIES = {"EU", "EZ", "UN", "ZZ", "QO", "XA", "XB", "XK"}


@cache
def _names(lang: str) -> dict[str, str]:
    territories = Locale.parse("zh_Hans" if lang == "zh" else "en").territories
    names = {code: name for code, name in territories.items() if len(code) == 2 and code.isalpha()
             and code.isupper() and code not in _NOT_COUNTRIES}
    for code, (zh, en) in _REGION_NAMES.items():
        names[code] = zh if lang == "zh" else en
    return names


def lang_of(locale: str | None) -> str:
    return "zh" if locale and str(locale).startswith("zh") else "en"


def name(code: str | None, locale: str | None = "en") -> str:
    if not code:
        return ""
    return _names(lang_of(locale)).get(code.upper(), code)


def codes() -> frozenset[str]:
    return frozenset(_names("en"))


def choices(locale: str | None = "en") -> list[tuple[str, str]]:
    """``(code, name)`` pairs sorted for the reader: China first, then by name (by pinyin order for Chinese)."""
    names = _names(lang_of(locale))
    rest = sorted((c for c in names if c != "CN"), key=lambda c: names[c] if lang_of(locale) == "en" else _names("en")[c])
    return [("CN", names["CN"])] + [(c, names[c]) for c in rest]
