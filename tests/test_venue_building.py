"""Building the venue: open sides and kinds derived from the rectangles, the hall editor's refusals, pavilions and
areas, the layout generator's preview and creation, the booth list and its exports, and who may open the pages.

Expected open sides come from an independent oracle (sampling points just outside each side of a booth against the
walls, the other booths and the obstacles), never from a table typed per booth."""

from __future__ import annotations

import csv
import io
import re

import pytest
from flask import url_for
from openpyxl import load_workbook
from sqlalchemy import func, select

from expo.audit import AuditEntry
from expo.categories.models import ProductCategory
from expo.exhibitors.services import current_expo
from expo.extensions import db
from expo.venue import geometry, layout
from expo.venue.geometry import Rect
from expo.venue.models import Booth, BoothStatus, ExhibitionArea, Hall, Pavilion
from expo.venue.services import booth_rect, derive_hall, obstacle_rects
from tests.conftest import csrf_token

ADMIN = "admin@expo.test"
BASE = "/organizer/venue"


# --- an independent oracle for open sides ---------------------------------------------------------------------------

def _covered(point: tuple[float, float], blockers: list[Rect]) -> bool:
    x, y = point
    return any(r.x < x < r.x2 and r.y < y < r.y2 for r in blockers)


def oracle_sides(rect: Rect, others: list[Rect], width: float, depth: float, obstacles: list[Rect]) -> str:
    """Sample 100 points 1 cm outside each side: the side is open when fewer than half of them are covered by another
    booth or an obstacle, and it is not on the hall's wall."""
    sides = ""
    step = 0.01
    for side in "NESW":
        if side == "N":
            pts = [(rect.x + rect.w * (i + .5) / 100, rect.y - step) for i in range(100)]
            wall = rect.y <= 0.001
        elif side == "S":
            pts = [(rect.x + rect.w * (i + .5) / 100, rect.y2 + step) for i in range(100)]
            wall = rect.y2 >= depth - 0.001
        elif side == "W":
            pts = [(rect.x - step, rect.y + rect.d * (i + .5) / 100) for i in range(100)]
            wall = rect.x <= 0.001
        else:
            pts = [(rect.x2 + step, rect.y + rect.d * (i + .5) / 100) for i in range(100)]
            wall = rect.x2 >= width - 0.001
        if wall:
            continue
        covered = sum(_covered(p, others + obstacles) for p in pts)
        if covered < 50:
            sides += side
    return sides


def oracle_kind(sides: str) -> str:
    n = len(sides)
    if n == 4:
        return "island"
    if n == 3:
        return "peninsula"
    if n == 2 and sides not in ("NS", "EW"):
        return "corner"
    return "standard"


def _test_hall(code: str = "T1", width: float = 60, depth: float = 40, obstacles=(), entrances=()) -> Hall:
    expo = current_expo()
    hall = Hall(expo=expo, code=code, name_zh="测试馆", name_en="Test hall", width_m=width, depth_m=depth,
                entrances=list(entrances), obstacles=list(obstacles))
    db.session.add(hall)
    db.session.flush()
    return hall


def _booth(hall: Hall, number: str, x: float, y: float, w: float = 3, d: float = 3, **kw) -> Booth:
    b = Booth(expo_id=hall.expo_id, hall=hall, number=number, x_m=x, y_m=y, width_m=w, depth_m=d, **kw)
    db.session.add(b)
    return b


