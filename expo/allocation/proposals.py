"""Proposals of the automatic allocation: compute one, apply it in one transaction, or discard it.

:func:`propose` reads the free booths and the approved applications that still need space, ranks them by the expo's
priority rule (:mod:`expo.allocation.rules`), runs the solver (:mod:`expo.allocation.auto`) and keeps the outcome
as an :class:`~expo.venue.models.AllocationProposal` for the organizer to review: who gets which booths and why, who
gets nothing and why, and what it adds to today's assignments. Its ``basis`` fingerprints every booth's state, so
a proposal computed before a booth changed hands is refused at :func:`apply` (409) instead of half-fitting.

:func:`apply` goes through :func:`expo.allocation.services.assign` (the guarded write against double booking) for
every block and waitlists the applications left without a booth; if any one step fails, the caller rolls back and
nothing of it is kept. Services flush; views and commands commit.
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from collections.abc import Callable
from typing import Any

from flask_babel import force_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select, update

from expo import audit
from expo.allocation import auto, rules
from expo.allocation.services import AllocationError, assign
from expo.auth.models import User
from expo.categories.models import ProductCategory, exhibitor_categories
from expo.db import utcnow
from expo.exhibitors import services as exhibitor_services
from expo.exhibitors.models import ApplicationStatus, Exhibitor, SpaceApplication
from expo.extensions import db
from expo.venue.geometry import Rect
from expo.venue.models import AllocationProposal, Booth, BoothStatus, Expo, Pavilion, pavilion_categories


class ProposalError(AllocationError):
    code = "proposal"


#: Called between the staleness check and the first assignment of :func:`apply` (tests take a booth there).
_after_basis_check: Callable[[], None] | None = None

REASONS = {
    "no_free_booths": _l("No free booth left in its preferred pavilion, the pavilions of its product categories or "
                         "its preferred exhibition area."),
    "no_block": _l("No %(booths)d free booths side by side in its preferred pavilion, the pavilions of its product "
                   "categories or its preferred exhibition area."),
    "no_corner": _l("No free block with a corner booth, which it requires."),
    "competitor": _l("Every free block that fits stands next to or faces a declared competitor."),
    "no_raw_space": _l("Not %(m2)s m² of free raw space in one lot or adjacent lots."),
}

TIERS = {
    "own": _l("Next to its booths"),
    "pavilion": _l("Its preferred pavilion"),
    "theme": _l("A pavilion of its product categories"),
    "area": _l("Its preferred exhibition area"),
    "anywhere": _l("Where there was room"),
}

CRITERIA = {
    "years": _l("Years exhibited"),
    "booths": _l("Booths requested"),
    "submitted": _l("Submitted early"),
    "paid": _l("Paid"),
    "bonus": _l("Organizer bonus"),
}


def reason_text(row: dict[str, Any]) -> str:
    """The unmet row's reason in the current language."""
    template = REASONS.get(row.get("reason", ""))
    if template is None:
        return row.get("reason", "")
    return str(template) % {"booths": row.get("booths", 0), "m2": f"{row.get('raw_m2', 0):g}"}


def fingerprint(expo: Expo) -> str:
    """sha256 of every booth's state (status, holder) in the expo: changes when any booth changes hands."""
    digest = hashlib.sha256()
    rows = db.session.execute(select(Booth.id, Booth.status, Booth.exhibitor_id)
                              .where(Booth.expo_id == expo.id).order_by(Booth.id))
    for booth_id, status, holder in rows:
        digest.update(f"{booth_id}:{status}:{holder or ''}\n".encode())
    return digest.hexdigest()


