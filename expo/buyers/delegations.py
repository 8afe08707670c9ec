"""Buyer delegations: their details, their leader's account, their members and the members' passport data.

The rules live here, for the leader's and the organizer's pages, the bulk import (:mod:`expo.buyers.imports`) and
the API alike:

- :class:`DelegationData` and :class:`MemberData` carry what a person typed (a form, an import row, a JSON body);
  ``normalized()`` trims and folds it, :func:`validate_delegation` and :func:`validate_member` list every
  :class:`Problem` with it at once (an import shows them per row, a form beside each field);
- :func:`create_delegation`, :func:`update_delegation`, :func:`assign_leader`, :func:`add_member`,
  :func:`update_member` and :func:`remove_member` check the same rules again, change the rows, write the audit log
  and flush; they raise :class:`DelegationError` / :class:`MemberError` with a translated message (the first
  problem; all of them in ``problems``) and never commit;
- :func:`board_query`, :func:`arrival_schedule` and the export helpers serve the organizer's delegations board.

Personal data is kept to what a visa invitation letter needs: the passport name (Latin letters), an optional
native-script name, passport number, expiry, nationality and date of birth. The audit log names the member but
never holds a passport number or a date of birth (changes to them are written as ``***``). Reading passport data
for a page or an export goes through :func:`expo.buyers.access.read_passports`, which audits every read.
"""

from __future__ import annotations

import io
import re
import secrets
import unicodedata
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, fields, replace
from datetime import date, datetime, timedelta
from typing import Any

from flask import current_app
from flask_babel import force_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import Select, delete, func, or_, select, update
from sqlalchemy.orm import load_only

from expo import audit, countries, listing, mail
from expo.auth import services as auth_services
from expo.auth.models import Role, User
from expo.buyers.access import read_passports
from expo.buyers.models import Buyer, BuyerStatus, Delegation, InvitationLetter, Passport
from expo.categories.models import ProductCategory
from expo.db import utcnow
from expo.errors import ExpoError, Forbidden
from expo.exhibitors.services import escape_like
from expo.extensions import db
from expo.forms import CONTROL_CHARACTERS, MAX_ID
from expo.venue.models import Expo

#: A visa needs the passport valid this many months after the stay; we count from the expo's last day.
PASSPORT_VALID_MONTHS_AFTER_EXPO = 6
#: Nobody holds a passport valid for longer than this (ten years is the usual most; a margin for odd cases).
PASSPORT_MAX_YEARS_AHEAD = 15
EARLIEST_BIRTH_DATE = date(1900, 1, 1)
#: A delegation arrives and leaves within this many days of the expo (catches mistyped years and months).
TRAVEL_WINDOW_DAYS = 60

PASSPORT_NUMBER = re.compile(r"[A-Z0-9]{5,20}")
EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s.]+")
PHONE = re.compile(r"\+?[0-9][0-9 ()\-]{4,38}")
#: Punctuation that passport names carry besides letters: "O'Neil", "Smith-Jones", "Jr.", "Al Sayed, Omar".
_NAME_PUNCTUATION = frozenset(" '-.,‐’")


class DelegationError(ExpoError):
    """A delegation rule said no. ``problems`` lists every reason, ``message``/``field`` the first one."""

    code = "delegation_invalid"

    def __init__(self, message, *, problems: list[Problem] | None = None, **kwargs: Any):
        super().__init__(message, **kwargs)
        self.problems = problems or []


class MemberError(DelegationError):
    code = "member_invalid"


class Problem(str):
    """One reason a value is refused: the translated message (it *is* the string) and the field it concerns."""

    field: str

    def __new__(cls, message: Any, field: str) -> Problem:
        problem = super().__new__(cls, str(message))
        problem.field = field
        return problem


# --- what people type ------------------------------------------------------------------------------------------------

def _text(value: Any) -> str:
    """Trimmed text with runs of blanks folded to one space; ``None`` (a field left out) is empty."""
    if value is None:
        return ""
    return " ".join(str(value).split())


def _long_text(value: Any) -> str:
    return "" if value is None else str(value).strip()


def as_date(value: Any) -> Any:
    """A date from what an import or an API gives: a ``date``, a ``datetime`` (spreadsheet cells) or ISO text
    ("2031-05-01"). Anything else is returned as it is, and the rules refuse it ("Enter the date as YYYY-MM-DD")."""
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, str):
        text = value.strip()
        if not text:
            return None
        try:
            return date.fromisoformat(text)
        except ValueError:
            return value
    return value


def normalize_passport_number(value: Any) -> str:
    """As printed, in capitals: full-width characters folded (a Chinese input method types "Ｅ１２"), spaces and
    hyphens dropped ("72 1234-567" → "721234567")."""
    text = unicodedata.normalize("NFKC", "" if value is None else str(value))
    return re.sub(r"[\s\-]", "", text).upper()


