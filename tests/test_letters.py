"""Visa invitation letters: the PDF read back (text with pypdf, the QR code rendered by poppler and decoded by
zxing-cpp), issuing, reusing and superseding, revoking, the public verification page, the audit of passport reads,
and who may download whose letters."""

from __future__ import annotations

import io
import re
import shutil
import subprocess
from datetime import date

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pypdf import PdfReader
from sqlalchemy import func, select

from expo.audit import AuditEntry
from expo.auth.models import Role
from expo.buyers.models import Buyer, Delegation, InvitationLetter, Passport
from expo.exhibitors.services import current_expo
from expo.extensions import db
from expo.letters import pdf as letter_pdf
from expo.letters import services
from expo.pdf import qr
from tests.factories import PASSWORD, make_user, user

ADMIN = "admin@expo.test"
STAFF = "staff@expo.test"
MEMBERS = [  # name, native name, nationality, passport number, date of birth
    ("PETROVA ANNA", "Анна Петрова", "RU", "751234567", date(1985, 3, 14)),
    ("WANG XIAOMING", "王小明", "CN", "E12345678", date(1979, 11, 2)),
    ("SOKOLOV DMITRY", "Дмитрий Соколов", "RU", "759876543", date(1990, 7, 30)),
]
REF = re.compile(r"JJFE2027-[0-9A-HJKMNP-TV-Z]{11}")


def pdf_pages(data: bytes) -> list[str]:
    return [page.extract_text() or "" for page in PdfReader(io.BytesIO(data)).pages]


def sign_in(client, email: str, password: str = "expo-demo-2026") -> None:
    r = client.post("/login", data={"email": email, "password": password})
    assert r.status_code == 302, re.findall(r"flash[^>]*>([^<]*)", r.text)


def _passport(buyer: Buyer, number: str, nationality: str, born: date, expires: date = date(2032, 5, 6)) -> None:
    db.session.add(Passport(buyer_id=buyer.id, number=number, nationality=nationality, date_of_birth=born,
                            expires_on=expires))


def make_delegation(leader_email: str | None = None, *, name: str = "Volga Footwear Buyers", members=MEMBERS,
                    with_passports: bool = True) -> dict:
    """A delegation with its leader account (new unless ``leader_email`` names one) and members with passports."""
    expo = current_expo()
    leader = user(leader_email) if leader_email else make_user(Role.DELEGATION_LEADER, name="Leader")
    delegation = Delegation(expo_id=expo.id, name=name, country="RU", organization="Volga Shoe Union",
                            leader_user_id=leader.id, arrival_date=date(2027, 4, 17),
                            departure_date=date(2027, 4, 23))
    db.session.add(delegation)
    db.session.flush()
    ids = []
    for person, native, nationality, number, born in members:
        buyer = Buyer(expo_id=expo.id, delegation_id=delegation.id, name=person, name_native=native,
                      country="RU", company="Volga Obuv", job_title="Buyer")
        db.session.add(buyer)
        db.session.flush()
        if with_passports:
            _passport(buyer, number, nationality, born)
        ids.append(buyer.id)
    db.session.commit()
    return {"id": delegation.id, "leader": leader.email, "members": ids}


@pytest.fixture
def delegation(app) -> dict:
    with app.app_context():
        return make_delegation()


@pytest.fixture
def buyer_account(app) -> dict:
    """A buyer travelling alone, with an account of their own and a passport."""
    with app.app_context():
        account = make_user(Role.BUYER, name="Maria Souza")
        buyer = Buyer(expo_id=current_expo().id, user_id=account.id, name="SOUZA MARIA", name_native="玛丽亚",
                      country="BR", company="Calçados Souza", job_title="Director", email=account.email)
        db.session.add(buyer)
        db.session.flush()
        _passport(buyer, "FX123456", "BR", date(1982, 1, 9))
        db.session.commit()
        return {"email": account.email, "buyer_id": buyer.id}


def letters_of(**where) -> list[InvitationLetter]:
    stmt = select(InvitationLetter).order_by(InvitationLetter.id)
    for key, value in where.items():
        stmt = stmt.where(getattr(InvitationLetter, key) == value)
    return list(db.session.scalars(stmt))


