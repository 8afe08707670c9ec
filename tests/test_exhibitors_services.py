"""The exhibitor domain's rules, proved on the services and through the organizer's pages.

- The space application's life cycle: every step of ``services.TRANSITIONS`` works for the side it belongs to and is
  refused (409) for the other side, for another company and for steps the table does not hold; submitting needs a
  complete profile; rejecting needs a reason; each change writes an audit entry and queues a message to the
  exhibitor's account in its language. Editing is for drafts (exhibitors) or organizers; the kind of space and the
  preferred area and pavilion are kept consistent; bulk decisions are all-or-nothing.
- Staff are added, changed and removed with audit entries that never hold an ID or passport number.
- The category taxonomy keeps codes unique and has no cycles.
- The review queue filters, searches (LIKE wildcards taken literally), sorts and paginates as an independent
  computation over the same rows says it should; the organizer pages, bulk decisions, audit log and the CSV and XLSX
  exports show exactly the rows and values they should, with spreadsheet formulas neutralised.
"""

from __future__ import annotations

import csv
import io
import json
import re
import zipfile
from datetime import date, datetime

import pytest
from flask_babel import format_datetime
from markupsafe import escape
from openpyxl import load_workbook
from sqlalchemy import func, select

from expo import audit, listing
from expo.audit import AuditEntry
from expo.auth.models import Role
from expo.categories import services as category_services
from expo.categories.models import ProductCategory
from expo.demo import DEMO_PASSWORD
from expo.errors import ExpoError, NotFound
from expo.exhibitors import services
from expo.exhibitors.models import ApplicationStatus, Exhibitor, ExhibitorStaff, SpaceApplication
from expo.exhibitors.services import ApplicationError, QueueFilter
from expo.extensions import db
from expo.mail import OutboxMail
from expo.venue.models import ExhibitionArea, Expo, Pavilion
from tests.conftest import csrf_token
from tests.factories import PASSWORD, make_exhibitor, make_user, pavilion, user

S = ApplicationStatus
ACTIONS = sorted({action for _src, action in services.TRANSITIONS})


# --- helpers -----------------------------------------------------------------------------------------------------

def organizer():
    return user("staff@expo.test")


def application(exhibitor: Exhibitor) -> SpaceApplication:
    return services.application_of(exhibitor)


def put_in(app: SpaceApplication, status: str, submitted_at: datetime | None = None) -> SpaceApplication:
    """Place an application in ``status`` directly (the set-up, not the rule under test)."""
    app.status = status
    if status != S.DRAFT:
        app.submitted_at = submitted_at or datetime(2026, 7, 1, 10, 0)
    db.session.flush()
    return app


def audit_count() -> int:
    return db.session.scalar(select(func.count(AuditEntry.id)))


def mail_count() -> int:
    return db.session.scalar(select(func.count(OutboxMail.id)))


def last_audit(app: SpaceApplication) -> AuditEntry:
    return db.session.scalar(select(AuditEntry).where(AuditEntry.object_type == "SpaceApplication",
                                                      AuditEntry.object_id == app.id)
                             .order_by(AuditEntry.id.desc()).limit(1))


def last_mail(exhibitor: Exhibitor) -> OutboxMail:
    return db.session.scalar(select(OutboxMail).where(OutboxMail.exhibitor_id == exhibitor.id)
                             .order_by(OutboxMail.id.desc()).limit(1))


def statuses() -> dict[int, str]:
    return dict(db.session.execute(select(SpaceApplication.id, SpaceApplication.status)).all())


# --- the life cycle ----------------------------------------------------------------------------------------------

@pytest.mark.parametrize(("src", "action"), list(services.TRANSITIONS))
def test_each_transition_works_for_its_side_only(ctx, src, action):
    dst, side = services.TRANSITIONS[(src, action)]
    exhibitor, owner = make_exhibitor()
    app = put_in(application(exhibitor), src)
    staff = organizer()
    right, wrong = (owner, staff) if side == "exhibitor" else (staff, owner)
    reason = "Hall is full" if side == "organizer" else ""
    before = (audit_count(), mail_count())

    with pytest.raises(ApplicationError) as refused:
        services.change_status(wrong, app, action, reason)
    assert (refused.value.status, refused.value.code) == (409, "bad_transition")
    assert app.status == src
    assert (audit_count(), mail_count()) == before

    services.change_status(right, app, action, reason)
    db.session.expire_all()
    assert application(exhibitor).status == dst
    entry = last_audit(app)
    assert (entry.actor_id, entry.action, entry.changes["status"]) == (right.id, f"application_{action}", [src, dst])
    assert entry.exhibitor_id == exhibitor.id
    message = last_mail(exhibitor)
    assert message.recipient == owner.email
    assert (audit_count(), mail_count()) == (before[0] + 1, before[1] + 1)
    if side == "organizer":
        assert app.decided_by_id == staff.id and app.decision_reason == reason
        assert reason in message.body
    if dst == S.SUBMITTED:
        assert app.submitted_at is not None


