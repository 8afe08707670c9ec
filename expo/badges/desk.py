"""The print desk at the venue, the walk-in kiosk, online visitor registration and self-service badges.

The rules of who gets a badge where, on top of :mod:`expo.badges.services` (which issues, reissues and counts
prints):

- the desk finds badges (:func:`expo.badges.services.find`, :func:`check_code` for scanned codes) and people who
  have none yet (:func:`find_people`), and issues theirs on the spot (:func:`issue_on_the_spot`);
- exhibitor staff get a badge once their company's application for this expo is approved; buyers unless they
  cancelled (:func:`holder_for`);
- visitors register at the kiosk or online as trade visitors; press and contractors are registered by the desk
  (:func:`register_visitor`). Online, an e-mail address registers once: asking again sends the confirmation again
  (:func:`register_online`) and shows nothing of the earlier registration to whoever asked.

Services flush and write the audit log; views commit.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from typing import Any

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import exists, func, or_, select

from expo import audit, countries, mail
from expo.auth.models import User
from expo.badges import codes, keys, services
from expo.badges.models import Badge, BadgeStatus, BadgeType, HolderKind, Visitor, VisitorKind
from expo.buyers.models import Buyer, BuyerStatus, Delegation
from expo.errors import NotFound
from expo.exhibitors.models import ApplicationStatus, Exhibitor, ExhibitorStaff, SpaceApplication
from expo.exhibitors.services import escape_like
from expo.extensions import db
from expo.forms import CONTROL_CHARACTERS, MAX_ID
from expo.i18n import localized
from expo.venue.models import Expo

EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s.]+")
PHONE = re.compile(r"\+?[0-9][0-9 ()\-]{4,38}")
#: Where a visitor registered: the kiosk and the online form take trade visitors only; the desk registers press and
#: contractors too (it checks their press card or work order).
KIOSK, ONLINE, DESK = "kiosk", "online", "desk"
CHANNELS = (KIOSK, ONLINE, DESK)
#: How many people without a badge the desk lists per kind (the search box narrows it down).
PEOPLE_LIMIT = 20


class DeskError(services.BadgeError):
    code = "badge_desk"


# --- the desk's search ---------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Person:
    """Someone the desk may issue a badge to, who has none at this expo yet."""

    kind: str  # a HolderKind
    id: int
    name: str
    name_native: str = ""
    company: str = ""
    phone: str = ""
    #: Why no badge can be issued now ("" if it can): an application not approved, a cancelled buyer.
    blocked: str = ""


@dataclass(frozen=True)
class CodeCheck:
    """What a scanned badge code says, checked against the expo's keys and its badges."""

    verdict: str  # valid, reissued (an older serial), revoked, unknown (no such badge), invalid (not our code)
    badge: Badge | None = None


_CODE_SHAPE = re.compile(f"[A-Z2-7]{{{codes.CODE_LENGTH}}}")


def looks_like_code(text: str) -> bool:
    """True when ``text`` has the shape of a signed badge code (what a scanner types: base32 of the code's length),
    not a name, a company or a phone number."""
    return _CODE_SHAPE.fullmatch(codes.normalize(text or "")) is not None


def check_code(expo: Expo, text: str) -> CodeCheck:
    """Verify a scanned code: its signature with the expo's public keys, then its badge, status and serial.

    A reissued badge's old code still carries a genuine signature; it is refused because its serial is behind the
    badge's (and a revoked badge's code because the badge is revoked)."""
    try:
        claim = codes.verify(text, keys.public_keys(expo))
    except codes.InvalidCode:
        return CodeCheck("invalid")
    badge = db.session.get(Badge, claim.badge_id)
    if badge is None or badge.expo_id != expo.id:
        return CodeCheck("unknown")
    if claim.serial != badge.serial:
        return CodeCheck("reissued", badge)
    if badge.status != BadgeStatus.ACTIVE:
        return CodeCheck("revoked", badge)
    return CodeCheck("valid", badge)


def _clean_query(text: str) -> str:
    return " ".join(CONTROL_CHARACTERS.sub("", text or "").split())[:200]


def _digits(text: str) -> str:
    return re.sub(r"\D", "", text)


def _phone_digits(column):
    """The column with the usual phone punctuation removed, to compare with the digits someone typed."""
    for ch in (" ", "-", "(", ")", "+"):
        column = func.replace(column, ch, "")
    return column