def test_open_sides_and_kinds_follow_from_the_rectangles(ctx):
    obstacle = {"label": "column", "x_m": 40.0, "y_m": 20.0, "width_m": 1.0, "depth_m": 3.0}
    hall = _test_hall(obstacles=[obstacle])
    block = [_booth(hall, f"T1-B{r}{c}", 10 + 3 * c, 10 + 3 * r) for r in range(2) for c in range(3)]
    island = _booth(hall, "T1-ISL", 30, 10, 6, 6)
    wall = _booth(hall, "T1-WALL", 0, 30)  # against the west wall
    column = _booth(hall, "T1-COL", 37, 20)  # its east side is closed by the column
    booths = [*block, island, wall, column]
    db.session.flush()
    derive_hall(hall)
    rects = {b.number: booth_rect(b) for b in booths}
    for b in booths:
        others = [r for n, r in rects.items() if n != b.number]
        expected = oracle_sides(rects[b.number], others, 60, 40, obstacle_rects(hall))
        assert b.open_sides == expected, b.number
        assert b.kind == oracle_kind(expected), b.number
    # The structure the oracle must reproduce: a 2×3 block has corners at the ends, standard booths in the middle.
    for b in block:
        end = b.x_m in (10, 16)
        assert b.kind == ("corner" if end else "standard"), b.number
    assert island.kind == "island" and len(island.open_sides) == 4
    assert "W" not in wall.open_sides
    assert "E" not in column.open_sides and "W" in column.open_sides


def test_derive_after_adding_a_neighbour_closes_a_side(ctx):
    hall = _test_hall()
    lone = _booth(hall, "T1-001", 10, 10)
    db.session.flush()
    derive_hall(hall)
    assert lone.kind == "island"
    _booth(hall, "T1-002", 13, 10)
    db.session.flush()
    derive_hall(hall)
    assert "E" not in lone.open_sides and lone.kind == "peninsula"


# --- the hall editor ------------------------------------------------------------------------------------------------

def _hall_post(hall: Hall, **changes) -> dict:
    data = {"name_zh": hall.name_zh, "name_en": hall.name_en, "width_m": str(float(hall.width_m)),
            "depth_m": str(float(hall.depth_m)), "plan_x_m": "0", "plan_y_m": "0",
            "entrances": "\n".join(f"{e['name']}; {e['side']}; {e['offset_m']}; {e['width_m']}" for e in hall.entrances),
            "obstacles": "\n".join(f"{o['label']}; {o['x_m']}; {o['y_m']}; {o['width_m']}; {o['depth_m']}"
                                   for o in hall.obstacles)}
    data.update(changes)
    return data


def _make_test_hall(app) -> int:
    with app.app_context():
        hall = _test_hall(entrances=[{"name": "Gate", "side": "W", "offset_m": 5, "width_m": 4}])
        _booth(hall, "T1-001", 20, 20)
        _booth(hall, "T1-002", 23, 20)
        db.session.flush()
        derive_hall(hall)
        db.session.commit()
        return hall.id


def test_hall_page_saves_geometry_and_rederives(app, client, auth):
    hall_id = _make_test_hall(app)
    auth.login(ADMIN)
    assert client.get(f"{BASE}/halls/{hall_id}").status_code == 200
    with app.app_context():
        data = _hall_post(db.session.get(Hall, hall_id), name_en="Hall T one",
                          obstacles="pillar; 26; 20; 1; 3")  # right against the east side of T1-002
    r = client.post(f"{BASE}/halls/{hall_id}", data=data)
    assert r.status_code == 302, r.text
    with app.app_context():
        hall = db.session.get(Hall, hall_id)
        assert hall.name_en == "Hall T one" and hall.obstacles[0]["label"] == "pillar"
        b = db.session.scalar(select(Booth).where(Booth.number == "T1-002"))
        assert "E" not in b.open_sides
        assert db.session.scalar(select(func.count()).select_from(AuditEntry)
                                 .where(AuditEntry.action == "hall_updated")) == 1


@pytest.mark.parametrize("changes, message", [
    ({"width_m": "22"}, "outside the hall"),
    ({"obstacles": "pillar; 21; 21; 1; 1"}, "on an obstacle"),
])
def test_hall_change_refused_when_a_booth_would_not_fit(app, client, auth, changes, message):
    hall_id = _make_test_hall(app)
    auth.login(ADMIN)
    with app.app_context():
        data = _hall_post(db.session.get(Hall, hall_id), name_en="Changed", **changes)
    r = client.post(f"{BASE}/halls/{hall_id}", data=data)
    assert r.status_code == 409
    assert message in r.text and "T1-001" in r.text
    with app.app_context():
        hall = db.session.get(Hall, hall_id)
        assert hall.name_en == "Test hall" and float(hall.width_m) == 60 and hall.obstacles == []