@pytest.mark.parametrize("src", list(S))
def test_steps_outside_the_table_are_refused_for_everyone(ctx, src):
    exhibitor, owner = make_exhibitor()
    app = put_in(application(exhibitor), src)
    before = (audit_count(), mail_count())
    for action in [*ACTIONS, "delete", "approve"]:
        if (src, action) in services.TRANSITIONS:
            continue
        for actor in (owner, organizer(), user("admin@expo.test")):
            with pytest.raises(ApplicationError) as refused:
                services.change_status(actor, app, action, "because")
            assert refused.value.status == 409, (src, action)
    assert app.status == src
    assert (audit_count(), mail_count()) == before


def test_only_the_company_itself_takes_the_exhibitor_steps(ctx):
    exhibitor, _owner = make_exhibitor()
    _other, other_owner = make_exhibitor()
    app = application(exhibitor)
    before = (audit_count(), mail_count())
    outsiders = [other_owner, user("buyer@expo.test"), user("gate@expo.test"), make_user(Role.PRINT_DESK)]
    for outsider in outsiders:
        with pytest.raises(ExpoError) as refused:
            services.change_status(outsider, app, "submit")
        assert refused.value.status in (403, 409)
        with pytest.raises(ExpoError):
            services.update_application(outsider, app, {"notes": "not mine"})
    assert app.status == S.DRAFT and app.notes == ""
    assert (audit_count(), mail_count()) == before


def test_submit_needs_a_complete_profile_and_a_space_request(ctx):
    exhibitor, owner = make_exhibitor(contact_phone="")
    app = application(exhibitor)
    with pytest.raises(ApplicationError) as refused:
        services.change_status(owner, app, "submit")
    assert refused.value.code == "incomplete"
    assert app.status == S.DRAFT and app.submitted_at is None

    exhibitor.contact_phone = "+86 139 0000 0001"
    services.update_application(owner, app, {"space_kind": "standard", "booths_requested": None})
    with pytest.raises(ApplicationError) as refused:
        services.change_status(owner, app, "submit")
    assert refused.value.field == "booths_requested"

    services.update_application(owner, app, {"space_kind": "raw", "raw_space_m2": 12})
    with pytest.raises(ApplicationError) as refused:
        services.change_status(owner, app, "submit")
    assert refused.value.field == "raw_space_m2"
    assert app.status == S.DRAFT

    services.update_application(owner, app, {"space_kind": "raw", "raw_space_m2": 18})
    services.change_status(owner, app, "submit")
    assert app.status == S.SUBMITTED


def test_a_rejection_needs_a_reason(ctx):
    exhibitor, _owner = make_exhibitor(submit=True)
    app = application(exhibitor)
    before = (audit_count(), mail_count())
    for reason in ("", "   \n"):
        with pytest.raises(ApplicationError) as refused:
            services.change_status(organizer(), app, S.REJECTED, reason)
        assert refused.value.field == "reason"
    assert app.status == S.SUBMITTED
    assert (audit_count(), mail_count()) == before
    services.change_status(organizer(), app, S.REJECTED, "  Hall is full  ")
    assert app.status == S.REJECTED and app.decision_reason == "Hall is full"
    assert last_audit(app).changes["reason"] == "Hall is full"
    assert "Hall is full" in last_mail(exhibitor).body


def test_messages_go_to_the_account_in_its_language(ctx):
    expo = services.current_expo()
    cases = [("zh", "DE", expo.name_zh), ("en", "CN", expo.name_en), (None, "CN", expo.name_zh),
             (None, "IT", expo.name_en)]
    for locale, country, expo_name in cases:
        email = f"lang-{locale}-{country}@example.com".lower()
        exhibitor, account = services.register(
            email=email, password=PASSWORD, locale=locale, submit=True,
            profile={"name_en": f"Language test {country}", "country": country, "contact_name": "Test",
                     "contact_phone": "+49 30 1234567", "contact_email": f"office-{country}@example.com"},
            application={"space_kind": "standard", "booths_requested": 1})
        message = last_mail(exhibitor)
        assert message.recipient == account.email == email  # the account, not the contact address
        assert expo_name in message.subject and expo_name in message.body, (locale, country, message.subject)
        other = expo.name_en if expo_name == expo.name_zh else expo.name_zh
        assert other not in message.subject


# --- editing the application -------------------------------------------------------------------------------------

@pytest.mark.parametrize("status", [s for s in S if s != S.DRAFT])
def test_only_drafts_are_edited_by_the_exhibitor_but_organizers_always_may(ctx, status):
    exhibitor, owner = make_exhibitor()
    app = put_in(application(exhibitor), status)
    before = audit_count()
    with pytest.raises(ApplicationError) as refused:
        services.update_application(owner, app, {"booths_requested": 5})
    assert (refused.value.status, refused.value.code) == (409, "not_editable")
    assert app.booths_requested == 2 and audit_count() == before

    changes = services.update_application(organizer(), app, {"booths_requested": 5})
    assert changes == {"booths_requested": [2, 5]}
    entry = last_audit(app)
    assert (entry.action, entry.actor_id, entry.changes) == ("application_updated", organizer().id,
                                                             {"booths_requested": [2, 5]})
    assert app.status == status


