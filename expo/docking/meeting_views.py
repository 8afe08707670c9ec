"""Meeting pages (blueprint ``docking``, /docking/...) and API (``docking_api``, /api/v1/docking/...).

Pages: asking for a meeting (``new_meeting``, linked from the recommendations with ``?exhibitor_id=`` or
``?buyer_id=``), "My meetings" for a buyer, a delegation leader (the members' meetings) and an exhibitor, with the
requests received (accept / decline), the requests sent (cancel) and the schedule; one meeting's page; the personal
schedule and its PDF; the organizer's list of every meeting with filters and CSV / XLSX export, any person's
schedule (page and PDF) and a delegation's schedules in one PDF.

Ownership is :mod:`expo.docking.meetings`' rule: what is not one's own is "not found" (404), on pages and API alike.
"""

from __future__ import annotations

import io
from typing import Any

from flask import abort, current_app, flash, jsonify, redirect, render_template, request, send_file, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select

from expo import audit, countries, listing
from expo.api import schemas as s
from expo.api.bodies import json_body, validated
from expo.api.openapi import operation
from expo.auth.access import ORGANIZERS, allow
from expo.auth.models import Role
from expo.buyers import access as buyer_access
from expo.buyers.models import Buyer, Delegation
from expo.docking import matching, meetings, schedule_pdf
from expo.docking.blueprints import api_bp, bp
from expo.docking.meeting_forms import MeetingAnswerForm, MeetingBodyForm, MeetingFilterForm, MeetingRequestForm
from expo.docking.models import BuyerNeed, ExhibitorOffer, Meeting, MeetingStatus
from expo.errorpages import error_response
from expo.errors import InvalidInput, NotFound
from expo.exhibitors.models import Exhibitor
from expo.exhibitors.services import current_expo
from expo.extensions import db
from expo.formflow import filter_args, run_form
from expo.forms import form_errors, options
from expo.i18n import current_lang
from expo.venue.models import Expo

