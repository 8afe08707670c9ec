"""Meetings: request, accept, decline, cancel; who may see and answer what (pages and API); personal schedules on
the web and as PDF (read back); the organizer's list and its exports."""

from __future__ import annotations

import io
import threading
from datetime import datetime

import jsonschema
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from openpyxl import load_workbook
from pypdf import PdfReader
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from expo.audit import AuditEntry
from expo.buyers.models import Buyer, BuyerStatus, Delegation
from expo.categories.models import ProductCategory
from expo.docking import meetings
from expo.docking.meeting_views import schedule_document
from expo.docking.models import BuyerNeed, DockingSession, ExhibitorOffer, Meeting, MeetingOutcome, MeetingStatus
from expo.docking.schedule_pdf import render
from expo.errors import ExpoError, Forbidden, NotFound
from expo.exhibitors.models import Exhibitor, SpaceApplication
from expo.exhibitors.services import current_expo
from expo.extensions import db
from tests.conftest import csrf_token
from tests.factories import make_exhibitor, user
from tests.race import needs_pg, race

# --- the cast ---------------------------------------------------------------------------------------------------------


def demo_buyer() -> Buyer:
    buyer = db.session.scalar(select(Buyer).where(Buyer.user_id == user("buyer@expo.test").id))
    buyer.contact_consent = True
    buyer.name_native = "玛丽亚·桑托斯"
    return buyer


def demo_exhibitor() -> Exhibitor:
    exhibitor = db.session.get(Exhibitor, user("exhibitor@expo.test").exhibitor_id)
    exhibitor.name_zh, exhibitor.name_en = "晋江安踏鞋业有限公司", "Jinjiang Anta Footwear Co., Ltd."
    return exhibitor


def other_exhibitor() -> Exhibitor:
    """Another exhibitor of the expo (not the demo account's company)."""
    mine = user("exhibitor@expo.test").exhibitor_id
    return db.session.scalar(select(Exhibitor).join(SpaceApplication, SpaceApplication.exhibitor_id == Exhibitor.id)
                             .where(Exhibitor.id != mine, SpaceApplication.expo_id == current_expo().id)
                             .order_by(Exhibitor.id).limit(1))


def delegation_of(email: str) -> Delegation:
    return db.session.scalar(select(Delegation).where(Delegation.leader_user_id == user(email).id)
                             .order_by(Delegation.id).limit(1))


def member_of(email: str) -> Buyer:
    """A member of the delegation ``email`` leads (who has no account of their own)."""
    buyer = db.session.scalar(select(Buyer).where(Buyer.delegation_id == delegation_of(email).id,
                                                  Buyer.status != BuyerStatus.CANCELLED).order_by(Buyer.id).limit(1))
    buyer.contact_consent = True
    return buyer


def other_buyer() -> Buyer:
    """A buyer travelling alone who is not the demo buyer."""
    buyer = db.session.scalar(select(Buyer).where(Buyer.delegation_id.is_(None), Buyer.user_id.is_(None),
                                                  Buyer.status == BuyerStatus.REGISTERED).order_by(Buyer.id).limit(1))
    buyer.contact_consent = True
    return buyer


def session_row(**kw) -> DockingSession:
    values = dict(expo_id=current_expo().id, name_zh="鞋类供需对接会", name_en="Footwear docking session",
                  room="B2-201", starts_at=datetime(2026, 5, 12, 9, 0), slot_minutes=20, slot_count=12,
                  table_count=30, published=True)
    values.update(kw)
    session = DockingSession(**values)
    db.session.add(session)
    db.session.flush()
    return session


def place(meeting: Meeting, session: DockingSession, slot: int, table: int) -> None:
    meeting.session_id, meeting.slot, meeting.table_no = session.id, slot, table
    db.session.flush()


def ask(actor_email: str, buyer: Buyer, exhibitor: Exhibitor, **kw) -> Meeting:
    return meetings.request_meeting(user(actor_email), current_expo(), buyer, exhibitor, **kw)


# --- rules and transitions --------------------------------------------------------------------------------------------

def test_a_buyer_asks_the_exhibitor_answers(ctx):
    buyer, exhibitor = demo_buyer(), demo_exhibitor()
    m = ask("buyer@expo.test", buyer, exhibitor, message="  Running shoes for Brazil  ")
    assert (m.status, m.requested_by, m.message) == ("requested", "buyer", "Running shoes for Brazil")
    assert m.requested_by_user_id == user("buyer@expo.test").id
    # The buyer who asked does not answer their own request; the exhibitor does.
    assert not meetings.may_answer(user("buyer@expo.test"), m)
    with pytest.raises(Forbidden):
        meetings.accept(user("buyer@expo.test"), m)
    assert meetings.may_answer(user("exhibitor@expo.test"), m)
    meetings.accept(user("exhibitor@expo.test"), m)
    assert m.status == MeetingStatus.ACCEPTED and m.answered_at is not None
    # Answered once: a second answer is refused.
    with pytest.raises(ExpoError) as exc:
        meetings.decline(user("exhibitor@expo.test"), m, "too late")
    assert exc.value.status == 409 and m.status == MeetingStatus.ACCEPTED
    actions = list(db.session.scalars(select(AuditEntry.action).where(AuditEntry.object_type == "Meeting",
                                                                      AuditEntry.object_id == m.id)))
    assert actions == ["meeting_requested", "meeting_accepted"]


def test_an_exhibitor_asks_the_buyer_declines_with_a_note(ctx):
    buyer, exhibitor = demo_buyer(), demo_exhibitor()
    m = ask("exhibitor@expo.test", buyer, exhibitor)
    assert m.requested_by == "exhibitor"
    assert not meetings.may_answer(user("exhibitor@expo.test"), m)
    meetings.decline(user("buyer@expo.test"), m, "We buy only leather shoes")
    assert (m.status, m.answer_note) == ("declined", "We buy only leather shoes")
    # Declined: the pair may ask again, and the same row reopens as a new request.
    again = ask("buyer@expo.test", buyer, exhibitor)
    assert again.id == m.id and again.status == "requested" and again.requested_by == "buyer"
    assert again.answer_note == "" and again.answered_at is None


