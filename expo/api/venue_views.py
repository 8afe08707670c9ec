"""/api/v1 venue and allocation: halls, pavilions, booths, a hall's plan geometry, and assignments.

Who sees whose name: organizers see every holder (assigned and held booths) with its id. Everyone else sees a
booth's status; on the plan, an assigned booth also shows the exhibitor's public company name (what the printed
visitors' guide shows anyway), while holds stay anonymous. In the booth list an exhibitor sees its own id on its
own booths only. Imported at the end of :mod:`expo.api.views`, whose blueprint and ``@operation`` it uses.
"""

from __future__ import annotations

from typing import Any

from flask import jsonify, request
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from expo import listing
from expo.allocation import services as allocation
from expo.allocation.forms import AssignNumbersForm, BoothFilterForm
from expo.api import schemas as s
from expo.api.bodies import json_body, validated
from expo.api.openapi import operation
from expo.api.views import EXHIBITOR_ROLES, bp
from expo.auth.access import ORGANIZERS, PUBLIC, allow
from expo.errors import InvalidInput, NotFound
from expo.exhibitors.models import Exhibitor
from expo.exhibitors.services import current_expo
from expo.extensions import db
from expo.forms import form_errors
from expo.i18n import current_lang
from expo.venue.models import Booth, BoothStatus, Hall, Pavilion

ENTRANCE = {"name": "string", "side": "string", "offset_m": "number", "width_m": "number"}
OBSTACLE = {"label": "string", "x_m": "number", "y_m": "number", "width_m": "number", "depth_m": "number"}
HALL_FULL = {**s.HALL, "plan_x_m": "number", "plan_y_m": "number",
             "entrances": {"type": "array", "items": s.schema(ENTRANCE)},
             "obstacles": {"type": "array", "items": s.schema(OBSTACLE)}}
PAVILION_FULL = {**s.PAVILION, "categories": {"type": "array", "items": s.schema(
    {"id": "integer", "code": "string", "name_zh": "string", "name_en": "string"})}}
BOOTH = {"id": "integer", "number": "string", "hall": "string", "pavilion": s.NULLABLE_STR, "x_m": "number",
         "y_m": "number", "width_m": "number", "depth_m": "number", "area_m2": "number", "raw_space": "boolean",
         "kind": "string", "open_sides": "string", "price_cny": "integer", "status": "string",
         "stand_id": s.NULLABLE_INT, "exhibitor_id": s.NULLABLE_INT, "hold_expires_at": s.NULLABLE_DT}
PLAN_BOOTH = {"id": "integer", "number": "string", "x_m": "number", "y_m": "number", "width_m": "number",
              "depth_m": "number", "kind": "string", "open_sides": "string", "status": "string",
              "pavilion": s.NULLABLE_STR, "colour": "string", "stand_id": s.NULLABLE_INT,
              "exhibitor": s.NULLABLE_STR, "exhibitor_id": s.NULLABLE_INT}
PLAN = {"hall": s.schema(HALL_FULL), "booths": {"type": "array", "items": s.schema(PLAN_BOOTH)}}
ASSIGNMENT = {"exhibitor_id": "integer", "booths": {"type": "array", "items": s.schema(BOOTH)},
              "stands": {"type": "array", "items": {"type": "array", "items": {"type": "string"}}}}


def _hall(h: Hall) -> dict[str, Any]:
    return s.dump(h, HALL_FULL, entrances=[{k: e.get(k) for k in ENTRANCE} for e in h.entrances or []],
                  obstacles=[{k: o.get(k) for k in OBSTACLE} for o in h.obstacles or []])


def _sees_holder(booth: Booth) -> bool:
    return current_user.is_authenticated and (current_user.is_organizer
                                              or (booth.exhibitor_id is not None
                                                  and booth.exhibitor_id == current_user.exhibitor_id))


def _booth(b: Booth) -> dict[str, Any]:
    holder = _sees_holder(b)
    return s.dump(b, BOOTH, hall=b.hall.code, pavilion=b.pavilion.code if b.pavilion else None,
                  exhibitor_id=b.exhibitor_id if holder else None,
                  hold_expires_at=s._value(b.hold_expires_at) if holder else None)


@bp.get("/halls")
@allow(PUBLIC)
@operation("The halls of the current expo with their entrances and obstacles", tag="venue",
           response={"type": "array", "items": s.schema(HALL_FULL)})
def halls():
    return jsonify([_hall(h) for h in current_expo().halls])


@bp.get("/pavilions")
@allow(PUBLIC)
@operation("The themed pavilions of the current expo with their product categories", tag="venue",
           response={"type": "array", "items": s.schema(PAVILION_FULL)})
def pavilions():
    rows = db.session.scalars(select(Pavilion).where(Pavilion.expo_id == current_expo().id)
                              .options(selectinload(Pavilion.categories)).order_by(Pavilion.sort))
    return jsonify([s.dump(p, PAVILION_FULL, categories=[
        {"id": c.id, "code": c.code, "name_zh": c.name_zh, "name_en": c.name_en} for c in p.categories])
        for p in rows])


