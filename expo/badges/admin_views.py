"""The organizer's badge pages: badge types (with a preview of their layout), the badge list with its exports, and
batch printing as background jobs with a progress page.

A batch never runs in the request: the print form creates a :class:`~expo.badges.models.PrintJob`, commits, and
hands :func:`expo.badges.printing.run_job` to :func:`expo.jobs.submit` (a worker thread with its own database
session); the job page polls a small JSON view of the job's row (or, without JavaScript, refreshes itself) until the
PDF can be downloaded. Every request here reads or writes a few rows and returns within a second or two.
"""

from __future__ import annotations

import io
import shutil
import subprocess
import tempfile
from pathlib import Path

from flask import Blueprint, abort, current_app, flash, jsonify, redirect, render_template, request, send_file, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select

from expo import jobs, listing
from expo.auth.access import ORGANIZERS, allow
from expo.auth.models import Role, User
from expo.badges import layouts, printing, render, services
from expo.badges.forms import BadgeFilterForm, BadgeTypeForm, BatchPrintForm
from expo.badges.models import BadgeType, PrintJob
from expo.buyers.models import Delegation
from expo.exhibitors.forms import EmptyForm
from expo.exhibitors.services import current_expo
from expo.extensions import db
from expo.formflow import filter_args, run_form
from expo.i18n import current_lang, localized
from expo.pdf.qr import qr_matrix
from expo.venue.models import Expo

bp = Blueprint("badge_admin", __name__)