def test_an_exhibitor_may_not_ask_a_buyer_who_did_not_consent(ctx):
    buyer, exhibitor = demo_buyer(), demo_exhibitor()
    buyer.contact_consent = False
    with pytest.raises(ExpoError) as exc:
        ask("exhibitor@expo.test", buyer, exhibitor)
    assert exc.value.code == "no_consent"
    with pytest.raises(NotFound):  # and cannot even pick them
        meetings.buyer_at(user("exhibitor@expo.test"), current_expo(), buyer.id)


def test_the_leader_asks_for_a_member_and_answers_for_them(ctx):
    member, exhibitor = member_of("leader@expo.test"), demo_exhibitor()
    m = ask("leader@expo.test", member, exhibitor)
    assert m.requested_by == "buyer"
    assert meetings.side_of(user("leader@expo.test"), m) == "buyer"
    # Another delegation's leader is no side of it, and cannot ask for this member either.
    assert meetings.side_of(user("leader2@expo.test"), m) is None
    with pytest.raises(Forbidden):
        ask("leader2@expo.test", member, other_exhibitor())
    # An exhibitor's request to the member is answered by the leader, not by the other leader.
    company, account = make_exhibitor()
    m2 = meetings.request_meeting(account, current_expo(), member, company)
    assert not meetings.may_answer(user("leader2@expo.test"), m2)
    assert not meetings.may_answer(account, m2)
    meetings.accept(user("leader@expo.test"), m2)
    assert m2.status == "accepted"


def test_one_meeting_per_pair(ctx):
    buyer, exhibitor = demo_buyer(), demo_exhibitor()
    ask("buyer@expo.test", buyer, exhibitor)
    with pytest.raises(ExpoError) as exc:
        ask("exhibitor@expo.test", buyer, exhibitor)
    assert (exc.value.code, exc.value.status) == ("duplicate", 409)
    assert "Maria Santos" in str(exc.value.message)
    assert db.session.scalar(select(db.func.count()).select_from(Meeting)) == 1


def test_the_organizer_arranges_and_either_side_answers(ctx):
    buyer, exhibitor = demo_buyer(), demo_exhibitor()
    m = ask("staff@expo.test", buyer, exhibitor)
    assert m.requested_by == "organizer"
    assert meetings.may_answer(user("buyer@expo.test"), m)
    assert meetings.may_answer(user("exhibitor@expo.test"), m)
    assert not meetings.may_cancel(user("buyer@expo.test"), m)  # only the organizer, who asked, cancels
    meetings.accept(user("buyer@expo.test"), m)
    assert m.status == "accepted"


def test_cancel_by_the_side_that_asked_frees_the_slot(ctx):
    buyer, exhibitor = demo_buyer(), demo_exhibitor()
    m = ask("buyer@expo.test", buyer, exhibitor)
    meetings.accept(user("exhibitor@expo.test"), m)
    place(m, session_row(), 3, 7)
    with pytest.raises(Forbidden):  # the side asked does not cancel
        meetings.cancel(user("exhibitor@expo.test"), m)
    meetings.cancel(user("buyer@expo.test"), m, "Flight changed")
    assert (m.status, m.session_id, m.slot, m.table_no, m.answer_note) == ("cancelled", None, None, None,
                                                                           "Flight changed")
    entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "meeting_cancelled"))
    assert entry.changes["unscheduled"][1:] == [3, 7]
    with pytest.raises(ExpoError) as exc:
        meetings.cancel(user("buyer@expo.test"), m)
    assert exc.value.status == 409


def test_a_meeting_with_an_outcome_is_not_cancelled(ctx):
    buyer, exhibitor = demo_buyer(), demo_exhibitor()
    m = ask("buyer@expo.test", buyer, exhibitor)
    meetings.accept(user("exhibitor@expo.test"), m)
    db.session.add(MeetingOutcome(meeting_id=m.id, result="follow_up"))
    db.session.flush()
    db.session.refresh(m)
    with pytest.raises(ExpoError) as exc:
        meetings.cancel(user("admin@expo.test"), m)
    assert exc.value.code == "has_outcome"


def test_need_and_offer_must_belong_to_the_parties(ctx):
    buyer, exhibitor, other = demo_buyer(), demo_exhibitor(), other_exhibitor()
    category_id = exhibitor.categories[0].id if exhibitor.categories else 1
    need = BuyerNeed(expo_id=current_expo().id, buyer_id=buyer.id, category_id=category_id, title="Trail shoes")
    offer = ExhibitorOffer(expo_id=current_expo().id, exhibitor_id=other.id, category_id=category_id,
                           products="Sandals")
    db.session.add_all([need, offer])
    db.session.flush()
    with pytest.raises(ExpoError) as exc:
        ask("buyer@expo.test", buyer, exhibitor, need=need, offer=offer)
    assert exc.value.field == "offer_id"
    m = ask("buyer@expo.test", buyer, other, need=need, offer=offer)
    assert (m.need_id, m.offer_id) == (need.id, offer.id)


def test_the_pairs_fit_is_kept_and_preselected(app, client, auth):
    with app.app_context():
        buyer, exhibitor = demo_buyer(), demo_exhibitor()
        category_id = db.session.scalar(select(ProductCategory.id).order_by(ProductCategory.id))
        need = BuyerNeed(expo_id=current_expo().id, buyer_id=buyer.id, category_id=category_id, title="Trail shoes",
                         quantity_pairs=5000, markets=["BR"])
        offer = ExhibitorOffer(expo_id=current_expo().id, exhibitor_id=exhibitor.id, category_id=category_id,
                               products="Trail runners", monthly_capacity_pairs=20000, markets=["BR", "US"])
        db.session.add_all([need, offer])
        db.session.commit()
        ids = need.id, offer.id, exhibitor.id
    auth.login("buyer@expo.test")
    page = client.get(f"/docking/meetings/new?exhibitor_id={ids[2]}")
    assert f'<option selected value="{ids[0]}">Trail shoes</option>' in page.text
    assert f'<option selected value="{ids[1]}">Trail runners</option>' in page.text
    with app.app_context():
        m = ask("buyer@expo.test", demo_buyer(), demo_exhibitor())
        assert m.score is not None and m.score >= 50  # the category, the capacity and the market fit
        other = ask("buyer@expo.test", demo_buyer(), other_exhibitor())
        assert other.score is None  # no offer: nothing to score


