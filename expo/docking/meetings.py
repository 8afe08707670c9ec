"""Meetings between a buyer and an exhibitor: requested by one side, answered by the other, called off; and each
person's schedule.

Who is who (one place for pages, API and PDF alike):

- the **buyer side** of a meeting is the buyer's own account and the leader of the buyer's delegation, who acts
  for the members;
- the **exhibitor side** is any account of the exhibitor;
- the **organizer** (admin and staff) may do anything either side may.

A request waits for the *other* side: a buyer's request for the exhibitor, an exhibitor's for the buyer; a meeting
arranged by the organizer waits for either side (the first answer counts). The organizer may answer any request.
Only the side that asked (or the organizer) cancels; a scheduled meeting loses its slot and table then. A declined
or cancelled meeting may be asked for again: the pair's one row reopens (the table allows one meeting per pair and
expo). Status changes are guarded ``UPDATE ... WHERE status = ...`` statements, so two answers at the same moment
cannot both win. Anything of another expo or not one's own is "not found" (404), so ids cannot be probed.

Services flush and write audit entries; the views commit.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from flask_babel import lazy_gettext as _l
from sqlalchemy import ColumnElement, Select, and_, false, func, or_, select, true, update
from sqlalchemy.orm import aliased, selectinload

from expo import audit
from expo.auth.models import Role, User
from expo.buyers.models import Buyer, BuyerStatus, Delegation
from expo.checkin.services import insert_ignoring_conflict
from expo.db import utcnow
from expo.docking import matching
from expo.docking.matching import Match
from expo.docking.models import BuyerNeed, DockingSession, ExhibitorOffer, Meeting, MeetingStatus, RequestedBy
from expo.errors import ExpoError, Forbidden, NotFound
from expo.exhibitors.models import Exhibitor, SpaceApplication
from expo.extensions import db
from expo.i18n import localized
from expo.venue.models import Expo

MAX_MESSAGE = 2000
MAX_NOTE = 1000

#: Requests still waiting for an answer, and meetings that will (or may) take place.
OPEN = (MeetingStatus.REQUESTED, MeetingStatus.ACCEPTED)
#: A pair's meeting in one of these may be asked for again.
REOPENABLE = (MeetingStatus.DECLINED, MeetingStatus.CANCELLED)

STATUS_LABELS = {
    MeetingStatus.REQUESTED: _l("Requested"),
    MeetingStatus.ACCEPTED: _l("Accepted"),
    MeetingStatus.DECLINED: _l("Declined"),
    MeetingStatus.CANCELLED: _l("Cancelled"),
}
REQUESTED_BY_LABELS = {
    RequestedBy.BUYER: _l("Buyer"),
    RequestedBy.EXHIBITOR: _l("Exhibitor"),
    RequestedBy.ORGANIZER: _l("Organizer"),
}


class MeetingError(ExpoError):
    code = "meeting"


def status_label(status: str) -> str:
    return str(STATUS_LABELS.get(status, status))  # type: ignore[call-overload]


# --- who is who -----------------------------------------------------------------------------------------------------

def _led_members(user: User, expo: Expo) -> Select:
    """The ids of the buyers in the delegations of ``expo`` that ``user`` leads."""
    return select(Buyer.id).join(Delegation, Delegation.id == Buyer.delegation_id).where(
        Delegation.expo_id == expo.id, Delegation.leader_user_id == user.id)


def scope(user: User, expo: Expo) -> ColumnElement[bool]:
    """The condition on :class:`Meeting` rows ``user`` may see at ``expo`` (with ``Meeting.expo_id``)."""
    if not user.is_authenticated:
        return false()
    if user.is_organizer:
        mine: ColumnElement[bool] = true()
    elif user.role == Role.EXHIBITOR and user.exhibitor_id:
        mine = Meeting.exhibitor_id == user.exhibitor_id
    elif user.role == Role.DELEGATION_LEADER:
        mine = or_(Meeting.buyer_id.in_(_led_members(user, expo)),
                   Meeting.buyer_id.in_(select(Buyer.id).where(Buyer.user_id == user.id, Buyer.expo_id == expo.id)))
    elif user.role == Role.BUYER:
        mine = Meeting.buyer_id.in_(select(Buyer.id).where(Buyer.user_id == user.id, Buyer.expo_id == expo.id))
    else:
        return false()
    return and_(Meeting.expo_id == expo.id, mine)


def acts_for_buyer(user: User, buyer: Buyer) -> bool:
    """``user`` is the buyer, or leads the buyer's delegation."""
    if not user.is_authenticated:
        return False
    if buyer.user_id is not None and buyer.user_id == user.id:
        return True
    return buyer.delegation is not None and buyer.delegation.leader_user_id == user.id


