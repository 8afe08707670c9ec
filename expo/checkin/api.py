"""/api/v1/gate: the scan API for the scanner page and for scanner apps, and the offline bundle.

- ``POST /scans``: one scan, answered at once. A refusal is an answer (200 with ``result: "refused"`` and a
  reason), not an error; a 4xx means the request itself was wrong (not JSON, no nonce, an unknown checkpoint).
- ``POST /scans/batch``: scans a scanner made while offline, uploaded later (and perhaps more than once): each one
  counts exactly once, by its device's nonce (:func:`expo.checkin.services.scan`). Each item is its own
  transaction, so a batch cut off half-way is simply sent again.
- ``GET /bundle?checkpoint_id=``: what a scanner needs to verify codes offline (:mod:`expo.checkin.offline`),
  with an ETag: a scanner sending ``If-None-Match`` with the version it holds is answered 304.

The scan endpoint is on the hot path of every gate (load-tested at 1,000 scans/s): its body is checked by hand
rather than by a form, the checkpoint and its expo come in one query, and the expo's public keys are kept per
process for a short time (:func:`_public_keys`) instead of being read and parsed for every scan.
"""

from __future__ import annotations

import threading
import time as clock
from datetime import UTC, datetime, timedelta
from typing import Any

from flask import Blueprint, jsonify, make_response, request
from flask_babel import force_locale
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy import select

from expo import countries
from expo.api import schemas as s
from expo.api.bodies import json_body
from expo.api.openapi import operation
from expo.auth.access import ORGANIZERS, allow
from expo.auth.models import Role
from expo.badges import codes, keys
from expo.checkin import offline, services
from expo.checkin.forms import REASON_LABELS, RESULT_LABELS, BundleQueryForm, reason_label, result_label
from expo.checkin.models import Checkpoint, Direction
from expo.errors import ExpoError, NotFound
from expo.exhibitors.services import current_expo
from expo.extensions import db
from expo.forms import CONTROL_CHARACTERS, MAX_ID, form_errors
from expo.i18n import current_lang
from expo.venue.models import Expo

bp = Blueprint("gate_api", __name__, url_prefix="/api/v1/gate")

SCANNERS = (Role.GATE, *ORGANIZERS)
#: The most scans one batch upload takes (a scanner offline for a long time sends several batches).
MAX_BATCH = 500
#: How long a process trusts its copy of the expo's public keys and of which expo is current (seconds). A code
#: signed by a key the copy does not know reloads the keys at once, so a new key is never refused.
CACHE_SECONDS = 30.0
#: A code longer than this is not a scan at all (a badge code is 117 characters).
MAX_CODE = 1000


class InvalidScan(ExpoError):
    status = 422
    code = "invalid"


@bp.errorhandler(ExpoError)
def _refused(exc: ExpoError):
    """A bad request: JSON with a reason code, and the field it concerns (as the rest of /api/v1 answers)."""
    db.session.rollback()
    out: dict[str, Any] = {"error": exc.code, "message": str(exc.message)}
    if exc.field:
        out["fields"] = {exc.field: [str(exc.message)]}
    return jsonify(out), exc.status


# --- per-process caches -----------------------------------------------------------------------------------------------

_lock = threading.Lock()
#: (expo id, when the expo was created) → (fresh until, key number → public key). The creation time is part of
#: the key so that an expo loaded anew under a reused id (``flask demo --reset``) never meets its predecessor's keys.
_keys: dict[tuple[int, object], tuple[float, dict]] = {}
_current: list[tuple[float, int]] = []


def _public_keys(expo: Expo, code: str) -> dict:
    """The expo's public keys, from this process's copy while it is fresh and knows the code's key."""
    now = clock.monotonic()
    cache_key = (expo.id, expo.created_at)
    cached = _keys.get(cache_key)
    if cached is not None and cached[0] > now:
        claim = codes.peek(code)  # the first characters only: the service verifies the whole code
        if claim is None or claim.key_id in cached[1]:
            return cached[1]  # (None: the service refuses it as malformed; no need to reload anything)
    found = keys.public_keys(expo)
    with _lock:
        if len(_keys) > 16:
            _keys.clear()
        _keys[cache_key] = (now + CACHE_SECONDS, found)
    return found


def _is_current(expo_id: int) -> bool:
    """Whether ``expo_id`` is the current expo, from this process's copy; a mismatch asks the database again (a new
    expo may just have started), so only a checkpoint of an old expo costs a query."""
    now = clock.monotonic()
    if _current and _current[0][0] > now and _current[0][1] == expo_id:
        return True
    current = current_expo().id
    with _lock:
        _current[:] = [(now + CACHE_SECONDS, current)]
    return current == expo_id


