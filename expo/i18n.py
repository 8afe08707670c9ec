"""Language choice and bilingual names. Simplified Chinese and English; the browser decides until the user does."""

from __future__ import annotations

from flask import has_request_context, request, session
from flask_babel import get_locale
from flask_login import current_user

LANGUAGES = {"en": "English", "zh": "简体中文"}


def select_locale() -> str | None:
    """Babel's locale selector: explicit choice in the session, then the account's, then the browser's."""
    if not has_request_context():  # CLI commands and services called outside a request: the default language
        return None
    chosen = session.get("locale")
    if chosen in LANGUAGES:
        return chosen
    if current_user and current_user.is_authenticated and current_user.locale in LANGUAGES:
        return current_user.locale
    return request.accept_languages.best_match(["en", "zh", "zh-CN", "zh-Hans", "zh-TW"], default="en")[:2]


def current_lang() -> str:
    return "zh" if str(get_locale() or "en").startswith("zh") else "en"


def localized(obj, attr: str = "name", lang: str | None = None) -> str:
    """``obj.<attr>_zh`` or ``obj.<attr>_en`` for the reader's language, falling back to the other."""
    if obj is None:
        return ""
    lang = lang or current_lang()
    first, second = ("zh", "en") if lang == "zh" else ("en", "zh")
    return getattr(obj, f"{attr}_{first}", None) or getattr(obj, f"{attr}_{second}", None) or ""