def _problem(expo: Expo) -> tuple[auto.Problem, dict[int, dict[str, Any]], dict[int, list[str]]]:
    """The solver's input from the database; also application id → what the proposal shows about it, and exhibitor
    id → booth numbers it holds today."""
    rule = rules.effective(expo.allocation_rule)
    booths, held_by = [], defaultdict(list)
    standard_held: dict[int, int] = defaultdict(int)
    raw_held: dict[int, float] = defaultdict(float)
    for b in db.session.execute(select(Booth.id, Booth.number, Booth.hall_id, Booth.pavilion_id, Booth.x_m, Booth.y_m,
                                       Booth.width_m, Booth.depth_m, Booth.raw_space, Booth.kind, Booth.open_sides,
                                       Booth.status, Booth.exhibitor_id).where(Booth.expo_id == expo.id).order_by(Booth.id)):
        holder = b.exhibitor_id if b.status in (BoothStatus.ASSIGNED, BoothStatus.HELD) else None
        booths.append(auto.BoothIn(b.id, b.number, b.hall_id, b.pavilion_id, Rect(b.x_m, b.y_m, b.width_m, b.depth_m),
                                   b.raw_space, b.kind, b.open_sides, holder, b.status == BoothStatus.AVAILABLE))
        if holder is not None:
            held_by[holder].append(b.number)
            if b.raw_space:
                raw_held[holder] += b.width_m * b.depth_m
            else:
                standard_held[holder] += 1
    pav_cats: dict[int, set[int]] = defaultdict(set)
    for pavilion_id, category_id in db.session.execute(select(pavilion_categories.c.pavilion_id,
                                                              pavilion_categories.c.category_id)):
        pav_cats[pavilion_id].add(category_id)
    pavilions = [auto.PavilionIn(p.id, p.area_id, frozenset(pav_cats[p.id]))
                 for p in db.session.scalars(select(Pavilion).where(Pavilion.expo_id == expo.id).order_by(Pavilion.id))]

    rows = db.session.execute(
        select(SpaceApplication, Exhibitor.name_zh, Exhibitor.name_en)
        .join(Exhibitor, Exhibitor.id == SpaceApplication.exhibitor_id)
        .where(SpaceApplication.expo_id == expo.id).order_by(SpaceApplication.id)).all()
    # A pavilion of "athletic" shoes suits a maker of running shoes ("athletic.running"): an exhibitor's categories
    # count with their parents.
    parents = dict(db.session.execute(select(ProductCategory.id, ProductCategory.parent_id)).all())
    ex_cats: dict[int, set[int]] = defaultdict(set)
    for exhibitor_id, category_id in db.session.execute(select(exhibitor_categories.c.exhibitor_id,
                                                               exhibitor_categories.c.category_id)):
        seen = 0
        while category_id is not None and seen < 20:  # a cycle cannot hang the allocation
            ex_cats[exhibitor_id].add(category_id)
            category_id, seen = parents.get(category_id), seen + 1
    approved = [a for a, _zh, _en in rows if a.status == ApplicationStatus.APPROVED]
    first_submitted = min((a.submitted_at for a in approved if a.submitted_at), default=None)
    first_paid = min((a.paid_at for a in approved if a.paid_at and a.payment_status == "paid"), default=None)
    requests, info, exhibitors = [], {}, []
    for application, name_zh, name_en in rows:
        # Everyone's names and competitors count, requesting or not: an exhibitor with its booths already may have
        # named, or been named by, one that is still waiting.
        exhibitors.append(auto.ExhibitorIn(application.exhibitor_id, tuple(n for n in (name_zh, name_en) if n),
                                           tuple(application.competitor_list)))
        if application.status != ApplicationStatus.APPROVED:
            continue
        raw = application.space_kind == "raw"
        need_booths = 0 if raw else max(0, (application.booths_requested or 0) - standard_held[application.exhibitor_id])
        need_m2 = max(0.0, float(application.raw_space_m2 or 0) - raw_held[application.exhibitor_id]) if raw else 0.0
        if need_booths <= 0 and need_m2 <= 0:
            continue
        points, breakdown = rules.score(application, rule, first_submitted=first_submitted, first_paid=first_paid)
        requests.append(auto.RequestIn(
            application.id, application.exhibitor_id, points, need_booths, raw, round(need_m2, 2),
            application.preferred_pavilion_id, application.preferred_area_id, application.corner_preference,
            frozenset(ex_cats[application.exhibitor_id]), application.submitted_at))
        info[application.id] = {"name_zh": name_zh, "name_en": name_en, "points": points, "breakdown": breakdown,
                                "raw": raw, "requested": application.raw_space_m2 if raw else application.booths_requested}
    return auto.Problem(booths, requests, pavilions, exhibitors), info, held_by


