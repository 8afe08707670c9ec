"""Bilingual app: Simplified Chinese and English, from Flask-Babel catalogs.

Proves that
- the zh catalog covers every message the code and templates use today (extracted in-process with babel's own
  extractor and the project's babel.cfg, the same way ``pybabel extract`` does), with nothing empty or fuzzy and with
  the same ``%(name)s`` placeholders as the English text, and that the committed ``messages.mo`` is the compiled
  ``messages.po`` (so an install needs no compile step);
- pages follow the browser's ``Accept-Language`` (zh-CN → Chinese, en-US → English);
- the language switch (a POST with the CSRF token) changes the following pages, and for a signed-in user it is kept
  on the account (``User.locale``) and comes back at the next sign-in;
- form validation errors, WTForms' built-in ones included, come out in Chinese (pages and API);
- the status e-mail to an exhibitor is written in the language of the recipient's account, not the sender's.
"""

from __future__ import annotations

import ast
import gettext
import io
import re
from pathlib import Path

import pytest
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from sqlalchemy import select

from expo import ROOT
from expo.auth.models import User
from expo.demo import DEMO_PASSWORD
from expo.exhibitors import services
from expo.extensions import db
from expo.i18n import LANGUAGES
from expo.mail import OutboxMail
from tests.conftest import csrf_token
from tests.factories import PASSWORD, application_data, profile_data, user

TRANSLATIONS = ROOT / "expo" / "translations"
ZH_PO = TRANSLATIONS / "zh" / "LC_MESSAGES" / "messages.po"
ZH_MO = TRANSLATIONS / "zh" / "LC_MESSAGES" / "messages.mo"

#: The keywords added on the command line: ``pybabel extract -F babel.cfg -k _l -k lazy_gettext ...``.
EXTRA_KEYWORDS = {"_l": None, "lazy_gettext": None}
KEYWORDS = {**DEFAULT_KEYWORDS, **EXTRA_KEYWORDS}

#: Flask-Babel's translation functions, with the argument spec babel needs to extract their calls.
TRANSLATING_FUNCTIONS = {"gettext": None, "lazy_gettext": None, "ngettext": (1, 2), "lazy_ngettext": (1, 2),
                         "pgettext": ((1, "c"), 2), "lazy_pgettext": ((1, "c"), 2), "npgettext": ((1, "c"), 2, 3)}

ZH = {"Accept-Language": "zh-CN,zh;q=0.9,en;q=0.5"}
EN = {"Accept-Language": "en-US,en;q=0.9"}
PLACEHOLDER = re.compile(r"%\((\w+)\)[sdifr]")


def _zh_catalog():
    with ZH_PO.open("rb") as f:
        return read_po(f)


def _extracted() -> dict[tuple[str | None, str | tuple[str, ...]], list[str]]:
    """Every message of expo/ and templates/ as ``pybabel extract -F babel.cfg -k _l -k lazy_gettext`` finds it:
    (context, msgid or (singular, plural)) → where it is used."""
    with (ROOT / "babel.cfg").open() as f:
        method_map, options_map = parse_mapping_cfg(f)
    found: dict[tuple[str | None, str | tuple[str, ...]], list[str]] = {}
    for filename, lineno, message, _comments, context in extract_from_dir(
            ROOT, method_map, options_map, keywords=KEYWORDS):
        msgid = message if isinstance(message, str) else tuple(message)
        found.setdefault((context, msgid), []).append(f"{filename}:{lineno}")
    return found


# --- (a) the catalogs -------------------------------------------------------------------------------------------

def test_extraction_covers_the_code_and_templates():
    """A sanity check of the drift test below: it reads both Python and Jinja, singular and plural messages."""
    found = _extracted()
    places = {place.split(":")[0] for places in found.values() for place in places}
    assert any(p.startswith("expo/") and p.endswith(".py") for p in places)
    assert any(p.startswith("templates/") and p.endswith(".html") for p in places)
    assert (None, "Register as exhibitor") in found  # base.html, _()
    assert (None, "Company name in Chinese") in found  # exhibitors/forms.py, _l()
    assert (None, "Reason: %(reason)s") in found  # exhibitors/services.py, gettext as _
    assert (None, ("%(num)d application", "%(num)d applications")) in found  # queue.html, ngettext()
    assert len(found) > 200


def test_every_translation_function_the_code_uses_is_an_extraction_keyword():
    """A call through an alias pybabel does not know (say ``lazy_ngettext as _ln``) would silently stay English."""
    unknown = []
    for path in (ROOT / "expo").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.ImportFrom) and node.module == "flask_babel":
                for alias in node.names:
                    if alias.name in TRANSLATING_FUNCTIONS:
                        name = alias.asname or alias.name
                        if name not in KEYWORDS or KEYWORDS[name] != TRANSLATING_FUNCTIONS[alias.name]:
                            unknown.append(f"{path.relative_to(ROOT)}: {alias.name} as {name}")
    assert not unknown, f"add -k options to the extract command (and to EXTRA_KEYWORDS): {unknown}"
    for name in ("_", "_l", "gettext", "ngettext", "lazy_gettext"):
        assert name in KEYWORDS