@dataclass
class MemberData:
    """A delegation member as typed: the Buyer fields and the passport fields (field names as in the forms)."""

    name: str  # as in the passport, in Latin letters
    passport_number: str = ""
    passport_expires_on: date | None = None
    nationality: str = ""  # ISO 3166-1 alpha-2
    date_of_birth: date | None = None
    name_native: str = ""  # in the member's own script, optional
    company: str = ""
    job_title: str = ""
    email: str = ""  # optional; unique within the delegation
    phone: str = ""

    @classmethod
    def from_mapping(cls, values: Mapping[str, Any]) -> MemberData:
        """The known keys of ``values`` (a form's ``data``, an import row, a JSON body); others are ignored."""
        known = {f.name for f in fields(cls)}
        data = {k: v for k, v in values.items() if k in known}
        data.setdefault("name", "")
        return cls(**data)

    def normalized(self) -> MemberData:
        return replace(
            self,
            name=_text(self.name), name_native=_text(self.name_native), company=_text(self.company),
            job_title=_text(self.job_title), email=_text(self.email).lower(), phone=_text(self.phone),
            passport_number=normalize_passport_number(self.passport_number),
            nationality=_text(self.nationality).upper(),
            passport_expires_on=as_date(self.passport_expires_on), date_of_birth=as_date(self.date_of_birth))


@dataclass
class DelegationData:
    """A delegation's details as typed. ``category_ids`` ``None`` leaves the interests as they are."""

    name: str
    country: str
    organization: str = ""
    arrival_date: date | None = None
    departure_date: date | None = None
    arrival_flight: str = ""
    departure_flight: str = ""
    hotel: str = ""
    interpreter_needed: bool = False
    interpreter_language: str = ""
    notes: str = ""
    category_ids: list[int] | None = None

    @classmethod
    def from_mapping(cls, values: Mapping[str, Any]) -> DelegationData:
        known = {f.name for f in fields(cls)}
        data = {k: v for k, v in values.items() if k in known}
        data.setdefault("name", "")
        data.setdefault("country", "")
        return cls(**data)

    @classmethod
    def of(cls, delegation: Delegation) -> DelegationData:
        """What ``delegation`` holds now: the base for a change of some fields (``dataclasses.replace``)."""
        return cls(**{f.name: getattr(delegation, f.name) for f in fields(cls) if f.name != "category_ids"},
                   category_ids=[c.id for c in delegation.categories])

    def normalized(self) -> DelegationData:
        needed = bool(self.interpreter_needed)
        return replace(
            self,
            name=_text(self.name), country=_text(self.country).upper(), organization=_text(self.organization),
            arrival_flight=_text(self.arrival_flight).upper(), departure_flight=_text(self.departure_flight).upper(),
            hotel=_text(self.hotel), interpreter_needed=needed,
            # A language without the need for an interpreter would only confuse the people who book them.
            interpreter_language=_text(self.interpreter_language) if needed else "",
            notes=_long_text(self.notes), arrival_date=as_date(self.arrival_date),
            departure_date=as_date(self.departure_date),
            category_ids=None if self.category_ids is None else _unique(self.category_ids))


def _unique(values: list[Any]) -> list[Any]:
    """Each value once, in order (ids of any type: the rules refuse those that are not row ids)."""
    seen: list[Any] = []
    for value in values:
        if value not in seen:
            seen.append(value)
    return seen


#: What the leader may change; the name, country, organization and notes are the organizer's.
LEADER_FIELDS = frozenset({"arrival_date", "departure_date", "arrival_flight", "departure_flight", "hotel",
                           "interpreter_needed", "interpreter_language", "category_ids"})


# --- the rules ---------------------------------------------------------------------------------------------------------

def _too_long(value: str, limit: int, name: str, problems: list[Problem]) -> bool:
    if len(value) > limit:
        problems.append(Problem(_l("Use at most %(n)d characters.", n=limit), name))
        return True
    return False


def _control_characters(data: Any, problems: list[Problem]) -> set[str]:
    """The text fields of ``data`` holding control characters (NUL and the like), each with a problem: an import
    cell or an API value can carry them past the forms' own check, and PostgreSQL cannot store or even compare
    them. The other rules skip these fields."""
    bad = {f.name for f in fields(data) if isinstance(getattr(data, f.name), str)
           and CONTROL_CHARACTERS.search(getattr(data, f.name))}
    for name in sorted(bad):
        problems.append(Problem(_l("Remove the control characters (such as NUL) from this text."), name))
    return bad


def _is_latin_name(name: str) -> bool:
    """Letters of the Latin script (with accents: "José Müller", "Nguyễn" is not a passport spelling but is
    Latin) and the punctuation passport names carry; no digits, no other scripts."""
    for ch in name:
        if ch in _NAME_PUNCTUATION:
            continue
        if not ch.isalpha() or "LATIN" not in unicodedata.name(ch, ""):
            return False
    return any(ch.isalpha() for ch in name)


