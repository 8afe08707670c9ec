"""/api/v1: the JSON API. Same services and forms as the pages; errors are JSON with a 4xx and a reason code."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, current_app, jsonify, request
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy import select

from expo import audit, listing
from expo.api import schemas as s
from expo.api.bodies import json_body, validated
from expo.api.openapi import build, operation
from expo.auth.access import ORGANIZERS, PUBLIC, SIGNED_IN, allow
from expo.auth.models import Role
from expo.categories.models import ProductCategory
from expo.errors import InvalidInput, NotFound
from expo.exhibitors import services
from expo.exhibitors.forms import (
    ApplicationForm,
    BulkDecisionForm,
    ProfileForm,
    QueueFilterForm,
    ReasonForm,
    RegistrationForm,
    StaffForm,
)
from expo.exhibitors.models import Exhibitor, ExhibitorStaff
from expo.exhibitors.services import STATUS_LABELS
from expo.extensions import db
from expo.forms import form_errors
from expo.i18n import current_lang
from expo.venue import queries as venue_queries

bp = Blueprint("api", __name__, url_prefix="/api/v1")
EXHIBITOR_ROLES = (*ORGANIZERS, Role.EXHIBITOR)


def _choices() -> dict[str, Any]:
    expo = services.current_expo()
    lang = current_lang()
    return {"category_choices": venue_queries.category_choices(lang),
            "area_choices": venue_queries.area_choices(expo, lang),
            "pavilion_choices": venue_queries.pavilion_choices(expo, lang)}


def _exhibitor(exhibitor_id: int) -> Exhibitor:
    """The exhibitor, if the caller may see it: organizers see all, an exhibitor only itself (else 404)."""
    ex = db.session.get(Exhibitor, exhibitor_id)
    if ex is None or not (current_user.is_organizer or current_user.exhibitor_id == ex.id):
        raise NotFound(_l("No such exhibitor."))
    return ex


def _application(ex: Exhibitor):
    app = services.application_of(ex)
    if app is None:
        raise NotFound(_l("This exhibitor has no application for the current expo."))
    return app


class ApiRegistrationForm(RegistrationForm):
    """The registration page's form without the repeated password: that guards people against typos, while a
    program sends the password once."""

    password_confirm = None


# --- public --------------------------------------------------------------------------------------------------------

@bp.get("/openapi.json")
@allow(PUBLIC)
def openapi():
    return jsonify(build(current_app))


@bp.get("/expo")
@allow(PUBLIC)
@operation("The current expo with its exhibition areas, pavilions and halls", tag="venue", response=s.schema(
    {**s.EXPO, "areas": {"type": "array", "items": s.schema(s.AREA)},
     "pavilions": {"type": "array", "items": s.schema(s.PAVILION)},
     "halls": {"type": "array", "items": s.schema(s.HALL)}}))
def expo():
    e = services.current_expo()
    return jsonify(s.dump(e, s.EXPO, ) | {"areas": [s.dump(a, s.AREA) for a in e.areas],
                                          "pavilions": [s.dump(p, s.PAVILION) for p in e.pavilions],
                                          "halls": [s.dump(h, s.HALL) for h in e.halls]})


@bp.get("/categories")
@allow(PUBLIC)
@operation("The product-category taxonomy", tag="categories",
           response={"type": "array", "items": s.schema(s.CATEGORY)})
def categories():
    cats = db.session.scalars(select(ProductCategory).order_by(ProductCategory.sort, ProductCategory.id))
    return jsonify([s.dump(c, s.CATEGORY) for c in cats])


@bp.post("/registrations")
@allow(PUBLIC)
@operation("Register a company: account, profile and space application", tag="exhibitors",
           body=ApiRegistrationForm, response=s.schema(s.EXHIBITOR_WITH_APPLICATION), status=201,
           description="Add \"submit\": true to submit the application at once; otherwise it stays a draft.")
def register():
    payload = json_body()
    form = validated(ApiRegistrationForm, payload, locale=current_lang(), **_choices())
    ex, _user = services.register(email=form.email.data, password=form.password.data, profile=form.data,
                                  application=form.data, category_ids=form.categories.data,
                                  submit=payload.get("submit") is True, locale=current_lang())
    db.session.commit()
    return jsonify(s.exhibitor(ex) | {"application": s.application(_application(ex), organizer=False)}), 201


# --- signed in ------------------------------------------------------------------------------------------------------

@bp.get("/me")
@allow(SIGNED_IN)
@operation("The account behind the token", tag="accounts", response=s.schema(s.USER))
def me():
    return jsonify(s.dump(current_user, s.USER))


@bp.get("/exhibitors")
@allow(*EXHIBITOR_ROLES)
@operation("Exhibitors with their applications, filtered, sorted and paginated like the review queue",
           tag="exhibitors", query=QueueFilterForm, response=s.page_schema(s.schema(s.EXHIBITOR_WITH_APPLICATION)),
           description="Organizers see every exhibitor; an exhibitor sees itself only.")
def exhibitors():
    form = QueueFilterForm(request.args, status_choices=[(x.value, x.value) for x in STATUS_LABELS],
                           locale=current_lang(), **_choices())
    if not form.validate():
        errors = form_errors(form)
        raise InvalidInput(errors)
    d = form.data
    flt = services.QueueFilter(status=d["status"] or None, area_id=d["area_id"], pavilion_id=d["pavilion_id"],
                               country=d["country"] or None, category_id=d["category_id"], q=d["q"] or None,
                               submitted_from=d["submitted_from"], submitted_to=d["submitted_to"],
                               sort=d["sort"] or "submitted", descending=bool(d["desc"]))
    if current_user.is_organizer:
        page = services.queue_page(services.current_expo(), flt, d["page"] or 1, d["per_page"] or 50)
    else:  # a company sees itself only
        stmt = services.queue_query(services.current_expo(), flt).where(Exhibitor.id == current_user.exhibitor_id)
        page = listing.paginate(stmt, d["page"] or 1, d["per_page"] or 50)
    exhibitor_ids = [ex.id for _app, ex in page.items]
    cats = _category_ids(exhibitor_ids)
    organizer = current_user.is_organizer
    items = [s.dump(ex, s.EXHIBITOR, categories=cats.get(ex.id, []),
                    logo_url=f"/exhibitors/{ex.id}/logo.png" if ex.logo_updated_at else None)
             | {"application": s.application(app, organizer=organizer)} for app, ex in page.items]
    return jsonify(items=items, page=page.page, per_page=page.per_page, total=page.total, pages=page.pages)


def _category_ids(exhibitor_ids: list[int]) -> dict[int, list[int]]:
    """Categories of a page of exhibitors in one query, instead of one per exhibitor."""
    from expo.categories.models import exhibitor_categories as ec

    out: dict[int, list[int]] = {}
    if exhibitor_ids:
        for ex_id, cat_id in db.session.execute(select(ec.c.exhibitor_id, ec.c.category_id)
                                                .where(ec.c.exhibitor_id.in_(exhibitor_ids))):
            out.setdefault(ex_id, []).append(cat_id)
    return out


@bp.get("/exhibitors/<int:exhibitor_id>")
@allow(*EXHIBITOR_ROLES)
@operation("One exhibitor's profile", tag="exhibitors", response=s.schema(s.EXHIBITOR))
def exhibitor(exhibitor_id: int):
    return jsonify(s.exhibitor(_exhibitor(exhibitor_id)))


@bp.patch("/exhibitors/<int:exhibitor_id>")
@allow(*EXHIBITOR_ROLES)
@operation("Change an exhibitor's profile (fields left out keep their value)", tag="exhibitors", body=ProfileForm,
           response=s.schema(s.EXHIBITOR))
def exhibitor_update(exhibitor_id: int):
    ex = _exhibitor(exhibitor_id)
    base = s.exhibitor(ex)
    form = validated(ProfileForm, json_body(), base, locale=current_lang(),
                      category_choices=_choices()["category_choices"])
    services.update_profile(current_user, ex, form.data, form.categories.data)
    db.session.commit()
    return jsonify(s.exhibitor(ex))


@bp.get("/exhibitors/<int:exhibitor_id>/application")
@allow(*EXHIBITOR_ROLES)
@operation("The exhibitor's space application", tag="applications", response=s.schema(s.APPLICATION))
def application(exhibitor_id: int):
    app = _application(_exhibitor(exhibitor_id))
    return jsonify(s.application(app, organizer=current_user.is_organizer))


@bp.patch("/exhibitors/<int:exhibitor_id>/application")
@allow(*EXHIBITOR_ROLES)
@operation("Change the space application (exhibitors: only while it is a draft)", tag="applications",
           body=ApplicationForm, response=s.schema(s.APPLICATION))
def application_update(exhibitor_id: int):
    app = _application(_exhibitor(exhibitor_id))
    base = s.application(app, organizer=True)
    base["competitors"] = app.competitors
    choices = _choices()
    form = validated(ApplicationForm, json_body(), base, area_choices=choices["area_choices"],
                      pavilion_choices=choices["pavilion_choices"])
    services.update_application(current_user, app, form.data)
    db.session.commit()
    return jsonify(s.application(app, organizer=current_user.is_organizer))


@bp.post("/exhibitors/<int:exhibitor_id>/application/<action>")
@allow(*EXHIBITOR_ROLES)
@operation("Move the application on: submit, withdraw, reopen (exhibitor); approved, waitlisted, rejected "
           "(organizer, with a reason)", tag="applications", body=ReasonForm, response=s.schema(s.APPLICATION))
def application_action(exhibitor_id: int, action: str):
    app = _application(_exhibitor(exhibitor_id))
    payload = request.get_json(silent=True)  # the body is optional: a step without a reason needs none
    form = validated(ReasonForm, payload if isinstance(payload, dict) else {})
    services.change_status(current_user, app, action, form.reason.data or "")
    db.session.commit()
    return jsonify(s.application(app, organizer=current_user.is_organizer))


@bp.post("/applications/decisions")
@allow(*ORGANIZERS)
@operation("The same decision for many applications: all or none", tag="applications", body=BulkDecisionForm,
           response={"type": "object", "properties": {"updated": {"type": "array", "items": {"type": "integer"}}}})
def decisions():
    form = validated(BulkDecisionForm, json_body())
    apps = services.decide_many(current_user, form.application_ids.data, form.decision.data, form.reason.data or "")
    db.session.commit()
    return jsonify(updated=[a.id for a in apps])


@bp.get("/exhibitors/<int:exhibitor_id>/staff")
@allow(*EXHIBITOR_ROLES)
@operation("The exhibitor's staff list", tag="staff", response={"type": "array", "items": s.schema(s.STAFF)})
def staff(exhibitor_id: int):
    return jsonify([s.dump(m, s.STAFF) for m in _exhibitor(exhibitor_id).staff])


@bp.post("/exhibitors/<int:exhibitor_id>/staff")
@allow(*EXHIBITOR_ROLES)
@operation("Add a staff member", tag="staff", body=StaffForm, response=s.schema(s.STAFF), status=201)
def staff_add(exhibitor_id: int):
    ex = _exhibitor(exhibitor_id)
    form = validated(StaffForm, json_body())
    member = services.add_staff(current_user, ex, form.data)
    db.session.commit()
    return jsonify(s.dump(member, s.STAFF)), 201


def _member(exhibitor_id: int, member_id: int) -> ExhibitorStaff:
    ex = _exhibitor(exhibitor_id)
    member = db.session.get(ExhibitorStaff, member_id)
    if member is None or member.exhibitor_id != ex.id:
        raise NotFound(_l("No such staff member."))
    return member


@bp.get("/exhibitors/<int:exhibitor_id>/staff/<int:member_id>")
@allow(*EXHIBITOR_ROLES)
@operation("One staff member", tag="staff", response=s.schema(s.STAFF))
def staff_member(exhibitor_id: int, member_id: int):
    return jsonify(s.dump(_member(exhibitor_id, member_id), s.STAFF))


@bp.patch("/exhibitors/<int:exhibitor_id>/staff/<int:member_id>")
@allow(*EXHIBITOR_ROLES)
@operation("Change a staff member", tag="staff", body=StaffForm, response=s.schema(s.STAFF))
def staff_update(exhibitor_id: int, member_id: int):
    member = _member(exhibitor_id, member_id)
    form = validated(StaffForm, json_body(), s.dump(member, s.STAFF))
    services.update_staff(current_user, member, form.data)
    db.session.commit()
    return jsonify(s.dump(member, s.STAFF))


@bp.delete("/exhibitors/<int:exhibitor_id>/staff/<int:member_id>")
@allow(*EXHIBITOR_ROLES)
@operation("Remove a staff member", tag="staff", status=204)
def staff_delete(exhibitor_id: int, member_id: int):
    services.remove_staff(current_user, _member(exhibitor_id, member_id))
    db.session.commit()
    return "", 204


@bp.get("/exhibitors/<int:exhibitor_id>/audit")
@allow(*ORGANIZERS)
@operation("Who changed what and when, for one exhibitor", tag="exhibitors",
           response={"type": "array", "items": s.schema(s.AUDIT)})
def audit_log(exhibitor_id: int):
    ex = db.session.get(Exhibitor, exhibitor_id)
    if ex is None:
        abort(404)
    return jsonify([s.dump(e, s.AUDIT) for e in audit.for_exhibitor(ex.id)])


# The venue and allocation, and the buyer and delegation resources add their routes to this blueprint (at the end:
# they import from here).
from expo.api import buyer_views, venue_views  # noqa: E402,F401
