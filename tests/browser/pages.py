"""Steps the browser tests share."""

from __future__ import annotations

from playwright.sync_api import expect

from expo import demo


def sign_in(page, email: str, password: str = demo.DEMO_PASSWORD) -> None:
    """Sign in through the login form, as a person does, and wait for the signed-in header."""
    page.goto("/login")
    page.locator("#email").fill(email)
    page.locator("#password").fill(password)
    page.locator("main form button[type=submit]").click()
    expect(page.locator("header form[action='/logout']")).to_have_count(1)
