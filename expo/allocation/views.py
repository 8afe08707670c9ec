"""Manual booth allocation: the organizer's booth page and assignment by numbers, the allocation settings, payment
status, and the exhibitor's self-selection of booths. Every change goes through :mod:`expo.allocation.services`."""

from __future__ import annotations

from datetime import datetime

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy import or_, select

from expo.allocation import services
from expo.allocation.forms import (
    AssignNumbersForm,
    BoothActionForm,
    ExhibitorSearchForm,
    PaymentForm,
    SelectBoothForm,
    SettingsForm,
)
from expo.auth.access import ORGANIZERS, allow
from expo.auth.models import Role
from expo.db import utcnow
from expo.errorpages import error_response
from expo.errors import ExpoError, NotFound
from expo.exhibitors.forms import EmptyForm
from expo.exhibitors.models import ApplicationStatus, Exhibitor, SpaceApplication
from expo.exhibitors.services import application_of, current_expo, escape_like
from expo.extensions import db
from expo.formflow import run_form
from expo.i18n import current_lang
from expo.venue.models import Booth, BoothStatus, Expo

bp = Blueprint("allocation", __name__)

KIND_LABELS = {"standard": _l("Standard (one open side)"), "corner": _l("Corner (two open sides)"),
               "peninsula": _l("Peninsula (three open sides)"), "island": _l("Island (four open sides)"),
               "raw": _l("Raw space")}
PAYMENT_LABELS = {"unpaid": _l("Unpaid"), "invoiced": _l("Invoiced"), "partial": _l("Partly paid"),
                  "paid": _l("Paid")}


@bp.app_template_global()
def booth_kind_label(kind: str) -> str:
    return str(KIND_LABELS.get(kind, kind))


@bp.app_template_global()
def payment_label(status: str) -> str:
    return str(PAYMENT_LABELS.get(status, status))


def _exhibitor(exhibitor_id: int) -> Exhibitor:
    exhibitor = db.session.get(Exhibitor, exhibitor_id)
    if exhibitor is None:
        raise services.AllocationError(_("There is no exhibitor number %(id)d.", id=exhibitor_id),
                                       code="unknown_exhibitor", field="exhibitor_id", status=404)
    return exhibitor


def _one_booth(expo: Expo, number: str) -> Booth:
    return services.booths_by_number(expo, services.parse_numbers(number)[:1])[0]


