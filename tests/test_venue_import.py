"""The booth import: export → import round trip (CSV and XLSX) changes nothing; a preview lists each row's errors
and writes nothing; confirm writes every row or none; files are checked by content and size; the signed preview
field cannot be forged; and a fuzz test shows random cells only ever produce the import's own per-row errors."""

from __future__ import annotations

import csv
import io
import re

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from openpyxl import Workbook
from sqlalchemy import func, select

from expo.audit import AuditEntry
from expo.exhibitors.services import current_expo
from expo.extensions import db
from expo.venue import imports
from expo.venue.geometry import Rect
from expo.venue.models import Booth, BoothStatus, Hall
from expo.venue.services import booth_rect
from tests.conftest import csrf_token

ADMIN = "admin@expo.test"
BASE = "/organizer/venue"
HEADER = ",".join(imports.COLUMNS)


def _snapshot(app) -> dict:
    with app.app_context():
        return {b.number: (b.hall_id, b.pavilion_id, b.x_m, b.y_m, b.width_m, b.depth_m, b.raw_space, b.price_cny,
                           b.status, b.kind, b.open_sides) for b in db.session.scalars(select(Booth))}


def _upload(client, body: bytes, name: str = "booths.csv"):
    return client.post(f"{BASE}/booths/import", data={"file": (io.BytesIO(body), name)},
                       content_type="multipart/form-data")


def _confirm(client, preview_html: str):
    token = re.search(r'name="rows" type="hidden" value="([^"]+)"', preview_html) or \
        re.search(r'id="rows" name="rows" type="hidden" value="([^"]+)"', preview_html)
    assert token, "no confirm form on the preview"
    return client.post(f"{BASE}/booths/import/confirm", data={"rows": token.group(1)})


def _free_spot(app, w: float = 3, d: float = 3) -> tuple[str, float, float]:
    """A hall and a place in it where a w×d booth touches nothing (not a booth, an obstacle or the walls)."""
    with app.app_context():
        for hall in current_expo().halls:
            taken = [booth_rect(b) for b in hall.booths] + [
                Rect(o["x_m"], o["y_m"], o["width_m"], o["depth_m"]) for o in hall.obstacles]
            for y in range(2, int(hall.depth_m) - 5, 4):
                for x in range(2, int(hall.width_m) - 5, 4):
                    r = Rect(x, y, w, d)
                    if not any(r.overlaps(t) for t in taken):
                        return hall.code, float(x), float(y)
    raise AssertionError("no free spot")


def test_round_trip_csv_and_xlsx_changes_nothing(app, client, auth):
    auth.login(ADMIN)
    before = _snapshot(app)
    for fmt in ("csv", "xlsx"):
        data = client.get(f"{BASE}/booths/export.{fmt}").data
        r = _upload(client, data, f"booths.{fmt}")
        assert r.status_code == 200, r.text[:2000]
        assert f"0 new, 0 changed, {len(before)} unchanged, 0 with errors." in r.text
        r = _confirm(client, r.text)
        assert r.status_code == 302
        assert _snapshot(app) == before


def test_import_creates_and_updates_and_rederives(app, client, auth):
    auth.login(ADMIN)
    hall, x, y = _free_spot(app, 6, 3)
    with app.app_context():
        pav = current_expo().pavilions[0].code
        movable = db.session.scalars(select(Booth).where(Booth.status == BoothStatus.AVAILABLE)).first()
        old = [movable.number, movable.hall.code, movable.pavilion.code if movable.pavilion else "", movable.x_m,
               movable.y_m, movable.width_m, movable.depth_m, "no", movable.price_cny, movable.status]
    body = "\n".join([HEADER, f"NEW-1,{hall},{pav},{x},{y},3,3,no,8000,available",
                      f"NEW-2,{hall},,{x + 3},{y},3,3,no,8000,blocked",
                      ",".join(str(v) for v in [*old[:8], 12345, "blocked"])]).encode()
    r = _upload(client, body)
    assert r.status_code == 200 and "2 new, 1 changed, 0 unchanged, 0 with errors." in r.text
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Booth).where(Booth.number.like("NEW-%"))) == 0
    assert _confirm(client, r.text).status_code == 302
    with app.app_context():
        n1 = db.session.scalar(select(Booth).where(Booth.number == "NEW-1"))
        n2 = db.session.scalar(select(Booth).where(Booth.number == "NEW-2"))
        assert n1.pavilion.code == pav and n2.status == "blocked" and n2.pavilion is None
        assert "E" not in n1.open_sides and "W" not in n2.open_sides  # side by side: the shared wall is closed
        assert n1.kind == "peninsula"
        m = db.session.scalar(select(Booth).where(Booth.number == old[0]))
        assert m.price_cny == 12345 and m.status == "blocked"
        assert db.session.scalar(select(func.count()).select_from(AuditEntry)
                                 .where(AuditEntry.action == "booths_imported")) == 1


