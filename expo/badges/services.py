"""Issuing badges: one per person and expo, each with a signed code; revoking, reissuing, and counting prints.

Who gets which badge type by default is data (:data:`DEFAULT_TYPES`, :func:`default_type_code`); the organizer
edits the types (colour band, layout, halls, days). :func:`issue_for` is idempotent: asking again for the same
person returns their badge, so batch printing, the print desk and self-service can all call it.

Services flush and write the audit log; views and commands commit.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta

from flask_babel import lazy_gettext as _l
from sqlalchemy import Select, or_, select

from expo import audit
from expo.auth.models import User
from expo.badges import codes, keys
from expo.badges.models import Badge, BadgePrint, BadgeStatus, BadgeType, HolderKind, Visitor, VisitorKind
from expo.buyers.models import Buyer
from expo.db import utcnow
from expo.errors import ExpoError
from expo.exhibitors.models import Exhibitor, ExhibitorStaff
from expo.extensions import db
from expo.pdf.qr import pack as qr_pack
from expo.pdf.qr import qr_matrix
from expo.pdf.qr import unpack as qr_unpack
from expo.venue.models import Expo


class BadgeError(ExpoError):
    code = "badge"


#: The badge types a new expo starts with: (code, 中文, English, colour band, layout).
DEFAULT_TYPES = [
    ("EXH", "展商", "Exhibitor", "#1f6feb", "a6"),
    ("BUY", "采购商", "Buyer", "#d1242f", "a6"),
    ("DEL", "采购团", "Delegation", "#8250df", "a6"),
    ("VIS", "专业观众", "Visitor", "#1a7f37", "label62"),
    ("PRS", "媒体", "Press", "#bf8700", "cr80"),
    ("ORG", "组委会", "Organizer", "#24292f", "cr80"),
    ("CON", "施工", "Contractor", "#6e7781", "label62"),
]

#: Confirmation codes: short, unambiguous (no 0/O, 1/I/L), read out at the print desk.
_CONFIRMATION_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
#: The QR mask pattern of every badge code: a fixed mask makes a code ~7× cheaper to compute than the search over
#: all eight (which only picks the one with fewest look-alike finder patterns; any mask scans).
QR_MASK = 2


@dataclass(frozen=True)
class Holder:
    """Who a badge is for, and what is printed on it."""

    kind: HolderKind
    id: int
    name: str
    name_native: str = ""
    company: str = ""
    country: str = ""
    phone: str = ""
    exhibitor_id: int | None = None
    delegation_id: int | None = None


def ensure_types(expo: Expo) -> dict[str, BadgeType]:
    """The expo's badge types by code, creating the defaults the first time."""
    types = {t.code: t for t in db.session.scalars(select(BadgeType).where(BadgeType.expo_id == expo.id))}
    if not types:
        for sort, (code, zh, en, colour, layout) in enumerate(DEFAULT_TYPES):
            types[code] = BadgeType(expo_id=expo.id, code=code, name_zh=zh, name_en=en, colour=colour, layout=layout,
                                    areas=[], days=[], sort=sort)
            db.session.add(types[code])
        db.session.flush()
    return types


def default_type_code(holder: Holder, visitor_kind: str | None = None) -> str:
    if holder.kind == HolderKind.EXHIBITOR_STAFF:
        return "EXH"
    if holder.kind == HolderKind.BUYER:
        return "DEL" if holder.delegation_id else "BUY"
    if holder.kind == HolderKind.ORGANIZER:
        return "ORG"
    return {VisitorKind.PRESS: "PRS", VisitorKind.CONTRACTOR: "CON"}.get(visitor_kind, "VIS")


def holder_of_staff(member: ExhibitorStaff, exhibitor: Exhibitor) -> Holder:
    return Holder(HolderKind.EXHIBITOR_STAFF, member.id, member.name, company=exhibitor.name_en or exhibitor.name_zh
                  or "", country=exhibitor.country, phone=member.phone, exhibitor_id=exhibitor.id)