def add_months(day: date, months: int) -> date:
    """``day`` plus ``months`` calendar months, on the month's last day where it is shorter (31 Aug + 6 → 28 Feb)."""
    month_index = day.month - 1 + months
    year, month = day.year + month_index // 12, month_index % 12 + 1
    for last in (31, 30, 29, 28):
        try:
            return date(year, month, min(day.day, last))
        except ValueError:
            continue
    raise ValueError(day)  # pragma: no cover - every month has a 28th


def passport_valid_until(expo: Expo) -> date:
    """The earliest expiry a member's passport may have: six months after the expo's last day."""
    return add_months(expo.ends_on, PASSPORT_VALID_MONTHS_AFTER_EXPO)


def validate_member(expo: Expo, data: MemberData, *, delegation: Delegation | None = None,
                    member: Buyer | None = None, today: date | None = None) -> list[Problem]:
    """Every reason to refuse ``data`` (normalize it first), or ``[]``. With ``delegation``, also checks that no
    other member (``member`` is the one being changed) has the same e-mail address or passport number; an import
    checks the rows of its own file against each other itself."""
    today = today or date.today()
    problems: list[Problem] = []
    bad = _control_characters(data, problems)
    if bad:
        data = replace(data, **{name: "" for name in bad})
    if "name" not in bad:
        if not data.name:
            problems.append(Problem(_l("Give the name as written in the passport."), "name"))
        elif not _too_long(data.name, 200, "name", problems) and not _is_latin_name(data.name):
            problems.append(Problem(_l("Write the name in Latin letters, as in the passport; the name in the "
                                       "member's own script has a field of its own."), "name"))
    _too_long(data.name_native, 200, "name_native", problems)
    _too_long(data.company, 200, "company", problems)
    _too_long(data.job_title, 100, "job_title", problems)
    if data.email and not _too_long(data.email, 254, "email", problems) and not EMAIL.fullmatch(data.email):
        problems.append(Problem(_l("Enter a valid e-mail address."), "email"))
    if data.phone and not PHONE.fullmatch(data.phone):
        problems.append(Problem(_l("Enter a phone number: digits, spaces, +, - and brackets."), "phone"))

    if "passport_number" not in bad:
        if not data.passport_number:
            problems.append(Problem(_l("Give the passport number."), "passport_number"))
        elif not PASSPORT_NUMBER.fullmatch(data.passport_number):
            problems.append(Problem(_l("A passport number has 5 to 20 letters (A–Z) and digits."),
                                    "passport_number"))
    if "nationality" not in bad:
        if not data.nationality:
            problems.append(Problem(_l("Choose the nationality."), "nationality"))
        elif data.nationality not in countries.codes():
            problems.append(Problem(_l("Choose the nationality from the list (a two-letter country code such as "
                                       "RU)."), "nationality"))
    needed = passport_valid_until(expo)
    if data.passport_expires_on is None:
        problems.append(Problem(_l("Give the date the passport expires."), "passport_expires_on"))
    elif not isinstance(data.passport_expires_on, date):
        problems.append(Problem(_l("Enter the date as YYYY-MM-DD."), "passport_expires_on"))
    elif data.passport_expires_on < needed:
        problems.append(Problem(_l(
            "The passport expires on %(date)s. For a visa it must be valid until %(needed)s at least (six months "
            "after the expo ends): the member needs a new passport first.",
            date=data.passport_expires_on.isoformat(), needed=needed.isoformat()), "passport_expires_on"))
    elif data.passport_expires_on > add_months(today, 12 * PASSPORT_MAX_YEARS_AHEAD):
        problems.append(Problem(_l("Check the expiry date: no passport is valid that long."), "passport_expires_on"))
    if data.date_of_birth is None:
        problems.append(Problem(_l("Give the date of birth."), "date_of_birth"))
    elif not isinstance(data.date_of_birth, date):
        problems.append(Problem(_l("Enter the date as YYYY-MM-DD."), "date_of_birth"))
    elif data.date_of_birth >= today:
        problems.append(Problem(_l("The date of birth must be in the past."), "date_of_birth"))
    elif data.date_of_birth < EARLIEST_BIRTH_DATE:
        problems.append(Problem(_l("Check the date of birth: it is before 1900."), "date_of_birth"))

    if delegation is not None and delegation.id is not None:
        problems.extend(_duplicates(delegation, data, member))
    return problems


def _duplicates(delegation: Delegation, data: MemberData, member: Buyer | None) -> list[Problem]:
    problems: list[Problem] = []
    others = [Buyer.delegation_id == delegation.id]
    if member is not None and member.id is not None:
        others.append(Buyer.id != member.id)
    if data.email:
        taken = db.session.scalar(select(Buyer.name).where(*others, func.lower(Buyer.email) == data.email).limit(1))
        if taken is not None:
            problems.append(Problem(_l("%(name)s in this delegation already has this e-mail address.", name=taken),
                                    "email"))
    if data.passport_number and PASSPORT_NUMBER.fullmatch(data.passport_number):
        taken = db.session.scalar(select(Buyer.name).join(Passport, Passport.buyer_id == Buyer.id).where(
            *others, Passport.number == data.passport_number).limit(1))
        if taken is not None:
            problems.append(Problem(_l("%(name)s in this delegation already has this passport number.", name=taken),
                                    "passport_number"))
    return problems