def test_the_organizer_arranges_a_recommended_meeting(app, client, auth):
    with app.app_context():
        buyer, exhibitor = demo_buyer(), demo_exhibitor()
        category_id = db.session.scalar(select(ProductCategory.id).order_by(ProductCategory.id))
        db.session.add_all([
            BuyerNeed(expo_id=current_expo().id, buyer_id=buyer.id, category_id=category_id, title="Trail shoes"),
            ExhibitorOffer(expo_id=current_expo().id, exhibitor_id=exhibitor.id, category_id=category_id,
                           products="Trail runners")])
        # The recommendations list exhibitors approved at the expo.
        db.session.scalar(select(SpaceApplication).where(SpaceApplication.exhibitor_id == exhibitor.id)).status = \
            "approved"
        db.session.commit()
        buyer_id, exhibitor_id = buyer.id, exhibitor.id
    auth.login("staff@expo.test")
    page = client.get(f"/docking/organizer/buyers/{buyer_id}/schedule")
    link = f"/docking/meetings/new?buyer_id={buyer_id}&amp;exhibitor_id={exhibitor_id}"
    assert link in page.text and "Trail runners" in page.text
    assert "Jinjiang Anta" in client.get(link.replace("&amp;", "&")).text
    assert f"buyer_id={buyer_id}&amp;" in client.get(f"/docking/organizer/exhibitors/{exhibitor_id}/schedule").text
    r = client.post(link.replace("&amp;", "&"), data={"buyer_id": buyer_id, "exhibitor_id": exhibitor_id})
    assert r.status_code == 302
    with app.app_context():
        m = db.session.scalar(select(Meeting))
        assert (m.requested_by, m.buyer_id, m.exhibitor_id) == ("organizer", buyer_id, exhibitor_id)
    # From the exhibitor's side: the request waits, and the buyer is no longer suggested (they have a meeting).
    page = client.get(f"/docking/organizer/exhibitors/{exhibitor_id}/schedule")
    assert page.status_code == 200 and "1 request waits for an answer." in page.text
    assert f"buyer_id={buyer_id}&amp;" not in page.text
    assert client.get(f"/docking/meetings/new?buyer_id={buyer_id}").status_code == 404  # the organizer names both


def test_a_cancelled_buyer_gets_no_meetings(ctx):
    buyer = demo_buyer()
    buyer.status = BuyerStatus.CANCELLED
    with pytest.raises(ExpoError) as exc:
        ask("staff@expo.test", buyer, demo_exhibitor())
    assert exc.value.code == "buyer_cancelled"


def test_message_length_is_limited(ctx):
    with pytest.raises(ExpoError) as exc:
        ask("buyer@expo.test", demo_buyer(), demo_exhibitor(), message="x" * (meetings.MAX_MESSAGE + 1))
    assert exc.value.field == "message"


# --- pages ------------------------------------------------------------------------------------------------------------

def _ids(app, *getters):
    with app.app_context():
        values = [g() for g in getters]
        out = [v.id for v in values]
        db.session.commit()
    return out


def test_a_buyer_requests_on_the_page_and_the_exhibitor_accepts_on_my_meetings(app, client, auth):
    buyer_id, exhibitor_id = _ids(app, demo_buyer, demo_exhibitor)
    auth.login("buyer@expo.test")
    page = client.get(f"/docking/meetings/new?exhibitor_id={exhibitor_id}")
    assert page.status_code == 200 and "Jinjiang Anta Footwear" in page.text and 'id="send-request"' in page.text
    r = client.post(f"/docking/meetings/new?exhibitor_id={exhibitor_id}",
                    data={"buyer_id": buyer_id, "exhibitor_id": exhibitor_id, "need_id": "", "offer_id": "",
                          "message": "Sneakers, 20,000 pairs"})
    assert r.status_code == 302
    with app.app_context():
        m = db.session.scalar(select(Meeting))
        assert (m.buyer_id, m.exhibitor_id, m.message, m.status) == (buyer_id, exhibitor_id,
                                                                   "Sneakers, 20,000 pairs", "requested")
        meeting_id = m.id
    assert r.headers["Location"].endswith(f"/docking/meetings/{meeting_id}")
    # Asking twice says why.
    again = client.post(f"/docking/meetings/new?exhibitor_id={exhibitor_id}",
                        data={"buyer_id": buyer_id, "exhibitor_id": exhibitor_id})
    assert again.status_code == 409 and "already have a meeting" in again.text
    mine = client.get("/docking/meetings")
    assert f'id="cancel-{meeting_id}"' in mine.text and f'id="accept-{meeting_id}"' not in mine.text
    auth.logout()

    auth.login("exhibitor@expo.test")
    mine = client.get("/docking/meetings")
    assert mine.status_code == 200 and "Maria Santos" in mine.text and f'id="accept-{meeting_id}"' in mine.text
    r = client.post(f"/docking/meetings/{meeting_id}/accept", data={"next": "/docking/meetings"})
    assert r.status_code == 302 and r.headers["Location"].endswith("/docking/meetings")
    with app.app_context():
        assert db.session.get(Meeting, meeting_id).status == "accepted"
    assert f'href="/docking/meetings/{meeting_id}/outcome"' in client.get(f"/docking/meetings/{meeting_id}").text
    # The accept button is gone; accepting again is a conflict shown on the meeting's page.
    assert f'id="accept-{meeting_id}"' not in client.get("/docking/meetings").text
    assert client.post(f"/docking/meetings/{meeting_id}/accept").status_code == 409