def holder_of_buyer(buyer: Buyer) -> Holder:
    return Holder(HolderKind.BUYER, buyer.id, buyer.name, name_native=buyer.name_native, company=buyer.company,
                  country=buyer.country, phone=buyer.phone, delegation_id=buyer.delegation_id)


def holder_of_visitor(visitor: Visitor) -> Holder:
    return Holder(HolderKind.VISITOR, visitor.id, visitor.name, company=visitor.company, country=visitor.country,
                  phone=visitor.phone)


def holder_of_user(user: User, expo: Expo) -> Holder:
    return Holder(HolderKind.ORGANIZER, user.id, user.name, company=expo.organizer_en or expo.name_en, country="CN")


def badge_of(expo: Expo, holder: Holder) -> Badge | None:
    return db.session.scalar(select(Badge).where(Badge.expo_id == expo.id, Badge.holder_kind == str(holder.kind),
                                                 Badge.holder_id == holder.id))


def issue_for(actor: User | None, expo: Expo, holder: Holder, *, type_code: str | None = None,
              visitor_kind: str | None = None) -> Badge:
    """The holder's badge at ``expo``: the existing one, or a new one with a signed code."""
    found = badge_of(expo, holder)
    if found is not None:
        return found
    return _issue(actor, expo, [(holder, type_code or default_type_code(holder, visitor_kind))])[0]


def issue_many(actor: User | None, expo: Expo, holders: Iterable[Holder]) -> list[Badge]:
    """Badges for many holders at once (existing ones returned as they are), in the order given.

    The new ones are made together: one look-up of the types and the key, one INSERT batch, one UPDATE batch for
    their codes (the code signs the badge id, so the ids come first).
    """
    holders = list(holders)
    existing: dict[tuple[str, int], Badge] = {}
    for kind in {h.kind for h in holders}:
        ids = [h.id for h in holders if h.kind == kind]
        for start in range(0, len(ids), 500):
            for badge in db.session.scalars(select(Badge).where(
                    Badge.expo_id == expo.id, Badge.holder_kind == str(kind), Badge.holder_id.in_(ids[start:start + 500]))):
                existing[(badge.holder_kind, badge.holder_id)] = badge
    missing, seen = [], set()
    for h in holders:
        key = (str(h.kind), h.id)
        if key not in existing and key not in seen:
            seen.add(key)
            missing.append((h, default_type_code(h)))
    for start in range(0, len(missing), 1000):
        for badge in _issue(actor, expo, missing[start:start + 1000]):
            existing[(badge.holder_kind, badge.holder_id)] = badge
    return [existing[(str(h.kind), h.id)] for h in holders]


def _issue(actor: User | None, expo: Expo, wanted: list[tuple[Holder, str]]) -> list[Badge]:
    types = ensure_types(expo)
    for _holder, code in wanted:
        if code not in types:
            raise BadgeError(_l("There is no badge type %(code)s.", code=code))
    confirmations = _new_confirmations(len(wanted))
    badges = [Badge(expo_id=expo.id, badge_type_id=types[code].id, holder_kind=str(h.kind), holder_id=h.id,
                    exhibitor_id=h.exhibitor_id, delegation_id=h.delegation_id, name=h.name[:200],
                    name_native=h.name_native[:200], company=h.company[:200], country=h.country, phone=h.phone[:40],
                    serial=1, status=BadgeStatus.ACTIVE, code=f"pending-{secrets.token_hex(8)}",
                    confirmation=confirmation)
              for (h, code), confirmation in zip(wanted, confirmations, strict=True)]
    db.session.add_all(badges)
    db.session.flush()  # the ids go into the codes
    key = keys.active_key(expo)
    private = keys.private_key(key)
    for badge, (holder, code) in zip(badges, wanted, strict=True):
        _mint_with(key.id, private, badge)
        audit.record(actor, "badge_issued", badge, exhibitor_id=holder.exhibitor_id, name=badge.name, type=code)
    db.session.flush()
    return badges


