"""Exhibitor pages (registration, dashboard, profile, application, staff) and the organizer's review queue."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, send_file, url_for
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user, login_user
from sqlalchemy import select

from expo import audit, listing
from expo.allocation import views as allocation_views
from expo.auth.access import ORGANIZERS, PUBLIC, allow, safe_next
from expo.auth.models import Role
from expo.errorpages import error_response
from expo.exhibitors import exports, services
from expo.exhibitors.forms import (
    ApplicationForm,
    BulkDecisionForm,
    DecisionForm,
    EmptyForm,
    ProfileForm,
    QueueFilterForm,
    RegistrationForm,
    StaffForm,
)
from expo.exhibitors.models import Exhibitor, ExhibitorStaff, SpaceApplication
from expo.exhibitors.services import ACTION_LABELS, STATUS_LABELS
from expo.extensions import db
from expo.floorplans.views import plan_excerpt
from expo.formflow import run_form
from expo.i18n import current_lang
from expo.mail import OutboxMail
from expo.venue import queries as venue_queries

bp = Blueprint("exhibitors", __name__)
review_bp = Blueprint("review", __name__, url_prefix="/organizer")


def _choices() -> dict:
    expo = services.current_expo()
    lang = current_lang()
    return {
        "category_choices": venue_queries.category_choices(lang),
        "area_choices": venue_queries.area_choices(expo, lang),
        "pavilion_choices": venue_queries.pavilion_choices(expo, lang),
    }


def _logo(form):
    data = form.logo.data
    return data.stream if data and getattr(data, "filename", "") else None


# --- the exhibitor's own pages --------------------------------------------------------------------------------------

@bp.route("/register", methods=["GET", "POST"])
@allow(PUBLIC)
def register():
    if current_user.is_authenticated:
        return redirect(url_for("main.index"))
    form = RegistrationForm(locale=current_lang(), **_choices())
    outcome = run_form(form, lambda: services.register(
        email=form.email.data, password=form.password.data, profile=form.data, application=form.data,
        category_ids=form.categories.data, logo=_logo(form), submit="submit" in request.form, locale=current_lang()))
    if outcome.ok:
        _exhibitor, user = outcome.value
        login_user(user)
        flash(_("Welcome! Your company account is created."), "success")
        return redirect(url_for("exhibitors.dashboard"))
    return render_template("exhibitors/register.html", form=form), outcome.status


def _my_exhibitor() -> Exhibitor:
    if current_user.exhibitor is None:
        abort(403)
    return current_user.exhibitor


@bp.get("/exhibitor/")
@allow(Role.EXHIBITOR)
def dashboard():
    exhibitor = _my_exhibitor()
    application = services.application_of(exhibitor)
    messages = db.session.scalars(select(OutboxMail).where(OutboxMail.exhibitor_id == exhibitor.id)
                                  .order_by(OutboxMail.id.desc()).limit(20))
    actions = services.allowed_actions(application, organizer=False) if application else []
    return render_template("exhibitors/dashboard.html", exhibitor=exhibitor, application=application,
                           actions=actions, action_labels=ACTION_LABELS, messages=list(messages),
                           editable=application is not None and application.status in services.EDITABLE,
                           plan_excerpt=plan_excerpt(exhibitor), **allocation_views.dashboard_panel(exhibitor))


@bp.route("/exhibitor/profile", methods=["GET", "POST"])
@allow(Role.EXHIBITOR)
def profile():
    exhibitor = _my_exhibitor()
    form = ProfileForm(obj=exhibitor, locale=current_lang(), category_choices=_choices()["category_choices"])
    if request.method == "GET":
        form.categories.data = [c.id for c in exhibitor.categories]
    outcome = run_form(form, lambda: services.update_profile(current_user, exhibitor, form.data, form.categories.data,
                                                             _logo(form)))
    if outcome.ok:
        flash(_("Your company profile is saved."), "success")
        return redirect(url_for("exhibitors.dashboard"))
    return render_template("exhibitors/profile.html", form=form, exhibitor=exhibitor), outcome.status


@bp.route("/exhibitor/application", methods=["GET", "POST"])
@allow(Role.EXHIBITOR)
def application():
    exhibitor = _my_exhibitor()
    app = services.application_of(exhibitor)
    if app is None:
        abort(404)
    form = ApplicationForm(obj=app, **{k: v for k, v in _choices().items() if k != "category_choices"})
    def save():
        services.update_application(current_user, app, form.data)
        if "submit" in request.form:
            services.change_status(current_user, app, "submit")

    outcome = run_form(form, save)
    if outcome.ok:
        flash(_("Your application is submitted.") if "submit" in request.form else _("Your application is saved."),
              "success")
        return redirect(url_for("exhibitors.dashboard"))
    status = outcome.status
    return render_template("exhibitors/application.html", form=form, application=app,
                           editable=app.status in services.EDITABLE), status


@bp.post("/exhibitor/application/<action>")
@allow(Role.EXHIBITOR)
def application_action(action: str):
    if action not in ACTION_LABELS:
        abort(404)
    if not EmptyForm().validate_on_submit():
        abort(400)
    app = services.application_of(_my_exhibitor())
    if app is None:
        abort(404)
    services.change_status(current_user, app, action)
    db.session.commit()
    flash(_("Done: the application is now %(status)s.", status=STATUS_LABELS[app.status]), "success")
    return redirect(url_for("exhibitors.dashboard"))


@bp.route("/exhibitor/staff", methods=["GET", "POST"])
@allow(Role.EXHIBITOR)
def staff():
    exhibitor = _my_exhibitor()
    form = StaffForm()
    status = 200
    if form.validate_on_submit():
        services.add_staff(current_user, exhibitor, form.data)
        db.session.commit()
        flash(_("%(name)s is added to your staff.", name=form.name.data), "success")
        return redirect(url_for("exhibitors.staff"))
    if request.method == "POST":
        status = 400
    return render_template("exhibitors/staff.html", form=form, exhibitor=exhibitor), status


def _my_staff_member(member_id: int) -> ExhibitorStaff:
    member = db.session.get(ExhibitorStaff, member_id)
    # Another company's staff member is answered exactly like a missing one: nothing to learn from probing ids.
    if member is None or member.exhibitor_id != current_user.exhibitor_id:
        abort(404)
    return member


@bp.route("/exhibitor/staff/<int:member_id>", methods=["GET", "POST"])
@allow(Role.EXHIBITOR)
def staff_member(member_id: int):
    member = _my_staff_member(member_id)
    form = StaffForm(obj=member)
    if form.validate_on_submit():
        services.update_staff(current_user, member, form.data)
        db.session.commit()
        flash(_("Saved."), "success")
        return redirect(url_for("exhibitors.staff"))
    return render_template("exhibitors/staff_member.html", form=form, member=member), \
        400 if request.method == "POST" else 200


@bp.post("/exhibitor/staff/<int:member_id>/delete")
@allow(Role.EXHIBITOR)
def staff_delete(member_id: int):
    member = _my_staff_member(member_id)
    if not EmptyForm().validate_on_submit():
        abort(400)
    services.remove_staff(current_user, member)
    db.session.commit()
    flash(_("Removed."), "info")
    return redirect(url_for("exhibitors.staff"))


@bp.get("/exhibitors/<int:exhibitor_id>/logo.png")
@allow(PUBLIC)
def logo(exhibitor_id: int):
    exhibitor = db.session.get(Exhibitor, exhibitor_id)
    if exhibitor is None or not exhibitor.logo_png:
        abort(404)
    import io

    # Always a PNG we encoded ourselves; nosniff and the fixed type keep browsers from reading it as anything else.
    response = send_file(io.BytesIO(exhibitor.logo_png), mimetype="image/png", download_name=f"logo-{exhibitor.id}.png",
                         max_age=300)
    response.headers["Content-Security-Policy"] = "default-src 'none'; sandbox"
    return response


# --- the organizer's review queue -----------------------------------------------------------------------------------

def _queue_filter() -> tuple[QueueFilterForm, services.QueueFilter]:
    choices = _choices()
    form = QueueFilterForm(request.args, status_choices=[(s.value, label) for s, label in STATUS_LABELS.items()],
                           locale=current_lang(), **choices)
    if not form.validate():
        return form, None
    d = form.data
    return form, services.QueueFilter(
        status=d["status"] or None, area_id=d["area_id"], pavilion_id=d["pavilion_id"], country=d["country"] or None,
        category_id=d["category_id"], q=d["q"] or None, submitted_from=d["submitted_from"],
        submitted_to=d["submitted_to"], sort=d["sort"] or "submitted", descending=bool(d["desc"]))


@review_bp.get("/applications")
@allow(*ORGANIZERS)
def queue():
    form, flt = _queue_filter()
    if flt is None:
        return render_template("exhibitors/queue.html", form=form, page=None, bulk_form=BulkDecisionForm(),
                               counts={}), 400
    expo = services.current_expo()
    page = services.queue_page(expo, flt, form.page.data or 1, form.per_page.data or 50)
    return render_template("exhibitors/queue.html", form=form, page=page, bulk_form=BulkDecisionForm(),
                           counts=services.status_counts(expo),
                           pavilion_names=dict(venue_queries.pavilion_choices(expo, current_lang())))


@review_bp.get("/applications/export.<fmt>")
@allow(*ORGANIZERS)
def export(fmt: str):
    if fmt not in ("csv", "xlsx"):
        abort(404)
    form, flt = _queue_filter()
    if flt is None:
        abort(400)
    expo = services.current_expo()
    rows = db.session.execute(services.queue_query(expo, flt))
    body, mimetype = exports.exhibitors(rows, fmt, current_lang())
    return send_file(body, mimetype=mimetype, as_attachment=True, download_name=f"exhibitors-{expo.code}.{fmt}")


@review_bp.post("/applications/bulk")
@allow(*ORGANIZERS)
def bulk():
    form = BulkDecisionForm()
    if not form.validate_on_submit():
        first = next(iter(form.errors.values()))[0]
        return error_response(400, first, "invalid")
    apps = services.decide_many(current_user, form.application_ids.data, form.decision.data, form.reason.data or "")
    db.session.commit()
    flash(ngettext("%(num)d application is now %(status)s.", "%(num)d applications are now %(status)s.", len(apps),
                   status=STATUS_LABELS[form.decision.data]), "success")
    return redirect(safe_next(request.form.get("next")) or url_for("review.queue"))  # back to the same filters


@review_bp.get("/exhibitors/<int:exhibitor_id>")
@allow(*ORGANIZERS)
def exhibitor_detail(exhibitor_id: int):
    exhibitor = db.get_or_404(Exhibitor, exhibitor_id)
    app = services.application_of(exhibitor)
    messages = db.session.scalars(select(OutboxMail).where(OutboxMail.exhibitor_id == exhibitor.id)
                                  .order_by(OutboxMail.id.desc()).limit(50))
    return render_template("exhibitors/detail.html", exhibitor=exhibitor, application=app,
                           decision_form=DecisionForm(), entries=audit.for_exhibitor(exhibitor.id),
                           decisions=services.allowed_actions(app, organizer=True) if app else [],
                           messages=list(messages), **allocation_views.exhibitor_panel(exhibitor))


@review_bp.post("/applications/<int:application_id>/decision")
@allow(*ORGANIZERS)
def decide(application_id: int):
    app = db.get_or_404(SpaceApplication, application_id)
    form = DecisionForm()
    if not form.validate_on_submit():
        return error_response(400, next(iter(form.errors.values()))[0], "invalid")
    services.change_status(current_user, app, form.decision.data, form.reason.data or "")
    db.session.commit()
    flash(_("The application is now %(status)s.", status=STATUS_LABELS[app.status]), "success")
    return redirect(url_for("review.exhibitor_detail", exhibitor_id=app.exhibitor_id))


@review_bp.get("/outbox")
@allow(*ORGANIZERS)
def outbox():
    page = listing.paginate(select(OutboxMail).order_by(OutboxMail.id.desc()), request.args.get("page", 1, type=int),
                            50, scalars=True)
    return render_template("organizer/outbox.html", page=page)
