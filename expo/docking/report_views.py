"""Outcome and report pages and API calls of the docking blueprints.

Pages: record the outcome of a meeting (``/docking/meetings/<id>/outcome``: the meeting's buyer, their delegation's
leader, the exhibitor, or an organizer; anyone else gets 404), and the organizer's docking report (headline,
breakdowns, charts) with its PDF and XLSX. API: GET/PUT ``/api/v1/docking/meetings/<id>/outcome`` and GET
``/api/v1/docking/reports/summary`` (organizer).
"""

from __future__ import annotations

import io
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from flask import current_app, flash, jsonify, redirect, render_template, request, send_file, url_for
from flask_babel import format_date
from flask_babel import gettext as _
from flask_login import current_user

from expo import charts
from expo.api import schemas as s
from expo.api.bodies import validated
from expo.api.openapi import operation
from expo.auth.access import ORGANIZERS, allow
from expo.auth.models import Role
from expo.docking import currencies, outcomes, report_render, reports
from expo.docking.blueprints import api_bp, bp
from expo.docking.models import Meeting, MeetingOutcome, OutcomeResult
from expo.docking.outcome_forms import OutcomeForm, result_label
from expo.errors import ExpoError, InvalidInput
from expo.exhibitors.services import current_expo
from expo.extensions import db
from expo.formflow import run_form
from expo.i18n import current_lang, localized

#: Who may open a meeting's outcome; :func:`outcomes.may_record` then decides which meetings.
MEETING_SIDES = (Role.BUYER, Role.DELEGATION_LEADER, Role.EXHIBITOR, *ORGANIZERS)
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _data(form: OutcomeForm) -> outcomes.OutcomeData:
    return outcomes.OutcomeData(result=form.result.data or "", products=form.products.data or "",
                                quantity_pairs=form.quantity_pairs.data or 0,
                                value=form.value.data if form.value.data is not None else Decimal(0),
                                currency=form.currency.data or "", expected_order_on=form.expected_order_on.data,
                                notes=form.notes.data or "")


def _initial(outcome: MeetingOutcome | None) -> dict[str, Any]:
    if outcome is None:
        return {"currency": "CNY"}
    return {"result": outcome.result, "products": outcome.products, "quantity_pairs": outcome.quantity_pairs or None,
            "value": Decimal(outcome.value) if outcome.value else None, "currency": outcome.currency,
            "expected_order_on": outcome.expected_order_on, "notes": outcome.notes}


def _form(table, outcome: MeetingOutcome | None = None) -> OutcomeForm:
    codes = currencies.codes(table)
    if request.method == "GET":
        return OutcomeForm(data=_initial(outcome), currency_codes=codes)
    return OutcomeForm(currency_codes=codes)


@bp.record_once
def _check_rates(state) -> None:
    """A wrong ``DOCKING_CNY_RATES`` stops the app at start-up instead of failing every outcome and report."""
    outcomes.rate_table(state.app.config)


# --- pages ---------------------------------------------------------------------------------------------------------

@bp.route("/meetings/<int:meeting_id>/outcome", methods=["GET", "POST"])
@allow(*MEETING_SIDES)
def outcome(meeting_id: int):
    meeting = outcomes.meeting_for(current_user, current_expo(), meeting_id)
    table = outcomes.rate_table(current_app.config)
    form = _form(table, meeting.outcome)
    result = run_form(form, lambda: outcomes.record_outcome(current_user, meeting, _data(form), table))
    if result.ok:
        flash(_("The outcome of the meeting is saved."), "success")
        return redirect(url_for("docking.outcome", meeting_id=meeting.id))
    return render_template("docking/outcome.html", form=form, meeting=meeting, lang=current_lang(),
                           when=_slot_start(meeting), result_label=result_label), result.status


def _slot_start(meeting: Meeting) -> datetime | None:
    """When the meeting's slot starts (venue time), if it is scheduled."""
    if meeting.session is None or meeting.slot is None:
        return None
    return meeting.session.starts_at + timedelta(minutes=meeting.slot * meeting.session.slot_minutes)


def _labels() -> report_render.Labels:
    expo = current_expo()
    return report_render.Labels(
        title=_("Supply-demand docking report"), expo=localized(expo, "name"),
        generated=_("As of %(date)s", date=format_date(date.today())), totals=_("Totals"),
        companies=_("Companies with a cooperation"), buyers=_("Buyers with a cooperation"), meetings=_("Meetings"),
        held=_("Held"), intentions=_("Intentions"), agreements=_("Agreements"), pairs=_("Pairs"),
        value=_("Value (yuan)"), total=_("Total"), chart_pavilion=_("Value in yuan per pavilion"),
        chart_country=_("Value in yuan per buyer country or region"), session=_("By docking session"),
        pavilion=_("By pavilion"), country=_("By buyer country or region"), delegation=_("By delegation"),
        headline=_("Headline"), name=_("Name"))


def _value_chart(rows: list[reports.Row], title: str):
    return charts.bar_chart(charts.top_n([(r.label, float(r.figures.value_cny)) for r in rows], 12,
                                         other_label=_("Others")), title=title, empty_text=_("None yet"))


@bp.get("/reports")
@allow(*ORGANIZERS)
def report():
    lang = current_lang()
    data = reports.report(current_expo(), lang)
    labels = _labels()
    charts_ = {"pavilion": _value_chart(data.breakdowns["pavilion"], labels.chart_pavilion),
               "country": _value_chart(data.breakdowns["country"], labels.chart_country)}
    return render_template("docking/report.html", report=data, labels=labels, charts=charts_, lang=lang,
                           totals={k: report_render.total(v) for k, v in data.breakdowns.items()})