def test_preview_lists_every_rows_errors_and_writes_nothing(app, client, auth):
    auth.login(ADMIN)
    hall, x, y = _free_spot(app)
    with app.app_context():
        expo = current_expo()
        h = db.session.scalar(select(Hall).where(Hall.code == hall))
        o = h.obstacles[0]
        taken = db.session.scalars(select(Booth).where(Booth.hall_id == h.id)).first()
        width = float(h.width_m)
        assigned = db.session.scalars(select(Booth).where(Booth.status == BoothStatus.ASSIGNED)).first()
        assert expo
    rows = [
        f"OK-1,{hall},,{x},{y},3,3,no,1000,available",  # 2: fine
        f"BAD-1,ZZ,,{x},{y},3,3,no,1000,available",  # 3: unknown hall
        f"BAD-2,{hall},NOPE,1,1,3,3,no,1000,available",  # 4: unknown pavilion
        f"bad number!,{hall},,1,1,3,3,no,1000,available",  # 5: bad number
        f"BAD-4,{hall},,{taken.x_m + 1},{taken.y_m},3,3,no,1000,available",  # 6: overlaps a booth
        f"BAD-5,{hall},,{o['x_m']},{o['y_m']},3,3,no,1000,available",  # 7: on an obstacle
        f"BAD-6,{hall},,{width - 1},1,3,3,no,1000,available",  # 8: outside the hall
        f"OK-1,{hall},,{x},{y + 20},3,3,no,1000,available",  # 9: duplicate number in the file
        f"BAD-8,{hall},,1,1,-3,3,no,1000,available",  # 10: negative size
        f"BAD-9,{hall},,abc,1,3,3,no,1000,available",  # 11: not a number
        f"BAD-10,{hall},,1,1,3,3,maybe,-5,gone",  # 12: raw_space, price and status
        f"{assigned.number},{hall},,{x},{y + 10},3,3,no,1,assigned",  # 13: an assigned booth may not move
    ]
    before = _snapshot(app)
    r = _upload(client, "\n".join([HEADER, *rows]).encode())
    assert r.status_code == 422
    text = r.text.replace("&#34;", '"').replace("&#39;", "'")
    errors = dict(re.findall(r"<tr><td>(\d+)</td><td>[^<]*</td><td>(.*?)</td></tr>", text, re.S))
    assert "2" not in errors
    expected = {3: "There is no hall “ZZ”", 4: "There is no pavilion “NOPE”", 5: "is not a booth number",
                6: f"overlaps booth {taken.number}", 7: "stands on an obstacle", 8: "does not fit inside hall",
                9: "is in the file twice (also line 2)", 10: "width_m must be larger than zero",
                11: "x_m is not a number", 13: "held or assigned: vacate it"}
    for line, message in expected.items():
        assert message in errors.get(str(line), ""), (line, errors.get(str(line)))
    for message in ("raw_space must be yes or no", "price_cny must be a whole number", "no booth status “gone”"):
        assert message in errors["12"]
    assert 'name="rows"' not in r.text and "Nothing will be imported" in r.text
    assert _snapshot(app) == before


