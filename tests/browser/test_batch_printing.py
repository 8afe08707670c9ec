"""In a real browser: an organizer prints a delegation's badges in one batch. The print form starts a background job,
the job page's progress bar (polled by expo/static/badge_jobs.js) reaches 100 %, the download link appears, and the
downloaded PDF holds one page per member with every member's name. Also: the page without JavaScript refreshes
itself until the PDF is ready."""

from __future__ import annotations

import io
import re

import pytest
from pypdf import PdfReader
from sqlalchemy import select

from expo import jobs
from expo.buyers.models import Buyer, Delegation
from expo.extensions import db
from tests.browser.pages import sign_in

playwright_api = pytest.importorskip("playwright.sync_api")
expect = playwright_api.expect

pytestmark = pytest.mark.browser


@pytest.fixture(autouse=True)
def _drain_jobs(app):
    """No job thread may still write when the next test wipes the tables."""
    yield
    with app.app_context():
        jobs.submit(lambda: None).result(timeout=300)


def _delegation(app) -> tuple[int, str, list[str]]:
    with app.app_context():
        try:
            delegation = db.session.scalar(select(Delegation).order_by(Delegation.id))
            names = list(db.session.scalars(select(Buyer.name).where(Buyer.delegation_id == delegation.id)
                                            .order_by(Buyer.id)))
            return delegation.id, delegation.name, names
        finally:
            db.session.remove()


def test_organizer_prints_a_delegation_in_one_batch(app, new_context, screenshot_dir):
    delegation_id, delegation_name, names = _delegation(app)
    page = new_context(locale="en-US", accept_downloads=True).new_page()
    sign_in(page, "admin@expo.test")
    page.locator("header nav a", has_text="Badges").click()
    expect(page).to_have_url(re.compile(r"/organizer/badges$"))
    page.locator("a.button", has_text="Print a batch").click()

    page.locator("#by-0").check()  # "A delegation"
    page.locator("#delegation_id").select_option(str(delegation_id))
    page.locator("#print-start").click()

    expect(page).to_have_url(re.compile(r"/organizer/badges/jobs/\d+$"))
    expect(page.locator("#job-progress")).to_have_attribute("value", "100", timeout=60_000)
    expect(page.locator("#job-status")).to_contain_text("Done")
    expect(page.locator("#job-done")).to_have_text(str(len(names)))
    link = page.locator("#job-pdf")
    expect(link).to_be_visible()
    page.screenshot(path=str(screenshot_dir / "badge-batch-done.png"), full_page=True)
    assert delegation_name in page.locator("#job").inner_text()

    with page.expect_download() as info:
        link.click()
    download = info.value
    reader = PdfReader(io.BytesIO(download.path().read_bytes()))
    assert len(reader.pages) == len(names)
    text = " ".join(p.extract_text() for p in reader.pages).replace("\n", " ")
    assert all(name in text for name in names), names

    # The jobs list shows the finished job with its download.
    page.goto("/organizer/badges/jobs")
    expect(page.locator("#jobs")).to_contain_text(delegation_name)
    expect(page.locator("#jobs a", has_text="Download PDF")).to_have_count(1)


def test_without_javascript_the_job_page_refreshes_until_done(app, new_context):
    delegation_id, _name, names = _delegation(app)
    page = new_context(locale="en-US", java_script_enabled=False).new_page()
    sign_in(page, "printdesk@expo.test")
    page.goto(f"/organizer/badges/print?delegation_id={delegation_id}")
    expect(page.locator("#delegation_id")).to_have_value(str(delegation_id))
    page.locator("#print-start").click()
    expect(page).to_have_url(re.compile(r"/organizer/badges/jobs/\d+$"))
    # The meta refresh reloads the page every 2 s until the job is done; then the link is there.
    expect(page.locator("#job-download")).to_be_visible(timeout=60_000)
    expect(page.locator("#job-done")).to_have_text(str(len(names)))
