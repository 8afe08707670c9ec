"""Forms of the docking sessions and the schedule: a session, deleting one, running the scheduler, placing a meeting
by hand, pinning it, and a busy period. The API validates its bodies with the same classes. Every form accepts being
built with no arguments (tests/test_fuzz.py)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import BooleanField, DateField, DateTimeLocalField, SelectField, StringField, TextAreaField, TimeField
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional

from expo.docking.sessions import MAX_NOTE, MAX_SLOT_MINUTES, MAX_SLOTS, MAX_TABLES, MIN_SLOT_MINUTES
from expo.forms import ExpoForm, Integer, db_id, options


def _strip(value):
    return " ".join(value.split()) if isinstance(value, str) else value


def optional_id(value):
    """A select's row id, or None for its empty option."""
    return None if value in (None, "", "None") else db_id(value)


class SessionForm(ExpoForm):
    """A docking session: its names, room, theme, time, slots and tables."""

    name_zh = StringField(_l("Name in Chinese"), [DataRequired(message=_l("Give the session a name.")),
                                                  Length(max=200)], filters=[_strip])
    name_en = StringField(_l("Name in English"), [DataRequired(message=_l("Give the session a name.")),
                                                  Length(max=200)], filters=[_strip])
    room = StringField(_l("Room"), [Optional(), Length(max=100)], filters=[_strip])
    starts_at = DateTimeLocalField(_l("Starts at (venue time)"), [InputRequired(
        message=_l("Give the day and time the session starts."))], format=["%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S"])
    slot_minutes = Integer(_l("Minutes per slot"), [InputRequired(), NumberRange(min=MIN_SLOT_MINUTES,
                                                                                  max=MAX_SLOT_MINUTES)], default=20)
    slot_count = Integer(_l("Number of slots"), [InputRequired(), NumberRange(min=1, max=MAX_SLOTS)], default=12)
    table_count = Integer(_l("Number of tables"), [InputRequired(), NumberRange(min=1, max=MAX_TABLES)], default=20)
    checkpoint_id = SelectField(_l("Checkpoint at the door"), coerce=optional_id, default=None,
                                validators=[Optional()])
    pavilion_id = SelectField(_l("Pavilion (a themed session)"), coerce=optional_id, default=None,
                              validators=[Optional()])
    category_id = SelectField(_l("Product category (a themed session)"), coerce=optional_id, default=None,
                              validators=[Optional()])
    published = BooleanField(_l("Published: its meetings appear on everyone's schedule"))
    notes = TextAreaField(_l("Notes"), [Optional(), Length(max=5000)])
    unschedule = BooleanField(_l("Unschedule the meetings this change strands"))

    def __init__(self, *args, checkpoints=(), pavilions=(), categories=(), **kwargs):
        super().__init__(*args, **kwargs)
        none = [("", _l("None"))]
        self.checkpoint_id.choices = options(none + list(checkpoints))
        self.pavilion_id.choices = options(none + list(pavilions))
        self.category_id.choices = options(none + list(categories))


class DeleteSessionForm(ExpoForm):
    unschedule = BooleanField(_l("Unschedule its meetings"))


class ScheduleForm(ExpoForm):
    """Run the automatic scheduler."""

    replan = BooleanField(_l("Re-plan: also move meetings already scheduled (pinned ones stay)"))
    respect_themes = BooleanField(_l("Themed sessions take only meetings of their pavilion or category"),
                                  default=True)


class PlaceForm(ExpoForm):
    """Put a meeting at a table in a slot of a session (or move it there)."""

    session_id = SelectField(_l("Docking session"), coerce=optional_id, default=None,
                             validators=[InputRequired(message=_l("Choose a docking session."))])
    slot = Integer(_l("Slot"), [InputRequired(message=_l("Choose a slot.")), NumberRange(min=1, max=MAX_SLOTS)])
    table_no = Integer(_l("Table"), [InputRequired(message=_l("Choose a table.")),
                                     NumberRange(min=1, max=MAX_TABLES)])
    pin = BooleanField(_l("Pin it here (the automatic scheduler will not move it)"), default=True)

    def __init__(self, *args, sessions=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.session_id.choices = options(list(sessions))


class PinForm(ExpoForm):
    pinned = BooleanField(_l("Pinned"))


class BusyForm(ExpoForm):
    """A time when someone cannot meet: a day, from (empty: the start of the day) until (empty: its end)."""

    day = DateField(_l("Day"), [InputRequired(message=_l("Choose the day."))])
    start = TimeField(_l("From"), [Optional()], description=_l("Empty: from the start of the day."))
    end = TimeField(_l("Until"), [Optional()], description=_l("Empty: until the end of the day."))
    note = StringField(_l("Note"), [Optional(), Length(max=MAX_NOTE)], filters=[_strip],
                       description=_l("e.g. a factory visit, the flight home"))
