"""The organizer's badge pages: badge types with their layout preview, the badge list and its exports, batch
printing as a background job (started on the web, followed through its JSON state, downloaded and read back: page
count, printed names, QR codes decoded and verified), failures and restarts, who may do what, the ``flask badges``
commands, and hypothesis fuzzing of the forms and query parameters.

Jobs run in the real background thread unless a test sets ``JOBS_INLINE``; after every test the worker is drained
(:func:`_drain_jobs`), so no thread writes into the next test's data.
"""

from __future__ import annotations

import base64
import csv
import io
import re
import time

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from openpyxl import load_workbook
from pypdf import PdfReader
from reportlab.lib.units import mm
from sqlalchemy import func, select

from expo import jobs
from expo.audit import AuditEntry
from expo.badges import admin_views, codes, keys, layouts, printing, services
from expo.badges.models import Badge, BadgeStatus, BadgeType, PrintJob
from expo.buyers.models import Buyer, Delegation
from expo.db import utcnow
from expo.exhibitors.services import current_expo
from expo.extensions import db
from expo.jobs import STALE_AFTER
from expo.venue.models import Hall

ADMIN = "admin@expo.test"
FUZZ = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                      HealthCheck.too_slow])


@pytest.fixture(autouse=True)
def _drain_jobs(app):
    """Wait for the job worker to finish whatever a test started (it runs one job at a time, in order)."""
    yield
    with app.app_context():
        if not app.config.get("JOBS_INLINE"):
            jobs.submit(lambda: None).result(timeout=300)


@pytest.fixture
def inline(app, monkeypatch):
    monkeypatch.setitem(app.config, "JOBS_INLINE", True)


def _delegation(app) -> tuple[int, list[str]]:
    """The demo's first delegation: its id and its members' names."""
    with app.app_context():
        delegation = db.session.scalar(select(Delegation).order_by(Delegation.id))
        names = list(db.session.scalars(select(Buyer.name).where(Buyer.delegation_id == delegation.id)
                                        .order_by(Buyer.id)))
        return delegation.id, names


def _type(app, code: str) -> dict:
    with app.app_context():
        t = services.ensure_types(current_expo())[code]
        db.session.commit()
        return {"id": t.id, "code": t.code, "colour": t.colour, "layout": t.layout, "areas": list(t.areas),
                "days": list(t.days), "name_zh": t.name_zh, "name_en": t.name_en}


def _wait(client, job_id: int, timeout: float = 120) -> dict:
    """Poll the job's JSON state as the page does, until it is done or failed."""
    deadline = time.monotonic() + timeout
    seen = []
    while True:
        r = client.get(f"/organizer/badges/jobs/{job_id}.json")
        assert r.status_code == 200 and r.headers["Cache-Control"] == "no-store"
        state = r.get_json()
        seen.append(state["status"])
        if state["status"] in ("done", "failed"):
            state["seen"] = seen
            return state
        assert time.monotonic() < deadline, f"job {job_id} did not finish: {state}"
        time.sleep(0.1)


def _job_id(response) -> int:
    assert response.status_code == 302, response.get_data(as_text=True)[:2000]
    match = re.search(r"/organizer/badges/jobs/(\d+)$", response.location)
    assert match, response.location
    return int(match.group(1))


# --- badge types ------------------------------------------------------------------------------------------------------

def _type_form(t: dict, **changes) -> dict:
    data = {"name_zh": t["name_zh"], "name_en": t["name_en"], "colour": t["colour"], "layout": t["layout"],
            "areas": t["areas"], "days": t["days"], "sort": "0"}
    data.update(changes)
    return data