def test_the_exhibitor_declines_with_a_note_on_the_meeting_page(app, client, auth):
    with app.app_context():
        m = ask("buyer@expo.test", demo_buyer(), demo_exhibitor())
        db.session.commit()
        meeting_id = m.id
    auth.login("exhibitor@expo.test")
    page = client.get(f"/docking/meetings/{meeting_id}")
    assert page.status_code == 200 and 'id="decline"' in page.text
    r = client.post(f"/docking/meetings/{meeting_id}/decline", data={"note": "No capacity until autumn"})
    assert r.status_code == 302
    page = client.get(f"/docking/meetings/{meeting_id}")
    assert "No capacity until autumn" in page.text and 'id="decline"' not in page.text
    assert 'id="meeting-outcome"' not in page.text  # declined: no outcome to record


def test_answer_buttons_need_the_csrf_token(app, client, auth, csrf_enabled):
    with app.app_context():
        m = ask("buyer@expo.test", demo_buyer(), demo_exhibitor())
        db.session.commit()
        meeting_id = m.id
    login = client.get("/login")
    client.post("/login", data={"email": "exhibitor@expo.test", "password": "expo-demo-2026",
                                "csrf_token": csrf_token(login.text)})
    assert client.post(f"/docking/meetings/{meeting_id}/accept").status_code == 400
    page = client.get("/docking/meetings")
    r = client.post(f"/docking/meetings/{meeting_id}/accept", data={"csrf_token": csrf_token(page.text)})
    assert r.status_code == 302
    with app.app_context():
        assert db.session.get(Meeting, meeting_id).status == "accepted"


def test_a_leader_picks_the_member_and_sees_the_members_meetings(app, client, auth):
    with app.app_context():
        member = member_of("leader@expo.test")
        exhibitor = demo_exhibitor()
        db.session.commit()
        member_id, member_name, exhibitor_id = member.id, member.name, exhibitor.id
    auth.login("leader@expo.test")
    page = client.get(f"/docking/meetings/new?exhibitor_id={exhibitor_id}")
    assert page.status_code == 200 and member_name in page.text
    r = client.post(f"/docking/meetings/new?exhibitor_id={exhibitor_id}",
                    data={"buyer_id": member_id, "exhibitor_id": exhibitor_id})
    assert r.status_code == 302
    mine = client.get("/docking/meetings").text
    assert f'id="buyer-{member_id}"' in mine  # the member with a request has a section; the others are listed
    assert 'id="without-meetings"' in mine and mine.count('class="schedule"') == 1
    # A buyer of another delegation cannot be picked.
    with app.app_context():
        stranger = member_of("leader2@expo.test").id
        db.session.commit()
    r = client.post(f"/docking/meetings/new?exhibitor_id={exhibitor_id}",
                    data={"buyer_id": stranger, "exhibitor_id": exhibitor_id})
    assert r.status_code == 400
    assert client.get(f"/docking/meetings/new?exhibitor_id={exhibitor_id}&buyer_id={stranger}").status_code == 404


def test_an_exhibitor_asks_a_buyer_from_the_link(app, client, auth):
    buyer_id, exhibitor_id = _ids(app, demo_buyer, demo_exhibitor)
    auth.login("exhibitor@expo.test")
    assert client.get("/docking/meetings/new").status_code == 404  # whom?
    page = client.get(f"/docking/meetings/new?buyer_id={buyer_id}")
    assert page.status_code == 200 and "Maria Santos" in page.text
    r = client.post(f"/docking/meetings/new?buyer_id={buyer_id}", data={"buyer_id": buyer_id,
                                                                       "exhibitor_id": exhibitor_id})
    assert r.status_code == 302
    with app.app_context():
        assert db.session.scalar(select(Meeting.requested_by)) == "exhibitor"


def test_others_meetings_are_not_found_on_pages(app, client, auth):
    with app.app_context():
        m = ask("buyer@expo.test", demo_buyer(), demo_exhibitor())
        member_meeting = ask("leader@expo.test", member_of("leader@expo.test"), demo_exhibitor())
        db.session.commit()
        ids = (m.id, member_meeting.id)
        member_id = member_meeting.buyer_id
        delegation_id = delegation_of("leader@expo.test").id
    with app.app_context():
        make_exhibitor(email="rival@example.com")
        db.session.commit()
    # Another exhibitor, another delegation's leader: 404 for reading and for every answer.
    for email, password in (("rival@example.com", "correct horse battery"), ("leader2@expo.test", None)):
        auth.login(email, password) if password else auth.login(email)
        for meeting_id in ids:
            assert client.get(f"/docking/meetings/{meeting_id}").status_code == 404
            for action in ("accept", "decline", "cancel"):
                assert client.post(f"/docking/meetings/{meeting_id}/{action}").status_code == 404
        assert "Maria Santos" not in client.get("/docking/meetings").text
        auth.logout()
    auth.login("leader2@expo.test")
    assert client.get(f"/docking/delegations/{delegation_id}/schedule.pdf").status_code == 404
    auth.logout()
    # The buyer does not see the delegation member's meeting; the leader does not see the buyer's.
    auth.login("buyer@expo.test")
    assert client.get(f"/docking/meetings/{ids[1]}").status_code == 404
    auth.logout()
    auth.login("leader@expo.test")
    assert client.get(f"/docking/meetings/{ids[0]}").status_code == 404
    assert client.get(f"/docking/meetings/{ids[1]}").status_code == 200
    assert client.get(f"/docking/delegations/{delegation_id}/schedule.pdf").status_code == 200
    auth.logout()
    # Organizer pages are the organizer's.
    auth.login("exhibitor@expo.test")
    assert client.get("/docking/organizer/meetings").status_code == 403
    assert client.get(f"/docking/organizer/buyers/{member_id}/schedule.pdf").status_code == 403


# --- schedules and the PDF ----------------------------------------------------------------------------------------------