def clear_caches() -> None:
    """Forget the cached keys and current expo (tests that rotate keys or load another expo)."""
    with _lock:
        _keys.clear()
        _current.clear()


# --- input ---------------------------------------------------------------------------------------------------------

def _invalid(field: str, message) -> InvalidScan:
    return InvalidScan(message, field=field)


def _text(data: dict[str, Any], field: str, *, required: bool, max_length: int = 64) -> str:
    value = data.get(field)
    if value is None or value == "":
        if required:
            raise _invalid(field, _l("This field is required."))
        return ""
    if not isinstance(value, str):
        raise _invalid(field, _l("Send text here."))
    value = value.strip()
    if required and not value:
        raise _invalid(field, _l("This field is required."))
    if len(value) > max_length:
        raise _invalid(field, _l("At most %(n)d characters.", n=max_length))
    if CONTROL_CHARACTERS.search(value):
        raise _invalid(field, _l("Remove the control characters (such as NUL) from this text."))
    return value


def _checkpoint_id(data: dict[str, Any]) -> int:
    value = data.get("checkpoint_id")
    if isinstance(value, str) and value.strip().isdigit() and len(value.strip()) <= 10:
        value = int(value.strip())
    if not isinstance(value, int) or isinstance(value, bool) or not 1 <= value <= MAX_ID:
        raise _invalid("checkpoint_id", _l("Give the checkpoint's id (a number)."))
    return value


def _code(data: dict[str, Any]) -> str:
    value = data.get("code")
    if not isinstance(value, str):
        raise _invalid("code", _l("Send the scanned code as text."))
    if len(value) > MAX_CODE:
        raise _invalid("code", _l("At most %(n)d characters.", n=MAX_CODE))
    # Scanners add control characters of their own (a GS1 separator, a carriage return); they are no part of a
    # code, and the log cannot store some of them.
    return CONTROL_CHARACTERS.sub("", value)


def _direction(data: dict[str, Any]) -> str:
    value = data.get("direction") or Direction.IN.value
    if value not in (Direction.IN.value, Direction.OUT.value):
        raise _invalid("direction", _l("Say \"in\" or \"out\"."))
    return value


#: How far back a scanner's clock is believed (an offline scanner uploads a day's scans, not a year's).
OLDEST_SCAN = timedelta(days=366)


def _scanned_at(data: dict[str, Any]) -> datetime | None:
    value = data.get("scanned_at")
    if value is None or value == "":
        return None
    if not isinstance(value, str) or len(value) > 40:
        raise _invalid("scanned_at", _l("Give the time as ISO 8601, e.g. 2027-04-19T09:30:00Z."))
    try:
        moment = datetime.fromisoformat(value.strip().replace("Z", "+00:00").replace("z", "+00:00"))
        if moment.tzinfo is not None:
            moment = moment.astimezone(UTC).replace(tzinfo=None)
    except (ValueError, OverflowError):
        raise _invalid("scanned_at", _l("Give the time as ISO 8601, e.g. 2027-04-19T09:30:00Z.")) from None
    if moment < services.utcnow() - OLDEST_SCAN:
        raise _invalid("scanned_at", _l("This time is too long ago to be a scan of this expo."))
    return moment


def _checkpoint(checkpoint_id: int) -> tuple[Checkpoint, Expo]:
    """The checkpoint and its expo in one query; 404 unless it is a checkpoint of the current expo."""
    row = db.session.execute(select(Checkpoint, Expo).join(Expo, Expo.id == Checkpoint.expo_id)
                             .where(Checkpoint.id == checkpoint_id)).first()
    if row is None or not _is_current(row[1].id):
        raise NotFound(_l("There is no such checkpoint."), code="unknown_checkpoint")
    return row[0], row[1]


def _checkpoint_rules(checkpoint_id: int) -> tuple[services.CheckpointRules, services.ExpoRef]:
    """The same for one scan, as plain values in one light query (the hot path: no ORM objects)."""
    found = services.checkpoint_rules(checkpoint_id)
    if found is None or not _is_current(found[1].id):
        raise NotFound(_l("There is no such checkpoint."), code="unknown_checkpoint")
    return found


# --- output --------------------------------------------------------------------------------------------------------

