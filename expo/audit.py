"""The audit log: who changed what and when. Services write entries; organizers read them per exhibitor."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import JSON, DateTime, ForeignKey, Index, Integer, String, select
from sqlalchemy.orm import Mapped, mapped_column, relationship

from expo.auth.models import User
from expo.db import utcnow
from expo.extensions import db

#: What each action code means, for people reading the log; the code itself stays beside it (and in exports).
ACTION_LABELS = {
    "registered": _l("Registered"),
    "profile_updated": _l("Profile changed"),
    "application_updated": _l("Application changed"),
    "application_submit": _l("Application submitted"),
    "application_withdraw": _l("Application withdrawn"),
    "application_reopen": _l("Application reopened"),
    "application_approved": _l("Application approved"),
    "application_waitlisted": _l("Application waitlisted"),
    "application_rejected": _l("Application rejected"),
    "staff_added": _l("Staff member added"),
    "staff_updated": _l("Staff member changed"),
    "staff_removed": _l("Staff member removed"),
    "password_reset": _l("Password reset"),
    "api_token_created": _l("API token created"),
    "api_token_revoked": _l("API token revoked"),
    "category_created": _l("Product category created"),
    "category_updated": _l("Product category changed"),
    "hall_updated": _l("Hall changed"),
    "pavilion_created": _l("Pavilion created"),
    "pavilion_updated": _l("Pavilion changed"),
    "area_updated": _l("Exhibition area changed"),
    "booths_imported": _l("Booths imported"),
    "booths_generated": _l("Booths generated"),
    "allocation_proposed": _l("Allocation proposal computed"),
    "allocation_applied": _l("Allocation proposal applied"),
    "allocation_discarded": _l("Allocation proposal discarded"),
    "allocation_rule_changed": _l("Allocation priority rule changed"),
    "booth_assigned": _l("Booth assigned"),
    "booth_held": _l("Booth held"),
    "booth_vacated": _l("Booth vacated"),
    "booth_moved": _l("Booth moved"),
    "booths_swapped": _l("Booths swapped"),
    "stand_merged": _l("Booths merged into one stand"),
    "booth_blocked": _l("Booth blocked (not for sale)"),
    "booth_unblocked": _l("Booth back on sale"),
    "allocation_settings_changed": _l("Allocation settings changed"),
    "payment_status_set": _l("Payment status set"),
    "passport_read": _l("Passport data read"),
    "buyer_registered": _l("Buyer registered"),
    "buyer_invited": _l("Buyer invited"),
    "buyer_invitation_resent": _l("Buyer invitation sent again"),
    "buyer_invitation_accepted": _l("Buyer invitation accepted"),
    "buyer_profile_updated": _l("Buyer profile changed"),
    "hosted_applied": _l("Applied to the hosted-buyer programme"),
    "hosted_withdrawn": _l("Hosted-buyer application withdrawn"),
    "hosted_approved": _l("Hosted buyer approved"),
    "hosted_declined": _l("Hosted buyer declined"),
    "badge_issued": _l("Badge issued"),
    "badge_reissued": _l("Badge revoked and reissued"),
    "badge_revoked": _l("Badge revoked"),
    "badge_reprinted": _l("Badge printed again"),
    "badge_type_created": _l("Badge type created"),
    "badge_type_updated": _l("Badge type changed"),
    "visitor_registered": _l("Visitor registered"),
    "delegation_created": _l("Delegation created"),
    "delegation_updated": _l("Delegation changed"),
    "delegation_leader_assigned": _l("Delegation leader assigned"),
    "leader_account_created": _l("Delegation leader account created"),
    "delegation_member_added": _l("Delegation member added"),
    "delegation_member_updated": _l("Delegation member changed"),
    "delegation_member_removed": _l("Delegation member removed"),
    "delegation_members_exported": _l("Delegation members exported with passport data"),
    "letter_issued": _l("Invitation letter issued"),
    "letter_revoked": _l("Invitation letter revoked"),
    "letter_downloaded": _l("Invitation letter downloaded"),
    "buyers_imported": _l("Buyers imported"),
    "members_imported": _l("Delegation members imported"),
    "buyers_exported_with_passports": _l("Buyers exported with passport data"),
    "members_exported_for_import": _l("Delegation members exported with passport data (import format)"),
    "checkpoint_created": _l("Checkpoint created"),
    "checkpoint_updated": _l("Checkpoint changed"),
    "lead_captured": _l("Lead scanned at the booth"),
    "lead_updated": _l("Lead notes, rating or tags changed"),
    "leads_exported": _l("Leads exported"),
    "meeting_requested": _l("Meeting requested"),
    "meeting_accepted": _l("Meeting request accepted"),
    "meeting_declined": _l("Meeting request declined"),
    "meeting_cancelled": _l("Meeting cancelled"),
    "meetings_exported": _l("Meetings exported"),
    "meeting_placed": _l("Meeting scheduled by hand"),
    "meeting_moved": _l("Meeting moved"),
    "meeting_unscheduled": _l("Meeting unscheduled"),
    "meeting_pinned": _l("Meeting pinned"),
    "meeting_unpinned": _l("Meeting unpinned"),
    "docking_scheduled": _l("Meetings scheduled automatically"),
    "docking_session_created": _l("Docking session created"),
    "docking_session_changed": _l("Docking session changed"),
    "docking_session_deleted": _l("Docking session deleted"),
    "busy_period_added": _l("Busy period added"),
    "busy_period_removed": _l("Busy period removed"),
    "docking_outcome_recorded": _l("Meeting outcome recorded"),
    "need_created": _l("Purchase need published"),
    "need_updated": _l("Purchase need changed"),
    "need_deactivated": _l("Purchase need withdrawn"),
    "need_reactivated": _l("Purchase need published again"),
    "needs_exported": _l("Purchase needs exported"),
    "offer_created": _l("Offer published"),
    "offer_updated": _l("Offer changed"),
    "offer_deactivated": _l("Offer withdrawn"),
    "offer_reactivated": _l("Offer published again"),
    "offers_exported": _l("Offers exported"),
}


def action_label(action: str) -> str:
    return str(ACTION_LABELS.get(action, action))


class AuditEntry(db.Model):
    __tablename__ = "audit_entries"
    __table_args__ = (Index("ix_audit_entries_object", "object_type", "object_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, index=True)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    action: Mapped[str] = mapped_column(String(50))
    object_type: Mapped[str] = mapped_column(String(50))
    object_id: Mapped[int | None] = mapped_column(Integer)
    exhibitor_id: Mapped[int | None] = mapped_column(ForeignKey("exhibitors.id", ondelete="CASCADE"), index=True)
    changes: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)

    actor: Mapped[User | None] = relationship()


def record(actor: User | None, action: str, obj: Any, *, exhibitor_id: int | None = None, **changes: Any) -> AuditEntry:
    """Add an audit entry for ``action`` on ``obj``; ``changes`` maps a field to ``[old, new]`` or holds details."""
    entry = AuditEntry(
        actor_id=actor.id if actor is not None and actor.is_authenticated else None,
        action=action,
        object_type=type(obj).__name__,
        object_id=getattr(obj, "id", None),
        exhibitor_id=exhibitor_id,
        changes={k: _jsonable(v) for k, v in changes.items()},
    )
    db.session.add(entry)
    return entry


def diff(obj: Any, new_values: dict[str, Any]) -> dict[str, list[Any]]:
    """Set ``new_values`` on ``obj`` and return the fields that changed as ``{field: [old, new]}``."""
    changed: dict[str, list[Any]] = {}
    for key, new in new_values.items():
        old = getattr(obj, key)
        if old != new:
            changed[key] = [_jsonable(old), _jsonable(new)]
            setattr(obj, key, new)
    return changed


def for_exhibitor(exhibitor_id: int, limit: int = 200) -> list[AuditEntry]:
    return list(
        db.session.scalars(
            select(AuditEntry)
            .where(AuditEntry.exhibitor_id == exhibitor_id)
            .order_by(AuditEntry.at.desc(), AuditEntry.id.desc())
            .limit(limit)
        )
    )


def _jsonable(value: Any) -> Any:
    if value is None or isinstance(value, str | int | float | bool):
        return value
    if isinstance(value, list | tuple | set):
        return [_jsonable(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, bytes):
        return f"<{len(value)} bytes>"
    return str(value)
