"""API representations. Each one is declared once as ``{field: JSON type}``; the same declaration serializes
objects and produces the response schema in the OpenAPI document."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from flask import url_for

from expo.exhibitors import services as exhibitor_services

NULLABLE_STR = ["string", "null"]
NULLABLE_INT = ["integer", "null"]
NULLABLE_DT = ["string", "null"]

EXPO = {"id": "integer", "code": "string", "name_zh": "string", "name_en": "string", "starts_on": "string",
        "ends_on": "string", "venue_zh": "string", "venue_en": "string", "city_zh": "string", "city_en": "string",
        "area_m2": "integer"}
AREA = {"id": "integer", "code": "string", "name_zh": "string", "name_en": "string"}
PAVILION = {"id": "integer", "code": "string", "area_id": NULLABLE_INT, "name_zh": "string", "name_en": "string",
            "colour": "string"}
HALL = {"id": "integer", "code": "string", "name_zh": "string", "name_en": "string", "width_m": "number",
        "depth_m": "number", "standard_booth_capacity": "integer"}
CATEGORY = {"id": "integer", "code": "string", "parent_id": NULLABLE_INT, "name_zh": "string", "name_en": "string",
            "active": "boolean"}
EXHIBITOR = {"id": "integer", "name_zh": NULLABLE_STR, "name_en": NULLABLE_STR, "country": "string",
             "province": "string", "city": "string", "address": "string", "website": "string",
             "contact_name": "string", "contact_phone": "string", "contact_email": "string", "description": "string",
             "categories": {"type": "array", "items": {"type": "integer"}}, "logo_url": NULLABLE_STR,
             "created_at": "string"}
APPLICATION = {"id": "integer", "expo_id": "integer", "exhibitor_id": "integer", "status": "string",
               "space_kind": "string", "booths_requested": "integer", "raw_space_m2": "integer",
               "preferred_area_id": NULLABLE_INT, "preferred_pavilion_id": NULLABLE_INT,
               "corner_preference": "string", "years_exhibited": "integer",
               "competitors": {"type": "array", "items": {"type": "string"}}, "notes": "string",
               "submitted_at": NULLABLE_DT, "decided_at": NULLABLE_DT, "decision_reason": "string",
               "allowed_actions": {"type": "array", "items": {"type": "string"}}}
STAFF = {"id": "integer", "exhibitor_id": "integer", "name": "string", "title": "string", "phone": "string",
         "email": "string", "id_number": "string"}
AUDIT = {"id": "integer", "at": "string", "actor_id": NULLABLE_INT, "action": "string", "object_type": "string",
         "object_id": NULLABLE_INT, "changes": {"type": "object"}}
USER = {"id": "integer", "email": "string", "name": "string", "role": "string", "exhibitor_id": NULLABLE_INT,
        "locale": NULLABLE_STR}


def schema(fields: dict[str, Any]) -> dict[str, Any]:
    props = {k: (t if isinstance(t, dict) else {"type": t}) for k, t in fields.items()}
    return {"type": "object", "properties": props, "required": list(fields)}


def page_schema(item: dict[str, Any]) -> dict[str, Any]:
    return {"type": "object", "required": ["items", "page", "per_page", "total", "pages"],
            "properties": {"items": {"type": "array", "items": item}, "page": {"type": "integer"},
                           "per_page": {"type": "integer"}, "total": {"type": "integer"},
                           "pages": {"type": "integer"}}}


def _value(v: Any) -> Any:
    if isinstance(v, datetime):
        return v.isoformat(timespec="seconds") + "Z"
    if isinstance(v, date):
        return v.isoformat()
    if v.__class__.__name__ == "Decimal":
        return float(v)
    return v


def dump(obj: Any, fields: dict[str, Any], **computed: Any) -> dict[str, Any]:
    """``obj`` as JSON by ``fields``; ``computed`` supplies fields that are not plain attributes."""
    return {k: computed[k] if k in computed else _value(getattr(obj, k)) for k in fields}


def exhibitor(ex) -> dict[str, Any]:
    return dump(ex, EXHIBITOR, categories=[c.id for c in ex.categories],
                logo_url=url_for("exhibitors.logo", exhibitor_id=ex.id) if ex.logo_updated_at else None)


def application(app, *, organizer: bool) -> dict[str, Any]:
    return dump(app, APPLICATION, competitors=app.competitor_list,
                allowed_actions=exhibitor_services.allowed_actions(app, organizer=organizer))


EXHIBITOR_WITH_APPLICATION = {**EXHIBITOR, "application": schema(APPLICATION)}
