"""Lead retrieval: an exhibitor's staff scan visitors' badges at the booth and keep them as leads, with notes, a
rating and tags, and export them.

Who may see what (the rules live here, so the pages, the API and the exports show the same):

- a **buyer** (delegation members are buyers) who consented to be contacted (:attr:`Buyer.contact_consent`):
  name, company, country, e-mail, phone, job title and interests (product categories and what they seek);
- a buyer **without consent**: the name (and native name) and country only. The consent is read at every view,
  so a buyer who withdraws it disappears from the exhibitor's exports too;
- a **visitor, journalist, contractor** or **another exhibitor's staff member**: what is printed on the badge and
  anyone at the booth can read, name, company and country. Their registration's e-mail and phone are never shown:
  they gave no consent to exhibitors;
- the exhibitor's **own staff** and **organizer** badges are refused: they are not leads.

A lead is one exhibitor × one badge (unique): scanning the same badge again finds the lead instead of adding one,
also when two of the booth's phones scan it at the same moment. The code is verified as at the gate (signature,
current serial, badge active); the lead remembers who scanned it. Services flush and audit; views commit.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import Select, String, and_, cast, or_, select

from expo import audit, countries
from expo.auth.models import User
from expo.badges import codes, keys
from expo.badges.models import Badge, BadgeStatus, HolderKind
from expo.buyers.models import Buyer, buyer_categories
from expo.categories.models import ProductCategory
from expo.checkin.dashboard import to_local
from expo.checkin.models import Lead
from expo.checkin.services import insert_ignoring_conflict
from expo.db import utcnow
from expo.errors import ExpoError, Forbidden, NotFound
from expo.exhibitors.models import Exhibitor
from expo.extensions import db
from expo.venue.models import Expo

#: At most this many tags on a lead, each at most ``MAX_TAG`` characters.
MAX_TAGS = 20
MAX_TAG = 40
MAX_NOTES = 5000
#: Separators people type between tags: the comma, the full-width comma and the enumeration comma of Chinese,
#: the semicolon and the line break.
_TAG_SEPARATORS = re.compile(r"[,，、;；\n\r]+")


class LeadError(ExpoError):
    code = "lead"


#: Why a scanned code is not a lead, in words (the gate's reasons for the codes, and the lead's own).
REFUSALS = {
    "malformed": _l("This is not a badge code."),
    "bad_signature": _l("Invalid signature: a forged or damaged badge."),
    "unknown_key": _l("This badge was signed with a key this expo does not know."),
    "unknown_badge": _l("This badge is not one of this expo."),
    "revoked": _l("This badge was revoked (lost or replaced): ask for the current one."),
    "own_staff": _l("This is a badge of your own staff, not a lead."),
    "organizer": _l("This is an organizer's badge, not a lead."),
}


@dataclass(frozen=True)
class Capture:
    """The outcome of a scan at the booth: the lead, and whether this scan created it."""

    lead: Lead
    created: bool


@dataclass(frozen=True)
class LeadFilter:
    """The leads list's filters: at least ``rating`` stars, one tag, a country, a search text."""

    rating: int | None = None
    tag: str | None = None
    country: str | None = None
    q: str | None = None


@dataclass(frozen=True)
class LeadView:
    """A lead as its exhibitor may see it: contact details only with the buyer's consent (module docstring)."""

    id: int
    badge_id: int
    holder_kind: str
    name: str
    name_native: str
    company: str
    country: str
    contact_consent: bool
    email: str
    phone: str
    job_title: str
    interests: list[str]
    products_sought: str
    notes: str
    rating: int
    tags: list[str]
    created_at: datetime
    updated_at: datetime
    scanned_by: str = ""
    categories: list[int] = field(default_factory=list)

    @property
    def has_contact(self) -> bool:
        return self.contact_consent


# --- who scans ----------------------------------------------------------------------------------------------------

def exhibitor_of(user: User) -> Exhibitor:
    """The company an exhibitor account scans for; an account without one may not collect leads."""
    exhibitor = db.session.get(Exhibitor, user.exhibitor_id) if user.exhibitor_id else None
    if exhibitor is None:
        raise Forbidden(_l("Only an exhibitor's account collects leads."))
    return exhibitor