def search_badges(expo: Expo, text: str, limit: int = 20) -> list[Badge]:
    """Badges by confirmation code or scanned code, else by name, native name, company or phone; a phone typed
    without its spaces and dashes ("13900001111") finds "+86 139 0000 1111" too."""
    text = _clean_query(text)
    if not text:
        return []
    found = services.find(expo, text, limit=limit)
    digits = _digits(text)
    if not found and len(digits) >= 5 and len(digits) >= len(text.replace(" ", "")) - 2:
        found = list(db.session.scalars(select(Badge).where(
            Badge.expo_id == expo.id, _phone_digits(Badge.phone).like(f"%{digits}%")).order_by(Badge.name, Badge.id)
            .limit(limit)))
    return found


def find_people(expo: Expo, text: str, limit: int = PEOPLE_LIMIT) -> list[Person]:
    """Exhibitor staff, buyers (delegation members too) and visitors of ``expo`` who have no badge yet, by name,
    native name, company or phone. Three small queries, each with at most ``limit`` rows."""
    text = _clean_query(text)
    if len(text) < 2:  # one letter matches half the expo
        return []
    like = f"%{escape_like(text)}%"
    digits = _digits(text)
    phone_like = f"%{digits}%" if len(digits) >= 5 else None

    def matches(*columns, phone=None):
        conditions = [c.ilike(like, escape="\\") for c in columns]
        if phone is not None and phone_like:
            conditions.append(_phone_digits(phone).like(phone_like))
        return or_(*conditions)

    def no_badge(kind: HolderKind, id_column):
        return ~exists().where(Badge.expo_id == expo.id, Badge.holder_kind == str(kind), Badge.holder_id == id_column)

    people: list[Person] = []
    staff = db.session.execute(
        select(ExhibitorStaff.id, ExhibitorStaff.name, ExhibitorStaff.phone, Exhibitor.name_zh, Exhibitor.name_en,
               SpaceApplication.status)
        .join(Exhibitor, Exhibitor.id == ExhibitorStaff.exhibitor_id)
        .join(SpaceApplication, (SpaceApplication.exhibitor_id == Exhibitor.id) & (SpaceApplication.expo_id == expo.id))
        .where(matches(ExhibitorStaff.name, Exhibitor.name_zh, Exhibitor.name_en, ExhibitorStaff.phone,
                       phone=ExhibitorStaff.phone),
               no_badge(HolderKind.EXHIBITOR_STAFF, ExhibitorStaff.id))
        .order_by(ExhibitorStaff.name, ExhibitorStaff.id).limit(limit)).all()
    for member_id, name, phone, name_zh, name_en, status in staff:
        blocked = "" if status == ApplicationStatus.APPROVED else str(_l("The company's application is not approved."))
        people.append(Person(str(HolderKind.EXHIBITOR_STAFF), member_id, name,
                             company=" ".join(n for n in (name_zh, name_en) if n), phone=phone, blocked=blocked))
    buyers = db.session.execute(
        select(Buyer.id, Buyer.name, Buyer.name_native, Buyer.company, Buyer.phone, Buyer.status, Delegation.name)
        .outerjoin(Delegation, Delegation.id == Buyer.delegation_id)
        .where(Buyer.expo_id == expo.id, matches(Buyer.name, Buyer.name_native, Buyer.company, Buyer.phone,
                                                 phone=Buyer.phone),
               no_badge(HolderKind.BUYER, Buyer.id))
        .order_by(Buyer.name, Buyer.id).limit(limit)).all()
    for buyer_id, name, native, company, phone, status, delegation in buyers:
        blocked = str(_l("This buyer has cancelled.")) if status == BuyerStatus.CANCELLED else ""
        company = f"{company} · {delegation}" if delegation else company
        people.append(Person(str(HolderKind.BUYER), buyer_id, name, native, company, phone, blocked))
    visitors = db.session.execute(
        select(Visitor.id, Visitor.name, Visitor.company, Visitor.phone)
        .where(Visitor.expo_id == expo.id, matches(Visitor.name, Visitor.company, Visitor.phone, phone=Visitor.phone),
               no_badge(HolderKind.VISITOR, Visitor.id))
        .order_by(Visitor.name, Visitor.id).limit(limit)).all()
    people.extend(Person(str(HolderKind.VISITOR), vid, name, company=company, phone=phone)
                  for vid, name, company, phone in visitors)
    return people


# --- who gets a badge ----------------------------------------------------------------------------------------------

def _approved(expo: Expo, exhibitor_id: int) -> bool:
    return db.session.scalar(select(SpaceApplication.status).where(
        SpaceApplication.expo_id == expo.id, SpaceApplication.exhibitor_id == exhibitor_id)) == ApplicationStatus.APPROVED


def _require_approved(expo: Expo, exhibitor_id: int) -> None:
    if not _approved(expo, exhibitor_id):
        raise DeskError(_l("Exhibitor badges are issued once the company's application is approved."), status=409)


