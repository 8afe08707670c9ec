"""What a scanner needs to keep admitting when the network is gone: the offline bundle.

A scanner verifies a code's Ed25519 signature with the expo's public keys, then refuses it if the badge is on the
revocation list (revoked, or reissued so that the code's serial is behind), if its badge type or the checkpoint
does not admit it today or here, or if the scanner itself saw the holder come in already. The holder directory
(badge id → name, native name, badge type, country, company) lets the screen show whom it admits.

:func:`version` is a cheap digest of everything the bundle holds (aggregates over the badges, the badge types,
the keys, the checkpoint's rules), so a scanner asking with the version it has is answered "not modified" without
the bundle being built. Pure queries: no Flask request here.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from flask import current_app
from sqlalchemy import case, func, select

from expo import countries
from expo.badges import keys
from expo.badges.models import Badge, BadgeStatus, BadgeType, SigningKey
from expo.checkin.models import Checkpoint
from expo.extensions import db
from expo.venue.models import Expo

#: Bump when the bundle's shape changes, so scanners holding an old one fetch the new.
FORMAT = 1


def _types(expo: Expo) -> list[BadgeType]:
    return list(db.session.scalars(select(BadgeType).where(BadgeType.expo_id == expo.id).order_by(BadgeType.id)))


def _checkpoint(checkpoint: Checkpoint) -> dict[str, Any]:
    return {"id": checkpoint.id, "code": checkpoint.code, "name_zh": checkpoint.name_zh,
            "name_en": checkpoint.name_en, "kind": checkpoint.kind, "zone": checkpoint.zone,
            "hall_code": checkpoint.hall_code, "badge_type_ids": list(checkpoint.badge_type_ids or []),
            "days": list(checkpoint.days or []), "mode": checkpoint.mode, "reentry": checkpoint.reentry,
            "active": checkpoint.active}


def version(expo: Expo, checkpoint: Checkpoint) -> str:
    """A digest that changes whenever the bundle for ``checkpoint`` would (two small queries)."""
    badges = db.session.execute(select(
        func.count(Badge.id), func.max(Badge.id), func.coalesce(func.sum(Badge.serial), 0),
        func.coalesce(func.sum(case((Badge.status == BadgeStatus.REVOKED.value, 1), else_=0)), 0),
        func.max(Badge.updated_at)).where(Badge.expo_id == expo.id)).one()
    key_ids = list(db.session.scalars(select(SigningKey.id).where(SigningKey.expo_id == expo.id)
                                      .order_by(SigningKey.id)))
    types = [[t.id, t.code, t.name_zh, t.name_en, t.colour, t.days, t.areas] for t in _types(expo)]
    basis = [FORMAT, expo.id, current_app.config.get("TIMEZONE"), [str(v) for v in badges], key_ids, types,
             _checkpoint(checkpoint)]
    return hashlib.sha256(json.dumps(basis, sort_keys=True, default=str).encode()).hexdigest()[:24]


def bundle(expo: Expo, checkpoint: Checkpoint, bundle_version: str | None = None) -> dict[str, Any]:
    """The offline bundle for a scanner at ``checkpoint``."""
    reissued: dict[str, int] = {}
    revoked: list[int] = []
    holders: dict[str, list[Any]] = {}
    rows = db.session.execute(select(Badge.id, Badge.serial, Badge.status, Badge.name, Badge.name_native,
                                     Badge.badge_type_id, Badge.country, Badge.company)
                              .where(Badge.expo_id == expo.id).order_by(Badge.id))
    for badge_id, serial, status, name, native, type_id, country, company in rows:
        if status != BadgeStatus.ACTIVE:
            revoked.append(badge_id)
            continue  # a revoked badge is refused by id: its holder need not travel
        if serial > 1:
            reissued[str(badge_id)] = serial
        holders[str(badge_id)] = [name, native or "", type_id, country or "", (company or "")[:80]]
    return {
        "format": FORMAT,
        "version": bundle_version or version(expo, checkpoint),
        "expo": {"id": expo.id, "code": expo.code, "starts_on": expo.starts_on.isoformat(),
                 "ends_on": expo.ends_on.isoformat()},
        "timezone": current_app.config.get("TIMEZONE") or "Asia/Shanghai",
        "keys": keys.public_keys_b64(expo),
        "checkpoint": _checkpoint(checkpoint),
        "badge_types": {str(t.id): {"code": t.code, "name_zh": t.name_zh, "name_en": t.name_en, "colour": t.colour,
                                    "days": list(t.days or []), "areas": list(t.areas or [])} for t in _types(expo)},
        "revocations": {"revoked": revoked, "reissued": reissued},
        "holder_fields": ["name", "name_native", "badge_type_id", "country", "company"],
        "holders": holders,
        "countries": {code: [countries.name(code, "zh"), countries.name(code, "en")]
                      for code in sorted({h[3] for h in holders.values() if h[3]})},
    }