def test_zh_catalog_translates_every_message_of_the_code():
    """The drift check: no message of the current code and templates is missing, empty or fuzzy in the zh catalog."""
    catalog = _zh_catalog()
    problems = []
    for (context, msgid), places in sorted(_extracted().items(), key=lambda kv: str(kv[0])):
        message = catalog.get(msgid, context=context)
        if message is None:
            problems.append(f"missing: {msgid!r} ({places[0]})")
        elif message.fuzzy:
            problems.append(f"fuzzy: {msgid!r}")
        elif not (all(message.string) if isinstance(message.string, tuple) else message.string):
            problems.append(f"untranslated: {msgid!r}")
    assert not problems, "update the catalog (see the i18n notes):\n" + "\n".join(problems)


def test_zh_catalog_is_well_formed():
    catalog = _zh_catalog()
    assert catalog.num_plurals == 1 and catalog.plural_expr == "0"  # Chinese has one plural form
    assert not catalog.fuzzy
    assert not list(catalog.check()), "babel's own checks (placeholders, plural forms) report problems"
    wrong = []
    for message in catalog:
        if not message.id:
            continue
        ids = message.id if isinstance(message.id, tuple) else (message.id,)
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        wanted = set(PLACEHOLDER.findall(ids[-1]))
        for s in strings:
            if set(PLACEHOLDER.findall(s)) != wanted:
                wrong.append((message.id, s))
    assert not wrong, f"placeholders differ from the English text: {wrong}"


# Translations other tests and the browser journey rely on.
FIXED = {
    "Approved": "已批准", "Submitted": "已提交", "Draft": "草稿", "Waitlisted": "候补", "Rejected": "未通过",
    "Withdrawn": "已撤回", "Sign in": "登录", "Sign out": "退出", "Register as exhibitor": "展商注册",
    "Register and submit the application": "注册并提交申请", "Applications": "展位申请", "Approve": "批准",
    "Decide": "确定", "Dashboard": "概览", "My application": "我的申请", "Company name in Chinese": "公司中文名称",
    "Company name in English": "公司英文名称",
    "Your application for space at %(expo)s is approved. Booth allocation follows.":
        "您在%(expo)s的展位申请已获批准，展位分配结果将另行通知。",
}


def test_fixed_translations():
    catalog = _zh_catalog()
    assert {msgid: catalog.get(msgid).string for msgid in FIXED} == FIXED


def test_committed_mo_is_the_compiled_po():
    """The app reads messages.mo; it must hold exactly what messages.po says (re-run ``pybabel compile`` if not)."""
    compiled = io.BytesIO()
    write_mo(compiled, _zh_catalog())
    compiled.seek(0)
    fresh = gettext.GNUTranslations(compiled)
    with ZH_MO.open("rb") as f:
        committed = gettext.GNUTranslations(f)
    header = ""  # the metadata entry; its dates say nothing about the messages
    assert {k: v for k, v in committed._catalog.items() if k != header} == \
        {k: v for k, v in fresh._catalog.items() if k != header}
    assert committed.plural(1) == committed.plural(5) == 0
    assert committed.gettext("Approved") == "已批准"
    assert committed.ngettext("%(num)d booth", "%(num)d booths", 3) == "%(num)d 个展位"


def test_every_offered_language_has_a_compiled_catalog(app):
    assert app.config["BABEL_DEFAULT_LOCALE"] == "en"
    assert Path(app.config["BABEL_TRANSLATION_DIRECTORIES"]) == TRANSLATIONS
    for code in LANGUAGES:
        if code != "en":  # English is the source language
            assert (TRANSLATIONS / code / "LC_MESSAGES" / "messages.mo").is_file()


def test_package_data_ships_the_catalogs():
    """setup.cfg puts the compiled catalogs in the package: an install needs no compile step."""
    text = (ROOT / "setup.cfg").read_text()
    data = re.search(r"\[options\.package_data\]\s*\nexpo\s*=\s*(.+)", text)
    assert data and "translations/*/LC_MESSAGES/*.mo" in data.group(1)


# --- (b) the browser's language ---------------------------------------------------------------------------------

