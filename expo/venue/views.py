"""The organizer's venue pages: halls, pavilions and exhibition areas; the layout generator with its preview; the
booth list with its exports; the booth import with preview and confirm. Rules live in :mod:`expo.venue.editing`,
:mod:`expo.venue.services` and :mod:`expo.venue.imports`."""

from __future__ import annotations

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, send_file, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import func, or_, select
from sqlalchemy.orm import joinedload

from expo import listing
from expo.auth.access import ORGANIZERS, allow
from expo.errors import ExpoError
from expo.exhibitors.models import Exhibitor
from expo.exhibitors.services import current_expo, escape_like
from expo.extensions import db
from expo.formflow import attach_error, run_form
from expo.i18n import current_lang
from expo.venue import editing, imports, layout, queries, services
from expo.venue.forms import (
    KIND_CHOICES,
    STATUS_CHOICES,
    AreaForm,
    BoothFilterForm,
    GenerateForm,
    HallForm,
    ImportConfirmForm,
    ImportUploadForm,
    PavilionForm,
    entrances_text,
    obstacles_text,
)
from expo.venue.geometry import Rect
from expo.venue.models import Booth, BoothStatus, ExhibitionArea, Expo, Hall, Pavilion

bp = Blueprint("venue", __name__, url_prefix="/organizer/venue")


@bp.context_processor
def _labels():
    return {"booth_status_labels": dict(STATUS_CHOICES), "booth_kind_labels": dict(KIND_CHOICES)}


def _hall(hall_id: int) -> Hall:
    hall = db.get_or_404(Hall, hall_id)
    if hall.expo_id != current_expo().id:
        abort(404)
    return hall


def _hall_choices(expo: Expo) -> list[tuple[int, str]]:
    return [(h.id, h.code) for h in db.session.scalars(select(Hall).where(Hall.expo_id == expo.id)
                                                        .order_by(Hall.code))]


# --- halls, pavilions, areas ----------------------------------------------------------------------------------------

@bp.get("/")
@allow(*ORGANIZERS)
def index():
    expo = current_expo()
    counts: dict[int, dict[str, int]] = {}
    for hall_id, status, n in db.session.execute(select(Booth.hall_id, Booth.status, func.count())
                                                  .where(Booth.expo_id == expo.id)
                                                  .group_by(Booth.hall_id, Booth.status)):
        counts.setdefault(hall_id, {})[status] = n
    pavilion_counts = dict(db.session.execute(select(Booth.pavilion_id, func.count()).where(Booth.expo_id == expo.id)
                                              .group_by(Booth.pavilion_id)).all())
    return render_template("venue/index.html", expo=expo, halls=expo.halls, counts=counts,
                           pavilions=expo.pavilions, areas=expo.areas, pavilion_counts=pavilion_counts,
                           statuses=[s.value for s in BoothStatus])


@bp.route("/halls/<int:hall_id>", methods=["GET", "POST"])
@allow(*ORGANIZERS)
def hall(hall_id: int):
    hall = _hall(hall_id)
    form = HallForm(obj=hall if request.method == "GET" else None)
    if request.method == "GET":
        form.width_m.data, form.depth_m.data = float(hall.width_m), float(hall.depth_m)
        form.entrances.data, form.obstacles.data = entrances_text(hall.entrances), obstacles_text(hall.obstacles)
    outcome = run_form(form, lambda: editing.update_hall(
        current_user, hall, name_zh=form.name_zh.data, name_en=form.name_en.data, width_m=form.width_m.data,
        depth_m=form.depth_m.data, plan_x_m=form.plan_x_m.data or 0, plan_y_m=form.plan_y_m.data or 0,
        entrances=form.entrance_list, obstacles=form.obstacle_list))
    if outcome.ok:
        flash(_("Hall %(code)s saved; %(n)d booths changed their open sides.", code=hall.code, n=outcome.value),
              "success")
        return redirect(url_for("venue.hall", hall_id=hall.id))
    return render_template("venue/hall.html", hall=hall, form=form), outcome.status


def _pavilion_form(expo: Expo, pavilion: Pavilion | None) -> PavilionForm:
    lang = current_lang()
    form = PavilionForm(obj=pavilion if request.method == "GET" else None,
                        area_choices=queries.area_choices(expo, lang),
                        category_choices=queries.category_choices(lang))
    if request.method == "GET" and pavilion is not None:
        form.area_id.data = pavilion.area_id or 0
        form.category_ids.data = [c.id for c in pavilion.categories]
    return form