def holder_for(expo: Expo, kind: str, holder_id: int) -> tuple[services.Holder, str | None]:
    """The holder (and visitor kind) behind ``kind`` and ``holder_id`` at ``expo``, if they may have a badge.

    Raises :class:`~expo.errors.NotFound` for no such person at this expo, :class:`DeskError` when a rule says no."""
    if not 1 <= holder_id <= MAX_ID:
        raise NotFound(_l("There is no such person."))
    if kind == HolderKind.EXHIBITOR_STAFF:
        member = db.session.get(ExhibitorStaff, holder_id)
        if member is None:
            raise NotFound(_l("There is no such person."))
        _require_approved(expo, member.exhibitor_id)
        return services.holder_of_staff(member, member.exhibitor), None
    if kind == HolderKind.BUYER:
        buyer = db.session.get(Buyer, holder_id)
        if buyer is None or buyer.expo_id != expo.id:
            raise NotFound(_l("There is no such person."))
        if buyer.status == BuyerStatus.CANCELLED:
            raise DeskError(_l("This buyer has cancelled."), status=409)
        return services.holder_of_buyer(buyer), None
    if kind == HolderKind.VISITOR:
        visitor = db.session.get(Visitor, holder_id)
        if visitor is None or visitor.expo_id != expo.id:
            raise NotFound(_l("There is no such person."))
        return services.holder_of_visitor(visitor), visitor.kind
    raise NotFound(_l("There is no such person."))


def issue_on_the_spot(actor: User | None, expo: Expo, kind: str, holder_id: int) -> Badge:
    """The badge of a person found at the desk: theirs if they have one, else a new one."""
    holder, visitor_kind = holder_for(expo, kind, holder_id)
    return services.issue_for(actor, expo, holder, visitor_kind=visitor_kind)


def staff_badges(actor: User | None, expo: Expo, exhibitor: Exhibitor) -> list[Badge]:
    """Every staff member's badge (issued now if missing), in the staff list's order; revoked ones included, so the
    exhibitor sees them (the PDF leaves them out)."""
    _require_approved(expo, exhibitor.id)
    members = db.session.scalars(select(ExhibitorStaff).where(ExhibitorStaff.exhibitor_id == exhibitor.id)
                                 .order_by(ExhibitorStaff.id)).all()
    return services.issue_many(actor, expo, [services.holder_of_staff(m, exhibitor) for m in members])


def staff_badge(actor: User | None, expo: Expo, member: ExhibitorStaff) -> Badge:
    _require_approved(expo, member.exhibitor_id)
    return services.issue_for(actor, expo, services.holder_of_staff(member, member.exhibitor))


def member_badges(actor: User | None, expo: Expo, delegation: Delegation) -> list[Badge]:
    """The badges of a delegation's members who have not cancelled (issued now if missing)."""
    members = db.session.scalars(select(Buyer).where(
        Buyer.delegation_id == delegation.id, Buyer.expo_id == expo.id, Buyer.status != BuyerStatus.CANCELLED)
        .order_by(Buyer.id)).all()
    return services.issue_many(actor, expo, [services.holder_of_buyer(b) for b in members])


def buyer_of(user: User, expo: Expo) -> Buyer | None:
    """The buyer profile of a buyer account at ``expo``."""
    return db.session.scalar(select(Buyer).where(Buyer.user_id == user.id, Buyer.expo_id == expo.id)
                             .order_by(Buyer.id).limit(1))


def own_badge(actor: User, expo: Expo, buyer: Buyer) -> Badge:
    """A buyer's own badge (issued now if missing)."""
    if buyer.status == BuyerStatus.CANCELLED:
        raise DeskError(_l("Your registration is cancelled, so there is no badge for it."), status=409)
    return services.issue_for(actor, expo, services.holder_of_buyer(buyer))


def active(badges: list[Badge]) -> list[Badge]:
    return [b for b in badges if b.status == BadgeStatus.ACTIVE]


def types_of(expo: Expo) -> dict[int, BadgeType]:
    """The expo's badge types by id (one query; pages look types up here instead of per badge)."""
    services.ensure_types(expo)
    return {t.id: t for t in db.session.scalars(select(BadgeType).where(BadgeType.expo_id == expo.id))}