def test_types_list_shows_the_defaults_and_an_edit_is_saved_and_audited(app, client, auth):
    auth.login(ADMIN)
    r = client.get("/organizer/badges/types")
    assert r.status_code == 200
    html = r.get_data(as_text=True)
    for code in ("EXH", "BUY", "DEL", "VIS", "PRS", "ORG", "CON"):
        assert f'id="type-{code}"' in html
    vis = _type(app, "VIS")
    with app.app_context():
        expo = current_expo()
        hall = db.session.scalars(select(Hall.code).where(Hall.expo_id == expo.id).order_by(Hall.code)).first()
        build_up = services.admission_days(expo)[0].isoformat()
        first_day = expo.starts_on.isoformat()
    page = client.get(f"/organizer/badges/types/{vis['id']}")
    assert page.status_code == 200 and "preview.pdf" in page.get_data(as_text=True)
    assert "(build-up)" in page.get_data(as_text=True)
    r = client.post(f"/organizer/badges/types/{vis['id']}", data=_type_form(
        vis, name_en="Trade visitor", colour="#AA3300", layout="cr80", areas=[hall], days=[build_up, first_day],
        sort="5"))
    assert r.status_code == 302, r.get_data(as_text=True)
    with app.app_context():
        t = db.session.get(BadgeType, vis["id"])
        assert (t.name_en, t.colour, t.layout, t.areas, t.days, t.sort) == \
            ("Trade visitor", "#aa3300", "cr80", [hall], sorted([build_up, first_day]), 5)
        entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "badge_type_updated"))
        assert entry.changes["layout"] == ["label62", "cr80"] and entry.changes["code"] == "VIS"
    # Nothing ticked: every hall and every day again.
    r = client.post(f"/organizer/badges/types/{vis['id']}", data=_type_form(vis, areas=[], days=[]))
    assert r.status_code == 302
    with app.app_context():
        assert db.session.get(BadgeType, vis["id"]).areas == []


@pytest.mark.parametrize("field, value", [("colour", "#12345"), ("colour", "red"), ("colour", "#12345g"),
                                          ("layout", "poster"), ("areas", ["ZZ9"]), ("days", ["1999-01-01"]),
                                          ("name_zh", "  "), ("sort", "99999"), ("sort", "abc"),
                                          ("name_en", "x" * 101)])
def test_type_edit_refuses_bad_values_and_changes_nothing(app, client, auth, field, value):
    auth.login(ADMIN)
    exh = _type(app, "EXH")
    r = client.post(f"/organizer/badges/types/{exh['id']}", data=_type_form(exh, **{field: value}))
    assert r.status_code == 400
    assert 'class="error"' in r.get_data(as_text=True)
    assert _type(app, "EXH") == exh
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(AuditEntry).where(
            AuditEntry.action == "badge_type_updated")) == 0


def test_a_new_type_is_created_with_a_unique_code(app, client, auth):
    auth.login(ADMIN)
    base = {"name_zh": "贵宾", "name_en": "VIP", "colour": "#d4af37", "layout": "cr80", "sort": "9"}
    assert client.get("/organizer/badges/types/new").status_code == 200
    for bad in ("", "VI P", "vip!", "X" * 17, "贵宾"):
        r = client.post("/organizer/badges/types/new", data={**base, "code": bad})
        assert r.status_code == 400, bad
    r = client.post("/organizer/badges/types/new", data={**base, "code": "vip2"})
    assert r.status_code == 302
    with app.app_context():
        t = db.session.scalar(select(BadgeType).where(BadgeType.code == "VIP2"))
        assert t is not None and t.layout == "cr80" and t.colour == "#d4af37"
        assert db.session.scalar(select(func.count()).select_from(AuditEntry).where(
            AuditEntry.action == "badge_type_created")) == 1
    r = client.post("/organizer/badges/types/new", data={**base, "code": "VIP2"})
    assert r.status_code == 409 and "already" in r.get_data(as_text=True)
    r = client.post("/organizer/badges/types/new", data={**base, "code": "EXH"})  # a default's code
    assert r.status_code == 409
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(BadgeType).where(BadgeType.code == "VIP2")) == 1