def test_the_exhibitor_edits_its_draft(ctx):
    exhibitor, owner = make_exhibitor()
    app = application(exhibitor)
    changes = services.update_application(owner, app, {"booths_requested": 4, "notes": "  near the entrance  "})
    assert changes == {"booths_requested": [2, 4], "notes": ["", "near the entrance"]}
    assert (last_audit(app).action, last_audit(app).actor_id) == ("application_updated", owner.id)
    logged = audit_count()
    assert services.update_application(owner, app, {"booths_requested": 4}) == {}  # nothing changed, nothing logged
    assert audit_count() == logged


def test_standard_booths_or_raw_space_never_both(ctx):
    exhibitor, owner = make_exhibitor(application={"space_kind": "raw", "booths_requested": 6, "raw_space_m2": 54})
    app = application(exhibitor)
    assert (app.space_kind, app.booths_requested, app.raw_space_m2) == ("raw", 0, 54)

    services.update_application(owner, app, {"space_kind": "standard", "booths_requested": 3, "raw_space_m2": 54})
    assert (app.space_kind, app.booths_requested, app.raw_space_m2) == ("standard", 3, 0)

    services.update_application(owner, app, {"space_kind": "raw", "booths_requested": 3, "raw_space_m2": 72})
    assert (app.space_kind, app.booths_requested, app.raw_space_m2) == ("raw", 0, 72)

    # A change that does not mention the kind of space keeps it.
    services.update_application(organizer(), app, {"notes": "Prefers hall A"})
    assert (app.space_kind, app.booths_requested, app.raw_space_m2) == ("raw", 0, 72)


def _other_expo() -> tuple[ExhibitionArea, Pavilion]:
    old = Expo(code="JJFE2025", name_zh="第二十五届晋江鞋博会", name_en="25th Jinjiang Footwear Expo",
               starts_on=date(2025, 4, 19), ends_on=date(2025, 4, 22), venue_zh="晋江国际会展中心",
               venue_en="Jinjiang International Exhibition Center", city_zh="福建晋江", city_en="Jinjiang")
    area = ExhibitionArea(expo=old, code="SPORT", name_zh="运动用品展区", name_en="Sporting goods")
    pav = Pavilion(expo=old, area=area, code="BR", name_zh="一带一路品牌馆", name_en="Belt and Road")
    db.session.add_all([old, area, pav])
    db.session.flush()
    return area, pav


def test_the_pavilion_belongs_to_the_area_and_to_the_current_expo(ctx):
    exhibitor, owner = make_exhibitor()
    app = application(exhibitor)
    sport, machinery = pavilion("BR").area_id, pavilion("TWM").area_id
    old_area, old_pavilion = _other_expo()
    assert services.current_expo().id != old_area.expo_id

    refusals = [
        ({"preferred_area_id": sport, "preferred_pavilion_id": pavilion("TWM").id}, "preferred_pavilion_id"),
        ({"preferred_area_id": sport, "preferred_pavilion_id": old_pavilion.id}, "preferred_pavilion_id"),
        ({"preferred_area_id": old_area.id, "preferred_pavilion_id": None}, "preferred_area_id"),
        ({"preferred_area_id": None, "preferred_pavilion_id": old_pavilion.id}, "preferred_pavilion_id"),
        ({"preferred_area_id": sport, "preferred_pavilion_id": 999_999}, "preferred_pavilion_id"),
    ]
    for values, field in refusals:
        with pytest.raises(ApplicationError) as refused:
            services.update_application(owner, app, values)
        assert refused.value.field == field, values
        assert (app.preferred_area_id, app.preferred_pavilion_id) == (None, None)

    services.update_application(owner, app, {"preferred_area_id": machinery, "preferred_pavilion_id": pavilion("TWM").id})
    assert (app.preferred_area_id, app.preferred_pavilion_id) == (machinery, pavilion("TWM").id)
    # Changing only the pavilion is checked against the area the application already names.
    with pytest.raises(ApplicationError) as refused:
        services.update_application(owner, app, {"preferred_pavilion_id": pavilion("BR").id})
    assert refused.value.field == "preferred_pavilion_id"
    assert app.preferred_pavilion_id == pavilion("TWM").id
    services.update_application(owner, app, {"preferred_area_id": None, "preferred_pavilion_id": pavilion("BR").id})
    assert (app.preferred_area_id, app.preferred_pavilion_id) == (None, pavilion("BR").id)

    # Registration follows the same rule.
    with pytest.raises(ApplicationError):
        make_exhibitor(application={"preferred_area_id": sport, "preferred_pavilion_id": pavilion("TWM").id})


