"""In a real browser: an exhibitor's booth collects leads. The demo exhibitor scans a consenting buyer's badge with a
keyboard-wedge scanner (the code typed, then Enter) and sees the contact details, adds a note, a rating and tags,
scans a buyer who did not consent and sees the name only, then exports the leads as CSV and XLSX and reads them back
(contact columns filled for the consenting buyer only)."""

from __future__ import annotations

import csv
import io
import re

import pytest
from openpyxl import load_workbook
from sqlalchemy import select

from expo.checkin.models import Lead
from expo.extensions import db
from tests.browser.pages import sign_in
from tests.test_checkin_api import flip
from tests.test_leads import make_booth

playwright_api = pytest.importorskip("playwright.sync_api")
expect = playwright_api.expect

pytestmark = pytest.mark.browser

PHONE = {"width": 390, "height": 844}


def _wedge(page, code: str) -> None:
    """What a keyboard-wedge scanner does: type the code into whatever has the focus, then Enter."""
    page.keyboard.type(code, delay=0)
    page.keyboard.press("Enter")


def test_exhibitor_scans_notes_and_exports_leads(app, new_context, screenshot_dir):
    booth = make_booth(app)
    context = new_context(locale="en-US")
    page = context.new_page()
    sign_in(page, "exhibitor@expo.test")
    page.locator("header nav a[href='/exhibitor/leads']").click()
    expect(page.locator("#leads")).to_contain_text("No leads yet")
    page.locator("#scan-lead").click()
    expect(page).to_have_url(re.compile(r"/exhibitor/leads/scan$"))
    expect(page.locator("#lead-code")).to_be_focused()
    expect(page.locator("#lead-camera-note")).to_be_visible()  # no BarcodeDetector in desktop Chromium: say so

    # A buyer who consented: the contact details.
    _wedge(page, booth.consenting)
    expect(page).to_have_url(re.compile(r"/exhibitor/leads/\d+$"))
    expect(page.locator(".flash-success")).to_have_text("New lead.")
    expect(page.locator("#lead-name")).to_contain_text(booth.consenting_name)
    expect(page.locator("#lead-email")).to_have_text(booth.consenting_email)
    expect(page.locator("#lead-phone")).to_have_text(booth.consenting_phone)
    expect(page.locator("#lead-company")).to_have_text(booth.consenting_company)
    expect(page.locator("#lead-job-title")).to_have_text(booth.consenting_job)
    expect(page.locator("#lead-interests")).not_to_be_empty()
    expect(page.locator("#lead-no-consent")).to_have_count(0)

    # A note, four stars and tags.
    page.locator("label.rating-choice", has_text=re.compile(r"^\s*★★★★\s*$")).click()
    page.locator("#tags").fill("Distributor,  sample request , 跟进")
    page.locator("#notes").fill("Wants 5,000 pairs for the autumn season.")
    page.locator("#lead-form button[type=submit]").click()
    expect(page.locator(".flash-success")).to_have_text("Saved.")
    expect(page.locator("#lead-tags")).to_have_text(re.compile(r"distributor\s+sample request\s+跟进"))
    expect(page.locator("#rating-4")).to_be_checked()
    expect(page.locator("#notes")).to_have_value("Wants 5,000 pairs for the autumn season.")
    page.screenshot(path=str(screenshot_dir / "lead-consenting.png"), full_page=True)

    # The next badge: a buyer who did not consent shows the name (and country) only.
    page.locator("#scan-next").click()
    expect(page.locator("#lead-code")).to_be_focused()
    _wedge(page, booth.silent)
    expect(page.locator("#lead-name")).to_contain_text(booth.silent_name)
    expect(page.locator("#lead-no-consent")).to_be_visible()
    for hidden in ("#lead-email", "#lead-phone", "#lead-company", "#lead-job-title", "#lead-interests"):
        expect(page.locator(hidden)).to_have_count(0)
    body = page.locator("main").inner_text()
    assert booth.silent_email not in body and booth.silent_phone not in body and booth.silent_company not in body

    # A forged badge is refused with the reason, and nothing is added.
    page.locator("#scan-next").click()
    expect(page.locator("#lead-code")).to_be_focused()
    _wedge(page, flip(booth.consenting))
    expect(page.locator("#lead-error")).to_have_text(re.compile(r"^Invalid signature"))
    expect(page.locator("#lead-code")).to_have_value("")

    # The list and the exports, fetched with the browser's cookies.
    page.locator("#all-leads").click()
    expect(page.locator("#leads tr[id^='lead-']")).to_have_count(2)
    expect(page.locator("#lead-count")).to_have_text("2 leads")
    csv_response = page.request.get("/exhibitor/leads.csv")
    assert csv_response.status == 200 and csv_response.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(csv_response.body().decode("utf-8-sig"))))
    assert len(rows) == 2
    by_name = {r["name"]: r for r in rows}
    yes, no = by_name[booth.consenting_name], by_name[booth.silent_name]
    assert (yes["email"], yes["job_title"], yes["rating"], yes["tags"]) == (
        booth.consenting_email, booth.consenting_job, "4", "distributor, sample request, 跟进")
    assert yes["notes"] == "Wants 5,000 pairs for the autumn season."
    assert [no[c] for c in ("company", "email", "phone", "job_title", "interests")] == [""] * 5
    assert no["contact_consent"] == "no" and no["country"] == booth.silent_country

    xlsx = page.request.get("/exhibitor/leads.xlsx")
    assert xlsx.status == 200
    table = [list(r) for r in load_workbook(io.BytesIO(xlsx.body()), read_only=True).active.iter_rows(
        values_only=True)]
    header, data = table[0], [dict(zip(table[0], r, strict=True)) for r in table[1:]]
    assert "email" in header and len(data) == 2
    got = {r["name"]: r for r in data}
    assert got[booth.consenting_name]["phone"] == booth.consenting_phone
    assert got[booth.silent_name]["email"] in (None, "") and got[booth.silent_name]["phone"] in (None, "")
    with app.app_context():
        try:
            assert len(db.session.scalars(select(Lead)).all()) == 2
        finally:
            db.session.remove()


def test_lead_scanner_on_a_phone(app, new_context, screenshot_dir):
    booth = make_booth(app)
    page = new_context(locale="zh-CN", viewport=PHONE, has_touch=True, is_mobile=True).new_page()
    sign_in(page, "exhibitor@expo.test")
    page.goto("/exhibitor/leads/scan")
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"] + 1
    assert page.locator("#lead-scan-form button[type=submit]").bounding_box()["height"] >= 44
    page.locator("#lead-code").fill(booth.consenting)
    page.locator("#lead-scan-form button[type=submit]").click()
    expect(page.locator("#lead-email")).to_have_text(booth.consenting_email)
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"] + 1
    page.screenshot(path=str(screenshot_dir / "lead-phone.png"), full_page=True)