def propose(actor: User | None, expo: Expo, progress: Callable[[int], None] | None = None,
            on_total: Callable[[int], None] | None = None) -> AllocationProposal:
    """Compute a proposal on the booths as they are now and keep it open for review."""
    basis = fingerprint(expo)
    problem, info, held_by = _problem(expo)
    if on_total is not None:
        on_total(len(problem.requests))
    solution = auto.solve(problem, progress)
    assignments = []
    for a in solution.assignments:
        row = info[a.application_id]
        assignments.append({
            "application_id": a.application_id, "exhibitor_id": a.exhibitor_id, "name_zh": row["name_zh"],
            "name_en": row["name_en"], "booths": list(a.numbers), "booth_ids": list(a.booth_ids), "tier": a.tier,
            "straight": a.straight, "premium": a.premium, "area_m2": a.area_m2, "raw": row["raw"],
            "requested": row["requested"], "points": row["points"], "breakdown": row["breakdown"],
            "before": sorted(held_by.get(a.exhibitor_id, []))})
    unmet = []
    for u in solution.unmet:
        row = info[u.application_id]
        before = sorted(held_by.get(u.exhibitor_id, []))
        unmet.append({
            "application_id": u.application_id, "exhibitor_id": u.exhibitor_id, "name_zh": row["name_zh"],
            "name_en": row["name_en"], "reason": u.reason, "booths": u.booths, "raw_m2": u.raw_m2, "raw": row["raw"],
            "requested": row["requested"], "points": row["points"], "breakdown": row["breakdown"], "before": before,
            # An exhibitor that has some of its booths keeps them and its approval; one with none goes on the
            # waiting list, so it knows where it stands.
            "waitlist": not before})
    free_before = sum(1 for b in problem.booths if b.free and b.holder is None)
    result = {
        "rule": rules.effective(expo.allocation_rule),
        "assignments": assignments,
        "unmet": unmet,
        "summary": {"requests": len(problem.requests), "served": len(assignments), "unmet": len(unmet),
                    "booths_used": sum(len(a["booths"]) for a in assignments), "free_before": free_before,
                    "waitlisted": sum(1 for u in unmet if u["waitlist"])},
    }
    proposal = AllocationProposal(expo_id=expo.id, created_by_id=actor.id if actor is not None else None,
                                  status="open", basis=basis, result=result)
    db.session.add(proposal)
    db.session.flush()
    audit.record(actor, "allocation_proposed", proposal, served=len(assignments), unmet=len(unmet),
                 booths=result["summary"]["booths_used"])
    return proposal


def _bilingual(row: dict[str, Any]) -> str:
    texts = []
    for locale in ("zh", "en"):
        with force_locale(locale):
            texts.append(_("Automatic allocation: %(reason)s", reason=reason_text(row)))
    return " / ".join(texts)


def _close(proposal: AllocationProposal, status: str) -> None:
    """Move an open proposal to ``status`` with a guarded write: two clicks at once cannot both apply it."""
    result = db.session.execute(update(AllocationProposal)
                                .where(AllocationProposal.id == proposal.id, AllocationProposal.status == "open")
                                .values(status=status, updated_at=utcnow()).execution_options(synchronize_session=False))
    if result.rowcount != 1:
        raise ProposalError(_l("This proposal has been applied or discarded already."), code="closed", status=409)
    db.session.refresh(proposal)


