"""Bulk import of delegation members and buyers: CSV and XLSX, every kind of row error in the preview, all or
nothing, the signed confirm step (tamper-proof, validated again), the export → import round trip, passport columns
only where allowed (and audited), who may import into which delegation, the limits on files, and fuzzing."""

from __future__ import annotations

import csv
import io
import re
from dataclasses import replace
from datetime import date

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from openpyxl import Workbook, load_workbook
from sqlalchemy import func, inspect, select
from werkzeug.datastructures import FileStorage
from werkzeug.test import encode_multipart

from expo import tables
from expo.audit import AuditEntry
from expo.auth.models import Role
from expo.buyers import imports
from expo.buyers.delegations import MemberData, add_member
from expo.buyers.models import Buyer, Delegation, Passport
from expo.categories.models import ProductCategory
from expo.exhibitors.services import current_expo
from expo.extensions import db
from expo.venue import imports as venue_imports
from tests.factories import PASSWORD, make_user, user

ADMIN = "admin@expo.test"
STAFF = "staff@expo.test"
MEMBER_HEADER = ["name", "name_native", "email", "phone", "company", "job_title", "passport_number",
                 "passport_expires_on", "nationality", "date_of_birth"]
GOOD = [
    ["PETROVA ANNA", "Анна Петрова", "anna@volga.example.com", "+7 912 345 6789", "Volga Obuv", "Buyer",
     "751234567", "2031-05-06", "RU", "1985-03-14"],
    ["WANG XIAOMING", "王小明", "", "", "Volga Obuv", "Director", "E12345678", "2030/1/2", "中国", "1979年11月2日"],
    ["NGUYEN VAN AN", "Nguyễn Văn An", "an@example.vn", "", "", "", "C1234567", "02.03.2032", "Vietnam", "1990-07-30"],
]


def sign_in(client, email: str, password: str = "expo-demo-2026") -> None:
    r = client.post("/login", data={"email": email, "password": password})
    assert r.status_code == 302


def csv_bytes(header: list[str], rows: list[list[str]], encoding: str = "utf-8") -> bytes:
    buf = io.StringIO()
    w = csv.writer(buf)
    w.writerow(header)
    w.writerows(rows)
    return buf.getvalue().encode(encoding)


def xlsx_bytes(header: list[str], rows: list[list]) -> bytes:
    wb = Workbook()
    ws = wb.active
    ws.append(header)
    for row in rows:
        ws.append(row)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def upload(client, url: str, body: bytes, name: str = "members.csv"):
    return client.post(url, data={"file": (io.BytesIO(body), name)}, content_type="multipart/form-data")


def confirm(client, url: str, preview_html: str):
    token = re.search(r'name="rows" type="hidden" value="([^"]+)"', preview_html)
    assert token, "no confirm form on the preview"
    return client.post(url + "/confirm", data={"rows": token.group(1)})


def make_delegation(name: str = "Volga Footwear Buyers") -> dict:
    leader = make_user(Role.DELEGATION_LEADER, name="Leader")
    delegation = Delegation(expo_id=current_expo().id, name=name, country="RU", leader_user_id=leader.id)
    db.session.add(delegation)
    db.session.commit()
    return {"id": delegation.id, "leader": leader.email, "leader_id": leader.id,
            "url": f"/leader/delegations/{delegation.id}/members/import",
            "org_url": f"/organizer/delegations/{delegation.id}/members/import"}


@pytest.fixture
def volga(app) -> dict:
    with app.app_context():
        return make_delegation()


def members_state(delegation_id: int) -> list[tuple]:
    db.session.expire_all()
    rows = db.session.execute(select(Buyer, Passport).outerjoin(Passport, Passport.buyer_id == Buyer.id)
                              .where(Buyer.delegation_id == delegation_id).order_by(Buyer.id))
    return [(b.name, b.name_native, b.email, b.phone, b.company, b.job_title, b.country, b.status,
             p.number if p else None, p.expires_on if p else None, p.nationality if p else None,
             p.date_of_birth if p else None) for b, p in rows]


def count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


# --- members: the happy paths ----------------------------------------------------------------------------------------