# --- scanning -----------------------------------------------------------------------------------------------------

def badge_for_code(expo: Expo, code_text: str, public_keys: dict | None = None) -> Badge:
    """The badge a scanned code stands for, verified as at the gate: signature, badge of this expo, active, and its
    current serial (an older code of a reissued badge is refused). Raises :class:`LeadError` with the reason."""
    try:
        claim = codes.verify(code_text, public_keys if public_keys is not None else keys.public_keys(expo))
    except codes.InvalidCode as exc:
        raise _refusal(exc.reason) from None
    badge = db.session.get(Badge, claim.badge_id)
    if badge is None or badge.expo_id != expo.id:
        raise _refusal("unknown_badge")
    if badge.status != BadgeStatus.ACTIVE or claim.serial != badge.serial:
        raise _refusal("revoked")
    return badge


def _refusal(reason: str) -> LeadError:
    return LeadError(REFUSALS.get(reason, REFUSALS["malformed"]), code=reason, status=422, field="code")


def capture(actor: User | None, expo: Expo, exhibitor: Exhibitor, code_text: str, *,
            public_keys: dict | None = None) -> Capture:
    """Scan ``code_text`` at ``exhibitor``'s booth: the existing lead for the badge, or a new one (audited)."""
    badge = badge_for_code(expo, code_text, public_keys)
    if badge.holder_kind == HolderKind.ORGANIZER:
        raise _refusal("organizer")
    if badge.holder_kind == HolderKind.EXHIBITOR_STAFF and badge.exhibitor_id == exhibitor.id:
        raise _refusal("own_staff")
    # One statement, race-safe: two phones of the booth scanning the same badge at once make one lead.
    inserted = insert_ignoring_conflict(Lead.__table__, dict(
        expo_id=expo.id, exhibitor_id=exhibitor.id, badge_id=badge.id, notes="", rating=0, tags=[],
        scanned_by_id=actor.id if actor is not None and actor.is_authenticated else None,
        created_at=utcnow(), updated_at=utcnow()), ["exhibitor_id", "badge_id"],
        returning=Lead.__table__.c.id).scalar() is not None
    lead = _lead_of(exhibitor, badge)
    if lead is None:  # pragma: no cover - the conflicting lead was rolled back by its own request; never seen
        raise LeadError(_l("The scan was not taken; scan the badge again."), status=409)
    if inserted:
        audit.record(actor, "lead_captured", lead, exhibitor_id=exhibitor.id, badge_id=badge.id,
                     holder_kind=badge.holder_kind)
    return Capture(lead, inserted)


def _lead_of(exhibitor: Exhibitor, badge: Badge) -> Lead | None:
    return db.session.scalar(select(Lead).where(Lead.exhibitor_id == exhibitor.id, Lead.badge_id == badge.id))


def lead_for(exhibitor: Exhibitor, lead_id: int) -> Lead:
    """One of the exhibitor's leads; another exhibitor's (or none) is "not found", so ids cannot be probed."""
    lead = db.session.get(Lead, lead_id)
    if lead is None or lead.exhibitor_id != exhibitor.id:
        raise NotFound(_l("There is no such lead."))
    return lead


# --- notes, rating, tags --------------------------------------------------------------------------------------------

def normalize_tags(value: str | Iterable[str] | None) -> list[str]:
    """Tags as typed (comma-separated text, or a list) → lower-case, blanks collapsed, each once, in the order given.

    Raises :class:`LeadError` for more than ``MAX_TAGS`` tags or a tag longer than ``MAX_TAG`` characters."""
    if value is None:
        return []
    parts = _TAG_SEPARATORS.split(value) if isinstance(value, str) else \
        [p for item in value for p in _TAG_SEPARATORS.split(str(item))]
    tags: list[str] = []
    for part in parts:
        tag = " ".join(part.split()).casefold()
        if not tag or tag in tags:
            continue
        if len(tag) > MAX_TAG:
            raise LeadError(_l("A tag has at most %(n)d characters.", n=MAX_TAG), field="tags", status=422)
        tags.append(tag)
    if len(tags) > MAX_TAGS:
        raise LeadError(_l("At most %(n)d tags.", n=MAX_TAGS), field="tags", status=422)
    return tags