@bp.get("/reports/docking-report.pdf")
@allow(*ORGANIZERS)
def report_pdf():
    expo = current_expo()
    body = report_render.render_pdf(reports.report(expo, current_lang()), _labels())
    return send_file(io.BytesIO(body), mimetype="application/pdf", as_attachment=True,
                     download_name=f"docking-report-{expo.code}.pdf")


@bp.get("/reports/docking-report.xlsx")
@allow(*ORGANIZERS)
def report_xlsx():
    expo = current_expo()
    body = report_render.render_xlsx(reports.report(expo, current_lang()), _labels())
    return send_file(io.BytesIO(body), mimetype=XLSX, as_attachment=True,
                     download_name=f"docking-report-{expo.code}.xlsx")


# --- API -----------------------------------------------------------------------------------------------------------

OUTCOME = {"meeting_id": "integer",
           "result": {"type": "string", "enum": [r.value for r in OutcomeResult]},
           "products": "string", "quantity_pairs": "integer",
           "value": {"type": "string", "description": "in the currency, two decimals, as text (exact)"},
           "currency": {"type": "string", "description": "ISO 4217"},
           "value_cny": {"type": "string", "description": "in yuan at the rates of the day it was recorded"},
           "expected_order_on": s.NULLABLE_STR, "notes": "string", "recorded_by_id": s.NULLABLE_INT,
           "updated_at": "string"}
FIGURES = {"meetings": "integer", "held": "integer", "intentions": "integer", "agreements": "integer",
           "pairs": "integer", "value_cny": "string"}
ROW = {"key": {"type": ["integer", "string", "null"]}, "label": "string", **FIGURES}
SUMMARY = {"headline": {"type": "object", "properties": {k: {"type": v} for k, v in
                                                         {**FIGURES, "companies": "integer",
                                                          "buyers": "integer"}.items()}},
           "sentence_en": "string", "sentence_zh": "string",
           **{name: {"type": "array", "items": s.schema(ROW)} for name in reports.BREAKDOWNS}}


def outcome_json(meeting: Meeting, outcome: MeetingOutcome) -> dict[str, Any]:
    return {"meeting_id": meeting.id, "result": outcome.result, "products": outcome.products,
            "quantity_pairs": int(outcome.quantity_pairs), "value": f"{Decimal(outcome.value):.2f}",
            "currency": outcome.currency, "value_cny": f"{Decimal(outcome.value_cny):.2f}",
            "expected_order_on": outcome.expected_order_on.isoformat() if outcome.expected_order_on else None,
            "notes": outcome.notes, "recorded_by_id": outcome.recorded_by_id,
            "updated_at": s._value(outcome.updated_at)}


def _figures_json(f: reports.Figures) -> dict[str, Any]:
    return {"meetings": f.meetings, "held": f.held, "intentions": f.intentions, "agreements": f.agreements,
            "pairs": f.pairs, "value_cny": f"{f.value_cny:.2f}"}


@api_bp.get("/meetings/<int:meeting_id>/outcome")
@allow(*MEETING_SIDES)
@operation("The outcome of a meeting", tag="docking", response=s.schema(OUTCOME),
           description="For the meeting's buyer, their delegation's leader, the exhibitor and organizers; 404 for "
                       "anyone else's meeting, and (error no_outcome) while none is recorded.")
def api_outcome(meeting_id: int):
    meeting = outcomes.meeting_for(current_user, current_expo(), meeting_id)
    if meeting.outcome is None:
        raise ExpoError(_("No outcome has been recorded for this meeting yet."), code="no_outcome", status=404)
    return jsonify(outcome_json(meeting, meeting.outcome))


@api_bp.put("/meetings/<int:meeting_id>/outcome")
@allow(*MEETING_SIDES)
@operation("Record or change the outcome of an accepted meeting", tag="docking", body=OutcomeForm,
           response=s.schema(OUTCOME), errors={409: "the meeting is not accepted"},
           description="The whole outcome is sent each time. A cooperation (intention or agreement) needs products "
                       "and a quantity or a value; none and no_show carry no figures. The value in yuan is "
                       "computed at the rates in force when the value or currency changes.")
def api_record_outcome(meeting_id: int):
    payload = request.get_json(silent=True)
    if not isinstance(payload, dict):
        raise InvalidInput({}, _("Send a JSON object with the header 'Content-Type: application/json'."))
    meeting = outcomes.meeting_for(current_user, current_expo(), meeting_id)
    table = outcomes.rate_table(current_app.config)
    form = validated(OutcomeForm, payload, currency_codes=currencies.codes(table))
    try:
        recorded = outcomes.record_outcome(current_user, meeting, _data(form), table)
    except outcomes.OutcomeError as exc:
        db.session.rollback()
        body: dict[str, Any] = {"error": exc.code, "message": str(exc.message)}
        if exc.field:
            body["fields"] = {exc.field: [str(exc.message)]}
        return jsonify(body), exc.status
    out = outcome_json(meeting, recorded)
    db.session.commit()
    return jsonify(out)


@api_bp.get("/reports/summary")
@allow(*ORGANIZERS)
@operation("The docking report: headline figures and sentences, and the breakdowns", tag="docking",
           response=s.schema(SUMMARY),
           description="By session, pavilion, buyer country and delegation: accepted meetings, meetings held, "
                       "intentions, agreements, and the pairs and value in yuan of the cooperations.")
def api_report_summary():
    data = reports.report(current_expo(), current_lang())
    head = data.headline
    return jsonify(headline={**_figures_json(head), "companies": head.companies, "buyers": head.buyers},
                   sentence_en=data.sentence_en, sentence_zh=data.sentence_zh,
                   **{name: [{"key": r.key, "label": r.label, **_figures_json(r.figures)} for r in rows]
                      for name, rows in data.breakdowns.items()})