def test_leader_imports_members_from_csv(app, client, volga):
    sign_in(client, volga["leader"], PASSWORD)
    assert client.get(volga["url"]).status_code == 200
    r = upload(client, volga["url"], csv_bytes(MEMBER_HEADER, GOOD))
    assert r.status_code == 200, r.text[:3000]
    assert "3 new, 0 unchanged, 0 with errors." in r.text
    with app.app_context():
        assert members_state(volga["id"]) == []  # a preview writes nothing
    r = confirm(client, volga["url"], r.text)
    assert r.status_code == 302
    with app.app_context():
        state = members_state(volga["id"])
        assert [s[0] for s in state] == ["PETROVA ANNA", "WANG XIAOMING", "NGUYEN VAN AN"]
        anna, wang, an = state
        assert anna[1:4] == ("Анна Петрова", "anna@volga.example.com", "+7 912 345 6789")
        assert anna[6:] == ("RU", "registered", "751234567", date(2031, 5, 6), "RU", date(1985, 3, 14))
        assert wang[8:] == ("E12345678", date(2030, 1, 2), "CN", date(1979, 11, 2))  # 2030/1/2, 中国, 1979年11月2日
        assert an[8:] == ("C1234567", date(2032, 3, 2), "VN", date(1990, 7, 30))  # 02.03.2032, Vietnam
        added = db.session.scalar(select(func.count()).where(AuditEntry.action == "delegation_member_added"))
        assert added == 3
        summary = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "members_imported"))
        assert summary.changes == {"new": 3, "unchanged": 0} and summary.actor_id == volga["leader_id"]


def test_xlsx_with_chinese_headers_date_cells_and_numbers(app, client, volga):
    header = ["姓名", "本国文字姓名", "邮箱", "电话", "公司", "职务", "护照号码", "护照有效期至", "国籍", "出生日期"]
    rows = [["LI NA", "李娜", None, None, "Guangzhou Trading", None, 751234567, date(2031, 1, 1), "俄罗斯",
             date(1988, 8, 8)],
            ["SMITH JOHN", None, "JOHN@Example.COM", None, None, None, "k 123-456", date(2033, 12, 31), "gb",
             date(1970, 1, 1)]]
    sign_in(client, volga["leader"], PASSWORD)
    r = upload(client, volga["url"], xlsx_bytes(header, rows), "members.xlsx")
    assert r.status_code == 200, r.text[:3000]
    assert "2 new" in r.text
    assert confirm(client, volga["url"], r.text).status_code == 302
    with app.app_context():
        li, smith = members_state(volga["id"])
        assert li[8:] == ("751234567", date(2031, 1, 1), "RU", date(1988, 8, 8))
        assert smith[2] == "john@example.com" and smith[8] == "K123456" and smith[10] == "GB"


def test_gb18030_csv_is_read(app, client, volga):
    sign_in(client, volga["leader"], PASSWORD)
    header = ["姓名", "本国文字姓名", "护照号码", "护照有效期", "国籍", "出生日期"]
    body = csv_bytes(header, [["ZHANG WEI", "张伟", "E99887766", "2031-01-01", "中国", "1980-01-01"]], "gb18030")
    r = upload(client, volga["url"], body)
    assert r.status_code == 200 and "1 new" in r.text
    assert confirm(client, volga["url"], r.text).status_code == 302
    with app.app_context():
        assert members_state(volga["id"])[0][:2] == ("ZHANG WEI", "张伟")


def test_an_imported_member_is_stored_exactly_as_add_member_stores_one(app, volga):
    """The bulk write of the import against the delegation service's own add_member, column by column."""
    with app.app_context():
        other = make_delegation("Control Delegation")
        leader = user(volga["leader"])
        data = MemberData(name="PETROVA ANNA", name_native="Анна Петрова", email="anna@volga.example.com",
                          phone="+7 912 345 6789", company="Volga Obuv", job_title="Buyer", passport_number="751234567",
                          passport_expires_on=date(2031, 5, 6), nationality="RU", date_of_birth=date(1985, 3, 14))
        control = add_member(leader, db.session.get(Delegation, volga["id"]), data)
        db.session.commit()
        plan = imports.plan_members(None, db.session.get(Delegation, other["id"]),
                                    [MEMBER_HEADER, GOOD[0]])
        imports.apply_members(user(other["leader"]), db.session.get(Delegation, other["id"]), plan)
        db.session.commit()
        imported = db.session.scalar(select(Buyer).where(Buyer.delegation_id == other["id"]))
        skip = {"id", "delegation_id", "created_at", "updated_at"}

        def columns(obj):
            return {a.key: getattr(obj, a.key) for a in inspect(obj).mapper.column_attrs if a.key not in skip}

        assert columns(imported) == columns(control)
        assert columns(db.session.get(Passport, imported.id)) | {"buyer_id": 0} == \
            columns(db.session.get(Passport, control.id)) | {"buyer_id": 0}
        entries = {b_id: db.session.scalar(select(AuditEntry).where(AuditEntry.action == "delegation_member_added",
                                                                    AuditEntry.object_id == b_id))
                   for b_id in (control.id, imported.id)}
        a, b = entries[control.id], entries[imported.id]
        assert (a.object_type, set(a.changes)) == (b.object_type, set(b.changes))
        assert a.changes["name"] == b.changes["name"]