def _scheduled_pair(app):
    """The demo buyer and exhibitor with an accepted meeting at 09:40 at table 7 of a published session, plus a request
    waiting. Returns (meeting id, buyer id, exhibitor id)."""
    with app.app_context():
        buyer, exhibitor = demo_buyer(), demo_exhibitor()
        m = ask("buyer@expo.test", buyer, exhibitor)
        meetings.accept(user("exhibitor@expo.test"), m)
        place(m, session_row(), 2, 7)
        ask("exhibitor@expo.test", member_of("leader@expo.test"), exhibitor)
        db.session.commit()
        return m.id, buyer.id, exhibitor.id


def test_personal_schedule_gives_time_room_table_and_the_other_party(app):
    meeting_id, buyer_id, exhibitor_id = _scheduled_pair(app)
    with app.app_context():
        sch = meetings.personal_schedule(current_expo(), buyer=db.session.get(Buyer, buyer_id))
        [line] = sch.meetings
        assert line.meeting_id == meeting_id
        assert (line.starts_at, line.ends_at) == (datetime(2026, 5, 12, 9, 40), datetime(2026, 5, 12, 10, 0))
        assert (line.room, line.table_no, line.other.name_zh) == ("B2-201", 7, "晋江安踏鞋业有限公司")
        assert sch.incoming == [] and sch.outgoing == []
        ex = meetings.personal_schedule(current_expo(), exhibitor=db.session.get(Exhibitor, exhibitor_id))
        assert [e.other.name_en for e in ex.meetings] == ["Maria Santos"]
        assert len(ex.outgoing) == 1 and ex.incoming == []
        # A session not yet published: the place shows to the organizer only.
        db.session.get(Meeting, meeting_id).session.published = False
        db.session.flush()
        hidden = meetings.personal_schedule(current_expo(), buyer=db.session.get(Buyer, buyer_id))
        assert hidden.meetings[0].starts_at is None and hidden.meetings[0].table_no is None
        shown = meetings.personal_schedule(current_expo(), buyer=db.session.get(Buyer, buyer_id), include_drafts=True)
        assert shown.meetings[0].table_no == 7 and shown.meetings[0].draft
        db.session.rollback()


def _pdf_text(body: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(body)).pages)


def test_the_schedule_pdf_reads_back(app, client, auth):
    _scheduled_pair(app)
    auth.login("buyer@expo.test")
    r = client.get("/docking/schedule.pdf")
    assert r.status_code == 200 and r.mimetype == "application/pdf"
    text = _pdf_text(r.data)
    for expected in ("Maria Santos", "晋江安踏鞋业有限公司", "Jinjiang Anta Footwear Co., Ltd.", "B2-201",
                     "2026-05-12", "09:40–10:00", "Footwear docking session", "鞋类供需对接会"):
        assert expected in text, expected
    assert "7" in text.split("09:40–10:00", 1)[1]  # the table, after the time
    page = client.get("/docking/schedule")
    assert "09:40–10:00" in page.text and "B2-201" in page.text
    auth.logout()
    # The exhibitor's schedule names the buyer, in both scripts.
    auth.login("exhibitor@expo.test")
    text = _pdf_text(client.get("/docking/schedule.pdf").data)
    assert "Maria Santos" in text and "玛丽亚·桑托斯" in text and "Table" in text


def test_the_organizer_downloads_anyones_schedule_and_a_delegations(app, client, auth):
    _meeting_id, buyer_id, exhibitor_id = _scheduled_pair(app)
    with app.app_context():
        delegation = delegation_of("leader@expo.test")
        members = [b.name for b in delegation.members]
        delegation_id = delegation.id
    auth.login("staff@expo.test")
    assert "Jinjiang Anta" in _pdf_text(client.get(f"/docking/organizer/buyers/{buyer_id}/schedule.pdf").data)
    assert "Maria Santos" in _pdf_text(
        client.get(f"/docking/organizer/exhibitors/{exhibitor_id}/schedule.pdf").data)
    assert client.get(f"/docking/organizer/buyers/{buyer_id}/schedule").status_code == 200
    r = client.get(f"/docking/delegations/{delegation_id}/schedule.pdf")
    reader = PdfReader(io.BytesIO(r.data))
    assert len(reader.pages) >= len(members)
    text = _pdf_text(r.data)
    assert all(name in text for name in members)


def test_schedule_pdf_renders_without_flask(app):
    """The renderer takes data and returns bytes: a schedule with no meetings, and a long one over pages."""
    _scheduled_pair(app)
    with app.app_context():
        expo = current_expo()
        sch = meetings.personal_schedule(expo, buyer=demo_buyer())
        line = sch.meetings[0]
        many = meetings.Schedule(sch.kind, sch.id, sch.name_en, sch.name_zh, meetings=[line] * 60)
        empty = meetings.Schedule("exhibitor", 1, "Empty Co.", "空公司")
        doc = schedule_document(expo, [many, empty])
    body = render(doc)
    reader = PdfReader(io.BytesIO(body))
    assert len(reader.pages) >= 3
    assert "Page 1 of" in reader.pages[0].extract_text()
    assert "空公司" in reader.pages[-1].extract_text()
    assert "No meeting has a time yet" in reader.pages[-1].extract_text()


# --- API ----------------------------------------------------------------------------------------------------------------

API = "/api/v1/docking"


