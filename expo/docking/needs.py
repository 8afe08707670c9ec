"""Buyers' purchase needs and exhibitors' offers: who may publish, read and change which, and the rules they keep.

Who owns what (the pages and the API ask here, so both show the same):

- a **buyer** publishes needs for themself (``buyer_id``); a **delegation leader** for a delegation they lead
  (``delegation_id``, no buyer); the **organizer** (admin, staff) for either, and sees every need of the expo;
- an **exhibitor's account** publishes offers for its company; the organizer for any exhibitor.

Anyone else's need or offer, or one of another expo, is "not found" (404), so ids cannot be probed. Needs and offers
are deactivated, never deleted: meetings and reports keep pointing at them. Services flush and audit; views commit.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import Select, and_, or_, select

from expo import audit, countries
from expo.auth.models import User
from expo.buyers import regions
from expo.buyers.access import led_delegations
from expo.buyers.models import Buyer, Delegation
from expo.buyers.services import buyer_of
from expo.categories.models import ProductCategory
from expo.categories.tree import with_descendants
from expo.docking.models import BuyerNeed, ExhibitorOffer, PriceBand
from expo.errors import ExpoError, Forbidden, NotFound
from expo.exhibitors.models import Exhibitor
from expo.extensions import db
from expo.venue.models import Expo

#: Caps that keep numbers sane: a need or an offer of more pairs than this is a typing error.
MAX_PAIRS = 100_000_000
MAX_MARKETS = 40
MAX_CERTIFICATIONS = 12
MAX_CERTIFICATION = 60
MAX_TITLE = 200
MAX_DESCRIPTION = 5000
#: Separators people type between certifications: commas (also full-width and the enumeration comma), semicolons,
#: line breaks.
_LIST_SEPARATORS = re.compile(r"[,，、;；\n\r]+")

NEED_FIELDS = ("category_id", "title", "quantity_pairs", "price_band", "delivery_from", "delivery_until", "markets",
               "description")
OFFER_FIELDS = ("category_id", "products", "min_order_pairs", "monthly_capacity_pairs", "price_band", "oem", "odm",
                "certifications", "markets", "description")


class NeedError(ExpoError):
    """A need or an offer breaks a rule (the message says which; ``field`` names the field)."""

    status = 422
    code = "invalid"


# --- who is who -------------------------------------------------------------------------------------------------------

def exhibitor_of(user: User) -> Exhibitor:
    """The company an exhibitor account publishes offers for."""
    exhibitor = db.session.get(Exhibitor, user.exhibitor_id) if user.exhibitor_id else None
    if exhibitor is None:
        raise Forbidden(_l("Only an exhibitor's account publishes offers."))
    return exhibitor


def may_see_need(user: User, need: BuyerNeed) -> bool:
    """The organizer, the buyer whose need it is, or the leader of the delegation whose need it is."""
    if not user.is_authenticated:
        return False
    if user.is_organizer:
        return True
    if need.buyer_id is not None:
        return need.buyer is not None and need.buyer.user_id == user.id
    return need.delegation is not None and need.delegation.leader_user_id == user.id


def need_for(user: User, expo: Expo, need_id: int) -> BuyerNeed:
    """The need, if ``user`` may see and change it (:func:`may_see_need`); else :class:`NotFound`."""
    need = db.session.get(BuyerNeed, need_id)
    if need is None or need.expo_id != expo.id or not may_see_need(user, need):
        raise NotFound(_l("There is no such purchase need."))
    return need


def offer_for(user: User, expo: Expo, offer_id: int) -> ExhibitorOffer:
    """The offer, if ``user`` is the organizer or signs in for its exhibitor; else :class:`NotFound`."""
    offer = db.session.get(ExhibitorOffer, offer_id)
    if offer is None or offer.expo_id != expo.id or not (
            user.is_authenticated and (user.is_organizer or (user.exhibitor_id is not None
                                                             and user.exhibitor_id == offer.exhibitor_id))):
        raise NotFound(_l("There is no such offer."))
    return offer


def needs_visible_to(user: User, expo: Expo) -> Select:
    """The needs ``user`` may see, newest first: all of the expo for the organizer, else their own and their
    delegations'."""
    stmt = select(BuyerNeed).where(BuyerNeed.expo_id == expo.id)
    if not user.is_organizer:
        own = [b for b in [buyer_of(user, expo)] if b is not None]
        delegations = [d.id for d in led_delegations(user, expo)]
        stmt = stmt.where(or_(BuyerNeed.buyer_id.in_([b.id for b in own]),
                              BuyerNeed.delegation_id.in_(delegations)))
    return stmt.order_by(BuyerNeed.active.desc(), BuyerNeed.id.desc())