# --- members: every kind of error, and nothing written ------------------------------------------------------------

def test_preview_lists_every_error_per_row_and_writes_nothing(app, client, volga):
    with app.app_context():
        leader = user(volga["leader"])
        add_member(leader, db.session.get(Delegation, volga["id"]), MemberData(
            name="EXISTING PERSON", passport_number="P7777777", passport_expires_on=date(2031, 1, 1),
            nationality="RU", date_of_birth=date(1980, 1, 1)))
        db.session.commit()
        before = members_state(volga["id"])
        audit_before = count(AuditEntry)
    bad = [
        GOOD[0],  # a good row among the bad ones: not imported either
        ["BAD EMAIL", "", "not-an-email", "", "", "", "A1234567", "2031-01-01", "RU", "1980-01-01"],
        ["NO PASSPORT", "", "", "", "", "", "", "2031-01-01", "RU", "1980-01-01"],
        ["SOON EXPIRED", "", "", "", "", "", "A7654321", "2027-06-01", "RU", "1980-01-01"],
        ["BAD FORMAT", "", "", "", "", "", "AB/12", "2031-01-01", "RU", "1980-01-01"],
        ["UNKNOWN COUNTRY", "", "", "", "", "", "A2222222", "2031-01-01", "XX", "1980-01-01"],
        ["BAD DATES", "", "", "", "", "", "A3333333", "2031-02-30", "RU", "13/01/1980"],
        ["TWICE IN FILE", "", "anna@volga.example.com", "", "", "", "751234567", "2031-05-06", "RU", "1985-03-14"],
        ["ALREADY THERE", "", "", "", "", "", "P7777777", "2031-01-01", "RU", "1980-01-01"],
        ["Иван Петров", "", "", "", "", "", "A4444444", "2031-01-01", "RU", "1980-01-01"],
        ["FUTURE BIRTH", "", "", "", "", "", "A5555555", "2031-01-01", "RU", "2090-01-01"],
        ["NO EXPIRY", "", "", "", "", "", "A6666666", "", "", "1980-01-01"],
    ]
    sign_in(client, volga["leader"], PASSWORD)
    r = upload(client, volga["url"], csv_bytes(MEMBER_HEADER, bad))
    assert r.status_code == 422
    text = r.text.replace("&#39;", "'").replace("&quot;", '"')
    assert "Nothing will be imported until every row is correct." in text
    assert 'name="rows"' not in text  # no confirm form
    for message in ("email: Enter a valid e-mail address.",
                    "passport_number: Give the passport number.",
                    "passport_expires_on: The passport expires on 2027-06-01",
                    "passport_number: A passport number has 5 to 20 letters",
                    "nationality: “XX” is not a country code or a country name we know",
                    "passport_expires_on: “2031-02-30” is not a date",
                    "date_of_birth: “13/01/1980” is not a date",
                    "passport_number: Passport number 751234567 is in the file twice (also line 2).",
                    "email: The e-mail address anna@volga.example.com is in the file twice (also line 2).",
                    "passport_number: EXISTING PERSON in this delegation already has this passport number.",
                    "name: Write the name in Latin letters",
                    "date_of_birth: The date of birth must be in the past.",
                    "passport_expires_on: Give the date the passport expires.",
                    "nationality: Choose the nationality."):
        assert message in text, message
    assert "1 new, 0 unchanged, 11 with errors." in text
    with app.app_context():
        assert members_state(volga["id"]) == before
        assert count(AuditEntry) == audit_before + 1  # only the audited read of the matched member's passport
        read = db.session.scalar(select(AuditEntry).order_by(AuditEntry.id.desc()).limit(1))
        assert read.action == "passport_read" and read.changes["purpose"] == "import"


def test_apply_refuses_a_plan_with_any_bad_row(app, volga):
    with app.app_context():
        delegation = db.session.get(Delegation, volga["id"])
        plan = imports.plan_members(None, delegation, [MEMBER_HEADER, GOOD[0], ["", "", "", "", "", "", "", "",
                                                                                 "", ""]])
        assert not plan.ok and len(plan.bad_rows) == 1
        with pytest.raises(imports.RowsInvalid):
            imports.apply_members(user(volga["leader"]), delegation, plan)
        db.session.rollback()
        assert members_state(volga["id"]) == []