def test_bulk_decisions_are_all_or_nothing(ctx):
    submitted = [application(make_exhibitor(submit=True)[0]) for _ in range(3)]
    draft = application(make_exhibitor()[0])
    staff = organizer()
    before = (statuses(), audit_count(), mail_count())

    with pytest.raises(ApplicationError) as refused:
        services.decide_many(staff, [a.id for a in [*submitted, draft]], S.APPROVED)
    assert refused.value.status == 409
    with pytest.raises(NotFound):
        services.decide_many(staff, [submitted[0].id, 999_999], S.APPROVED)
    with pytest.raises(ApplicationError):
        services.decide_many(staff, [a.id for a in submitted], S.REJECTED, "")
    with pytest.raises(ApplicationError):
        services.decide_many(submitted[0].exhibitor.accounts[0], [submitted[0].id], S.APPROVED)
    db.session.expire_all()
    assert (statuses(), audit_count(), mail_count()) == before

    done = services.decide_many(staff, [a.id for a in submitted[:2]] * 2, S.WAITLISTED)
    assert sorted(a.id for a in done) == sorted(a.id for a in submitted[:2])
    after = statuses()
    assert {after[a.id] for a in submitted[:2]} == {S.WAITLISTED}
    assert after[submitted[2].id] == S.SUBMITTED and after[draft.id] == S.DRAFT
    assert {k: v for k, v in after.items() if k not in {a.id for a in submitted[:2]}} == \
        {k: v for k, v in before[0].items() if k not in {a.id for a in submitted[:2]}}
    assert (audit_count(), mail_count()) == (before[1] + 2, before[2] + 2)


# --- staff -------------------------------------------------------------------------------------------------------

def test_staff_changes_are_audited_without_id_numbers(ctx):
    exhibitor, owner = make_exhibitor()
    member = services.add_staff(owner, exhibitor, {"name": " 林芳 ", "title": "Sales", "phone": "+86 139 1111 2222",
                                                   "email": "lin@example.com", "id_number": "G12345678"})
    assert (member.name, member.id_number) == ("林芳", "G12345678")
    added = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "staff_added",
                                                       AuditEntry.object_id == member.id))
    assert (added.actor_id, added.exhibitor_id, added.changes["name"]) == (owner.id, exhibitor.id, "林芳")

    changes = services.update_staff(owner, member, {"name": "林芳", "title": "Sales Manager", "phone": "",
                                                    "email": "lin@example.com", "id_number": "E98765432"})
    assert member.id_number == "E98765432" and member.title == "Sales Manager"
    updated = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "staff_updated",
                                                         AuditEntry.object_id == member.id))
    assert updated.changes["title"] == ["Sales", "Sales Manager"]
    assert updated.changes["phone"] == ["+86 139 1111 2222", ""]
    assert "id_number" in updated.changes and changes["id_number"] == ["***", "***"]

    services.update_staff(organizer(), member, {"name": "林芳", "title": "Sales Manager", "phone": "",
                                                "email": "lin@example.com", "id_number": ""})
    member_id = member.id
    services.remove_staff(owner, member)
    assert db.session.get(ExhibitorStaff, member_id) is None
    removed = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "staff_removed",
                                                         AuditEntry.object_id == member_id))
    assert (removed.actor_id, removed.changes["name"]) == (owner.id, "林芳")

    logged = json.dumps([e.changes for e in db.session.scalars(select(AuditEntry))], ensure_ascii=False)
    assert "林芳" in logged  # the control: the log does hold the staff entries
    assert "G12345678" not in logged and "E98765432" not in logged


# --- categories --------------------------------------------------------------------------------------------------

def category(code: str) -> ProductCategory:
    return db.session.scalar(select(ProductCategory).where(ProductCategory.code == code))


def category_values(**overrides):
    values = {"code": "athletic.trail", "name_zh": "越野跑鞋", "name_en": "Trail running shoes",
              "parent_id": category("athletic").id, "sort": 5, "active": True}
    values.update(overrides)
    return values


def test_category_codes_are_unique_and_changes_audited(ctx):
    admin = user("admin@expo.test")
    trail = category_services.save_category(admin, category_values())
    assert trail.parent.code == "athletic"
    created = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "category_created",
                                                         AuditEntry.object_id == trail.id))
    assert (created.actor_id, created.changes) == (admin.id, {"code": "athletic.trail"})

    with pytest.raises(ExpoError) as refused:
        category_services.save_category(admin, category_values(name_en="Copy"))
    assert (refused.value.code, refused.value.field) == ("code_taken", "code")
    with pytest.raises(ExpoError):
        category_services.save_category(admin, category_values(code="athletic.running"), trail)

    category_services.save_category(admin, category_values(name_en="Trail shoes"), trail)  # its own code: fine
    updated = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "category_updated",
                                                         AuditEntry.object_id == trail.id))
    assert updated.changes == {"name_en": ["Trail running shoes", "Trail shoes"]}
    assert db.session.scalar(select(func.count()).where(ProductCategory.code == "athletic.trail")) == 1


def test_a_category_cannot_move_under_itself_or_its_descendants(ctx):
    admin = user("admin@expo.test")
    athletic = category("athletic")
    trail = category_services.save_category(admin, category_values())
    kids = category_services.save_category(admin, category_values(code="athletic.trail.kids", name_en="Kids' trail",
                                                                  parent_id=trail.id))

    def move(cat, parent_id):
        return category_services.save_category(admin, {"code": cat.code, "name_zh": cat.name_zh,
                                                       "name_en": cat.name_en, "parent_id": parent_id,
                                                       "sort": cat.sort, "active": cat.active}, cat)

    for target in (athletic, trail, kids):
        with pytest.raises(ExpoError) as refused:
            move(athletic, target.id)
        assert refused.value.field == "parent_id"
    with pytest.raises(ExpoError):
        move(trail, kids.id)
    with pytest.raises(ExpoError):
        move(trail, 999_999)
    db.session.expire_all()
    assert athletic.parent_id is None and trail.parent_id == athletic.id

    move(kids, category("children").id)  # a real move is allowed and logged
    assert kids.parent.code == "children"
    entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "category_updated",
                                                       AuditEntry.object_id == kids.id))
    assert entry.changes == {"parent_id": [trail.id, category("children").id]}
    move(athletic, None)  # staying at the top level is no cycle
    assert athletic.parent_id is None