def validate_delegation(expo: Expo, data: DelegationData) -> list[Problem]:
    """Every reason to refuse ``data`` (normalize it first), or ``[]``."""
    problems: list[Problem] = []
    bad = _control_characters(data, problems)
    if bad:
        data = replace(data, **{name: "" for name in bad})
    if "name" not in bad:
        if not data.name:
            problems.append(Problem(_l("Give the delegation a name."), "name"))
        else:
            _too_long(data.name, 200, "name", problems)
    if "country" not in bad:
        if not data.country:
            problems.append(Problem(_l("Choose the country or region the delegation comes from."), "country"))
        elif data.country not in countries.codes():
            problems.append(Problem(_l("Choose a country or region from the list."), "country"))
    _too_long(data.organization, 200, "organization", problems)
    _too_long(data.arrival_flight, 20, "arrival_flight", problems)
    _too_long(data.departure_flight, 20, "departure_flight", problems)
    _too_long(data.hotel, 200, "hotel", problems)
    _too_long(data.notes, 5000, "notes", problems)
    if "interpreter_language" in bad:
        pass  # already refused above
    elif data.interpreter_needed and not data.interpreter_language:
        problems.append(Problem(_l("Say which language the interpreter should speak."), "interpreter_language"))
    else:
        _too_long(data.interpreter_language, 40, "interpreter_language", problems)

    arrival, departure = data.arrival_date, data.departure_date
    for name, value in (("arrival_date", arrival), ("departure_date", departure)):
        if value is not None and not isinstance(value, date):
            problems.append(Problem(_l("Enter the date as YYYY-MM-DD."), name))
            return problems
    earliest, latest = expo.starts_on - timedelta(days=TRAVEL_WINDOW_DAYS), expo.ends_on + timedelta(
        days=TRAVEL_WINDOW_DAYS)
    if arrival is not None:
        if arrival > expo.ends_on:
            problems.append(Problem(_l("The delegation must arrive by the expo's last day, %(date)s.",
                                       date=expo.ends_on.isoformat()), "arrival_date"))
        elif arrival < earliest:
            problems.append(Problem(_l("Check the arrival date: it is more than two months before the expo."),
                                    "arrival_date"))
    if departure is not None:
        if arrival is not None and departure < arrival:
            problems.append(Problem(_l("The departure cannot be before the arrival."), "departure_date"))
        elif departure < expo.starts_on:
            problems.append(Problem(_l("The delegation must stay until the expo's first day, %(date)s, at least.",
                                       date=expo.starts_on.isoformat()), "departure_date"))
        elif departure > latest:
            problems.append(Problem(_l("Check the departure date: it is more than two months after the expo."),
                                    "departure_date"))
    if data.category_ids and not all(isinstance(c, int) and 1 <= c <= MAX_ID for c in data.category_ids):
        problems.append(Problem(_l("Choose product categories from the list."), "categories"))
    elif data.category_ids:
        found = db.session.scalar(select(func.count(ProductCategory.id)).where(
            ProductCategory.id.in_(data.category_ids)))
        if found != len(data.category_ids):
            problems.append(Problem(_l("Choose product categories from the list."), "categories"))
    return problems


def _refuse(problems: list[Problem], error: type[DelegationError] = DelegationError) -> None:
    if problems:
        raise error(problems[0], field=problems[0].field, problems=problems)


def _expo_of(obj: Delegation | Buyer) -> Expo:
    return db.session.get(Expo, obj.expo_id)


# --- delegations -------------------------------------------------------------------------------------------------------

def _delegation_values(data: DelegationData) -> dict[str, Any]:
    return {f.name: getattr(data, f.name) for f in fields(data) if f.name != "category_ids"}


def _set_categories(delegation: Delegation, category_ids: list[int] | None) -> dict[str, list]:
    if category_ids is None:
        return {}
    old = sorted(c.code for c in delegation.categories)
    delegation.categories = list(db.session.scalars(
        select(ProductCategory).where(ProductCategory.id.in_(category_ids)))) if category_ids else []
    new = sorted(c.code for c in delegation.categories)
    return {"categories": [old, new]} if old != new else {}


def create_delegation(actor: User, expo: Expo, data: DelegationData, *, leader_email: str = "",
                      leader_name: str = "", set_password_url_for: Callable[[str], str] | None = None,
                      locale: str | None = None) -> Delegation:
    """The organizer sets up a delegation; with ``leader_email``, its leader too (:func:`assign_leader`: a new
    address gets a delegation-leader account and a link to choose its password)."""
    if not actor.is_organizer:
        raise Forbidden(_l("Only the organizer can set up a delegation."))
    data = data.normalized()
    _refuse(validate_delegation(expo, data))
    delegation = Delegation(expo_id=expo.id, **_delegation_values(data))
    db.session.add(delegation)
    db.session.flush()
    _set_categories(delegation, data.category_ids)
    audit.record(actor, "delegation_created", delegation, name=delegation.name, country=delegation.country)
    if _text(leader_email):
        assign_leader(actor, delegation, leader_email, leader_name, set_password_url_for=set_password_url_for,
                      locale=locale)
    db.session.flush()
    return delegation