def update_lead(actor: User | None, lead: Lead, *, notes: str | None = None, rating: int | None = None,
                tags: str | Iterable[str] | None = None) -> dict[str, list]:
    """Change what the exhibitor noted about a lead (``None``: leave as it is); audited. Returns the changes.

    ``rating`` is 1–5 stars, 0 for none."""
    values: dict[str, object] = {}
    if notes is not None:
        notes = notes.replace("\r\n", "\n").strip()
        if len(notes) > MAX_NOTES:
            raise LeadError(_l("At most %(n)d characters.", n=MAX_NOTES), field="notes", status=422)
        values["notes"] = notes
    if rating is not None:
        if isinstance(rating, bool) or not isinstance(rating, int) or not 0 <= rating <= 5:
            raise LeadError(_l("Rate from 1 to 5 stars (0 for none)."), field="rating", status=422)
        values["rating"] = rating
    if tags is not None:
        values["tags"] = normalize_tags(tags)
    changes = audit.diff(lead, values)
    if changes:
        db.session.flush()
        audit.record(actor, "lead_updated", lead, exhibitor_id=lead.exhibitor_id, **changes)
    return changes


# --- lists and exports ----------------------------------------------------------------------------------------------

def _consenting_buyer():
    """The condition under which a lead's contact details may be shown."""
    return and_(Badge.holder_kind == HolderKind.BUYER.value, Buyer.contact_consent.is_(True))


def _company_visible():
    """A buyer's company only with consent; anyone else's is printed on the badge."""
    return or_(Badge.holder_kind != HolderKind.BUYER.value, Buyer.contact_consent.is_(True))


def _like(text: str) -> str:
    return "%" + text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


def lead_query(exhibitor: Exhibitor, expo: Expo, flt: LeadFilter | None = None) -> Select:
    """``(Lead, Badge, Buyer | None)`` rows of the exhibitor's leads at ``expo``, newest first, filtered."""
    flt = flt or LeadFilter()
    stmt = (select(Lead, Badge, Buyer).join(Badge, Badge.id == Lead.badge_id)
            .outerjoin(Buyer, and_(Badge.holder_kind == HolderKind.BUYER.value, Buyer.id == Badge.holder_id))
            .where(Lead.exhibitor_id == exhibitor.id, Lead.expo_id == expo.id))
    if flt.rating:
        stmt = stmt.where(Lead.rating >= flt.rating)
    if flt.country:
        stmt = stmt.where(Badge.country == flt.country)
    if flt.tag:
        tags = normalize_tags(flt.tag)
        for tag in tags[:1]:
            # Tags are kept as a JSON list of strings; its text holds each tag exactly as json.dumps writes it
            # (quoted, non-ASCII escaped), the same on SQLite and PostgreSQL.
            stmt = stmt.where(cast(Lead.tags, String).like(_like(json.dumps(tag)), escape="\\"))
    if flt.q:
        pattern = _like(" ".join(flt.q.split()))
        # The company and e-mail of a buyer who did not consent are not searchable either: a search that finds them
        # would tell what the lead page hides.
        stmt = stmt.where(or_(Badge.name.ilike(pattern, escape="\\"), Badge.name_native.ilike(pattern, escape="\\"),
                              Lead.notes.ilike(pattern, escape="\\"),
                              and_(_company_visible(), Badge.company.ilike(pattern, escape="\\")),
                              and_(_consenting_buyer(), Buyer.email.ilike(pattern, escape="\\"))))
    return stmt.order_by(Lead.created_at.desc(), Lead.id.desc())


def countries_of(exhibitor: Exhibitor, expo: Expo) -> list[str]:
    """The countries of the exhibitor's leads (the list's country filter offers these)."""
    return sorted(c for c in db.session.scalars(
        select(Badge.country).join(Lead, Lead.badge_id == Badge.id)
        .where(Lead.exhibitor_id == exhibitor.id, Lead.expo_id == expo.id).distinct()) if c)