ANSWER = {"result": "string", "reason": "string", "message": "string", "result_text": "string",
          "badge_id": s.NULLABLE_INT, "name": "string", "name_native": "string", "company": "string",
          "country": "string", "country_name": "string", "badge_type": "string", "badge_type_zh": "string",
          "colour": "string", "scan_id": s.NULLABLE_INT, "replayed": "boolean", "offline": "boolean",
          "checkpoint_id": "integer", "direction": "string", "nonce": "string"}


def answer_json(answer: services.Answer, checkpoint: Checkpoint, *, direction: str, nonce: str,
                offline_scan: bool = False, lang: str | None = None) -> dict[str, Any]:
    """The scanner's answer: the service's, with its words in ``lang`` (default: the caller's language)."""
    lang = lang or current_lang()
    labels = _labels(lang)
    return {"result": answer.result, "reason": answer.reason,
            "message": labels["reason"].get(answer.reason, answer.reason) if answer.reason else "",
            "result_text": labels["result"].get(answer.result, answer.result), "badge_id": answer.badge_id, "name": answer.name,
            "name_native": answer.name_native, "company": answer.company, "country": answer.country,
            "country_name": countries.name(answer.country, lang) if answer.country else "",
            "badge_type": answer.badge_type, "badge_type_zh": answer.badge_type_zh, "colour": answer.colour,
            "scan_id": answer.scan_id, "replayed": answer.replayed, "offline": offline_scan,
            "checkpoint_id": checkpoint.id,
            "direction": Direction.OUT.value if direction == Direction.OUT and checkpoint.mode == "entry_exit"
            else Direction.IN.value, "nonce": nonce}


_label_tables: dict[str, dict[str, dict[str, str]]] = {}


def _labels(lang: str) -> dict[str, dict[str, str]]:
    """Refusal reasons and results in ``lang``, translated once per process (an answer is on every scan's path)."""
    table = _label_tables.get(lang)
    if table is None:
        with force_locale(lang):
            table = {"reason": {str(k): reason_label(k) for k in REASON_LABELS},
                     "result": {str(k): result_label(k) for k in RESULT_LABELS}}
        _label_tables[lang] = table
    return table


SCAN_BODY = {
    "type": "object",
    "required": ["checkpoint_id", "code", "device_id", "nonce"],
    "properties": {
        "checkpoint_id": {"type": "integer", "minimum": 1, "description": "the checkpoint scanned at"},
        "code": {"type": "string", "maxLength": MAX_CODE, "description": "the text of the badge's QR code"},
        "device_id": {"type": "string", "minLength": 1, "maxLength": 64,
                      "description": "the scanner's own id (random, kept by the scanner)"},
        "nonce": {"type": "string", "minLength": 1, "maxLength": 64,
                  "description": "a fresh id for this scan; sending it again returns the first answer"},
        "direction": {"type": "string", "enum": ["in", "out"], "default": "in",
                      "description": "\"out\" for an exit, at checkpoints of mode entry_exit"},
        "scanned_at": {"type": ["string", "null"], "format": "date-time",
                       "description": "when it was scanned (ISO 8601); default: now"},
    },
}
BATCH_ITEM = {**SCAN_BODY, "required": ["checkpoint_id", "code", "nonce"],
              "properties": {k: v for k, v in SCAN_BODY["properties"].items() if k != "device_id"}}
BATCH_BODY = {"type": "object", "required": ["device_id", "scans"],
              "properties": {"device_id": SCAN_BODY["properties"]["device_id"],
                             "scans": {"type": "array", "minItems": 1, "maxItems": MAX_BATCH, "items": BATCH_ITEM}}}
BATCH_ANSWER = {"type": "object", "required": ["answers", "counted", "replayed", "invalid"], "properties": {
    "answers": {"type": "array", "items": {"type": "object", "description": "a scan answer, or for an item that "
                                           "could not be taken: nonce, error, message"}},
    "counted": {"type": "integer"}, "replayed": {"type": "integer"}, "invalid": {"type": "integer"}}}


# --- routes --------------------------------------------------------------------------------------------------------

@bp.post("/scans")
@allow(*SCANNERS)
@operation("Scan a badge at a checkpoint", tag="gate", body=SCAN_BODY, response=s.schema(ANSWER),
           description="A refusal is an answer (200, result \"refused\" with a reason), not an error. The same "
                       "device_id and nonce again returns the first answer with replayed: true.")
