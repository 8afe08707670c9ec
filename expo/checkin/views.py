"""The gate's pages: checkpoints (organizers), the scanner page (gate staff), the live dashboard and the scan log.

The scanner page is a shell: ``expo/static/gate.js`` does the scanning. It posts each scan to the scan API
(:mod:`expo.checkin.api`) with the page's CSRF token (the session cookie signs it in), keeps the offline bundle in
the browser, verifies codes itself when the network is gone, and uploads the scans it queued when it is back.
"""

from __future__ import annotations

import io
from datetime import date

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, send_file, url_for
from flask_babel import format_date
from flask_babel import gettext as _
from flask_login import current_user
from flask_wtf.csrf import generate_csrf

from expo import listing
from expo.auth.access import ORGANIZERS, allow
from expo.auth.models import Role
from expo.badges import services as badge_services
from expo.charts import bar_chart, top_n
from expo.checkin import checkpoints as checkpoint_services
from expo.checkin import dashboard, services
from expo.checkin.forms import (
    DIRECTION_LABELS,
    KIND_LABELS,
    MODE_LABELS,
    REASON_LABELS,
    RESULT_LABELS,
    CheckpointForm,
    DayForm,
    ScanLogFilterForm,
    reason_label,
    result_label,
)
from expo.checkin.models import Checkpoint, ScanResult
from expo.exhibitors.services import current_expo
from expo.extensions import db
from expo.formflow import filter_args, run_form
from expo.i18n import current_lang, localized
from expo.venue.models import Expo

bp = Blueprint("checkin", __name__)