# --- the review queue --------------------------------------------------------------------------------------------

@pytest.fixture
def queue_data(ctx):
    """The demo rows plus companies made to sit on the edges of every filter."""
    made = {}
    made["percent"] = make_exhibitor(name_en="100% Natural Rubber Co.", name_zh=None, country="VN", city="Ho Chi Minh",
                                     submit=True)[0]
    made["percent_decoy"] = make_exhibitor(name_en="100X Natural Rubber Co.", name_zh=None, country="VN",
                                           city="Hanoi", submit=True)[0]
    made["underscore"] = make_exhibitor(name_en="Sole_Tech GmbH", name_zh=None, country="DE", city="Pirmasens",
                                        submit=True)[0]
    made["underscore_decoy"] = make_exhibitor(name_en="SoleXTech GmbH", name_zh=None, country="DE", city="Berlin",
                                              submit=True)[0]
    made["chinese_only"] = make_exhibitor(name_en="", name_zh="泉州安踏测试鞋业有限公司", city="泉州")[0]
    made["english_only"] = make_exhibitor(name_en="Zeta Lasting Machines Inc.", name_zh="", country="US", city="Boston",
                                          submit=True)[0]
    br, twm = pavilion("BR"), pavilion("TWM")
    made["taiwan"] = make_exhibitor(name_zh="台中测试鞋机股份有限公司", name_en="Taichung Test Machinery Co., Ltd.",
                                    country="TW", city="台中", submit=True,
                                    application={"preferred_area_id": twm.area_id, "preferred_pavilion_id": twm.id,
                                                 "booths_requested": 12, "years_exhibited": 9})[0]
    made["belt_road"] = make_exhibitor(application={"preferred_area_id": br.area_id, "preferred_pavilion_id": br.id,
                                                    "booths_requested": 6}, submit=True)[0]
    # Submission times on the edges of 1 March 2026 (the demo's own dates are all later).
    edges = {"percent": datetime(2026, 2, 28, 23, 59, 59), "percent_decoy": datetime(2026, 3, 1, 0, 0, 0),
             "underscore": datetime(2026, 3, 1, 23, 59, 59), "underscore_decoy": datetime(2026, 3, 2, 0, 0, 0)}
    for key, at in edges.items():
        application(made[key]).submitted_at = at
    put_in(application(made["taiwan"]), S.APPROVED, datetime(2026, 3, 5, 8, 0))
    put_in(application(made["english_only"]), S.WAITLISTED, datetime(2026, 3, 5, 8, 0))
    put_in(application(made["belt_road"]), S.REJECTED, datetime(2026, 3, 5, 8, 0))
    put_in(application(make_exhibitor()[0]), S.WITHDRAWN, datetime(2026, 3, 6, 9, 0))
    running = category("athletic.running")
    made["percent"].categories = [running]
    made["taiwan"].categories = [category("machinery.cutting")]
    db.session.flush()
    return made


def all_rows():
    expo = services.current_expo()
    apps = db.session.scalars(select(SpaceApplication).where(SpaceApplication.expo_id == expo.id))
    return [(a, a.exhibitor) for a in apps]


def queue_ids(**kw) -> list[int]:
    stmt = services.queue_query(services.current_expo(), QueueFilter(**kw))
    return [a.id for a, _e in db.session.execute(stmt)]


def expect(test) -> set[int]:
    return {a.id for a, e in all_rows() if test(a, e)}


def check(test, **kw) -> set[int]:
    got = queue_ids(**kw)
    assert len(got) == len(set(got)), kw  # no row twice (the category join)
    wanted = expect(test)
    assert set(got) == wanted, kw
    return wanted