@pytest.mark.parametrize(("headers", "lang", "present", "absent"), [
    (ZH, "zh-Hans", ["展商注册", "登录", "展区"], ["Register as exhibitor", "Sign in<"]),
    ({"Accept-Language": "zh-Hans-CN"}, "zh-Hans", ["展商注册"], ["Register as exhibitor"]),
    (EN, "en", ["Register as exhibitor", "Sign in", "Exhibition areas"], ["展商注册", "登录"]),
    ({}, "en", ["Register as exhibitor"], ["展商注册"]),
])
def test_pages_follow_the_browser_language(client, headers, lang, present, absent):
    html = client.get("/", headers=headers).get_data(as_text=True)
    assert f'<html lang="{lang}">' in html
    for text in present:
        assert text in html
    for text in absent:
        assert text not in html


def test_organizer_pages_in_chinese_use_the_trade_terms(client, auth):
    auth.login("staff@expo.test")
    html = client.get("/organizer/applications", headers=ZH).get_data(as_text=True)
    assert "展位申请" in html and "已批准" in html and "候补" in html and "项申请" in html
    assert "Waitlisted" not in html
    html = client.get("/organizer/applications", headers=EN).get_data(as_text=True)
    assert "Waitlisted" in html and "候补" not in html


# --- (c) the language switch ------------------------------------------------------------------------------------

def test_language_switch_needs_the_csrf_token_and_then_sticks(client, csrf_enabled):
    html = client.get("/", headers=EN).get_data(as_text=True)
    assert "Register as exhibitor" in html
    refused = client.post("/language/zh", data={"next": "/"}, headers=EN)
    assert refused.status_code == 400
    assert "Register as exhibitor" in client.get("/", headers=EN).get_data(as_text=True)

    r = client.post("/language/zh", data={"csrf_token": csrf_token(html), "next": "/register"}, headers=EN)
    assert r.status_code == 302 and r.headers["Location"].endswith("/register")
    # The browser still says English; the choice wins from now on.
    for path in ("/", "/register", "/login"):
        page = client.get(path, headers=EN).get_data(as_text=True)
        assert '<html lang="zh-Hans">' in page and "展商注册" in page, path

    back = client.get("/", headers=EN).get_data(as_text=True)
    client.post("/language/en", data={"csrf_token": csrf_token(back), "next": "/"}, headers=EN)
    assert "Register as exhibitor" in client.get("/", headers=ZH).get_data(as_text=True)


def test_unknown_language_is_ignored(client):
    client.post("/language/fr", data={"next": "/"}, headers=ZH)
    assert "展商注册" in client.get("/", headers=ZH).get_data(as_text=True)
    client.post("/language/xx", data={"next": "/"}, headers=EN)
    assert "Register as exhibitor" in client.get("/", headers=EN).get_data(as_text=True)


def _sign_in(client, email: str, headers: dict) -> None:
    token = csrf_token(client.get("/login", headers=headers).get_data(as_text=True))
    r = client.post("/login", data={"email": email, "password": DEMO_PASSWORD, "csrf_token": token}, headers=headers)
    assert r.status_code == 302, r.get_data(as_text=True)


def test_language_choice_is_kept_on_the_account(app, client, csrf_enabled):
    email = "exhibitor@expo.test"
    with app.app_context():
        assert user(email).locale != "zh"
    _sign_in(client, email, EN)
    page = client.get("/exhibitor/", headers=EN).get_data(as_text=True)
    assert "My application" in page
    r = client.post("/language/zh", data={"csrf_token": csrf_token(page), "next": "/exhibitor/"}, headers=EN)
    assert r.status_code == 302
    assert "我的申请" in client.get("/exhibitor/", headers=EN).get_data(as_text=True)
    with app.app_context():
        assert user(email).locale == "zh"

    # Another browser, set to English, signs in to the same account: Chinese, from the account.
    other = app.test_client()
    _sign_in(other, email, EN)
    page = other.get("/exhibitor/", headers=EN).get_data(as_text=True)
    assert '<html lang="zh-Hans">' in page and "我的申请" in page and "My application" not in page

    other.post("/language/en", data={"csrf_token": csrf_token(page), "next": "/"}, headers=EN)
    with app.app_context():
        assert db.session.scalar(select(User.locale).where(User.email == email)) == "en"


# --- (d) form errors --------------------------------------------------------------------------------------------

def _register_form(**overrides) -> dict:
    data = {"email": "", "password": "short", "password_confirm": "short", "name_zh": "", "name_en": "",
            "country": "CN", "contact_name": "", "contact_phone": "", "contact_email": "", "space_kind": "standard",
            "booths_requested": "1", "preferred_area_id": "0", "preferred_pavilion_id": "0",
            "corner_preference": "none", "years_exhibited": "0", "submit": "1"}
    data.update(overrides)
    return data