@pytest.mark.parametrize("preset", sorted(layouts.PRESETS))
def test_the_preview_is_a_pdf_of_sample_badges_on_the_layout(app, client, auth, preset):
    auth.login(ADMIN)
    dele = _type(app, "DEL")
    r = client.get(f"/organizer/badges/types/{dele['id']}/preview.pdf?layout={preset}")
    assert r.status_code == 200 and r.mimetype == "application/pdf"
    assert r.headers["X-Frame-Options"] == "SAMEORIGIN"  # shown inside the type's page
    reader = PdfReader(io.BytesIO(r.data))
    layout = layouts.PRESETS[preset]
    assert len(reader.pages) == -(-2 // layout.per_page)
    page = reader.pages[0]
    assert (round(float(page.mediabox.width) / mm, 1), round(float(page.mediabox.height) / mm, 1)) == \
        (round(layout.page[0], 1), round(layout.page[1], 1))
    text = " ".join(p.extract_text() for p in reader.pages).replace("\n", " ")
    assert "Maria Santos" in text and "欧阳建华" in text and "采购团" in text
    assert "Companhia" in text  # the long company name, fitted


def test_the_preview_as_a_picture_and_unknown_layouts(app, client, auth):
    auth.login(ADMIN)
    exh = _type(app, "EXH")
    assert client.get(f"/organizer/badges/types/{exh['id']}/preview.pdf?layout=poster").status_code == 404
    assert client.get("/organizer/badges/types/999999/preview.pdf").status_code == 404
    r = client.get(f"/organizer/badges/types/{exh['id']}/preview.png?layout=label62")
    if r.status_code == 404:
        pytest.skip("poppler-utils (pdftoppm) is not installed")
    assert r.status_code == 200 and r.data[:8] == b"\x89PNG\r\n\x1a\n"
    # The type's page shows the chosen layout's preview.
    html = client.get(f"/organizer/badges/types/{exh['id']}?layout=a4x4").get_data(as_text=True)
    assert "preview.pdf?layout=a4x4" in html


# --- the badge list -------------------------------------------------------------------------------------------------

def _issue_some(app) -> dict:
    """Badges for the first delegation and for one exhibitor's staff; one of them printed, one revoked."""
    with app.app_context():
        expo = current_expo()
        delegation_id = db.session.scalar(select(Delegation.id).order_by(Delegation.id))
        members = printing.resolve(None, expo, {"delegation_id": delegation_id})
        exhibitor_id = db.session.scalar(select(Badge.exhibitor_id).limit(1)) or \
            db.session.scalar(select(printing.ExhibitorStaff.exhibitor_id).limit(1))
        staff = printing.resolve(None, expo, {"exhibitor_id": exhibitor_id})
        services.record_print(None, [members[0]])
        services.revoke(None, members[1], "left the delegation")
        db.session.commit()
        return {"delegation_id": delegation_id, "members": [b.id for b in members], "staff": [b.id for b in staff],
                "printed": members[0].id, "revoked": members[1].id, "exhibitor_id": exhibitor_id,
                "names": {b.id: b.name for b in members + staff}, "codes": [b.code for b in members + staff],
                "confirmations": [b.confirmation for b in members + staff],
                "del_type": members[0].badge_type_id}


def _listed(html: str) -> set[int]:
    return {int(i) for i in re.findall(r'name="badge_ids" value="(\d+)"', html)}


def test_badge_list_filters(app, client, auth):
    some = _issue_some(app)
    auth.login(ADMIN)
    everyone = set(some["members"]) | set(some["staff"])
    assert _listed(client.get("/organizer/badges").get_data(as_text=True)) == everyone
    assert _listed(client.get(f"/organizer/badges?delegation_id={some['delegation_id']}").get_data(
        as_text=True)) == set(some["members"])
    assert _listed(client.get(f"/organizer/badges?badge_type_id={some['del_type']}").get_data(
        as_text=True)) == set(some["members"])
    assert _listed(client.get(f"/organizer/badges?exhibitor_id={some['exhibitor_id']}").get_data(
        as_text=True)) == set(some["staff"])
    assert _listed(client.get("/organizer/badges?holder_kind=exhibitor_staff").get_data(as_text=True)) == \
        set(some["staff"])
    assert _listed(client.get("/organizer/badges?printed=yes").get_data(as_text=True)) == {some["printed"]}
    assert some["printed"] not in _listed(client.get("/organizer/badges?printed=no").get_data(as_text=True))
    assert _listed(client.get("/organizer/badges?status=revoked").get_data(as_text=True)) == {some["revoked"]}
    name = some["names"][some["members"][2]]
    found = _listed(client.get("/organizer/badges", query_string={"q": name}).get_data(as_text=True))
    assert some["members"][2] in found and len(found) < len(everyone)
    assert _listed(client.get("/organizer/badges", query_string={"q": "%_%"}).get_data(as_text=True)) == set()
    r = client.get("/organizer/badges?per_page=2&page=2")
    assert r.status_code == 200 and len(_listed(r.get_data(as_text=True))) == 2
    for bad in ("page=0", "per_page=999", "badge_type_id=abc", "delegation_id=99999999", "status=lost",
                "printed=maybe", "exhibitor_id=-4"):
        assert client.get(f"/organizer/badges?{bad}").status_code == 400, bad


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_badge_list_exports_carry_no_codes(app, client, auth, fmt):
    some = _issue_some(app)
    auth.login(ADMIN)
    r = client.get(f"/organizer/badges/export.{fmt}?delegation_id={some['delegation_id']}")
    assert r.status_code == 200 and r.headers["Content-Disposition"].startswith("attachment")
    if fmt == "csv":
        text = r.data.decode("utf-8-sig")
        rows = list(csv.reader(io.StringIO(text)))
    else:
        ws = load_workbook(io.BytesIO(r.data)).active
        rows = [["" if v is None else str(v) for v in row] for row in ws.iter_rows(values_only=True)]
        text = "\n".join(",".join(row) for row in rows)
    assert rows[0] == list(services.EXPORT_HEADERS)
    assert sorted(int(row[0]) for row in rows[1:]) == sorted(some["members"])
    assert all(code not in text for code in some["codes"])
    assert all(confirmation not in text for confirmation in some["confirmations"])
    assert client.get("/organizer/badges/export.pdf").status_code == 404
    assert client.get("/organizer/badges/export.csv?page=-1").status_code == 400


# --- batch printing through the web -----------------------------------------------------------------------------------

def _read_back(pdf: bytes, tmp_path, app) -> tuple[PdfReader, list[int]]:
    """The PDF's pages, and the badge ids of every QR code on them, each decoded and verified."""
    from tests.test_badges_core import _decode_pages

    reader = PdfReader(io.BytesIO(pdf))
    decoded = _decode_pages(pdf, tmp_path, dpi=150)
    with app.app_context():
        public = keys.public_keys(current_expo())
        return reader, [codes.verify(c, public).badge_id for c in decoded]


def test_a_delegation_printed_in_the_background_with_progress(app, client, auth, tmp_path):
    delegation_id, names = _delegation(app)
    auth.login(ADMIN)
    form = client.get(f"/organizer/badges/print?delegation_id={delegation_id}").get_data(as_text=True)
    assert f'<option selected value="{delegation_id}">' in form
    r = client.post("/organizer/badges/print", data={"by": "delegation", "delegation_id": delegation_id,
                                                     "layout": ""})
    job_id = _job_id(r)
    page = client.get(f"/organizer/badges/jobs/{job_id}")
    assert page.status_code == 200 and 'id="job-progress"' in page.get_data(as_text=True)
    state = _wait(client, job_id)
    assert state["status"] == "done", state
    assert state["done"] == state["total"] == len(names) and state["percent"] == 100
    html = client.get(f"/organizer/badges/jobs/{job_id}").get_data(as_text=True)
    assert f"/organizer/badges/jobs/{job_id}.pdf" in html and 'http-equiv="refresh"' not in html
    pdf = client.get(state["pdf"])
    assert pdf.status_code == 200 and pdf.mimetype == "application/pdf"
    reader, badge_ids = _read_back(pdf.data, tmp_path, app)
    assert len(reader.pages) == len(names)
    text = " ".join(p.extract_text() for p in reader.pages).replace("\n", " ")
    assert all(name in text for name in names)
    with app.app_context():
        members = db.session.scalars(select(Badge).where(Badge.delegation_id == delegation_id)).all()
        assert sorted(badge_ids) == sorted(b.id for b in members)
        assert all(b.print_count == 1 for b in members)
        job = db.session.get(PrintJob, job_id)
        assert job.title.endswith(db.session.get(Delegation, delegation_id).name)
    jobs_page = client.get("/organizer/badges/jobs").get_data(as_text=True)
    assert f'id="job-{job_id}"' in jobs_page


def test_while_a_job_runs_the_page_refreshes_itself_without_javascript(app, client, auth, monkeypatch):
    auth.login(ADMIN)
    monkeypatch.setattr(admin_views, "_start", lambda job: None)  # left queued
    delegation_id, _names = _delegation(app)
    job_id = _job_id(client.post("/organizer/badges/print", data={"by": "delegation",
                                                                  "delegation_id": delegation_id}))
    html = client.get(f"/organizer/badges/jobs/{job_id}").get_data(as_text=True)
    assert '<meta http-equiv="refresh" content="2">' in html and "badge_jobs.js" in html
    assert client.get(f"/organizer/badges/jobs/{job_id}.json").get_json() == {
        "id": job_id, "status": "queued", "done": 0, "total": 0, "percent": 0, "error": "", "pdf": None}
    assert client.get(f"/organizer/badges/jobs/{job_id}.pdf").status_code == 404


def test_other_selections_and_a_layout_override(app, client, auth, inline, tmp_path):
    some = _issue_some(app)
    auth.login(ADMIN)
    # Ticked in the list, four to a sheet of A4.
    ticked = some["staff"][:3] + some["members"][2:4]
    r = client.post("/organizer/badges/print", data={"by": "selection", "badge_ids": ticked, "layout": "a4x4"})
    state = client.get(f"/organizer/badges/jobs/{_job_id(r)}.json").get_json()
    assert state["status"] == "done" and state["total"] == len(ticked)
    reader, ids = _read_back(client.get(state["pdf"]).data, tmp_path, app)
    assert len(reader.pages) == 2 and sorted(ids) == sorted(ticked)
    # By badge type: the issued badges of the type, the revoked one left out.
    r = client.post("/organizer/badges/print", data={"by": "badge_type", "badge_type_id": some["del_type"]})
    state = client.get(f"/organizer/badges/jobs/{_job_id(r)}.json").get_json()
    assert state["total"] == len(some["members"]) - 1
    # By pavilion, and everyone of a kind.
    with app.app_context():
        pavilion_id = current_expo().pavilions[0].id
    r = client.post("/organizer/badges/print", data={"by": "pavilion", "pavilion_id": pavilion_id})
    assert client.get(f"/organizer/badges/jobs/{_job_id(r)}.json").get_json()["status"] == "done"
    r = client.post("/organizer/badges/print", data={"by": "holder_kind", "holder_kind": "organizer"})
    state = client.get(f"/organizer/badges/jobs/{_job_id(r)}.json").get_json()
    assert state["status"] == "done" and state["total"] >= 2
    # Everything the filtered list shows.
    r = client.post(f"/organizer/badges/print-listed?delegation_id={some['delegation_id']}&status=active")
    state = client.get(f"/organizer/badges/jobs/{_job_id(r)}.json").get_json()
    assert state["total"] == len(some["members"]) - 1
    r = client.post("/organizer/badges/print-listed?q=nobody-has-this-name")
    assert r.status_code == 302 and r.location.endswith("/organizer/badges?q=nobody-has-this-name")


@pytest.mark.parametrize("data", [
    {},
    {"by": "delegation"},
    {"by": "delegation", "delegation_id": "99999999"},
    {"by": "pavilion", "pavilion_id": "abc"},
    {"by": "selection"},
    {"by": "selection", "badge_ids": ["x"]},
    {"by": "holder_kind", "holder_kind": "alien"},
    {"by": "teleport"},
    {"by": "delegation", "delegation_id": "1", "layout": "poster"},
])
def test_the_print_form_refuses_what_it_cannot_print(app, client, auth, data):
    auth.login(ADMIN)
    r = client.post("/organizer/badges/print", data=data)
    assert r.status_code == 400, data
    assert 'class="error"' in r.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(PrintJob)) == 0


