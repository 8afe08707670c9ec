"""The floor plan on the web (interactive SVG) and for print (PDF downloads); an SVG excerpt for dashboards."""

from __future__ import annotations

from io import BytesIO

from flask import Blueprint, current_app, redirect, render_template, request, send_file, url_for
from flask_babel import gettext as _
from flask_login import current_user
from markupsafe import Markup

from expo.auth.access import PUBLIC, allow
from expo.errorpages import error_response
from expo.exhibitors.models import ApplicationStatus
from expo.exhibitors.services import application_of, current_expo
from expo.floorplans.pdf import render_pdf
from expo.floorplans.plan import VARIANTS, Plan, booths_of, build_plan, hall_names, selectable_booths
from expo.floorplans.svg import render_svg
from expo.i18n import LANGUAGES, current_lang
from expo.pdf.pages import ORIENTATIONS, PAPERS

bp = Blueprint("floorplans", __name__)

EXCERPT_MARGIN_M = 12.0


def _is_organizer() -> bool:
    return bool(current_user.is_authenticated and current_user.is_organizer)


def _pdf_labels() -> dict[str, str]:
    return {"exhibitor": _("Exhibitor plan"), "sales": _("Sales plan"), "index": _("Index of exhibitors"),
            "legend": _("Pavilions"), "available": _("Available"), "sold": _("Sold or held"),
            "blocked": _("Not for sale"), "north": _("N"), "m": _("m")}


def _booth_links(expo, plan: Plan) -> tuple[dict[int, str], set[int]]:
    """Where a click on a booth leads: organizers to the booth's page; an approved exhibitor, while
    self-selection is open, from an available booth of its pavilion to the selection page."""
    links: dict[int, str] = {}
    selectable: set[int] = set()
    if _is_organizer():
        if "allocation.booth" in current_app.view_functions:
            links = {b.id: url_for("allocation.booth", booth_id=b.id) for b in plan.booths}
    elif (expo.self_selection_open and current_user.is_authenticated and current_user.role == "exhibitor"
          and current_user.exhibitor is not None):
        application = application_of(current_user.exhibitor, expo)
        if application is not None and application.status == ApplicationStatus.APPROVED:
            selectable = selectable_booths(expo, application.preferred_pavilion_id)
            links = {b: f"/exhibitor/booths/select?booth={b}" for b in selectable}
    return links, selectable


@bp.get("/plan/")
@allow(PUBLIC)
def plan():
    """The interactive plan of the current expo: hall tabs, zoom and pan, filters, search. ``hall`` (a code) shows
    that hall alone — a page of a few hundred booths instead of the whole venue's thousands."""
    expo = current_expo()
    variant = request.args.get("variant", "exhibitor")
    if variant not in VARIANTS:
        return error_response(404, _("There is no plan of this kind."))
    if variant == "sales" and not _is_organizer():
        return error_response(403, _("The sales plan is for the organizers."))
    lang = current_lang()
    hall = request.args.get("hall") or None
    try:
        floor = build_plan(expo, lang, hall=hall, variant=variant)
    except LookupError:
        return error_response(404, _("There is no hall %(hall)s.", hall=hall[:20]))
    halls = hall_names(expo, lang) if hall else [(h.code, h.name) for h in floor.halls]
    links, selectable = _booth_links(expo, floor)
    svg = render_svg(floor, links=links, selectable=selectable, title=_("Floor plan"))
    return render_template("floorplans/plan.html", plan=floor, svg=Markup(svg), variant=variant, hall=hall,
                           halls=halls, papers=list(PAPERS), organizer=_is_organizer(), selectable=bool(selectable))


@bp.get("/plan/<variant>.pdf")
@allow(PUBLIC)
def plan_pdf(variant: str):
    """Download the plan as PDF: ``hall`` (code; whole venue without), ``paper`` A4…A0, ``orientation``, ``lang``."""
    if variant not in VARIANTS:
        return error_response(404, _("There is no plan of this kind."))
    if variant == "sales" and not _is_organizer():
        if not current_user.is_authenticated:
            return redirect(url_for("auth.login", next=request.full_path))
        return error_response(403, _("The sales plan is for the organizers."))
    paper = request.args.get("paper", "A3").upper()
    orientation = request.args.get("orientation", "landscape")
    lang = request.args.get("lang") or current_lang()
    hall = request.args.get("hall") or None
    if paper not in PAPERS:
        return error_response(400, _("Unknown paper size %(paper)s: choose one of %(papers)s.",
                                     paper=paper[:10], papers=", ".join(PAPERS)))
    if orientation not in ORIENTATIONS:
        return error_response(400, _("Unknown orientation: choose portrait or landscape."))
    if lang not in LANGUAGES:
        return error_response(400, _("Unknown language: choose en or zh."))
    expo = current_expo()
    try:
        floor = build_plan(expo, lang, hall=hall, variant=variant)
    except LookupError:
        return error_response(404, _("There is no hall %(hall)s.", hall=hall[:20]))
    data = render_pdf(floor, paper, orientation, labels=_pdf_labels())
    name = f"{expo.code}-{variant}-{hall or 'venue'}-{paper}-{orientation}.pdf"
    return send_file(BytesIO(data), mimetype="application/pdf", download_name=name, as_attachment=False)


def plan_excerpt(exhibitor) -> Markup:
    """An SVG excerpt of the hall around ``exhibitor``'s booths, highlighted; empty without booths."""
    if exhibitor is None:
        return Markup("")
    expo = current_expo()
    hall, booth_ids = booths_of(expo, exhibitor.id)
    if not hall:
        return Markup("")
    floor = build_plan(expo, current_lang(), hall=hall)
    h = floor.halls[0]
    mine = [b for b in h.booths if b.id in set(booth_ids)]
    x0 = max(0.0, min(b.x for b in mine) - EXCERPT_MARGIN_M)
    y0 = max(0.0, min(b.y for b in mine) - EXCERPT_MARGIN_M)
    x1 = min(h.width, max(b.x + b.w for b in mine) + EXCERPT_MARGIN_M)
    y1 = min(h.depth, max(b.y + b.d for b in mine) + EXCERPT_MARGIN_M)
    # Only what the excerpt shows goes into the page.
    h.booths = [b for b in h.booths if b.x < x1 and b.x + b.w > x0 and b.y < y1 and b.y + b.d > y0]
    h.stands = [st for st in h.stands if set(st.booth_ids) <= {b.id for b in h.booths}]
    svg = render_svg(floor, highlight=set(booth_ids), viewbox=(h.x + x0, h.y + y0, x1 - x0, y1 - y0),
                     title=_("Your booths on the floor plan"))
    return Markup(svg)