def test_confirm_validates_again_and_refuses_what_changed_since(app, client, volga):
    sign_in(client, volga["leader"], PASSWORD)
    r = upload(client, volga["url"], csv_bytes(MEMBER_HEADER, GOOD))
    assert r.status_code == 200
    with app.app_context():  # meanwhile someone adds a member with the first row's passport number
        add_member(user(volga["leader"]), db.session.get(Delegation, volga["id"]), MemberData(
            name="SOMEONE ELSE", passport_number="751234567", passport_expires_on=date(2031, 1, 1),
            nationality="RU", date_of_birth=date(1980, 1, 1)))
        db.session.commit()
    r = confirm(client, volga["url"], r.text)
    assert r.status_code == 400
    assert "nothing was imported" in r.text and "SOMEONE ELSE in this delegation already has this passport" in r.text
    with app.app_context():
        assert [s[0] for s in members_state(volga["id"])] == ["SOMEONE ELSE"]


def test_the_confirm_token_cannot_be_forged_or_moved(app, client, volga):
    with app.app_context():
        other = make_delegation("Other")
    sign_in(client, volga["leader"], PASSWORD)
    cells = [MEMBER_HEADER, GOOD[0]]
    for token in (tables.sign_rows("not-the-secret", cells, imports.MEMBER_SALT),  # another key
                  tables.sign_rows("test-secret", cells, imports.BUYER_SALT),  # a buyer import's token
                  venue_imports.sign_rows("test-secret", cells),  # a booth import's token
                  tables.sign_rows("test-secret", cells, imports.MEMBER_SALT)[:-2] + "xx",  # changed
                  "", "x" * 5000):
        r = client.post(volga["url"] + "/confirm", data={"rows": token})
        assert r.status_code == 400 and "expired or was changed" in r.text, token[:40]
    # A genuine token of this leader's preview cannot be posted into another leader's delegation either.
    r = upload(client, volga["url"], csv_bytes(MEMBER_HEADER, GOOD))
    token = re.search(r'name="rows" type="hidden" value="([^"]+)"', r.text).group(1)
    assert client.post(other["url"] + "/confirm", data={"rows": token}).status_code == 404
    with app.app_context():
        assert members_state(volga["id"]) == [] and members_state(other["id"]) == []


# --- the round trip and the exports ---------------------------------------------------------------------------------

@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_export_import_round_trip(app, client, volga, fmt):
    sign_in(client, volga["leader"], PASSWORD)
    tricky = [*GOOD, ["SILVA JOSE", "José Silva", "", "+55 11 5555 0000", "=cmd|' /C calc'!A0", "@boss",
                      "BR1234567", "2031-01-01", "BR", "1975-05-05"]]
    r = upload(client, volga["url"], csv_bytes(MEMBER_HEADER, tricky))
    assert confirm(client, volga["url"], r.text).status_code == 302
    with app.app_context():
        before = members_state(volga["id"])
        other = make_delegation("Second Delegation")
    exported = client.get(f"/leader/delegations/{volga['id']}/members/export.{fmt}")
    assert exported.status_code == 200 and "no-store" in exported.headers["Cache-Control"]
    if fmt == "csv":  # formulas neutralised in the file
        text = exported.data.decode("utf-8-sig")
        assert "'=cmd" in text and "'@boss" in text and "'+55 11" in text
    else:
        ws = load_workbook(io.BytesIO(exported.data)).active
        company = [c.value for c in ws["E"]]
        assert "=cmd|' /C calc'!A0" in company and ws["E5"].data_type == "s"
    # Into the same delegation: every row is there already and unchanged.
    r = upload(client, volga["url"], exported.data, f"members.{fmt}")
    assert r.status_code == 200 and "0 new, 4 unchanged, 0 with errors." in r.text
    assert confirm(client, volga["url"], r.text).status_code == 302
    with app.app_context():
        assert members_state(volga["id"]) == before
    # Into another delegation (its organizer here): the same members, field for field.
    client.post("/logout")
    sign_in(client, ADMIN)
    r = upload(client, other["org_url"], exported.data, f"members.{fmt}")
    assert r.status_code == 200 and "4 new" in r.text
    assert confirm(client, other["org_url"], r.text).status_code == 302
    with app.app_context():
        assert sorted(members_state(other["id"])) == sorted(before)  # the export lists them by name


