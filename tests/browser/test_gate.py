"""In a real browser: the gate scanner, as gate staff use it with a keyboard-wedge scanner (the code typed, then
Enter). A valid badge shows green with the holder's name; a forged code, a revoked badge and the same badge again
show red with the right reason. Then the network goes away: a valid badge is checked in the browser (WebCrypto
Ed25519 against the offline bundle) and shown green "offline"; when the network is back the queued scan is uploaded
and counted exactly once."""

from __future__ import annotations

import re
import time

import pytest
from sqlalchemy import func, select

from expo.badges import services as badge_services
from expo.badges.models import Badge
from expo.checkin.models import Scan
from expo.extensions import db
from tests.browser.pages import sign_in
from tests.test_checkin_api import flip, make_world

playwright_api = pytest.importorskip("playwright.sync_api")
expect = playwright_api.expect

pytestmark = pytest.mark.browser

PHONE = {"width": 390, "height": 844}


def _wedge(page, code: str) -> None:
    """What a keyboard-wedge scanner does: type the code into whatever has the focus, then Enter."""
    page.keyboard.type(code, delay=0)
    page.keyboard.press("Enter")


def _scans(app, badge_id: int | None = None) -> list[tuple[str, str, bool]]:
    with app.app_context():
        try:
            stmt = select(Scan.result, Scan.reason, Scan.offline).order_by(Scan.id)
            if badge_id is not None:
                stmt = stmt.where(Scan.badge_id == badge_id)
            return [tuple(r) for r in db.session.execute(stmt)]
        finally:
            db.session.remove()


def _wait_for(check, timeout: float = 20.0):
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value or time.monotonic() > deadline:
            return value
        time.sleep(0.2)


def test_gate_admits_refuses_and_syncs_offline_scans_once(app, new_context, screenshot_dir):
    world = make_world(app)
    with app.app_context():
        badge_services.revoke(None, db.session.get(Badge, world.badge_ids[1]), "reported lost")
        db.session.commit()
    context = new_context(locale="en-US")
    page = context.new_page()
    sign_in(page, "gate@expo.test")
    expect(page.locator("header nav a[href='/gate/']")).to_have_text("Gate")
    page.goto("/gate/")
    page.locator(f"a[data-checkpoint-id='{world.checkpoint}']").click()
    expect(page).to_have_url(re.compile(rf"/gate/{world.checkpoint}$"))
    gate = page.locator("#gate")
    expect(gate).to_have_attribute("data-bundle", "ready")  # the offline bundle is in the browser
    expect(page.locator("#gate-code")).to_be_focused()
    answer = page.locator("#gate-answer")

    # A valid badge: green, with the name, the badge type and its colour band.
    _wedge(page, world.codes[0])
    expect(answer).to_be_visible()
    expect(answer).to_have_attribute("data-result", "admitted")
    expect(answer).to_have_class(re.compile(r"\bok\b"))
    expect(page.locator("#gate-result")).to_have_text("Admitted")
    expect(page.locator("#gate-name")).to_have_text(world.names[0])
    expect(page.locator("#gate-type-name")).to_have_text("Exhibitor")
    assert answer.evaluate("e => getComputedStyle(e).backgroundColor") == "rgb(17, 105, 42)"
    assert answer.get_attribute("data-sound") == "admitted"
    page.wait_for_timeout(400)  # the flash animation
    page.screenshot(path=str(screenshot_dir / "gate-admitted.png"))

    # One character changed: red, invalid signature.
    _wedge(page, flip(world.codes[0]))
    expect(answer).to_have_attribute("data-reason", "bad_signature")
    expect(answer).to_have_class(re.compile(r"\brefused\b"))
    expect(page.locator("#gate-result")).to_have_text("Refused")
    expect(page.locator("#gate-reason")).to_have_text(re.compile(r"^Invalid signature"))
    assert answer.evaluate("e => getComputedStyle(e).backgroundColor") == "rgb(163, 20, 26)"
    assert answer.get_attribute("data-sound") == "refused"
    page.wait_for_timeout(400)  # the flash animation
    page.screenshot(path=str(screenshot_dir / "gate-forged.png"))

    # A revoked badge: red, revoked, with whose badge it is.
    _wedge(page, world.codes[1])
    expect(answer).to_have_attribute("data-reason", "revoked")
    expect(page.locator("#gate-reason")).to_have_text("Revoked badge")
    expect(page.locator("#gate-name")).to_have_text(world.names[1])

    # The first badge again: already inside.
    _wedge(page, world.codes[0])
    expect(answer).to_have_attribute("data-reason", "already_inside")
    expect(page.locator("#gate-reason")).to_have_text("Already inside")
    assert answer.get_attribute("data-sound") == "already_inside"
    assert _scans(app, world.badge_ids[0]) == [("admitted", "", False), ("refused", "already_inside", False)]

    # The network goes away: the browser checks the signature itself and queues the scan.
    context.set_offline(True)
    _wedge(page, world.codes[3])
    expect(answer).to_have_attribute("data-offline", "1")
    expect(answer).to_have_attribute("data-result", "admitted")
    expect(page.locator("#gate-name")).to_have_text(world.names[3])
    expect(page.locator("#gate-offline")).to_contain_text("Offline check")
    expect(page.locator("#gate-country")).not_to_have_text(re.compile(r"^[A-Z]{2}$"))  # the country's name
    expect(page.locator("#gate-queue")).to_have_text("Scans waiting to upload: 1")
    page.wait_for_timeout(400)  # the flash animation
    page.screenshot(path=str(screenshot_dir / "gate-offline.png"))
    # Offline too, a forged code and a revoked badge are refused, and the same badge twice is already inside.
    _wedge(page, flip(world.codes[2], 100))
    expect(answer).to_have_attribute("data-reason", "bad_signature")
    expect(answer).to_have_attribute("data-offline", "1")
    _wedge(page, world.codes[1])
    expect(answer).to_have_attribute("data-reason", "revoked")
    _wedge(page, world.codes[3])
    expect(answer).to_have_attribute("data-reason", "already_inside")
    expect(page.locator("#gate-queue")).to_have_text("Scans waiting to upload: 4")
    assert _scans(app, world.badge_ids[3]) == []  # nothing reached the server

    # Back online: the queue is uploaded, and each scan counts once.
    context.set_offline(False)
    page.evaluate("window.dispatchEvent(new Event('online'))")
    expect(page.locator("#gate-queue")).to_be_hidden(timeout=20_000)
    assert _wait_for(lambda: len(_scans(app, world.badge_ids[3])) == 2)
    assert _scans(app, world.badge_ids[3]) == [("admitted", "", True), ("refused", "already_inside", True)]
    # The online event again, and a reload: the queue is empty, nothing more is sent.
    page.evaluate("window.dispatchEvent(new Event('online'))")
    page.reload()
    expect(gate).to_have_attribute("data-bundle", "ready")
    assert page.evaluate("JSON.parse(localStorage.getItem('expo.gate.queue'))") == []
    assert _scans(app, world.badge_ids[3]) == [("admitted", "", True), ("refused", "already_inside", True)]
    with app.app_context():
        try:
            assert db.session.scalar(select(func.count()).select_from(Scan).where(Scan.offline.is_(True))) == 4
        finally:
            db.session.remove()


