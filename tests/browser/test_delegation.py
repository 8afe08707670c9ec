"""In a real browser, as a delegation leader would: sign in, add a member through the form, import two more from an
Excel file, and download the delegation's visa invitation letters, whose text is read back from the PDF: every
member's name and passport number is there, and the Chinese text too."""

from __future__ import annotations

import io
from datetime import date

import pytest
from openpyxl import Workbook
from sqlalchemy import select

from expo import demo
from expo.buyers.models import Buyer, Delegation, Passport
from expo.extensions import db
from tests.factories import user

playwright_api = pytest.importorskip("playwright.sync_api")
pypdf = pytest.importorskip("pypdf")
expect = playwright_api.expect

pytestmark = pytest.mark.browser

LEADER = "leader@expo.test"
ADDED = {"name": "Pavel Sokolov", "name_native": "Павел Соколов", "company": "Sokolov Shoes", "job_title": "Owner",
         "passport_number": "76 4455667", "passport_expires_on": "2032-06-30", "date_of_birth": "1975-11-02"}
IMPORTED = [  # (name, native name, passport number, date of birth)
    ("Galina Orlova", "Галина Орлова", "753300111", date(1982, 2, 14)),
    ("Yuri Belov", "Юрий Белов", "753300222", date(1990, 7, 1)),
]


def _members_xlsx() -> bytes:
    """The import's columns, as a leader would fill them in Excel (dates as date cells)."""
    wb = Workbook()
    ws = wb.active
    ws.append(["name", "name_native", "company", "job_title", "email", "phone", "passport_number",
               "passport_expires_on", "nationality", "date_of_birth"])
    for name, native, number, born in IMPORTED:
        ws.append([name, native, "Orlova Trading", "Buyer", "", "", number, date(2033, 1, 31), "RU", born])
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def _delegation_of_leader(app) -> tuple[int, str]:
    with app.app_context():
        try:
            d = db.session.scalars(select(Delegation).where(Delegation.leader_user_id == user(LEADER).id)
                                   .order_by(Delegation.id)).first()
            return d.id, d.name
        finally:
            db.session.remove()


def test_leader_adds_imports_and_downloads_the_invitation_letters(app, new_context, screenshot_dir, tmp_path):
    delegation_id, delegation_name = _delegation_of_leader(app)
    page = new_context(locale="en-US", accept_downloads=True).new_page()

    page.goto("/login")
    page.locator("input[name=email]").fill(LEADER)
    page.locator("input[name=password]").fill(demo.DEMO_PASSWORD)
    page.locator("main form button[type=submit]").click()
    page.get_by_role("link", name="My delegation").click()
    expect(page).to_have_url(f"{page.url.split('/leader')[0]}/leader/delegations/{delegation_id}")
    expect(page.locator("h1")).to_have_text(delegation_name)

    # One member through the form.
    page.locator("#add-member").click()
    for field, value in ADDED.items():
        page.locator(f"[name={field}]").fill(value)
    expect(page.locator("[name=nationality]")).to_have_value("RU")  # the delegation's country, chosen already
    page.locator("#member-form button[name=save]").click()
    expect(page.locator(".flash-success")).to_contain_text("Pavel Sokolov is added")
    row = page.locator("#members-table tr", has_text="Pavel Sokolov")
    expect(row).to_contain_text("764455667")  # the passport number, normalized
    expect(row).to_contain_text("Павел Соколов")

    # Two more from a spreadsheet: preview, then import.
    page.locator("#import-link").click()
    page.locator("input[type=file]").set_input_files(files=[{
        "name": "members.xlsx", "buffer": _members_xlsx(),
        "mimeType": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}])
    page.get_by_role("button", name="Preview").click()
    expect(page.locator("#preview")).to_contain_text("2 new")
    page.screenshot(path=str(screenshot_dir / "delegation-import-preview.png"), full_page=True)
    page.get_by_role("button", name="Import all rows").click()
    expect(page).to_have_url(f"{page.url.split('/leader')[0]}/leader/delegations/{delegation_id}")
    for name, native, number, _born in IMPORTED:
        row = page.locator("#members-table tr", has_text=name)
        expect(row).to_contain_text(number)
        expect(row).to_contain_text(native)
    page.screenshot(path=str(screenshot_dir / "delegation-members.png"), full_page=True)

    # The delegation's invitation letters, as one PDF.
    with page.expect_download() as info:
        page.locator("#letters-link").click()
    pdf_path = tmp_path / "letters.pdf"
    info.value.save_as(pdf_path)
    text = "\n".join(p.extract_text() or "" for p in pypdf.PdfReader(pdf_path).pages)
    flat = " ".join(text.split())

    with app.app_context():
        try:
            members = list(db.session.scalars(select(Buyer).where(Buyer.delegation_id == delegation_id)))
            numbers = {m.name: db.session.get(Passport, m.id).number for m in members}
        finally:
            db.session.remove()
    assert {"Pavel Sokolov", "Galina Orlova", "Yuri Belov"} <= set(numbers)
    for name, number in numbers.items():
        assert name in flat, f"{name} is not in the letters"
        assert number in flat, f"the passport number of {name} is not in the letters"
    assert "邀请" in text, "the letters' Chinese text did not come out of the PDF"
    assert delegation_name in flat or "Invitation" in flat
