"""The organizer's checkpoints: creating and changing them with their rules, and the automatic check-out at the end
of the day (``flask gate checkout``, run by cron).

Services flush and write the audit log; views and commands commit.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, time
from zoneinfo import ZoneInfo

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from expo import audit
from expo.auth.models import User
from expo.badges import services as badge_services
from expo.badges.models import BadgeType
from expo.checkin import services
from expo.checkin.models import Checkpoint, CheckpointKind
from expo.errors import ExpoError
from expo.extensions import db
from expo.venue.models import Expo


class CheckpointError(ExpoError):
    code = "checkpoint"


_CODE = re.compile(r"[A-Z0-9][A-Z0-9-]{0,19}")
_ROOM = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,19}")
MODES = ("entry", "entry_exit")


@dataclass(frozen=True)
class CheckpointData:
    """A checkpoint as the organizer typed it."""

    code: str
    name_zh: str
    name_en: str
    kind: str = CheckpointKind.ENTRANCE.value
    hall_code: str = ""
    badge_type_ids: tuple[int, ...] = ()
    days: tuple[str, ...] = ()
    mode: str = "entry_exit"
    reentry: bool = True
    auto_checkout_at: time | None = None
    active: bool = True


def checkpoints_of(expo: Expo, *, active_only: bool = False) -> list[Checkpoint]:
    """The expo's checkpoints, by code."""
    stmt = select(Checkpoint).where(Checkpoint.expo_id == expo.id)
    if active_only:
        stmt = stmt.where(Checkpoint.active.is_(True))
    return list(db.session.scalars(stmt.order_by(Checkpoint.code, Checkpoint.id)))


def save_checkpoint(actor: User | None, expo: Expo, data: CheckpointData,
                    checkpoint: Checkpoint | None = None) -> Checkpoint:
    """Create a checkpoint (``checkpoint`` None) or change one, checking every field; audited."""
    code = "".join((data.code or "").split()).upper()
    if not _CODE.fullmatch(code):
        raise CheckpointError(_l("A code is 1 to 20 letters A–Z, digits and -, starting with a letter or digit."),
                              field="code")
    names = {"name_zh": " ".join((data.name_zh or "").split())[:100],
             "name_en": " ".join((data.name_en or "").split())[:100]}
    for field, value in names.items():
        if not value:
            raise CheckpointError(_l("Give the checkpoint a name."), field=field)
    if data.kind not in {k.value for k in CheckpointKind}:
        raise CheckpointError(_l("Choose the kind of checkpoint."), field="kind")
    hall_code = (data.hall_code or "").strip()
    if data.kind == CheckpointKind.ENTRANCE:
        hall_code = ""  # an entrance guards the venue as a whole
    elif data.kind == CheckpointKind.HALL:
        if hall_code not in badge_services.hall_codes(expo):
            raise CheckpointError(_l("Give the code of a hall of this expo."), field="hall_code")
    elif not _ROOM.fullmatch(hall_code):
        raise CheckpointError(_l("Give the room's code: 1 to 20 letters, digits, '.', '_' or '-'."),
                              field="hall_code")
    type_ids = set(db.session.scalars(select(BadgeType.id).where(BadgeType.expo_id == expo.id)))
    if not set(data.badge_type_ids) <= type_ids:
        raise CheckpointError(_l("Choose badge types of this expo."), field="badge_type_ids")
    days = {d.isoformat() for d in badge_services.admission_days(expo)}
    if not set(data.days) <= days:
        raise CheckpointError(_l("Choose days of this expo."), field="days")
    if data.mode not in MODES:
        raise CheckpointError(_l("Choose entry only, or entry and exit."), field="mode")
    clash = db.session.scalar(select(Checkpoint.id).where(Checkpoint.expo_id == expo.id, Checkpoint.code == code))
    if clash is not None and (checkpoint is None or clash != checkpoint.id):
        raise CheckpointError(_l("There is already a checkpoint %(code)s.", code=code), field="code", status=409)
    values = dict(names, code=code, kind=data.kind, hall_code=hall_code,
                  badge_type_ids=sorted(set(data.badge_type_ids)),
                  days=sorted(set(data.days)), mode=data.mode, reentry=bool(data.reentry),
                  auto_checkout_at=data.auto_checkout_at.replace(second=0, microsecond=0)
                  if data.auto_checkout_at else None, active=bool(data.active))
    if checkpoint is None:
        checkpoint = Checkpoint(expo_id=expo.id, **values)
        db.session.add(checkpoint)
        db.session.flush()
        audit.record(actor, "checkpoint_created", checkpoint, **values)
        return checkpoint
    if checkpoint.expo_id != expo.id:
        raise CheckpointError(_l("This checkpoint belongs to another expo."), status=404)
    changes = audit.diff(checkpoint, values)
    if changes:
        db.session.flush()
        audit.record(actor, "checkpoint_updated", checkpoint, code=checkpoint.code, **changes)
    return checkpoint


def venue_now(moment: datetime) -> datetime:
    """A UTC moment as the venue's local time (naive)."""
    tz = ZoneInfo(current_app.config.get("TIMEZONE") or "Asia/Shanghai")
    return moment.replace(tzinfo=ZoneInfo("UTC")).astimezone(tz).replace(tzinfo=None)


def auto_checkout(expo: Expo, at: datetime | None = None) -> list[tuple[Checkpoint, int]]:
    """Check out everyone inside the zones of the active checkpoints whose automatic check-out time has passed
    today (venue time): ``(checkpoint, how many were checked out)`` for each. Several checkpoints guarding one zone
    (the venue's entrances) check it out once. For cron; running it again the same evening checks out only those
    who came in since."""
    at = at or services.utcnow()
    local = venue_now(at).time()
    done: list[tuple[Checkpoint, int]] = []
    zones: set[str] = set()
    for checkpoint in checkpoints_of(expo, active_only=True):
        if checkpoint.auto_checkout_at is None or local < checkpoint.auto_checkout_at or checkpoint.zone in zones:
            continue
        zones.add(checkpoint.zone)
        done.append((checkpoint, services.check_out_everyone(expo, checkpoint, at)))
    return done
