"""The organizer's pages of the automatic allocation: the priority rule, proposals, their review, apply, discard."""

from __future__ import annotations

import io

from flask import Blueprint, abort, flash, redirect, render_template, request, send_file, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select

from expo import listing
from expo.allocation import proposals, rules
from expo.allocation.proposal_forms import ButtonForm, RuleForm
from expo.auth.access import ORGANIZERS, allow
from expo.exhibitors.services import current_expo
from expo.extensions import db
from expo.formflow import run_form
from expo.i18n import current_lang
from expo.venue.models import AllocationProposal

bp = Blueprint("proposals", __name__, url_prefix="/organizer/allocation")

PER_PAGE = 50


def _index(rule_form: RuleForm | None = None, status: int = 200):
    expo = current_expo()
    if rule_form is None:
        rule_form = RuleForm(data=rules.effective(expo.allocation_rule))
    page = listing.paginate(select(AllocationProposal).where(AllocationProposal.expo_id == expo.id)
                            .order_by(AllocationProposal.id.desc()), request.args.get("page", 1, type=int), 20,
                            scalars=True)
    return render_template("allocation/proposals.html", page=page, rule_form=rule_form, button=ButtonForm(),
                           criteria=proposals.CRITERIA), status


@bp.get("/proposals")
@allow(*ORGANIZERS)
def index():
    return _index()


@bp.post("/proposals")
@allow(*ORGANIZERS)
def compute():
    form = ButtonForm()
    outcome = run_form(form, lambda: proposals.propose(current_user, current_expo()))
    if not outcome.ok:
        if form.errors:  # only the CSRF token can be wrong on a button
            flash(_("The form has expired. Reload the page and try again."), "error")
        return _index(status=outcome.status)
    flash(_("The proposal is ready: review it, then apply or discard it."), "success")
    return redirect(url_for("proposals.detail", proposal_id=outcome.value.id))


@bp.post("/rule")
@allow(*ORGANIZERS)
def rule():
    form = RuleForm()
    outcome = run_form(form, lambda: proposals.save_rule(current_user, current_expo(), form.data))
    if not outcome.ok:
        return _index(form, outcome.status)
    flash(_("The priority rule is saved. Compute a new proposal to use it."), "success")
    return redirect(url_for("proposals.index"))


def _proposal(proposal_id: int) -> AllocationProposal:
    proposal = db.get_or_404(AllocationProposal, proposal_id)
    if proposal.expo_id != current_expo().id:
        abort(404)
    return proposal


def _detail(proposal: AllocationProposal, status: int = 200):
    result = proposal.result or {}
    assignments = result.get("assignments", [])
    per_page = PER_PAGE
    last = max(1, -(-len(assignments) // per_page))
    number = max(1, min(request.args.get("page", 1, type=int), last))
    page = listing.Page(assignments[(number - 1) * per_page:number * per_page], number, per_page, len(assignments))
    unmet = result.get("unmet", [])
    return render_template("allocation/proposal.html", proposal=proposal, result=result, page=page,
                           unmet=unmet, reasons=[proposals.reason_text(u) for u in unmet],
                           tiers=proposals.TIERS, criteria=proposals.CRITERIA, button=ButtonForm(),
                           lang=current_lang()), status


@bp.get("/proposals/<int:proposal_id>")
@allow(*ORGANIZERS)
def detail(proposal_id: int):
    return _detail(_proposal(proposal_id))


@bp.post("/proposals/<int:proposal_id>/apply")
@allow(*ORGANIZERS)
def apply(proposal_id: int):
    proposal = _proposal(proposal_id)
    outcome = run_form(ButtonForm(), lambda: proposals.apply(current_user, proposal))
    if not outcome.ok:
        db.session.expire_all()  # show the proposal as it is after the rollback
        return _detail(_proposal(proposal_id), outcome.status)
    summary = proposal.result.get("summary", {})
    flash(_("The proposal is applied: %(booths)d booths assigned, %(waitlisted)d applications waitlisted.",
            booths=summary.get("booths_used", 0), waitlisted=summary.get("waitlisted", 0)), "success")
    return redirect(url_for("proposals.detail", proposal_id=proposal.id))


@bp.post("/proposals/<int:proposal_id>/discard")
@allow(*ORGANIZERS)
def discard(proposal_id: int):
    proposal = _proposal(proposal_id)
    outcome = run_form(ButtonForm(), lambda: proposals.discard(current_user, proposal))
    if not outcome.ok:
        db.session.expire_all()
        return _detail(_proposal(proposal_id), outcome.status)
    flash(_("The proposal is discarded."), "success")
    return redirect(url_for("proposals.index"))


@bp.get("/proposals/<int:proposal_id>/export.<fmt>")
@allow(*ORGANIZERS)
def export(proposal_id: int, fmt: str):
    if fmt not in ("csv", "xlsx"):
        abort(404)
    proposal = _proposal(proposal_id)
    headers, rows = proposals.export_rows(proposal, current_lang())
    if fmt == "csv":
        body, mimetype = listing.to_csv(headers, rows), "text/csv"
    else:
        body = listing.to_xlsx(headers, rows, title=_("Proposal"))
        mimetype = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    return send_file(io.BytesIO(body), mimetype=mimetype, as_attachment=True,
                     download_name=f"allocation-proposal-{proposal.id}.{fmt}")