# --- the buyer's letter -------------------------------------------------------------------------------------------------

def test_buyer_downloads_a_bilingual_a4_letter_with_passport_data(app, client, buyer_account):
    sign_in(client, buyer_account["email"], PASSWORD)
    r = client.get("/buyer/letter.pdf")
    assert r.status_code == 200, r.text[:1000]
    assert r.mimetype == "application/pdf" and "no-store" in r.headers["Cache-Control"]
    with app.app_context():
        (letter,) = letters_of(buyer_id=buyer_account["buyer_id"])
        reference = letter.reference
        assert letter.holders[0]["passport_number"] == "FX123456"
    reader = PdfReader(io.BytesIO(r.data))
    box = reader.pages[0].mediabox
    assert (round(float(box.width)), round(float(box.height))) == (595, 842)  # A4 in points
    assert len(reader.pages) == 1
    text = "\n".join(pdf_pages(r.data))
    for expected in (reference, "SOUZA MARIA", "玛丽亚", "FX123456", "Brazil", "巴西", "1982-01-09", "2032-05-06",
                     "19 April 2027", "22 April 2027", "2027年4月19日", "2027年4月22日", "签证邀请函",
                     "VISA INVITATION LETTER", "Organizing Committee of the China (Jinjiang) International Footwear Expo",
                     "中国（晋江）国际鞋业博览会组委会", "Lin Zhiming", "Date of issue", f"/verify/{reference}"):
        assert expected in text, expected
    # Again: the same letter, byte for byte (rendered from the stored snapshot, with an invariant PDF writer).
    again = client.get("/buyer/letter.pdf")
    assert again.data == r.data
    with app.app_context():
        assert len(letters_of(buyer_id=buyer_account["buyer_id"])) == 1


def test_every_download_audits_the_passport_read(app, client, buyer_account):
    sign_in(client, buyer_account["email"], PASSWORD)
    for n in (1, 2):
        assert client.get("/buyer/letter.pdf").status_code == 200
        with app.app_context():
            reads = list(db.session.scalars(select(AuditEntry).where(AuditEntry.action == "passport_read",
                                                                     AuditEntry.object_id == buyer_account["buyer_id"])))
            assert len(reads) == n
            assert reads[-1].changes["purpose"] == "visa_letter"
            assert reads[-1].actor.email == buyer_account["email"]
            downloads = db.session.scalar(select(func.count()).where(AuditEntry.action == "letter_downloaded"))
            assert downloads == n
            issued = db.session.scalar(select(func.count()).where(AuditEntry.action == "letter_issued"))
            assert issued == 1


@pytest.mark.skipif(shutil.which("pdftoppm") is None, reason="needs poppler-utils")
def test_qr_code_decodes_to_the_verification_url(app, client, buyer_account, tmp_path):
    zxingcpp = pytest.importorskip("zxingcpp")
    from PIL import Image

    sign_in(client, buyer_account["email"], PASSWORD)
    data = client.get("/buyer/letter.pdf").data
    with app.app_context():
        reference = letters_of(buyer_id=buyer_account["buyer_id"])[0].reference
    (tmp_path / "letter.pdf").write_bytes(data)
    subprocess.run(["pdftoppm", "-r", "150", "-png", "-f", "1", "-l", "1", str(tmp_path / "letter.pdf"),
                    str(tmp_path / "page")], check=True, timeout=60)
    (png,) = tmp_path.glob("page*.png")
    codes = zxingcpp.read_barcodes(Image.open(png))
    assert [c.text for c in codes] == [f"http://localhost/verify/{reference}"]
    assert codes[0].format == zxingcpp.BarcodeFormat.QRCode
    # The printed URL opens the verification page, which says valid.
    page = client.get(codes[0].text.removeprefix("http://localhost"))
    assert page.status_code == 200 and "Valid" in page.text


