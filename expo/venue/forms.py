"""Forms of the venue pages: halls (entrances and obstacles one per line), pavilions, exhibition areas, the layout
generator, the booth list's filters and the booth import."""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l
from flask_wtf.file import FileField, FileRequired
from wtforms import BooleanField, FloatField, HiddenField, SelectField, SelectMultipleField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, NumberRange, Optional, Regexp, ValidationError

from expo.exhibitors.forms import optional_int
from expo.forms import ExpoForm, Integer, QueryForm, QuickSelect, db_id, options

strip = [lambda s: s.strip() if isinstance(s, str) else s]
SIDES = ("N", "E", "S", "W")


def _float(text: str) -> float:
    value = float(text.strip().replace(",", "."))
    if value != value or abs(value) > 10_000:  # NaN or absurd
        raise ValueError(text)
    return value


def parse_entrances(text: str) -> tuple[list[dict[str, Any]], list[str]]:
    """``name; side; offset_m; width_m`` per line → entrances, and one message per bad line."""
    out, errors = [], []
    for i, line in enumerate((text or "").splitlines(), start=1):
        if not line.strip():
            continue
        parts = [p.strip() for p in line.split(";")]
        if len(parts) != 4:
            errors.append(str(_l("Line %(line)d: write name; side; offset; width.", line=i)))
            continue
        name, side, offset, width = parts
        side = side.upper()
        if not name or side not in SIDES:
            errors.append(str(_l("Line %(line)d: the side must be N, E, S or W.", line=i)))
            continue
        try:
            offset_m, width_m = _float(offset), _float(width)
        except ValueError:
            errors.append(str(_l("Line %(line)d: offset and width must be numbers in metres.", line=i)))
            continue
        if offset_m < 0 or width_m <= 0:
            errors.append(str(_l("Line %(line)d: the offset must not be negative and the width must be larger "
                                 "than zero.", line=i)))
            continue
        out.append({"name": name[:100], "side": side, "offset_m": offset_m, "width_m": width_m})
    return out, errors


def parse_obstacles(text: str) -> tuple[list[dict[str, Any]], list[str]]:
    """``label; x_m; y_m; width_m; depth_m`` per line → obstacles, and one message per bad line."""
    out, errors = [], []
    for i, line in enumerate((text or "").splitlines(), start=1):
        if not line.strip():
            continue
        parts = [p.strip() for p in line.split(";")]
        if len(parts) != 5 or not parts[0]:
            errors.append(str(_l("Line %(line)d: write label; x; y; width; depth.", line=i)))
            continue
        try:
            x, y, w, d = (_float(p) for p in parts[1:])
        except ValueError:
            errors.append(str(_l("Line %(line)d: x, y, width and depth must be numbers in metres.", line=i)))
            continue
        if x < 0 or y < 0 or w <= 0 or d <= 0:
            errors.append(str(_l("Line %(line)d: x and y must not be negative, width and depth must be larger than "
                                 "zero.", line=i)))
            continue
        out.append({"label": parts[0][:100], "x_m": x, "y_m": y, "width_m": w, "depth_m": d})
    return out, errors


def entrances_text(entrances: list[dict[str, Any]]) -> str:
    return "\n".join(f"{e.get('name', '')}; {e.get('side', 'N')}; {e.get('offset_m', 0)}; {e.get('width_m', 0)}"
                     for e in entrances or [])


def obstacles_text(obstacles: list[dict[str, Any]]) -> str:
    return "\n".join(f"{o.get('label', '')}; {o['x_m']}; {o['y_m']}; {o['width_m']}; {o['depth_m']}"
                     for o in obstacles or [])


class HallForm(ExpoForm):
    name_zh = StringField(_l("Name in Chinese"), [DataRequired(), Length(max=100)], filters=strip)
    name_en = StringField(_l("Name in English"), [DataRequired(), Length(max=100)], filters=strip)
    width_m = FloatField(_l("Width (m, west to east)"), [DataRequired(), NumberRange(min=1, max=2000)])
    depth_m = FloatField(_l("Depth (m, north to south)"), [DataRequired(), NumberRange(min=1, max=2000)])
    plan_x_m = FloatField(_l("Position on the venue plan: x (m)"), [Optional(), NumberRange(min=0, max=100_000)],
                          default=0)
    plan_y_m = FloatField(_l("Position on the venue plan: y (m)"), [Optional(), NumberRange(min=0, max=100_000)],
                          default=0)
    entrances = TextAreaField(_l("Entrances, one per line: name; side (N, E, S, W); offset along the wall (m); "
                                 "width (m)"), [Length(max=20_000)])
    obstacles = TextAreaField(_l("Obstacles, one per line: label; x (m); y (m); width (m); depth (m)"),
                              [Length(max=100_000)])

    def validate_entrances(self, field):
        entrances, errors = parse_entrances(field.data)
        if errors:
            raise ValidationError(" ".join(errors))
        for e in entrances:
            wall = self.width_m.data if e["side"] in "NS" else self.depth_m.data
            if wall and e["offset_m"] + e["width_m"] > wall:
                raise ValidationError(_l("Entrance “%(name)s” runs past the end of its wall.", name=e["name"]))
        self.entrance_list = entrances

    def validate_obstacles(self, field):
        obstacles, errors = parse_obstacles(field.data)
        if errors:
            raise ValidationError(" ".join(errors))
        for o in obstacles:
            if self.width_m.data and self.depth_m.data and (o["x_m"] + o["width_m"] > self.width_m.data + 0.01
                                                          or o["y_m"] + o["depth_m"] > self.depth_m.data + 0.01):
                raise ValidationError(_l("Obstacle “%(label)s” lies outside the hall.", label=o["label"]))
        self.obstacle_list = obstacles


