"""In a real browser (headless Chromium), with CSRF on: a walk-in visitor registers at the kiosk and gets a badge.

The kiosk is a device signed in as the print desk. The visitor switches it to Chinese, types a Chinese name and
registers; the last page links the badge's PDF. The PDF is fetched through that link with the page's cookies and
read back: the printed name is there, and its QR code decodes and verifies with the expo's public key. The desk
then scans the code (types it and Enter, as a keyboard-wedge scanner does) and lands on the badge, printed once.
"""

from __future__ import annotations

import io
import re

import pytest
from pypdf import PdfReader
from sqlalchemy import select

from expo.badges import codes, desk_views, keys
from expo.badges.models import Badge, Visitor
from expo.exhibitors.services import current_expo
from expo.extensions import db
from tests.browser.pages import sign_in
from tests.test_badges_core import _decode_pages

playwright_api = pytest.importorskip("playwright.sync_api")
expect = playwright_api.expect

pytestmark = pytest.mark.browser

PHONE = {"width": 390, "height": 844}
NAME = "欧阳建华"


@pytest.mark.parametrize("viewport", [None, PHONE], ids=["kiosk", "phone"])
def test_walk_in_registers_at_the_kiosk_and_gets_a_readable_badge(app, new_context, screenshot_dir, tmp_path,
                                                                  viewport):
    options = {"viewport": viewport, "has_touch": True, "is_mobile": True} if viewport else {}
    page = new_context(locale="en-US", **options).new_page()
    sign_in(page, "printdesk@expo.test")
    page.locator("header nav a", has_text="Kiosk").click()
    expect(page).to_have_url(live_path("/kiosk/"))

    # The visitor switches the kiosk to Chinese with its own big language buttons.
    page.locator(".kiosk .langs button[lang=zh]").click()
    expect(page.locator("html")).to_have_attribute("lang", "zh-Hans")
    form = page.locator("#kiosk-form")
    expect(form.locator("#name")).to_be_focused()
    form.locator("#name").fill(NAME)
    form.locator("#company").fill("晋江鞋材贸易有限公司")
    form.locator("#country").select_option("CN")
    form.locator("#phone").fill("abc")  # a mistake first: the form says what is wrong, beside the field
    form.locator("button[type=submit]").click()
    expect(page.locator(".field.has-error .error")).to_have_count(1)
    page.locator("#kiosk-form #phone").fill("+86 139 0000 1111")
    page.locator("#kiosk-form button[type=submit]").click()

    expect(page.locator("h1")).to_contain_text(NAME)
    if viewport:
        assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"] + 1
    page.screenshot(path=str(screenshot_dir / f"kiosk-done-{'phone' if viewport else 'kiosk'}.png"))
    confirmation = page.locator("#confirmation").inner_text().strip()
    link = page.locator("#badge-pdf").get_attribute("href")

    # The badge PDF the page ends with, fetched with the page's cookies, read back.
    response = page.request.get(link)
    assert response.ok and response.headers["content-type"] == "application/pdf"
    pdf = response.body()
    text = "\n".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf)).pages)
    assert NAME in text and confirmation in text
    decoded = _decode_pages(pdf, tmp_path)
    assert len(decoded) == 1
    with app.app_context():
        try:
            claim = codes.verify(decoded[0], keys.public_keys(current_expo()))
            badge = db.session.get(Badge, claim.badge_id)
            visitor = db.session.get(Visitor, badge.holder_id)
            assert badge.code == decoded[0] and badge.name == NAME and badge.confirmation == confirmation
            assert visitor.registered_at_kiosk and badge.badge_type.code == "VIS" and badge.print_count == 1
            badge_id = badge.id
        finally:
            db.session.remove()

    # "Next visitor": an empty form again, and the previous visitor's badge is out of reach of the kiosk.
    page.locator("#next-visitor").click()
    expect(page.locator("#kiosk-form #name")).to_have_value("")
    assert page.request.get(link).status == 404

    # At the desk, the code scanned (typed by the scanner, then Enter) opens the badge, printed once.
    page.goto("/desk/")
    expect(page.locator("#q")).to_be_focused()
    page.keyboard.type(decoded[0])
    page.keyboard.press("Enter")
    expect(page).to_have_url(live_path(f"/desk/badges/{badge_id}"))
    expect(page.locator("#print-count")).to_have_text("1")
    expect(page.locator("#badge-preview")).to_contain_text(NAME)
    page.screenshot(path=str(screenshot_dir / f"desk-badge-{'phone' if viewport else 'kiosk'}.png"), full_page=True)


def live_path(path: str) -> re.Pattern:
    return re.compile(re.escape(path) + r"$")


def test_visitor_registers_online_and_sees_the_qr_on_the_phone(app, new_context, screenshot_dir, monkeypatch):
    monkeypatch.setattr(desk_views, "_registrations", {})  # no earlier test's registrations count against us
    page = new_context(locale="zh-CN", viewport=PHONE, has_touch=True, is_mobile=True).new_page()
    page.goto("/visit/register")
    expect(page.locator("html")).to_have_attribute("lang", "zh-Hans")
    form = page.locator("#visit-form")
    form.locator("#name").fill("王小明")
    form.locator("#company").fill("福建鞋业")
    form.locator("#country").select_option("CN")
    form.locator("#phone").fill("+86 138 0000 2222")
    form.locator("#email").fill("wang.xiaoming@example.com")
    form.locator("button[type=submit]").click()
    expect(page.locator("#badge-qr svg")).to_be_visible()
    expect(page.locator("#badge-name")).to_have_text("王小明")
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"] + 1
    page.screenshot(path=str(screenshot_dir / "visit-confirmation-phone.png"))
    with app.app_context():
        try:
            badge = db.session.scalar(select(Badge).where(Badge.name == "王小明"))
            assert page.locator("#confirmation").inner_text().strip() == badge.confirmation
        finally:
            db.session.remove()