def revoke_and_reissue(actor: User | None, badge: Badge, reason: str) -> Badge:
    """A lost or stolen badge: its old code is refused from now on, and the holder gets a new code (serial + 1)."""
    reason = " ".join((reason or "").split())[:200]
    if not reason:
        raise BadgeError(_l("Say why the badge is reissued."), field="reason")
    if badge.serial >= 255:
        raise BadgeError(_l("This badge has been reissued too often; issue it under another badge type."))
    old = badge.serial
    badge.serial += 1
    badge.status = BadgeStatus.ACTIVE
    badge.revoked_at = utcnow()  # when its previous code stopped counting
    badge.revoke_reason = reason
    _mint(db.session.get(Expo, badge.expo_id), badge)
    audit.record(actor, "badge_reissued", badge, exhibitor_id=badge.exhibitor_id, serial=[old, badge.serial],
                 reason=reason)
    return badge


def revoke(actor: User | None, badge: Badge, reason: str) -> Badge:
    """Revoke a badge without a replacement (the holder no longer comes)."""
    reason = " ".join((reason or "").split())[:200]
    if not reason:
        raise BadgeError(_l("Say why the badge is revoked."), field="reason")
    badge.status = BadgeStatus.REVOKED
    badge.revoked_at = utcnow()
    badge.revoke_reason = reason
    audit.record(actor, "badge_revoked", badge, exhibitor_id=badge.exhibitor_id, reason=reason)
    return badge


def record_print(actor: User | None, badges: Iterable[Badge], *, reason: str = "", job_id: int | None = None) -> None:
    """Count a print of each badge. A badge printed before needs a reason (a reprint at the desk)."""
    now = utcnow()
    rows = []
    for badge in badges:
        badge.print_count += 1
        badge.last_printed_at = now
        rows.append(dict(badge_id=badge.id, at=now, by_id=actor.id if actor is not None and actor.is_authenticated
                         else None, reason=reason[:200], job_id=job_id))
    if rows:
        db.session.execute(BadgePrint.__table__.insert(), rows)


def reprint(actor: User | None, badge: Badge, reason: str) -> Badge:
    """Print a badge again at the desk: the reason is kept and the reprint counted."""
    reason = " ".join((reason or "").split())[:200]
    if badge.print_count > 0 and not reason:
        raise BadgeError(_l("Say why the badge is printed again."), field="reason")
    if badge.status != BadgeStatus.ACTIVE:
        raise BadgeError(_l("This badge is revoked; reissue it first."), status=409)
    record_print(actor, [badge], reason=reason)
    if badge.print_count > 1:
        audit.record(actor, "badge_reprinted", badge, exhibitor_id=badge.exhibitor_id, reason=reason,
                     count=badge.print_count)
    return badge


def find(expo: Expo, text: str, limit: int = 20) -> list[Badge]:
    """Badges for the print desk: by confirmation code or scanned code (exact), else by name, company or phone."""
    text = " ".join((text or "").split())
    if not text:
        return []
    exact = codes.normalize(text)
    hit = db.session.scalars(select(Badge).where(Badge.expo_id == expo.id, or_(
        Badge.confirmation == exact[:12], Badge.code == exact[:160]))).all()
    if hit:
        return list(hit)
    from expo.exhibitors.services import escape_like

    like = f"%{escape_like(text)}%"
    return list(db.session.scalars(select(Badge).where(Badge.expo_id == expo.id, or_(
        Badge.name.ilike(like, escape="\\"), Badge.name_native.ilike(like, escape="\\"),
        Badge.company.ilike(like, escape="\\"), Badge.phone.ilike(like, escape="\\"))).order_by(Badge.name, Badge.id)
        .limit(limit)))


def pack_modules(matrix: list[list[bool]]) -> bytes:
    """A square QR matrix as bytes: its size, then one bit per module, row by row (:func:`expo.pdf.qr.pack`)."""
    return qr_pack(matrix)


def unpack_modules(data: bytes) -> list[list[bool]]:
    return qr_unpack(data)