def side_of(user: User, meeting: Meeting) -> RequestedBy | None:
    """Which side of ``meeting`` ``user`` is on (the organizer is a side of every meeting), or ``None``."""
    if not user.is_authenticated:
        return None
    if user.is_organizer:
        return RequestedBy.ORGANIZER
    if user.role == Role.EXHIBITOR and user.exhibitor_id == meeting.exhibitor_id:
        return RequestedBy.EXHIBITOR
    if user.role in (Role.BUYER, Role.DELEGATION_LEADER) and acts_for_buyer(user, meeting.buyer):
        return RequestedBy.BUYER
    return None


def meeting_for(user: User, expo: Expo, meeting_id: int) -> Meeting:
    """One meeting ``user`` may see; another's (or none) is "not found"."""
    meeting = db.session.scalar(select(Meeting).where(Meeting.id == meeting_id, scope(user, expo)))
    if meeting is None:
        raise NotFound(_l("There is no such meeting."))
    return meeting


def may_answer(user: User, meeting: Meeting) -> bool:
    """The request waits, and ``user`` is the side asked (either side for the organizer's), or the organizer."""
    side = side_of(user, meeting)
    if meeting.status != MeetingStatus.REQUESTED or side is None:
        return False
    return side == RequestedBy.ORGANIZER or side != meeting.requested_by


def may_cancel(user: User, meeting: Meeting) -> bool:
    """The meeting is open, has no outcome yet, and ``user`` is on the side that asked, or the organizer."""
    side = side_of(user, meeting)
    if meeting.status not in OPEN or side is None or meeting.outcome is not None:
        return False
    return side == RequestedBy.ORGANIZER or side == meeting.requested_by


def exhibitor_at(expo: Expo, exhibitor_id: int) -> Exhibitor:
    """An exhibitor taking part in ``expo`` (it applied for space there); else "not found"."""
    exhibitor = db.session.get(Exhibitor, exhibitor_id)
    if exhibitor is None or not _takes_part(exhibitor, expo):
        raise NotFound(_l("There is no such exhibitor."), field="exhibitor_id")
    return exhibitor


def _takes_part(exhibitor: Exhibitor, expo: Expo) -> bool:
    return db.session.scalar(select(SpaceApplication.id).where(
        SpaceApplication.exhibitor_id == exhibitor.id, SpaceApplication.expo_id == expo.id).limit(1)) is not None


def buyer_at(user: User, expo: Expo, buyer_id: int) -> Buyer:
    """A buyer of ``expo`` that ``user`` may ask for a meeting with, or on behalf of: the organizer any; an exhibitor
    those who consented to be contacted; a buyer themselves; a leader the delegation's members. Else "not found"."""
    buyer = db.session.get(Buyer, buyer_id)
    if buyer is None or buyer.expo_id != expo.id:
        raise NotFound(_l("There is no such buyer."), field="buyer_id")
    if user.is_organizer or acts_for_buyer(user, buyer):
        return buyer
    if user.role == Role.EXHIBITOR and user.exhibitor_id and buyer.contact_consent:
        return buyer
    raise NotFound(_l("There is no such buyer."), field="buyer_id")


def own_buyers(user: User, expo: Expo) -> list[Buyer]:
    """The buyers ``user`` acts for at ``expo``: a buyer themselves, a leader the delegations' members."""
    if user.role == Role.DELEGATION_LEADER:
        cond = or_(Buyer.id.in_(_led_members(user, expo)), Buyer.user_id == user.id)
    elif user.role == Role.BUYER:
        cond = Buyer.user_id == user.id
    else:
        return []
    return list(db.session.scalars(select(Buyer).where(Buyer.expo_id == expo.id, cond).order_by(Buyer.name,
                                                                                                  Buyer.id)))


