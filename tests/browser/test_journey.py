"""In a real browser (headless Chromium), with CSRF on: the exhibitor's and the organizer's journey of issue 2.

An exhibitor switches the site to Chinese, registers and submits; the organizer, in English and in another browser
context, finds the company in the review queue and approves it; the exhibitor reloads the dashboard and sees the
approval and the message, in Chinese. Also: at phone width (390 × 844) the main pages never scroll sideways.
"""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from expo import demo
from expo.auth.models import User
from expo.categories.models import ProductCategory
from expo.exhibitors.models import Exhibitor, SpaceApplication
from expo.exhibitors.services import current_expo
from expo.extensions import db
from expo.mail import OutboxMail
from expo.venue.models import ExhibitionArea, Pavilion
from tests.browser.pages import sign_in

playwright_api = pytest.importorskip("playwright.sync_api")
expect = playwright_api.expect

pytestmark = pytest.mark.browser

PHONE = {"width": 390, "height": 844}
NAME_ZH = "晋江飞跃运动鞋业有限公司"
NAME_EN = "Jinjiang Feiyue Sports Footwear Co., Ltd."
EMAIL = "lin.fang@feiyue-shoes.example.com"
PASSWORD = "feiyue-2027-expo"


def _in_db(app, fn):
    with app.app_context():
        try:
            return fn()
        finally:
            db.session.remove()


def test_register_in_chinese_organizer_approves_exhibitor_sees_it(app, new_context, screenshot_dir):
    ids = _in_db(app, lambda: {
        "categories": [str(i) for i in db.session.scalars(select(ProductCategory.id).where(
            ProductCategory.code.in_(["athletic.running", "athletic.basketball"])))],
        "area": str(db.session.scalar(select(ExhibitionArea.id).where(ExhibitionArea.code == "SPORT"))),
        "pavilion": str(db.session.scalar(select(Pavilion.id).where(Pavilion.code == "BR"))),
        "expo_zh": current_expo().name_zh,
    })
    assert len(ids["categories"]) == 2

    # --- the exhibitor: an English browser, switched to Chinese with the header's language button ---------------
    exhibitor_page = new_context(locale="en-US").new_page()
    exhibitor_page.goto("/register")
    expect(exhibitor_page.locator("html")).to_have_attribute("lang", "en")
    exhibitor_page.get_by_role("button", name="简体中文").click()
    expect(exhibitor_page.locator("html")).to_have_attribute("lang", "zh-Hans")
    expect(exhibitor_page).to_have_url(re.compile(r"/register\??$"))

    form = exhibitor_page.locator("main form")
    form.locator("#email").fill(EMAIL)
    form.locator("#password").fill(PASSWORD)
    form.locator("#password_confirm").fill(PASSWORD)
    form.locator("#name_zh").fill(NAME_ZH)
    form.locator("#name_en").fill(NAME_EN)
    form.locator("#country").select_option("CN")
    form.locator("#province").fill("福建")
    form.locator("#city").fill("晋江")
    form.locator("#contact_name").fill("林芳")
    form.locator("#contact_phone").fill("+86 139 1234 5678")
    form.locator("#contact_email").fill("sales@feiyue-shoes.example.com")
    form.locator("#categories").select_option(ids["categories"])
    form.locator("#booths_requested").fill("4")
    form.locator("#preferred_area_id").select_option(ids["area"])
    form.locator("#preferred_pavilion_id").select_option(ids["pavilion"])
    submit = form.locator("button[name=submit]")
    expect(submit).to_have_text("注册并提交申请")
    submit.click()

    expect(exhibitor_page).to_have_url(re.compile(r"/exhibitor/$"))
    expect(exhibitor_page.locator("#application-status .status")).to_have_text("已提交")
    expect(exhibitor_page.locator("main h1")).to_have_text(NAME_ZH)

    saved = _in_db(app, lambda: _registration(EMAIL))
    assert saved["status"] == "submitted"
    assert saved["names"] == (NAME_ZH, NAME_EN)
    assert saved["booths"] == 4
    assert saved["area_pavilion"] == (int(ids["area"]), int(ids["pavilion"]))
    assert saved["categories"] == {"athletic.running", "athletic.basketball"}
    assert saved["locale"] == "zh"  # chosen in the browser, kept on the account for the messages it gets

    # --- the organizer, in English, in a browser context of its own ---------------------------------------------
    organizer_page = new_context(locale="en-US").new_page()
    sign_in(organizer_page, "admin@expo.test")
    expect(organizer_page.locator("html")).to_have_attribute("lang", "en")
    organizer_page.goto("/organizer/applications")
    organizer_page.locator("#q").fill("飞跃运动")
    organizer_page.locator("#filters button[type=submit]").click()
    expect(organizer_page).to_have_url(re.compile(r"[?&]q=%E9%A3%9E%E8%B7%83"))
    rows = organizer_page.locator("#bulk table tr:has(td a)")
    expect(rows).to_have_count(1)
    expect(rows.first.locator(".status")).to_have_text("Submitted")
    rows.first.get_by_role("link", name=NAME_EN).click()

    expect(organizer_page.locator("main h1")).to_contain_text(NAME_EN)
    decision = organizer_page.locator("form#decision")
    decision.locator("#decision-select").select_option("approved")
    decision.locator("#reason").fill("欢迎参展 / Welcome to the expo.")
    decision.locator("button[type=submit]").click()
    expect(organizer_page.locator("main h1 .status")).to_have_text("Approved")
    expect(organizer_page.locator(".flash-success")).to_contain_text("Approved")
    expect(organizer_page.locator("#audit")).to_contain_text("application_approved")

    decided = _in_db(app, lambda: _registration(EMAIL))
    assert decided["status"] == "approved"
    assert decided["decided_by"] == "admin@expo.test"

    # --- back to the exhibitor: a reload shows the approval and the message, in Chinese -------------------------
    exhibitor_page.reload()
    expect(exhibitor_page.locator("html")).to_have_attribute("lang", "zh-Hans")
    expect(exhibitor_page.locator("#application-status .status")).to_have_text("已批准")
    expect(exhibitor_page.locator("main")).to_contain_text("欢迎参展 / Welcome to the expo.")
    message = _in_db(app, lambda: _latest_message(decided["exhibitor_id"]))
    assert "已批准" in message.subject and ids["expo_zh"] in message.subject
    assert ids["expo_zh"] in message.body and "is approved" not in message.body  # told in Chinese, not English
    latest = exhibitor_page.locator(".message").first
    expect(latest.locator("strong")).to_have_text(message.subject)
    expect(latest.locator("p")).to_contain_text(message.body.splitlines()[0])
    exhibitor_page.screenshot(path=str(screenshot_dir / "dashboard-zh-approved.png"), full_page=True)