def test_queue_filters(queue_data):
    made = queue_data
    for status in S:
        assert check(lambda a, e, s=status: a.status == s, status=status), status  # every status is present
    expo = services.current_expo()
    for area in expo.areas:
        check(lambda a, e, i=area.id: a.preferred_area_id == i, area_id=area.id)
    some = [check(lambda a, e, i=p.id: a.preferred_pavilion_id == i, pavilion_id=p.id) for p in expo.pavilions]
    assert sum(map(bool, some)) >= 2
    for country in ("DE", "de", "TW", "CN", "FR"):
        code = country.upper()
        check(lambda a, e, c=code: e.country == c, country=country)

    running = category("athletic.running")
    found = check(lambda a, e: running in e.categories, category_id=running.id)
    assert application(made["percent"]).id in found
    # A parent category finds the exhibitors of its subcategories.
    athletic = category("athletic")
    family = {athletic.id, *(c.id for c in athletic.children)}
    found = check(lambda a, e: any(c.id in family for c in e.categories), category_id=athletic.id)
    assert application(made["percent"]).id in found and application(made["taiwan"]).id not in found

    def text_has(needle):
        return lambda a, e: any(needle.lower() in (t or "").lower()
                                for t in (e.name_zh, e.name_en, e.contact_email, e.city))

    assert check(text_has("100%"), q="100%") == {application(made["percent"]).id}
    assert check(text_has("e_t"), q="e_t") == {application(made["underscore"]).id}
    assert check(text_has("sole"), q="  SOLE ") >= {application(made[k]).id for k in ("underscore", "underscore_decoy")}
    assert check(text_has("台中"), q="台中") == {application(made["taiwan"]).id}
    assert check(text_has("pirmasens"), q="pirmasens") == {application(made["underscore"]).id}
    email = made["belt_road"].contact_email
    assert application(made["belt_road"]).id in check(text_has(email), q=email.upper())
    assert check(text_has("%"), q="%") == {application(made["percent"]).id}
    assert check(text_has("_"), q="_") == {application(made["underscore"]).id}
    assert check(text_has("\\"), q="\\") == set()

    day = date(2026, 3, 1)
    on_the_day = {application(made[k]).id for k in ("percent_decoy", "underscore")}
    assert check(lambda a, e: a.submitted_at and a.submitted_at.date() == day,
                 submitted_from=day, submitted_to=day) == on_the_day
    check(lambda a, e: a.submitted_at is not None and a.submitted_at.date() >= day, submitted_from=day)
    until = check(lambda a, e: a.submitted_at is not None and a.submitted_at.date() <= day, submitted_to=day)
    assert until == on_the_day | {application(made["percent"]).id}
    check(lambda a, e: a.status == S.SUBMITTED and e.country == "DE" and a.submitted_at.date() >= day,
          status=S.SUBMITTED, country="DE", submitted_from=day)


SORT_KEYS = {
    "submitted": lambda a, e: a.submitted_at,
    "name": lambda a, e: e.name_en if e.name_en is not None else e.name_zh,
    "name_zh": lambda a, e: e.name_zh if e.name_zh is not None else e.name_en,
    "country": lambda a, e: e.country,
    "status": lambda a, e: a.status,
    "booths": lambda a, e: a.booths_requested,
    "years": lambda a, e: a.years_exhibited,
}


def test_sort_keys_cover_the_service():
    assert set(SORT_KEYS) == set(services.SORTS)


@pytest.mark.parametrize("descending", [False, True], ids=["asc", "desc"])
@pytest.mark.parametrize("sort", sorted(SORT_KEYS))
def test_queue_sorts(queue_data, sort, descending):
    key = SORT_KEYS[sort]
    rows = all_rows()
    present = sorted((r for r in rows if key(*r) is not None), key=lambda r: (key(*r), r[0].id), reverse=descending)
    missing = sorted((r for r in rows if key(*r) is None), key=lambda r: r[0].id, reverse=descending)
    assert queue_ids(sort=sort, descending=descending) == [a.id for a, _e in present + missing]
    assert len({key(*r) for r in rows}) > 2  # the data really has something to order


def test_names_sort_by_the_other_language_when_one_is_missing(queue_data):
    """A company without an English name sorts by its Chinese name under "Name (English)", and the reverse."""
    order = queue_ids(sort="name")
    chinese_only = application(queue_data["chinese_only"]).id
    latin = [a.id for a, e in all_rows() if e.name_en and e.name_en[0].isascii()]
    assert all(order.index(chinese_only) > order.index(i) for i in latin)
    order = queue_ids(sort="name_zh")
    english_only = application(queue_data["english_only"]).id  # "Zeta ...": after "100% ..." and "Sole_Tech ..."
    assert order.index(english_only) > order.index(application(queue_data["percent"]).id)
    assert order.index(english_only) > order.index(application(queue_data["underscore"]).id)


