"""Visa invitation letters: issuing, reusing, superseding, revoking and verifying them.

A letter is issued for one buyer or for a delegation. It gets a public reference that is unguessable and easy to
read over the phone (:func:`new_reference`: the expo's code, ten random Crockford base-32 characters from
:mod:`secrets` and a check character), and a snapshot of the people it names (``holders``: names, nationality,
date of birth, passport number and expiry, company, job title) read through
:func:`expo.buyers.access.read_passports` (purpose ``"visa_letter"``, one audit entry per person). The PDF is
always drawn from that snapshot, so a letter downloaded again says what it said when it was issued.

A delegation's letters come as one batch (:func:`delegation_letters`): the delegation's own letter listing every
member, then one letter per member, each with its own reference — a consulate may want the group letter, a member
applying on their own needs theirs.

Asking for a letter again reuses the current one while the people's data is unchanged; once it has changed
(a corrected passport number, a new member) a new letter is issued and the older one is revoked: it supersedes
it. Only the current letter of a person or a delegation is valid. The organizer can also re-issue on purpose
(``reissue=True``) and revoke a letter.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from expo import audit, countries
from expo.auth.models import User
from expo.buyers.access import read_passports
from expo.buyers.models import Buyer, BuyerStatus, Delegation, InvitationLetter, Passport
from expo.db import utcnow
from expo.errors import ExpoError
from expo.extensions import db
from expo.letters import pdf
from expo.venue.models import Expo

#: Crockford's base 32: digits and capitals without I, L, O and U, so nothing is misread or misheard.
ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
RANDOM_CHARS = 10  # 50 bits from secrets: about 10^15 references per expo, nobody finds one by trying
PREFIX_CHARS = 12  # the reference column holds 24 characters: prefix, "-", 10 random, 1 check
#: What people type instead of the alphabet's characters (Crockford's decoding rules).
_READ_AS = str.maketrans({"I": "1", "L": "1", "O": "0"})
_REFERENCE = re.compile(r"^([A-Z0-9]{1,12})-?([0-9A-Z]{11})$")
PURPOSE = "visa_letter"


class LetterError(ExpoError):
    """No letter can be issued as things stand (missing passport data, no members, ...): 409 Conflict."""

    status = 409
    code = "letter_refused"


# --- references ------------------------------------------------------------------------------------------------------

def _gf32_tables() -> tuple[list[int], list[int]]:
    """Powers and logarithms of α in GF(32) built on the primitive polynomial x⁵ + x² + 1."""
    power, log = [0] * 62, [0] * 32
    value = 1
    for i in range(31):
        power[i] = power[i + 31] = value
        log[value] = i
        value <<= 1
        if value & 0b100000:
            value ^= 0b100101
    return power, log


_POWER, _LOG = _gf32_tables()


def check_character(code: str) -> str:
    """The check character of ``code`` (alphabet characters): Σ αⁱ·cᵢ in GF(32), the last character weighted α¹
    and the check itself α⁰. Distinct non-zero weights catch every single mistyped character; neighbours weighted
    αⁱ and αⁱ⁺¹ catch every swap of two neighbours, the check character included (a plain Luhn mod 32 misses a
    swap of "0" and "Z")."""
    total, n = 0, len(code)
    for i, ch in enumerate(code):
        value = ALPHABET.index(ch)
        if value:
            total ^= _POWER[_LOG[value] + (n - i) % 31]
    return ALPHABET[total]


def reference_prefix(expo: Expo) -> str:
    return re.sub(r"[^A-Z0-9]", "", expo.code.upper())[:PREFIX_CHARS] or "EXPO"


def new_reference(expo: Expo) -> str:
    """``JJFE2027-`` + 10 random characters + 1 check character, e.g. ``JJFE2027-7K3M9QX2T4P``."""
    code = "".join(secrets.choice(ALPHABET) for _ in range(RANDOM_CHARS))
    return f"{reference_prefix(expo)}-{code}{check_character(code)}"


@dataclass(frozen=True)
class ParsedReference:
    reference: str  # canonical: PREFIX-CODE
    check_ok: bool


def parse_reference(text: str | None) -> ParsedReference | None:
    """A reference as typed (any case, spaces or dashes within, I/L for 1 and O for 0) in its canonical form, or
    ``None`` if it cannot be one at all."""
    if not text or len(text) > 80:
        return None
    compact = re.sub(r"[\s\-_.]", "", text.upper())
    if len(compact) < 12 or not compact.isascii() or not compact.isalnum():
        return None
    prefix, code = compact[:-(RANDOM_CHARS + 1)], compact[-(RANDOM_CHARS + 1):].translate(_READ_AS)
    if not prefix or len(prefix) > PREFIX_CHARS or any(ch not in ALPHABET for ch in code):
        return None
    return ParsedReference(f"{prefix}-{code}", check_character(code[:-1]) == code[-1])


def find_letter(text: str | None) -> InvitationLetter | None:
    """The letter with this reference (as a person types it), or ``None``; a reference whose check character is
    wrong is not looked up at all."""
    parsed = parse_reference(text)
    if parsed is None or not parsed.check_ok:
        return None
    return db.session.scalar(select(InvitationLetter).where(InvitationLetter.reference == parsed.reference))


# --- the people a letter names ---------------------------------------------------------------------------------------

def _missing(buyer: Buyer, passport: Passport | None) -> list[str]:
    if passport is None:
        return ["passport"]
    return [what for what, value in (("passport_number", passport.number), ("nationality", passport.nationality),
                                     ("passport_expires_on", passport.expires_on),
                                     ("date_of_birth", passport.date_of_birth)) if not value]


def holder(buyer: Buyer, passport: Passport) -> dict[str, Any]:
    """One person as the letter prints them (JSON-ready)."""
    return {
        "buyer_id": buyer.id,
        "name": buyer.name,
        "name_native": buyer.name_native or "",
        "nationality": passport.nationality,
        "date_of_birth": passport.date_of_birth.isoformat() if passport.date_of_birth else "",
        "passport_number": passport.number,
        "passport_expires_on": passport.expires_on.isoformat() if passport.expires_on else "",
        "company": buyer.company or "",
        "job_title": buyer.job_title or "",
    }


def _holders(actor: User | None, expo: Expo, buyers: Sequence[Buyer]) -> list[dict[str, Any]]:
    """The snapshot of ``buyers`` (passports read and audited); refuses, naming them, when anyone lacks passport
    data or holds a passport that expires before the expo ends."""
    passports = read_passports(actor, buyers, PURPOSE)
    lacking = [b for b in buyers if _missing(b, passports.get(b.id))]
    if lacking:
        names = ", ".join(b.name for b in lacking[:10]) + (" …" if len(lacking) > 10 else "")
        raise LetterError(_l("No letter can be issued until the passport data (number, nationality, expiry and date "
                             "of birth) of these people is complete: %(names)s.", names=names),
                          code="passport_missing")
    expired = [b for b in buyers if passports[b.id].expires_on < expo.ends_on]
    if expired:
        names = ", ".join(b.name for b in expired[:10]) + (" …" if len(expired) > 10 else "")
        raise LetterError(_l("These passports expire before the expo ends: %(names)s.", names=names),
                          code="passport_expired")
    return [holder(b, passports[b.id]) for b in buyers]


# --- finding, issuing, revoking ----------------------------------------------------------------------------------------

def current_letter(*, buyer: Buyer | None = None, delegation: Delegation | None = None) -> InvitationLetter | None:
    """The valid letter of ``buyer`` (their own) or of ``delegation`` (the group letter), newest first."""
    stmt = select(InvitationLetter).where(InvitationLetter.revoked_at.is_(None))
    if buyer is not None:
        stmt = stmt.where(InvitationLetter.buyer_id == buyer.id)
    elif delegation is not None:
        stmt = stmt.where(InvitationLetter.delegation_id == delegation.id, InvitationLetter.buyer_id.is_(None))
    else:
        raise ValueError("a buyer or a delegation")
    return db.session.scalar(stmt.order_by(InvitationLetter.issued_at.desc(), InvitationLetter.id.desc()).limit(1))


def _lock(obj: Buyer | Delegation) -> None:
    """Serialise letters for one buyer or delegation (PostgreSQL row lock; SQLite has one writer anyway), so two
    downloads at once do not issue two current letters."""
    model = type(obj)
    db.session.execute(select(model.id).where(model.id == obj.id).with_for_update())


def _new_letter(actor: User | None, expo: Expo, holders: list[dict[str, Any]], *, buyer: Buyer | None,
                delegation_id: int | None, supersedes: InvitationLetter | None) -> InvitationLetter:
    for _attempt in range(5):
        reference = new_reference(expo)
        if db.session.scalar(select(InvitationLetter.id).where(InvitationLetter.reference == reference)) is None:
            break
    else:  # pragma: no cover - 50 random bits do not collide five times
        raise LetterError(_l("No free reference could be drawn; try again."))
    now = utcnow()
    if supersedes is not None and supersedes.revoked_at is None:
        supersedes.revoked_at = now
        audit.record(actor, "letter_revoked", supersedes, reference=supersedes.reference, reason="superseded",
                     superseded_by=reference)
    letter = InvitationLetter(expo_id=expo.id, reference=reference, buyer_id=buyer.id if buyer else None,
                              delegation_id=delegation_id, issued_at=now,
                              issued_by_id=actor.id if actor is not None and actor.is_authenticated else None,
                              holders=holders)
    db.session.add(letter)
    db.session.flush()
    audit.record(actor, "letter_issued", letter, reference=reference, holders=len(holders),
                 buyer_id=letter.buyer_id, delegation_id=delegation_id,
                 supersedes=supersedes.reference if supersedes is not None else None)
    return letter


def _check_expo(expo: Expo, obj: Buyer | Delegation) -> None:
    if obj.expo_id != expo.id:
        raise LetterError(_l("This belongs to another expo."), status=404, code="not_found")


def buyer_letter(actor: User | None, expo: Expo, buyer: Buyer, *, reissue: bool = False) -> InvitationLetter:
    """The buyer's valid letter: the current one while it still names them as they are now, else a new one that
    supersedes it (``reissue`` always draws a new one). The caller has checked that ``actor`` may see ``buyer``.
    Flushes."""
    _check_expo(expo, buyer)
    if buyer.status == BuyerStatus.CANCELLED:
        raise LetterError(_l("%(name)s has cancelled: no letter is issued.", name=buyer.name), code="cancelled")
    _lock(buyer)
    holders = _holders(actor, expo, [buyer])
    current = current_letter(buyer=buyer)
    if current is not None and not reissue and current.holders == holders \
            and current.delegation_id == buyer.delegation_id:
        return current
    return _new_letter(actor, expo, holders, buyer=buyer, delegation_id=buyer.delegation_id, supersedes=current)


def delegation_letters(actor: User | None, expo: Expo, delegation: Delegation, *,
                       reissue: bool = False) -> list[InvitationLetter]:
    """The delegation's batch: its group letter, then each member's own letter (by name) — reused where unchanged,
    issued anew (superseding the old) where not. Letters of people who have left the delegation are revoked.
    Flushes."""
    _check_expo(expo, delegation)
    _lock(delegation)
    members = list(db.session.scalars(select(Buyer).where(
        Buyer.delegation_id == delegation.id, Buyer.status != BuyerStatus.CANCELLED).order_by(Buyer.name, Buyer.id)))
    if not members:
        raise LetterError(_l("The delegation has no members yet: add them before asking for letters."),
                          code="no_members")
    holders = _holders(actor, expo, members)
    group = current_letter(delegation=delegation)
    if group is None or reissue or group.holders != holders:
        group = _new_letter(actor, expo, holders, buyer=None, delegation_id=delegation.id, supersedes=group)
    letters = [group]
    for member, one in zip(members, holders, strict=True):
        current = current_letter(buyer=member)
        if current is None or reissue or current.holders != [one] or current.delegation_id != delegation.id:
            current = _new_letter(actor, expo, [one], buyer=member, delegation_id=delegation.id, supersedes=current)
        letters.append(current)
    member_ids = {m.id for m in members}
    for stale in db.session.scalars(select(InvitationLetter).where(
            InvitationLetter.delegation_id == delegation.id, InvitationLetter.buyer_id.is_not(None),
            InvitationLetter.revoked_at.is_(None))):
        if stale.buyer_id not in member_ids:
            revoke_letter(actor, stale, reason="left_delegation")
    db.session.flush()
    return letters


def issue_letter(actor: User | None, expo: Expo, *, buyer: Buyer | None = None,
                 delegation: Delegation | None = None, reissue: bool = False) -> InvitationLetter:
    """The valid letter for ``buyer`` or ``delegation`` (the group letter; the members' letters are issued with
    it), issued now unless a current one still fits. See :func:`buyer_letter` and :func:`delegation_letters`."""
    if (buyer is None) == (delegation is None):
        raise ValueError("give a buyer or a delegation")
    if buyer is not None:
        return buyer_letter(actor, expo, buyer, reissue=reissue)
    return delegation_letters(actor, expo, delegation, reissue=reissue)[0]


def revoke_letter(actor: User | None, letter: InvitationLetter, *, reason: str = "revoked") -> None:
    """Mark ``letter`` revoked: the verification page says so from now on. Revoking twice changes nothing."""
    if letter.revoked_at is not None:
        return
    letter.revoked_at = utcnow()
    audit.record(actor, "letter_revoked", letter, reference=letter.reference, reason=reason)
    db.session.flush()


def record_download(actor: User | None, letters: Sequence[InvitationLetter]) -> None:
    """A download prints the passport data of the letters' snapshots: that is an access, so it is logged."""
    for letter in letters:
        audit.record(actor, "letter_downloaded", letter, reference=letter.reference, holders=len(letter.holders))