def test_a_failed_job_shows_why_and_starts_again(app, client, auth, monkeypatch, tmp_path):
    delegation_id, names = _delegation(app)
    auth.login(ADMIN)

    def broken(*args, **kwargs):
        raise printing.PrintError("The printer caught fire")

    monkeypatch.setattr(printing, "pdf_of", broken)
    job_id = _job_id(client.post("/organizer/badges/print", data={"by": "delegation",
                                                                  "delegation_id": delegation_id}))
    state = _wait(client, job_id)
    assert state["status"] == "failed" and state["error"] == "The printer caught fire" and state["pdf"] is None
    html = client.get(f"/organizer/badges/jobs/{job_id}").get_data(as_text=True)
    assert "The printer caught fire" in html and f"/organizer/badges/jobs/{job_id}/restart" in html
    with app.app_context():
        assert db.session.scalar(select(func.sum(Badge.print_count))) == 0  # nothing counted as printed
    monkeypatch.undo()
    r = client.post(f"/organizer/badges/jobs/{job_id}/restart")
    assert r.status_code == 302
    state = _wait(client, job_id)
    assert state["status"] == "done" and state["total"] == len(names) and state["error"] == ""
    # A job that is not failed is not started again.
    r = client.post(f"/organizer/badges/jobs/{job_id}/restart", follow_redirects=True)
    assert "Only a failed print job can be started again." in r.get_data(as_text=True)