def update_delegation(actor: User, delegation: Delegation, data: DelegationData) -> dict[str, list]:
    """Change the delegation's details; returns what changed (also in the audit log). The leader may change the
    travel details and interests only (:data:`LEADER_FIELDS`): build ``data`` from :meth:`DelegationData.of`."""
    data = data.normalized()
    current = DelegationData.of(delegation).normalized()
    if not actor.is_organizer:
        if delegation.leader_user_id != actor.id:
            raise Forbidden(_l("This delegation has another leader."))
        locked = [f.name for f in fields(data) if f.name not in LEADER_FIELDS
                  and getattr(data, f.name) != getattr(current, f.name)]
        if locked:
            raise DelegationError(_l("Only the organizer can change the delegation's name, country, organization "
                                     "and notes."), status=403, code="forbidden", field=locked[0])
    _refuse(validate_delegation(_expo_of(delegation), data))
    changes = audit.diff(delegation, _delegation_values(data))
    changes.update(_set_categories(delegation, data.category_ids))
    if changes:
        audit.record(actor, "delegation_updated", delegation, **changes)
    db.session.flush()
    return changes


def assign_leader(actor: User, delegation: Delegation, email: str, name: str = "", *,
                  set_password_url_for: Callable[[str], str] | None = None, locale: str | None = None
                  ) -> User | None:
    """Make the account of ``email`` the delegation's leader (an empty ``email``: no leader). An address without
    an account gets a new delegation-leader account (``name`` needed) and an e-mail with a link to choose its
    password: the password-reset link of :mod:`expo.auth.services`, built with ``set_password_url_for(token)``."""
    if not actor.is_organizer:
        raise Forbidden(_l("Only the organizer can choose a delegation's leader."))
    email = auth_services.normalize_email(email or "")
    name = _text(name)
    if not email:
        if delegation.leader_user_id is not None:
            audit.record(actor, "delegation_leader_assigned", delegation,
                         leader_user_id=[delegation.leader_user_id, None])
            delegation.leader_user_id = None
            delegation.leader = None
            db.session.flush()
        return None
    if not EMAIL.fullmatch(email) or len(email) > 254 or CONTROL_CHARACTERS.search(email):
        raise DelegationError(_l("Enter a valid e-mail address."), field="leader_email")
    if CONTROL_CHARACTERS.search(name):
        raise DelegationError(_l("Remove the control characters (such as NUL) from this text."), field="leader_name")
    user = db.session.scalar(select(User).where(User.email == email))
    created = user is None
    if user is None:
        if not name:
            raise DelegationError(_l("Give the leader's name: there is no account for this e-mail address yet."),
                                  field="leader_name")
        if len(name) > 200:
            raise DelegationError(_l("Use at most %(n)d characters.", n=200), field="leader_name")
        # Nobody knows this password: the leader chooses their own through the e-mailed link.
        user = auth_services.create_user(email, secrets.token_urlsafe(32), name, Role.DELEGATION_LEADER,
                                         locale=locale)
        audit.record(actor, "leader_account_created", user, email=email, delegation_id=delegation.id)
    elif user.role != Role.DELEGATION_LEADER:
        raise DelegationError(_l("This e-mail address belongs to an account that is not a delegation leader's. "
                                 "Use another address."), field="leader_email", code="wrong_role")
    old = delegation.leader_user_id
    if old != user.id:
        delegation.leader_user_id = user.id
        delegation.leader = user
        audit.record(actor, "delegation_leader_assigned", delegation, leader_user_id=[old, user.id], email=email)
    db.session.flush()
    if created:
        _send_welcome(user, delegation, set_password_url_for)
    return user


def _send_welcome(user: User, delegation: Delegation, set_password_url_for: Callable[[str], str] | None) -> None:
    """The new leader's link to choose a password: a password-reset token (single-use, expiring)."""
    token = auth_services._reset_serializer().dumps({"uid": user.id, "fp": user.password_fingerprint})
    url = set_password_url_for(token) if set_password_url_for else token
    expo = _expo_of(delegation)
    minutes = int(current_app.config["PASSWORD_RESET_MAX_AGE_SECONDS"]) // 60
    with force_locale(user.locale or "en"):
        expo_name = expo.name_zh if (user.locale or "").startswith("zh") else expo.name_en
        mail.queue(
            user.email,
            _("Your delegation leader account for %(expo)s", expo=expo_name),
            _("Hello %(name)s,\n\nthe organizer of %(expo)s has made you the leader of the delegation "
              "\"%(delegation)s\". Open this link to choose your password (it works for %(minutes)d minutes):\n"
              "%(url)s\n\nThen sign in with %(email)s to add your delegation's members and their passport data for "
              "the visa invitation letters. If the link has expired, use \"Forgot your password?\" on the sign-in "
              "page.", name=user.name, expo=expo_name, delegation=delegation.name, minutes=minutes, url=url,
              email=user.email))