def hold_left(booth: Booth, now: datetime | None = None) -> int | None:
    """Whole minutes left on a running hold (at least 1 while it runs), or None."""
    if booth.status != BoothStatus.HELD or booth.hold_expires_at is None:
        return None
    seconds = (booth.hold_expires_at - (now or utcnow())).total_seconds()
    return max(1, int(seconds // 60) + (1 if seconds % 60 else 0)) if seconds > 0 else 0


# --- organizers -----------------------------------------------------------------------------------------------------

def approved_matches(expo: Expo, q: str, limit: int = 20) -> list[Exhibitor]:
    """Approved exhibitors whose name contains ``q`` (for picking a booth's exhibitor by name)."""
    pattern = f"%{escape_like(q)}%"
    return list(db.session.scalars(
        select(Exhibitor).join(SpaceApplication, SpaceApplication.exhibitor_id == Exhibitor.id)
        .where(SpaceApplication.expo_id == expo.id, SpaceApplication.status == ApplicationStatus.APPROVED,
               or_(Exhibitor.name_zh.ilike(pattern, escape="\\"), Exhibitor.name_en.ilike(pattern, escape="\\")))
        .order_by(Exhibitor.id).limit(limit)))


@bp.get("/organizer/booths")
@allow(*ORGANIZERS)
def find_booth():
    """Open a booth's page by its number (the settings page and the floor plans' search box send here)."""
    number = (request.args.get("number") or "").strip().upper()[:20]
    booth = db.session.scalar(select(Booth).where(Booth.expo_id == current_expo().id, Booth.number == number)) \
        if number else None
    if booth is None:
        return error_response(404, _("There is no booth %(numbers)s.", numbers=number or "—"), "unknown_booth")
    return redirect(url_for("allocation.booth", booth_id=booth.id))


@bp.route("/organizer/booths/<int:booth_id>", methods=["GET", "POST"])
@allow(*ORGANIZERS)
def booth(booth_id: int):
    expo = current_expo()
    booth = db.get_or_404(Booth, booth_id)
    if booth.expo_id != expo.id:
        abort(404)
    form = BoothActionForm()
    search = ExhibitorSearchForm(request.args)
    matches = approved_matches(expo, search.q.data.strip()) if search.validate() and search.q.data else []

    def act():
        action = form.action.data
        if action == "assign":
            return services.assign(current_user, expo, _exhibitor(form.exhibitor_id.data), [booth])
        if action == "hold":
            return services.hold(current_user, expo, _exhibitor(form.exhibitor_id.data), [booth], form.minutes.data)
        if action == "vacate":
            return services.vacate(current_user, expo, [booth])
        if action == "move":
            return services.move(current_user, expo, booth, _one_booth(expo, form.target.data))
        if action == "swap":
            return services.swap(current_user, expo, booth, _one_booth(expo, form.target.data))
        if action == "block":
            return services.block(current_user, expo, booth)
        return services.unblock(current_user, expo, booth)

    outcome = run_form(form, act)
    if outcome.ok:
        flash(_("Booth %(number)s is saved.", number=booth.number), "success")
        target = booth_id
        if form.action.data == "move":  # follow the exhibitor to its new booth
            target = outcome.value.id
        return redirect(url_for("allocation.booth", booth_id=target))
    db.session.refresh(booth)
    return render_template("allocation/booth.html", booth=booth, form=form, search=search, matches=matches,
                           hold_left=hold_left(booth), expo=expo), outcome.status


@bp.route("/organizer/allocation/assign", methods=["GET", "POST"])
@allow(*ORGANIZERS)
def assign_by_number():
    expo = current_expo()
    form = AssignNumbersForm()
    if request.method == "GET" and request.args.get("exhibitor_id", type=int):
        form.exhibitor_id.data = request.args.get("exhibitor_id", type=int)
    outcome = run_form(form, lambda: services.assign_numbers(current_user, expo, _exhibitor(form.exhibitor_id.data),
                                                             form.booths.data))
    if outcome.ok:
        booths, stands = outcome.value
        flash(_("Assigned: %(numbers)s.", numbers=", ".join(b.number for b in booths)), "success")
        return redirect(url_for("review.exhibitor_detail", exhibitor_id=form.exhibitor_id.data))
    return render_template("allocation/assign.html", form=form), outcome.status


@bp.route("/organizer/allocation/settings", methods=["GET", "POST"])
@allow(*ORGANIZERS)
def settings():
    expo = current_expo()
    form = SettingsForm(obj=expo)
    outcome = run_form(form, lambda: services.update_settings(
        current_user, expo, hold_minutes=form.hold_minutes.data,
        corner_premium_percent=form.corner_premium_percent.data,
        self_selection_open=bool(form.self_selection_open.data)))
    if outcome.ok:
        flash(_("The allocation settings are saved."), "success")
        return redirect(url_for("allocation.settings"))
    return render_template("allocation/settings.html", form=form), outcome.status


@bp.post("/organizer/exhibitors/<int:exhibitor_id>/payment")
@allow(*ORGANIZERS)
def payment(exhibitor_id: int):
    exhibitor = db.get_or_404(Exhibitor, exhibitor_id)
    application = application_of(exhibitor)
    if application is None:
        abort(404)
    form = PaymentForm()
    if not form.validate_on_submit():
        return error_response(400, next(iter(form.errors.values()))[0], "invalid")
    try:
        services.set_payment_status(current_user, application, form.payment_status.data, form.priority_bonus.data)
    except ExpoError as exc:
        return error_response(exc.status, exc.message, exc.code)
    db.session.commit()
    flash(_("The payment status is saved."), "success")
    return redirect(url_for("review.exhibitor_detail", exhibitor_id=exhibitor.id))


def exhibitor_panel(exhibitor: Exhibitor) -> dict:
    """What the organizer's exhibitor page shows about booths: the booths, the fee statement, the payment form."""
    expo = current_expo()
    application = application_of(exhibitor, expo)
    payment_form = PaymentForm(formdata=None, obj=application) if application else None
    return {"alloc_booths": services.booths_of(expo, exhibitor), "alloc_fees": services.fee_statement(expo, exhibitor),
            "alloc_payment_form": payment_form, "alloc_hold_left": hold_left}


def dashboard_panel(exhibitor: Exhibitor) -> dict:
    """What the exhibitor's dashboard shows about its booths."""
    expo = current_expo()
    return {"my_booths": services.booths_of(expo, exhibitor), "my_fees": services.fee_statement(expo, exhibitor),
            "self_selection_open": expo.self_selection_open, "alloc_hold_left": hold_left}


# --- the exhibitor's self-selection ---------------------------------------------------------------------------------

def _my_exhibitor() -> Exhibitor:
    if current_user.exhibitor is None:
        abort(403)
    return current_user.exhibitor


def _my_booth(expo: Expo, booth_id: int | None) -> Booth:
    booth = db.session.get(Booth, booth_id) if booth_id else None
    if booth is None or booth.expo_id != expo.id:
        raise NotFound(_("There is no such booth."))
    return booth


def _selection_page(expo: Expo, exhibitor: Exhibitor, form: SelectBoothForm, status: int = 200):
    application = application_of(exhibitor, expo)
    closed_reason = None
    try:
        available = services.selectable_booths(expo, exhibitor)
    except services.AllocationError as exc:
        available, closed_reason = [], str(exc.message)
    now = utcnow()
    mine = services.booths_of(expo, exhibitor, now)
    allowed = services.booths_allowed(application) if application else 0
    return render_template("allocation/select.html", form=form, available=available, mine=mine, allowed=allowed,
                           closed_reason=closed_reason, hold_left=lambda b: hold_left(b, now),
                           application=application, lang=current_lang()), status


@bp.route("/exhibitor/booths/select", methods=["GET", "POST"])
@allow(Role.EXHIBITOR)
def select_booths():
    expo = current_expo()
    exhibitor = _my_exhibitor()
    form = SelectBoothForm()
    if request.method == "GET":
        return _selection_page(expo, exhibitor, form)
    outcome = run_form(form, lambda: services.select_booth(current_user, expo, exhibitor,
                                                           _my_booth(expo, form.booth_id.data)))
    if outcome.ok:
        flash(_("Booth %(number)s is held for you for %(minutes)d minutes. Confirm to keep it.",
                number=outcome.value.number, minutes=expo.hold_minutes), "success")
        return redirect(url_for("allocation.select_booths"))
    return _selection_page(expo, exhibitor, form, outcome.status)


@bp.post("/exhibitor/booths/release")
@allow(Role.EXHIBITOR)
def release_booth():
    expo = current_expo()
    exhibitor = _my_exhibitor()
    form = SelectBoothForm()
    outcome = run_form(form, lambda: services.release_selection(current_user, expo, exhibitor,
                                                                _my_booth(expo, form.booth_id.data)))
    if outcome.ok:
        flash(_("The booth is released."), "success")
        return redirect(url_for("allocation.select_booths"))
    return _selection_page(expo, exhibitor, SelectBoothForm(formdata=None), outcome.status)


@bp.post("/exhibitor/booths/confirm")
@allow(Role.EXHIBITOR)
def confirm_booths():
    expo = current_expo()
    exhibitor = _my_exhibitor()
    form = EmptyForm()
    outcome = run_form(form, lambda: services.confirm_selection(current_user, expo, exhibitor))
    if outcome.ok:
        flash(_("Your booths are confirmed: %(numbers)s.", numbers=", ".join(b.number for b in outcome.value)),
              "success")
        return redirect(url_for("exhibitors.dashboard"))
    return _selection_page(expo, exhibitor, SelectBoothForm(formdata=None), outcome.status)