def test_an_unexpected_error_in_the_worker_fails_the_job(app, client, auth, monkeypatch):
    delegation_id, _names = _delegation(app)
    auth.login(ADMIN)
    monkeypatch.setattr(printing, "pdf_of", lambda *a, **k: 1 / 0)
    job_id = _job_id(client.post("/organizer/badges/print", data={"by": "delegation",
                                                                  "delegation_id": delegation_id}))
    state = _wait(client, job_id)
    assert state["status"] == "failed" and "division by zero" in state["error"]


def test_a_stale_job_is_marked_failed_by_the_jobs_list(app, client, auth):
    auth.login(ADMIN)
    with app.app_context():
        expo = current_expo()
        job = printing.create_job(None, expo, {"holder_kind": "organizer"}, title="stopped")
        job.status = "running"
        db.session.flush()
        job.updated_at = utcnow() - STALE_AFTER * 2
        db.session.commit()
        job_id = job.id
    html = client.get("/organizer/badges/jobs").get_data(as_text=True)
    assert "1 job had stopped without finishing" in html
    with app.app_context():
        assert db.session.get(PrintJob, job_id).status == "failed"
    assert client.post(f"/organizer/badges/jobs/{job_id}/restart").status_code == 302
    assert _wait(client, job_id)["status"] == "done"