PRINTERS = (*ORGANIZERS, Role.PRINT_DESK)  # who prints batches and reads the badge list
MIMETYPES = {"csv": "text/csv; charset=utf-8",
             "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}
#: How often the page without JavaScript reloads itself while a job runs (seconds).
REFRESH_SECONDS = 2


# --- badge types --------------------------------------------------------------------------------------------------

def _types(expo: Expo) -> list[BadgeType]:
    types = services.ensure_types(expo)
    return sorted(types.values(), key=lambda t: (t.sort, t.code))


def _type_for(expo: Expo, type_id: int) -> BadgeType:
    badge_type = db.session.get(BadgeType, type_id)
    if badge_type is None or badge_type.expo_id != expo.id:
        abort(404)
    return badge_type


def _type_form(expo: Expo, **kwargs) -> BadgeTypeForm:
    lang = current_lang()
    halls = [(h.code, f"{h.code} · {localized(h)}") for h in expo.halls]
    days = [(d.isoformat(), _day_label(expo, d)) for d in services.admission_days(expo)]
    return BadgeTypeForm(locale=lang, halls=halls, days=days, **kwargs)


def _day_label(expo: Expo, day) -> str:
    from flask_babel import format_date

    label = format_date(day, "medium")
    return _("%(day)s (build-up)", day=label) if day < expo.starts_on else label


def _type_data(form: BadgeTypeForm) -> services.TypeData:
    return services.TypeData(name_zh=form.name_zh.data or "", name_en=form.name_en.data or "",
                             colour=form.colour.data or "", layout=form.layout.data or "",
                             areas=tuple(form.areas.data or ()), days=tuple(form.days.data or ()),
                             sort=form.sort.data or 0, code=form.code.data or "")


@bp.get("/organizer/badges/types")
@allow(*ORGANIZERS)
def types():
    expo = current_expo()
    rows = _types(expo)
    db.session.commit()  # the default types, the first time
    return render_template("badges/types.html", types=rows, presets=layouts.PRESETS, expo=expo)


@bp.route("/organizer/badges/types/new", methods=["GET", "POST"])
@allow(*ORGANIZERS)
def type_new():
    expo = current_expo()
    form = _type_form(expo)
    outcome = run_form(form, lambda: services.save_type(current_user, expo, _type_data(form)))
    if outcome.ok:
        flash(_("Badge type %(code)s is created.", code=outcome.value.code), "success")
        return redirect(url_for("badge_admin.type_edit", type_id=outcome.value.id))
    return render_template("badges/types_edit.html", form=form, badge_type=None, preview_layout=form.layout.data or
                           "a6", expo=expo), outcome.status


@bp.route("/organizer/badges/types/<int:type_id>", methods=["GET", "POST"])
@allow(*ORGANIZERS)
def type_edit(type_id: int):
    expo = current_expo()
    badge_type = _type_for(expo, type_id)
    form = _type_form(expo, obj=badge_type) if request.method == "GET" else _type_form(expo)
    form.code.data = badge_type.code  # fixed once created
    outcome = run_form(form, lambda: services.save_type(current_user, expo, _type_data(form), badge_type))
    if outcome.ok:
        flash(_("Badge type %(code)s is saved.", code=badge_type.code), "success")
        return redirect(url_for("badge_admin.type_edit", type_id=badge_type.id))
    preview = request.args.get("layout") or badge_type.layout
    if preview not in layouts.PRESETS:
        preview = badge_type.layout
    return render_template("badges/types_edit.html", form=form, badge_type=badge_type, preview_layout=preview,
                           expo=expo), outcome.status


#: A code of the real length that is no badge's (it does not decode as one): the preview's QR has the size of a
#: real badge's, and scanning a printed preview is refused.
SAMPLE_CODE = ("SAMPLEBADGE" * 11)[:117]


def _sample_pdf(expo: Expo, badge_type: BadgeType, layout: str) -> bytes:
    """Two sample badges of the type on ``layout``: a Latin name with a long company, and a Chinese name."""
    label = f"{badge_type.name_zh} {badge_type.name_en.upper()}"
    qr = _sample_qr()
    cards = [
        render.BadgeCard(name="Maria Santos", name_native="", company="Companhia Brasileira de Calçados Esportivos e "
                         "Artigos de Couro Ltda.", country="Brazil 巴西", type_label=label, colour=badge_type.colour,
                         qr=qr, confirmation="SAMPLE23", layout=layout),
        render.BadgeCard(name="Ouyang Jianhua", name_native="欧阳建华", company="晋江国际鞋业贸易有限公司 Jinjiang "
                         "International Footwear Trading Co., Ltd.", country="China 中国", type_label=label,
                         colour=badge_type.colour, qr=qr, confirmation="SAMPLE45", layout=layout),
    ]
    return render.render(cards, layouts.PRESETS, title=f"{expo.name_en} — {badge_type.code} ({layout})")


_sample_matrix: list[list[bool]] = []


def _sample_qr() -> list[list[bool]]:
    if not _sample_matrix:
        _sample_matrix.extend(qr_matrix(SAMPLE_CODE, "M", mask=services.QR_MASK))
    return _sample_matrix


def _preview_layout(badge_type: BadgeType) -> str:
    layout = request.args.get("layout") or badge_type.layout
    if layout not in layouts.PRESETS:
        abort(404)
    return layout


def _framable(response):
    """The preview is shown inside the type's page (an iframe of the same site)."""
    response.headers["X-Frame-Options"] = "SAMEORIGIN"
    response.headers["Content-Security-Policy"] = "default-src 'none'; frame-ancestors 'self'"
    return response


@bp.get("/organizer/badges/types/<int:type_id>/preview.pdf")
@allow(*ORGANIZERS)
def type_preview(type_id: int):
    expo = current_expo()
    badge_type = _type_for(expo, type_id)
    layout = _preview_layout(badge_type)
    pdf = _sample_pdf(expo, badge_type, layout)
    return _framable(send_file(io.BytesIO(pdf), mimetype="application/pdf",
                               download_name=f"badge-{badge_type.code}-{layout}.pdf"))


@bp.get("/organizer/badges/types/<int:type_id>/preview.png")
@allow(*ORGANIZERS)
def type_preview_png(type_id: int):
    """The preview's first page as a picture (poppler's pdftoppm), for browsers that show no PDF inline."""
    expo = current_expo()
    badge_type = _type_for(expo, type_id)
    layout = _preview_layout(badge_type)
    pdftoppm = shutil.which("pdftoppm")
    if pdftoppm is None:
        abort(404)
    pdf = _sample_pdf(expo, badge_type, layout)
    with tempfile.TemporaryDirectory() as tmp:
        src = Path(tmp) / "preview.pdf"
        src.write_bytes(pdf)
        try:
            subprocess.run([pdftoppm, "-png", "-r", "110", "-f", "1", "-l", "1", "-singlefile", str(src),
                            str(Path(tmp) / "page")], check=True, timeout=10, capture_output=True)
        except (subprocess.SubprocessError, OSError):
            abort(404)
        png = (Path(tmp) / "page.png").read_bytes()
    return _framable(send_file(io.BytesIO(png), mimetype="image/png", max_age=0))


# --- the badge list -------------------------------------------------------------------------------------------------

def _type_choices(expo: Expo) -> list[tuple[int, str]]:
    return [(t.id, f"{t.code} · {localized(t)}") for t in _types(expo)]


def _delegation_choices(expo: Expo) -> list[tuple[int, str]]:
    return [(i, name) for i, name in db.session.execute(select(Delegation.id, Delegation.name).where(
        Delegation.expo_id == expo.id).order_by(Delegation.name, Delegation.id))]


def _filter(expo: Expo) -> tuple[BadgeFilterForm, services.BadgeFilter | None]:
    form = BadgeFilterForm(request.args, badge_types=_type_choices(expo), delegations=_delegation_choices(expo))
    if not form.validate():
        return form, None
    d = form.data
    return form, services.BadgeFilter(
        q=d["q"] or None, badge_type_id=d["badge_type_id"], delegation_id=d["delegation_id"],
        exhibitor=d["exhibitor"] or None, exhibitor_id=d["exhibitor_id"], holder_kind=d["holder_kind"] or None,
        status=d["status"] or None, printed={"yes": True, "no": False}.get(d["printed"]))


FILTER_KEYS = ("q", "badge_type_id", "delegation_id", "exhibitor", "exhibitor_id", "holder_kind", "status",
               "printed")



@bp.get("/organizer/badges")
@allow(*PRINTERS)
def badges():
    expo = current_expo()
    form, flt = _filter(expo)
    db.session.commit()  # the default types, the first time
    if flt is None:
        return render_template("badges/batch_list.html", form=form, page=None, args={}, print_form=None), 400
    per_page = form.per_page.data or int(current_app.config.get("PAGE_SIZE", 50))
    page = listing.paginate(services.badge_query(expo, flt), form.page.data or 1, per_page)
    print_form = _print_form(expo)
    return render_template("badges/batch_list.html", form=form, page=page, args=filter_args(FILTER_KEYS),
                           print_form=print_form)


@bp.get("/organizer/badges/export.<fmt>")
@allow(*PRINTERS)
def export(fmt: str):
    if fmt not in MIMETYPES:
        abort(404)
    expo = current_expo()
    _form, flt = _filter(expo)
    if flt is None:
        abort(400)
    rows = services.export_rows(db.session.execute(services.badge_query(expo, flt)), current_lang())
    body = listing.to_csv(services.EXPORT_HEADERS, rows) if fmt == "csv" else \
        listing.to_xlsx(services.EXPORT_HEADERS, rows, title="Badges")
    return send_file(io.BytesIO(body), mimetype=MIMETYPES[fmt], as_attachment=True,
                     download_name=f"badges-{expo.code}.{fmt}")


# --- batch printing -------------------------------------------------------------------------------------------------

def _print_form(expo: Expo, **kwargs) -> BatchPrintForm:
    pavilions = [(p.id, f"{p.code} · {localized(p)}") for p in expo.pavilions]
    return BatchPrintForm(locale=current_lang(), delegations=_delegation_choices(expo), pavilions=pavilions,
                          badge_types=_type_choices(expo), **kwargs)


def _job_title(form: BatchPrintForm) -> str:
    """A name for the job in the jobs list: what it prints."""
    key, value = next(iter(form.selection().items()))
    if key == "badge_ids":
        return _("%(num)d badges from the list", num=len(value))
    field = form._fields[key]
    labels = {str(c.value): str(c.label) for c in field.choices}
    return f"{field.label.text}: {labels.get(str(value), str(value))}"


def _start(job: PrintJob) -> None:
    """Hand the job to the background worker (after the commit that made it visible to the worker's session)."""
    job_id = job.id
    jobs.submit(lambda: printing.run_job(job_id))


#: Links from other pages (a delegation's, a pavilion's, the types list) open the print form with their choice made.
PRESELECT = {"delegation_id": "delegation", "pavilion_id": "pavilion", "badge_type_id": "badge_type"}


@bp.route("/organizer/badges/print", methods=["GET", "POST"])
@allow(*PRINTERS)
def print_batch():
    expo = current_expo()
    preset: dict = {}
    if request.method == "GET":
        for key, by in PRESELECT.items():
            value = request.args.get(key, "")
            if value.isdigit() and len(value) < 10:
                preset = {"by": by, key: int(value)}
    form = _print_form(expo, data=preset)
    outcome = run_form(form, lambda: printing.create_job(current_user, expo, form.selection(),
                                                         layout=form.layout.data or "", title=_job_title(form)))
    if outcome.ok:
        _start(outcome.value)
        return redirect(url_for("badge_admin.job", job_id=outcome.value.id))
    db.session.commit()  # the default types, the first time
    return render_template("badges/batch_print.html", form=form), outcome.status


@bp.post("/organizer/badges/print-listed")
@allow(*PRINTERS)
def print_listed():
    """Print every badge the list's filters match (up to a limit), in one job."""
    expo = current_expo()
    form = EmptyForm()
    _form, flt = _filter(expo)
    layout = request.form.get("layout", "")
    if flt is None or not form.validate_on_submit():
        abort(400)
    try:
        ids = services.badge_ids(expo, flt)
        job = printing.create_job(current_user, expo, {"badge_ids": ids}, layout=layout,
                                  title=_("%(num)d badges from the list", num=len(ids)))
    except services.BadgeError as exc:
        db.session.rollback()
        flash(str(exc.message), "error")
        return redirect(url_for("badge_admin.badges", **filter_args(FILTER_KEYS)))
    db.session.commit()
    _start(job)
    return redirect(url_for("badge_admin.job", job_id=job.id))


def _job_for(job_id: int) -> PrintJob:
    job = db.session.get(PrintJob, job_id)
    if job is None or job.expo_id != current_expo().id:
        abort(404)
    return job


@bp.get("/organizer/badges/jobs")
@allow(*PRINTERS)
def jobs_list():
    expo = current_expo()
    stale = printing.fail_stale(expo)
    db.session.commit()
    rows = db.session.execute(select(PrintJob, User.name).outerjoin(User, User.id == PrintJob.created_by_id)
                              .where(PrintJob.expo_id == expo.id)
                              .order_by(PrintJob.id.desc()).limit(100)).all()
    return render_template("badges/jobs.html", rows=rows, stale=stale)


@bp.get("/organizer/badges/jobs/<int:job_id>")
@allow(*PRINTERS)
def job(job_id: int):
    job = _job_for(job_id)
    running = job.status in ("queued", "running")
    return render_template("badges/jobs_detail.html", job=job, running=running, refresh=REFRESH_SECONDS,
                           state=_state(job))


def _state(job: PrintJob) -> dict:
    percent = 100 if job.status == "done" else (int(job.done * 100 / job.total) if job.total else 0)
    return {"id": job.id, "status": job.status, "done": job.done, "total": job.total, "percent": min(percent, 100),
            "error": job.error if job.status == "failed" else "",
            "pdf": url_for("badge_admin.job_pdf", job_id=job.id) if job.status == "done" else None}


@bp.get("/organizer/badges/jobs/<int:job_id>.json")
@allow(*PRINTERS)
def job_state(job_id: int):
    response = jsonify(_state(_job_for(job_id)))
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.get("/organizer/badges/jobs/<int:job_id>.pdf")
@allow(*PRINTERS)
def job_pdf(job_id: int):
    job = _job_for(job_id)
    if job.status != "done" or job.pdf is None:
        abort(404)
    return send_file(io.BytesIO(job.pdf), mimetype="application/pdf", as_attachment=True,
                     download_name=f"badges-job-{job.id}.pdf")


@bp.post("/organizer/badges/jobs/<int:job_id>/restart")
@allow(*PRINTERS)
def job_restart(job_id: int):
    job = _job_for(job_id)
    form = EmptyForm()
    if not form.validate_on_submit():
        abort(400)
    try:
        printing.restart_job(job)
    except services.BadgeError as exc:
        db.session.rollback()
        flash(str(exc.message), "error")
        return redirect(url_for("badge_admin.job", job_id=job_id))
    db.session.commit()
    _start(job)
    return redirect(url_for("badge_admin.job", job_id=job_id))