def test_registration_errors_in_chinese(client):
    r = client.post("/register", data=_register_form(), headers=ZH)
    html = r.get_data(as_text=True)
    assert r.status_code == 400
    assert "请更正标出的字段。" in html  # the app's own message
    assert "请填写公司中文名称或英文名称（也可两者都填）。" in html  # the app's own form-level rule
    assert "该字段是必填字段。" in html  # WTForms' DataRequired, from WTForms' Chinese catalog
    assert "字段长度必须介于 8 到 200 个字符之间。" in html  # WTForms' Length, with its numbers
    for english in ("This field is required.", "Field must be", "Please correct the marked fields.",
                    "Give the company name"):
        assert english not in html


def test_registration_errors_in_english(client):
    html = client.post("/register", data=_register_form(), headers=EN).get_data(as_text=True)
    assert "This field is required." in html and "Field must be between 8 and 200 characters long." in html
    assert "该字段是必填字段。" not in html


def test_registration_errors_follow_the_switch(client):
    client.post("/language/zh", data={"next": "/"}, headers=EN)
    html = client.post("/register", data=_register_form(), headers=EN).get_data(as_text=True)
    assert "该字段是必填字段。" in html and "This field is required." not in html


def test_api_errors_in_chinese(client):
    r = client.post("/api/v1/registrations", json={"email": "x"}, headers=ZH)
    assert r.status_code in (400, 422)
    body = r.get_json()
    messages = [m for errors in body["fields"].values() for m in errors]
    assert "该字段是必填字段。" in messages
    assert "This field is required." not in messages


def test_filter_errors_of_the_review_queue_in_chinese(client, auth):
    """The queue's filter form is a plain WTForms form (GET, no CSRF); its built-in messages are translated too."""
    auth.login("staff@expo.test")
    r = client.get("/organizer/applications?submitted_from=yesterday", headers=ZH)
    assert r.status_code == 400
    html = r.get_data(as_text=True)
    assert "不是有效的日期值。" in html and "Not a valid date value." not in html
    r = client.get("/organizer/applications?submitted_from=yesterday", headers=EN)
    assert "Not a valid date value." in r.get_data(as_text=True)


# --- (e) mail in the recipient's language -----------------------------------------------------------------------

def _registered(app, email: str, locale: str, country: str) -> tuple[int, int]:
    with app.app_context():
        exhibitor, _account = services.register(
            email=email, password=PASSWORD, profile=profile_data(country=country),
            application=application_data(), submit=True, locale=locale)
        db.session.commit()
        return exhibitor.id, services.application_of(exhibitor).id


def _mails(app, exhibitor_id: int) -> list[tuple[str, str, str]]:
    with app.app_context():
        rows = db.session.scalars(select(OutboxMail).where(OutboxMail.exhibitor_id == exhibitor_id)
                                  .order_by(OutboxMail.id))
        return [(m.recipient, m.subject, m.body) for m in rows]


def test_status_mail_in_the_recipients_language(app, client, auth):
    # The account's language decides, not the country (a German company whose contact reads Chinese) ...
    zh_id, zh_app = _registered(app, "zh-reader@example.com", "zh", "DE")
    # ... and not the organizer's screen language either (a Chinese company whose contact reads English).
    en_id, en_app = _registered(app, "en-reader@example.com", "en", "CN")
    with app.app_context():
        expo = services.current_expo()
        name_zh, name_en = expo.name_zh, expo.name_en

    received_zh = _mails(app, zh_id)
    assert received_zh[-1][2] == f"我们已收到您在{name_zh}的展位申请，审核结果将另行通知。"

    auth.login("staff@expo.test")
    r = client.post(f"/organizer/applications/{zh_app}/decision", data={"decision": "approved"}, headers=EN)
    assert r.status_code == 302
    r = client.post(f"/organizer/applications/{en_app}/decision",
                    data={"decision": "rejected", "reason": "展位已满"}, headers=ZH)
    assert r.status_code == 302

    recipient, subject, body = _mails(app, zh_id)[-1]
    assert recipient == "zh-reader@example.com"
    assert body == f"您在{name_zh}的展位申请已获批准，展位分配结果将另行通知。"
    assert subject == f"【{name_zh}】展位申请状态：已批准"

    recipient, subject, body = _mails(app, en_id)[-1]
    assert recipient == "en-reader@example.com"
    assert body == f"We are sorry: your application for space at {name_en} is not accepted.\n\nReason: 展位已满"
    assert subject == f"Application Rejected: {name_en}"

    # The exhibitor signs in from an English browser: its dashboard is Chinese, and shows the message.
    auth.logout()
    auth.login("zh-reader@example.com", PASSWORD)
    page = client.get("/exhibitor/", headers=EN).get_data(as_text=True)
    assert "已批准" in page and f"您在{name_zh}的展位申请已获批准" in page