# --- who may ----------------------------------------------------------------------------------------------------------

def _urls(app) -> dict[str, list[tuple[str, str]]]:
    with app.app_context():
        t = services.ensure_types(current_expo())["EXH"]
        job = printing.create_job(None, current_expo(), {"badge_type_id": t.id})
        db.session.commit()
        type_id, job_id = t.id, job.id
    organizers = [("GET", "/organizer/badges/types"), ("GET", "/organizer/badges/types/new"),
                  ("POST", "/organizer/badges/types/new"), ("GET", f"/organizer/badges/types/{type_id}"),
                  ("POST", f"/organizer/badges/types/{type_id}"),
                  ("GET", f"/organizer/badges/types/{type_id}/preview.pdf")]
    printers = [("GET", "/organizer/badges"), ("GET", "/organizer/badges/export.csv"),
                ("GET", "/organizer/badges/print"), ("POST", "/organizer/badges/print"),
                ("POST", "/organizer/badges/print-listed"), ("GET", "/organizer/badges/jobs"),
                ("GET", f"/organizer/badges/jobs/{job_id}"), ("GET", f"/organizer/badges/jobs/{job_id}.json"),
                ("GET", f"/organizer/badges/jobs/{job_id}.pdf"), ("POST", f"/organizer/badges/jobs/{job_id}/restart")]
    return {"organizers": organizers, "printers": printers}