def needs_of(*buyers: Buyer) -> list[BuyerNeed]:
    """The active needs of ``buyers`` and of their delegations, in one query."""
    if not buyers:
        return []
    delegations = {b.delegation_id for b in buyers if b.delegation_id}
    owner = BuyerNeed.buyer_id.in_([b.id for b in buyers])
    if delegations:
        owner = or_(owner, BuyerNeed.delegation_id.in_(sorted(delegations)))
    return list(db.session.scalars(select(BuyerNeed).where(BuyerNeed.expo_id == buyers[0].expo_id,
                                                           BuyerNeed.active.is_(True), owner)
                                   .order_by(BuyerNeed.id)))


def offers_of(exhibitor: Exhibitor, expo: Expo) -> list[ExhibitorOffer]:
    return list(db.session.scalars(select(ExhibitorOffer).where(
        ExhibitorOffer.expo_id == expo.id, ExhibitorOffer.exhibitor_id == exhibitor.id,
        ExhibitorOffer.active.is_(True)).order_by(ExhibitorOffer.id)))


def best_fit(buyer: Buyer, exhibitor: Exhibitor, expo: Expo) -> Match | None:
    """How well the pair fits, as the recommendations score it: the best of the buyer's wants × the exhibitor's
    active offers, with the need and offer behind it; ``None`` when nothing fits."""
    wants = matching.wants_of(buyer)
    offers = offers_of(exhibitor, expo)
    if not wants or not offers:
        return None
    tree = matching.Tree.load()
    best: Match | None = None
    for offer in offers:
        supply = matching.Supply(offer.id, offer.exhibitor_id, offer.category_id, offer.min_order_pairs,
                                 offer.monthly_capacity_pairs, offer.price_band, offer.oem, offer.odm,
                                 tuple(offer.markets or ()))
        for want in wants:
            scored = matching.score(want, supply, tree)
            if scored is not None and (best is None or scored[0] > best.score):
                best = Match(exhibitor.id, buyer.id, scored[0], scored[1], need_id=want.need_id, offer_id=offer.id)
    return best


# --- requests and answers -------------------------------------------------------------------------------------------

def _requesting_side(actor: User, buyer: Buyer, exhibitor: Exhibitor) -> RequestedBy:
    if actor.is_organizer:
        return RequestedBy.ORGANIZER
    if actor.role == Role.EXHIBITOR and actor.exhibitor_id == exhibitor.id:
        if not buyer.contact_consent:
            raise MeetingError(_l("This buyer does not take requests from exhibitors."), status=403,
                               code="no_consent")
        return RequestedBy.EXHIBITOR
    if actor.role in (Role.BUYER, Role.DELEGATION_LEADER) and acts_for_buyer(actor, buyer):
        return RequestedBy.BUYER
    raise Forbidden(_l("You may ask for meetings only for yourself, your delegation's members or your company."))


def _clean_text(text: str | None, limit: int, field_name: str) -> str:
    text = (text or "").replace("\r\n", "\n").strip()
    if len(text) > limit:
        raise MeetingError(_l("At most %(n)d characters.", n=limit), field=field_name, status=422)
    return text


def _check_need_offer(expo: Expo, buyer: Buyer, exhibitor: Exhibitor, need: BuyerNeed | None,
                      offer: ExhibitorOffer | None) -> None:
    if need is not None and (need.expo_id != expo.id or not (
            need.buyer_id == buyer.id or (need.delegation_id is not None and need.delegation_id == buyer.delegation_id))):
        raise MeetingError(_l("This purchase need is not the buyer's."), field="need_id", status=422)
    if offer is not None and (offer.expo_id != expo.id or offer.exhibitor_id != exhibitor.id):
        raise MeetingError(_l("This offer is not the exhibitor's."), field="offer_id", status=422)


def _duplicate(buyer: Buyer, exhibitor: Exhibitor, locale: str = "en") -> MeetingError:
    return MeetingError(_l("%(buyer)s and %(exhibitor)s already have a meeting or a request waiting.",
                           buyer=buyer.display_name(locale), exhibitor=exhibitor.display_name(locale)),
                        code="duplicate", status=409)


