"""In a real browser, supply-demand docking from end to end, as its people do it:

an exhibitor publishes an offer and a buyer a purchase need; the buyer finds the exhibitor among the recommendations
(and the exhibitor the buyer among theirs) and asks for a meeting; the exhibitor accepts; the organizer opens a
docking session and schedules automatically; the buyer sees the time, room and table on their schedule and in its
PDF; the exhibitor records a cooperation intention; the organizer's headline report, its PDF and the dashboard show
it. A phone-sized window for the buyer, Chinese for the exhibitor's report check."""

from __future__ import annotations

import io
import re

import pytest
from pypdf import PdfReader
from sqlalchemy import select

from expo.docking.models import Meeting
from expo.exhibitors.models import ApplicationStatus, SpaceApplication
from expo.extensions import db
from tests.browser.pages import sign_in
from tests.factories import user

playwright_api = pytest.importorskip("playwright.sync_api")
expect = playwright_api.expect

pytestmark = pytest.mark.browser

PHONE = {"width": 390, "height": 844}


def _setup(app) -> dict:
    """The demo exhibitor's application approved (an organizer did that earlier): only exhibitors taking part are
    recommended. Its first product category is what both sides will trade in."""
    with app.app_context():
        ex_user = user("exhibitor@expo.test")
        application = db.session.scalar(select(SpaceApplication).where(
            SpaceApplication.exhibitor_id == ex_user.exhibitor_id))
        application.status = ApplicationStatus.APPROVED
        exhibitor = ex_user.exhibitor
        category = exhibitor.categories[0]
        buyer_user = user("buyer@expo.test")
        from expo.buyers.models import Buyer

        buyer = db.session.scalar(select(Buyer).where(Buyer.user_id == buyer_user.id))
        out = {"exhibitor_id": exhibitor.id, "exhibitor_en": exhibitor.name_en, "exhibitor_zh": exhibitor.name_zh,
               "category_id": category.id, "category": category.name_en, "buyer_id": buyer.id, "buyer_name": buyer.name}
        db.session.commit()
        return out


