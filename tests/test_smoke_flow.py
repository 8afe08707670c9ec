"""The exhibitor's journey through the pages: register, submit, decided by the organizer, told about it."""

from __future__ import annotations

from sqlalchemy import func, select

from expo.exhibitors.models import Exhibitor, SpaceApplication
from expo.extensions import db
from expo.mail import OutboxMail
from tests.factories import PASSWORD, pavilion


def registration_form(**overrides):
    data = {"email": "new@example.com", "password": PASSWORD, "password_confirm": PASSWORD,
            "name_zh": "晋江新星鞋业有限公司", "name_en": "Jinjiang Xinxing Footwear Co., Ltd.", "country": "CN",
            "province": "福建", "city": "晋江", "address": "", "website": "", "contact_name": "林芳",
            "contact_phone": "+86 139 1234 5678", "contact_email": "sales@xinxing.example.com",
            "description": "Running shoes", "space_kind": "standard", "booths_requested": "2", "raw_space_m2": "",
            "preferred_area_id": "0", "preferred_pavilion_id": "0", "corner_preference": "none",
            "years_exhibited": "0", "competitors": "", "notes": "", "submit": "1"}
    data.update(overrides)
    return data


def test_register_submit_approve_and_exhibitor_sees_it(app, client, auth):
    r = client.post("/register", data=registration_form())
    assert r.status_code == 302, r.data.decode()[:3000]
    r = client.get("/exhibitor/")
    assert "Submitted" in r.get_data(as_text=True)
    with app.app_context():
        ex = db.session.scalar(select(Exhibitor).where(Exhibitor.name_zh == "晋江新星鞋业有限公司"))
        app_id = db.session.scalar(select(SpaceApplication.id).where(SpaceApplication.exhibitor_id == ex.id))
        ex_id = ex.id
    auth.logout()
    auth.login()
    r = client.post(f"/organizer/applications/{app_id}/decision", data={"decision": "approved", "reason": ""})
    assert r.status_code == 302
    page = client.get(f"/organizer/exhibitors/{ex_id}").get_data(as_text=True)
    assert "application_approved" in page
    auth.logout()
    auth.login("new@example.com", PASSWORD)
    page = client.get("/exhibitor/").get_data(as_text=True)
    assert "Approved" in page
    assert "is approved" in page  # the message sent to the exhibitor
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(OutboxMail)
                                 .where(OutboxMail.exhibitor_id == ex_id)) == 2


def test_registration_with_errors_saves_nothing(app, client):
    with app.app_context():
        before = db.session.scalar(select(func.count(Exhibitor.id)))
        pav = pavilion("TWM").id  # a machinery pavilion, not in the sporting goods area
        area = pavilion("BR").area_id
    r = client.post("/register", data=registration_form(preferred_area_id=str(area), preferred_pavilion_id=str(pav)))
    assert r.status_code == 400
    assert "not in the preferred exhibition area" in r.get_data(as_text=True)
    r = client.post("/register", data=registration_form(name_zh="", name_en="", contact_email="nope"))
    assert r.status_code == 400
    body = r.get_data(as_text=True)
    assert "Give the company name" in body and "valid e-mail" in body
    with app.app_context():
        assert db.session.scalar(select(func.count(Exhibitor.id))) == before