def test_pagination_clamps(queue_data):
    stmt = services.queue_query(services.current_expo(), QueueFilter(sort="name"))
    everything = [a.id for a, _e in db.session.execute(stmt)]
    total = len(everything)
    assert total > 12
    last = -(-total // 5)
    page = listing.paginate(stmt, 10_000, 5)
    assert (page.page, page.pages, page.total) == (last, last, total)
    assert [a.id for a, _e in page.items] == everything[(last - 1) * 5:]
    assert not page.has_next and page.has_prev
    page = listing.paginate(stmt, 0, 5)
    assert page.page == 1 and [a.id for a, _e in page.items] == everything[:5] and not page.has_prev
    page = listing.paginate(stmt, 2, 5)
    assert [a.id for a, _e in page.items] == everything[5:10]
    assert listing.paginate(stmt, 1, 10_000).per_page == listing.MAX_PER_PAGE
    assert listing.paginate(stmt, 1, 0).per_page == 1
    empty = listing.paginate(services.queue_query(services.current_expo(), QueueFilter(q="no such company")), 7, 5)
    assert (empty.page, empty.pages, empty.total, empty.items) == (1, 1, 0, [])


# --- the organizer's pages ---------------------------------------------------------------------------------------

def _commit_queue_data(app):
    with app.app_context():
        made = {}
        for key, kw in {
            "de1": dict(name_en="Sole_Tech GmbH", name_zh=None, country="DE", submit=True),
            "de2": dict(name_en="Pirmasens Leather GmbH", name_zh=None, country="DE", submit=True),
            "de_draft": dict(name_en="Berlin Draft Shoes GmbH", name_zh=None, country="DE"),
            "cn1": dict(name_zh="晋江审核测试鞋业有限公司", name_en="Jinjiang Review Test Footwear", submit=True),
            "cn2": dict(name_zh="石狮审核测试鞋材有限公司", name_en="Shishi Review Test Materials", submit=True),
        }.items():
            exhibitor, _user = make_exhibitor(**kw)
            made[key] = (exhibitor.id, application(exhibitor).id)
        db.session.commit()
        return made


def checkbox_ids(html: str) -> set[int]:
    return {int(v) for v in re.findall(r'name="application_ids" value="(\d+)"', html)}


def test_queue_page_shows_the_matching_rows_only(app, client, auth):
    made = _commit_queue_data(app)
    auth.login("staff@expo.test")
    cases = [{"country": "DE"}, {"country": "DE", "status": "submitted"}, {"q": "审核测试"}, {"q": "e_t"},
             {"status": "approved", "sort": "name", "desc": "y", "per_page": "200"}]
    for params in cases:
        r = client.get("/organizer/applications", query_string=params)
        assert r.status_code == 200, params
        html = r.get_data(as_text=True)
        with app.app_context():
            flt = QueueFilter(status=params.get("status"), country=params.get("country"), q=params.get("q"),
                              sort=params.get("sort", "submitted"), descending="desc" in params)
            wanted = queue_ids(**vars(flt))
            names = {a.id: e.display_name() for a, e in all_rows()}
        assert wanted, params
        assert checkbox_ids(html) == set(wanted), params
        assert [int(v) for v in re.findall(r'name="application_ids" value="(\d+)"', html)] == wanted
        for app_id, name in names.items():
            assert (f">{escape(name)}<" in html) == (app_id in wanted), (params, name)
    html = client.get("/organizer/applications", query_string={"country": "DE"}).get_data(as_text=True)
    assert checkbox_ids(html) == {made[k][1] for k in ("de1", "de2", "de_draft")}
    assert client.get("/organizer/applications", query_string={"submitted_from": "not a date"}).status_code == 400


def test_bulk_approve_from_the_queue_page_changes_exactly_the_selected(app, client, csrf_enabled):
    made = _commit_queue_data(app)
    login_page = client.get("/login").get_data(as_text=True)
    r = client.post("/login", data={"email": "staff@expo.test", "password": DEMO_PASSWORD,
                                    "csrf_token": csrf_token(login_page)})
    assert r.status_code == 302
    page = client.get("/organizer/applications", query_string={"country": "DE"})
    html = page.get_data(as_text=True)
    token = csrf_token(html)
    chosen = [made["de1"][1], made["cn1"][1]]
    with app.app_context():
        before = statuses()

    # One unfit application in the selection: nothing changes.
    r = client.post("/organizer/applications/bulk", data={"csrf_token": token, "decision": "approved", "reason": "",
                                                          "application_ids": [*chosen, made["de_draft"][1]]})
    assert r.status_code == 409
    with app.app_context():
        assert statuses() == before
    # Without the token: refused.
    r = client.post("/organizer/applications/bulk", data={"decision": "approved", "application_ids": chosen})
    assert r.status_code == 400

    back = re.search(r'name="next" value="([^"]+)"', html).group(1)
    assert back == "/organizer/applications?country=DE"  # the page hands its own filters to the form
    r = client.post("/organizer/applications/bulk", data={"csrf_token": token, "decision": "approved", "reason": "",
                                                          "application_ids": chosen, "next": back})
    assert r.status_code == 302 and r.headers["Location"].endswith("/organizer/applications?country=DE")
    with app.app_context():
        after = statuses()
        assert {i: s for i, s in after.items() if s != before[i]} == {i: S.APPROVED for i in chosen}
        entries = db.session.scalars(select(AuditEntry).where(AuditEntry.action == "application_approved"))
        staff_id = user("staff@expo.test").id
        assert sorted(e.object_id for e in entries if e.actor_id == staff_id) == sorted(chosen)
    assert "2 applications are now Approved" in client.get("/organizer/applications").get_data(as_text=True)


def test_exhibitor_detail_shows_the_audit_log(app, client, auth):
    made = _commit_queue_data(app)
    ex_id, app_id = made["cn1"]
    auth.login("staff@expo.test")
    r = client.post(f"/organizer/applications/{app_id}/decision", data={"decision": "waitlisted", "reason": "Later"})
    assert r.status_code == 302
    html = client.get(f"/organizer/exhibitors/{ex_id}").get_data(as_text=True)
    table = html[html.index('id="audit"'):]
    table = table[:table.index("</table>")]
    rows = re.findall(r"<tr><td>(.*?)</td><td>(.*?)</td><td>(.*?)</td>", table, re.S)
    with app.app_context(), app.test_request_context():
        entries = db.session.scalars(select(AuditEntry).where(AuditEntry.exhibitor_id == ex_id)
                                     .order_by(AuditEntry.at.desc(), AuditEntry.id.desc())).all()
        expected = [(format_datetime(e.at, "short"), e.actor.name if e.actor else "system",
                     f'{audit.action_label(e.action)} <code class="hint">{e.action}</code>') for e in entries]
        staff_name = user("staff@expo.test").name
    assert [tuple(c.strip() for c in row) for row in rows] == expected
    assert expected[0][1] == staff_name
    assert [e.action for e in entries] == ["application_waitlisted", "application_submit", "registered"]
    assert "Application waitlisted" in rows[0][2] and "Application submitted" in rows[1][2]
    assert "submitted → waitlisted" in table and "Later" in table


# --- exports -----------------------------------------------------------------------------------------------------

HEADERS = ["Application", "Status", "Company name in Chinese", "Company name in English", "Country or region",
           "Province or state", "City", "Contact person", "Contact phone", "Contact e-mail", "Website",
           "Kind of space", "Number of standard booths", "Raw space in m²", "Corner booth", "Years exhibited before",
           "Submitted"]
FORMULAS = ['=HYPERLINK("http://evil.example/","Click")', "+cmd|' /C calc'!A0", "-2+3", "@SUM(1+1)"]


@pytest.fixture
def export_data(app):
    with app.app_context():
        ids = {}
        ex, _u = make_exhibitor(name_zh="晋江出口测试鞋业有限公司", name_en="Jinjiang Export Test Footwear",
                                city="出口测试市", submit=True)
        ids[application(ex).id] = ex.id
        for i, formula in enumerate(FORMULAS):
            ex, _u = make_exhibitor(name_zh=None, name_en=formula, city="出口测试市", country="DE",
                                    contact_name=f"Tester {i}", submit=i % 2 == 0)
            ids[application(ex).id] = ex.id
        make_exhibitor(name_zh="不在导出里的公司", name_en="Not Exported Ltd.", city="别处", submit=True)
        db.session.commit()
    return ids


def test_csv_export(app, client, auth, export_data):
    auth.login("staff@expo.test")
    r = client.get("/organizer/applications/export.csv", query_string={"q": "出口测试", "sort": "name"})
    assert r.status_code == 200
    assert r.mimetype == "text/csv" and "attachment" in r.headers["Content-Disposition"]
    assert r.data.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(r.data.decode("utf-8")[1:])))
    assert rows[0] == HEADERS
    body = rows[1:]
    assert {int(row[0]) for row in body} == set(export_data)
    with app.app_context():
        assert [int(row[0]) for row in body] == queue_ids(q="出口测试", sort="name")
        exhibitors = {a: db.session.get(Exhibitor, e) for a, e in export_data.items()}
        for row in body:
            ex = exhibitors[int(row[0])]
            assert row[1] == application(ex).status
            assert row[2] == (ex.name_zh or "") and row[6] == "出口测试市"
            if ex.name_en in FORMULAS:
                assert row[3] == "'" + ex.name_en  # quoted: a spreadsheet shows it as text, never runs it
            else:
                assert row[3] == ex.name_en
            assert row[8] == "'" + ex.contact_phone  # "+86 ..." would be read as a formula too
    assert "晋江出口测试鞋业有限公司" in {row[2] for row in body}
    assert not any(cell.startswith(("=", "+", "-", "@")) for row in body for cell in row)
    assert "不在导出里的公司" not in r.data.decode("utf-8")