def apply(actor: User, proposal: AllocationProposal) -> AllocationProposal:
    """Assign every block of the proposal and waitlist the applications left without a booth, or raise (the caller
    rolls back: all or nothing)."""
    if proposal.status != "open":
        raise ProposalError(_l("This proposal has been applied or discarded already."), code="closed", status=409)
    expo = db.session.get(Expo, proposal.expo_id)
    if fingerprint(expo) != proposal.basis:
        raise ProposalError(_l("Booths have changed since this proposal was computed. Discard it and compute a new "
                               "one."), code="stale", status=409)
    if _after_basis_check is not None:
        _after_basis_check()
    assigned = 0
    for row in proposal.result.get("assignments", []):
        exhibitor = db.session.get(Exhibitor, row["exhibitor_id"])
        booths = list(db.session.scalars(select(Booth).where(Booth.expo_id == expo.id,
                                                             Booth.id.in_(row["booth_ids"]))))
        if exhibitor is None or len(booths) != len(row["booth_ids"]):
            raise ProposalError(_l("Booths have changed since this proposal was computed. Discard it and compute a "
                                   "new one."), code="stale", status=409)
        assign(actor, expo, exhibitor, booths)
        assigned += len(booths)
    waitlisted = 0
    for row in proposal.result.get("unmet", []):
        application = db.session.get(SpaceApplication, row["application_id"])
        if row.get("waitlist") and application is not None and application.status == ApplicationStatus.APPROVED:
            exhibitor_services.change_status(actor, application, str(ApplicationStatus.WAITLISTED), _bilingual(row))
            waitlisted += 1
    _close(proposal, "applied")
    audit.record(actor, "allocation_applied", proposal, booths=assigned, waitlisted=waitlisted)
    db.session.flush()
    return proposal


def discard(actor: User, proposal: AllocationProposal) -> AllocationProposal:
    """Set an open proposal aside; nothing changes on the booths."""
    _close(proposal, "discarded")
    audit.record(actor, "allocation_discarded", proposal)
    db.session.flush()
    return proposal


def save_rule(actor: User, expo: Expo, values: dict[str, Any]) -> dict[str, float]:
    """Store the priority rule the organizer edited; values out of range are refused."""
    rule = {key: values[key] for key in rules.DEFAULT_RULE}
    rule = {k: (int(v) if float(v).is_integer() else float(v)) for k, v in rule.items()}
    if rules.validate(rule):
        raise ProposalError(_l("Check the values of the priority rule."), code="bad_rule")
    old = rules.effective(expo.allocation_rule)
    expo.allocation_rule = rule
    audit.record(actor, "allocation_rule_changed", expo,
                 **{k: [old[k], rule[k]] for k in rule if old[k] != rule[k]})
    db.session.flush()
    return rule


def export_rows(proposal: AllocationProposal, lang: str) -> tuple[list[str], list[list[Any]]]:
    """The proposal as table rows for CSV and XLSX: one row per exhibitor, served or not."""
    headers = [_("Application"), _("Exhibitor"), _("Points"), *[str(v) for v in CRITERIA.values()],
               _("Booths today"), _("Booths proposed"), _("Where"), _("Unmet reason")]
    rows = []
    result = proposal.result
    for row in result.get("assignments", []):
        rows.append([row["application_id"], _name(row, lang), row["points"],
                     *[row["breakdown"].get(k, 0) for k in CRITERIA], " ".join(row["before"]),
                     " ".join(row["booths"]), str(TIERS.get(row["tier"], row["tier"])), ""])
    for row in result.get("unmet", []):
        rows.append([row["application_id"], _name(row, lang), row["points"],
                     *[row["breakdown"].get(k, 0) for k in CRITERIA], " ".join(row["before"]), "", "",
                     reason_text(row)])
    return headers, rows


def _name(row: dict[str, Any], lang: str) -> str:
    first, second = (row.get("name_zh"), row.get("name_en")) if lang == "zh" else (row.get("name_en"), row.get("name_zh"))
    return first or second or ""
