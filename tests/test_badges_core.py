"""Badge codes, issuing, reissuing, the renderer and batch print jobs — read back as a scanner and a reader would."""

from __future__ import annotations

import base64
import io
import shutil
import subprocess

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pypdf import PdfReader
from reportlab.lib.units import mm
from sqlalchemy import func, select

from expo.audit import AuditEntry
from expo.badges import codes, keys, layouts, printing, render, services
from expo.badges.models import Badge, BadgePrint, BadgeStatus, PrintJob
from expo.buyers.models import Buyer
from expo.exhibitors.models import Exhibitor, ExhibitorStaff
from expo.exhibitors.services import current_expo
from expo.extensions import db
from expo.pdf.qr import qr_matrix

zxingcpp = pytest.importorskip("zxingcpp")

KEY = Ed25519PrivateKey.generate()
PUBLIC = {7: KEY.public_key()}
CODE = codes.encode(KEY, 7, 123_456, 2, 5)


def test_code_round_trip_and_size():
    assert len(CODE) == codes.CODE_LENGTH == 117
    assert set(CODE) <= set("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567")  # QR alphanumeric mode
    claim = codes.verify(CODE, PUBLIC)
    assert (claim.key_id, claim.badge_id, claim.serial, claim.badge_type_id) == (7, 123_456, 2, 5)
    assert codes.verify(f"  {CODE.lower()}\n", PUBLIC) == claim  # what a wedge scanner or a phone may send
    matrix = qr_matrix(CODE, "M", mask=services.QR_MASK)
    assert len(matrix) <= 41  # version 6 or smaller: prints small, scans fast


@settings(max_examples=200, deadline=None)
@given(st.integers(0, codes.CODE_LENGTH - 1), st.sampled_from("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"))
def test_any_changed_character_is_refused(position, char):
    if CODE[position] == char:
        return
    forged = CODE[:position] + char + CODE[position + 1:]
    with pytest.raises(codes.InvalidCode):
        codes.verify(forged, PUBLIC)


@settings(max_examples=100, deadline=None)
@given(st.text(max_size=200))
def test_garbage_is_refused_not_crashing(text):
    with pytest.raises(codes.InvalidCode):
        codes.verify(text, PUBLIC)


def test_the_spare_bit_of_the_last_character_makes_no_second_code():
    """117 characters carry 585 bits for 584: the last character's low bit is spare. Set, the text decodes to the
    same bytes, but it is not the badge's code (the log and duplicate checks compare codes as text)."""
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"
    assert alphabet.index(CODE[-1]) % 2 == 0
    twin = CODE[:-1] + alphabet[alphabet.index(CODE[-1]) + 1]
    with pytest.raises(codes.InvalidCode) as malformed:
        codes.verify(twin, PUBLIC)
    assert malformed.value.reason == "malformed"


def test_peek_reads_the_claim_without_believing_it():
    assert codes.peek(CODE) == codes.verify(CODE, PUBLIC)
    assert codes.peek(f" {CODE.lower()}") == codes.verify(CODE, PUBLIC)
    forged = CODE[:60] + ("A" if CODE[60] != "A" else "B") + CODE[61:]
    assert codes.peek(forged).badge_id == 123_456  # peek checks nothing: verify refuses it
    for garbage in ("", "NOT-A-BADGE", "1" * 117, CODE[:15]):
        assert codes.peek(garbage) is None


def test_other_key_and_unknown_key_are_refused():
    other = Ed25519PrivateKey.generate()
    with pytest.raises(codes.InvalidCode) as bad:
        codes.verify(codes.encode(other, 7, 1, 1, 1), PUBLIC)
    assert bad.value.reason == "bad_signature"
    with pytest.raises(codes.InvalidCode) as unknown:
        codes.verify(codes.encode(KEY, 8, 1, 1, 1), PUBLIC)
    assert unknown.value.reason == "unknown_key"


