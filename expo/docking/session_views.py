"""Docking sessions and the schedule: the organizer's pages (sessions, a session's grid of slots × tables, the
meetings waiting for a slot, placing / moving / unscheduling / pinning a meeting by hand, the automatic scheduler),
the availability pages where people mark when they cannot meet, and the sessions API.

The scheduler runs inline in the request: 3,000 meetings take well under a second (bench/scheduler.py), so it needs
no background job. Ownership: sessions and the schedule are the organizer's; a buyer manages their own busy periods,
a delegation leader their members', an exhibitor's accounts their company's; anyone else's is 404.
"""

from __future__ import annotations

import io
from datetime import datetime
from typing import Any

from flask import abort, current_app, flash, jsonify, redirect, render_template, request, send_file, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy import select

from expo import listing
from expo.api import schemas as s
from expo.api.bodies import json_body
from expo.api.openapi import operation
from expo.auth.access import ORGANIZERS, allow
from expo.auth.models import Role
from expo.buyers import access as buyer_access
from expo.buyers.models import Buyer
from expo.buyers.services import buyer_of
from expo.checkin.models import Checkpoint
from expo.docking import scheduling
from expo.docking import sessions as services
from expo.docking.blueprints import api_bp, bp
from expo.docking.models import BusyPeriod, DockingSession, Meeting, MeetingStatus
from expo.docking.session_forms import (
    BusyForm,
    DeleteSessionForm,
    PinForm,
    PlaceForm,
    ScheduleForm,
    SessionForm,
)
from expo.errorpages import error_response
from expo.errors import InvalidInput, NotFound
from expo.exhibitors.models import Exhibitor
from expo.exhibitors.services import current_expo
from expo.extensions import db
from expo.formflow import run_form
from expo.forms import form_errors, from_json, shape_errors
from expo.i18n import current_lang, localized
from expo.venue import queries as venue_queries
from expo.venue.models import Expo