def request_meeting(actor: User, expo: Expo, buyer: Buyer, exhibitor: Exhibitor, *, need: BuyerNeed | None = None,
                    offer: ExhibitorOffer | None = None, message: str | None = "", locale: str = "en") -> Meeting:
    """Ask for a meeting between ``buyer`` and ``exhibitor`` (audited). ``actor`` is the buyer, their delegation's
    leader, an account of the exhibitor, or the organizer; the side is taken from who asks.

    One meeting per pair and expo: while one is requested or accepted, a second is refused (``duplicate``, 409),
    also when two requests race; a declined or cancelled one reopens as a new request. The pair's recommendation
    score (:func:`best_fit`) is kept with it, for the reports on matchmaking."""
    if buyer.expo_id != expo.id or not _takes_part(exhibitor, expo):
        raise NotFound(_l("There is no such buyer or exhibitor."))
    side = _requesting_side(actor, buyer, exhibitor)
    if buyer.status == BuyerStatus.CANCELLED:
        raise MeetingError(_l("This buyer's registration is cancelled."), code="buyer_cancelled", status=409)
    _check_need_offer(expo, buyer, exhibitor, need, offer)
    fit = best_fit(buyer, exhibitor, expo)
    score = fit.score if fit is not None else None
    values = dict(need_id=need.id if need else None, offer_id=offer.id if offer else None, requested_by=str(side),
                  requested_by_user_id=actor.id, message=_clean_text(message, MAX_MESSAGE, "message"),
                  status=str(MeetingStatus.REQUESTED), answered_at=None, answer_note="", score=score,
                  session_id=None, slot=None, table_no=None, pinned=False)
    now = utcnow()
    # One statement, race-safe: of two requests for the same pair at the same moment, one inserts.
    meeting_id = insert_ignoring_conflict(Meeting.__table__, dict(
        expo_id=expo.id, buyer_id=buyer.id, exhibitor_id=exhibitor.id, created_at=now, updated_at=now, **values),
        ["expo_id", "buyer_id", "exhibitor_id"], returning=Meeting.__table__.c.id).scalar()
    reopened = False
    if meeting_id is None:
        # The pair has a meeting: reopen it if it was declined or cancelled, guarded so that one of two racing
        # requests wins.
        reopened_id = db.session.execute(
            update(Meeting).where(Meeting.expo_id == expo.id, Meeting.buyer_id == buyer.id,
                                  Meeting.exhibitor_id == exhibitor.id, Meeting.status.in_(REOPENABLE))
            .values(updated_at=now, **values).returning(Meeting.id)
            .execution_options(synchronize_session=False)).scalar()
        if reopened_id is None:
            raise _duplicate(buyer, exhibitor, locale)
        meeting_id, reopened = reopened_id, True
    meeting = db.session.get(Meeting, meeting_id, populate_existing=True)
    assert meeting is not None
    audit.record(actor, "meeting_requested", meeting, exhibitor_id=exhibitor.id, buyer_id=buyer.id,
                 requested_by=str(side), reopened=reopened)
    return meeting


#: The status guard of :func:`_transition`. Only the race tests' control switches it off, to show the double answer
#: it prevents.
GUARD = True


def _between_check_and_write() -> None:
    """Nothing; the race tests' control pauses here, between the status check and the write."""


def _transition(meeting: Meeting, allowed: Iterable[str], **values) -> bool:
    """Set ``values`` on ``meeting`` if its status (in the database, now) is one of ``allowed``; one statement, so
    of two answers at the same moment only one changes the row (the other finds the status changed)."""
    _between_check_and_write()
    guard = Meeting.status.in_([str(s) for s in allowed]) if GUARD else true()
    done = db.session.execute(
        update(Meeting).where(Meeting.id == meeting.id, guard)
        .values(updated_at=utcnow(), **values).returning(Meeting.id)
        .execution_options(synchronize_session=False)).scalar() is not None
    db.session.refresh(meeting)
    return done


def _answered_already(meeting: Meeting) -> MeetingError:
    return MeetingError(_l("This request was already answered or withdrawn (it is %(status)s now).",
                           status=status_label(meeting.status)), code="status", status=409)