def _registration(email: str) -> dict:
    user = db.session.scalar(select(User).where(User.email == email))
    assert user is not None, "the registration left no account"
    ex = db.session.get(Exhibitor, user.exhibitor_id)
    app = db.session.scalar(select(SpaceApplication).where(SpaceApplication.exhibitor_id == ex.id))
    decider = db.session.get(User, app.decided_by_id) if app.decided_by_id else None
    return {"status": app.status, "names": (ex.name_zh, ex.name_en), "booths": app.booths_requested,
            "area_pavilion": (app.preferred_area_id, app.preferred_pavilion_id),
            "categories": {c.code for c in ex.categories}, "locale": user.locale, "exhibitor_id": ex.id,
            "decided_by": decider.email if decider else None}


def _latest_message(exhibitor_id: int) -> OutboxMail:
    mail = db.session.scalar(select(OutboxMail).where(OutboxMail.exhibitor_id == exhibitor_id)
                             .order_by(OutboxMail.id.desc()).limit(1))
    db.session.expunge(mail)
    return mail


def test_forms_without_a_token_are_refused_by_the_live_server(new_context):
    """The browser tests run with CSRF on: a POST without the page's token is turned away."""
    page = new_context().new_page()
    page.goto("/login")
    response = page.request.post("/login", form={"email": "admin@expo.test", "password": demo.DEMO_PASSWORD})
    assert response.status == 400
    page.goto("/organizer/applications")
    expect(page).to_have_url(re.compile(r"/login"))


OVERFLOW_JS = """() => {
  const width = window.innerWidth;
  const wide = [];
  for (const el of document.querySelectorAll('body *')) {
    if (el.closest('.table-wrap')) continue;
    const box = el.getBoundingClientRect();
    if (box.right > width + 0.5) wide.push(el.tagName.toLowerCase() + (el.id ? '#' + el.id : '')
                                           + (el.className ? '.' + String(el.className).replace(/ /g, '.') : ''));
  }
  return {scrollWidth: document.documentElement.scrollWidth, innerWidth: width, wide: wide.slice(0, 10)};
}"""


def _no_sideways_scroll(page, path: str, screenshot_dir, name: str) -> None:
    response = page.goto(path)
    assert response is not None and response.status == 200, f"{path}: {response and response.status}"
    page.screenshot(path=str(screenshot_dir / f"phone-{name}.png"), full_page=True)
    size = page.evaluate(OVERFLOW_JS)
    assert size["innerWidth"] == PHONE["width"]
    assert size["scrollWidth"] <= size["innerWidth"], f"{path} scrolls sideways on a phone: {size}"


@pytest.mark.parametrize("locale", ["zh-CN", "en-US"])
def test_phone_width_pages_do_not_scroll_sideways(app, new_context, screenshot_dir, locale):
    lang = locale[:2]
    anonymous = new_context(locale=locale, viewport=PHONE).new_page()
    _no_sideways_scroll(anonymous, "/register", screenshot_dir, f"register-{lang}")

    exhibitor = new_context(locale=locale, viewport=PHONE).new_page()
    sign_in(exhibitor, "exhibitor@expo.test")
    expect(exhibitor.locator("html")).to_have_attribute("lang", "zh-Hans" if lang == "zh" else "en")
    _no_sideways_scroll(exhibitor, "/exhibitor/", screenshot_dir, f"dashboard-{lang}")
    expect(exhibitor.locator("#application-status .status")).to_have_count(1)

    organizer = new_context(locale=locale, viewport=PHONE).new_page()
    sign_in(organizer, "admin@expo.test")
    _no_sideways_scroll(organizer, "/organizer/applications", screenshot_dir, f"queue-{lang}")
    expect(organizer.locator("#bulk table tr:has(td a)")).to_have_count(12)
    first_exhibitor = _in_db(app, lambda: db.session.scalar(select(Exhibitor.id).order_by(Exhibitor.id).limit(1)))
    _no_sideways_scroll(organizer, f"/organizer/exhibitors/{first_exhibitor}", screenshot_dir, f"detail-{lang}")