def test_qr_module_draws_runs_not_squares():
    matrix = qr.qr_matrix("http://localhost/verify/JJFE2027-0000000000X")
    dark = sum(sum(row) for row in matrix)
    runs = list(qr.runs(matrix))
    assert sum(length for _r, _c, length in runs) == dark
    assert len(runs) < dark * 0.7  # merged: far fewer rectangles than modules
    svg = qr.svg(matrix)
    assert svg.startswith("<svg") and svg.count("z") == len(runs)


# --- the delegation's batch -----------------------------------------------------------------------------------------------

def test_leader_downloads_the_batch_group_letter_then_one_per_member(app, client, delegation):
    sign_in(client, delegation["leader"], PASSWORD)
    r = client.get(f"/leader/delegations/{delegation['id']}/letters.pdf")
    assert r.status_code == 200, r.text[:1000]
    pages = pdf_pages(r.data)
    with app.app_context():
        group = letters_of(delegation_id=delegation["id"], buyer_id=None)
        assert len(group) == 1 and len(group[0].holders) == 3
        members = [x for x in letters_of(delegation_id=delegation["id"]) if x.buyer_id is not None]
        assert sorted(x.buyer_id for x in members) == sorted(delegation["members"])
        group_ref = group[0].reference
        member_refs = {x.holders[0]["name"]: x.reference for x in members}
    assert len(pages) == 4  # the group letter fits one page, then one page per member
    first = pages[0]
    assert group_ref in first and "DELEGATION" in first and "代表团" in first
    for name, native, _nat, number, born in MEMBERS:
        assert name in first and native in first and number in first and born.isoformat() in first
    assert "17 April 2027" in first and "23 April 2027" in first  # the planned stay
    # Each member's own letter follows, sorted by name, each with its own reference and nobody else's passport.
    for page, (name, native, _nat, number, _born) in zip(pages[1:], sorted(MEMBERS), strict=True):
        assert member_refs[name] in page and name in page and native in page and number in page
        assert "Volga Footwear Buyers" in page
        others = [m[3] for m in MEMBERS if m[3] != number]
        assert not any(o in page for o in others)
    # The batch again: nothing new.
    assert client.get(f"/leader/delegations/{delegation['id']}/letters.pdf").data == r.data
    with app.app_context():
        assert len(letters_of(delegation_id=delegation["id"])) == 4


def test_a_long_delegation_continues_its_table_with_page_numbers():
    organizer = letter_pdf.Organizer("主办方", "The Organizer")
    event = letter_pdf.Event("展会", "The Expo", date(2027, 4, 19), date(2027, 4, 22))
    people = tuple(letter_pdf.Person(f"PERSON NUMBER {i}", "张三", "CN", "China", "中国", "1980-01-01",
                                     f"E{i:08d}", "2032-01-01") for i in range(60))
    data = letter_pdf.render_letters([letter_pdf.Letter("X-0000000000A", date(2026, 11, 1), "https://e.x/v", organizer,
                                                        event, people, delegation="Big", group=True)])
    pages = pdf_pages(data)
    assert len(pages) >= 3
    text = "\n".join(pages)
    assert all(f"E{i:08d}" in text for i in range(60))
    assert f"page {len(pages)} of {len(pages)}" in pages[-1] and "(continued" in pages[1]
    assert all("Passport No." in p for p in pages[:-1])  # the table header again on each page of the table


def test_changed_member_data_supersedes_the_old_letters(app, client, delegation):
    sign_in(client, STAFF)
    url = f"/organizer/letters/delegations/{delegation['id']}.pdf"
    assert client.get(url).status_code == 200
    with app.app_context():
        before = {x.id: x.reference for x in letters_of(delegation_id=delegation["id"])}
        changed = db.session.get(Passport, delegation["members"][0])
        changed.number = "751111111"
        db.session.commit()
    r = client.get(url)
    assert r.status_code == 200 and "751111111" in "\n".join(pdf_pages(r.data))
    with app.app_context():
        letters = letters_of(delegation_id=delegation["id"])
        revoked = {x.reference for x in letters if x.revoked_at is not None}
        valid = [x for x in letters if x.revoked_at is None]
        # The group letter and the changed member's letter are superseded; the two others stay as they were.
        assert len(revoked) == 2 and revoked <= set(before.values())
        assert len(valid) == 4
        unchanged = [x for x in valid if x.id in before]
        assert len(unchanged) == 2
        old_group = next(x for x in letters if x.buyer_id is None and x.revoked_at is not None)
        entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "letter_revoked",
                                                           AuditEntry.object_id == old_group.id))
        assert entry.changes["reason"] == "superseded"
        old_ref = old_group.reference
    page = client.get(f"/verify/{old_ref}")
    assert page.status_code == 200 and "Revoked" in page.text


