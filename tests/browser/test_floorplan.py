"""In a real browser: the interactive floor plan. Search an exhibitor and its booth lights up and comes into view;
a pavilion filter dims the other booths; pointing at a booth names its exhibitor; the same on a phone."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from expo.exhibitors.services import current_expo
from expo.extensions import db
from expo.venue.models import Booth, BoothStatus, Pavilion
from tests.factories import make_exhibitor

playwright_api = pytest.importorskip("playwright.sync_api")
expect = playwright_api.expect

pytestmark = pytest.mark.browser

PHONE = {"width": 390, "height": 844}
NAME_EN = "Zhenjiang Lighthouse Sneakers Ltd."


def _prepare(app) -> dict:
    """An exhibitor with booth A1-003, and the pavilion of another booth (to filter by)."""
    with app.app_context():
        try:
            exhibitor, _account = make_exhibitor(email="lighthouse@example.com", name_en=NAME_EN,
                                                 name_zh="镇江灯塔运动鞋有限公司")
            booth = db.session.scalar(select(Booth).where(Booth.number == "A1-003"))
            booth.status, booth.exhibitor_id, booth.stand_id = BoothStatus.ASSIGNED, exhibitor.id, None
            other = db.session.scalar(select(Booth).where(Booth.pavilion_id != booth.pavilion_id,
                                                          Booth.expo_id == current_expo().id))
            db.session.commit()
            return {"booth": booth.id, "pavilion": db.session.get(Pavilion, booth.pavilion_id).code,
                    "other": other.id}
        finally:
            db.session.remove()


def _viewbox_width(page) -> float:
    return float(page.locator("#plan-frame svg").get_attribute("viewBox").split()[2])


@pytest.mark.parametrize("viewport", [None, PHONE], ids=["desktop", "phone"])
def test_search_filter_and_hover_on_the_plan(app, new_context, screenshot_dir, viewport):
    ids = _prepare(app)
    options = {"viewport": viewport, "has_touch": True, "is_mobile": True} if viewport else {}
    page = new_context(locale="en-US", **options).new_page()
    page.goto("/plan/")
    booth = page.locator(f"#booth-{ids['booth']}")
    expect(booth).to_have_attribute("data-exhibitor", NAME_EN)
    whole = _viewbox_width(page)

    page.locator("#plan-q").fill("lighthouse")
    page.locator("#plan-search button[type=submit]").click()
    expect(booth).to_have_class(has_class("found"))
    expect(page.locator("#plan-found")).to_contain_text("A1-003")
    expect(page.locator("#plan-info")).to_contain_text(NAME_EN)
    assert _viewbox_width(page) < whole / 5, "the plan did not zoom to the booth"
    assert page.locator("g.booth.found").count() == 1
    page.screenshot(path=str(screenshot_dir / f"plan-search-{'phone' if viewport else 'desktop'}.png"))

    page.locator("#zoom-reset").click()
    page.locator("#plan-pavilion").select_option(ids["pavilion"])
    expect(page.locator(f"#booth-{ids['other']}")).to_have_class(has_class("dim"))
    expect(booth).not_to_have_class(has_class("dim"))
    assert page.locator(f"#booth-{ids['other']}").evaluate("g => getComputedStyle(g).opacity") == "0.15"

    page.locator("#plan-pavilion").select_option("")
    page.locator("#plan-info").evaluate("e => e.textContent = ''")
    booth.locator("rect").dispatch_event("pointerover")
    expect(page.locator("#plan-info")).to_contain_text(f"A1-003 · {NAME_EN}")
    if viewport:
        assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"] + 1


def test_wheel_and_buttons_zoom(app, new_context):
    page = new_context(locale="en-US").new_page()
    page.goto("/plan/")
    whole = _viewbox_width(page)
    page.locator("#zoom-in").click()
    assert _viewbox_width(page) < whole
    page.locator("#zoom-reset").click()
    box = page.locator("#plan-frame svg").bounding_box()
    page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    page.mouse.wheel(0, -300)
    page.wait_for_function(f"Number(document.querySelector('#plan-frame svg').getAttribute('viewBox').split(' ')[2]) < {whole}")
    page.locator(".hall-tabs .tab[data-hall='B2']").click()
    assert 120 < _viewbox_width(page) < 140  # the 125 m hall and a margin


def has_class(name: str):
    """A class-attribute matcher for one class among several."""
    import re

    return re.compile(rf"(^|\s){name}(\s|$)")