def _answer(actor: User, meeting: Meeting, status: MeetingStatus, note: str | None, action: str) -> Meeting:
    side = side_of(actor, meeting)
    if side is None:
        raise NotFound(_l("There is no such meeting."))
    if meeting.status != MeetingStatus.REQUESTED:
        raise _answered_already(meeting)
    if not may_answer(actor, meeting):
        raise Forbidden(_l("The other side answers this request, or the organizer."), code="not_yours")
    note = _clean_text(note, MAX_NOTE, "note")
    if not _transition(meeting, [MeetingStatus.REQUESTED], status=str(status), answered_at=utcnow(),
                       answer_note=note):
        raise _answered_already(meeting)
    audit.record(actor, action, meeting, exhibitor_id=meeting.exhibitor_id, buyer_id=meeting.buyer_id, side=str(side),
                 note=note)
    return meeting


def accept(actor: User, meeting: Meeting, note: str | None = "") -> Meeting:
    """Accept a request (the side asked, or the organizer); audited. The scheduler then gives it a slot."""
    return _answer(actor, meeting, MeetingStatus.ACCEPTED, note, "meeting_accepted")


def decline(actor: User, meeting: Meeting, note: str | None = "") -> Meeting:
    """Decline a request, with an optional note saying why (the side asked, or the organizer); audited."""
    return _answer(actor, meeting, MeetingStatus.DECLINED, note, "meeting_declined")


def cancel(actor: User, meeting: Meeting, note: str | None = "") -> Meeting:
    """Withdraw a request or call off an accepted meeting (the side that asked, or the organizer); audited.

    A scheduled meeting loses its session, slot and table. A meeting whose outcome is recorded took place and is not
    cancelled."""
    side = side_of(actor, meeting)
    if side is None:
        raise NotFound(_l("There is no such meeting."))
    if meeting.status not in OPEN:
        raise MeetingError(_l("This meeting is %(status)s already.", status=status_label(meeting.status)),
                           code="status", status=409)
    if meeting.outcome is not None:
        raise MeetingError(_l("This meeting took place: its outcome is recorded."), code="has_outcome", status=409)
    if not may_cancel(actor, meeting):
        raise Forbidden(_l("Only the side that asked for this meeting, or the organizer, cancels it."),
                        code="not_yours")
    note = _clean_text(note, MAX_NOTE, "note")
    placed = (meeting.session_id, meeting.slot, meeting.table_no)
    if not _transition(meeting, OPEN, status=str(MeetingStatus.CANCELLED), answer_note=note, session_id=None,
                       slot=None, table_no=None, pinned=False):
        raise MeetingError(_l("This meeting is %(status)s already.", status=status_label(meeting.status)),
                           code="status", status=409)
    audit.record(actor, "meeting_cancelled", meeting, exhibitor_id=meeting.exhibitor_id, buyer_id=meeting.buyer_id,
                 side=str(side), note=note, unscheduled=list(placed) if placed[0] is not None else None)
    return meeting


# --- times ----------------------------------------------------------------------------------------------------------

def slot_start(session: DockingSession, slot: int) -> datetime:
    """When slot ``slot`` (0-based) of ``session`` begins, local venue time."""
    return session.starts_at + timedelta(minutes=slot * session.slot_minutes)


def slot_end(session: DockingSession, slot: int) -> datetime:
    return slot_start(session, slot) + timedelta(minutes=session.slot_minutes)


# --- schedules ------------------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Party:
    """The other side of a meeting as a schedule prints it: names in both languages, company, country."""

    kind: str  # "buyer" or "exhibitor"
    id: int
    name_en: str
    name_zh: str
    company: str = ""
    country: str = ""

    def display(self, locale: str = "en") -> str:
        return localized(self, "name", locale)


@dataclass(frozen=True)
class Entry:
    """One meeting on a person's schedule."""

    meeting_id: int
    status: str
    requested_by: str
    other: Party
    buyer_id: int
    exhibitor_id: int
    message: str = ""
    answer_note: str = ""
    session_name_en: str = ""
    session_name_zh: str = ""
    room: str = ""
    table_no: int | None = None
    slot: int | None = None
    starts_at: datetime | None = None
    ends_at: datetime | None = None
    draft: bool = False  # placed in a session not yet published (only the organizer sees such a place)

    @property
    def placed(self) -> bool:
        return self.starts_at is not None

    def session_name(self, locale: str = "en") -> str:
        return localized(self, "session_name", locale)