def _save_pavilion(expo: Expo, pavilion: Pavilion | None):
    form = _pavilion_form(expo, pavilion)
    outcome = run_form(form, lambda: editing.save_pavilion(
        current_user, expo, pavilion, code=form.code.data, name_zh=form.name_zh.data, name_en=form.name_en.data,
        colour=form.colour.data, area_id=form.area_id.data, category_ids=form.category_ids.data or []))
    if outcome.ok:
        flash(_("Pavilion %(code)s saved.", code=outcome.value.code), "success")
        return redirect(url_for("venue.index"))
    return render_template("venue/pavilion.html", form=form, pavilion=pavilion), outcome.status


@bp.route("/pavilions/new", methods=["GET", "POST"])
@allow(*ORGANIZERS)
def new_pavilion():
    return _save_pavilion(current_expo(), None)


@bp.route("/pavilions/<int:pavilion_id>", methods=["GET", "POST"])
@allow(*ORGANIZERS)
def pavilion(pavilion_id: int):
    expo = current_expo()
    pavilion = db.get_or_404(Pavilion, pavilion_id)
    if pavilion.expo_id != expo.id:
        abort(404)
    return _save_pavilion(expo, pavilion)


@bp.route("/areas/<int:area_id>", methods=["GET", "POST"])
@allow(*ORGANIZERS)
def area(area_id: int):
    area = db.get_or_404(ExhibitionArea, area_id)
    if area.expo_id != current_expo().id:
        abort(404)
    form = AreaForm(obj=area if request.method == "GET" else None)
    outcome = run_form(form, lambda: editing.update_area(current_user, area, name_zh=form.name_zh.data,
                                                         name_en=form.name_en.data))
    if outcome.ok:
        flash(_("Exhibition area saved."), "success")
        return redirect(url_for("venue.index"))
    return render_template("venue/area.html", form=form, area=area), outcome.status


# --- the layout generator -------------------------------------------------------------------------------------------

def _block_layout(form: GenerateForm) -> layout.BlockLayout:
    return layout.BlockLayout(
        region=Rect(form.x_m.data or 0, form.y_m.data or 0, form.width_m.data, form.depth_m.data),
        prefix=form.prefix.data or "", first_number=form.first_number.data or 0,
        booth_width_m=form.booth_width_m.data, booth_depth_m=form.booth_depth_m.data,
        booths_per_row=form.booths_per_row.data, rows_per_block=form.rows_per_block.data,
        aisle_m=form.aisle_m.data or 0, cross_aisle_m=form.cross_aisle_m.data or 0)


@bp.route("/halls/<int:hall_id>/generate", methods=["GET", "POST"])
@allow(*ORGANIZERS)
def generate(hall_id: int):
    hall = _hall(hall_id)
    expo = current_expo()
    form = GenerateForm(pavilion_choices=queries.pavilion_choices(expo, current_lang()))
    if request.method == "GET":
        form.prefix.data = f"{hall.code}-"
        form.width_m.data, form.depth_m.data = float(hall.width_m), float(hall.depth_m)
    preview = None
    status = 200
    if request.form.get("action") == "create":
        def create():
            pavilion = db.session.get(Pavilion, form.pavilion_id.data) if form.pavilion_id.data else None
            return services.generate(current_user, hall, _block_layout(form), pavilion=pavilion,
                                     price_cny=form.price_cny.data or 0, raw_space=bool(form.raw_space.data))
        outcome = run_form(form, create)
        if outcome.ok:
            booths = outcome.value
            flash(_("%(n)d booths created, %(first)s to %(last)s.", n=len(booths), first=booths[0].number,
                    last=booths[-1].number), "success")
            return redirect(url_for("venue.booths", hall_id=hall.id))
        status = outcome.status
    elif request.method == "POST":
        if form.validate_on_submit():
            try:
                preview = editing.preview_generation(hall, _block_layout(form))
            except ExpoError as exc:
                attach_error(form, exc)
                status = exc.status
        else:
            status = 400
    return render_template("venue/generate.html", hall=hall, form=form, preview=preview,
                           sketch=_sketch(hall, preview) if preview else _sketch(hall, None)), status


def _sketch(hall: Hall, preview: editing.GenerationPreview | None) -> dict:
    """What the inline SVG draws: the hall, obstacles and entrance zones, existing booths grey, new ones coloured."""
    width, depth = services.hall_size(hall)
    existing = preview.existing if preview else list(hall.booths)
    return {"width": width, "depth": depth, "obstacles": services.obstacle_rects(hall),
            "zones": layout.entrance_zones(hall.entrances, width, depth),
            "existing": [services.booth_rect(b) for b in existing],
            "new": [s.rect for s in preview.specs] if preview else []}


# --- the booth list and its exports ---------------------------------------------------------------------------------

SORTS = {"number": Booth.number, "hall": Hall.code, "status": Booth.status, "kind": Booth.kind,
         "price": Booth.price_cny, "area": Booth.width_m * Booth.depth_m}