def test_a_member_who_left_loses_the_letter_on_the_next_batch(app, client, delegation):
    sign_in(client, STAFF)
    url = f"/organizer/letters/delegations/{delegation['id']}.pdf"
    assert client.get(url).status_code == 200
    with app.app_context():
        gone = db.session.get(Buyer, delegation["members"][2])
        gone.delegation_id = None
        db.session.commit()
        old = next(x for x in letters_of(buyer_id=gone.id))
    assert client.get(url).status_code == 200
    with app.app_context():
        assert db.session.get(InvitationLetter, old.id).revoked_at is not None
        group = [x for x in letters_of(delegation_id=delegation["id"], buyer_id=None) if x.revoked_at is None]
        assert len(group) == 1 and len(group[0].holders) == 2


def test_missing_passport_data_is_refused_naming_the_people(app, client):
    with app.app_context():
        info = make_delegation(name="No Papers", with_passports=False)
        audit_before = db.session.scalar(select(func.count(AuditEntry.id)))
    sign_in(client, STAFF)
    r = client.get(f"/organizer/letters/delegations/{info['id']}.pdf")
    assert r.status_code == 409
    assert "PETROVA ANNA" in r.text and "WANG XIAOMING" in r.text and "passport data" in r.text
    with app.app_context():
        assert letters_of(delegation_id=info["id"]) == []
        assert db.session.scalar(select(func.count(AuditEntry.id))) == audit_before


def test_expired_passport_and_empty_delegation_are_refused(app, client):
    with app.app_context():
        info = make_delegation(name="Expired", members=MEMBERS[:1])
        db.session.get(Passport, info["members"][0]).expires_on = date(2027, 1, 1)
        empty = make_delegation(name="Empty", members=[])
        db.session.commit()
    sign_in(client, STAFF)
    r = client.get(f"/organizer/letters/delegations/{info['id']}.pdf")
    assert r.status_code == 409 and "expire before the expo ends" in r.text
    r = client.get(f"/organizer/letters/delegations/{empty['id']}.pdf")
    assert r.status_code == 409 and "no members" in r.text


# --- who may download what ------------------------------------------------------------------------------------------------

def test_a_leader_cannot_download_another_delegations_letters(app, client, delegation):
    with app.app_context():
        other = make_delegation(name="Other Delegation")
    sign_in(client, other["leader"], PASSWORD)
    assert client.get(f"/leader/delegations/{other['id']}/letters.pdf").status_code == 200
    r = client.get(f"/leader/delegations/{delegation['id']}/letters.pdf")
    assert r.status_code == 404
    assert client.get("/leader/delegations/999999/letters.pdf").status_code == 404
    for url in (f"/organizer/letters/delegations/{delegation['id']}.pdf", "/organizer/letters", "/buyer/letter.pdf"):
        assert client.get(url).status_code == 403, url
    with app.app_context():
        assert letters_of(delegation_id=delegation["id"]) == []


def test_a_buyer_gets_only_their_own_letter(app, client, buyer_account, delegation):
    sign_in(client, buyer_account["email"], PASSWORD)
    assert client.get(f"/leader/delegations/{delegation['id']}/letters.pdf").status_code == 403
    assert client.get(f"/organizer/letters/buyers/{delegation['members'][0]}.pdf").status_code == 403
    text = "\n".join(pdf_pages(client.get("/buyer/letter.pdf").data))
    assert "SOUZA MARIA" in text and not any(m[0] in text for m in MEMBERS)
    # A buyer account that no buyer is linked to has no letter.
    with app.app_context():
        lonely = make_user(Role.BUYER).email
        db.session.commit()
    client.post("/logout")
    sign_in(client, lonely, PASSWORD)
    assert client.get("/buyer/letter.pdf").status_code == 404


