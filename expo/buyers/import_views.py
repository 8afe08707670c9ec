"""Import pages: buyers (the organizer) and delegation members (the leader into their own delegation, the organizer
into any), each with its upload → preview → confirm and its export in the import's columns.

Thin: :mod:`expo.buyers.imports` holds the rules, :func:`expo.buyers.access.delegation_for` says whose delegation
is whose (another leader's is "not found"). A preview writes nothing (its reads of passport data are audited and
committed); a confirm validates the signed rows again and writes all of them in one transaction, or none.
"""

from __future__ import annotations

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, send_file, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf.file import FileField, FileRequired
from wtforms import HiddenField
from wtforms.validators import DataRequired

from expo import tables
from expo.auth.access import ORGANIZERS, allow
from expo.auth.models import Role
from expo.buyers import imports
from expo.buyers.access import delegation_for
from expo.buyers.models import Delegation
from expo.errors import ExpoError
from expo.exhibitors.services import current_expo
from expo.extensions import db
from expo.formflow import attach_error
from expo.forms import ExpoForm

bp = Blueprint("buyer_imports", __name__)

LEADER, ORGANIZER = "leader", "organizer"
#: A preview shows at most this many rows (the errors first); the counts cover them all.
PREVIEW_ROWS = 500


class UploadForm(ExpoForm):
    file = FileField(_l("Spreadsheet (CSV or XLSX)"), [FileRequired(_l("Choose a file."))])


class ConfirmForm(ExpoForm):
    rows = HiddenField(validators=[DataRequired()])


def max_bytes() -> int:
    return int(current_app.config.get("BUYER_IMPORT_MAX_BYTES") or imports.MAX_BYTES)


@bp.url_value_preprocessor
def _request_limits(endpoint, values):
    """These pages take files up to :func:`max_bytes` and a confirm field holding every row of the file, both above
    the app's general request limits; raised for these requests only, before anything reads the body."""
    request.max_content_length = max_bytes() + 64 * 1024
    # The parser reads in 64 KB chunks and checks each against this limit too: never below Werkzeug's default.
    request.max_form_memory_size = max(4 * max_bytes(), 500_000)


def _with_passports() -> bool:
    return request.args.get("passports") in ("1", "yes", "true")


# --- shared steps --------------------------------------------------------------------------------------------------

def _preview(template: str, plan_for, salt: str, **context):
    form = UploadForm()
    if not form.validate_on_submit():
        return render_template(template, form=form, plan=None, **context), 400 if request.method == "POST" else 200
    try:
        cells = imports.read_upload(form.file.data.stream, max_bytes())
        plan = plan_for(cells)
    except ExpoError as exc:
        db.session.rollback()
        attach_error(form, exc)
        return render_template(template, form=form, plan=None, **context), exc.status
    # A preview writes nothing of the import; it keeps the audit entries of the passport data it compared.
    _keep_only_audit()
    confirm = ConfirmForm(formdata=None)
    confirm.rows.data = tables.sign_rows(current_app.config["SECRET_KEY"], cells, salt) if plan.ok else ""
    return render_template(template, form=form, plan=plan, confirm=confirm, shown=_shown(plan), **context), \
        200 if plan.ok else 422


def _keep_only_audit() -> None:
    from expo.audit import AuditEntry

    for obj in list(db.session.new) + list(db.session.dirty):
        if not isinstance(obj, AuditEntry):  # pragma: no cover - a plan adds nothing else; refuse to keep it if it did
            db.session.rollback()
            return
    db.session.commit()


def _shown(plan: imports.ImportPlan) -> list[imports.ImportRow]:
    return (plan.bad_rows or plan.rows)[:PREVIEW_ROWS]


def _confirm(template: str, plan_for, apply, salt: str, **context):
    confirm = ConfirmForm()
    if not confirm.validate_on_submit():
        flash(_("The preview has expired or was changed. Upload the file again."), "error")
        return render_template(template, form=UploadForm(formdata=None), plan=None, **context), 400
    plan = None
    try:
        cells = tables.unsign_rows(current_app.config["SECRET_KEY"], confirm.rows.data, salt)
        plan = plan_for(cells)  # again: the database may have changed since the preview
        summary = apply(plan)
    except ExpoError as exc:
        db.session.rollback()
        flash(str(exc.message), "error")
        return render_template(template, form=UploadForm(formdata=None), plan=plan, confirm=None,
                               shown=_shown(plan) if plan else [], **context), exc.status
    db.session.commit()
    return summary


def _send(export):
    try:
        body, mimetype, name = export()
    except ExpoError as exc:
        abort(exc.status)
    db.session.commit()  # the audit entries of an export with passport data
    response = send_file(body, mimetype=mimetype, as_attachment=True, download_name=name)
    response.headers["Cache-Control"] = "private, no-store"
    return response


# --- buyers (the organizer) ----------------------------------------------------------------------------------------

BUYERS_TEMPLATE = "buyer_imports/buyers.html"


def _limits() -> dict:
    return {"max_mb": max(1, round(max_bytes() / 1024 / 1024)), "max_rows": imports.MAX_ROWS}


def _buyers_context() -> dict:
    return {"columns": imports.BUYER_COLUMNS, **_limits()}