def test_hall_rows_are_validated_per_line(app, client, auth):
    hall_id = _make_test_hall(app)
    auth.login(ADMIN)
    with app.app_context():
        data = _hall_post(db.session.get(Hall, hall_id), entrances="Gate; W; 5; 4\nNorth; Q; 1; 2",
                          obstacles="ok; 1; 1; 1; 1\nbad; x; 1; 1; 1\nshort; 1; 1")
    r = client.post(f"{BASE}/halls/{hall_id}", data=data)
    assert r.status_code == 400
    assert "Line 2: the side must be N, E, S or W." in r.text
    assert "Line 2: x, y, width and depth must be numbers" in r.text
    assert "Line 3: write label; x; y; width; depth." in r.text
    data["entrances"] = "Gate; N; 58; 4"  # runs past the end of the 60 m north wall
    data["obstacles"] = ""
    r = client.post(f"{BASE}/halls/{hall_id}", data=data)
    assert r.status_code == 400 and "runs past the end of its wall" in r.text


# --- pavilions and areas --------------------------------------------------------------------------------------------

def test_pavilion_create_and_edit(app, client, auth):
    auth.login(ADMIN)
    with app.app_context():
        cats = list(db.session.scalars(select(ProductCategory.id).limit(2)))
        area_id = db.session.scalar(select(ExhibitionArea.id).limit(1))
    assert client.get(f"{BASE}/pavilions/new").status_code == 200
    r = client.post(f"{BASE}/pavilions/new", data={"code": "NEWP", "name_zh": "新馆", "name_en": "New pavilion",
                                                   "colour": "#12AB34", "area_id": str(area_id),
                                                   "category_ids": [str(c) for c in cats]})
    assert r.status_code == 302, r.text
    with app.app_context():
        p = db.session.scalar(select(Pavilion).where(Pavilion.code == "NEWP"))
        assert p.colour == "#12ab34" and sorted(c.id for c in p.categories) == sorted(cats)
        pid = p.id
    r = client.post(f"{BASE}/pavilions/{pid}", data={"code": "NEWP", "name_zh": "新馆", "name_en": "Renamed",
                                                     "colour": "red", "area_id": "0"})
    assert r.status_code == 400 and "six hexadecimal digits" in r.text
    r = client.post(f"{BASE}/pavilions/{pid}", data={"code": "NEWP", "name_zh": "新馆", "name_en": "Renamed",
                                                     "colour": "#000000", "area_id": "0"})
    assert r.status_code == 302
    with app.app_context():
        p = db.session.get(Pavilion, pid)
        assert p.name_en == "Renamed" and p.categories == [] and p.area_id is None
        other = db.session.scalar(select(Pavilion.code).where(Pavilion.id != pid).limit(1))
    r = client.post(f"{BASE}/pavilions/{pid}", data={"code": other, "name_zh": "x", "name_en": "x",
                                                     "colour": "#000000", "area_id": "0"})
    assert r.status_code == 409 and "Another pavilion has this code." in r.text


def test_area_rename(app, client, auth):
    auth.login(ADMIN)
    with app.app_context():
        area_id = db.session.scalar(select(ExhibitionArea.id).limit(1))
    r = client.post(f"{BASE}/areas/{area_id}", data={"name_zh": "运动", "name_en": "Sport"})
    assert r.status_code == 302
    with app.app_context():
        assert db.session.get(ExhibitionArea, area_id).name_en == "Sport"
    assert client.post(f"{BASE}/areas/{area_id}", data={"name_zh": "", "name_en": "x"}).status_code == 400


def test_venue_overview_lists_halls_and_pavilions(app, client, auth):
    auth.login(ADMIN)
    r = client.get(f"{BASE}/")
    assert r.status_code == 200
    with app.app_context():
        expo = current_expo()
        for hall in expo.halls:
            assert f">{hall.code}</a>" in r.text
        for p in expo.pavilions:
            assert f">{p.code}</a>" in r.text


# --- the layout generator -------------------------------------------------------------------------------------------

