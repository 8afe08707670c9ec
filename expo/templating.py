"""Template helpers: bilingual names, country names, status labels, the language switch."""

from __future__ import annotations

import re

from flask import Flask, request, url_for
from flask_babel import format_datetime

from expo import audit, countries
from expo.exhibitors.forms import EmptyForm
from expo.exhibitors.services import STATUS_LABELS
from expo.i18n import LANGUAGES, current_lang, localized


def register(app: Flask) -> None:
    # Globals, not a context processor: macros imported without context see them too.
    app.jinja_env.globals.update(
        LANGUAGES=LANGUAGES,
        localized=localized,
        country_name=lambda code: countries.name(code, current_lang()),
        status_label=lambda s: STATUS_LABELS.get(s, s),
        action_label=audit.action_label,
        # Only the token is needed: formdata=None keeps the page from parsing the request body again (an error page
        # about a body that was too large or malformed would otherwise fail the same way while rendering).
        csrf_form=lambda: EmptyForm(formdata=None),
        page_url=_page_url,
    )

    @app.context_processor
    def language():
        return {"lang": current_lang()}

    app.jinja_env.filters["dt"] = lambda d: format_datetime(d, "short") if d else ""
    app.jinja_env.filters["hide_reset_links"] = hide_reset_links


_RESET_LINK = re.compile(r"(/password/reset/|/buyers/invitation/|/visit/badge/)[^\s]+")


def hide_reset_links(text: str) -> str:
    """Mail text without the secret part of password-reset, buyer-invitation and visitor-badge links: staff
    reading the outbox must not be able to take over the account (an admin's, say) someone asked a reset for, or
    answer an invitation meant for someone else."""
    return _RESET_LINK.sub(r"\1…", text or "")


def _page_url(page: int, **changes) -> str:
    """This list's URL with another page (or other filters), keeping the current query."""
    args = request.args.to_dict()
    args.update({k: v for k, v in changes.items()})
    args["page"] = page
    return url_for(request.endpoint, **(request.view_args or {}), **args)