def test_passport_columns_in_exports_only_where_allowed_and_audited(app, client, volga):
    sign_in(client, volga["leader"], PASSWORD)
    confirm(client, volga["url"], upload(client, volga["url"], csv_bytes(MEMBER_HEADER, GOOD)).text)
    client.post("/logout")
    export = f"/organizer/delegations/{volga['id']}/members/export.csv"
    sign_in(client, STAFF)
    with app.app_context():
        reads = count(AuditEntry)
    text = client.get(export).data.decode("utf-8-sig")
    assert text.splitlines()[0] == "name,name_native,email,phone,company,job_title"
    assert "751234567" not in text and "PETROVA ANNA" in text
    assert client.get(export + "?passports=1").status_code == 403
    with app.app_context():
        assert count(AuditEntry) == reads  # nothing read
    client.post("/logout")
    sign_in(client, ADMIN)
    text = client.get(export + "?passports=1").data.decode("utf-8-sig")
    assert text.splitlines()[0] == ",".join(MEMBER_HEADER) and "751234567" in text
    with app.app_context():
        assert db.session.scalar(select(func.count()).where(AuditEntry.action == "passport_read",
                                                            AuditEntry.actor_id == user(ADMIN).id)) == 3
        assert db.session.scalar(select(func.count()).where(AuditEntry.action == "members_exported_for_import")) == 1
    # Buyers: the same rule.
    text = client.get("/organizer/buyers/import/export.csv?passports=1").data.decode("utf-8-sig")
    assert "passport_number" in text.splitlines()[0]
    client.post("/logout")
    sign_in(client, STAFF)
    assert client.get("/organizer/buyers/import/export.csv?passports=1").status_code == 403
    assert "passport_number" not in client.get("/organizer/buyers/import/export.csv").data.decode("utf-8-sig")


# --- who may import where ---------------------------------------------------------------------------------------------

def test_a_leader_imports_only_into_their_own_delegation(app, client, volga):
    with app.app_context():
        other = make_delegation("Someone Else's")
    sign_in(client, volga["leader"], PASSWORD)
    body = csv_bytes(MEMBER_HEADER, GOOD)
    assert client.get(other["url"]).status_code == 404
    assert upload(client, other["url"], body).status_code == 404
    assert client.get(f"/leader/delegations/{other['id']}/members/export.csv").status_code == 404
    assert client.get(other["org_url"]).status_code == 403
    assert client.get("/organizer/buyers/import").status_code == 403
    assert upload(client, "/organizer/buyers/import", body).status_code == 403
    with app.app_context():
        assert members_state(other["id"]) == []
    client.post("/logout")
    sign_in(client, "buyer@expo.test")
    assert client.get(volga["url"]).status_code == 403
    client.post("/logout")
    sign_in(client, STAFF)  # the organizer imports into any delegation
    r = upload(client, other["org_url"], body)
    assert r.status_code == 200 and confirm(client, other["org_url"], r.text).status_code == 302
    with app.app_context():
        assert len(members_state(other["id"])) == 3


# --- buyers -----------------------------------------------------------------------------------------------------------------

BUYER_HEADER = ["email", "name", "name_native", "company", "country", "job_title", "phone", "website",
                "purchase_volume", "products_sought", "categories", "contact_consent"]


def test_organizer_imports_buyers_and_the_export_round_trips(app, client):
    with app.app_context():
        cats = list(db.session.scalars(select(ProductCategory).where(ProductCategory.active.is_(True))
                                       .order_by(ProductCategory.id).limit(2)))
        codes = [c.code for c in cats]
        zh_name = cats[1].name_zh
        buyers_before = count(Buyer)
    rows = [["new.buyer@example.com", "KOWALSKI JAN", "", "Buty Sp. z o.o.", "Poland", "Owner", "+48 22 123 4567",
             "https://buty.example.pl", "1m_10m", "Running shoes, sandals", f"{codes[0]}; {zh_name}", "yes"],
            ["ana@example.mx", "LOPEZ ANA", "Ana López", "", "mx", "", "", "", "", "", "", "no"]]
    sign_in(client, STAFF)
    r = upload(client, "/organizer/buyers/import", csv_bytes(BUYER_HEADER, rows), "buyers.csv")
    assert r.status_code == 200, r.text[:3000]
    assert "2 new, 0 unchanged, 0 with errors." in r.text
    assert confirm(client, "/organizer/buyers/import", r.text).status_code == 302
    with app.app_context():
        assert count(Buyer) == buyers_before + 2
        jan = db.session.scalar(select(Buyer).where(Buyer.email == "new.buyer@example.com"))
        assert (jan.country, jan.purchase_volume, jan.contact_consent) == ("PL", "1m_10m", True)
        assert sorted(c.code for c in jan.categories) == sorted(codes)
        ana = db.session.scalar(select(Buyer).where(Buyer.email == "ana@example.mx"))
        assert (ana.country, ana.contact_consent, ana.status) == ("MX", False, "registered")
        assert db.session.get(Passport, ana.id) is None
    for fmt in ("csv", "xlsx"):
        exported = client.get(f"/organizer/buyers/import/export.{fmt}")
        assert exported.status_code == 200
        r = upload(client, "/organizer/buyers/import", exported.data, f"buyers.{fmt}")
        assert r.status_code == 200, re.findall(r'<p class="error">([^<]+)', r.text)[:5]
        assert re.search(r"0 new, \d+ unchanged, 0 with errors\.", r.text)
        assert confirm(client, "/organizer/buyers/import", r.text).status_code == 302
    with app.app_context():
        assert count(Buyer) == buyers_before + 2