GEN = {"x_m": "0", "y_m": "0", "width_m": "60", "depth_m": "40", "booth_width_m": "3", "booth_depth_m": "3",
       "booths_per_row": "6", "rows_per_block": "2", "aisle_m": "3", "cross_aisle_m": "4", "prefix": "T1-",
       "first_number": "1", "pavilion_id": "0", "price_cny": "9000"}


def test_generator_preview_writes_nothing_and_create_respects_everything(app, client, auth):
    with app.app_context():
        hall = _test_hall(obstacles=[{"label": "column", "x_m": 20.0, "y_m": 15.0, "width_m": 2.0, "depth_m": 2.0}],
                          entrances=[{"name": "W", "side": "W", "offset_m": 10, "width_m": 6},
                                     {"name": "N", "side": "N", "offset_m": 30, "width_m": 8}])
        _booth(hall, "T1-OLD", 45, 30)
        db.session.commit()
        hall_id = hall.id
        before = db.session.scalar(select(func.count()).select_from(Booth))
    auth.login(ADMIN)
    assert client.get(f"{BASE}/halls/{hall_id}/generate").status_code == 200
    region = {"x_m": "2", "y_m": "1", "width_m": "55", "depth_m": "36"}
    r = client.post(f"{BASE}/halls/{hall_id}/generate", data={**GEN, **region, "action": "preview"})
    assert r.status_code == 200
    m = re.search(r"(\d+) booths would be created", r.text)
    assert m
    planned = int(m.group(1))
    assert planned > 0 and r.text.count('class="new"') == planned and r.text.count('class="existing"') == 1
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Booth)) == before
    r = client.post(f"{BASE}/halls/{hall_id}/generate", data={**GEN, **region, "action": "create"})
    assert r.status_code == 302
    with app.app_context():
        hall = db.session.get(Hall, hall_id)
        booths = list(db.session.scalars(select(Booth).where(Booth.hall_id == hall_id)))
        new = [b for b in booths if b.number != "T1-OLD"]
        assert len(new) == planned
        reg = Rect(2, 1, 55, 36)
        zones = layout.entrance_zones(hall.entrances, 60, 40)
        rects = [booth_rect(b) for b in booths]
        for b in new:
            r_ = booth_rect(b)
            assert r_.x >= reg.x - 1e-6 and r_.y >= reg.y - 1e-6 and r_.x2 <= reg.x2 + 1e-6 and r_.y2 <= reg.y2 + 1e-6
            assert not any(r_.overlaps(o) for o in obstacle_rects(hall)), b.number
            assert not any(r_.overlaps(z) for z in zones), b.number
            assert b.price_cny == 9000 and b.status == BoothStatus.AVAILABLE
        for i, a in enumerate(rects):
            assert not any(a.overlaps(b) for b in rects[i + 1:])
        # derived open sides match the pure geometry
        sides = geometry.open_sides({b.number: booth_rect(b) for b in booths}, 60, 40, obstacle_rects(hall))
        assert all(b.open_sides == sides[b.number] for b in booths)
        total = db.session.scalar(select(func.count()).select_from(Booth))
    # Numbers taken: a second run in another region is refused whole.
    r = client.post(f"{BASE}/halls/{hall_id}/generate", data={**GEN, "x_m": "0", "y_m": "37", "width_m": "30",
                                                              "depth_m": "3", "action": "create"})
    assert r.status_code == 400 and "taken already" in r.text
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Booth)) == total


def test_generator_refuses_a_region_outside_the_hall(app, client, auth):
    with app.app_context():
        hall_id = _test_hall().id
        db.session.commit()
    auth.login(ADMIN)
    r = client.post(f"{BASE}/halls/{hall_id}/generate", data={**GEN, "width_m": "100", "action": "preview"})
    assert r.status_code == 400 and "does not fit inside the hall" in r.text
    r = client.post(f"{BASE}/halls/{hall_id}/generate", data={**GEN, "booth_width_m": "-3", "action": "create"})
    assert r.status_code == 400


# --- the booth list -------------------------------------------------------------------------------------------------