# --- printing ---------------------------------------------------------------------------------------------------------

def letter_document(letter: InvitationLetter, expo: Expo, verify_url: str) -> pdf.Letter:
    """The renderer's data for ``letter``: people from the stored snapshot; letterhead and the expo from ``expo``."""
    delegation = db.session.get(Delegation, letter.delegation_id) if letter.delegation_id else None
    people = tuple(pdf.Person(
        name=h.get("name", ""), name_native=h.get("name_native", ""), nationality=h.get("nationality", ""),
        nationality_en=countries.name(h.get("nationality"), "en"),
        nationality_zh=countries.name(h.get("nationality"), "zh"), date_of_birth=h.get("date_of_birth", ""),
        passport_number=h.get("passport_number", ""), passport_expires_on=h.get("passport_expires_on", ""),
        company=h.get("company", ""), job_title=h.get("job_title", "")) for h in letter.holders)
    group = letter.buyer_id is None and letter.delegation_id is not None
    return pdf.Letter(
        reference=letter.reference, issued_on=letter.issued_at.date(), verify_url=verify_url,
        organizer=pdf.Organizer(name_zh=expo.organizer_zh, name_en=expo.organizer_en,
                                address_zh=expo.organizer_address_zh, address_en=expo.organizer_address_en,
                                phone=expo.organizer_phone, email=expo.organizer_email,
                                signatory=expo.letter_signatory),
        event=pdf.Event(name_zh=expo.name_zh, name_en=expo.name_en, starts_on=expo.starts_on, ends_on=expo.ends_on,
                        venue_zh=expo.venue_zh, venue_en=expo.venue_en, city_zh=expo.city_zh, city_en=expo.city_en),
        people=people, delegation=delegation.name if delegation else None,
        delegation_organization=delegation.organization if delegation else "", group=group,
        stay_from=delegation.arrival_date if group and delegation else None,
        stay_to=delegation.departure_date if group and delegation else None,
        revoked=letter.revoked_at is not None)


def render(letters: Sequence[InvitationLetter], expo: Expo, verify_url_for: Callable[[str], str]) -> bytes:
    """The letters as one PDF, in the order given."""
    return pdf.render_letters([letter_document(x, expo, verify_url_for(x.reference)) for x in letters])


# --- the public verification ------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class PublicHolder:
    name: str
    name_native: str
    nationality: str
    passport_tail: str  # the last four characters only


def mask_passport(number: str) -> str:
    return "…" + number[-4:] if number else ""


def public_holders(letter: InvitationLetter) -> list[PublicHolder]:
    """What the verification page shows of the letter's people: names, nationality, the passport's last four."""
    return [PublicHolder(h.get("name", ""), h.get("name_native", ""), h.get("nationality", ""),
                         mask_passport(h.get("passport_number", ""))) for h in letter.holders]


def letter_kind(letter: InvitationLetter) -> str:
    if letter.buyer_id is None and letter.delegation_id is not None:
        return "delegation"
    return "member" if letter.delegation_id is not None else "buyer"


def issued_on(letter: InvitationLetter) -> date:
    return letter.issued_at.date()