def _booth_filter(expo: Expo) -> BoothFilterForm:
    return BoothFilterForm(request.args, hall_choices=_hall_choices(expo),
                           pavilion_choices=queries.pavilion_choices(expo, current_lang()))


def _booth_query(expo: Expo, form: BoothFilterForm):
    d = form.data
    stmt = (select(Booth).join(Hall, Booth.hall_id == Hall.id).where(Booth.expo_id == expo.id)
            .options(joinedload(Booth.hall), joinedload(Booth.pavilion), joinedload(Booth.exhibitor)))
    if d["hall_id"]:
        stmt = stmt.where(Booth.hall_id == d["hall_id"])
    if d["pavilion_id"]:
        stmt = stmt.where(Booth.pavilion_id == d["pavilion_id"])
    if d["status"]:
        stmt = stmt.where(Booth.status == d["status"])
    if d["kind"]:
        stmt = stmt.where(Booth.kind == d["kind"])
    if d["q"]:
        like = f"%{escape_like(d['q'])}%"
        holders = select(Exhibitor.id).where(or_(Exhibitor.name_zh.ilike(like, escape="\\"),
                                                 Exhibitor.name_en.ilike(like, escape="\\")))
        stmt = stmt.where(or_(Booth.number.ilike(like, escape="\\"), Booth.exhibitor_id.in_(holders)))
    column = SORTS.get(d["sort"] or "number", Booth.number)
    stmt = stmt.order_by(column.desc() if d["desc"] else column.asc(), Booth.number)
    return stmt


@bp.get("/booths")
@allow(*ORGANIZERS)
def booths():
    expo = current_expo()
    form = _booth_filter(expo)
    if not form.validate():
        return render_template("venue/booths.html", form=form, page=None, booth_link=None), 400
    page = listing.paginate(_booth_query(expo, form), form.page.data or 1, form.per_page.data or 100, scalars=True)
    booth_link = "allocation.booth" if "allocation.booth" in current_app.view_functions else None
    return render_template("venue/booths.html", form=form, page=page, booth_link=booth_link)


@bp.get("/booths/export.<fmt>")
@allow(*ORGANIZERS)
def export(fmt: str):
    if fmt not in imports.MIMETYPES:
        abort(404)
    expo = current_expo()
    form = _booth_filter(expo)
    if not form.validate():
        abort(400)
    booths = list(db.session.scalars(_booth_query(expo, form)).unique())
    body, mimetype = imports.export(booths, fmt)
    return send_file(body, mimetype=mimetype, as_attachment=True, download_name=f"booths-{expo.code}.{fmt}")


# --- the booth import -----------------------------------------------------------------------------------------------

def _max_import_bytes() -> int:
    cfg = current_app.config
    return int(cfg.get("BOOTH_IMPORT_MAX_BYTES") or cfg["MAX_UPLOAD_BYTES"])


@bp.route("/booths/import", methods=["GET", "POST"])
@allow(*ORGANIZERS)
def import_booths():
    expo = current_expo()
    form = ImportUploadForm()
    if not form.validate_on_submit():
        return render_template("venue/import.html", form=form, plan=None), 400 if request.method == "POST" else 200
    try:
        cells = imports.read_table(form.file.data.stream, _max_import_bytes())
    except ExpoError as exc:
        attach_error(form, exc)
        return render_template("venue/import.html", form=form, plan=None), exc.status
    plan = imports.plan_import(expo, cells)
    db.session.rollback()  # a preview writes nothing, not even autoflushed state
    confirm = ImportConfirmForm(formdata=None)
    confirm.rows.data = imports.sign_rows(current_app.config["SECRET_KEY"], cells) if plan.ok else ""
    return render_template("venue/import.html", form=form, plan=plan, confirm=confirm), 200 if plan.ok else 422


@bp.post("/booths/import/confirm")
@allow(*ORGANIZERS)
def confirm_import():
    expo = current_expo()
    confirm = ImportConfirmForm()
    if not confirm.validate_on_submit():
        flash(_("The preview has expired or was changed. Upload the file again."), "error")
        return render_template("venue/import.html", form=ImportUploadForm(formdata=None), plan=None), 400
    plan = None
    try:
        cells = imports.unsign_rows(current_app.config["SECRET_KEY"], confirm.rows.data)
        plan = imports.plan_import(expo, cells)  # again: the expo may have changed since the preview
        summary = imports.apply_import(current_user, expo, plan)
    except ExpoError as exc:
        db.session.rollback()
        flash(str(exc.message), "error")
        return render_template("venue/import.html", form=ImportUploadForm(formdata=None), plan=plan,
                               confirm=None), exc.status
    db.session.commit()
    flash(_("Booths imported: %(new)d new, %(changed)d changed, %(unchanged)d unchanged.", **summary), "success")
    return redirect(url_for("venue.booths"))