def test_buyer_rows_errors(app, client):
    with app.app_context():
        taken = db.session.scalar(select(Buyer).where(Buyer.email != "").order_by(Buyer.id).limit(1))
        taken_email = taken.email
        buyers_before = count(Buyer)
    header = [*BUYER_HEADER, "passport_number", "passport_expires_on", "nationality", "date_of_birth"]
    rows = [
        ["ok@example.com", "OK PERSON", "", "", "DE", "", "", "", "", "", "", "yes", "", "", "", ""],
        ["", "NO EMAIL", "", "", "DE", "", "", "", "", "", "", "", "", "", "", ""],
        ["bad@", "BAD EMAIL", "", "", "DE", "", "", "", "", "", "", "", "", "", "", ""],
        ["c@example.com", "NO COUNTRY", "", "", "", "", "", "", "", "", "", "", "", "", "", ""],
        ["d@example.com", "WRONG COUNTRY", "", "", "Atlantis", "", "", "", "", "", "", "", "", "", "", ""],
        ["e@example.com", "BAD VOLUME", "", "", "DE", "", "", "", "lots", "", "no-such-category", "maybe",
         "", "", "", ""],
        ["ok@example.com", "SAME EMAIL", "", "", "DE", "", "", "", "", "", "", "", "", "", "", ""],
        [taken_email.upper(), "ALREADY REGISTERED", "", "", "DE", "", "", "", "", "", "", "", "", "", "", ""],
        ["f@example.com", "HALF PASSPORT", "", "", "DE", "", "", "", "", "", "", "", "X1234567", "", "", ""],
        ["g@example.com", "WEB SITE", "", "", "DE", "", "", "not a url", "", "", "", "", "", "", "", ""],
    ]
    sign_in(client, STAFF)
    r = upload(client, "/organizer/buyers/import", csv_bytes(header, rows), "buyers.csv")
    assert r.status_code == 422
    text = r.text.replace("&#39;", "'").replace("&quot;", '"')
    for message in ("email: Give the e-mail address.", "email: Enter a valid e-mail address.",
                    "country: Give the country or region.", "“Atlantis” is not a country code",
                    "purchase_volume: Use one of", "categories: Unknown product categories: no-such-category.",
                    "contact_consent: Write yes or no.",
                    "email: The e-mail address ok@example.com is in the file twice (also line 2).",
                    "is already registered with this e-mail address, with other details",
                    "passport_expires_on: Give the date the passport expires.",
                    "date_of_birth: Give the date of birth.", "nationality: Choose the nationality.",
                    "website: Enter a web address without spaces"):
        assert message in text, message
    assert "1 new, 0 unchanged, 9 with errors." in text
    with app.app_context():
        assert count(Buyer) == buyers_before


# --- files --------------------------------------------------------------------------------------------------------------

PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00\x1f\x15\xc4\x89"


def test_files_that_are_not_member_lists_are_refused(app, client, volga):
    sign_in(client, volga["leader"], PASSWORD)
    cases = [(PNG, "x.csv", 400, "neither a CSV file (UTF-8 or GB18030) nor an XLSX workbook"),
             (b"PK\x03\x04 not a zip at all", "x.xlsx", 400, "neither a CSV file"),
             (b"", "x.csv", 400, "The uploaded file is empty."),
             (b"   \n\n", "x.csv", 400, "empty"),
             (csv_bytes(["name", "shoe size"], [["A", "42"]]), "x.csv", 400, "Unknown columns: shoe size"),
             (csv_bytes(["name", "name"], [["A", "B"]]), "x.csv", 400, "These columns appear twice: name"),
             (csv_bytes(["name", "email"], [["A", "a@b.c"]]), "x.csv", 400,
              "The file lacks the columns passport_number, passport_expires_on, nationality, date_of_birth"),
             ("name\n".encode("utf-16"), "x.csv", 400, "neither a CSV file")]
    for body, name, status, message in cases:
        r = upload(client, volga["url"], body, name)
        assert r.status_code == status, (message, r.status_code)
        assert message in r.text.replace("&#39;", "'"), message
    with app.app_context():
        assert members_state(volga["id"]) == []