def test_buyer_and_exhibitor_meet_and_the_organizer_reports_it(app, new_context, screenshot_dir):
    s = _setup(app)

    # The exhibitor publishes an offer.
    exhibitor = new_context(locale="en-US").new_page()
    sign_in(exhibitor, "exhibitor@expo.test")
    exhibitor.locator("header nav a[href='/docking/offers']").click()
    exhibitor.goto("/docking/offers/new")
    products = f"{s['category']}: OEM for sports footwear brands"
    exhibitor.locator("#products").fill(products)
    exhibitor.locator("#category_id").select_option(str(s["category_id"]))
    exhibitor.locator("#min_order_pairs").fill("1000")
    exhibitor.locator("#monthly_capacity_pairs").fill("200000")
    exhibitor.locator("#oem").check()
    exhibitor.locator("main form button[type=submit]").click()
    expect(exhibitor.locator(".flash-success")).to_have_count(1)
    expect(exhibitor.locator("main")).to_contain_text(products)

    # The buyer, on a phone, publishes a purchase need and finds the exhibitor among the recommendations.
    buyer = new_context(locale="en-US", viewport=PHONE).new_page()
    sign_in(buyer, "buyer@expo.test")
    buyer.goto("/docking/needs/new")
    buyer.locator("#title").fill(f"{s['category']} for the spring season's production")
    buyer.locator("#category_id").select_option(str(s["category_id"]))
    buyer.locator("#quantity_pairs").fill("50000")
    buyer.locator("main form button[type=submit]").click()
    expect(buyer.locator(".flash-success")).to_have_count(1)
    # The exhibitor sees the buyer among their recommendations (before they meet: pairs already in a meeting are
    # not recommended again).
    exhibitor.locator("header nav a[href='/docking/recommendations']").click()
    expect(exhibitor.locator(f"#buyer-{s['buyer_id']}")).to_be_visible()
    buyer.goto("/docking/recommendations")
    card = buyer.locator(f"#exhibitor-{s['exhibitor_id']}")
    expect(card).to_be_visible()
    expect(card.locator(".reasons li").first).to_be_visible()  # the reasons for the score, in words
    assert int(card.get_attribute("data-score")) > 0
    buyer.screenshot(path=str(screenshot_dir / "docking-recommendations-phone.png"), full_page=True)
    card.locator("a.button").click()
    expect(buyer.locator("#request-exhibitor")).to_contain_text(s["exhibitor_en"])
    buyer.locator("#message").fill("We would like to discuss 50,000 pairs for spring.")
    buyer.locator("#send-request").click()
    expect(buyer.locator(".flash-success")).to_have_count(1)
    with app.app_context():
        meeting_id = db.session.scalar(select(Meeting.id).where(Meeting.buyer_id == s["buyer_id"],
                                                                Meeting.exhibitor_id == s["exhibitor_id"]))
    assert meeting_id is not None

    # The exhibitor accepts the request.
    exhibitor.locator("header nav a[href='/docking/meetings']").click()
    exhibitor.locator(f"#accept-{meeting_id}").click()
    expect(exhibitor.locator(".flash-success")).to_have_count(1)
    expect(exhibitor.locator(f"#meeting-{meeting_id}")).to_have_attribute("data-status", "accepted")

    # The organizer opens a docking session and schedules automatically.
    organizer = new_context(locale="en-US").new_page()
    sign_in(organizer, "admin@expo.test")
    organizer.locator("header nav a[href='/docking/organizer/sessions']").click()
    organizer.goto("/docking/organizer/sessions/new")
    organizer.locator("#name_zh").fill("运动鞋采购对接会")
    organizer.locator("#name_en").fill("Sports footwear sourcing session")
    organizer.locator("#room").fill("R1")
    organizer.locator("#starts_at").fill("2027-04-19T14:00")
    organizer.locator("#slot_count").fill("6")
    organizer.locator("#table_count").fill("4")
    organizer.locator("#published").check()
    organizer.locator("main form button[type=submit]").click()
    expect(organizer.locator(".flash-success")).to_have_count(1)
    organizer.goto("/docking/organizer/sessions")
    organizer.locator("#schedule-form button[type=submit]").click()
    expect(organizer.locator(".flash-success")).to_have_count(1)
    with app.app_context():
        meeting = db.session.get(Meeting, meeting_id)
        assert meeting.session_id is not None and meeting.slot is not None and meeting.table_no is not None
        table_no = meeting.table_no
        starts = meeting.session.starts_at

    # The buyer's schedule: time, room and table, on the page and in the PDF.
    buyer.goto("/docking/schedule")
    entry = buyer.locator(f"#entry-{meeting_id}")
    expect(entry).to_contain_text("R1")
    expect(entry).to_contain_text(s["exhibitor_en"])
    expect(entry).to_contain_text(str(table_no))
    pdf = buyer.request.get(buyer.locator("#schedule-pdf").get_attribute("href"))
    assert pdf.ok and pdf.headers["content-type"].startswith("application/pdf")
    text = "\n".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf.body())).pages)
    assert s["exhibitor_en"] in text and "R1" in text and s["buyer_name"] in text
    assert starts.strftime("%H:%M") in text or "14:" in text

    # After the meeting the exhibitor records a cooperation intention.
    exhibitor.goto(f"/docking/meetings/{meeting_id}")
    exhibitor.locator("#meeting-outcome").click()
    exhibitor.locator("#outcome-form input[name=result][value=intention]").check()
    exhibitor.locator("#products").fill(s["category"])
    exhibitor.locator("#quantity_pairs").fill("50000")
    exhibitor.locator("#value").fill("3000000")
    exhibitor.locator("#currency").select_option("CNY")
    exhibitor.locator("#expected_order_on").fill("2027-06-01")
    exhibitor.locator("#outcome-form button[type=submit]").click()
    expect(exhibitor.locator(".flash-success")).to_have_count(1)

    # The organizer's headline report and its PDF, and the dashboard, show it.
    organizer.locator("header nav a[href='/docking/reports']").click()
    expect(organizer.locator("#headline-en")).to_contain_text("1 company reached cooperation intentions")
    expect(organizer.locator("#headline-en")).to_contain_text("50,000 pairs")
    expect(organizer.locator("#headline-zh")).to_contain_text("1家企业达成合作意向")
    expect(organizer.locator("#total-pairs")).to_have_text("50,000")
    organizer.screenshot(path=str(screenshot_dir / "docking-report.png"), full_page=True)
    report = organizer.request.get("/docking/reports/docking-report.pdf")
    assert report.ok
    report_text = "\n".join(p.extract_text() for p in PdfReader(io.BytesIO(report.body())).pages)
    assert "1 company reached cooperation intentions" in re.sub(r"\s+", " ", report_text)
    organizer.goto("/organizer/")
    expect(organizer.locator("main")).to_contain_text("1 company reached cooperation intentions")