def test_xlsx_export(app, client, auth, export_data):
    auth.login("staff@expo.test")
    r = client.get("/organizer/applications/export.xlsx", query_string={"q": "出口测试", "status": "submitted"})
    assert r.status_code == 200
    assert r.mimetype == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    book = load_workbook(io.BytesIO(r.data))
    sheet = book.active
    rows = [[c.value for c in row] for row in sheet.iter_rows()]
    assert rows[0] == HEADERS
    with app.app_context():
        wanted = queue_ids(q="出口测试", status="submitted")
        assert [row[0] for row in rows[1:]] == wanted
        assert set(wanted) < set(export_data) and len(wanted) == 3
        for row in rows[1:]:
            ex = db.session.get(Exhibitor, export_data[row[0]])
            assert row[1] == "submitted"
            assert (row[2] or "", row[3], row[6]) == (ex.name_zh or "", ex.name_en, "出口测试市")  # text kept exactly
            assert row[8] == ex.contact_phone
    assert "晋江出口测试鞋业有限公司" in [row[2] for row in rows]
    formula_cells = [row[3] for row in sheet.iter_rows(min_row=2) if row[3].value in FORMULAS]
    assert [c.value for c in formula_cells] == [f for f in FORMULAS[::2]]  # the submitted ones, exactly as typed
    assert all(c.data_type == "s" and c.quotePrefix for c in formula_cells)  # text, and stays text when edited
    # No cell is a formula: every text cell is stored as text.
    assert all(c.data_type != "f" for row in sheet.iter_rows() for c in row)
    xml = zipfile.ZipFile(io.BytesIO(r.data)).read("xl/worksheets/sheet1.xml").decode("utf-8")
    assert "<f>" not in xml and "<f " not in xml