# --- the public verification ------------------------------------------------------------------------------------------------

def test_verification_page_valid_revoked_unknown(app, client, buyer_account):
    sign_in(client, buyer_account["email"], PASSWORD)
    client.get("/buyer/letter.pdf")
    client.post("/logout")
    with app.app_context():
        letter = letters_of(buyer_id=buyer_account["buyer_id"])[0]
        reference, letter_id = letter.reference, letter.id
    r = client.get(f"/verify/{reference}")
    assert r.status_code == 200 and "Valid" in r.text and r.headers["Cache-Control"] == "no-store"
    assert "SOUZA MARIA" in r.text and "玛丽亚" in r.text and "Brazil" in r.text
    assert "…3456" in r.text and "FX123456" not in r.text and "1982" not in r.text  # last four only, no birth date
    assert "Jinjiang International Footwear Expo" in r.text or "Footwear" in r.text
    # As a person types it: lower case, spaces, O for 0 and L for 1.
    typed = reference.lower().replace("-", " ")
    typed = typed[:9] + typed[9:].replace("0", "o").replace("1", "l")
    assert client.get("/verify", query_string={"ref": typed}).status_code == 200
    # Revoked by the organizer.
    sign_in(client, STAFF)
    assert client.post(f"/organizer/letters/{letter_id}/revoke").status_code == 302
    client.post("/logout")
    r = client.get(f"/verify/{reference}")
    assert r.status_code == 200 and "Revoked" in r.text and "no longer valid" in r.text
    # Unknown, malformed and mistyped references: 404 and the same page.
    code = reference.split("-")[1]
    wrong = services.ALPHABET[(services.ALPHABET.index(code[3]) + 1) % 32]
    mistyped = f"JJFE2027-{code[:3]}{wrong}{code[4:]}"
    for ref in ("JJFE2027-0000000000" + services.check_character("0000000000"), "nonsense", mistyped, "x" * 300):
        r = client.get(f"/verify/{ref}")
        assert r.status_code == 404 and "No letter has this reference number" in r.text, ref
    assert "mistyped" in client.get(f"/verify/{mistyped}").text
    assert client.get("/verify").status_code == 200  # the empty form


def test_revoked_letter_still_downloads_for_the_organizer_stamped(app, client, buyer_account):
    sign_in(client, STAFF)
    r = client.get(f"/organizer/letters/buyers/{buyer_account['buyer_id']}.pdf")
    assert r.status_code == 200
    with app.app_context():
        letter = letters_of(buyer_id=buyer_account["buyer_id"])[0]
    client.post(f"/organizer/letters/{letter.id}/revoke")
    text = "\n".join(pdf_pages(client.get(f"/organizer/letters/{letter.id}.pdf").data))
    assert letter.reference in text and "REVOKED" in text
    # The next download for the buyer issues a new letter.
    client.get(f"/organizer/letters/buyers/{buyer_account['buyer_id']}.pdf")
    with app.app_context():
        assert len(letters_of(buyer_id=buyer_account["buyer_id"])) == 2


# --- the organizer's list --------------------------------------------------------------------------------------------------