def test_confirm_is_all_or_nothing(app, client, auth):
    """The preview was clean, then the expo changed (a booth appeared where row 3 goes): confirm re-validates and
    imports none of the rows."""
    auth.login(ADMIN)
    hall, x, y = _free_spot(app, 9, 3)
    body = "\n".join([HEADER, f"AON-1,{hall},,{x},{y},3,3,no,1,available",
                      f"AON-2,{hall},,{x + 6},{y},3,3,no,1,available"]).encode()
    r = _upload(client, body)
    assert r.status_code == 200
    with app.app_context():
        h = db.session.scalar(select(Hall).where(Hall.code == hall))
        db.session.add(Booth(expo_id=h.expo_id, hall=h, number="INTRUDER", x_m=x + 6, y_m=y, width_m=3, depth_m=3))
        db.session.commit()
    before = _snapshot(app)
    r = _confirm(client, r.text)
    assert r.status_code == 400 and "nothing was imported" in r.text and "overlaps booth INTRUDER" in r.text
    assert _snapshot(app) == before


def test_apply_refuses_a_plan_with_any_bad_row(ctx):
    expo = current_expo()
    hall = expo.halls[0]
    plan = imports.plan_import(expo, [["GOOD-1", hall.code, "", "0.5", "0.5", "1", "1", "no", "0", "available"],
                                      ["BAD", "nohall", "", "1", "1", "1", "1", "no", "0", "available"]])
    assert not plan.ok and len(plan.bad_rows) == 1
    try:
        imports.apply_import(None, expo, plan)
    except imports.ImportError_ as exc:
        assert exc.code == "rows_invalid"
    else:
        raise AssertionError("a plan with a bad row was applied")
    assert db.session.scalar(select(Booth).where(Booth.number == "GOOD-1")) is None


def _xlsx(rows: list[list]) -> bytes:
    wb = Workbook()
    ws = wb.active
    ws.append(list(imports.COLUMNS))
    for row in rows:
        ws.append(row)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def test_xlsx_upload_with_numbers_as_numbers(app, client, auth):
    auth.login(ADMIN)
    hall, x, y = _free_spot(app)
    r = _upload(client, _xlsx([["X-1", hall, None, x, y, 3, 3, False, 5000, "available"]]), "list.xlsx")
    assert r.status_code == 200 and "1 new, 0 changed" in r.text
    assert _confirm(client, r.text).status_code == 302
    with app.app_context():
        b = db.session.scalar(select(Booth).where(Booth.number == "X-1"))
        assert (b.x_m, b.y_m, b.price_cny, b.raw_space) == (x, y, 5000, False)


PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00\x1f\x15\xc4\x89"


def test_files_that_are_not_booth_lists_are_refused(app, client, auth):
    auth.login(ADMIN)
    cases = [(PNG, "booths.csv", "neither a CSV file in UTF-8 nor an XLSX workbook"),
             (b"<!doctype html><html><body>hi</body></html>", "booths.csv", "This is not a booth list"),
             (b"PK\x03\x04 not really a zip", "booths.xlsx", "neither a CSV file in UTF-8 nor an XLSX workbook"),
             (b"", "booths.csv", "empty"),
             ("number;hall\n".encode("utf-16"), "booths.csv", "neither a CSV file in UTF-8")]
    before = _snapshot(app)
    for body, name, message in cases:
        r = _upload(client, body, name)
        assert r.status_code == 400, (name, r.status_code)
        assert message in r.text.replace("&#39;", "'"), (name, message)
    assert _upload(client, b"", "x").status_code == 400
    assert _snapshot(app) == before


def test_oversize_upload_refused(app, client, auth):
    auth.login(ADMIN)
    app.config["BOOTH_IMPORT_MAX_BYTES"] = 1000
    try:
        body = (HEADER + "\n" + "\n".join(f"Z-{i},A1,,1,1,1,1,no,0,available" for i in range(100))).encode()
        r = _upload(client, body)
        assert r.status_code == 413 and "larger than" in r.text
    finally:
        app.config.pop("BOOTH_IMPORT_MAX_BYTES")
    # A body over the request limit itself is refused by Werkzeug before any view (tests/test_uploads.py).