def test_modules_pack_and_unpack():
    matrix = qr_matrix(CODE, "M", mask=services.QR_MASK)
    assert services.unpack_modules(services.pack_modules(matrix)) == matrix


def _staff_badge(ctx) -> Badge:
    expo = current_expo()
    member, exhibitor = db.session.execute(select(ExhibitorStaff, Exhibitor).join(Exhibitor).limit(1)).one()
    return services.issue_for(None, expo, services.holder_of_staff(member, exhibitor))


def test_issue_is_idempotent_and_signed_with_the_expo_key(ctx):
    badge = _staff_badge(ctx)
    again = _staff_badge(ctx)
    assert again.id == badge.id
    claim = codes.verify(badge.code, keys.public_keys(current_expo()))
    assert (claim.badge_id, claim.serial, claim.badge_type_id) == (badge.id, 1, badge.badge_type_id)
    assert badge.badge_type.code == "EXH"
    assert len(badge.confirmation) == 8
    assert db.session.scalar(select(func.count()).select_from(AuditEntry).where(
        AuditEntry.action == "badge_issued")) == 1


def test_private_key_is_stored_encrypted(ctx, app):
    key = keys.active_key(current_expo())
    assert b"ENCRYPTED PRIVATE KEY" in key.private_key_encrypted
    assert keys.private_key(key).public_key().public_bytes_raw() == key.public_key
    exported = keys.public_keys_b64(current_expo())
    assert base64.b64decode(exported[str(key.id)]) == key.public_key


def test_reissue_gives_a_new_code_and_the_old_serial_is_behind(ctx):
    badge = _staff_badge(ctx)
    old_code = badge.code
    with pytest.raises(services.BadgeError):
        services.revoke_and_reissue(None, badge, "   ")
    services.revoke_and_reissue(None, badge, "lost at the hotel")
    assert badge.code != old_code and badge.serial == 2 and badge.status == BadgeStatus.ACTIVE
    old_claim = codes.verify(old_code, keys.public_keys(current_expo()))
    assert old_claim.serial < badge.serial  # the gate refuses the old one: its serial is behind
    services.revoke(None, badge, "no longer comes")
    assert badge.status == BadgeStatus.REVOKED
    with pytest.raises(services.BadgeError):
        services.reprint(None, badge, "again")


def test_reprint_needs_a_reason_and_is_counted(ctx):
    badge = _staff_badge(ctx)
    services.reprint(None, badge, "")  # the first print needs none
    with pytest.raises(services.BadgeError):
        services.reprint(None, badge, "")
    services.reprint(None, badge, "coffee on it")
    assert badge.print_count == 2
    reasons = db.session.scalars(select(BadgePrint.reason).where(BadgePrint.badge_id == badge.id)).all()
    assert sorted(reasons) == ["", "coffee on it"]


def test_print_desk_search(ctx):
    badge = _staff_badge(ctx)
    expo = current_expo()
    assert services.find(expo, badge.confirmation.lower())[0].id == badge.id
    assert services.find(expo, badge.code)[0].id == badge.id
    assert badge.id in [b.id for b in services.find(expo, badge.name[:3])]
    assert services.find(expo, "%") == [] or all(b.expo_id == expo.id for b in services.find(expo, "%"))


def _decode_pages(pdf: bytes, tmp_path, dpi: int = 200):
    """Every QR code on every page, as zxing-cpp reads it from the rendered page images."""
    if shutil.which("pdftoppm") is None:
        pytest.skip("poppler-utils (pdftoppm) is not installed")
    from PIL import Image

    src = tmp_path / "badges.pdf"
    src.write_bytes(pdf)
    subprocess.run(["pdftoppm", "-r", str(dpi), "-png", str(src), str(tmp_path / "page")], check=True)
    found = []
    for image in sorted(tmp_path.glob("page-*.png")):
        found.extend(r.text for r in zxingcpp.read_barcodes(Image.open(image)))
    return found