def scan():
    data = json_body()
    nonce = _text(data, "nonce", required=True)
    device_id = _text(data, "device_id", required=True)
    code, direction, at = _code(data), _direction(data), _scanned_at(data)
    checkpoint, expo = _checkpoint_rules(_checkpoint_id(data))
    answer = services.scan(current_user._get_current_object(), expo, checkpoint, code, device_id=device_id,
                           nonce=nonce, direction=direction, scanned_at=at, public_keys=_public_keys(expo, code))
    # The answer before the commit: after it every loaded row (the checkpoint, the account the language comes
    # from) would be read again.
    out = answer_json(answer, checkpoint, direction=direction, nonce=nonce)
    db.session.commit()
    return jsonify(out)


@bp.post("/scans/batch")
@allow(*SCANNERS)
@operation("Upload scans made offline", tag="gate", body=BATCH_BODY, response=BATCH_ANSWER,
           description=f"At most {MAX_BATCH} scans a batch. Each counts once by its nonce, however often the batch "
                       "is sent; answers come in the order of the scans.")
def scan_batch():
    data = json_body()
    device_id = _text(data, "device_id", required=True)
    items = data.get("scans")
    if not isinstance(items, list) or not items:
        raise _invalid("scans", _l("Send the scans as a list."))
    if len(items) > MAX_BATCH:
        raise _invalid("scans", _l("At most %(n)d scans a batch.", n=MAX_BATCH))
    user = current_user._get_current_object()
    current_lang()  # the language once, before the commits expire the account it may come from
    checkpoints: dict[int, tuple[Checkpoint, Expo]] = {}
    answers: list[dict[str, Any]] = []
    counted = replayed = invalid = 0
    for item in items:
        nonce = item.get("nonce") if isinstance(item, dict) and isinstance(item.get("nonce"), str) else ""
        try:
            if not isinstance(item, dict):
                raise _invalid("scans", _l("Each scan is a JSON object."))
            nonce = _text(item, "nonce", required=True)
            code, direction, at = _code(item), _direction(item), _scanned_at(item)
            checkpoint_id = _checkpoint_id(item)
            if checkpoint_id not in checkpoints:
                checkpoints[checkpoint_id] = _checkpoint(checkpoint_id)
            checkpoint, expo = checkpoints[checkpoint_id]
        except ExpoError as exc:
            invalid += 1
            answers.append({"nonce": nonce[:64], "error": exc.code, "message": str(exc.message),
                            **({"field": exc.field} if exc.field else {})})
            continue
        answer = services.scan(user, expo, checkpoint, code, device_id=device_id, nonce=nonce,
                               direction=direction, scanned_at=at, offline=True,
                               public_keys=_public_keys(expo, code))
        answers.append(answer_json(answer, checkpoint, direction=direction, nonce=nonce, offline_scan=True))
        db.session.commit()  # one scan, one transaction: a batch cut off half-way is sent again and counts once
        replayed += answer.replayed
        counted += not answer.replayed
    return jsonify(answers=answers, counted=counted, replayed=replayed, invalid=invalid)


BUNDLE = {"type": "object", "required": ["format", "version", "keys", "checkpoint", "badge_types", "revocations",
                                         "holders"],
          "properties": {"format": {"type": "integer"}, "version": {"type": "string"},
                         "expo": {"type": "object"}, "timezone": {"type": "string"},
                         "keys": {"type": "object", "description": "key number → base64 of the raw Ed25519 "
                                                                   "public key"},
                         "checkpoint": {"type": "object"},
                         "badge_types": {"type": "object", "description": "badge type id → code, names, colour, "
                                                                          "days and halls admitted"},
                         "revocations": {"type": "object", "description": "revoked: badge ids refused; reissued: "
                                                                          "badge id → its current serial"},
                         "holder_fields": {"type": "array", "items": {"type": "string"}},
                         "holders": {"type": "object", "description": "badge id → [name, native name, badge type "
                                                                      "id, country, company]"}}}


@bp.get("/bundle")
@allow(*SCANNERS)
@operation("What a scanner needs offline: keys, revocations, rules and names", tag="gate", response=BUNDLE,
           query=BundleQueryForm, description="Answers carry an ETag (the bundle's version); send it back as "
                       "If-None-Match to get 304 when nothing changed.")
def bundle():
    form = BundleQueryForm(request.args)
    if not form.validate():
        errors = form_errors(form)
        raise _invalid(next(iter(errors)), next(iter(errors.values()))[0])
    checkpoint, expo = _checkpoint(form.checkpoint_id.data)
    version = offline.version(expo, checkpoint)
    if version in request.if_none_match:
        response = make_response("", 304)
    else:
        response = jsonify(offline.bundle(expo, checkpoint, version))
    response.set_etag(version)
    return response