# --- visitors ------------------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class VisitorData:
    name: str
    company: str = ""
    country: str = "CN"
    phone: str = ""
    email: str = ""
    kind: str = VisitorKind.VISITOR

    @classmethod
    def from_mapping(cls, data: dict[str, Any]) -> VisitorData:
        def text(key: str) -> str:
            value = data.get(key)
            return " ".join(str(value).split()) if value is not None else ""

        return cls(name=text("name"), company=text("company"), country=text("country").upper(),
                   phone=text("phone"), email=text("email").lower(), kind=text("kind") or VisitorKind.VISITOR)


def validate_visitor(data: VisitorData, channel: str) -> None:
    """Refuse what cannot be registered, with the field it concerns (the first problem found)."""
    for field in ("name", "company", "country", "phone", "email", "kind"):
        if CONTROL_CHARACTERS.search(getattr(data, field)):
            raise DeskError(_l("Remove the control characters (such as NUL) from this text."), field=field)
    if not data.name:
        raise DeskError(_l("Give your name."), field="name")
    if len(data.name) > 200:
        raise DeskError(_l("At most %(n)d characters.", n=200), field="name")
    if len(data.company) > 200:
        raise DeskError(_l("At most %(n)d characters.", n=200), field="company")
    if data.country not in countries.codes():
        raise DeskError(_l("Choose a country or region from the list."), field="country")
    if not data.phone:
        raise DeskError(_l("Give a phone number."), field="phone")
    if not PHONE.fullmatch(data.phone):
        raise DeskError(_l("Enter a phone number: digits, spaces, +, - and brackets."), field="phone")
    if channel == ONLINE and not data.email:
        raise DeskError(_l("Give your e-mail address: the confirmation is sent there."), field="email")
    if data.email and (len(data.email) > 254 or not EMAIL.fullmatch(data.email)):
        raise DeskError(_l("Enter a valid e-mail address."), field="email")
    if data.kind not in set(VisitorKind):
        raise DeskError(_l("Choose a kind of visitor from the list."), field="kind")
    if channel != DESK and data.kind != VisitorKind.VISITOR:
        raise DeskError(_l("Press and contractors are registered at the print desk."), field="kind")


def register_visitor(actor: User | None, expo: Expo, data: VisitorData, *, channel: str) -> Badge:
    """Register a visitor and issue their badge (VIS, or PRS/CON for press and contractors from the desk)."""
    if channel not in CHANNELS:
        raise ValueError(channel)
    validate_visitor(data, channel)
    visitor = Visitor(expo_id=expo.id, kind=data.kind, name=data.name, company=data.company, country=data.country,
                      phone=data.phone, email=data.email, registered_at_kiosk=channel == KIOSK)
    db.session.add(visitor)
    db.session.flush()
    audit.record(actor, "visitor_registered", visitor, channel=channel, kind=data.kind, name=data.name)
    return services.issue_for(actor, expo, services.holder_of_visitor(visitor), visitor_kind=data.kind)


@dataclass(frozen=True)
class OnlineRegistration:
    badge: Badge
    visitor: Visitor
    new: bool  # False: the e-mail address was registered before, and nothing new was written


def register_online(expo: Expo, data: VisitorData) -> OnlineRegistration:
    """Online pre-registration of a trade visitor. An e-mail address registers once per expo: asking again returns
    the earlier registration (the view then sends its confirmation to that address again, and shows nothing of it)."""
    data = replace(data, kind=VisitorKind.VISITOR)
    validate_visitor(data, ONLINE)
    earlier = db.session.scalar(select(Visitor).where(
        Visitor.expo_id == expo.id, Visitor.email == data.email, Visitor.registered_at_kiosk.is_(False))
        .order_by(Visitor.id).limit(1))
    if earlier is not None:
        badge = services.issue_for(None, expo, services.holder_of_visitor(earlier), visitor_kind=earlier.kind)
        return OnlineRegistration(badge, earlier, False)
    badge = register_visitor(None, expo, data, channel=ONLINE)
    visitor = db.session.get(Visitor, badge.holder_id)
    return OnlineRegistration(badge, visitor, True)


def queue_confirmation(expo: Expo, visitor: Visitor, badge: Badge, link: str) -> mail.OutboxMail:
    """The confirmation mail of an online registration, in the reader's language: the confirmation code to give at
    the print desk and the link to the page with the QR code to scan there."""
    subject = _("Your visitor registration for %(expo)s", expo=localized(expo, "name"))
    body = _("Dear %(name)s,\n\nthank you for registering as a visitor. Your confirmation code is %(code)s.\n\n"
             "At the venue, show the QR code on this page at the print desk, or give the confirmation code, and "
             "your badge is printed at once:\n%(link)s\n\nKeep this link to yourself: the QR code is your entry "
             "to the expo.\n", name=visitor.name, code=badge.confirmation, link=link)
    return mail.queue(visitor.email, subject, body)