def views(rows: Iterable[tuple[Lead, Badge, Buyer | None]], locale: str = "en") -> list[LeadView]:
    """The rows as the exhibitor may see them, with the consenting buyers' interests in two queries."""
    rows = list(rows)
    consenting = [buyer.id for _lead, badge, buyer in rows if buyer is not None and buyer.contact_consent]
    interests: dict[int, list[tuple[int, str]]] = {}
    if consenting:
        for buyer_id, category in db.session.execute(
                select(buyer_categories.c.buyer_id, ProductCategory)
                .join(ProductCategory, ProductCategory.id == buyer_categories.c.category_id)
                .where(buyer_categories.c.buyer_id.in_(consenting))
                .order_by(ProductCategory.sort, ProductCategory.id)):
            name = (category.name_zh if locale == "zh" else category.name_en) or category.name_en or category.name_zh
            interests.setdefault(buyer_id, []).append((category.id, name))
    scanners = _scanner_names({lead.scanned_by_id for lead, _b, _u in rows if lead.scanned_by_id})
    return [view(lead, badge, buyer, interests.get(buyer.id, []) if buyer is not None else [],
                 scanners.get(lead.scanned_by_id or 0, "")) for lead, badge, buyer in rows]


def _scanner_names(ids: set[int]) -> dict[int, str]:
    if not ids:
        return {}
    return dict(db.session.execute(select(User.id, User.name).where(User.id.in_(ids))).all())


def view(lead: Lead, badge: Badge, buyer: Buyer | None, interests: list[tuple[int, str]] | None = None,
         scanned_by: str = "") -> LeadView:
    """One lead as its exhibitor may see it (see the module's docstring)."""
    consent = bool(buyer is not None and buyer.contact_consent)
    is_buyer = badge.holder_kind == HolderKind.BUYER
    company = (buyer.company or badge.company) if consent and buyer is not None else \
        "" if is_buyer else badge.company
    return LeadView(
        id=lead.id, badge_id=badge.id, holder_kind=badge.holder_kind, name=badge.name,
        name_native=badge.name_native, company=company, country=badge.country, contact_consent=consent,
        email=buyer.email if consent and buyer else "", phone=buyer.phone if consent and buyer else "",
        job_title=buyer.job_title if consent and buyer else "",
        interests=[name for _id, name in interests or []] if consent else [],
        categories=[cid for cid, _name in interests or []] if consent else [],
        products_sought=buyer.products_sought if consent and buyer else "",
        notes=lead.notes or "", rating=lead.rating or 0, tags=list(lead.tags or []), created_at=lead.created_at,
        updated_at=lead.updated_at, scanned_by=scanned_by)


def view_of(lead: Lead, locale: str = "en") -> LeadView:
    """One lead, read with its badge and buyer."""
    row = db.session.execute(select(Lead, Badge, Buyer).join(Badge, Badge.id == Lead.badge_id)
                             .outerjoin(Buyer, and_(Badge.holder_kind == HolderKind.BUYER.value,
                                                    Buyer.id == Badge.holder_id))
                             .where(Lead.id == lead.id)).one()
    return views([tuple(row)], locale)[0]


EXPORT_HEADERS = ("lead_id", "scanned_at", "kind", "name", "name_native", "company", "country", "country_name",
                  "contact_consent", "email", "phone", "job_title", "interests", "products_sought", "rating", "tags",
                  "notes", "scanned_by")


def export_rows(leads: Iterable[LeadView], locale: str = "en",
                kind_label=lambda kind: kind) -> Iterable[list]:
    """The leads as export rows, at venue time; the contact columns are empty for buyers who did not consent."""
    for lead in leads:
        yield [lead.id, to_local(lead.created_at).strftime("%Y-%m-%d %H:%M"), kind_label(lead.holder_kind), lead.name,
               lead.name_native, lead.company, lead.country, countries.name(lead.country, locale) if lead.country
               else "", "yes" if lead.contact_consent else "no", lead.email, lead.phone, lead.job_title,
               "; ".join(lead.interests), lead.products_sought, lead.rating or "", ", ".join(lead.tags), lead.notes,
               lead.scanned_by]