@pytest.mark.parametrize("email", ["exhibitor@expo.test", "buyer@expo.test", "gate@expo.test", "leader@expo.test"])
def test_other_roles_get_403(app, client, auth, email):
    urls = _urls(app)
    auth.login(email)
    for method, url in urls["organizers"] + urls["printers"]:
        assert client.open(url, method=method).status_code == 403, (email, method, url)
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(PrintJob)) == 1


def test_the_print_desk_prints_but_does_not_edit_types(app, client, auth):
    urls = _urls(app)
    auth.login("printdesk@expo.test")
    for method, url in urls["organizers"]:
        assert client.open(url, method=method).status_code == 403, url
    assert client.get("/organizer/badges").status_code == 200
    assert client.get("/organizer/badges/jobs").status_code == 200
    assert "/organizer/badges" in client.get("/organizer/badges/jobs").get_data(as_text=True)
    delegation_id, names = _delegation(app)
    job_id = _job_id(client.post("/organizer/badges/print", data={"by": "delegation",
                                                                  "delegation_id": delegation_id}))
    assert _wait(client, job_id)["total"] == len(names)


def test_anonymous_callers_are_sent_to_sign_in(client):
    for url in ("/organizer/badges", "/organizer/badges/types", "/organizer/badges/jobs/1.json"):
        r = client.get(url)
        assert r.status_code == 302 and "/login" in r.location


# --- the flask badges commands ----------------------------------------------------------------------------------------