@bp.get("/booths")
@allow(*EXHIBITOR_ROLES)
@operation("Booths, filtered by hall, pavilion, status and kind, paginated", tag="venue", query=BoothFilterForm,
           response=s.page_schema(s.schema(BOOTH)),
           description="Organizers see who holds each booth; an exhibitor sees the status, and its own id on its "
                       "own booths only.")
def booths():
    form = BoothFilterForm(request.args)
    if not form.validate():
        errors = form_errors(form)
        raise InvalidInput(errors)
    expo = current_expo()
    stmt = select(Booth).where(Booth.expo_id == expo.id)
    if form.hall.data:
        stmt = stmt.join(Hall, Hall.id == Booth.hall_id).where(Hall.code == form.hall.data.strip().upper())
    if form.pavilion.data:
        stmt = stmt.join(Pavilion, Pavilion.id == Booth.pavilion_id).where(Pavilion.code == form.pavilion.data.strip())
    if form.status.data:
        stmt = stmt.where(Booth.status == form.status.data)
    if form.kind.data:
        stmt = stmt.where(Booth.kind == form.kind.data)
    stmt = stmt.options(selectinload(Booth.hall), selectinload(Booth.pavilion)).order_by(Booth.number)
    page = listing.paginate(stmt, form.page.data or 1, form.per_page.data or 50, scalars=True)
    return jsonify(items=[_booth(b) for b in page.items], page=page.page, per_page=page.per_page, total=page.total,
                   pages=page.pages)


def _get_booth(booth_id: int) -> Booth:
    booth = db.session.get(Booth, booth_id)
    if booth is None or booth.expo_id != current_expo().id:
        raise NotFound(_l("There is no such booth."))
    return booth


@bp.get("/booths/<int:booth_id>")
@allow(*EXHIBITOR_ROLES)
@operation("One booth", tag="venue", response=s.schema(BOOTH))
def booth(booth_id: int):
    return jsonify(_booth(_get_booth(booth_id)))


@bp.get("/plan/<hall_code>")
@allow(PUBLIC)
@operation("A hall's plan: its outline, entrances and obstacles, and every booth as a rectangle in metres (x east, "
           "y south, origin at the hall's north-west corner)", tag="venue", response=s.schema(PLAN),
           description="Assigned booths carry the exhibitor's public company name for everyone; organizers also get "
                       "the exhibitor id and the holder of held booths.")
def plan(hall_code: str):
    expo = current_expo()
    hall = db.session.scalar(select(Hall).where(Hall.expo_id == expo.id, Hall.code == hall_code.strip().upper()))
    if hall is None:
        raise NotFound(_l("There is no hall %(code)s.", code=hall_code[:20]))
    organizer = current_user.is_authenticated and current_user.is_organizer
    lang = current_lang()
    rows = db.session.scalars(select(Booth).where(Booth.hall_id == hall.id)
                              .options(selectinload(Booth.pavilion), selectinload(Booth.exhibitor))
                              .order_by(Booth.number))
    items = []
    for b in rows:
        named = b.exhibitor is not None and (organizer or b.status == BoothStatus.ASSIGNED)
        items.append(s.dump(b, PLAN_BOOTH, pavilion=b.pavilion.code if b.pavilion else None,
                            colour=b.pavilion.colour if b.pavilion else "#888888",
                            exhibitor=b.exhibitor.display_name(lang) if named else None,
                            exhibitor_id=b.exhibitor_id if organizer else None))
    return jsonify(hall=_hall(hall), booths=items)


@bp.post("/assignments")
@allow(*ORGANIZERS)
@operation("Assign booths by number to an approved exhibitor: all or nothing; touching booths become one stand",
           tag="allocation", body=AssignNumbersForm, response=s.schema(ASSIGNMENT), status=201,
           description="\"booths\" is a list of booth numbers or one text with commas. 409 when a booth is taken "
                       "or blocked; then nothing is assigned.")
def assignments():
    payload = json_body()
    if isinstance(payload.get("booths"), list) and all(isinstance(n, str) for n in payload["booths"]):
        payload = {**payload, "booths": ", ".join(payload["booths"])}
    form = validated(AssignNumbersForm, payload)
    exhibitor = db.session.get(Exhibitor, form.exhibitor_id.data)
    if exhibitor is None:
        raise NotFound(_l("No such exhibitor."), field="exhibitor_id")
    booths_, stands = allocation.assign_numbers(current_user, current_expo(), exhibitor, form.booths.data)
    db.session.commit()
    return jsonify(exhibitor_id=exhibitor.id, booths=[_booth(b) for b in booths_],
                   stands=[[b.number for b in st.booths] for st in stands]), 201


@bp.delete("/assignments/<int:booth_id>")
@allow(*ORGANIZERS)
@operation("Vacate a booth (assigned or held)", tag="allocation", status=204)
def assignment_delete(booth_id: int):
    allocation.vacate(current_user, current_expo(), [_get_booth(booth_id)])
    db.session.commit()
    return "", 204