MIMETYPES = {"csv": "text/csv; charset=utf-8",
             "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}
FILTER_KEYS = ("status", "session_id", "country", "q")
PARTIES = (Role.BUYER, Role.DELEGATION_LEADER, Role.EXHIBITOR)
#: How many recommended partners the organizer's schedule page offers to arrange a meeting with.
SUGGESTIONS = 10


def _exhibitor_of_user() -> Exhibitor | None:
    if current_user.role != Role.EXHIBITOR or not current_user.exhibitor_id:
        return None
    return db.session.get(Exhibitor, current_user.exhibitor_id)


def _name(obj: Buyer | Exhibitor | None) -> str:
    return obj.display_name(current_lang()) if obj is not None else ""


# --- asking for a meeting -------------------------------------------------------------------------------------------

def _query_id(name: str) -> int | None:
    """A positive id from the query string (``?exhibitor_id=12``); anything else is none."""
    value = request.args.get(name, "")
    return int(value) if value.isdigit() and 0 < int(value) < 2**31 else None


def _request_parties(expo: Expo) -> tuple[list[Buyer], list[Exhibitor]]:
    """Whom the signed-in account may pick on the request page: the buyers it acts for (or the one named in the
    link) and the exhibitor named in the link (or its own company). 404 when the link names someone not allowed."""
    buyer_id, exhibitor_id = _query_id("buyer_id"), _query_id("exhibitor_id")
    own = _exhibitor_of_user()
    if own is not None:
        exhibitors = [own]
        if buyer_id is None:
            abort(404)
        buyers = [_found(lambda: meetings.buyer_at(current_user, expo, buyer_id))]
    elif current_user.is_organizer:
        if buyer_id is None or exhibitor_id is None:
            abort(404)
        buyers = [_found(lambda: meetings.buyer_at(current_user, expo, buyer_id))]
        exhibitors = [_found(lambda: meetings.exhibitor_at(expo, exhibitor_id))]
    else:
        if exhibitor_id is None:
            abort(404)
        exhibitors = [_found(lambda: meetings.exhibitor_at(expo, exhibitor_id))]
        buyers = meetings.own_buyers(current_user, expo)
        if buyer_id is not None:
            buyers = [b for b in buyers if b.id == buyer_id]
        if not buyers:
            abort(404)
    return buyers, exhibitors


def _found(get):
    try:
        return get()
    except NotFound:
        abort(404)


def _request_form(expo: Expo, buyers: list[Buyer], exhibitors: list[Exhibitor]) -> MeetingRequestForm:
    lang = current_lang()
    form = MeetingRequestForm()
    form.buyer_id.choices = options([(b.id, b.display_name(lang) + (f" · {b.company}" if b.company else ""))
                                     for b in buyers])
    form.exhibitor_id.choices = options([(e.id, e.display_name(lang)) for e in exhibitors])
    needs = meetings.needs_of(*buyers)
    offers = [o for e in exhibitors for o in meetings.offers_of(e, expo)]
    form.need_id.choices = options([(None, _("None in particular"))] + [(n.id, n.title) for n in needs])
    form.offer_id.choices = options([(None, _("None in particular"))] + [(o.id, o.products) for o in offers])
    if request.method == "GET":
        form.buyer_id.data = buyers[0].id
        form.exhibitor_id.data = exhibitors[0].id
        # The need and offer that fit best, as the recommendation that linked here found them.
        fit = meetings.best_fit(buyers[0], exhibitors[0], expo)
        if fit is not None:
            form.need_id.data, form.offer_id.data = fit.need_id, fit.offer_id
    return form


@bp.route("/meetings/new", methods=["GET", "POST"])
@allow(*PARTIES, *ORGANIZERS)
def new_meeting():
    """Ask for a meeting: ``?exhibitor_id=`` for a buyer or a leader, ``?buyer_id=`` for an exhibitor, both for the
    organizer."""
    expo = current_expo()
    buyers, exhibitors = _request_parties(expo)
    form = _request_form(expo, buyers, exhibitors)

    def ask() -> Meeting:
        by_id = {b.id: b for b in buyers}
        return meetings.request_meeting(
            current_user, expo, by_id[form.buyer_id.data], {e.id: e for e in exhibitors}[form.exhibitor_id.data],
            need=db.session.get(BuyerNeed, form.need_id.data) if form.need_id.data else None,
            offer=db.session.get(ExhibitorOffer, form.offer_id.data) if form.offer_id.data else None,
            message=form.message.data, locale=current_lang())

    outcome = run_form(form, ask)
    if outcome.ok:
        meeting: Meeting = outcome.value
        flash(_("Your request is sent to %(name)s.", name=_name(
            meeting.exhibitor if meeting.requested_by != "exhibitor" else meeting.buyer)), "success")
        return redirect(url_for("docking.meeting", meeting_id=meeting.id))
    return render_template("docking/meetings_new.html", form=form, buyers=buyers, exhibitors=exhibitors,
                           choose_buyer=len(buyers) > 1), outcome.status


# --- one's own meetings ---------------------------------------------------------------------------------------------

def _my_schedules(expo: Expo) -> list[meetings.Schedule]:
    """The signed-in party's schedules: an exhibitor's one, a buyer's one, a leader's members' (and their own)."""
    own = _exhibitor_of_user()
    if own is not None:
        return [meetings.personal_schedule(expo, exhibitor=own)]
    return [meetings.personal_schedule(expo, buyer=b) for b in meetings.own_buyers(current_user, expo)]


@bp.get("/meetings")
@allow(*PARTIES, *ORGANIZERS)
def my_meetings():
    """Requests received, requests sent and the schedule of the signed-in buyer, leader or exhibitor."""
    if current_user.is_organizer:
        return redirect(url_for("docking.meeting_list"))
    schedules = _my_schedules(current_expo())
    return render_template("docking/meetings_mine.html", schedules=schedules, answer_form=MeetingAnswerForm(),
                           lang=current_lang(), status_label=meetings.status_label)


@bp.get("/meetings/<int:meeting_id>")
@allow(*PARTIES, *ORGANIZERS)
def meeting(meeting_id: int):
    expo = current_expo()
    m = meetings.meeting_for(current_user, expo, meeting_id)
    return _meeting_page(m, MeetingAnswerForm(), 200)


def _meeting_page(m: Meeting, form: MeetingAnswerForm, status: int):
    lang = current_lang()
    line = meetings.entry(m, meetings.Party("exhibitor", m.exhibitor_id, "", ""), include_drafts=current_user.is_organizer)
    # The outcome is recorded on the outcomes' own page (expo.docking.report_views), once the meeting is accepted.
    outcome_url = url_for("docking.outcome", meeting_id=m.id) if m.status == MeetingStatus.ACCEPTED and \
        "docking.outcome" in current_app.view_functions else None
    return render_template("docking/meetings_detail.html", m=m, line=line, form=form, lang=lang, outcome_url=outcome_url,
                           may_answer=meetings.may_answer(current_user, m),
                           may_cancel=meetings.may_cancel(current_user, m),
                           status_label=meetings.status_label, requested_by_label=_requested_by_label), status


def _requested_by_label(value: str) -> str:
    return str(meetings.REQUESTED_BY_LABELS.get(value, value))  # type: ignore[call-overload]


ACTIONS = {"accept": meetings.accept, "decline": meetings.decline, "cancel": meetings.cancel}


def _page_action(meeting_id: int, action: str):
    """Accept, decline or cancel (each a CSRF-protected POST with an optional note)."""
    expo = current_expo()
    m = meetings.meeting_for(current_user, expo, meeting_id)
    form = MeetingAnswerForm()
    outcome = run_form(form, lambda: ACTIONS[action](current_user, m, form.note.data))
    if outcome.ok:
        flash({"accept": _("The meeting is accepted."), "decline": _("The request is declined."),
               "cancel": _("The meeting is cancelled.")}[action], "success")
        back = request.form.get("next", "")
        return redirect(back if back in _back_targets(m) else url_for("docking.meeting", meeting_id=m.id))
    db.session.refresh(m)
    return _meeting_page(m, form, outcome.status)


@bp.post("/meetings/<int:meeting_id>/accept")
@allow(*PARTIES, *ORGANIZERS)
def meeting_accept(meeting_id: int):
    return _page_action(meeting_id, "accept")


@bp.post("/meetings/<int:meeting_id>/decline")
@allow(*PARTIES, *ORGANIZERS)
def meeting_decline(meeting_id: int):
    return _page_action(meeting_id, "decline")


@bp.post("/meetings/<int:meeting_id>/cancel")
@allow(*PARTIES, *ORGANIZERS)
def meeting_cancel(meeting_id: int):
    return _page_action(meeting_id, "cancel")


def _back_targets(m: Meeting) -> set[str]:
    """Where an answer may return to (the pages that show the buttons)."""
    return {url_for("docking.my_meetings"), url_for("docking.meeting_list"),
            url_for("docking.meeting", meeting_id=m.id)}


# --- schedules ------------------------------------------------------------------------------------------------------

@bp.get("/schedule")
@allow(*PARTIES)
def my_schedule():
    """The signed-in person's schedule (a leader: each member's)."""
    expo = current_expo()
    schedules = _my_schedules(expo)
    led = buyer_access.led_delegations(current_user, expo) if current_user.role == Role.DELEGATION_LEADER else []
    return render_template("docking/schedule.html", schedules=schedules, lang=current_lang(),
                           pdf_url=url_for("docking.my_schedule_pdf"), organizer=False,
                           delegation_pdfs=[(d.name, url_for("docking.delegation_schedule_pdf", delegation_id=d.id))
                                            for d in led])


@bp.get("/schedule.pdf")
@allow(*PARTIES)
def my_schedule_pdf():
    expo = current_expo()
    return _pdf(expo, _my_schedules(expo), f"schedule-{expo.code}.pdf")


def _pdf(expo: Expo, schedules: list[meetings.Schedule], filename: str):
    if not schedules:
        abort(404)
    body = schedule_pdf.render(schedule_document(expo, schedules))
    return send_file(io.BytesIO(body), mimetype="application/pdf", as_attachment=True, download_name=filename)


def schedule_document(expo: Expo, schedules: list[meetings.Schedule]) -> schedule_pdf.Document:
    """The PDF's data: the expo's names and dates, the schedules, and the countries named in both languages."""
    codes = {sch.country for sch in schedules} | {e.other.country for sch in schedules
                                                  for e in (*sch.meetings, *sch.incoming, *sch.outgoing)}
    names = {c: " / ".join(dict.fromkeys(n for n in (countries.name(c, "en"), countries.name(c, "zh")) if n))
             for c in codes if c}
    return schedule_pdf.Document(expo.name_zh, expo.name_en, expo.starts_on, expo.ends_on, schedules, names,
                                 venue=" ".join(x for x in (expo.venue_en, expo.city_en) if x))


def _organizer_buyer(buyer_id: int) -> Buyer:
    return buyer_access.buyer_for(current_user, current_expo(), buyer_id)


@bp.get("/organizer/buyers/<int:buyer_id>/schedule")
@allow(*ORGANIZERS)
def buyer_schedule(buyer_id: int):
    expo = current_expo()
    buyer = _organizer_buyer(buyer_id)
    lang = current_lang()
    suggestions = [(card.exhibitor.display_name(lang), ", ".join(card.products), card.match.score,
                    url_for("docking.new_meeting", buyer_id=buyer.id, exhibitor_id=card.exhibitor.id))
                   for card in matching.exhibitor_cards(expo, matching.for_buyer(buyer, SUGGESTIONS))]
    return render_template("docking/schedule.html", lang=lang, organizer=True, suggestions=suggestions,
                           schedules=[meetings.personal_schedule(expo, buyer=buyer, include_drafts=True)],
                           pdf_url=url_for("docking.buyer_schedule_pdf", buyer_id=buyer.id),
                           delegation_pdf_url=url_for("docking.delegation_schedule_pdf",
                                                      delegation_id=buyer.delegation_id)
                           if buyer.delegation_id else None)


@bp.get("/organizer/buyers/<int:buyer_id>/schedule.pdf")
@allow(*ORGANIZERS)
def buyer_schedule_pdf(buyer_id: int):
    expo = current_expo()
    buyer = _organizer_buyer(buyer_id)
    return _pdf(expo, [meetings.personal_schedule(expo, buyer=buyer)], f"schedule-{expo.code}-buyer-{buyer.id}.pdf")


def _organizer_exhibitor(exhibitor_id: int) -> Exhibitor:
    return _found(lambda: meetings.exhibitor_at(current_expo(), exhibitor_id))


@bp.get("/organizer/exhibitors/<int:exhibitor_id>/schedule")
@allow(*ORGANIZERS)
def exhibitor_schedule(exhibitor_id: int):
    expo = current_expo()
    exhibitor = _organizer_exhibitor(exhibitor_id)
    suggestions = [(card.name, " · ".join(x for x in (card.company, countries.name(card.country, current_lang()))
                                          if x), card.match.score,
                    url_for("docking.new_meeting", buyer_id=card.match.buyer_id, exhibitor_id=exhibitor.id))
                   for card in matching.buyer_cards(matching.for_exhibitor(exhibitor, expo, SUGGESTIONS))]
    return render_template("docking/schedule.html", lang=current_lang(), organizer=True, suggestions=suggestions,
                           schedules=[meetings.personal_schedule(expo, exhibitor=exhibitor, include_drafts=True)],
                           pdf_url=url_for("docking.exhibitor_schedule_pdf", exhibitor_id=exhibitor.id))


@bp.get("/organizer/exhibitors/<int:exhibitor_id>/schedule.pdf")
@allow(*ORGANIZERS)
def exhibitor_schedule_pdf(exhibitor_id: int):
    expo = current_expo()
    exhibitor = _organizer_exhibitor(exhibitor_id)
    return _pdf(expo, [meetings.personal_schedule(expo, exhibitor=exhibitor)],
                f"schedule-{expo.code}-exhibitor-{exhibitor.id}.pdf")


@bp.get("/delegations/<int:delegation_id>/schedule.pdf")
@allow(Role.DELEGATION_LEADER, *ORGANIZERS)
def delegation_schedule_pdf(delegation_id: int):
    """All members' schedules of a delegation in one PDF (its leader, or the organizer)."""
    expo = current_expo()
    delegation: Delegation = buyer_access.delegation_for(current_user, expo, delegation_id)
    schedules = meetings.delegation_schedules(expo, delegation)
    if not schedules:
        return error_response(404, _("This delegation has no members yet."), "not_found")
    return _pdf(expo, schedules, f"schedule-{expo.code}-delegation-{delegation.id}.pdf")


# --- the organizer's list -------------------------------------------------------------------------------------------

def _filter(expo: Expo) -> tuple[MeetingFilterForm, meetings.MeetingFilter | None]:
    form = MeetingFilterForm(request.args, sessions=meetings.sessions_of(expo),
                             country_codes=meetings.countries_of(expo), locale=current_lang())
    if not form.validate():
        return form, None
    d = form.data
    return form, meetings.MeetingFilter(status=d["status"] or None, session_id=d["session_id"],
                                        country=d["country"] or None, q=d["q"] or None)


def _page_size(form: MeetingFilterForm) -> int:
    return form.per_page.data or int(current_app.config.get("PAGE_SIZE", 50))


@bp.get("/organizer/meetings")
@allow(*ORGANIZERS)
def meeting_list():
    expo = current_expo()
    form, flt = _filter(expo)
    context: dict[str, Any] = dict(form=form, lang=current_lang(), status_label=meetings.status_label,
                                   counts=meetings.counts(expo), slot_start=meetings.slot_start)
    if flt is None:
        return render_template("docking/meetings_list.html", page=None, args={}, **context), 400
    page = listing.paginate(meetings.meeting_query(current_user, expo, flt), form.page.data or 1, _page_size(form))
    return render_template("docking/meetings_list.html", page=page, args=filter_args(FILTER_KEYS), **context)


@bp.get("/organizer/meetings.<fmt>")
@allow(*ORGANIZERS)
def meeting_export(fmt: str):
    if fmt not in MIMETYPES:
        return error_response(404, _("Export as .csv or .xlsx."), "not_found")
    expo = current_expo()
    _form, flt = _filter(expo)
    if flt is None:
        return error_response(400, _("The filters are not valid."), "invalid")
    rows = list(meetings.export_rows(db.session.execute(meetings.meeting_query(current_user, expo, flt))))
    body = listing.to_csv(meetings.EXPORT_HEADERS, rows) if fmt == "csv" else \
        listing.to_xlsx(meetings.EXPORT_HEADERS, rows, title="Meetings")
    audit.record(current_user, "meetings_exported", expo, format=fmt, rows=len(rows))
    db.session.commit()
    return send_file(io.BytesIO(body), mimetype=MIMETYPES[fmt], as_attachment=True,
                     download_name=f"meetings-{expo.code}.{fmt}")


# --- API ------------------------------------------------------------------------------------------------------------

PARTY = {"kind": {"type": "string", "enum": ["buyer", "exhibitor"]}, "id": "integer", "name_en": "string",
         "name_zh": "string", "company": "string", "country": "string"}
MEETING = {"id": "integer", "status": {"type": "string", "enum": [str(x) for x in MeetingStatus]},
           "requested_by": {"type": "string", "enum": ["buyer", "exhibitor", "organizer"]},
           "buyer": s.schema(PARTY), "exhibitor": s.schema(PARTY), "need_id": s.NULLABLE_INT,
           "offer_id": s.NULLABLE_INT, "message": "string", "answer_note": "string",
           "score": {"type": s.NULLABLE_INT, "description": "how well the pair fitted when it was requested "
                                                            "(0–100, as the recommendations score it)"},
           "answered_at": s.NULLABLE_DT, "created_at": "string",
           "session_id": {"type": s.NULLABLE_INT, "description": "null until scheduled (and, for the parties, "
                                                                 "until the session is published)"},
           "session_name_en": "string", "session_name_zh": "string", "room": "string", "table_no": s.NULLABLE_INT,
           "slot": s.NULLABLE_INT,
           "starts_at": {"type": s.NULLABLE_STR, "description": "local venue time, ISO 8601 without zone"},
           "ends_at": s.NULLABLE_STR,
           "may_answer": {"type": "boolean", "description": "you may accept or decline it now"},
           "may_cancel": {"type": "boolean", "description": "you may cancel it now"}}
ENTRY = {"meeting_id": "integer", "status": "string", "requested_by": "string", "other": s.schema(PARTY),
         "session_name_en": "string", "session_name_zh": "string", "room": "string", "table_no": s.NULLABLE_INT,
         "slot": s.NULLABLE_INT, "starts_at": s.NULLABLE_STR, "ends_at": s.NULLABLE_STR, "message": "string"}
SCHEDULE = {**PARTY, "meetings": {"type": "array", "items": s.schema(ENTRY)},
            "incoming": {"type": "array", "items": s.schema(ENTRY)},
            "outgoing": {"type": "array", "items": s.schema(ENTRY)}}
SCHEDULES = {"schedules": {"type": "array", "items": s.schema(SCHEDULE)}}
ANSWER_ERRORS = {409: "the meeting is no longer in a state that allows this (code status or has_outcome)"}


def _local(dt) -> str | None:
    return dt.isoformat(timespec="minutes") if dt is not None else None


def _party_json(p: meetings.Party) -> dict[str, Any]:
    return {"kind": p.kind, "id": p.id, "name_en": p.name_en, "name_zh": p.name_zh, "company": p.company,
            "country": p.country}


def meeting_json(m: Meeting) -> dict[str, Any]:
    organizer = current_user.is_organizer
    line = meetings.entry(m, meetings.Party("exhibitor", m.exhibitor_id, "", ""), include_drafts=organizer)
    return {"id": m.id, "status": m.status, "requested_by": m.requested_by,
            "buyer": _party_json(meetings.Party("buyer", m.buyer.id, m.buyer.name, m.buyer.name_native or "",
                                                m.buyer.company, m.buyer.country)),
            "exhibitor": _party_json(meetings.Party("exhibitor", m.exhibitor.id, m.exhibitor.name_en or "",
                                                    m.exhibitor.name_zh or "", "", m.exhibitor.country)),
            "need_id": m.need_id, "offer_id": m.offer_id, "message": m.message, "answer_note": m.answer_note,
            "score": m.score,
            "answered_at": s._value(m.answered_at), "created_at": s._value(m.created_at),
            "session_id": m.session_id if line.placed else None, "session_name_en": line.session_name_en,
            "session_name_zh": line.session_name_zh, "room": line.room, "table_no": line.table_no,
            "slot": line.slot, "starts_at": _local(line.starts_at), "ends_at": _local(line.ends_at),
            "may_answer": meetings.may_answer(current_user, m), "may_cancel": meetings.may_cancel(current_user, m)}


def _entry_json(e: meetings.Entry) -> dict[str, Any]:
    return {"meeting_id": e.meeting_id, "status": e.status, "requested_by": e.requested_by,
            "other": _party_json(e.other), "session_name_en": e.session_name_en,
            "session_name_zh": e.session_name_zh, "room": e.room, "table_no": e.table_no, "slot": e.slot,
            "starts_at": _local(e.starts_at), "ends_at": _local(e.ends_at), "message": e.message}


def schedule_json(sch: meetings.Schedule) -> dict[str, Any]:
    return {"kind": sch.kind, "id": sch.id, "name_en": sch.name_en, "name_zh": sch.name_zh, "company": sch.company,
            "country": sch.country, "meetings": [_entry_json(e) for e in sch.meetings],
            "incoming": [_entry_json(e) for e in sch.incoming], "outgoing": [_entry_json(e) for e in sch.outgoing]}


@api_bp.get("/meetings")
@allow(*PARTIES, *ORGANIZERS)
@operation("Meetings you may see, filtered and paginated like the organizer's list", tag="docking",
           query=MeetingFilterForm, response=s.page_schema(s.schema(MEETING)),
           description="A buyer sees their own meetings, a delegation leader the members', an exhibitor's account "
                       "the company's, the organizer all.")
def api_meetings():
    expo = current_expo()
    form, flt = _filter(expo)
    if flt is None:
        raise InvalidInput(form_errors(form))
    page = listing.paginate(meetings.meeting_query(current_user, expo, flt), form.page.data or 1, _page_size(form))
    return jsonify(items=[meeting_json(m) for m, _b, _e, _s in page.items], page=page.page, per_page=page.per_page,
                   total=page.total, pages=page.pages)


@api_bp.post("/meetings")
@allow(*PARTIES, *ORGANIZERS)
@operation("Ask for a meeting between a buyer and an exhibitor", tag="docking", body=MeetingBodyForm,
           response=s.schema(MEETING), status=201,
           errors={409: "the pair already has a meeting requested or accepted (code duplicate)"},
           description="A buyer names the exhibitor (buyer_id defaults to themselves); a delegation leader names "
                       "the member and the exhibitor; an exhibitor's account names the buyer (who must have agreed "
                       "to be contacted); the organizer names both.")
def api_request():
    payload = json_body()
    form = validated(MeetingBodyForm, payload)
    expo = current_expo()
    own = _exhibitor_of_user()
    buyer_id, exhibitor_id = form.buyer_id.data, form.exhibitor_id.data
    if buyer_id is None and current_user.role == Role.BUYER:
        mine = meetings.own_buyers(current_user, expo)
        buyer_id = mine[0].id if mine else None
    if exhibitor_id is None and own is not None:
        exhibitor_id = own.id
    missing = {name: [str(_("This field is required."))] for name, value in
               (("buyer_id", buyer_id), ("exhibitor_id", exhibitor_id)) if value is None}
    if missing:
        raise InvalidInput(missing)
    buyer = meetings.buyer_at(current_user, expo, buyer_id)
    exhibitor = meetings.exhibitor_at(expo, exhibitor_id)
    need = db.session.get(BuyerNeed, form.need_id.data) if form.need_id.data else None
    offer = db.session.get(ExhibitorOffer, form.offer_id.data) if form.offer_id.data else None
    if form.need_id.data and need is None:
        raise InvalidInput({"need_id": [str(_("There is no such purchase need."))]})
    if form.offer_id.data and offer is None:
        raise InvalidInput({"offer_id": [str(_("There is no such offer."))]})
    m = meetings.request_meeting(current_user, expo, buyer, exhibitor, need=need, offer=offer,
                                 message=form.message.data, locale=current_lang())
    out = meeting_json(m)
    db.session.commit()
    return jsonify(out), 201


@api_bp.get("/meetings/<int:meeting_id>")
@allow(*PARTIES, *ORGANIZERS)
@operation("One meeting", tag="docking", response=s.schema(MEETING))
def api_meeting(meeting_id: int):
    return jsonify(meeting_json(meetings.meeting_for(current_user, current_expo(), meeting_id)))


def _api_action(meeting_id: int, action: str):
    payload = request.get_json(silent=True)
    payload = payload if isinstance(payload, dict) else {}
    form = validated(MeetingAnswerForm, {k: v for k, v in payload.items() if k == "note"})
    m = meetings.meeting_for(current_user, current_expo(), meeting_id)
    ACTIONS[action](current_user, m, form.note.data)
    out = meeting_json(m)
    db.session.commit()
    return jsonify(out)


@api_bp.post("/meetings/<int:meeting_id>/accept")
@allow(*PARTIES, *ORGANIZERS)
@operation("Accept a meeting request (the side asked, or the organizer)", tag="docking", body=MeetingAnswerForm,
           response=s.schema(MEETING), errors=ANSWER_ERRORS)
def api_accept(meeting_id: int):
    return _api_action(meeting_id, "accept")


@api_bp.post("/meetings/<int:meeting_id>/decline")
@allow(*PARTIES, *ORGANIZERS)
@operation("Decline a meeting request, with an optional note (the side asked, or the organizer)", tag="docking",
           body=MeetingAnswerForm, response=s.schema(MEETING), errors=ANSWER_ERRORS)
def api_decline(meeting_id: int):
    return _api_action(meeting_id, "decline")


@api_bp.post("/meetings/<int:meeting_id>/cancel")
@allow(*PARTIES, *ORGANIZERS)
@operation("Withdraw a request or call off a meeting (the side that asked, or the organizer)", tag="docking",
           body=MeetingAnswerForm, response=s.schema(MEETING), errors=ANSWER_ERRORS,
           description="A scheduled meeting loses its session, slot and table.")
def api_cancel(meeting_id: int):
    return _api_action(meeting_id, "cancel")


@api_bp.get("/schedule")
@allow(*PARTIES, *ORGANIZERS)
@operation("Your schedule: accepted meetings by time, requests received and sent", tag="docking",
           response=s.schema(SCHEDULES),
           description="One schedule for a buyer or an exhibitor's account, one per member for a delegation "
                       "leader. The organizer names a person with ?buyer_id= or ?exhibitor_id=.")
def api_my_schedule():
    expo = current_expo()
    if current_user.is_organizer:
        buyer_id, exhibitor_id = _query_id("buyer_id"), _query_id("exhibitor_id")
        if buyer_id is not None:
            buyer = db.session.scalar(select(Buyer).where(Buyer.id == buyer_id, Buyer.expo_id == expo.id))
            if buyer is None:
                raise NotFound(_("There is no such buyer."))
            schedules = [meetings.personal_schedule(expo, buyer=buyer, include_drafts=True)]
        elif exhibitor_id is not None:
            schedules = [meetings.personal_schedule(expo, exhibitor=meetings.exhibitor_at(expo, exhibitor_id),
                                                    include_drafts=True)]
        else:
            raise InvalidInput({"buyer_id": [str(_("Name a buyer or an exhibitor."))]})
    else:
        schedules = _my_schedules(expo)
    return jsonify(schedules=[schedule_json(x) for x in schedules])