# --- members -------------------------------------------------------------------------------------------------------

_MEMBER_BUYER_FIELDS = ("name", "name_native", "company", "job_title", "email", "phone")
_PASSPORT_FIELDS = {"passport_number": "number", "passport_expires_on": "expires_on", "nationality": "nationality",
                    "date_of_birth": "date_of_birth"}
#: Public names for the bulk import, which writes members in batches exactly as add_member writes one.
MEMBER_BUYER_FIELDS, PASSPORT_FIELDS = _MEMBER_BUYER_FIELDS, _PASSPORT_FIELDS
#: Never written to the audit log, not even as a change: "***" says that they changed.
_SECRET_FIELDS = frozenset({"passport_number", "passport_expires_on", "date_of_birth"})


def _check_member_actor(actor: User, delegation: Delegation) -> None:
    if not (actor.is_organizer or delegation.leader_user_id == actor.id):
        raise Forbidden(_l("This delegation has another leader."))


def add_member(actor: User, delegation: Delegation, data: MemberData) -> Buyer:
    """Add a member (a buyer of the delegation, registered, from the delegation's country) with their passport."""
    _check_member_actor(actor, delegation)
    data = data.normalized()
    _refuse(validate_member(_expo_of(delegation), data, delegation=delegation), MemberError)
    buyer = Buyer(expo_id=delegation.expo_id, delegation_id=delegation.id, country=delegation.country,
                  status=BuyerStatus.REGISTERED, **{k: getattr(data, k) for k in _MEMBER_BUYER_FIELDS})
    db.session.add(buyer)
    db.session.flush()
    db.session.add(Passport(buyer_id=buyer.id, **{col: getattr(data, key) for key, col in _PASSPORT_FIELDS.items()}))
    audit.record(actor, "delegation_member_added", buyer, delegation_id=delegation.id, name=buyer.name)
    db.session.flush()
    return buyer


def update_member(actor: User, member: Buyer, data: MemberData) -> dict[str, list]:
    """Change a member and their passport data; returns what changed (secret fields as ``***``)."""
    delegation = member.delegation
    if delegation is None:
        raise MemberError(_l("This buyer is not a member of a delegation."), status=404, code="not_found")
    _check_member_actor(actor, delegation)
    data = data.normalized()
    _refuse(validate_member(_expo_of(delegation), data, delegation=delegation, member=member), MemberError)
    changes = audit.diff(member, {k: getattr(data, k) for k in _MEMBER_BUYER_FIELDS})
    passport = db.session.get(Passport, member.id)
    if passport is None:
        passport = Passport(buyer_id=member.id)
        db.session.add(passport)
    for key, column in _PASSPORT_FIELDS.items():
        old, new = getattr(passport, column), getattr(data, key)
        if old != new:
            setattr(passport, column, new)
            changes[key] = ["***", "***"] if key in _SECRET_FIELDS else [old, new]
    if changes:
        # "name" may be among the changes (a renamed member): then its [old, new] pair says who it is.
        audit.record(actor, "delegation_member_updated", member, delegation_id=delegation.id,
                     **{"name": member.name, **changes})
    db.session.flush()
    return changes


def remove_member(actor: User, member: Buyer) -> None:
    """Take a member off the delegation. A member entered by the leader or the organizer is deleted with their
    passport data (nothing kept that is no longer needed); a buyer with an account of their own only leaves the
    delegation."""
    delegation = member.delegation
    if delegation is None:
        raise MemberError(_l("This buyer is not a member of a delegation."), status=404, code="not_found")
    _check_member_actor(actor, delegation)
    audit.record(actor, "delegation_member_removed", member, delegation_id=delegation.id, name=member.name)
    # Their visa letters stop being valid: the verification page says "revoked" rather than "unknown" (the letter
    # rows stay, their buyer link set to NULL, so an embassy checking a reference gets a true answer).
    db.session.execute(update(InvitationLetter).where(InvitationLetter.buyer_id == member.id,
                                                      InvitationLetter.revoked_at.is_(None)).values(revoked_at=utcnow()))
    if member.user_id is not None:
        member.delegation_id = None
        member.delegation = None
    else:
        db.session.execute(delete(Passport).where(Passport.buyer_id == member.id))
        db.session.delete(member)
    db.session.flush()


def members_of(delegation: Delegation) -> list[Buyer]:
    """The delegation's members, by name (their passport data is read separately, through ``read_passports``)."""
    return list(db.session.scalars(select(Buyer).where(Buyer.delegation_id == delegation.id)
                                   .order_by(Buyer.name, Buyer.id)))


def member_data_of(member: Buyer, passport: Passport | None) -> MemberData:
    """What a member holds now, to fill a form (``passport`` read through ``read_passports``)."""
    values = {k: getattr(member, k) for k in _MEMBER_BUYER_FIELDS}
    if passport is not None:
        values.update({key: getattr(passport, col) for key, col in _PASSPORT_FIELDS.items()})
    return MemberData(**values)