class PavilionForm(ExpoForm):
    code = StringField(_l("Code"), [DataRequired(), Length(max=20), Regexp(r"^[A-Za-z0-9_-]+$", message=_l(
        "Letters, digits, - and _ only."))], filters=strip)
    name_zh = StringField(_l("Name in Chinese"), [DataRequired(), Length(max=100)], filters=strip)
    name_en = StringField(_l("Name in English"), [DataRequired(), Length(max=100)], filters=strip)
    colour = StringField(_l("Colour (#rrggbb)"), [DataRequired(), Regexp(r"^#[0-9A-Fa-f]{6}$", message=_l(
        "Write the colour as # and six hexadecimal digits, such as #1f77b4."))], filters=strip, default="#888888")
    area_id = SelectField(_l("Exhibition area"), coerce=optional_int, widget=QuickSelect())
    category_ids = SelectMultipleField(_l("Product categories it hosts"), coerce=db_id)

    def __init__(self, *args, area_choices=(), category_choices=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.area_id.choices = options([(0, _l("None"))] + list(area_choices))
        self.category_ids.choices = list(category_choices)


class AreaForm(ExpoForm):
    name_zh = StringField(_l("Name in Chinese"), [DataRequired(), Length(max=100)], filters=strip)
    name_en = StringField(_l("Name in English"), [DataRequired(), Length(max=100)], filters=strip)


class GenerateForm(ExpoForm):
    x_m = FloatField(_l("Region x (m)"), [Optional(), NumberRange(min=0, max=10_000)], default=0)
    y_m = FloatField(_l("Region y (m)"), [Optional(), NumberRange(min=0, max=10_000)], default=0)
    width_m = FloatField(_l("Region width (m)"), [DataRequired(), NumberRange(min=0.5, max=10_000)])
    depth_m = FloatField(_l("Region depth (m)"), [DataRequired(), NumberRange(min=0.5, max=10_000)])
    booth_width_m = FloatField(_l("Booth width (m)"), [DataRequired(), NumberRange(min=1, max=100)], default=3)
    booth_depth_m = FloatField(_l("Booth depth (m)"), [DataRequired(), NumberRange(min=1, max=100)], default=3)
    booths_per_row = Integer(_l("Booths per row"), [DataRequired(), NumberRange(min=1, max=200)], default=10)
    rows_per_block = Integer(_l("Rows per block"), [DataRequired(), NumberRange(min=1, max=20)], default=2)
    aisle_m = FloatField(_l("Aisle (m)"), [Optional(), NumberRange(min=0, max=100)], default=3)
    cross_aisle_m = FloatField(_l("Cross aisle (m)"), [Optional(), NumberRange(min=0, max=100)], default=3)
    prefix = StringField(_l("Numbering prefix"), [Optional(), Length(max=12), Regexp(
        r"^[A-Za-z0-9._/-]*$", message=_l("Letters, digits and - . / _ only."))], filters=strip)
    first_number = Integer(_l("First number"), [Optional(), NumberRange(min=0, max=99_999)], default=1)
    pavilion_id = SelectField(_l("Pavilion"), coerce=optional_int, widget=QuickSelect())
    price_cny = Integer(_l("Price per booth (CNY)"), [Optional(), NumberRange(min=0, max=100_000_000)], default=0)
    raw_space = BooleanField(_l("Raw space"))

    def __init__(self, *args, pavilion_choices=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.pavilion_id.choices = options([(0, _l("None"))] + list(pavilion_choices))


STATUS_CHOICES = [("available", _l("Available")), ("held", _l("Held")), ("assigned", _l("Assigned")),
                  ("blocked", _l("Blocked"))]
KIND_CHOICES = [("standard", _l("Standard")), ("corner", _l("Corner")), ("peninsula", _l("Peninsula")),
                ("island", _l("Island")), ("raw", _l("Raw space"))]


class BoothFilterForm(QueryForm):
    hall_id = SelectField(_l("Hall"), coerce=optional_int, widget=QuickSelect())
    pavilion_id = SelectField(_l("Pavilion"), coerce=optional_int, widget=QuickSelect())
    status = SelectField(_l("Status"), coerce=str, default="", widget=QuickSelect())
    kind = SelectField(_l("Kind"), coerce=str, default="", widget=QuickSelect())
    q = StringField(_l("Number or exhibitor"), [Optional(), Length(max=100)], filters=strip)
    sort = SelectField(_l("Sort by"), coerce=str, default="number", widget=QuickSelect(), choices=options([
        ("number", _l("Number")), ("hall", _l("Hall")), ("status", _l("Status")), ("kind", _l("Kind")),
        ("price", _l("Price")), ("area", _l("Area"))]))
    desc = BooleanField(_l("Descending"))
    page = Integer(default=1, validators=[Optional(), NumberRange(min=1, max=1_000_000)])
    per_page = Integer(default=100, validators=[Optional(), NumberRange(min=1, max=200)])

    def __init__(self, formdata=None, *, hall_choices=(), pavilion_choices=(), **kwargs):
        super().__init__(formdata, **kwargs)
        every = _l("All")
        self.hall_id.choices = options([(0, every)] + list(hall_choices))
        self.pavilion_id.choices = options([(0, every)] + list(pavilion_choices))
        self.status.choices = options([("", every)] + STATUS_CHOICES)
        self.kind.choices = options([("", every)] + KIND_CHOICES)


class ImportUploadForm(ExpoForm):
    file = FileField(_l("Booth list (CSV or XLSX)"), [FileRequired(_l("Choose a file."))])


class ImportConfirmForm(ExpoForm):
    rows = HiddenField(validators=[DataRequired()])