def test_booth_list_filters_sorts_and_paginates(app, client, auth):
    auth.login(ADMIN)
    with app.app_context():
        expo = current_expo()
        hall = expo.halls[0]
        in_hall = db.session.scalar(select(func.count()).select_from(Booth).where(Booth.hall_id == hall.id))
        assigned = db.session.scalars(select(Booth).where(Booth.status == BoothStatus.ASSIGNED,
                                                          Booth.exhibitor_id.is_not(None))).first()
        holder = assigned.exhibitor.name_en
        number = assigned.number
    r = client.get(f"{BASE}/booths", query_string={"hall_id": hall.id, "per_page": 20})
    assert r.status_code == 200
    assert f"{in_hall} booths" in r.text
    assert r.text.count("<tr>") == 21  # header + 20 rows
    r = client.get(f"{BASE}/booths", query_string={"q": holder})
    assert number in r.text
    r = client.get(f"{BASE}/booths", query_string={"q": number})
    assert number in r.text and "1 booth" in r.text
    if "allocation.booth" in app.view_functions:  # built by another part of the app; linked when it is there
        with app.test_request_context():
            link = url_for("allocation.booth", booth_id=assigned.id)
        assert f'href="{link}">{number}</a>' in r.text
    r = client.get(f"{BASE}/booths", query_string={"status": "assigned", "sort": "price", "desc": "y"})
    prices = [int(p) for p in re.findall(r"<td>(\d+)</td><td>Assigned</td>", r.text)]
    assert prices and prices == sorted(prices, reverse=True)
    assert client.get(f"{BASE}/booths", query_string={"hall_id": "x"}).status_code == 400


def test_exports_neutralise_formulas(app, client, auth):
    with app.app_context():
        b = db.session.scalars(select(Booth).where(Booth.status == BoothStatus.AVAILABLE)).first()
        b.number = "=HYPERLINK(1)"
        db.session.commit()
    auth.login(ADMIN)
    body = client.get(f"{BASE}/booths/export.csv", query_string={"q": "HYPERLINK"}).data.decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(body)))
    assert rows[0][0] == "number" and rows[1][0] == "'=HYPERLINK(1)"
    data = client.get(f"{BASE}/booths/export.xlsx", query_string={"q": "HYPERLINK"}).data
    ws = load_workbook(io.BytesIO(data)).worksheets[0]
    cell = ws.cell(row=2, column=1)
    assert cell.value == "=HYPERLINK(1)" and cell.data_type == "s" and cell.quotePrefix


# --- who may, CSRF --------------------------------------------------------------------------------------------------

PAGES = [f"{BASE}/", f"{BASE}/booths", f"{BASE}/booths/export.csv", f"{BASE}/booths/import", f"{BASE}/pavilions/new"]


def test_pages_refuse_non_organizers(app, client, auth):
    with app.app_context():
        hall_id = current_expo().halls[0].id
    pages = [*PAGES, f"{BASE}/halls/{hall_id}", f"{BASE}/halls/{hall_id}/generate"]
    for url in pages:
        r = client.get(url)
        assert r.status_code == 302 and "/login" in r.headers["Location"], url
    auth.login("exhibitor@expo.test")
    for url in pages:
        assert client.get(url).status_code == 403, url
    r = client.post(f"{BASE}/halls/{hall_id}/generate", data={**GEN, "action": "create"})
    assert r.status_code == 403
    auth.logout()
    auth.login("staff@expo.test")
    assert client.get(f"{BASE}/").status_code == 200


def test_csrf_refused(app, client, auth, csrf_enabled):
    hall_id = _make_test_hall(app)
    login = client.get("/login").text
    client.post("/login", data={"email": ADMIN, "password": "expo-demo-2026", "csrf_token": csrf_token(login)})
    with app.app_context():
        data = _hall_post(db.session.get(Hall, hall_id), name_en="Forged")
    r = client.post(f"{BASE}/halls/{hall_id}", data=data)
    assert r.status_code == 400
    with app.app_context():
        assert db.session.get(Hall, hall_id).name_en == "Test hall"
    page = client.get(f"{BASE}/halls/{hall_id}")
    r = client.post(f"{BASE}/halls/{hall_id}", data={**data, "csrf_token": csrf_token(page.text)})
    assert r.status_code == 302
