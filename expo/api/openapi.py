"""The OpenAPI document, generated from the code: routes from the URL map, request bodies and query parameters
from the same WTForms classes that validate them, responses from the schemas beside the serializers."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from flask import Flask
from wtforms import (
    BooleanField,
    DateField,
    DecimalField,
    EmailField,
    FileField,
    FloatField,
    Form,
    IntegerField,
    RadioField,
    SelectField,
    SelectMultipleField,
)
from wtforms import validators as v

from expo.auth.access import PUBLIC

SKIP_FIELDS = {"csrf_token", "logo", "password_confirm"}


def operation(summary: str, *, tag: str, body: type[Form] | dict | None = None, query: type[Form] | None = None,
              response: dict | None = None, status: int = 200, description: str = "",
              errors: dict[int, str] | None = None) -> Callable:
    """Describe an API view for the OpenAPI document. The body/query forms are the ones that validate it; a view
    that checks its body by hand (the gate's scans, on the hot path) gives the body's JSON schema instead."""

    def decorate(view: Callable) -> Callable:
        view.openapi = {"summary": summary, "tag": tag, "body": body, "query": query, "response": response,
                        "status": status, "description": description,
                        # refusals besides the usual 400/401/403/404/422, as {409: "why"}
                        "errors": errors or {}}
        return view

    return decorate


def field_schema(field) -> dict[str, Any]:
    """JSON schema of one unbound-or-bound WTForms field, from its type and validators."""
    schema: dict[str, Any]
    if isinstance(field, SelectMultipleField):
        item = {"type": "integer"} if field.coerce is int else {"type": "string"}
        schema = {"type": "array", "items": item}
    elif isinstance(field, BooleanField):
        schema = {"type": "boolean"}
    elif isinstance(field, IntegerField):
        schema = {"type": "integer"}
    elif isinstance(field, DecimalField | FloatField):
        schema = {"type": "number"}
    elif isinstance(field, DateField):
        schema = {"type": "string", "format": "date"}
    elif isinstance(field, EmailField):
        schema = {"type": "string", "format": "email"}
    elif isinstance(field, FileField):
        schema = {"type": "string", "format": "binary"}
    else:
        schema = {"type": "string"}
    if isinstance(field, SelectField | RadioField) and not isinstance(field, SelectMultipleField):
        choices = field.choices if isinstance(field.choices, list) else None
        coerce_name = getattr(field.coerce, "__name__", "")
        if coerce_name == "optional_int":
            schema = {"type": ["integer", "null"], "description": "an id, or null for no preference"}
        elif choices and len(choices) <= 20:
            schema["enum"] = [c.value for c in choices]
    for val in field.validators:
        if isinstance(val, v.Length):
            if val.min and val.min > 0:
                schema["minLength"] = val.min
            if val.max and val.max > 0:
                schema["maxLength"] = val.max
        elif isinstance(val, v.NumberRange):
            if val.min is not None:
                schema["minimum"] = val.min
            if val.max is not None:
                schema["maximum"] = val.max
        elif isinstance(val, v.Regexp):
            schema["pattern"] = val.regex.pattern
        elif isinstance(val, v.URL):
            schema["format"] = "uri"
    schema["description"] = str(field.label.text) + (f" — {schema['description']}" if "description" in schema
                                                     and schema["description"] != str(field.label.text) else "")
    return schema


def form_schema(form_cls: type[Form], *, json_body: bool = False) -> dict[str, Any]:
    """The form as a JSON schema. In a JSON body a field that may be empty may also be ``null``, which empties it
    (:func:`expo.forms.json_to_formdata`)."""
    form = _unbound_instance(form_cls)
    props, required = {}, []
    for name, field in form._fields.items():
        if name in SKIP_FIELDS:
            continue
        props[name] = field_schema(field)
        if any(isinstance(val, v.DataRequired | v.InputRequired) for val in field.validators):
            required.append(name)
        elif json_body and isinstance(props[name]["type"], str) and any(isinstance(val, v.Optional)
                                                                        for val in field.validators):
            props[name]["type"] = [props[name]["type"], "null"]
            if "enum" in props[name]:
                props[name]["enum"] = [*props[name]["enum"], None]
    out: dict[str, Any] = {"type": "object", "properties": props}
    if required:
        out["required"] = required
    return out


def _unbound_instance(form_cls: type[Form]) -> Form:
    from flask_wtf import FlaskForm

    meta = {"csrf": False} if issubclass(form_cls, FlaskForm) else None
    kwargs: dict[str, Any] = {"meta": meta} if meta else {}
    try:
        return form_cls(formdata=None, **kwargs)
    except TypeError:  # forms whose choices come from the database take them as keyword arguments
        return form_cls(None, status_choices=(), area_choices=(), pavilion_choices=(), category_choices=(),
                        locale="en")


ERROR_SCHEMA = {
    "type": "object",
    "required": ["error", "message"],
    "properties": {
        "error": {"type": "string", "description": "a stable reason code"},
        "message": {"type": "string", "description": "the reason, in the caller's language"},
        "fields": {"type": "object", "additionalProperties": {"type": "array", "items": {"type": "string"}}},
    },
}


def build(app: Flask, prefix: str = "/api/v1") -> dict[str, Any]:
    paths: dict[str, dict] = {}
    for rule in sorted(app.url_map.iter_rules(), key=lambda r: r.rule):
        if not rule.rule.startswith(prefix):
            continue
        view = app.view_functions[rule.endpoint]
        doc = getattr(view, "openapi", None)
        if doc is None:
            continue
        path = re.sub(r"<(?:[a-z]+:)?([a-z_]+)>", r"{\1}", rule.rule)
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            paths.setdefault(path, {})[method.lower()] = _operation(rule, view, doc, method)
    return {
        "openapi": "3.1.0",
        "info": {"title": "expo API", "version": "1",
                 "description": "Trade-expo management. Authenticate with 'Authorization: Bearer <token>' "
                                "(create tokens on your account page). Errors are JSON with a reason code."},
        "servers": [{"url": "/"}],
        "components": {
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
            "schemas": {"Error": ERROR_SCHEMA},
        },
        "paths": paths,
    }


def _operation(rule, view, doc: dict, method: str) -> dict[str, Any]:
    op: dict[str, Any] = {
        "operationId": f"{rule.endpoint.split('.')[-1]}_{method.lower()}",
        "summary": doc["summary"],
        "tags": [doc["tag"]],
        "parameters": [
            {"name": arg, "in": "path", "required": True,
             "schema": {"type": "integer"} if rule._converters[arg].__class__.__name__ == "IntegerConverter"
             else {"type": "string"}}
            for arg in rule.arguments
        ],
        "responses": {
            str(doc["status"]): {"description": "success",
                                 **({"content": {"application/json": {"schema": doc["response"]}}}
                                    if doc["response"] else {})},
            "400": _error("bad input: not JSON, or a rule refused it"),
            "404": _error("no such resource, or not yours"),
            "422": _error("invalid fields; 'fields' says which and why"),
        },
    }
    if doc["description"]:
        op["description"] = doc["description"]
    for code, why in doc.get("errors", {}).items():
        op["responses"][str(code)] = _error(why)
    audience = getattr(view, "expo_access", frozenset())
    if PUBLIC in audience:
        op["security"] = []
    else:
        op["security"] = [{"bearer": []}]
        op["responses"]["401"] = _error("no or bad token")
        op["responses"]["403"] = _error("your role may not do this")
        op["x-roles"] = sorted(audience)
    if doc["query"] is not None:
        for name, schema in form_schema(doc["query"])["properties"].items():
            op["parameters"].append({"name": name, "in": "query", "required": False, "schema": schema})
    if doc["body"] is not None and method in ("POST", "PUT", "PATCH"):
        body = doc["body"] if isinstance(doc["body"], dict) else form_schema(doc["body"], json_body=True)
        op["requestBody"] = {"required": True, "content": {"application/json": {"schema": body}}}
    return op


def _error(description: str) -> dict[str, Any]:
    return {"description": description,
            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}
