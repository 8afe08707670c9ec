"""Who may see which buyer, delegation and passport: one place for pages, API, imports and letters alike.

The organizer (admin and staff) sees every buyer and delegation of the expo. A delegation leader sees the
delegations they lead and those delegations' members, nothing else. A buyer sees themselves. Anyone else, and
anything of another expo, is "not found" (404), so that ids cannot be probed.

Passport data is read through :func:`read_passports` only: it writes an audit entry naming who read whose passport
data and why, before returning it.
"""

from __future__ import annotations

from collections.abc import Iterable

from flask import abort
from sqlalchemy import insert, select

from expo import audit
from expo.auth.models import User
from expo.buyers.models import Buyer, Delegation, Passport
from expo.db import utcnow
from expo.extensions import db
from expo.venue.models import Expo


def led_delegations(user: User, expo: Expo) -> list[Delegation]:
    """The delegations of ``expo`` that ``user`` leads, oldest first."""
    return list(db.session.scalars(select(Delegation).where(
        Delegation.expo_id == expo.id, Delegation.leader_user_id == user.id).order_by(Delegation.id)))


def may_manage_delegation(user: User, delegation: Delegation) -> bool:
    return user.is_authenticated and (user.is_organizer or delegation.leader_user_id == user.id)


def delegation_for(user: User, expo: Expo, delegation_id: int) -> Delegation:
    """The delegation, if ``user`` may see and manage it (the organizer, or its leader); else 404."""
    delegation = db.session.get(Delegation, delegation_id)
    if delegation is None or delegation.expo_id != expo.id or not may_manage_delegation(user, delegation):
        abort(404)
    return delegation


def may_see_buyer(user: User, buyer: Buyer) -> bool:
    """The organizer, the buyer themselves, or the leader of the buyer's delegation."""
    if not user.is_authenticated:
        return False
    if user.is_organizer or (buyer.user_id is not None and buyer.user_id == user.id):
        return True
    return buyer.delegation is not None and buyer.delegation.leader_user_id == user.id


def buyer_for(user: User, expo: Expo, buyer_id: int) -> Buyer:
    """The buyer, if ``user`` may see it (:func:`may_see_buyer`); else 404."""
    buyer = db.session.get(Buyer, buyer_id)
    if buyer is None or buyer.expo_id != expo.id or not may_see_buyer(user, buyer):
        abort(404)
    return buyer


def member_for(user: User, delegation: Delegation, buyer_id: int) -> Buyer:
    """A member of ``delegation`` (already checked with :func:`delegation_for`); 404 for anyone else's."""
    buyer = db.session.get(Buyer, buyer_id)
    if buyer is None or buyer.delegation_id != delegation.id:
        abort(404)
    return buyer


def read_passports(actor: User | None, buyers: Iterable[Buyer], purpose: str) -> dict[int, Passport]:
    """Buyer id → passport data of ``buyers`` (those that have any), with one audit entry per buyer read.

    ``purpose`` says why (``"member_page"``, ``"visa_letter"``, ``"export"``, ``"api"`` ...); it goes into the
    entry. The caller has checked that ``actor`` may see these buyers. The caller commits (a read of a page still
    commits its audit entries: views call ``db.session.commit()`` after reading).
    """
    buyers = list(buyers)
    if not buyers:
        return {}
    ids = [b.id for b in buyers]
    found: dict[int, Passport] = {}
    for chunk_start in range(0, len(ids), 500):
        chunk = ids[chunk_start:chunk_start + 500]
        for passport in db.session.scalars(select(Passport).where(Passport.buyer_id.in_(chunk))):
            found[passport.buyer_id] = passport
    # One entry per buyer read, written in one statement (an export or a letter batch reads thousands).
    actor_id = actor.id if actor is not None and actor.is_authenticated else None
    now = utcnow()
    rows = [dict(at=now, actor_id=actor_id, action="passport_read", object_type="Buyer", object_id=buyer.id,
                 exhibitor_id=None, changes={"purpose": purpose, "delegation_id": buyer.delegation_id})
            for buyer in buyers if buyer.id in found]
    if rows:
        db.session.execute(insert(audit.AuditEntry), rows)
    return found
