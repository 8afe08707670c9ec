"""Gate forms: a checkpoint and its rules, the live dashboard's day, and the scan log's filters. Also the words for
every scan result and refusal reason, shared by the pages, the scan API's answers and the exports.

Every form here accepts being built with no arguments (tests/test_fuzz.py instantiates each form class).
"""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import BooleanField, DateField, SelectField, SelectMultipleField, StringField, TimeField
from wtforms.validators import DataRequired, Length, NumberRange, Optional
from wtforms.widgets import CheckboxInput, ListWidget

from expo.checkin.models import CheckpointKind, Direction, RefusalReason, ScanResult
from expo.forms import ExpoForm, Integer, QueryForm, QuickSelect, db_id, options

#: A refusal in words, as the gate and the log show it.
REASON_LABELS = {
    RefusalReason.MALFORMED: _l("Not a badge code"),
    RefusalReason.BAD_SIGNATURE: _l("Invalid signature (forged or damaged badge)"),
    RefusalReason.UNKNOWN_KEY: _l("Signed with an unknown key"),
    RefusalReason.UNKNOWN_BADGE: _l("Unknown badge"),
    RefusalReason.REVOKED: _l("Revoked badge"),
    RefusalReason.WRONG_DAY: _l("Not valid today"),
    RefusalReason.NOT_ADMITTED_HERE: _l("Not admitted here"),
    RefusalReason.ALREADY_INSIDE: _l("Already inside"),
    RefusalReason.NOT_INSIDE: _l("Not inside (no entry recorded)"),
    RefusalReason.NO_REENTRY: _l("No re-entry today"),
    RefusalReason.CLOSED: _l("This checkpoint is closed"),
}

RESULT_LABELS = {
    ScanResult.ADMITTED: _l("Admitted"),
    ScanResult.EXITED: _l("Exited"),
    ScanResult.REFUSED: _l("Refused"),
}

KIND_LABELS = {
    CheckpointKind.ENTRANCE: _l("Venue entrance"),
    CheckpointKind.HALL: _l("Hall door"),
    CheckpointKind.ROOM: _l("Docking-session room"),
}

MODE_LABELS = {
    "entry": _l("Entry only (every scan is an entry)"),
    "entry_exit": _l("Entry and exit (the scanner chooses)"),
}

DIRECTION_LABELS = {Direction.IN: _l("Entry"), Direction.OUT: _l("Exit")}


def reason_label(reason: str) -> str:
    return str(REASON_LABELS.get(reason, reason)) if reason else ""


def result_label(result: str) -> str:
    return str(RESULT_LABELS.get(result, result))


def _strip(value):
    return " ".join(value.split()) if isinstance(value, str) else value


def _upper(value):
    return "".join(value.split()).upper() if isinstance(value, str) else value


def _optional_id(value):
    """A select's row id, or None for its empty "all" option."""
    return None if value in (None, "", "None") else db_id(value)


class CheckpointForm(ExpoForm):
    """A checkpoint: where it is, what it admits and when (nothing ticked: every badge type / every day)."""

    code = StringField(_l("Code"), [DataRequired(message=_l("Give the checkpoint a code.")), Length(max=20)],
                       filters=[_upper], description=_l("1 to 20 letters A–Z, digits and -, e.g. W1 or HALL-A1."))
    name_zh = StringField(_l("Name in Chinese"), [DataRequired(message=_l("Give the checkpoint a name.")),
                                                  Length(max=100)], filters=[_strip])
    name_en = StringField(_l("Name in English"), [DataRequired(message=_l("Give the checkpoint a name.")),
                                                  Length(max=100)], filters=[_strip])
    kind = SelectField(_l("Kind"), choices=options([(k.value, v) for k, v in KIND_LABELS.items()]),
                       default=CheckpointKind.ENTRANCE.value)
    hall_code = StringField(_l("Hall or room code"), [Optional(), Length(max=20)], filters=[_strip],
                            description=_l("A hall door: the hall's code. A docking-session room: the room's code. "
                                           "A venue entrance: leave empty."))
    badge_type_ids = SelectMultipleField(_l("Badge types admitted (none ticked: every type)"), coerce=db_id,
                                         widget=ListWidget(prefix_label=False), option_widget=CheckboxInput())
    days = SelectMultipleField(_l("Days open (none ticked: every day)"), coerce=str,
                               widget=ListWidget(prefix_label=False), option_widget=CheckboxInput())
    mode = SelectField(_l("Mode"), choices=options(list(MODE_LABELS.items())), default="entry_exit")
    reentry = BooleanField(_l("Re-entry allowed on the same day"), default=True)
    auto_checkout_at = TimeField(_l("Automatic check-out at (venue time)"), [Optional()],
                                 description=_l("Everyone still inside is checked out at this time by the "
                                                "'flask gate checkout' command. Empty: never."))
    active = BooleanField(_l("Active"), default=True)

    def __init__(self, *args, badge_types=(), days=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.badge_type_ids.choices = options(list(badge_types))
        self.days.choices = options(list(days))


class DayForm(QueryForm):
    """The live dashboard's day (empty: today at the venue)."""

    day = DateField(_l("Day"), [Optional()])


class ScanLogFilterForm(QueryForm):
    """The scan log's filters, from the query string."""

    checkpoint_id = SelectField(_l("Checkpoint"), coerce=_optional_id, default=None)
    result = SelectField(_l("Result"), default="",
                         choices=options([("", _l("All"))] + [(k.value, v) for k, v in RESULT_LABELS.items()]))
    reason = SelectField(_l("Reason"), default="", widget=QuickSelect(),
                         choices=options([("", _l("All"))] + [(k.value, v) for k, v in REASON_LABELS.items()]))
    day = DateField(_l("Day"), [Optional()])
    q = StringField(_l("Name on the badge"), [Optional(), Length(max=100)], filters=[_strip])
    page = Integer(default=1, validators=[Optional(), NumberRange(min=1, max=1_000_000)])
    per_page = Integer(default=50, validators=[Optional(), NumberRange(min=1, max=200)])

    def __init__(self, formdata=None, *, checkpoints=(), **kwargs):
        super().__init__(formdata, **kwargs)
        self.checkpoint_id.choices = options([("", _l("All"))] + list(checkpoints))


class BundleQueryForm(QueryForm):
    """The offline bundle's query: which checkpoint it is for."""

    checkpoint_id = Integer(_l("Checkpoint"), [DataRequired(message=_l("Give the checkpoint's id (a number).")),
                                               NumberRange(min=1, max=2**31 - 1)])