SCANNERS = (Role.GATE, *ORGANIZERS)
MIMETYPES = {"csv": "text/csv; charset=utf-8",
             "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}
#: How often the live dashboard reloads itself while it shows today (seconds).
REFRESH_SECONDS = 10


def _checkpoint_for(expo: Expo, checkpoint_id: int) -> Checkpoint:
    checkpoint = db.session.get(Checkpoint, checkpoint_id)
    if checkpoint is None or checkpoint.expo_id != expo.id:
        abort(404)
    return checkpoint


# --- checkpoints (organizers) ---------------------------------------------------------------------------------------

def _day_label(expo: Expo, day: date) -> str:
    label = format_date(day, "medium")
    return _("%(day)s (build-up)", day=label) if day < expo.starts_on else label


def _checkpoint_form(expo: Expo, **kwargs) -> CheckpointForm:
    types = sorted(badge_services.ensure_types(expo).values(), key=lambda t: (t.sort, t.code))
    return CheckpointForm(badge_types=[(t.id, f"{t.code} · {localized(t)}") for t in types],
                          days=[(d.isoformat(), _day_label(expo, d)) for d in badge_services.admission_days(expo)],
                          **kwargs)


def _checkpoint_data(form: CheckpointForm) -> checkpoint_services.CheckpointData:
    return checkpoint_services.CheckpointData(
        code=form.code.data or "", name_zh=form.name_zh.data or "", name_en=form.name_en.data or "",
        kind=form.kind.data or "", hall_code=form.hall_code.data or "", badge_type_ids=tuple(form.badge_type_ids.data
                                                                                            or ()),
        days=tuple(form.days.data or ()), mode=form.mode.data or "", reentry=bool(form.reentry.data),
        auto_checkout_at=form.auto_checkout_at.data, active=bool(form.active.data))


def _type_names(expo: Expo) -> dict[int, str]:
    return {t.id: t.code for t in badge_services.ensure_types(expo).values()}


@bp.get("/organizer/gate/checkpoints")
@allow(*ORGANIZERS)
def checkpoints():
    expo = current_expo()
    rows = checkpoint_services.checkpoints_of(expo)
    type_names = _type_names(expo)
    db.session.commit()  # the default badge types, the first time
    return render_template("checkin/checkpoints.html", checkpoints=rows, type_names=type_names,
                           kinds=KIND_LABELS, modes=MODE_LABELS)


@bp.route("/organizer/gate/checkpoints/new", methods=["GET", "POST"])
@allow(*ORGANIZERS)
def checkpoint_new():
    expo = current_expo()
    form = _checkpoint_form(expo)
    outcome = run_form(form, lambda: checkpoint_services.save_checkpoint(current_user, expo, _checkpoint_data(form)))
    if outcome.ok:
        flash(_("Checkpoint %(code)s is created.", code=outcome.value.code), "success")
        return redirect(url_for("checkin.checkpoints"))
    db.session.commit()  # the default badge types, the first time
    return render_template("checkin/checkpoint_form.html", form=form, checkpoint=None,
                           halls=expo.halls), outcome.status


@bp.route("/organizer/gate/checkpoints/<int:checkpoint_id>", methods=["GET", "POST"])
@allow(*ORGANIZERS)
def checkpoint_edit(checkpoint_id: int):
    expo = current_expo()
    checkpoint = _checkpoint_for(expo, checkpoint_id)
    form = _checkpoint_form(expo, obj=checkpoint) if request.method == "GET" else _checkpoint_form(expo)
    outcome = run_form(form, lambda: checkpoint_services.save_checkpoint(current_user, expo, _checkpoint_data(form),
                                                                        checkpoint))
    if outcome.ok:
        flash(_("Checkpoint %(code)s is saved.", code=checkpoint.code), "success")
        return redirect(url_for("checkin.checkpoints"))
    return render_template("checkin/checkpoint_form.html", form=form, checkpoint=checkpoint,
                           halls=expo.halls), outcome.status


# --- the scanner (gate staff) -----------------------------------------------------------------------------------------

@bp.get("/gate/")
@allow(*SCANNERS)
def choose():
    expo = current_expo()
    return render_template("checkin/choose.html", kinds=KIND_LABELS,
                           checkpoints=checkpoint_services.checkpoints_of(expo, active_only=True))


def _scanner_config(checkpoint: Checkpoint) -> dict:
    """What gate.js needs: the checkpoint, where to post, the CSRF token, and every word it shows."""
    reasons = {str(k): str(v) for k, v in REASON_LABELS.items()}
    return {
        "checkpoint": {"id": checkpoint.id, "code": checkpoint.code, "name": localized(checkpoint),
                       "mode": checkpoint.mode, "zone": checkpoint.zone, "reentry": checkpoint.reentry},
        "urls": {"scan": url_for("gate_api.scan"), "batch": url_for("gate_api.scan_batch"),
                 "bundle": url_for("gate_api.bundle", checkpoint_id=checkpoint.id),
                 "choose": url_for("checkin.choose")},
        "csrf": generate_csrf(),
        "lang": current_lang(),
        "labels": {
            "results": {str(k): str(v) for k, v in RESULT_LABELS.items()},
            "reasons": reasons,
            "offline": _("Offline check"),
            "offline_note": _("Checked on this device without the network; it will be uploaded later."),
            "online": _("Online"),
            "no_network": _("No network: scans are checked on this device and queued."),
            "queued": _("Scans waiting to upload: %(n)s", n="{n}"),
            "bundle": _("Offline data: %(n)s badges, updated %(time)s", n="{n}", time="{time}"),
            "no_bundle": _("No offline data yet: the device cannot check badges without the network."),
            "unknown_holder": _("Name not in the offline data"),
            "signed_out": _("You are signed out. Sign in again to scan."),
            "error": _("The scan was not taken: %(message)s", message="{message}"),
            "no_crypto": _("This browser cannot check signatures offline (it needs HTTPS and a current Chrome)."),
            "camera_unavailable": _("Camera scanning needs a browser with barcode detection (Chrome on Android). "
                                    "Use a barcode scanner or type the code."),
            "camera_error": _("The camera could not be started: %(message)s", message="{message}"),
            "camera_start": _("Scan with the camera"),
            "camera_stop": _("Stop the camera"),
            "entry": str(DIRECTION_LABELS["in"]),
            "exit": str(DIRECTION_LABELS["out"]),
        },
    }


@bp.get("/gate/<int:checkpoint_id>")
@allow(*SCANNERS)
def scanner(checkpoint_id: int):
    expo = current_expo()
    checkpoint = _checkpoint_for(expo, checkpoint_id)
    return render_template("checkin/scanner.html", checkpoint=checkpoint, gate_config=_scanner_config(checkpoint),
                           kinds=KIND_LABELS)


# --- the live dashboard (organizers) ----------------------------------------------------------------------------------

@bp.get("/organizer/gate")
@allow(*ORGANIZERS)
def dashboard_page():
    expo = current_expo()
    now = services.utcnow()
    today = dashboard.today(now)
    form = DayForm(request.args)
    day = form.day.data if form.validate() and form.day.data else today
    hourly = dashboard.entries_per_hour(expo, day)
    by_type = dashboard.inside_by_type(expo, now)
    by_country = dashboard.inside_by_country(expo, now)
    lang = current_lang()
    shown = [c for c in hourly.checkpoints if hourly.total(c.id)]
    if 1 < len(shown) <= 6:
        hour_rows = [(f"{h:02d}:00", tuple(hourly.counts.get(c.id, {}).get(h, 0) for c in shown))
                     for h in hourly.hours]
        series = [c.code for c in shown]
    else:
        hour_rows = [(f"{h:02d}:00", hourly.hour_total(h)) for h in hourly.hours]
        series = []
    charts = {
        "hours": bar_chart(hour_rows, series=series, title=_("Entries per hour"), empty_text=_("No entries")),
        "types": bar_chart([(localized(t), n) for t, n in by_type], title=_("Inside now by badge type"),
                           empty_text=_("Nobody inside"), width=420),
        "countries": bar_chart(top_n([(_country_label(c, lang), n) for c, n in by_country], 15,
                                     other_label=_("Others")), title=_("Inside now by country or region"),
                               empty_text=_("Nobody inside"), width=420),
    }
    return render_template(
        "checkin/dashboard.html", form=form, day=day, today=today, hourly=hourly, by_type=by_type,
        by_country=by_country, by_zone=dashboard.inside_by_zone(expo, now),
        refusals=dashboard.refusals_by_reason(expo, day), totals=dashboard.day_totals(expo, day), charts=charts,
        days=badge_services.admission_days(expo), refresh=REFRESH_SECONDS if day == today else None,
        reason_label=reason_label, checkpoints=hourly.checkpoints, inside_total=sum(n for _t, n in by_type))


def _country_label(code: str, lang: str) -> str:
    from expo import countries

    return countries.name(code, lang) if code else _("Unknown")


# --- the scan log (organizers) ----------------------------------------------------------------------------------------

FILTER_KEYS = ("checkpoint_id", "result", "reason", "day", "q")


def _log_filter(expo: Expo) -> tuple[ScanLogFilterForm, dashboard.ScanFilter | None]:
    choices = [(c.id, f"{c.code} · {localized(c)}") for c in checkpoint_services.checkpoints_of(expo)]
    form = ScanLogFilterForm(request.args, checkpoints=choices)
    if not form.validate():
        return form, None
    d = form.data
    return form, dashboard.ScanFilter(checkpoint_id=d["checkpoint_id"], result=d["result"] or None,
                                      reason=d["reason"] or None, day=d["day"], q=d["q"] or None)



@bp.get("/organizer/gate/scans")
@allow(*ORGANIZERS)
def scans():
    expo = current_expo()
    form, flt = _log_filter(expo)
    if flt is None:
        return render_template("checkin/scans.html", form=form, page=None, args={}), 400
    per_page = form.per_page.data or int(current_app.config.get("PAGE_SIZE", 50))
    page = listing.paginate(dashboard.scan_query(expo, flt), form.page.data or 1, per_page)
    return render_template("checkin/scans.html", form=form, page=page, args=filter_args(FILTER_KEYS),
                           local=dashboard.to_local, reason_label=reason_label, result_label=result_label,
                           refused=ScanResult.REFUSED.value)


@bp.get("/organizer/gate/scans.<fmt>")
@allow(*ORGANIZERS)
def scans_export(fmt: str):
    if fmt not in MIMETYPES:
        abort(404)
    expo = current_expo()
    _form, flt = _log_filter(expo)
    if flt is None:
        abort(400)
    rows = dashboard.export_rows(db.session.execute(dashboard.scan_query(expo, flt)), current_lang(),
                                 reason_label=reason_label)
    body = listing.to_csv(dashboard.EXPORT_HEADERS, rows) if fmt == "csv" else \
        listing.to_xlsx(dashboard.EXPORT_HEADERS, rows, title="Scans")
    return send_file(io.BytesIO(body), mimetype=MIMETYPES[fmt], as_attachment=True,
                     download_name=f"scans-{expo.code}.{fmt}")