def _mint(expo: Expo, badge: Badge) -> None:
    key = keys.active_key(expo)
    _mint_with(key.id, keys.private_key(key), badge)


def _mint_with(key_id: int, private, badge: Badge) -> None:
    badge.code = codes.encode(private, key_id, badge.id, badge.serial, badge.badge_type_id)
    badge.qr_modules = pack_modules(qr_matrix(badge.code, "M", mask=QR_MASK))


def _new_confirmations(n: int) -> list[str]:
    """``n`` confirmation codes no badge has yet (8 characters of 31: ~8.5 × 10¹¹ codes, collisions are rare)."""
    found: list[str] = []
    while len(found) < n:
        batch = {"".join(secrets.choice(_CONFIRMATION_ALPHABET) for _ in range(8)) for _ in range(n - len(found))}
        batch -= set(found)
        taken = set(db.session.scalars(select(Badge.confirmation).where(Badge.confirmation.in_(batch))))
        found.extend(sorted(batch - taken))
    return found


# --- badge types, as the organizer edits them --------------------------------------------------------------------

_TYPE_CODE = re.compile(r"^[A-Z0-9]{1,16}$")
_COLOUR = re.compile(r"^#[0-9a-f]{6}$")


@dataclass(frozen=True)
class TypeData:
    """A badge type as a form or the API gives it; ``code`` only counts when the type is created."""

    name_zh: str
    name_en: str
    colour: str
    layout: str
    areas: tuple[str, ...] = ()
    days: tuple[str, ...] = ()
    sort: int = 0
    code: str = ""


def admission_days(expo: Expo) -> list[date]:
    """The days a badge type may admit on: one build-up day before the expo, then every day of it."""
    first = expo.starts_on - timedelta(days=1)
    return [first + timedelta(days=n) for n in range((expo.ends_on - first).days + 1)]


def hall_codes(expo: Expo) -> list[str]:
    return [h.code for h in expo.halls]


def save_type(actor: User | None, expo: Expo, data: TypeData, badge_type: BadgeType | None = None) -> BadgeType:
    """Create a badge type (``badge_type`` None) or change one; every value is checked here, whatever the form let
    through. The code is fixed once created (the defaults are found by their codes)."""
    from expo.badges import layouts

    name_zh, name_en = " ".join(data.name_zh.split()), " ".join(data.name_en.split())
    if not name_zh or not name_en:
        raise BadgeError(_l("Give the badge type a name."), field="name_zh" if not name_zh else "name_en")
    if len(name_zh) > 100 or len(name_en) > 100:
        raise BadgeError(_l("A name has at most 100 characters."), field="name_en")
    colour = data.colour.strip().lower()
    if not _COLOUR.match(colour):
        raise BadgeError(_l("Give the colour as #rrggbb, for example #1f6feb."), field="colour")
    if data.layout not in layouts.PRESETS:
        raise BadgeError(_l("Unknown layout."), field="layout")
    halls = set(hall_codes(expo))
    if any(a not in halls for a in data.areas):
        raise BadgeError(_l("Choose halls of this expo."), field="areas")
    days = {d.isoformat() for d in admission_days(expo)}
    if any(d not in days for d in data.days):
        raise BadgeError(_l("Choose days of this expo."), field="days")
    if not -1000 <= int(data.sort) <= 1000:
        raise BadgeError(_l("The sort number is between -1000 and 1000."), field="sort")
    values = dict(name_zh=name_zh, name_en=name_en, colour=colour, layout=data.layout,
                  areas=sorted(set(data.areas)), days=sorted(set(data.days)), sort=int(data.sort))
    if badge_type is None:
        ensure_types(expo)
        code = data.code.strip().upper()
        if not _TYPE_CODE.match(code):
            raise BadgeError(_l("The code is 1 to 16 letters A–Z and digits."), field="code")
        if db.session.scalar(select(BadgeType.id).where(BadgeType.expo_id == expo.id, BadgeType.code == code)):
            raise BadgeError(_l("There is already a badge type %(code)s.", code=code), field="code", status=409)
        badge_type = BadgeType(expo_id=expo.id, code=code, **values)
        db.session.add(badge_type)
        db.session.flush()
        audit.record(actor, "badge_type_created", badge_type, code=code, **values)
        return badge_type
    changes = audit.diff(badge_type, values)
    if changes:
        db.session.flush()
        audit.record(actor, "badge_type_updated", badge_type, code=badge_type.code, **changes)
    return badge_type