def test_organizer_issues_searches_and_exports_without_passport_numbers(app, client, buyer_account, delegation):
    sign_in(client, STAFF)
    r = client.post("/organizer/letters/issue", data={"email": buyer_account["email"].upper(), "delegation_id": "0"})
    assert r.status_code == 302
    r = client.post("/organizer/letters/issue", data={"email": "", "delegation_id": str(delegation["id"])})
    assert r.status_code == 302
    with app.app_context():
        buyer_ref = letters_of(buyer_id=buyer_account["buyer_id"])[0].reference
        assert len(letters_of(delegation_id=delegation["id"])) == 4
    page = client.get("/organizer/letters", query_string={"q": buyer_ref})
    assert page.status_code == 200 and buyer_ref in page.text and "PETROVA" not in page.text
    page = client.get("/organizer/letters", query_string={"q": "Volga"})
    assert "PETROVA ANNA" in page.text and buyer_ref not in page.text
    page = client.get("/organizer/letters", query_string={"q": "王小明"})
    assert "WANG XIAOMING" in page.text
    assert client.get("/organizer/letters", query_string={"status": "bogus"}).status_code == 400
    # Re-issue on purpose: a new reference, the old one revoked.
    assert client.post(f"/organizer/letters/buyers/{buyer_account['buyer_id']}/issue").status_code == 302
    with app.app_context():
        letters = letters_of(buyer_id=buyer_account["buyer_id"])
        assert [x.revoked_at is not None for x in letters] == [True, False]
    for fmt in ("csv", "xlsx"):
        r = client.get(f"/organizer/letters/export.{fmt}")
        assert r.status_code == 200
        body = r.data.decode("utf-8-sig") if fmt == "csv" else _xlsx_text(r.data)
        assert buyer_ref in body and "SOUZA MARIA" in body and "PETROVA ANNA" in body
        assert not any(m[3] in body for m in MEMBERS) and "FX123456" not in body
    # Refusals on the issue form: nobody with that address, neither field, both fields.
    assert client.post("/organizer/letters/issue", data={"email": "nobody@example.com"}).status_code == 404
    assert client.post("/organizer/letters/issue", data={}).status_code == 400
    assert client.post("/organizer/letters/issue", data={"email": buyer_account["email"],
                                                         "delegation_id": str(delegation["id"])}).status_code == 400


def _xlsx_text(data: bytes) -> str:
    from openpyxl import load_workbook

    wb = load_workbook(io.BytesIO(data), read_only=True)
    return "\n".join(" ".join(str(c) for c in row if c is not None) for row in wb.worksheets[0].iter_rows(values_only=True))


def test_letters_of_another_expo_are_not_found(app, client, delegation):
    sign_in(client, STAFF)
    assert client.get("/organizer/letters/999999.pdf").status_code == 404
    assert client.post("/organizer/letters/999999/revoke").status_code == 404
    assert client.get("/organizer/letters/buyers/999999.pdf").status_code == 404


# --- references ----------------------------------------------------------------------------------------------------------------

def test_references_are_unguessable_and_carry_a_check_character(ctx):
    expo = current_expo()
    refs = {services.new_reference(expo) for _ in range(500)}
    assert len(refs) == 500 and all(REF.fullmatch(r) for r in refs)
    assert all(len(r) <= 24 for r in refs)
    for ref in list(refs)[:50]:
        assert services.parse_reference(ref).check_ok


@settings(max_examples=300, deadline=None)
@given(code=st.text(alphabet=services.ALPHABET, min_size=10, max_size=10), position=st.integers(0, 10),
       shift=st.integers(1, 31))
def test_check_character_catches_any_single_mistyped_character(code, position, shift):
    full = code + services.check_character(code)
    wrong = full[:position] + services.ALPHABET[(services.ALPHABET.index(full[position]) + shift) % 32] + \
        full[position + 1:]
    assert services.check_character(wrong[:-1]) != wrong[-1]


@settings(max_examples=300, deadline=None)
@given(code=st.text(alphabet=services.ALPHABET, min_size=10, max_size=10), position=st.integers(0, 9))
def test_check_character_catches_swapped_neighbours(code, position):
    full = code + services.check_character(code)
    swapped = full[:position] + full[position + 1] + full[position] + full[position + 2:]
    if swapped != full:
        assert services.check_character(swapped[:-1]) != swapped[-1]


FUZZ = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                        HealthCheck.too_slow])


@FUZZ
@given(st.text(max_size=120))
def test_fuzz_verification_never_fails(client, text):
    r = client.get("/verify", query_string={"ref": text})
    assert r.status_code in (200, 400, 404)
    if text.strip() and "/" not in text and text not in (".", ".."):
        r = client.get("/verify/" + text.replace("?", "").replace("#", "").replace("%", ""))
        assert r.status_code in (200, 308, 404)