# --- the organizer's board ---------------------------------------------------------------------------------------------

SORTS = ("arrival", "departure", "name", "country", "members")


@dataclass
class BoardFilter:
    country: str | None = None
    arrival_from: date | None = None
    arrival_to: date | None = None
    interpreter: bool | None = None
    q: str | None = None
    sort: str = "arrival"
    descending: bool = False
    extra: dict[str, Any] = field(default_factory=dict)


def member_count():
    """The number of members of the delegation in the surrounding query (a correlated subquery).

    ``count(*)``, not ``count(buyers.id)``: PostgreSQL then counts from ``ix_buyers_delegation_id`` alone (an
    index-only scan) instead of reading every member's row (the board sorted by members at 300,000 buyers: ~1 s →
    ~45 ms; bench/README.md, "Buyers at scale")."""
    return select(func.count()).select_from(Buyer).where(Buyer.delegation_id == Delegation.id) \
        .correlate(Delegation).scalar_subquery()


def _conditions(expo: Expo, f: BoardFilter) -> list:
    conditions = [Delegation.expo_id == expo.id]
    if f.country:
        conditions.append(Delegation.country == f.country.upper())
    if f.arrival_from:
        conditions.append(Delegation.arrival_date >= f.arrival_from)
    if f.arrival_to:
        conditions.append(Delegation.arrival_date <= f.arrival_to)
    if f.interpreter is not None:
        conditions.append(Delegation.interpreter_needed.is_(f.interpreter))
    if f.q and f.q.strip():
        like = f"%{escape_like(f.q.strip())}%"
        sqlite = db.session.get_bind().dialect.name == "sqlite"

        def match(column):
            return column.like(like, escape="\\") if sqlite else column.ilike(like, escape="\\")

        leaders = select(User.id).where(or_(match(User.name), match(User.email))).correlate(None)
        conditions.append(or_(match(Delegation.name), match(Delegation.organization),
                              Delegation.leader_user_id.in_(leaders)))
    return conditions


def board_query(expo: Expo, f: BoardFilter) -> Select:
    """Rows of (Delegation, leader User or None, member count) for the board and its export."""
    members = member_count().label("members")
    key = f.sort if f.sort in SORTS else "arrival"
    column = {"arrival": Delegation.arrival_date, "departure": Delegation.departure_date, "name": Delegation.name,
              "country": Delegation.country, "members": members}[key]
    order = column.desc() if f.descending else column.asc()
    if key in ("arrival", "departure"):
        order = order.nulls_last()  # a delegation without dates yet goes to the end of the schedule
    return (select(Delegation, User, members).outerjoin(User, User.id == Delegation.leader_user_id)
            .where(*_conditions(expo, f)).order_by(order, Delegation.name, Delegation.id))


def board_page(expo: Expo, f: BoardFilter, page: int, per_page: int) -> listing.Page:
    count = select(func.count(Delegation.id)).where(*_conditions(expo, f))
    return listing.paginate(board_query(expo, f), page, per_page, count=count)


@dataclass
class ArrivalDay:
    day: date | None  # None: delegations whose arrival is not known yet
    delegations: int
    people: int


def arrival_schedule(expo: Expo, f: BoardFilter) -> list[ArrivalDay]:
    """Per arrival day of the filtered delegations: how many delegations and how many members arrive.

    Two plain queries joined here: the delegations' arrival days, and the member count per delegation read off the
    index on ``buyers.delegation_id`` (a join of delegations and buyers, grouped by day, is ten times slower at
    300,000 buyers)."""
    arrivals = dict(db.session.execute(select(Delegation.id, Delegation.arrival_date).where(*_conditions(expo, f)))
                    .all())
    people = dict(db.session.execute(
        select(Buyer.delegation_id, func.count()).where(Buyer.delegation_id.in_(
            select(Delegation.id).where(*_conditions(expo, f)))).group_by(Buyer.delegation_id)).all())
    days: dict[date | None, ArrivalDay] = {}
    for delegation_id, day in arrivals.items():
        entry = days.setdefault(day, ArrivalDay(day, 0, 0))
        entry.delegations += 1
        entry.people += people.get(delegation_id, 0)
    return sorted(days.values(), key=lambda d: (d.day is None, d.day or date.min))


# --- exports -------------------------------------------------------------------------------------------------------

MIMETYPES = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}


def _export(headers: list[str], rows: Iterable[list], fmt: str, title: str) -> tuple[io.BytesIO, str]:
    body = listing.to_csv(headers, rows) if fmt == "csv" else listing.to_xlsx(headers, rows, title=title)
    return io.BytesIO(body), MIMETYPES[fmt]


def _day(d: date | None) -> str:
    return d.isoformat() if d else ""


