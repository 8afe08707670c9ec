"""Shared form pieces. The API validates with the same form classes as the pages, filled from JSON.

Every form of the app derives from :class:`ExpoForm` (pages, CSRF) or :class:`QueryForm` (GET filters): both add
:func:`no_control_characters` to each text field, so NUL bytes and other control characters are refused with a
reason beside the field on every page and API call, before they reach the database (PostgreSQL cannot store NUL
in text at all).
"""

from __future__ import annotations

import re
from typing import Any, TypeVar

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.i18n import translations as wtforms_translations
from markupsafe import Markup, escape
from werkzeug.datastructures import MultiDict
from wtforms import BooleanField, Form, IntegerField, SelectMultipleField, StringField, widgets
from wtforms.fields.choices import SelectChoice
from wtforms.validators import ValidationError

F = TypeVar("F", bound=Form)

#: C0 control characters except tab, line feed and carriage return; DEL; and lone UTF-16 surrogates (JSON can
#: carry "\ud800", which no database can encode).
CONTROL_CHARACTERS = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ud800-\udfff]")

#: The largest id a database row can have (ids are 32-bit integers on PostgreSQL).
MAX_ID = 2**31 - 1


def no_control_characters(form, field) -> None:
    """Refuse text holding control characters (NUL and the like): nobody types them, and databases choke on them."""
    if isinstance(field.data, str) and CONTROL_CHARACTERS.search(field.data):
        raise ValidationError(_l("Remove the control characters (such as NUL) from this text."))


class _TextSafetyMeta:
    """Form meta mixin: every text field (StringField and its kin: text areas, e-mail, password, hidden) of the form
    gets :func:`no_control_characters` as its last validator."""

    def bind_field(self, form, unbound_field, options):
        field = super().bind_field(form, unbound_field, options)
        if isinstance(field, StringField):
            field.validators = [*field.validators, no_control_characters]  # a new list: the class's stays untouched
        return field


class ExpoForm(FlaskForm):
    """The base of every posted form: Flask-WTF (CSRF) plus the text safety of :class:`_TextSafetyMeta`."""

    class Meta(_TextSafetyMeta):
        pass


class QueryForm(Form):
    """The base of GET filter forms (no CSRF), with the same text safety."""

    class Meta(_TextSafetyMeta):
        def get_translations(self, form):
            # WTForms' own messages ("Not a valid date value.") in the reader's language, as FlaskForm gives them
            # to ExpoForm; a plain wtforms.Form would speak English only.
            return wtforms_translations


class Integer(IntegerField):
    """WTForms' IntegerField, refusing numbers of more than 15 digits as not valid integers: WTForms' NumberRange
    turns its input into a float, which overflows on a 400-digit number someone typed or sent."""

    def process_formdata(self, valuelist):
        if valuelist and len(str(valuelist[0]).strip().lstrip("+-")) > 15:
            self.data = None
            raise ValueError(self.gettext("Not a valid integer value."))
        super().process_formdata(valuelist)


def db_id(value: Any) -> int:
    """Coerce a submitted id; one no row can have is refused as not a valid choice instead of reaching the database."""
    number = int(value)
    if not 1 <= number <= MAX_ID:
        raise ValueError(f"{number} is not a row id")
    return number


def from_json(form_cls: type[F], payload: Any, **kwargs: Any) -> F:
    """Bind ``form_cls`` to a JSON object (API calls authenticate by token, so no CSRF field)."""
    if issubclass(form_cls, FlaskForm):
        kwargs.setdefault("meta", {"csrf": False})
    return form_cls(formdata=json_to_formdata(payload), **kwargs)


def json_to_formdata(payload: Any) -> MultiDict:
    """Lists become repeated keys, ``true`` becomes ``"y"``, ``false`` is left out, numbers become text, and ``null``
    becomes empty text, as a cleared input on the page (so a required field says so, instead of taking its default)."""
    data = MultiDict()
    if not isinstance(payload, dict):
        return data
    for key, value in payload.items():
        if value is None:
            data.add(str(key), "")
            continue
        for v in value if isinstance(value, list) else [value]:
            if v is None or v is False or isinstance(v, dict | list):
                continue
            data.add(str(key), "y" if v is True else str(v))
    return data


def shape_errors(form: Form, payload: dict[str, Any]) -> dict[str, list[str]]:
    """Fields of ``payload`` whose JSON shape the form field cannot take, which :func:`json_to_formdata` would
    otherwise drop or cut silently: objects, lists for single-value fields, nested lists, booleans for non-yes/no
    fields."""
    errors: dict[str, list[str]] = {}
    for name, value in payload.items():
        field = form._fields.get(name)
        if field is None:
            continue
        multiple = isinstance(field, SelectMultipleField)
        if isinstance(value, dict) or (isinstance(value, list) and (
                not multiple or any(isinstance(v, dict | list | bool) or v is None for v in value))):
            errors[name] = [str(_l("Send a list of values here.") if multiple else _l("Send a single value here, "
                                                                                     "not a list or an object."))]
        elif isinstance(value, bool) and not isinstance(field, BooleanField):
            errors[name] = [str(_l("This field does not take true or false."))]
    return errors


def form_errors(form: Form) -> dict[str, list[str]]:
    """Field name → messages, for JSON error bodies."""
    return {name: [str(e) for e in errors] for name, errors in form.errors.items()}


class QuickSelect(widgets.Select):
    """WTForms' select widget, writing each plain option with one f-string instead of ``html_params`` and
    ``Markup.format``: the same HTML at a fifth of the cost. The review queue shows the 256 countries and regions
    on every page, where WTForms' way took ~5 ms of each request (bench/README.md)."""

    @classmethod
    def render_option(cls, choice, **kwargs):
        if kwargs or choice.render_kw:
            return super().render_option(choice, **kwargs)
        value = str(choice.value) if isinstance(choice.value, bool) else choice.value
        selected = "selected " if choice.selected else ""
        return Markup(f'<option {selected}value="{escape(value)}">{escape(choice.label or choice.value)}</option>')


def options(pairs) -> list[SelectChoice]:
    """``(value, label)`` pairs as WTForms select choices."""
    return [SelectChoice(value, label) for value, label in pairs]