def test_forged_or_tampered_preview_refused(app, client, auth):
    auth.login(ADMIN)
    with app.app_context():
        hall = current_expo().halls[0].code
    forged = imports.sign_rows("not-the-secret", [["F-1", hall, "", "0", "0", "1", "1", "no", "0", "available"]])
    r = client.post(f"{BASE}/booths/import/confirm", data={"rows": forged})
    assert r.status_code == 400 and "expired or was changed" in r.text
    assert client.post(f"{BASE}/booths/import/confirm", data={}).status_code == 400
    with app.app_context():
        assert db.session.scalar(select(Booth).where(Booth.number == "F-1")) is None


def test_import_pages_need_an_organizer_and_csrf(app, client, auth, csrf_enabled):
    page = client.get("/login").text
    client.post("/login", data={"email": "exhibitor@expo.test", "password": "expo-demo-2026",
                                "csrf_token": csrf_token(page)})
    assert client.get(f"{BASE}/booths/import").status_code == 403
    assert client.post(f"{BASE}/booths/import/confirm", data={"rows": "x"}).status_code in (400, 403)
    client = app.test_client()  # a fresh browser for the organizer
    page = client.get("/login").text
    client.post("/login", data={"email": ADMIN, "password": "expo-demo-2026", "csrf_token": csrf_token(page)})
    body = client.get(f"{BASE}/booths/export.csv").data
    r = _upload(client, body)  # no token
    assert r.status_code == 400 and "unchanged" not in r.text
    token = csrf_token(client.get(f"{BASE}/booths/import").text)
    r = client.post(f"{BASE}/booths/import", data={"file": (io.BytesIO(body), "b.csv"), "csrf_token": token},
                    content_type="multipart/form-data")
    assert r.status_code == 200 and "0 new, 0 changed" in r.text
    rows = re.search(r'name="rows" type="hidden" value="([^"]+)"', r.text).group(1)
    assert client.post(f"{BASE}/booths/import/confirm", data={"rows": rows}).status_code == 400  # no token


# --- fuzz -----------------------------------------------------------------------------------------------------------

cell = st.one_of(st.text(max_size=12), st.sampled_from(["", "A1", "B1", "C2", "0", "-1", "1e308", "nan", "inf",
                                                        "3", "3.5", "yes", "no", "available", "assigned", "held",
                                                        "blocked", "A1-001", "１２", "\x00", "=1+1"]),
                 st.integers(-10**6, 10**6).map(str), st.floats(allow_nan=True).map(str))
FUZZ = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                       HealthCheck.too_slow])


@FUZZ
@given(st.lists(st.lists(cell, max_size=12), max_size=6))
def test_fuzz_plan_import_only_reports_row_errors(ctx, rows):
    expo = current_expo()
    plan = imports.plan_import(expo, rows)
    assert len(plan.rows) == len(rows)
    for r in plan.rows:
        assert all(isinstance(e, str) and e for e in r.errors)
        if not r.errors:
            assert r.action in ("new", "changed", "unchanged")
    db.session.rollback()


@FUZZ
@given(st.binary(max_size=300) | st.lists(st.lists(cell, max_size=11), max_size=4).map(
    lambda rows: "\n".join([",".join(imports.COLUMNS), *(",".join(csv_quote(c) for c in r) for r in rows)]).encode()))
def test_fuzz_read_table_only_raises_its_own_error(ctx, body):
    try:
        rows = imports.read_table(io.BytesIO(body), 10_000)
    except imports.ImportError_ as exc:
        assert str(exc.message)
        return
    assert all(isinstance(c, str) for r in rows for c in r)
    imports.plan_import(current_expo(), rows)
    db.session.rollback()


def csv_quote(value: str) -> str:
    buf = io.StringIO()
    csv.writer(buf).writerow([value])
    return buf.getvalue().rstrip("\r\n")