@pytest.mark.parametrize("preset", sorted(layouts.PRESETS))
def test_every_layout_prints_readable_badges(ctx, tmp_path, preset):
    expo = current_expo()
    buyer = db.session.scalar(select(Buyer).limit(1))
    buyer.name, buyer.name_native, buyer.company = "Aleksandr Konstantinovich Rimsky-Korsakov", "欧阳建华", \
        "Jinjiang International Footwear Trading Company Limited 晋江国际鞋业贸易有限公司"
    badges = [services.issue_for(None, expo, services.holder_of_buyer(buyer)), _staff_badge(ctx)]
    pdf = printing.pdf_of(expo, badges, layout=preset)
    reader = PdfReader(io.BytesIO(pdf))
    layout = layouts.PRESETS[preset]
    assert len(reader.pages) == -(-len(badges) // layout.per_page)
    page = reader.pages[0]
    assert (round(float(page.mediabox.width) / mm, 1), round(float(page.mediabox.height) / mm, 1)) == \
        (round(layout.page[0], 1), round(layout.page[1], 1))
    text = "\n".join(p.extract_text() for p in reader.pages)
    assert "欧阳建华" in text and "采购商" in text and "展商" in text
    assert "Rimsky-Korsakov" in text.replace("\n", " ")
    assert badges[0].confirmation in text
    decoded = _decode_pages(pdf, tmp_path)
    assert sorted(decoded) == sorted(b.code for b in badges)
    public = keys.public_keys(expo)
    assert sorted(codes.verify(c, public).badge_id for c in decoded) == sorted(b.id for b in badges)


def test_long_names_shrink_and_stay_inside():
    measure = render._Measure(render.cjk_font())
    layout = layouts.PRESETS["label62"]
    card = render.BadgeCard(name="Wolfeschlegelsteinhausenbergerdorff Hubert Blaine " * 3, type_label="X",
                            colour="#000000", qr=qr_matrix(CODE, "M", mask=services.QR_MASK), confirmation="X",
                            layout="label62")
    pdf = render.render([card], {"label62": layout})
    assert PdfReader(io.BytesIO(pdf)).pages[0].extract_text()  # drawn, cut with an ellipsis rather than overflow
    assert measure.width("Wolfeschlegelsteinhausenbergerdorff", True) > 0


def test_batch_job_for_a_delegation_runs_with_progress(ctx, app):
    expo = current_expo()
    delegation_id = db.session.scalar(select(Buyer.delegation_id).where(Buyer.delegation_id.is_not(None)).limit(1))
    if delegation_id is None:
        pytest.skip("the demo has no delegation")
    members = db.session.scalar(select(func.count()).select_from(Buyer).where(Buyer.delegation_id == delegation_id))
    job = printing.create_job(None, expo, {"delegation_id": delegation_id})
    db.session.commit()
    printing.run_job(job.id)
    job = db.session.get(PrintJob, job.id)
    assert job.status == "done", job.error
    assert job.total == job.done == members
    reader = PdfReader(io.BytesIO(job.pdf))
    assert len(reader.pages) == members
    badges = db.session.scalars(select(Badge).where(Badge.delegation_id == delegation_id)).all()
    assert len(badges) == members and all(b.print_count == 1 for b in badges)
    assert {b.badge_type.code for b in badges} == {"DEL"}


def test_bad_selection_and_layout_are_refused(ctx):
    expo = current_expo()
    with pytest.raises(printing.PrintError):
        printing.create_job(None, expo, {})
    with pytest.raises(printing.PrintError):
        printing.create_job(None, expo, {"badge_ids": [1]}, layout="poster")


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(name=st.text(min_size=1, max_size=120), company=st.text(max_size=200))
def test_renderer_never_fails_on_any_name(name, company):
    card = render.BadgeCard(name=name, company=company, name_native=name[::-1], type_label="展商 EXHIBITOR",
                            colour="#1f6feb", qr=qr_matrix(CODE, "M", mask=services.QR_MASK), confirmation="ABCD2345")
    assert render.render([card], layouts.PRESETS)[:5] == b"%PDF-"