def test_the_api_request_answer_and_schedule(app, client, token):
    _buyer_id, exhibitor_id = _ids(app, demo_buyer, demo_exhibitor)
    buyer_h, exhibitor_h = token("buyer@expo.test"), token("exhibitor@expo.test")
    r = client.post(f"{API}/meetings", json={"exhibitor_id": exhibitor_id, "message": "Hello"}, headers=buyer_h)
    assert r.status_code == 201, r.get_json()
    m = r.get_json()
    assert (m["status"], m["requested_by"], m["buyer"]["name_en"], m["may_answer"], m["may_cancel"]) == \
        ("requested", "buyer", "Maria Santos", False, True)
    dup = client.post(f"{API}/meetings", json={"exhibitor_id": exhibitor_id}, headers=buyer_h)
    assert dup.status_code == 409 and dup.get_json()["error"] == "duplicate"
    # The buyer cannot accept their own request; the exhibitor can.
    assert client.post(f"{API}/meetings/{m['id']}/accept", headers=buyer_h).status_code == 403
    got = client.get(f"{API}/meetings/{m['id']}", headers=exhibitor_h).get_json()
    assert got["may_answer"] is True
    r = client.post(f"{API}/meetings/{m['id']}/accept", json={"note": "See you"}, headers=exhibitor_h)
    assert r.status_code == 200 and r.get_json()["status"] == "accepted" and r.get_json()["answer_note"] == "See you"
    assert client.post(f"{API}/meetings/{m['id']}/decline", headers=exhibitor_h).status_code == 409
    with app.app_context():
        place(db.session.get(Meeting, m["id"]), session_row(), 0, 4)
        db.session.commit()
    sched = client.get(f"{API}/schedule", headers=buyer_h).get_json()["schedules"]
    assert len(sched) == 1
    [line] = sched[0]["meetings"]
    assert (line["starts_at"], line["ends_at"], line["room"], line["table_no"]) == \
        ("2026-05-12T09:00", "2026-05-12T09:20", "B2-201", 4)
    assert line["other"]["name_zh"] == "晋江安踏鞋业有限公司"
    listed = client.get(f"{API}/meetings?status=accepted", headers=exhibitor_h).get_json()
    assert listed["total"] == 1 and listed["items"][0]["table_no"] == 4
    r = client.post(f"{API}/meetings/{m['id']}/cancel", json={"note": "Sorry"}, headers=buyer_h)
    assert r.status_code == 200 and r.get_json()["table_no"] is None and r.get_json()["status"] == "cancelled"


def test_the_api_refuses_what_is_not_yours(app, client, token):
    with app.app_context():
        m = ask("buyer@expo.test", demo_buyer(), demo_exhibitor())
        member_meeting = ask("leader@expo.test", member_of("leader@expo.test"), demo_exhibitor())
        _company, _account = make_exhibitor(email="rival@example.com")
        db.session.commit()
        ids = (m.id, member_meeting.id)
        stranger = member_of("leader2@expo.test").id
        exhibitor_id = m.exhibitor_id
        db.session.commit()
    for email in ("rival@example.com", "leader2@expo.test"):
        headers = token(email)
        for meeting_id in ids:
            assert client.get(f"{API}/meetings/{meeting_id}", headers=headers).status_code == 404
            for action in ("accept", "decline", "cancel"):
                assert client.post(f"{API}/meetings/{meeting_id}/{action}", headers=headers).status_code == 404
        assert client.get(f"{API}/meetings", headers=headers).get_json()["total"] == 0
    # A leader cannot ask for another delegation's member; a buyer cannot ask for someone else.
    r = client.post(f"{API}/meetings", json={"buyer_id": stranger, "exhibitor_id": exhibitor_id},
                    headers=token("leader@expo.test"))
    assert r.status_code == 404
    r = client.post(f"{API}/meetings", json={"buyer_id": stranger, "exhibitor_id": exhibitor_id},
                    headers=token("buyer@expo.test"))
    assert r.status_code == 404
    # Gate staff have no meetings at all.
    assert client.get(f"{API}/meetings", headers=token("gate@expo.test")).status_code == 403
    # The leader lists the members' meetings only; the organizer all.
    assert client.get(f"{API}/meetings", headers=token("leader@expo.test")).get_json()["total"] == 1
    assert client.get(f"{API}/meetings", headers=token("staff@expo.test")).get_json()["total"] == 2


def test_the_api_names_bad_fields(app, client, token):
    headers = token("buyer@expo.test")
    r = client.post(f"{API}/meetings", json={"exhibitor_id": "abc"}, headers=headers)
    assert r.status_code == 422 and "exhibitor_id" in r.get_json()["fields"]
    r = client.post(f"{API}/meetings", json={}, headers=headers)
    assert r.status_code == 422 and r.get_json()["fields"] == {"exhibitor_id": ["This field is required."]}
    r = client.post(f"{API}/meetings", json={"exhibitor_id": 999999}, headers=headers)
    assert r.status_code == 404
    r = client.post(f"{API}/meetings", data="not json", headers=headers, content_type="text/plain")
    assert r.status_code == 400 and r.get_json()["error"] == "not_json"
    r = client.get(f"{API}/meetings?status=bogus", headers=headers)
    assert r.status_code == 422 and "status" in r.get_json()["fields"]


FUZZ = settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                      HealthCheck.too_slow])
text = st.one_of(st.text(max_size=40), st.sampled_from(["\x00", "a\x00b", "🙂👟", "' OR 1=1 --", "%", "\\", "null"]),
                 st.builds(lambda s, n: s * n, st.text(min_size=1, max_size=3), st.integers(300, 2500)))
json_value = st.recursive(st.none() | st.booleans() | st.integers(-10**20, 10**20) | st.floats() | text,
                          lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner,
                                                                                      max_size=3), max_leaves=6)
ids = st.one_of(json_value, st.integers(0, 60))


@FUZZ
@given(body=st.fixed_dictionaries({}, optional={"buyer_id": ids, "exhibitor_id": ids, "need_id": ids,
                                                "offer_id": ids, "message": json_value, "other": json_value}),
       who=st.sampled_from(["buyer@expo.test", "leader@expo.test", "exhibitor@expo.test", "staff@expo.test"]))
def test_fuzz_the_request_body(app, client, token, body, who):
    r = client.post(f"{API}/meetings", json=body, headers=token(who))
    assert r.status_code < 500
    out = r.get_json()
    if r.status_code >= 400:
        assert out["error"] and out["message"]
    else:
        assert r.status_code == 201 and out["status"] == "requested"
        assert len(out["message"]) <= meetings.MAX_MESSAGE and "\x00" not in out["message"]