def test_size_and_row_caps(app, client, volga, monkeypatch):
    sign_in(client, volga["leader"], PASSWORD)
    app.config["BUYER_IMPORT_MAX_BYTES"] = 300
    try:
        r = upload(client, volga["url"], csv_bytes(MEMBER_HEADER, GOOD * 3))
        assert r.status_code == 413 and "larger than" in r.text
    finally:
        app.config.pop("BUYER_IMPORT_MAX_BYTES")
    monkeypatch.setattr(imports, "MAX_ROWS", 2)
    r = upload(client, volga["url"], csv_bytes(MEMBER_HEADER, GOOD))
    assert r.status_code == 413 and "more than 2 rows" in r.text
    rows = [list(GOOD[0]) for _ in range(5)]
    r = upload(client, volga["url"], xlsx_bytes(MEMBER_HEADER, rows), "m.xlsx")
    assert r.status_code == 413
    # A file above the app's general upload limit (2 MB) but within this import's 5 MB gets through to the checks.
    big = csv_bytes(MEMBER_HEADER, [GOOD[0]]) + b"\n" * (2_300_000)
    monkeypatch.setattr(imports, "MAX_ROWS", 20_000)
    # Encoded here: the test client would spool a body this size to a temporary file it never closes.
    boundary, body = encode_multipart({"file": FileStorage(io.BytesIO(big), "big.csv")})
    r = client.post(volga["url"], data=body, content_type=f"multipart/form-data; boundary={boundary}")
    assert r.status_code == 200 and "1 new" in r.text


def test_a_cell_beyond_the_named_columns_is_an_error(app, client, volga):
    sign_in(client, volga["leader"], PASSWORD)
    r = upload(client, volga["url"], csv_bytes(MEMBER_HEADER, [[*GOOD[0], "stray"]]))
    assert r.status_code == 422 and "column 11: This cell has no column name." in r.text


# --- fuzz --------------------------------------------------------------------------------------------------------------------

FUZZ = settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                        HealthCheck.too_slow])
cell = st.one_of(st.text(max_size=15), st.sampled_from(["", "RU", "Russia", "俄罗斯", "2031-01-01", "2027年4月19日",
                                                        "31.02.2031", "751234567", "E12345678", "=1+1", "yes",
                                                        "\x00", "'+7 912", "nan", "1e308", "ZZ"]))


@FUZZ
@given(st.lists(st.lists(cell, max_size=12), max_size=6))
def test_fuzz_member_plan_only_reports_row_errors(ctx, rows):
    delegation = db.session.scalar(select(Delegation).order_by(Delegation.id).limit(1))
    if delegation is None:
        delegation = Delegation(expo_id=current_expo().id, name="Fuzz", country="RU")
        db.session.add(delegation)
        db.session.flush()
    plan = imports.plan_members(None, delegation, [MEMBER_HEADER, *rows])
    assert len(plan.rows) == len(rows)
    for r in plan.rows:
        assert all(isinstance(e, str) and e for e in r.errors)
        if not r.errors:
            assert r.action in ("new", "unchanged")
    plan = imports.plan_buyers(None, current_expo(), [BUYER_HEADER, *rows])
    assert all(isinstance(e, str) for r in plan.rows for e in r.errors)
    db.session.rollback()


@FUZZ
@given(st.binary(max_size=400) | st.lists(st.lists(cell, max_size=11), max_size=4).map(
    lambda rows: csv_bytes(MEMBER_HEADER, rows)))
def test_fuzz_upload_never_fails(app, client, body):
    with app.app_context():
        delegation = db.session.scalar(select(Delegation).where(Delegation.name == "Fuzz Upload"))
        if delegation is None:
            info = make_delegation("Fuzz Upload")
        else:
            info = {"id": delegation.id, "leader": user_email(delegation.leader_user_id),
                    "url": f"/leader/delegations/{delegation.id}/members/import"}
    sign_in(client, info["leader"], PASSWORD)
    for name in ("f.csv", "f.xlsx"):
        r = upload(client, info["url"], body, name)
        assert r.status_code in (200, 400, 413, 422), r.status_code
    r = client.post(info["url"] + "/confirm", data={"rows": body.decode("latin-1")})
    assert r.status_code == 400


