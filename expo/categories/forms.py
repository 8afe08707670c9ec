from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import BooleanField, SelectField, StringField
from wtforms.validators import DataRequired, Length, NumberRange, Optional, Regexp

from expo.exhibitors.forms import optional_int
from expo.forms import ExpoForm, Integer, options


class CategoryForm(ExpoForm):
    code = StringField(_l("Code"), [DataRequired(), Length(max=32),
                                    Regexp(r"^[a-z0-9][a-z0-9_.-]*$", message=_l("Use lower-case letters, digits, - _ ."))])
    name_zh = StringField(_l("Name in Chinese"), [DataRequired(), Length(max=100)])
    name_en = StringField(_l("Name in English"), [DataRequired(), Length(max=100)])
    parent_id = SelectField(_l("Parent category"), coerce=optional_int)
    sort = Integer(_l("Order"), [Optional(), NumberRange(min=0, max=10000)], default=0)
    active = BooleanField(_l("Offered to exhibitors and buyers"), default=True)

    def __init__(self, *args, parent_choices=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.parent_id.choices = options([(0, _l("(top level)"))] + list(parent_choices))