def export_board(rows: Iterable, fmt: str, lang: str) -> tuple[io.BytesIO, str]:
    """The board's rows (:func:`board_query`) as CSV or XLSX: no passport data."""
    headers = [_("Delegation"), _("Name"), _("Country or region"), _("Leading organization"), _("Leader"),
               _("Leader's e-mail"), _("Members"), _("Arrival"), _("Arrival flight"), _("Departure"),
               _("Departure flight"), _("Hotel"), _("Interpreter needed"), _("Interpreter language"),
               _("Interests")]
    rows = list(rows)
    interests = _interests([d.id for d, _u, _n in rows], lang)

    def out():
        for d, leader, members in rows:
            yield [d.id, d.name, countries.name(d.country, lang), d.organization, leader.name if leader else "",
                   leader.email if leader else "", members, _day(d.arrival_date), d.arrival_flight,
                   _day(d.departure_date), d.departure_flight, d.hotel, _("yes") if d.interpreter_needed else "",
                   d.interpreter_language, interests.get(d.id, "")]

    return _export(headers, out(), fmt, "Delegations")


def _interests(delegation_ids: list[int], lang: str) -> dict[int, str]:
    from expo.buyers.models import delegation_categories

    names: dict[int, list[str]] = {}
    for start in range(0, len(delegation_ids), 500):
        chunk = delegation_ids[start:start + 500]
        for did, zh, en in db.session.execute(
                select(delegation_categories.c.delegation_id, ProductCategory.name_zh, ProductCategory.name_en)
                .join(ProductCategory, ProductCategory.id == delegation_categories.c.category_id)
                .where(delegation_categories.c.delegation_id.in_(chunk)).order_by(ProductCategory.sort)):
            names.setdefault(did, []).append((zh if lang == "zh" else en) or en or zh)
    return {did: ", ".join(n) for did, n in names.items()}


def export_members(actor: User, delegations: list[Delegation], fmt: str, lang: str, *,
                   with_passports: bool = False) -> tuple[io.BytesIO, str]:
    """The members of ``delegations`` as CSV or XLSX. Passport columns only with ``with_passports``, which only an
    organizer admin may ask for; that export reads the passports through ``read_passports`` (purpose
    ``"export"``: one audit entry per member) and is itself written to the audit log."""
    if with_passports and actor.role != Role.ADMIN:
        raise Forbidden(_l("Only an organizer admin can export passport data."))
    names = {d.id: d.name for d in delegations}
    ids = list(names)
    # Plain rows, not Buyer objects: the whole board's members are 100,000 rows and more at a large expo.
    rows = []
    for start in range(0, len(ids), 500):
        rows.extend(db.session.execute(
            select(Buyer.id, Buyer.delegation_id, *(getattr(Buyer, k) for k in _EXPORT_COLUMNS))
            .where(Buyer.delegation_id.in_(ids[start:start + 500]))
            .order_by(Buyer.delegation_id, Buyer.name, Buyer.id)).all())
    headers = [_("Delegation"), _("Member"), _("Name as in the passport"), _("Name in own script"), _("Company"),
               _("Job title"), _("E-mail"), _("Phone"), _("Country or region")]
    passports: dict[int, Passport] = {}
    if with_passports:
        headers += [_("Passport number"), _("Passport expires"), _("Nationality"), _("Date of birth")]
        members: list[Buyer] = []
        for start in range(0, len(ids), 500):
            members.extend(db.session.scalars(select(Buyer).options(load_only(Buyer.id, Buyer.delegation_id))
                                              .where(Buyer.delegation_id.in_(ids[start:start + 500]))))
        passports = read_passports(actor, members, "export")
        # One entry for the export as a whole, beside read_passports' one per member.
        target = delegations[0] if len(delegations) == 1 else _expo_of(delegations[0]) if delegations else actor
        audit.record(actor, "delegation_members_exported", target, delegations=len(ids), members=len(members),
                     with_passports=True)
    country_names: dict[str, str] = {}

    def out():
        for buyer_id, delegation_id, name, native, company, job_title, email, phone, country in rows:
            if country not in country_names:
                country_names[country] = countries.name(country, lang)
            row = [names[delegation_id], buyer_id, name, native, company, job_title, email, phone,
                   country_names[country]]
            if with_passports:
                p = passports.get(buyer_id)
                row += [p.number, _day(p.expires_on), p.nationality, _day(p.date_of_birth)] if p else [""] * 4
            yield row

    return _export(headers, out(), fmt, "Members")


_EXPORT_COLUMNS = ("name", "name_native", "company", "job_title", "email", "phone", "country")


__all__ = [
    "LEADER_FIELDS", "MEMBER_BUYER_FIELDS", "PASSPORT_FIELDS", "ArrivalDay", "BoardFilter", "DelegationData",
    "DelegationError", "MemberData", "MemberError", "Problem", "add_member", "add_months", "arrival_schedule",
    "as_date", "assign_leader", "board_page", "board_query", "create_delegation", "export_board", "export_members",
    "member_data_of", "members_of", "normalize_passport_number", "passport_valid_until", "remove_member",
    "update_delegation", "update_member", "validate_delegation", "validate_member",
]