@FUZZ
@given(body=st.one_of(json_value, st.fixed_dictionaries({}, optional={"note": json_value})),
       action=st.sampled_from(["accept", "decline", "cancel"]))
def test_fuzz_the_answer_bodies(app, client, token, body, action):
    with app.app_context():
        m = db.session.scalar(select(Meeting))
        if m is None:
            m = ask("buyer@expo.test", demo_buyer(), demo_exhibitor())
        m.status, m.answer_note = "requested", ""
        db.session.commit()
        meeting_id = m.id
    who = "buyer@expo.test" if action == "cancel" else "exhibitor@expo.test"
    r = client.post(f"{API}/meetings/{meeting_id}/{action}", json=body, headers=token(who))
    assert r.status_code in (200, 400, 422), r.get_json()
    if r.status_code == 200:
        assert len(r.get_json()["answer_note"]) <= meetings.MAX_NOTE


# --- the organizer's list and its exports -----------------------------------------------------------------------------

def test_the_organizer_lists_filters_and_exports(app, client, auth):
    meeting_id, _buyer_id, _exhibitor_id = _scheduled_pair(app)
    with app.app_context():
        session_id = db.session.get(Meeting, meeting_id).session_id
        member_country = member_of("leader@expo.test").country
    auth.login("staff@expo.test")
    page = client.get("/docking/organizer/meetings")
    assert page.status_code == 200 and "2 meetings" in page.text
    page = client.get(f"/docking/organizer/meetings?session_id={session_id}")
    assert "1 meeting" in page.text and f'id="meeting-{meeting_id}"' in page.text
    page = client.get("/docking/organizer/meetings?session_id=0")
    assert "1 meeting" in page.text and f'id="meeting-{meeting_id}"' not in page.text
    page = client.get(f"/docking/organizer/meetings?country={member_country}")
    assert "1 meeting" in page.text and f'id="meeting-{meeting_id}"' not in page.text
    assert "1 meeting" in client.get("/docking/organizer/meetings?status=accepted&q=santos").text
    assert client.get("/docking/organizer/meetings?status=nope").status_code == 400

    csv_body = client.get("/docking/organizer/meetings.csv?status=accepted")
    assert csv_body.status_code == 200
    lines = csv_body.data.decode("utf-8-sig").splitlines()
    assert lines[0].startswith("Meeting,Status") and len(lines) == 2
    assert "Maria Santos" in lines[1] and "晋江安踏鞋业有限公司" in lines[1] and "2026-05-12 09:40" in lines[1]
    xlsx = client.get("/docking/organizer/meetings.xlsx")
    rows = list(load_workbook(io.BytesIO(xlsx.data)).active.iter_rows(values_only=True))
    assert rows[0][:2] == ("Meeting", "Status") and len(rows) == 3
    assert {r[1] for r in rows[1:]} == {"accepted", "requested"}
    assert client.get("/docking/organizer/meetings.pdf").status_code == 404
    with app.app_context():
        assert db.session.scalar(select(db.func.count()).select_from(AuditEntry).where(
            AuditEntry.action == "meetings_exported")) == 2


def test_my_meetings_pages_for_each_role(app, client, auth):
    _scheduled_pair(app)
    for email, expected in (("buyer@expo.test", "Jinjiang Anta"), ("exhibitor@expo.test", "Maria Santos"),
                            ("leader@expo.test", "Jinjiang Anta")):
        auth.login(email)
        page = client.get("/docking/meetings")
        assert page.status_code == 200 and expected in page.text, email
        assert client.get("/docking/schedule").status_code == 200
        auth.logout()
    auth.login("admin@expo.test")
    assert client.get("/docking/meetings").status_code == 302
    assert client.get("/docking/schedule").status_code == 403
    auth.logout()
    auth.login("gate@expo.test")
    assert client.get("/docking/meetings").status_code == 403



# --- races (PostgreSQL: real concurrent connections) --------------------------------------------------------------------

def _pair_ids(app) -> tuple[int, int]:
    with app.app_context():
        out = demo_buyer().id, demo_exhibitor().id
        db.session.commit()
    return out


def _requester(email: str, buyer_id: int, exhibitor_id: int):
    def prepare():
        expo, buyer, exhibitor = current_expo(), db.session.get(Buyer, buyer_id), db.session.get(Exhibitor, exhibitor_id)
        actor = user(email)
        return lambda: meetings.request_meeting(actor, expo, buyer, exhibitor).id
    return prepare


@pytest.mark.postgres
@needs_pg
def test_two_requests_for_one_pair_at_once_one_wins_the_other_is_told(app):
    buyer_id, exhibitor_id = _pair_ids(app)
    for _round in range(3):
        results = race(app, [_requester("buyer@expo.test", buyer_id, exhibitor_id),
                              _requester("exhibitor@expo.test", buyer_id, exhibitor_id)])
        winners = [r for r in results if isinstance(r, int)]
        losers = [r for r in results if isinstance(r, ExpoError)]
        assert len(winners) == 1 and len(losers) == 1, results
        assert losers[0].code == "duplicate"
        with app.app_context():
            m = db.session.get(Meeting, winners[0])
            meetings.decline(user("staff@expo.test"), m)  # so that the next round reopens it
            db.session.commit()
            assert db.session.scalar(select(db.func.count()).select_from(Meeting)) == 1


@pytest.mark.postgres
@needs_pg
def test_control_a_plain_insert_for_the_pair_fails_with_a_database_error(app):
    """What the race-safe insert prevents: the loser of two plain INSERTs hits the unique constraint (a 500)."""
    buyer_id, exhibitor_id = _pair_ids(app)

    def plain(requested_by: str):
        def prepare():
            expo_id = current_expo().id

            def insert():
                m = Meeting(expo_id=expo_id, buyer_id=buyer_id, exhibitor_id=exhibitor_id, requested_by=requested_by)
                db.session.add(m)
                db.session.flush()
                return m.id
            return insert
        return prepare

    results = race(app, [plain("buyer"), plain("exhibitor")])
    assert sum(isinstance(r, int) for r in results) == 1
    assert sum(isinstance(r, IntegrityError) for r in results) == 1, results