def offers_visible_to(user: User, expo: Expo) -> Select:
    """The offers ``user`` may see, newest first: all of the expo for the organizer, else their exhibitor's."""
    stmt = select(ExhibitorOffer).where(ExhibitorOffer.expo_id == expo.id)
    if not user.is_organizer:
        stmt = stmt.where(ExhibitorOffer.exhibitor_id == (user.exhibitor_id or 0))
    return stmt.order_by(ExhibitorOffer.active.desc(), ExhibitorOffer.id.desc())


# --- validation -------------------------------------------------------------------------------------------------------

def _refuse(message, field: str) -> NeedError:
    return NeedError(message, field=field)


def known_market(code: str) -> bool:
    """A country or region code (ISO 3166-1 alpha-2) or a world region (UN M49, :mod:`expo.buyers.regions`)."""
    return code in countries.codes() or code in regions.REGIONS


def normalize_markets(value: str | Iterable[str] | None) -> list[str]:
    """Market codes as typed or chosen → upper-case, each once, in the order given; unknown codes are refused."""
    if value is None:
        return []
    parts = _LIST_SEPARATORS.split(value) if isinstance(value, str) else [str(v) for v in value]
    markets: list[str] = []
    for part in parts:
        code = part.strip().upper()
        if not code or code in markets:
            continue
        if not known_market(code):
            raise _refuse(_l("%(code)s is not a known country, region or world region code.", code=code[:20]),
                          "markets")
        markets.append(code)
    if len(markets) > MAX_MARKETS:
        raise _refuse(_l("At most %(n)d markets.", n=MAX_MARKETS), "markets")
    return markets


def normalize_certifications(value: str | Iterable[str] | None) -> list[str]:
    """Certifications as typed (comma-separated, or a list) → blanks collapsed, each once, in the order given."""
    if value is None:
        return []
    parts = _LIST_SEPARATORS.split(value) if isinstance(value, str) else \
        [p for item in value for p in _LIST_SEPARATORS.split(str(item))]
    found: list[str] = []
    for part in parts:
        cert = " ".join(part.split())
        if not cert or cert.casefold() in {c.casefold() for c in found}:
            continue
        if len(cert) > MAX_CERTIFICATION:
            raise _refuse(_l("A certification has at most %(n)d characters.", n=MAX_CERTIFICATION), "certifications")
        found.append(cert)
    if len(found) > MAX_CERTIFICATIONS:
        raise _refuse(_l("At most %(n)d certifications.", n=MAX_CERTIFICATIONS), "certifications")
    return found


def _category(category_id: Any) -> int:
    category = db.session.get(ProductCategory, category_id) if isinstance(category_id, int) else None
    if category is None or not category.active:
        raise _refuse(_l("Choose a product category from the list."), "category_id")
    return category.id


def _pairs(value: Any, field: str) -> int:
    if value is None or value == "":
        return 0
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= MAX_PAIRS:
        raise _refuse(_l("Give a number of pairs from 0 to %(max)s.", max=f"{MAX_PAIRS:,}"), field)
    return value


def _price_band(value: Any) -> str:
    value = value or ""
    if value and value not in {b.value for b in PriceBand}:
        raise _refuse(_l("Choose a price band from the list."), "price_band")
    return value


def _text(value: Any, field: str, limit: int, *, required: bool = False) -> str:
    text = " ".join(str(value or "").split()) if field != "description" else \
        str(value or "").replace("\r\n", "\n").strip()
    if required and not text:
        raise _refuse(_l("This field is required."), field)
    if len(text) > limit:
        raise _refuse(_l("At most %(n)d characters.", n=limit), field)
    return text


def clean_need(values: dict[str, Any]) -> dict[str, Any]:
    """A need's fields, checked and normalized (see the module's docstring); raises :class:`NeedError`."""
    out = {"category_id": _category(values.get("category_id")),
           "title": _text(values.get("title"), "title", MAX_TITLE, required=True),
           "quantity_pairs": _pairs(values.get("quantity_pairs"), "quantity_pairs"),
           "price_band": _price_band(values.get("price_band")),
           "delivery_from": values.get("delivery_from"), "delivery_until": values.get("delivery_until"),
           "markets": normalize_markets(values.get("markets")),
           "description": _text(values.get("description"), "description", MAX_DESCRIPTION)}
    for key in ("delivery_from", "delivery_until"):
        if out[key] is not None and not isinstance(out[key], date):
            raise _refuse(_l("Not a valid date value."), key)
    if out["delivery_from"] and out["delivery_until"] and out["delivery_from"] > out["delivery_until"]:
        raise _refuse(_l("The delivery window ends before it starts."), "delivery_until")
    return out