@dataclass(frozen=True)
class Schedule:
    """A buyer's or an exhibitor's meetings: accepted ones by time (unplaced ones last), and open requests."""

    kind: str  # "buyer" or "exhibitor"
    id: int
    name_en: str
    name_zh: str
    company: str = ""
    country: str = ""
    meetings: list[Entry] = field(default_factory=list)
    incoming: list[Entry] = field(default_factory=list)  # requests waiting for this person's answer
    outgoing: list[Entry] = field(default_factory=list)  # this person's requests waiting for the other side

    def display(self, locale: str = "en") -> str:
        return localized(self, "name", locale)


def _party_of_exhibitor(e: Exhibitor) -> Party:
    return Party("exhibitor", e.id, e.name_en or "", e.name_zh or "", "", e.country)


def _party_of_buyer(b: Buyer) -> Party:
    return Party("buyer", b.id, b.name, b.name_native or "", b.company, b.country)


def entry(meeting: Meeting, other: Party, *, include_drafts: bool = False) -> Entry:
    """A meeting as a schedule line; its place shows if the session is published (or ``include_drafts``)."""
    session = meeting.session
    placed = session is not None and meeting.slot is not None and (session.published or include_drafts)
    return Entry(
        meeting_id=meeting.id, status=meeting.status, requested_by=meeting.requested_by, other=other,
        buyer_id=meeting.buyer_id, exhibitor_id=meeting.exhibitor_id, message=meeting.message,
        answer_note=meeting.answer_note,
        session_name_en=session.name_en if placed and session else "",
        session_name_zh=session.name_zh if placed and session else "",
        room=session.room if placed and session else "", table_no=meeting.table_no if placed else None,
        slot=meeting.slot if placed else None,
        starts_at=slot_start(session, meeting.slot) if placed and session and meeting.slot is not None else None,
        ends_at=slot_end(session, meeting.slot) if placed and session and meeting.slot is not None else None,
        draft=bool(placed and session and not session.published))


def _by_time(e: Entry) -> tuple:
    return (e.starts_at is None, e.starts_at or datetime.max, e.other.display().casefold(), e.meeting_id)


def personal_schedule(expo: Expo, *, buyer: Buyer | None = None, exhibitor: Exhibitor | None = None,
                      include_drafts: bool = False) -> Schedule:
    """The schedule of one buyer or one exhibitor (exactly one of them) at ``expo``: accepted meetings with their
    session, time (session start + slot × slot length), room and table, and the other party; then the requests
    waiting for their answer (``incoming``) and theirs waiting for the other side (``outgoing``). Places in
    sessions not yet published show only with ``include_drafts`` (the organizer's view)."""
    if (buyer is None) == (exhibitor is None):
        raise ValueError("a schedule is a buyer's or an exhibitor's")
    stmt = (select(Meeting).where(Meeting.expo_id == expo.id, Meeting.status.in_([str(s) for s in OPEN]))
            .options(selectinload(Meeting.session)))
    if buyer is not None:
        stmt = stmt.where(Meeting.buyer_id == buyer.id).options(selectinload(Meeting.exhibitor))
        me, own_side = _party_of_buyer(buyer), RequestedBy.BUYER
    else:
        assert exhibitor is not None
        stmt = stmt.where(Meeting.exhibitor_id == exhibitor.id).options(selectinload(Meeting.buyer))
        me, own_side = _party_of_exhibitor(exhibitor), RequestedBy.EXHIBITOR
    schedule = Schedule(me.kind, me.id, me.name_en, me.name_zh, me.company, me.country)
    for meeting in db.session.scalars(stmt):
        other = _party_of_exhibitor(meeting.exhibitor) if buyer is not None else _party_of_buyer(meeting.buyer)
        line = entry(meeting, other, include_drafts=include_drafts)
        if meeting.status == MeetingStatus.ACCEPTED:
            schedule.meetings.append(line)
        elif meeting.requested_by == own_side:
            schedule.outgoing.append(line)
        else:  # asked by the other side or arranged by the organizer: this person's answer is awaited
            schedule.incoming.append(line)
    schedule.meetings.sort(key=_by_time)
    schedule.incoming.sort(key=lambda e: e.meeting_id)
    schedule.outgoing.sort(key=lambda e: e.meeting_id)
    return schedule