@FUZZ
@given(st.lists(st.lists(cell, min_size=10, max_size=10), min_size=1, max_size=3))
def test_fuzz_xlsx_rows_preview_or_clean_errors(app, client, rows):
    with app.app_context():
        delegation = db.session.scalar(select(Delegation).where(Delegation.name == "Fuzz Xlsx"))
        info = make_delegation("Fuzz Xlsx") if delegation is None else {
            "leader": user_email(delegation.leader_user_id),
            "url": f"/leader/delegations/{delegation.id}/members/import"}
    sign_in(client, info["leader"], PASSWORD)
    safe = [[c.replace("\x00", "") if isinstance(c, str) else c for c in row] for row in rows]
    try:
        body = xlsx_bytes(MEMBER_HEADER, safe)
    except Exception:  # noqa: BLE001 - openpyxl refuses some control characters itself: nothing to upload then
        return
    r = upload(client, info["url"], body, "f.xlsx")
    assert r.status_code in (200, 422), r.status_code


def user_email(user_id: int) -> str:
    from expo.auth.models import User

    return db.session.get(User, user_id).email


def test_member_data_dataclass_is_what_the_import_fills():
    """The import builds MemberData by keyword: a new required field in the delegation service would show here."""
    data = MemberData(name="X")
    assert replace(data, email="a@b.c").email == "a@b.c"
    assert {c.key for c in imports.MEMBER_COLUMNS} <= set(MemberData.__dataclass_fields__)


def test_import_pages_need_the_csrf_token(app, client, volga, csrf_enabled):
    from tests.conftest import csrf_token

    page = client.get("/login").text
    client.post("/login", data={"email": volga["leader"], "password": PASSWORD, "csrf_token": csrf_token(page)})
    body = csv_bytes(MEMBER_HEADER, GOOD)
    assert upload(client, volga["url"], body).status_code == 400
    token = csrf_token(client.get(volga["url"]).text)
    r = client.post(volga["url"], data={"file": (io.BytesIO(body), "m.csv"), "csrf_token": token},
                    content_type="multipart/form-data")
    assert r.status_code == 200 and "3 new" in r.text
    rows = re.search(r'name="rows" type="hidden" value="([^"]+)"', r.text).group(1)
    assert client.post(volga["url"] + "/confirm", data={"rows": rows}).status_code == 400
    with app.app_context():
        assert members_state(volga["id"]) == []
    assert client.post(volga["url"] + "/confirm", data={"rows": rows, "csrf_token": token}).status_code == 302


def test_the_xlsx_reader_reads_what_openpyxl_reads():
    """expo.tables streams the sheet itself (faster than openpyxl): the same text for every kind of cell."""
    from datetime import datetime, time

    wb = Workbook()
    ws = wb.active
    ws.append(["a", "b", "c", "d", "e", "f", "g"])
    ws.append([1, 2.5, True, False, date(2027, 4, 19), datetime(2027, 4, 19, 13, 5), "x\ny"])
    ws.append([None, "", 12345678901234567890, 1e-5, "=1+1", "  lead", time(12, 30)])
    ws["A5"] = "after a gap"
    ws.cell(row=6, column=60, value="far right")
    ws.cell(row=7, column=1, value=45000).number_format = "yyyy-mm-dd"
    ws.cell(row=7, column=2, value=0.5).number_format = "0%"
    ws.cell(row=8, column=1, value="王小明")
    ws.cell(row=8, column=2, value="Анна")
    buf = io.BytesIO()
    wb.save(buf)
    raw = buf.getvalue()
    ours = tables.read_upload(io.BytesIO(raw), 10**7, max_rows=100, max_cols=40)
    book = load_workbook(io.BytesIO(raw), read_only=True, data_only=True)
    theirs = [[tables.cell_text(v) for v in row[:40]] for row in book.worksheets[0].iter_rows(values_only=True)]

    def trimmed(rows):
        out = []
        for row in rows:
            row = list(row)
            while row and row[-1] == "":
                row.pop()
            if row:
                out.append(row)
        return out

    assert trimmed(ours) == trimmed(theirs)
    assert trimmed(ours)[1] == ["1", "2.5", "yes", "no", "2027-04-19", "2027-04-19 13:05:00", "x\ny"]
    assert trimmed(ours)[4] == ["2023-03-15", "0.5"]


def test_a_zip_that_is_no_workbook_is_refused(app, client, volga):
    import zipfile

    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("hello.txt", "not a workbook")
    sign_in(client, volga["leader"], PASSWORD)
    r = upload(client, volga["url"], buf.getvalue(), "m.xlsx")
    assert r.status_code == 400 and "nor an XLSX workbook" in r.text