def _answerer(email: str, meeting_id: int, action):
    def prepare():
        m, actor = db.session.get(Meeting, meeting_id), user(email)
        return lambda: action(actor, m).status
    return prepare


def _requested(app) -> int:
    with app.app_context():
        m = ask("staff@expo.test", demo_buyer(), demo_exhibitor())  # either side may answer
        db.session.commit()
        return m.id


@pytest.mark.postgres
@needs_pg
def test_accept_and_decline_at_once_one_answer_counts(app):
    meeting_id = _requested(app)
    results = race(app, [_answerer("buyer@expo.test", meeting_id, meetings.accept),
                          _answerer("exhibitor@expo.test", meeting_id, meetings.decline)])
    answers = [r for r in results if isinstance(r, str)]
    refused = [r for r in results if isinstance(r, ExpoError)]
    assert len(answers) == 1 and len(refused) == 1 and refused[0].status == 409, results
    with app.app_context():
        assert db.session.get(Meeting, meeting_id).status == answers[0]
        assert db.session.scalar(select(db.func.count()).select_from(AuditEntry).where(
            AuditEntry.action.in_(["meeting_accepted", "meeting_declined"]))) == 1


@pytest.mark.postgres
@needs_pg
def test_control_without_the_guard_both_answers_count(app, monkeypatch):
    meeting_id = _requested(app)
    paused = threading.Barrier(2, timeout=20)
    monkeypatch.setattr(meetings, "GUARD", False)
    monkeypatch.setattr(meetings, "_between_check_and_write", paused.wait)
    results = race(app, [_answerer("buyer@expo.test", meeting_id, meetings.accept),
                          _answerer("exhibitor@expo.test", meeting_id, meetings.decline)])
    assert sorted(results) == ["accepted", "declined"], results  # both sides were told their answer counted
    with app.app_context():
        assert db.session.scalar(select(db.func.count()).select_from(AuditEntry).where(
            AuditEntry.action.in_(["meeting_accepted", "meeting_declined"]))) == 2


def test_documented_schemas_match_the_answers(app, client, token):
    """Every meeting API answer (success and refusal) fits the schema the OpenAPI document gives for it."""
    spec = client.get("/api/v1/openapi.json").get_json()
    _buyer_id, exhibitor_id = _ids(app, demo_buyer, demo_exhibitor)
    buyer_h, exhibitor_h = token("buyer@expo.test"), token("exhibitor@expo.test")

    def check(template: str, method: str, r) -> None:
        assert r.status_code < 500
        responses = spec["paths"][API + template][method]["responses"]
        schema = responses[str(r.status_code)]["content"]["application/json"]["schema"]
        jsonschema.validate(r.get_json(), {**schema, "components": spec["components"]},
                            cls=jsonschema.Draft202012Validator)

    r = client.post(f"{API}/meetings", json={"exhibitor_id": exhibitor_id}, headers=buyer_h)
    check("/meetings", "post", r)
    meeting_id = r.get_json()["id"]
    check("/meetings", "post", client.post(f"{API}/meetings", json={"exhibitor_id": exhibitor_id}, headers=buyer_h))
    check("/meetings", "post", client.post(f"{API}/meetings", json={"exhibitor_id": "x"}, headers=buyer_h))
    check("/meetings", "get", client.get(f"{API}/meetings", headers=exhibitor_h))
    check("/meetings/{meeting_id}", "get", client.get(f"{API}/meetings/{meeting_id}", headers=buyer_h))
    check("/meetings/{meeting_id}", "get", client.get(f"{API}/meetings/999999", headers=buyer_h))
    check("/meetings/{meeting_id}/accept", "post", client.post(f"{API}/meetings/{meeting_id}/accept",
                                                               headers=buyer_h))
    check("/meetings/{meeting_id}/accept", "post", client.post(f"{API}/meetings/{meeting_id}/accept",
                                                               headers=exhibitor_h))
    check("/meetings/{meeting_id}/decline", "post", client.post(f"{API}/meetings/{meeting_id}/decline",
                                                                headers=exhibitor_h))
    check("/meetings/{meeting_id}/cancel", "post", client.post(f"{API}/meetings/{meeting_id}/cancel",
                                                               json={"note": "x" * 2000}, headers=buyer_h))
    check("/schedule", "get", client.get(f"{API}/schedule", headers=buyer_h))
    check("/schedule", "get", client.get(f"{API}/schedule", headers=token("leader@expo.test")))
    check("/schedule", "get", client.get(f"{API}/schedule?exhibitor_id={exhibitor_id}", headers=token("staff@expo.test")))
    check("/schedule", "get", client.get(f"{API}/schedule", headers=token("staff@expo.test")))


@FUZZ
@given(data=st.fixed_dictionaries({}, optional={"buyer_id": text, "exhibitor_id": text, "need_id": text,
                                                "offer_id": text, "message": text}),
       query=st.sampled_from(["exhibitor_id", "buyer_id", "exhibitor_id=abc", "exhibitor_id=99999999999", ""]))
def test_fuzz_the_request_page(app, client, auth, data, query):
    with app.app_context():
        exhibitor_id = user("exhibitor@expo.test").exhibitor_id
        before = db.session.scalar(select(db.func.count()).select_from(Meeting))
    auth.login("buyer@expo.test")
    url = f"/docking/meetings/new?{query}" + (f"={exhibitor_id}" if query == "exhibitor_id" else "")
    r = client.post(url, data=data)
    assert r.status_code in (302, 400, 404, 409, 422), r.status_code
    with app.app_context():
        after = db.session.scalar(select(db.func.count()).select_from(Meeting))
        if r.status_code == 302:
            m = db.session.scalar(select(Meeting).order_by(Meeting.updated_at.desc()).limit(1))
            assert len(m.message) <= meetings.MAX_MESSAGE and "\x00" not in m.message
        else:
            assert after == before