@bp.route("/organizer/buyers/import", methods=["GET", "POST"])
@allow(*ORGANIZERS)
def buyers():
    expo = current_expo()
    return _preview(BUYERS_TEMPLATE, lambda cells: imports.plan_buyers(current_user, expo, cells),
                    imports.BUYER_SALT, **_buyers_context())


@bp.post("/organizer/buyers/import/confirm")
@allow(*ORGANIZERS)
def buyers_confirm():
    expo = current_expo()
    outcome = _confirm(BUYERS_TEMPLATE, lambda cells: imports.plan_buyers(current_user, expo, cells),
                       lambda plan: imports.apply_buyers(current_user, expo, plan), imports.BUYER_SALT,
                       **_buyers_context())
    if not isinstance(outcome, dict):
        return outcome
    flash(_("Buyers imported: %(new)d new, %(unchanged)d unchanged.", new=outcome["new"],
            unchanged=outcome["unchanged"]), "success")
    return redirect(url_for("buyer_imports.buyers"))


@bp.get("/organizer/buyers/import/export.<fmt>")
@allow(*ORGANIZERS)
def buyers_export(fmt: str):
    """The buyers who travel on their own, in the import's columns; passport columns for an admin who asks."""
    if fmt not in tables.MIMETYPES:
        abort(404)
    expo = current_expo()

    def export():
        body, mimetype = imports.export_buyers(current_user, expo, fmt, with_passports=_with_passports())
        return body, mimetype, f"buyers-{expo.code}.{fmt}"

    return _send(export)


# --- delegation members (the leader, the organizer) ------------------------------------------------------------------

MEMBERS_TEMPLATE = "buyer_imports/members.html"


def _delegation_page(side: str, delegation: Delegation) -> str:
    """The delegation's own page (engineer B's), where the import returns to."""
    endpoint = f"delegations.{side}_delegation"
    if endpoint in current_app.view_functions:
        return url_for(endpoint, delegation_id=delegation.id)
    return url_for(f"buyer_imports.{side}_members", delegation_id=delegation.id)


def _members_context(side: str, delegation: Delegation) -> dict:
    return {"side": side, "delegation": delegation, "columns": imports.MEMBER_COLUMNS,
            "back_url": _delegation_page(side, delegation), **_limits()}


def _members(side: str, delegation_id: int):
    delegation = delegation_for(current_user, current_expo(), delegation_id)
    return _preview(MEMBERS_TEMPLATE, lambda cells: imports.plan_members(current_user, delegation, cells),
                    imports.MEMBER_SALT, **_members_context(side, delegation))


def _members_confirm(side: str, delegation_id: int):
    delegation = delegation_for(current_user, current_expo(), delegation_id)
    outcome = _confirm(MEMBERS_TEMPLATE, lambda cells: imports.plan_members(current_user, delegation, cells),
                       lambda plan: imports.apply_members(current_user, delegation, plan), imports.MEMBER_SALT,
                       **_members_context(side, delegation))
    if not isinstance(outcome, dict):
        return outcome
    flash(_("Members imported: %(new)d new, %(unchanged)d unchanged.", new=outcome["new"],
            unchanged=outcome["unchanged"]), "success")
    return redirect(_delegation_page(side, delegation))


def _members_export(delegation_id: int, fmt: str, *, with_passports: bool):
    if fmt not in tables.MIMETYPES:
        abort(404)
    delegation = delegation_for(current_user, current_expo(), delegation_id)

    def export():
        body, mimetype = imports.export_members(current_user, delegation, fmt, with_passports=with_passports)
        return body, mimetype, f"delegation-{delegation.id}-members.{fmt}"

    return _send(export)


@bp.route("/leader/delegations/<int:delegation_id>/members/import", methods=["GET", "POST"])
@allow(Role.DELEGATION_LEADER)
def leader_members(delegation_id: int):
    return _members(LEADER, delegation_id)


@bp.post("/leader/delegations/<int:delegation_id>/members/import/confirm")
@allow(Role.DELEGATION_LEADER)
def leader_members_confirm(delegation_id: int):
    return _members_confirm(LEADER, delegation_id)


@bp.get("/leader/delegations/<int:delegation_id>/members/export.<fmt>")
@allow(Role.DELEGATION_LEADER)
def leader_members_export(delegation_id: int, fmt: str):
    """The leader's own members with their passport data (they entered it): the export is audited."""
    return _members_export(delegation_id, fmt, with_passports=True)


@bp.route("/organizer/delegations/<int:delegation_id>/members/import", methods=["GET", "POST"])
@allow(*ORGANIZERS)
def organizer_members(delegation_id: int):
    return _members(ORGANIZER, delegation_id)


@bp.post("/organizer/delegations/<int:delegation_id>/members/import/confirm")
@allow(*ORGANIZERS)
def organizer_members_confirm(delegation_id: int):
    return _members_confirm(ORGANIZER, delegation_id)


@bp.get("/organizer/delegations/<int:delegation_id>/members/export.<fmt>")
@allow(*ORGANIZERS)
def organizer_members_export(delegation_id: int, fmt: str):
    """Without passport columns unless an organizer admin asks (``?passports=1``): then audited."""
    return _members_export(delegation_id, fmt, with_passports=_with_passports())
