"""Exhibitor list exports (CSV, XLSX). Data in, bytes out; the view sends them."""

from __future__ import annotations

import io
from collections.abc import Iterable

from flask_babel import gettext as _

from expo import countries, listing

MIMETYPES = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}


def exhibitor_headers() -> list[str]:
    return [_("Application"), _("Status"), _("Company name in Chinese"), _("Company name in English"),
            _("Country or region"), _("Province or state"), _("City"), _("Contact person"), _("Contact phone"),
            _("Contact e-mail"), _("Website"), _("Kind of space"), _("Number of standard booths"), _("Raw space in m²"),
            _("Corner booth"), _("Years exhibited before"), _("Submitted")]


def exhibitor_row(app, ex, lang: str) -> list:
    return [app.id, app.status, ex.name_zh or "", ex.name_en or "", countries.name(ex.country, lang), ex.province,
            ex.city, ex.contact_name, ex.contact_phone, ex.contact_email, ex.website, app.space_kind,
            app.booths_requested, app.raw_space_m2, app.corner_preference, app.years_exhibited,
            app.submitted_at.isoformat(sep=" ", timespec="minutes") if app.submitted_at else ""]


def exhibitors(rows: Iterable, fmt: str, lang: str) -> tuple[io.BytesIO, str]:
    """``rows`` of (SpaceApplication, Exhibitor) → the file and its MIME type."""
    data = (exhibitor_row(app, ex, lang) for app, ex in rows)
    body = listing.to_csv(exhibitor_headers(), data) if fmt == "csv" else \
        listing.to_xlsx(exhibitor_headers(), data, title="Exhibitors")
    return io.BytesIO(body), MIMETYPES[fmt]
