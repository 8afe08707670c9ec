"""Lead retrieval pages for exhibitors (blueprint ``leads``) and the leads API (blueprint ``leads_api``).

Pages: the booth's scan page (``/exhibitor/leads/scan``: a keyboard-wedge scanner types the code and Enter into a
plain form, so it works without JavaScript; the phone's camera fills the same form, ``expo/static/leads.js`` with
the gate's shared ``scanner.js``), a lead's page with its notes, rating and tags, and the leads list with filters
and CSV / XLSX export. The API (``/api/v1/leads``) does the same with a bearer token.

Every lead belongs to one exhibitor: another exhibitor's lead is "not found" (404), on pages and API alike. What a
lead shows of the person is :mod:`expo.checkin.leads`' rule (contact details only with a buyer's consent).
"""

from __future__ import annotations

import io
from typing import Any

from flask import Blueprint, current_app, flash, jsonify, redirect, render_template, request, send_file, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from expo import audit, countries, listing
from expo.api import schemas as s
from expo.api.bodies import json_body, validated
from expo.api.openapi import operation
from expo.auth.access import allow
from expo.auth.models import Role
from expo.badges.models import HolderKind
from expo.checkin import leads
from expo.checkin.lead_forms import RATING_LABELS, LeadFilterForm, LeadForm, LeadScanForm
from expo.errorpages import error_response
from expo.errors import InvalidInput
from expo.exhibitors.models import Exhibitor
from expo.exhibitors.services import current_expo
from expo.extensions import db
from expo.formflow import filter_args, run_form
from expo.forms import form_errors
from expo.i18n import current_lang
from expo.venue.models import Expo

bp = Blueprint("leads", __name__)
api_bp = Blueprint("leads_api", __name__, url_prefix="/api/v1/leads")