def clean_offer(values: dict[str, Any]) -> dict[str, Any]:
    """An offer's fields, checked and normalized; raises :class:`NeedError`."""
    out = {"category_id": _category(values.get("category_id")),
           "products": _text(values.get("products"), "products", MAX_TITLE, required=True),
           "min_order_pairs": _pairs(values.get("min_order_pairs"), "min_order_pairs"),
           "monthly_capacity_pairs": _pairs(values.get("monthly_capacity_pairs"), "monthly_capacity_pairs"),
           "price_band": _price_band(values.get("price_band")),
           "oem": bool(values.get("oem")), "odm": bool(values.get("odm")),
           "certifications": normalize_certifications(values.get("certifications")),
           "markets": normalize_markets(values.get("markets")),
           "description": _text(values.get("description"), "description", MAX_DESCRIPTION)}
    # A minimum order above the monthly capacity is allowed: such an order is made over several months.
    return out


# --- needs ------------------------------------------------------------------------------------------------------------

def _owner_check(actor: User, buyer: Buyer | None, delegation: Delegation | None, expo: Expo) -> None:
    if (buyer is None) == (delegation is None):
        raise NeedError(_l("A need belongs to one buyer or to one delegation."), code="owner")
    owner = buyer if buyer is not None else delegation
    if owner is None or owner.expo_id != expo.id:
        raise NotFound(_l("There is no such buyer or delegation."))
    if actor.is_organizer:
        return
    if buyer is not None and buyer.user_id == actor.id:
        return
    if delegation is not None and delegation.leader_user_id == actor.id:
        return
    raise NotFound(_l("There is no such buyer or delegation."))


def create_need(actor: User, expo: Expo, values: dict[str, Any], *, buyer: Buyer | None = None,
                delegation: Delegation | None = None) -> BuyerNeed:
    """Publish a purchase need for ``buyer`` or for ``delegation`` (exactly one), checked and audited."""
    _owner_check(actor, buyer, delegation, expo)
    clean = clean_need(values)
    need = BuyerNeed(expo_id=expo.id, buyer_id=buyer.id if buyer else None,
                     delegation_id=delegation.id if delegation else None, active=True, **clean)
    db.session.add(need)
    db.session.flush()
    audit.record(actor, "need_created", need, category_id=need.category_id, buyer_id=need.buyer_id,
                 delegation_id=need.delegation_id)
    return need


def update_need(actor: User, need: BuyerNeed, values: dict[str, Any]) -> dict[str, list]:
    """Change a need (the caller found it with :func:`need_for`); the fields not in ``values`` stay. Audited."""
    return _update(actor, need, values)


def set_need_active(actor: User, need: BuyerNeed, active: bool) -> bool:
    """Deactivate (or reactivate) a need; an inactive need is kept but no longer recommended. True if it changed."""
    return set_active(actor, need, active)


def _kind(row: BuyerNeed | ExhibitorOffer) -> tuple[str, tuple[str, ...], Any]:
    return ("need", NEED_FIELDS, clean_need) if isinstance(row, BuyerNeed) else ("offer", OFFER_FIELDS, clean_offer)


def _update(actor: User, row: BuyerNeed | ExhibitorOffer, values: dict[str, Any]) -> dict[str, list]:
    kind, fields, clean = _kind(row)
    merged = {k: values[k] if k in values else getattr(row, k) for k in fields}
    changes = audit.diff(row, clean(merged))
    if changes:
        db.session.flush()
        audit.record(actor, f"{kind}_updated", row, exhibitor_id=getattr(row, "exhibitor_id", None), **changes)
    return changes


def set_active(actor: User, row: BuyerNeed | ExhibitorOffer, active: bool) -> bool:
    """Deactivate (or reactivate) a need or an offer: kept, but recommended only while active. True if it changed."""
    if row.active == active:
        return False
    row.active = active
    db.session.flush()
    kind = _kind(row)[0]
    audit.record(actor, f"{kind}_reactivated" if active else f"{kind}_deactivated", row,
                 exhibitor_id=getattr(row, "exhibitor_id", None))
    return True


# --- offers -----------------------------------------------------------------------------------------------------------

def create_offer(actor: User, expo: Expo, exhibitor: Exhibitor, values: dict[str, Any]) -> ExhibitorOffer:
    """Publish an offer for ``exhibitor`` (its own account, or the organizer), checked and audited."""
    if not actor.is_organizer and actor.exhibitor_id != exhibitor.id:
        raise NotFound(_l("There is no such exhibitor."))
    clean = clean_offer(values)
    offer = ExhibitorOffer(expo_id=expo.id, exhibitor_id=exhibitor.id, active=True, **clean)
    db.session.add(offer)
    db.session.flush()
    audit.record(actor, "offer_created", offer, exhibitor_id=exhibitor.id, category_id=offer.category_id)
    return offer