def test_batch_sent_again_by_the_browser_counts_once(app, new_context):
    """The device loses the answer to its upload and sends the same queue again: nothing counts twice."""
    world = make_world(app)
    page = new_context(locale="en-US").new_page()
    sign_in(page, "gate@expo.test")
    page.goto(f"/gate/{world.checkpoint}")
    expect(page.locator("#gate")).to_have_attribute("data-bundle", "ready")
    queue = [{"nonce": f"n-{i}", "code": code, "checkpoint_id": world.checkpoint, "direction": "in",
              "scanned_at": "2026-11-01T02:00:00.000Z"} for i, code in enumerate(world.codes[:3])]
    for _ in range(3):
        page.evaluate("q => { localStorage.setItem('expo.gate.queue', JSON.stringify(q)); }", queue)
        page.reload()
        expect(page.locator("#gate")).to_have_attribute("data-bundle", "ready")
        expect(page.locator("#gate-queue")).to_be_hidden(timeout=20_000)
    assert [r for r in _scans(app)] == [("admitted", "", True)] * 3


def test_scanner_page_on_a_phone(app, new_context, screenshot_dir):
    world = make_world(app)
    page = new_context(locale="zh-CN", viewport=PHONE, has_touch=True, is_mobile=True).new_page()
    sign_in(page, "gate@expo.test")
    page.goto(f"/gate/{world.checkpoint}")
    expect(page.locator("#gate")).to_have_attribute("data-bundle", "ready")
    expect(page.locator("#gate-camera-note")).to_be_visible()  # no BarcodeDetector in desktop Chromium: say so
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"] + 1
    box = page.locator("#gate-form button[type=submit]").bounding_box()
    assert box["height"] >= 44  # a target for a thumb
    page.locator("#gate-code").fill(world.buyer_code)
    page.locator("#gate-form button[type=submit]").click()
    expect(page.locator("#gate-answer")).to_have_attribute("data-result", "admitted")
    if world.buyer_name_native:
        expect(page.locator("#gate-native")).to_have_text(world.buyer_name_native)
    page.wait_for_timeout(400)  # the flash animation
    page.screenshot(path=str(screenshot_dir / "gate-phone.png"))


def test_organizer_watches_the_dashboard_and_exports_the_log(app, new_context, screenshot_dir):
    world = make_world(app)
    page = new_context(locale="en-US").new_page()
    sign_in(page, "gate@expo.test")
    page.goto(f"/gate/{world.checkpoint}")
    expect(page.locator("#gate")).to_have_attribute("data-bundle", "ready")
    for code in world.codes[:3] + [world.codes[0], flip(world.codes[1])]:
        _wedge(page, code)
        page.wait_for_timeout(300)
    assert _wait_for(lambda: len(_scans(app)) == 5)

    organizer = new_context(locale="en-US").new_page()
    sign_in(organizer, "staff@expo.test")
    organizer.locator("header nav a[href='/organizer/gate']").click()
    expect(organizer.locator("#inside-total")).to_have_text("3")
    expect(organizer.locator("#total-refused")).to_have_text("2")
    expect(organizer.locator("#refusals")).to_contain_text("Already inside")
    expect(organizer.locator("#hourly svg, .gate-chart svg").first).to_be_visible()
    organizer.screenshot(path=str(screenshot_dir / "gate-dashboard.png"), full_page=True)
    organizer.locator("a", has_text="Scan log").first.click()
    expect(organizer.locator("#scan-log tr[id^='scan-']")).to_have_count(5)
    with organizer.expect_download() as download:
        organizer.locator("#export-csv").click()
    with open(download.value.path(), encoding="utf-8-sig") as fh:
        text = fh.read()
    assert text.count("\n") == 6 and world.names[0] in text