MIMETYPES = {"csv": "text/csv; charset=utf-8",
             "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}
FILTER_KEYS = ("rating", "tag", "country", "q")
#: The leads shown under the scan field: the last few scanned.
RECENT = 5

KIND_LABELS = {
    HolderKind.BUYER: _l("Buyer"),
    HolderKind.VISITOR: _l("Visitor"),
    HolderKind.EXHIBITOR_STAFF: _l("Exhibitor"),
    HolderKind.ORGANIZER: _l("Organizer"),
}


def kind_label(kind: str) -> str:
    return str(KIND_LABELS.get(kind, kind))


def _mine() -> tuple[Expo, Exhibitor]:
    return current_expo(), leads.exhibitor_of(current_user)


def _filter(expo: Expo, exhibitor: Exhibitor) -> tuple[LeadFilterForm, leads.LeadFilter | None]:
    form = LeadFilterForm(request.args, country_codes=leads.countries_of(exhibitor, expo), locale=current_lang())
    if not form.validate():
        return form, None
    d = form.data
    return form, leads.LeadFilter(rating=d["rating"] or None, tag=d["tag"] or None, country=d["country"] or None,
                                  q=d["q"] or None)



def _page_size(form: LeadFilterForm) -> int:
    return form.per_page.data or int(current_app.config.get("PAGE_SIZE", 50))


# --- pages -------------------------------------------------------------------------------------------------------

@bp.get("/exhibitor/leads")
@allow(Role.EXHIBITOR)
def index():
    expo, exhibitor = _mine()
    form, flt = _filter(expo, exhibitor)
    if flt is None:
        return render_template("leads/list.html", form=form, page=None, rows=[], args={}, exhibitor=exhibitor), 400
    page = listing.paginate(leads.lead_query(exhibitor, expo, flt), form.page.data or 1, _page_size(form))
    return render_template("leads/list.html", form=form, page=page, rows=leads.views(page.items, current_lang()),
                           args=filter_args(FILTER_KEYS), exhibitor=exhibitor, kind_label=kind_label)


@bp.route("/exhibitor/leads/scan", methods=["GET", "POST"])
@allow(Role.EXHIBITOR)
def scan():
    expo, exhibitor = _mine()
    form = LeadScanForm()
    outcome = run_form(form, lambda: leads.capture(current_user, expo, exhibitor, form.code.data or ""))
    if outcome.ok:
        captured: leads.Capture = outcome.value
        flash(_("New lead.") if captured.created else _("Already one of your leads (scanned before)."),
              "success" if captured.created else "warning")
        return redirect(url_for("leads.detail", lead_id=captured.lead.id))
    if request.method == "POST":
        form.code.data = ""  # the next scan goes into an empty field
    recent = leads.views(db.session.execute(leads.lead_query(exhibitor, expo).limit(RECENT)), current_lang())
    return render_template("leads/scan.html", form=form, recent=recent, exhibitor=exhibitor,
                           kind_label=kind_label, scanner_labels=_scanner_labels()), outcome.status


def _scanner_labels() -> dict[str, str]:
    return {"camera_unavailable": _("Camera scanning needs a browser with barcode detection (Chrome on Android). "
                                    "Use a barcode scanner or type the code."),
            "camera_error": _("The camera could not be started: %(message)s", message="{message}"),
            "camera_start": _("Scan with the camera"),
            "camera_stop": _("Stop the camera")}


@bp.route("/exhibitor/leads/<int:lead_id>", methods=["GET", "POST"])
@allow(Role.EXHIBITOR)
def detail(lead_id: int):
    expo, exhibitor = _mine()
    lead = leads.lead_for(exhibitor, lead_id)
    if request.method == "GET":
        form = LeadForm(data={"notes": lead.notes, "rating": lead.rating, "tags": ", ".join(lead.tags or [])})
    else:
        form = LeadForm()
    outcome = run_form(form, lambda: leads.update_lead(current_user, lead, notes=form.notes.data or "",
                                                       rating=form.rating.data or 0, tags=form.tags.data or ""))
    if outcome.ok:
        flash(_("Saved."), "success")
        return redirect(url_for("leads.detail", lead_id=lead.id))
    return render_template("leads/lead.html", form=form, lead=leads.view_of(lead, current_lang()),
                           kind_label=kind_label, ratings=RATING_LABELS), outcome.status


@bp.get("/exhibitor/leads.<fmt>")
@allow(Role.EXHIBITOR)
def export(fmt: str):
    if fmt not in MIMETYPES:
        return error_response(404, _("Export as .csv or .xlsx."), "not_found")
    expo, exhibitor = _mine()
    _form, flt = _filter(expo, exhibitor)
    if flt is None:
        return error_response(400, _("The filters are not valid."), "invalid")
    lang = current_lang()
    views = leads.views(db.session.execute(leads.lead_query(exhibitor, expo, flt)), lang)
    rows = list(leads.export_rows(views, lang, kind_label=lambda k: k))
    body = listing.to_csv(leads.EXPORT_HEADERS, rows) if fmt == "csv" else \
        listing.to_xlsx(leads.EXPORT_HEADERS, rows, title="Leads")
    # An export carries people's contact details out of the app: who took which, and how many, is kept.
    audit.record(current_user, "leads_exported", exhibitor, exhibitor_id=exhibitor.id, format=fmt, rows=len(rows))
    db.session.commit()
    return send_file(io.BytesIO(body), mimetype=MIMETYPES[fmt], as_attachment=True,
                     download_name=f"leads-{expo.code}.{fmt}")


# --- API -------------------------------------------------------------------------------------------------------------

LEAD = {"id": "integer", "badge_id": "integer", "kind": {"type": "string", "enum": [k.value for k in HolderKind],
                                                         "description": "whose badge: buyer, visitor, "
                                                                        "exhibitor_staff"},
        "name": "string", "name_native": "string",
        "company": {"type": "string", "description": "empty for a buyer who did not consent"},
        "country": "string", "country_name": "string",
        "contact_consent": {"type": "boolean", "description": "the buyer agreed to be contacted: the contact "
                                                              "fields are filled only then"},
        "email": "string", "phone": "string", "job_title": "string",
        "interests": {"type": "array", "items": {"type": "string"}}, "products_sought": "string",
        "notes": "string", "rating": {"type": "integer", "minimum": 0, "maximum": 5, "description": "0: none"},
        "tags": {"type": "array", "items": {"type": "string"}}, "scanned_by": "string", "created_at": "string",
        "updated_at": "string"}
LEAD_CREATED = {**LEAD, "created": {"type": "boolean", "description": "false: the badge was already a lead"}}
TAGS_BODY = {"type": ["string", "array", "null"], "items": {"type": "string"}, "maxLength": 1000,
             "description": "comma-separated text or a list; stored lower-case, each tag once"}
NOTES_BODY = {"type": ["string", "null"], "maxLength": leads.MAX_NOTES}
RATING_BODY = {"type": ["integer", "null"], "minimum": 0, "maximum": 5, "description": "1–5 stars; 0 or null: none"}
CREATE_BODY = {"type": "object", "required": ["code"], "properties": {
    "code": {"type": "string", "minLength": 1, "maxLength": 1000, "description": "the text of the badge's QR code"},
    "notes": NOTES_BODY, "rating": RATING_BODY, "tags": TAGS_BODY}}
UPDATE_BODY = {"type": "object", "properties": {"notes": NOTES_BODY, "rating": RATING_BODY, "tags": TAGS_BODY}}


def lead_json(view: leads.LeadView, lang: str, **extra: Any) -> dict[str, Any]:
    return {"id": view.id, "badge_id": view.badge_id, "kind": view.holder_kind, "name": view.name,
            "name_native": view.name_native, "company": view.company, "country": view.country,
            "country_name": countries.name(view.country, lang) if view.country else "",
            "contact_consent": view.contact_consent, "email": view.email, "phone": view.phone,
            "job_title": view.job_title, "interests": view.interests, "products_sought": view.products_sought,
            "notes": view.notes, "rating": view.rating, "tags": view.tags, "scanned_by": view.scanned_by,
            "created_at": s._value(view.created_at), "updated_at": s._value(view.updated_at), **extra}


def _note_fields(payload: dict[str, Any]) -> dict[str, Any]:
    """The notes, rating and tags of a body, validated by the page's form: only those the body names."""
    body = {k: payload[k] for k in ("notes", "rating", "tags") if k in payload}
    if isinstance(body.get("tags"), list) and all(isinstance(t, str) for t in body["tags"]):
        body["tags"] = ", ".join(body["tags"])
    form = validated(LeadForm, body)
    return {"notes": form.notes.data or "" if "notes" in body else None,
            "rating": form.rating.data or 0 if "rating" in body else None,
            "tags": form.tags.data or "" if "tags" in body else None}


@api_bp.get("")
@allow(Role.EXHIBITOR)
@operation("Your leads, filtered and paginated like the leads page", tag="leads", query=LeadFilterForm,
           response=s.page_schema(s.schema(LEAD)),
           description="Contact details (company of a buyer, e-mail, phone, job title, interests) only for buyers "
                       "who consented to be contacted.")
def api_list():
    expo, exhibitor = _mine()
    form, flt = _filter(expo, exhibitor)
    if flt is None:
        errors = form_errors(form)
        raise InvalidInput(errors)
    page = listing.paginate(leads.lead_query(exhibitor, expo, flt), form.page.data or 1, _page_size(form))
    lang = current_lang()
    return jsonify(items=[lead_json(v, lang) for v in leads.views(page.items, lang)], page=page.page,
                   per_page=page.per_page, total=page.total, pages=page.pages)


@api_bp.post("")
@allow(Role.EXHIBITOR)
@operation("Scan a badge at your booth: the lead for it, created the first time", tag="leads", body=CREATE_BODY,
           response=s.schema(LEAD_CREATED),
           description="The code is verified like at the gate (signature, current serial, badge active): a refusal "
                       "is 422 with a reason code (malformed, bad_signature, unknown_key, unknown_badge, revoked, "
                       "own_staff, organizer). Scanning the same badge again returns its lead with created: false; "
                       "notes, rating and tags in the body are applied to it.")
def api_create():
    payload = json_body()
    code = validated(LeadScanForm, {"code": payload.get("code")}).code.data or ""
    fields = _note_fields(payload)
    expo, exhibitor = _mine()
    captured = leads.capture(current_user, expo, exhibitor, code)
    leads.update_lead(current_user, captured.lead, **fields)
    out = lead_json(leads.view_of(captured.lead, current_lang()), current_lang(), created=captured.created)
    db.session.commit()
    return jsonify(out)


@api_bp.get("/<int:lead_id>")
@allow(Role.EXHIBITOR)
@operation("One of your leads", tag="leads", response=s.schema(LEAD))
def api_get(lead_id: int):
    _expo, exhibitor = _mine()
    lead = leads.lead_for(exhibitor, lead_id)
    return jsonify(lead_json(leads.view_of(lead, current_lang()), current_lang()))


@api_bp.patch("/<int:lead_id>")
@allow(Role.EXHIBITOR)
@operation("Change a lead's notes, rating or tags", tag="leads", body=UPDATE_BODY, response=s.schema(LEAD),
           description="Only the fields sent change; null empties a field (rating null: no rating).")
def api_update(lead_id: int):
    payload = json_body()
    _expo, exhibitor = _mine()
    lead = leads.lead_for(exhibitor, lead_id)
    fields = _note_fields(payload)
    leads.update_lead(current_user, lead, **fields)
    out = lead_json(leads.view_of(lead, current_lang()), current_lang())
    db.session.commit()
    return jsonify(out)