def update_offer(actor: User, offer: ExhibitorOffer, values: dict[str, Any]) -> dict[str, list]:
    """Change an offer (found with :func:`offer_for`); the fields not in ``values`` stay. Audited."""
    return _update(actor, offer, values)


def set_offer_active(actor: User, offer: ExhibitorOffer, active: bool) -> bool:
    """Deactivate (or reactivate) an offer. True if it changed."""
    return set_active(actor, offer, active)


# --- the organizer's lists --------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class ListFilter:
    """The organizer's lists' filters: a category (with its subcategories), a country, active only."""

    category_id: int | None = None
    country: str | None = None
    active_only: bool = False


def need_list(expo: Expo, flt: ListFilter) -> Select:
    """``(BuyerNeed, Buyer | None, Delegation | None)`` rows of the expo, filtered, newest first. A need's country is
    its buyer's, or its delegation's."""
    stmt = (select(BuyerNeed, Buyer, Delegation).outerjoin(Buyer, Buyer.id == BuyerNeed.buyer_id)
            .outerjoin(Delegation, Delegation.id == BuyerNeed.delegation_id).where(BuyerNeed.expo_id == expo.id))
    if flt.category_id:
        stmt = stmt.where(BuyerNeed.category_id.in_(with_descendants(flt.category_id)))
    if flt.country:
        stmt = stmt.where(or_(Buyer.country == flt.country,
                              and_(BuyerNeed.buyer_id.is_(None), Delegation.country == flt.country)))
    if flt.active_only:
        stmt = stmt.where(BuyerNeed.active.is_(True))
    return stmt.order_by(BuyerNeed.id.desc())


def offer_list(expo: Expo, flt: ListFilter) -> Select:
    """``(ExhibitorOffer, Exhibitor)`` rows of the expo, filtered, newest first."""
    stmt = (select(ExhibitorOffer, Exhibitor).join(Exhibitor, Exhibitor.id == ExhibitorOffer.exhibitor_id)
            .where(ExhibitorOffer.expo_id == expo.id))
    if flt.category_id:
        stmt = stmt.where(ExhibitorOffer.category_id.in_(with_descendants(flt.category_id)))
    if flt.country:
        stmt = stmt.where(Exhibitor.country == flt.country)
    if flt.active_only:
        stmt = stmt.where(ExhibitorOffer.active.is_(True))
    return stmt.order_by(ExhibitorOffer.id.desc())


NEED_EXPORT_HEADERS = ("need_id", "active", "owner", "company", "country", "category", "title", "quantity_pairs",
                       "price_band", "delivery_from", "delivery_until", "markets", "description")
OFFER_EXPORT_HEADERS = ("offer_id", "active", "exhibitor", "country", "category", "products", "min_order_pairs",
                        "monthly_capacity_pairs", "price_band", "oem", "odm", "certifications", "markets",
                        "description")


def _category_name(category: ProductCategory, locale: str) -> str:
    return (category.name_zh if locale == "zh" else category.name_en) or category.name_en or category.name_zh


def need_export_rows(rows: Iterable[tuple[BuyerNeed, Buyer | None, Delegation | None]],
                     locale: str = "en") -> Iterable[list]:
    for need, buyer, delegation in rows:
        owner = buyer.name if buyer is not None else delegation.name if delegation is not None else ""
        country = buyer.country if buyer is not None else delegation.country if delegation is not None else ""
        yield [need.id, "yes" if need.active else "no", owner, buyer.company if buyer is not None else "", country,
               _category_name(need.category, locale), need.title, need.quantity_pairs, need.price_band,
               need.delivery_from.isoformat() if need.delivery_from else "",
               need.delivery_until.isoformat() if need.delivery_until else "", " ".join(need.markets or []),
               need.description]


def offer_export_rows(rows: Iterable[tuple[ExhibitorOffer, Exhibitor]], locale: str = "en") -> Iterable[list]:
    for offer, exhibitor in rows:
        yield [offer.id, "yes" if offer.active else "no", exhibitor.display_name(locale), exhibitor.country,
               _category_name(offer.category, locale), offer.products, offer.min_order_pairs,
               offer.monthly_capacity_pairs, offer.price_band, "yes" if offer.oem else "no",
               "yes" if offer.odm else "no", ", ".join(offer.certifications or []), " ".join(offer.markets or []),
               offer.description]