# --- the organizer's badge list ------------------------------------------------------------------------------------

@dataclass(frozen=True)
class BadgeFilter:
    q: str | None = None
    badge_type_id: int | None = None
    delegation_id: int | None = None
    exhibitor: str | None = None  # text in the exhibitor's names
    exhibitor_id: int | None = None
    holder_kind: str | None = None
    status: str | None = None
    printed: bool | None = None


def _badge_conditions(expo: Expo, flt: BadgeFilter) -> list:
    from expo.exhibitors.services import escape_like

    conds = [Badge.expo_id == expo.id]
    if flt.q:
        like = f"%{escape_like(flt.q)}%"
        conds.append(or_(Badge.name.ilike(like, escape="\\"), Badge.name_native.ilike(like, escape="\\"),
                         Badge.company.ilike(like, escape="\\"), Badge.phone.ilike(like, escape="\\"),
                         Badge.confirmation == flt.q.strip().upper()[:12]))
    if flt.badge_type_id is not None:
        conds.append(Badge.badge_type_id == flt.badge_type_id)
    if flt.delegation_id is not None:
        conds.append(Badge.delegation_id == flt.delegation_id)
    if flt.exhibitor_id is not None:
        conds.append(Badge.exhibitor_id == flt.exhibitor_id)
    if flt.exhibitor:
        like = f"%{escape_like(flt.exhibitor)}%"
        conds.append(Badge.exhibitor_id.in_(select(Exhibitor.id).where(or_(
            Exhibitor.name_zh.ilike(like, escape="\\"), Exhibitor.name_en.ilike(like, escape="\\")))))
    if flt.holder_kind:
        conds.append(Badge.holder_kind == flt.holder_kind)
    if flt.status:
        conds.append(Badge.status == flt.status)
    if flt.printed is True:
        conds.append(Badge.print_count > 0)
    elif flt.printed is False:
        conds.append(Badge.print_count == 0)
    return conds


def badge_query(expo: Expo, flt: BadgeFilter) -> Select:
    """(badge, badge type) rows of the filter, by company, name and id."""
    return (select(Badge, BadgeType).join(BadgeType, BadgeType.id == Badge.badge_type_id)
            .where(*_badge_conditions(expo, flt)).order_by(Badge.company, Badge.name, Badge.id))


def badge_ids(expo: Expo, flt: BadgeFilter, limit: int = 20_000) -> list[int]:
    """The ids of the filter's active badges, in list order (for printing the whole filtered list)."""
    ids = list(db.session.scalars(select(Badge.id).where(*_badge_conditions(expo, flt),
                                                         Badge.status == BadgeStatus.ACTIVE)
                                  .order_by(Badge.company, Badge.name, Badge.id).limit(limit + 1)))
    if not ids:
        raise BadgeError(_l("No active badge matches the list's filter."))
    if len(ids) > limit:
        raise BadgeError(_l("More than %(num)d badges match; narrow the filter.", num=limit))
    return ids


#: The columns of the badge list's export: never the signed code nor the confirmation code.
EXPORT_HEADERS = ("id", "name", "name_native", "company", "country", "badge_type", "holder_kind", "status",
                  "print_count", "last_printed_at")


def export_rows(rows, lang: str = "en"):
    """Export rows of :func:`badge_query` results."""
    for badge, badge_type in rows:
        yield [badge.id, badge.name, badge.name_native, badge.company, badge.country,
               badge_type.name_zh if lang == "zh" else badge_type.name_en, badge.holder_kind, badge.status,
               badge.print_count, badge.last_printed_at.isoformat(timespec="minutes") if badge.last_printed_at
               else ""]