def test_cli_prints_a_delegation_to_a_file(app, runner, tmp_path):
    delegation_id, names = _delegation(app)
    out = tmp_path / "delegation.pdf"
    result = runner.invoke(args=["badges", "print", "--delegation", str(delegation_id), "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert f"{len(names)} badges printed to {out}" in result.output
    reader = PdfReader(out)
    assert len(reader.pages) == len(names)
    assert names[0] in reader.pages[0].extract_text().replace("\n", " ")
    with app.app_context():
        counts = db.session.scalars(select(Badge.print_count).where(Badge.delegation_id == delegation_id)).all()
        assert counts == [1] * len(names)
    # Four to a page, by badge type code (any case).
    out4 = tmp_path / "del.pdf"
    result = runner.invoke(args=["badges", "print", "--type", "del", "--layout", "a4x4", "--out", str(out4)])
    assert result.exit_code == 0, result.output
    assert len(PdfReader(out4).pages) == -(-len(names) // 4)


def test_cli_refuses_bad_choices(runner, tmp_path):
    out = str(tmp_path / "x.pdf")
    assert runner.invoke(args=["badges", "print", "--out", out]).exit_code == 2
    assert runner.invoke(args=["badges", "print", "--delegation", "1", "--pavilion", "1", "--out", out]).exit_code == 2
    assert runner.invoke(args=["badges", "print", "--type", "NOPE", "--out", out]).exit_code == 2
    assert runner.invoke(args=["badges", "print", "--all-of-kind", "buyer", "--layout", "poster",
                               "--out", out]).exit_code == 2
    result = runner.invoke(args=["badges", "print", "--type", "PRS", "--out", out])
    assert result.exit_code == 0 and "No badges to print." in result.output


def test_cli_public_key(app, runner):
    result = runner.invoke(args=["badges", "public-key"])
    assert result.exit_code == 0, result.output
    key_id, b64 = result.output.split()[:2]
    assert len(base64.b64decode(b64)) == 32
    with app.app_context():
        assert keys.public_keys_b64(current_expo()) == {key_id: b64}
    as_json = runner.invoke(args=["badges", "public-key", "--json"])
    assert as_json.exit_code == 0 and f'"{key_id}": "{b64}"' in as_json.output


# --- fuzz ---------------------------------------------------------------------------------------------------------------

nasty = st.one_of(st.text(max_size=40), st.sampled_from(["\x00", "#zzzzzz", "#FFFFFF", "-1", "99999999999", "a6",
                                                          "cr80", "1e9", "<b>x</b>", "%", " ", "EXH", "2026-01-01"]))


@FUZZ
@given(data=st.fixed_dictionaries({}, optional={
    "code": nasty, "name_zh": nasty, "name_en": nasty, "colour": nasty, "layout": nasty,
    "areas": st.lists(nasty, max_size=3), "days": st.lists(nasty, max_size=3), "sort": nasty}),
    new=st.booleans())
def test_fuzz_the_type_forms(app, client, auth, data, new):
    auth.login(ADMIN)
    exh = _type(app, "EXH")
    url = "/organizer/badges/types/new" if new else f"/organizer/badges/types/{exh['id']}"
    r = client.post(url, data=data)
    assert r.status_code in (302, 400, 409), r.status_code
    if r.status_code != 302 and not new:
        assert _type(app, "EXH") == exh


@FUZZ
@given(params=st.dictionaries(st.sampled_from(["q", "badge_type_id", "delegation_id", "exhibitor", "exhibitor_id",
                                               "holder_kind", "status", "printed", "page", "per_page", "layout"]),
                              nasty, max_size=5))
def test_fuzz_the_list_and_preview_parameters(app, client, auth, params):
    auth.login(ADMIN)
    for url in ("/organizer/badges", "/organizer/badges/export.csv"):
        assert client.get(url, query_string=params).status_code in (200, 400)
    exh = _type(app, "EXH")
    assert client.get(f"/organizer/badges/types/{exh['id']}/preview.pdf", query_string=params).status_code in \
        (200, 404)


@FUZZ
@given(data=st.fixed_dictionaries({}, optional={
    "by": st.sampled_from(["delegation", "pavilion", "badge_type", "holder_kind", "selection", "x"]) | nasty,
    "delegation_id": nasty, "pavilion_id": nasty, "badge_type_id": nasty, "holder_kind": nasty,
    "badge_ids": st.lists(nasty | st.integers(-5, 10**12).map(str), max_size=4), "layout": nasty}))
def test_fuzz_the_print_form(app, client, auth, monkeypatch, data):
    auth.login(ADMIN)
    started = []
    monkeypatch.setattr(admin_views, "_start", started.append)
    r = client.post("/organizer/badges/print", data=data)
    assert r.status_code in (302, 400, 409), r.status_code
    assert len(started) == (r.status_code == 302)


def test_revoked_badges_are_left_out_of_a_batch(app, inline, client, auth):
    some = _issue_some(app)
    auth.login(ADMIN)
    r = client.post("/organizer/badges/print", data={"by": "selection", "badge_ids": [some["revoked"],
                                                                                        some["printed"]]})
    state = client.get(f"/organizer/badges/jobs/{_job_id(r)}.json").get_json()
    assert state["total"] == 1
    with app.app_context():
        assert db.session.get(Badge, some["revoked"]).status == BadgeStatus.REVOKED
        assert db.session.get(Badge, some["revoked"]).print_count == 0