MIMETYPES = {"csv": "text/csv; charset=utf-8",
             "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}
#: A session's grid shows every table as a column up to this many tables; beyond, the list per slot only.
GRID_MAX_TABLES = 30
#: Who has busy periods to manage besides the organizer.
PEOPLE = (Role.BUYER, Role.DELEGATION_LEADER, Role.EXHIBITOR)


def _session_form(expo: Expo, **kwargs) -> SessionForm:
    lang = current_lang()
    checkpoints = db.session.scalars(select(Checkpoint).where(Checkpoint.expo_id == expo.id)
                                     .order_by(Checkpoint.code))
    return SessionForm(checkpoints=[(c.id, f"{c.code} · {localized(c)}") for c in checkpoints],
                       pavilions=venue_queries.pavilion_choices(expo, lang),
                       categories=venue_queries.category_choices(lang), **kwargs)


def _session_data(form: SessionForm) -> services.SessionData:
    return services.SessionData(
        name_zh=form.name_zh.data or "", name_en=form.name_en.data or "", starts_at=form.starts_at.data,
        slot_minutes=form.slot_minutes.data or 0, slot_count=form.slot_count.data or 0,
        table_count=form.table_count.data or 0, room=form.room.data or "", checkpoint_id=form.checkpoint_id.data,
        pavilion_id=form.pavilion_id.data, category_id=form.category_id.data, published=bool(form.published.data),
        notes=form.notes.data or "")


def _meeting_for(expo: Expo, meeting_id: int) -> Meeting:
    meeting = db.session.get(Meeting, meeting_id)
    if meeting is None or meeting.expo_id != expo.id:
        raise NotFound(_l("There is no such meeting."))
    return meeting


def _said_no(form, outcome) -> None:
    """For the button-only forms that redirect: a refused form (an expired CSRF token) says so; a service's refusal
    is flashed by run_form already."""
    if not outcome.ok and form.errors:
        flash(_("The form has expired or was sent from another site. Reload the page and send it again."), "error")


def _session_choices(expo: Expo) -> list[tuple[int, str]]:
    return [(x.id, f"{localized(x)} · {x.starts_at:%m-%d %H:%M}") for x in scheduling.sessions_of(expo)]


# --- sessions (organizer) ------------------------------------------------------------------------------------------

@bp.get("/organizer/sessions")
@allow(*ORGANIZERS)
def sessions():
    expo = current_expo()
    accepted, scheduled, bound = scheduling.bound(expo)
    return render_template("docking/sessions.html", sessions=scheduling.sessions_of(expo),
                           counts=services.session_counts(expo), accepted=accepted, scheduled=scheduled,
                           bound=bound, form=ScheduleForm(), session_end=scheduling.session_end)


@bp.route("/organizer/sessions/new", methods=["GET", "POST"])
@allow(*ORGANIZERS)
def session_new():
    expo = current_expo()
    form = _session_form(expo)
    if request.method == "GET" and not form.starts_at.data:
        form.starts_at.data = datetime.combine(expo.starts_on, datetime.min.time()).replace(hour=9)
    outcome = run_form(form, lambda: services.save_session(current_user, expo, _session_data(form)))
    if outcome.ok:
        flash(_("The docking session %(name)s is created.", name=localized(outcome.value)), "success")
        return redirect(url_for("docking.session_grid", session_id=outcome.value.id))
    return render_template("docking/sessions_form.html", form=form, session=None), outcome.status


@bp.route("/organizer/sessions/<int:session_id>/edit", methods=["GET", "POST"])
@allow(*ORGANIZERS)
def session_edit(session_id: int):
    expo = current_expo()
    session = services.session_for(expo, session_id)
    form = _session_form(expo, obj=session) if request.method == "GET" else _session_form(expo)
    outcome = run_form(form, lambda: services.save_session(current_user, expo, _session_data(form), session,
                                                           unschedule=bool(form.unschedule.data)))
    if outcome.ok:
        flash(_("The docking session %(name)s is saved.", name=localized(session)), "success")
        return redirect(url_for("docking.session_grid", session_id=session.id))
    return render_template("docking/sessions_form.html", form=form, session=session,
                           delete_form=DeleteSessionForm(formdata=None)), outcome.status


@bp.post("/organizer/sessions/<int:session_id>/delete")
@allow(*ORGANIZERS)
def session_delete(session_id: int):
    expo = current_expo()
    session = services.session_for(expo, session_id)
    name = localized(session)
    form = DeleteSessionForm()
    outcome = run_form(form, lambda: services.delete_session(current_user, session,
                                                             unschedule=bool(form.unschedule.data)))
    _said_no(form, outcome)
    if outcome.ok:
        flash(_("The docking session %(name)s is deleted.", name=name), "success")
        return redirect(url_for("docking.sessions"))
    return redirect(url_for("docking.session_edit", session_id=session_id))  # the refusal is flashed


def _grid(session: DockingSession) -> list[dict[str, Any]]:
    """One row per slot: its times, its meetings by table, and how many tables are free."""
    placed = db.session.scalars(select(Meeting).where(Meeting.session_id == session.id)
                                .order_by(Meeting.slot, Meeting.table_no))
    by_slot: dict[int, dict[int, Meeting]] = {}
    for m in placed:
        by_slot.setdefault(m.slot or 0, {})[m.table_no or 0] = m
    return [{"index": k, "starts_at": scheduling.slot_start(session, k), "ends_at": scheduling.slot_end(session, k),
             "meetings": by_slot.get(k, {}), "free": session.table_count - len(by_slot.get(k, {}))}
            for k in range(session.slot_count)]


@bp.get("/organizer/sessions/<int:session_id>")
@allow(*ORGANIZERS)
def session_grid(session_id: int):
    expo = current_expo()
    session = services.session_for(expo, session_id)
    rows = _grid(session)
    return render_template("docking/sessions_grid.html", session=session, rows=rows,
                           wide=session.table_count <= GRID_MAX_TABLES, lang=current_lang(),
                           held=sum(len(r["meetings"]) for r in rows), schedule_form=ScheduleForm())


EXPORT_HEADERS = ["Session", "Slot", "Starts", "Ends", "Table", "Buyer", "Buyer company", "Country",
                  "Exhibitor", "Pinned", "Meeting"]


@bp.get("/organizer/sessions/<int:session_id>.<fmt>")
@allow(*ORGANIZERS)
def session_export(session_id: int, fmt: str):
    if fmt not in MIMETYPES:
        return error_response(404, _("Export as .csv or .xlsx."), "not_found")
    expo = current_expo()
    session = services.session_for(expo, session_id)
    lang = current_lang()
    rows = [[localized(session), r["index"] + 1, f"{r['starts_at']:%Y-%m-%d %H:%M}", f"{r['ends_at']:%H:%M}", table,
             m.buyer.name, m.buyer.company, m.buyer.country, m.exhibitor.display_name(lang),
             "yes" if m.pinned else "", m.id]
            for r in _grid(session) for table, m in sorted(r["meetings"].items())]
    body = listing.to_csv(EXPORT_HEADERS, rows) if fmt == "csv" else \
        listing.to_xlsx(EXPORT_HEADERS, rows, title="Schedule")
    return send_file(io.BytesIO(body), mimetype=MIMETYPES[fmt], as_attachment=True,
                     download_name=f"docking-session-{session.id}.{fmt}")


@bp.get("/organizer/sessions/waiting")
@allow(*ORGANIZERS)
def waiting():
    """Accepted meetings without a slot, oldest first, to place by hand."""
    expo = current_expo()
    stmt = (select(Meeting).where(Meeting.expo_id == expo.id, Meeting.status == MeetingStatus.ACCEPTED,
                                  Meeting.session_id.is_(None)).order_by(Meeting.id))
    page = listing.paginate(stmt, request.args.get("page", 1, type=int) or 1,
                            int(current_app.config.get("PAGE_SIZE", 50)), scalars=True)
    return render_template("docking/sessions_waiting.html", page=page, lang=current_lang())


@bp.post("/organizer/sessions/schedule")
@allow(*ORGANIZERS)
def schedule_run():
    expo = current_expo()
    form = ScheduleForm()
    outcome = run_form(form, lambda: scheduling.schedule(current_user, expo, replan=bool(form.replan.data),
                                                         respect_themes=bool(form.respect_themes.data)))
    _said_no(form, outcome)
    if outcome.ok:
        r: scheduling.ScheduleResult = outcome.value
        flash(_("%(n)d of %(m)d accepted meetings scheduled; upper bound %(b)d.", n=r.scheduled, m=r.accepted,
                b=r.bound), "success")
    back = request.form.get("next", "")
    if back.isdigit():
        return redirect(url_for("docking.session_grid", session_id=int(back)))
    return redirect(url_for("docking.sessions"))


# --- one meeting by hand (organizer) -----------------------------------------------------------------------------

@bp.route("/organizer/meetings/<int:meeting_id>/place", methods=["GET", "POST"])
@allow(*ORGANIZERS)
def sched_place(meeting_id: int):
    expo = current_expo()
    meeting = _meeting_for(expo, meeting_id)
    choices = _session_choices(expo)
    if request.method == "GET":
        data = {"session_id": meeting.session_id, "slot": (meeting.slot or 0) + 1 if meeting.scheduled else None,
                "table_no": meeting.table_no, "pin": True}
        form = PlaceForm(data=data, sessions=choices)
    else:
        form = PlaceForm(sessions=choices)

    def place():
        session = services.session_for(expo, form.session_id.data or 0)
        return scheduling.place(current_user, meeting, session, (form.slot.data or 0) - 1, form.table_no.data or 0,
                                pin=bool(form.pin.data))

    outcome = run_form(form, place)
    if outcome.ok:
        flash(_("The meeting is scheduled."), "success")
        return redirect(url_for("docking.session_grid", session_id=meeting.session_id))
    return render_template("docking/sessions_place.html", form=form, meeting=meeting, lang=current_lang(),
                           slot_start=scheduling.slot_start, free=scheduling.free_cells(meeting)), outcome.status


def _back(meeting: Meeting, session_id: int | None):
    if session_id:
        return redirect(url_for("docking.session_grid", session_id=session_id))
    return redirect(url_for("docking.sched_place", meeting_id=meeting.id))


@bp.post("/organizer/meetings/<int:meeting_id>/unschedule")
@allow(*ORGANIZERS)
def sched_unschedule(meeting_id: int):
    expo = current_expo()
    meeting = _meeting_for(expo, meeting_id)
    session_id = meeting.session_id
    form = PinForm()  # CSRF only
    outcome = run_form(form, lambda: scheduling.unschedule(current_user, meeting))
    _said_no(form, outcome)
    if outcome.ok:
        flash(_("The meeting is unscheduled."), "success")
    return _back(meeting, session_id)


@bp.post("/organizer/meetings/<int:meeting_id>/pin")
@allow(*ORGANIZERS)
def sched_pin(meeting_id: int):
    expo = current_expo()
    meeting = _meeting_for(expo, meeting_id)
    form = PinForm()
    outcome = run_form(form, lambda: scheduling.set_pinned(current_user, meeting, bool(form.pinned.data)))
    _said_no(form, outcome)
    if outcome.ok:
        flash(_("The meeting is pinned.") if meeting.pinned else _("The meeting is unpinned."), "success")
    return _back(meeting, meeting.session_id)


# --- availability (busy periods) -----------------------------------------------------------------------------------

def _buyer_for(expo: Expo, buyer_id: int) -> Buyer:
    buyer = db.session.get(Buyer, buyer_id)
    if buyer is None or buyer.expo_id != expo.id or not buyer_access.may_see_buyer(current_user, buyer):
        abort(404)
    return buyer


def _exhibitor_for(exhibitor_id: int) -> Exhibitor:
    exhibitor = db.session.get(Exhibitor, exhibitor_id)
    if exhibitor is None or not (current_user.is_organizer or current_user.exhibitor_id == exhibitor.id):
        abort(404)
    return exhibitor


@bp.get("/availability")
@allow(*PEOPLE)
def availability():
    """The signed-in person's availability: their own page, or a leader's list of members."""
    expo = current_expo()
    if current_user.role == Role.EXHIBITOR:
        if not current_user.exhibitor_id:
            abort(403)
        return redirect(url_for("docking.availability_exhibitor", exhibitor_id=current_user.exhibitor_id))
    if current_user.role == Role.BUYER:
        buyer = buyer_of(current_user, expo)
        if buyer is None:
            abort(404)
        return redirect(url_for("docking.availability_buyer", buyer_id=buyer.id))
    members = [m for d in buyer_access.led_delegations(current_user, expo) for m in d.members]
    return render_template("docking/sessions_members.html", members=members)


def _busy_page(expo: Expo, *, buyer: Buyer | None = None, exhibitor: Exhibitor | None = None):
    form = BusyForm()
    if request.method == "GET":
        form.day.data = expo.starts_on

    def add():
        starts_at, ends_at = services.busy_span(form.day.data, form.start.data, form.end.data)
        return services.add_busy(current_user, expo, buyer=buyer, exhibitor=exhibitor, starts_at=starts_at,
                                 ends_at=ends_at, note=form.note.data or "")

    outcome = run_form(form, add)
    if outcome.ok:
        flash(_("Saved."), "success")
        return redirect(request.path)
    who = buyer.name if buyer is not None else exhibitor.display_name(current_lang())  # type: ignore[union-attr]
    return render_template("docking/sessions_busy.html", form=form, who=who,
                           periods=services.busy_periods(buyer=buyer, exhibitor=exhibitor),
                           delete_form=DeleteSessionForm(formdata=None)), outcome.status


@bp.route("/availability/buyer/<int:buyer_id>", methods=["GET", "POST"])
@allow(*ORGANIZERS, Role.BUYER, Role.DELEGATION_LEADER)
def availability_buyer(buyer_id: int):
    expo = current_expo()
    return _busy_page(expo, buyer=_buyer_for(expo, buyer_id))


@bp.route("/availability/exhibitor/<int:exhibitor_id>", methods=["GET", "POST"])
@allow(*ORGANIZERS, Role.EXHIBITOR)
def availability_exhibitor(exhibitor_id: int):
    return _busy_page(current_expo(), exhibitor=_exhibitor_for(exhibitor_id))


@bp.post("/availability/<int:busy_id>/delete")
@allow(*ORGANIZERS, *PEOPLE)
def availability_delete(busy_id: int):
    expo = current_expo()
    period = db.session.get(BusyPeriod, busy_id)
    if period is None or period.expo_id != expo.id:
        abort(404)
    if period.buyer_id is not None:
        _buyer_for(expo, period.buyer_id)
        back = url_for("docking.availability_buyer", buyer_id=period.buyer_id)
    else:
        _exhibitor_for(period.exhibitor_id or 0)
        back = url_for("docking.availability_exhibitor", exhibitor_id=period.exhibitor_id)
    form = DeleteSessionForm()
    outcome = run_form(form, lambda: services.remove_busy(current_user, period))
    _said_no(form, outcome)
    if outcome.ok:
        flash(_("Removed."), "success")
    return redirect(back)


# --- API ---------------------------------------------------------------------------------------------------------------

SESSION = {"id": "integer", "name_zh": "string", "name_en": "string", "room": "string",
           "checkpoint_id": s.NULLABLE_INT, "pavilion_id": s.NULLABLE_INT, "category_id": s.NULLABLE_INT,
           "starts_at": {"type": "string", "description": "venue time, YYYY-MM-DDTHH:MM"},
           "ends_at": {"type": "string", "description": "venue time, YYYY-MM-DDTHH:MM"},
           "slot_minutes": "integer", "slot_count": "integer", "table_count": "integer", "published": "boolean",
           "notes": "string", "scheduled": {"type": "integer", "description": "meetings scheduled in it"}}
PLACED = {"meeting_id": "integer", "slot": {"type": "integer", "description": "1-based"}, "table_no": "integer",
          "starts_at": "string", "buyer_id": "integer", "buyer": "string", "exhibitor_id": "integer",
          "exhibitor": "string", "pinned": "boolean"}
SESSION_DETAIL = {**SESSION, "meetings": {"type": "array", "items": s.schema(PLACED)}}
SCHEDULE_RESULT = {"accepted": "integer", "scheduled": "integer", "bound": {
    "type": "integer", "description": "no schedule can hold more"}, "placed": "integer", "moved": "integer",
    "unplaced": "integer", "message": "string"}


def _local(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M")


def session_json(session: DockingSession, scheduled: int, **extra: Any) -> dict[str, Any]:
    return {"id": session.id, "name_zh": session.name_zh, "name_en": session.name_en, "room": session.room,
            "checkpoint_id": session.checkpoint_id, "pavilion_id": session.pavilion_id,
            "category_id": session.category_id, "starts_at": _local(session.starts_at),
            "ends_at": _local(scheduling.session_end(session)), "slot_minutes": session.slot_minutes,
            "slot_count": session.slot_count, "table_count": session.table_count, "published": session.published,
            "notes": session.notes, "scheduled": scheduled, **extra}


def _validated(form):
    valid = form.validate()
    errors = form_errors(form)
    if errors or not valid:
        raise InvalidInput(errors)
    return form


def _api_session_form(expo: Expo, payload: dict[str, Any]) -> SessionForm:
    shape = shape_errors(SessionForm(formdata=None, meta={"csrf": False}), payload)
    if shape:
        raise InvalidInput(shape)
    lang = current_lang()
    checkpoints = db.session.scalars(select(Checkpoint.id).where(Checkpoint.expo_id == expo.id))
    form = from_json(SessionForm, payload, checkpoints=[(c, "") for c in checkpoints],
                     pavilions=venue_queries.pavilion_choices(expo, lang),
                     categories=venue_queries.category_choices(lang))
    return _validated(form)


@api_bp.get("/sessions")
@allow(*ORGANIZERS)
@operation("The docking sessions, in time order", tag="docking",
           response={"type": "object", "required": ["items"],
                     "properties": {"items": {"type": "array", "items": s.schema(SESSION)}}})
def api_sessions():
    expo = current_expo()
    counts = services.session_counts(expo)
    return jsonify(items=[session_json(x, counts.get(x.id, 0)) for x in scheduling.sessions_of(expo)])


@api_bp.post("/sessions")
@allow(*ORGANIZERS)
@operation("Create a docking session", tag="docking", body=SessionForm, response=s.schema(SESSION), status=201)
def api_session_create():
    expo = current_expo()
    form = _api_session_form(expo, json_body())
    session = services.save_session(current_user, expo, _session_data(form))
    out = session_json(session, 0)
    db.session.commit()
    return jsonify(out), 201


def _placed_json(session: DockingSession) -> list[dict[str, Any]]:
    lang = current_lang()
    return [{"meeting_id": m.id, "slot": k + 1, "table_no": table, "starts_at": _local(row["starts_at"]),
             "buyer_id": m.buyer_id, "buyer": m.buyer.name, "exhibitor_id": m.exhibitor_id,
             "exhibitor": m.exhibitor.display_name(lang), "pinned": m.pinned}
            for k, row in enumerate(_grid(session)) for table, m in sorted(row["meetings"].items())]


@api_bp.get("/sessions/<int:session_id>")
@allow(*ORGANIZERS)
@operation("A docking session with its scheduled meetings", tag="docking", response=s.schema(SESSION_DETAIL))
def api_session(session_id: int):
    session = services.session_for(current_expo(), session_id)
    meetings = _placed_json(session)
    return jsonify(session_json(session, len(meetings), meetings=meetings))


@api_bp.patch("/sessions/<int:session_id>")
@allow(*ORGANIZERS)
@operation("Change a docking session", tag="docking", body=SessionForm, response=s.schema(SESSION),
           description="Only the fields sent change. A change that would strand scheduled meetings (fewer slots or "
                       "tables, a new time) is refused with 409 'stranded' unless the body has unschedule: true.",
           errors={409: "the change would strand scheduled meetings"})
def api_session_update(session_id: int):
    expo = current_expo()
    session = services.session_for(expo, session_id)
    payload = json_body()
    stored = session_json(session, 0)
    merged = {k: stored[k] for k in ("name_zh", "name_en", "room", "checkpoint_id", "pavilion_id", "category_id",
                                     "starts_at", "slot_minutes", "slot_count", "table_count", "published", "notes")}
    merged.update(payload)
    form = _api_session_form(expo, merged)
    services.save_session(current_user, expo, _session_data(form), session, unschedule=bool(form.unschedule.data))
    db.session.commit()
    counts = services.session_counts(expo)
    return jsonify(session_json(session, counts.get(session.id, 0)))


@api_bp.delete("/sessions/<int:session_id>")
@allow(*ORGANIZERS)
@operation("Delete a docking session", tag="docking", response=None, status=204,
           description="Refused with 409 'stranded' while meetings are scheduled in it, unless ?unschedule=true.",
           errors={409: "meetings are scheduled in the session"})
def api_session_delete(session_id: int):
    session = services.session_for(current_expo(), session_id)
    services.delete_session(current_user, session, unschedule=request.args.get("unschedule") in ("true", "1", "y"))
    db.session.commit()
    return "", 204


@api_bp.post("/sessions/schedule")
@allow(*ORGANIZERS)
@operation("Run the automatic scheduler", tag="docking", body=ScheduleForm, response=s.schema(SCHEDULE_RESULT),
           description="Places the accepted meetings into the sessions' slots and tables, as many as possible; "
                       "pinned meetings stay, and so do placed ones unless replan is true.")
def api_schedule():
    payload = json_body()
    form = from_json(ScheduleForm, {"respect_themes": True, **payload})
    errors = shape_errors(form, payload)
    if errors:
        raise InvalidInput(errors)
    _validated(form)
    r = scheduling.schedule(current_user, current_expo(), replan=bool(form.replan.data),
                            respect_themes=bool(form.respect_themes.data))
    db.session.commit()
    return jsonify(accepted=r.accepted, scheduled=r.scheduled, bound=r.bound, placed=r.placed, moved=r.moved,
                   unplaced=r.unplaced,
                   message=_("%(n)d of %(m)d accepted meetings scheduled; upper bound %(b)d.", n=r.scheduled,
                             m=r.accepted, b=r.bound))