def delegation_schedules(expo: Expo, delegation: Delegation, *, include_drafts: bool = False) -> list[Schedule]:
    """Each member's schedule, in the members' order."""
    members = db.session.scalars(select(Buyer).where(Buyer.delegation_id == delegation.id, Buyer.expo_id == expo.id)
                                 .order_by(Buyer.id))
    return [personal_schedule(expo, buyer=b, include_drafts=include_drafts) for b in members]


# --- the organizer's list -------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class MeetingFilter:
    status: str | None = None
    session_id: int | None = None  # 0: not scheduled
    country: str | None = None  # the buyer's country
    q: str | None = None


def _like(text: str) -> str:
    return "%" + text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


def meeting_query(user: User, expo: Expo, flt: MeetingFilter | None = None) -> Select:
    """``(Meeting, Buyer, Exhibitor, DockingSession | None)`` rows ``user`` may see, newest first, filtered."""
    flt = flt or MeetingFilter()
    session = aliased(DockingSession)
    stmt = (select(Meeting, Buyer, Exhibitor, session).join(Buyer, Buyer.id == Meeting.buyer_id)
            .join(Exhibitor, Exhibitor.id == Meeting.exhibitor_id)
            .outerjoin(session, session.id == Meeting.session_id)
            .where(scope(user, expo)))
    if flt.status:
        stmt = stmt.where(Meeting.status == flt.status)
    if flt.session_id is not None:
        stmt = stmt.where(Meeting.session_id.is_(None) if flt.session_id == 0 else Meeting.session_id == flt.session_id)
    if flt.country:
        stmt = stmt.where(Buyer.country == flt.country)
    if flt.q:
        pattern = _like(" ".join(flt.q.split()))
        stmt = stmt.where(or_(Buyer.name.ilike(pattern, escape="\\"), Buyer.name_native.ilike(pattern, escape="\\"),
                              Buyer.company.ilike(pattern, escape="\\"), Exhibitor.name_zh.ilike(pattern, escape="\\"),
                              Exhibitor.name_en.ilike(pattern, escape="\\")))
    return stmt.order_by(Meeting.updated_at.desc(), Meeting.id.desc())


def sessions_of(expo: Expo) -> list[DockingSession]:
    return list(db.session.scalars(select(DockingSession).where(DockingSession.expo_id == expo.id)
                                   .order_by(DockingSession.starts_at, DockingSession.id)))


def countries_of(expo: Expo) -> list[str]:
    """The buyers' countries of the expo's meetings (the list's country filter offers these first)."""
    return sorted(c for c in db.session.scalars(
        select(Buyer.country).join(Meeting, Meeting.buyer_id == Buyer.id).where(Meeting.expo_id == expo.id)
        .distinct()) if c)


def counts(expo: Expo) -> dict[str, int]:
    """Meetings of the expo by status."""
    return {str(s): n for s, n in db.session.execute(
        select(Meeting.status, func.count()).where(Meeting.expo_id == expo.id).group_by(Meeting.status))}


EXPORT_HEADERS = ["Meeting", "Status", "Requested by", "Buyer", "Buyer (native script)", "Company", "Country",
                  "Exhibitor (Chinese)", "Exhibitor (English)", "Session", "Room", "Table", "Starts", "Ends",
                  "Message", "Answer note", "Requested at", "Answered at"]


def export_rows(rows: Iterable[tuple[Meeting, Buyer, Exhibitor, DockingSession | None]]) -> Iterable[list]:
    """One export line per meeting (headers :data:`EXPORT_HEADERS`; codes, not labels, for machines)."""
    for meeting, buyer, exhibitor, session in rows:
        placed = session is not None and meeting.slot is not None
        yield [meeting.id, meeting.status, meeting.requested_by, buyer.name, buyer.name_native, buyer.company,
               buyer.country, exhibitor.name_zh or "", exhibitor.name_en or "",
               session.name_en if placed and session else "", session.room if placed and session else "",
               meeting.table_no if placed else None,
               slot_start(session, meeting.slot).strftime("%Y-%m-%d %H:%M") if placed and session
               and meeting.slot is not None else "",
               slot_end(session, meeting.slot).strftime("%Y-%m-%d %H:%M") if placed and session
               and meeting.slot is not None else "",
               meeting.message, meeting.answer_note, meeting.created_at.strftime("%Y-%m-%d %H:%M"),
               meeting.answered_at.strftime("%Y-%m-%d %H:%M") if meeting.answered_at else ""]