@FUZZ
@given(st.fixed_dictionaries({}, optional={"email": st.text(max_size=300), "delegation_id": st.text(max_size=12)}))
def test_fuzz_issue_form_never_fails(app, client, data):
    sign_in(client, STAFF)
    r = client.post("/organizer/letters/issue", data=data)
    assert r.status_code in (302, 400, 404, 409), r.status_code


# --- with the demo's accounts ------------------------------------------------------------------------------------------------

def test_demo_leader_and_buyer_get_their_letters(app, client):
    with app.app_context():
        mine = db.session.scalar(select(Delegation).where(Delegation.leader_user_id == user("leader@expo.test").id)
                                 .order_by(Delegation.id).limit(1))
        theirs = db.session.scalar(select(Delegation).where(Delegation.leader_user_id == user("leader2@expo.test").id)
                                   .order_by(Delegation.id).limit(1))
        names = list(db.session.scalars(select(Buyer.name).where(Buyer.delegation_id == mine.id)))
        own = db.session.scalar(select(Buyer).where(Buyer.user_id == user("buyer@expo.test").id))
        own_name = own.name
    sign_in(client, "leader@expo.test")
    r = client.get(f"/leader/delegations/{mine.id}/letters.pdf")
    assert r.status_code == 200, r.text[:500]
    pages = pdf_pages(r.data)
    assert len(pages) >= len(names) + 1 and all(n in pages[0] for n in names)
    assert client.get(f"/leader/delegations/{theirs.id}/letters.pdf").status_code == 404
    client.post("/logout")
    sign_in(client, "buyer@expo.test")
    r = client.get("/buyer/letter.pdf")
    assert r.status_code == 200 and own_name in pdf_pages(r.data)[0]


def test_letter_actions_need_the_csrf_token(app, client, buyer_account, csrf_enabled):
    from tests.conftest import csrf_token

    page = client.get("/login").text
    client.post("/login", data={"email": STAFF, "password": "expo-demo-2026", "csrf_token": csrf_token(page)})
    assert client.get(f"/organizer/letters/buyers/{buyer_account['buyer_id']}.pdf").status_code == 200
    with app.app_context():
        letter = letters_of(buyer_id=buyer_account["buyer_id"])[0]
    assert client.post(f"/organizer/letters/{letter.id}/revoke").status_code == 400
    assert client.post(f"/organizer/letters/buyers/{buyer_account['buyer_id']}/issue").status_code == 400
    assert client.post("/organizer/letters/issue", data={"email": buyer_account["email"]}).status_code == 400
    with app.app_context():
        assert [x.revoked_at for x in letters_of(buyer_id=buyer_account["buyer_id"])] == [None]
    token = csrf_token(client.get("/organizer/letters").text)
    assert client.post(f"/organizer/letters/{letter.id}/revoke", data={"csrf_token": token}).status_code == 302


def test_links_from_the_buyer_pages(app, client, buyer_account):
    sign_in(client, STAFF)
    page = client.get(f"/organizer/buyers/{buyer_account['buyer_id']}")
    assert page.status_code == 200
    assert f"/organizer/letters/buyers/{buyer_account['buyer_id']}.pdf" in page.text
    assert f"/organizer/letters/buyers/{buyer_account['buyer_id']}/issue" in page.text
    assert "/organizer/buyers/import" in client.get("/organizer/buyers").text


def test_links_from_the_delegation_pages(app, client, delegation):
    sign_in(client, STAFF)
    page = client.get(f"/organizer/delegations/{delegation['id']}")
    assert f"/organizer/letters/delegations/{delegation['id']}.pdf" in page.text
    assert f"/organizer/delegations/{delegation['id']}/members/import" in page.text
    client.post("/logout")
    sign_in(client, delegation["leader"], PASSWORD)
    page = client.get(f"/leader/delegations/{delegation['id']}")
    assert f"/leader/delegations/{delegation['id']}/letters.pdf" in page.text
    assert f"/leader/delegations/{delegation['id']}/members/import" in page.text
