"""Floor plans: one geometry drawn as PDF (read back with pypdf and pdftoppm) and as SVG (parsed as XML)."""

from __future__ import annotations

import io
import re
import shutil
import subprocess
import xml.etree.ElementTree as ET

import pytest
from pypdf import PdfReader
from reportlab.lib.units import mm
from reportlab.pdfbase.pdfmetrics import stringWidth
from sqlalchemy import select

from expo.exhibitors.models import ApplicationStatus, SpaceApplication
from expo.exhibitors.services import current_expo
from expo.extensions import db
from expo.floorplans import svg as svg_render
from expo.floorplans.pdf import render_pdf, tint
from expo.floorplans.plan import build_plan, outline_segments
from expo.pdf.fitting import LINE_HEIGHT, estimate_width, fit
from expo.pdf.fonts import cjk_font, font_for
from expo.pdf.pages import PAPERS
from expo.venue.models import Booth, BoothStatus, Hall, Pavilion, Stand
from tests.factories import make_exhibitor, user

NAME_ZH = "晋江飞跃运动鞋业有限公司"
NAME_EN = "Feiyue Sports Footwear Co., Ltd."
SVG_NS = "{http://www.w3.org/2000/svg}"


def _booth(number: str) -> Booth:
    return db.session.scalar(select(Booth).where(Booth.number == number))


@pytest.fixture
def feiyue(app):
    """An approved exhibitor with the merged stand A1-001 + A1-002; returns its id and booth numbers."""
    with app.app_context():
        exhibitor, account = make_exhibitor(email="feiyue@example.com", name_zh=NAME_ZH, name_en=NAME_EN)
        application = db.session.scalar(select(SpaceApplication).where(SpaceApplication.exhibitor_id == exhibitor.id))
        application.status = ApplicationStatus.APPROVED
        stand = Stand(expo_id=current_expo().id, exhibitor_id=exhibitor.id)
        db.session.add(stand)
        db.session.flush()
        for number in ("A1-001", "A1-002"):
            booth = _booth(number)
            booth.status, booth.exhibitor_id, booth.stand_id = BoothStatus.ASSIGNED, exhibitor.id, stand.id
        db.session.commit()
        info = {"id": exhibitor.id, "booths": ["A1-001", "A1-002"]}
        db.session.remove()
    return info


def pdf_text(data: bytes) -> list[str]:
    return [page.extract_text() or "" for page in PdfReader(io.BytesIO(data)).pages]


def squash(text: str) -> str:
    return re.sub(r"\s+", "", text)


# --- PDF ---------------------------------------------------------------------------------------------------------

def test_hall_pdf_in_chinese_has_numbers_names_legend_and_sorted_index(app, client, feiyue):
    response = client.get("/plan/exhibitor.pdf?hall=A1&paper=A2&orientation=landscape&lang=zh")
    assert response.status_code == 200
    assert response.mimetype == "application/pdf"
    pages = pdf_text(response.data)
    first = squash(pages[0])
    with app.app_context():
        plan = build_plan(current_expo(), "zh", hall="A1")
        numbers = [b.number for b in plan.booths]
        legend = [e.name for e in plan.legend]
        expected_index = sorted(((e.name, e.booths) for e in plan.index), key=lambda e: e[0].casefold())
    assert len(numbers) > 20
    for number in numbers:
        if number not in feiyue["booths"][1:]:  # a merged stand prints its number range once
            assert number in first, number
    assert "A1-001–002" in first
    assert NAME_ZH in first  # fitted (maybe on two lines) but extractable: the CJK font is embedded
    for name in legend:
        assert squash(name) in first
    index = squash("".join(pages[1:]))
    positions = [index.find(squash(name)) for name, _booths in expected_index]
    assert all(p >= 0 for p in positions), [n for (n, _b), p in zip(expected_index, positions, strict=True) if p < 0]
    assert positions == sorted(positions), "the index is not sorted by name"
    assert squash(f"{NAME_ZH}A1-001,A1-002") in index


def test_whole_venue_pdf_in_english_places_every_hall(app, client, feiyue):
    response = client.get("/plan/exhibitor.pdf?paper=A1&orientation=landscape&lang=en")
    assert response.status_code == 200
    first = squash(pdf_text(response.data)[0])
    with app.app_context():
        halls = [h.code for h in build_plan(current_expo(), "en").halls]
    assert len(halls) == 6
    for code in halls:
        assert f"{code}-001" in first or code in first
    assert squash(NAME_EN) in first
    index = squash("".join(pdf_text(response.data)[1:]))
    with app.app_context():
        names = sorted({localized_name for localized_name in (
            e.name for e in build_plan(current_expo(), "en").index)}, key=str.casefold)
    assert len(names) >= 3
    positions = [index.find(squash(name)) for name in names]
    assert -1 not in positions and positions == sorted(positions), "the index is not sorted by name"


@pytest.mark.parametrize("paper", list(PAPERS))
@pytest.mark.parametrize("orientation", ["portrait", "landscape"])
def test_page_size_for_each_paper_and_orientation(app, paper, orientation):
    with app.app_context():
        data = render_pdf(build_plan(current_expo(), "en", hall="B1"), paper, orientation)
    reader = PdfReader(io.BytesIO(data))
    short, long_ = (v * mm for v in PAPERS[paper])
    want = (short, long_) if orientation == "portrait" else (long_, short)
    for page in reader.pages:
        assert float(page.mediabox.width) == pytest.approx(want[0], abs=1)
        assert float(page.mediabox.height) == pytest.approx(want[1], abs=1)


@pytest.mark.skipif(shutil.which("pdftoppm") is None, reason="needs poppler-utils")
def test_rendered_page_shows_the_pavilion_colours(app, client, feiyue, tmp_path):
    from PIL import Image

    (tmp_path / "plan.pdf").write_bytes(client.get("/plan/exhibitor.pdf?hall=A1&paper=A3").data)
    subprocess.run(["pdftoppm", "-r", "50", "-png", "-f", "1", "-l", "1", str(tmp_path / "plan.pdf"),
                    str(tmp_path / "page")], check=True, timeout=60)
    image = Image.open(next(tmp_path.glob("page*.png"))).convert("RGB")
    colours = {rgb for _count, rgb in image.getcolors(maxcolors=1 << 22)}
    with app.app_context():
        plan = build_plan(current_expo(), "en", hall="A1")
        booth = next(b for b in plan.booths if b.number == "A1-001")
        in_hall = {b.colour for b in plan.booths}
        other = next(c for c in db.session.scalars(select(Pavilion.colour)) if c not in in_hall)

    def near(colour) -> bool:
        want = tuple(round(v * 255) for v in (colour.red, colour.green, colour.blue))
        return any(all(abs(a - b) <= 4 for a, b in zip(px, want, strict=True)) for px in colours)

    assert near(tint(booth.colour, 0.55)), "an assigned booth's pavilion colour is missing"
    assert not near(tint(other, 0.55)), "a pavilion that is not in hall A1 appears on its plan"


def test_sales_plan_shows_prices_for_organizers_only(app, client, auth, feiyue):
    response = client.get("/plan/sales.pdf?hall=A1")
    assert response.status_code == 302 and "/login" in response.headers["Location"]
    auth.login("exhibitor@expo.test")
    assert client.get("/plan/sales.pdf?hall=A1").status_code == 403
    assert client.get("/plan/?variant=sales").status_code == 403
    page = client.get("/plan/").get_data(as_text=True)
    assert "data-price" not in page and "¥" not in page.split('<svg', 1)[1]
    auth.logout()
    auth.login("admin@expo.test")
    response = client.get("/plan/sales.pdf?hall=A1&lang=en")
    assert response.status_code == 200
    text = squash(pdf_text(response.data)[0])
    with app.app_context():
        available = db.session.scalars(select(Booth).where(Booth.status == BoothStatus.AVAILABLE,
                                                           Booth.number.like("A1-%"))).all()
        sold = _booth("A1-001")
        assert available
        assert squash(f"¥{available[0].price_cny:,}") in text
        assert text.count("¥") >= len([b for b in available if b.width_m >= 3])
        assert "Salesplan" in text
    plan_page = client.get("/plan/?variant=sales").get_data(as_text=True)
    assert f'data-price="{available[0].price_cny}"' in plan_page
    assert f'id="booth-{sold.id}"' in plan_page


@pytest.mark.parametrize("query, status, words", [
    ("paper=B5", 400, "B5"),
    ("orientation=sideways", 400, "portrait"),
    ("lang=fr", 400, "zh"),
    ("hall=Z9", 404, "Z9"),
])
def test_bad_parameters_are_refused_with_a_message(client, query, status, words):
    response = client.get(f"/plan/exhibitor.pdf?{query}")
    assert response.status_code == status
    assert words in response.get_data(as_text=True)


def test_unknown_variant_is_404(client):
    assert client.get("/plan/poster.pdf").status_code == 404
    assert client.get("/plan/?variant=poster").status_code == 404


# --- SVG ---------------------------------------------------------------------------------------------------------

def svg_of(page: str) -> ET.Element:
    match = re.search(r"<svg xmlns=.*?</svg>", page, re.S)
    assert match, "no inline SVG plan"
    return ET.fromstring(match.group(0))


def test_svg_has_one_element_per_booth_with_data_attributes(app, client, feiyue):
    response = client.get("/plan/")
    assert response.status_code == 200
    root = svg_of(response.get_data(as_text=True))
    booths = root.findall(f".//{SVG_NS}g[@data-booth-id]")
    with app.app_context():
        assert len(booths) == db.session.scalar(select(db.func.count(Booth.id)))
        b1 = _booth("A1-001")
        pavilion = db.session.get(Pavilion, b1.pavilion_id)
        available = db.session.scalar(select(Booth).where(Booth.status == BoothStatus.AVAILABLE))
        by_id = {int(g.get("data-booth-id")): g for g in booths}
        g = by_id[b1.id]
        assert g.get("data-number") == "A1-001"
        assert g.get("data-status") == "assigned"
        assert g.get("data-pavilion") == pavilion.code
        assert g.get("data-exhibitor") in (NAME_EN, NAME_ZH)
        assert g.get("data-categories")
        assert "status-assigned" in g.get("class")
        assert "A1-001" in g.find(f"{SVG_NS}title").text
        assert g.find(f"{SVG_NS}rect").get("fill") == pavilion.colour
        free = by_id[available.id]
        assert free.get("data-exhibitor") == "" and "status-available" in free.get("class")
    stands = root.findall(f".//{SVG_NS}g[@class='stand']")
    assert any(s.get("data-booths") == "A1-001 A1-002" for s in stands)


def test_plan_page_of_one_hall(app, client, feiyue):
    page = client.get("/plan/?hall=A1").get_data(as_text=True)
    root = svg_of(page)
    assert [g.get("data-hall") for g in root.findall(f".//{SVG_NS}g[@class='hall']")] == ["A1"]
    with app.app_context():
        a1 = set(db.session.scalars(select(Booth.id).join(Hall, Hall.id == Booth.hall_id).where(Hall.code == "A1")))
        codes = list(db.session.scalars(select(Hall.code).order_by(Hall.code)))
    assert {int(g.get("data-booth-id")) for g in root.findall(f".//{SVG_NS}g[@data-booth-id]")} == a1
    assert any(s.get("data-booths") == "A1-001 A1-002" for s in root.findall(f".//{SVG_NS}g[@class='stand']"))
    # every hall keeps its tab, a link to its own page (this one active); the print form offers them all
    for code in codes:
        assert re.search(rf'<a class="tab( active)?" data-hall="{code}"[^>]*href="[^"]*hall={code}[^"]*"', page)
        assert f'<option value="{code}"' in page
    assert '<a class="tab active" data-hall="A1"' in page and '<option value="A1" selected>' in page
    assert 'id="plan-tools" data-hall="A1"' in page
    # the whole venue is still the default, with the tabs zooming in place
    whole = client.get("/plan/").get_data(as_text=True)
    assert len(svg_of(whole).findall(f".//{SVG_NS}g[@class='hall']")) == len(codes)
    assert 'id="plan-tools" data-hall=""' in whole and '<a class="tab active" data-hall=""' in whole
    missing = client.get("/plan/?hall=Z9")
    assert missing.status_code == 404 and "Z9" in missing.get_data(as_text=True)


def test_merged_stand_is_one_outline():
    segments = outline_segments([(0, 0, 3, 3), (3, 0, 3, 3)])
    assert sum(abs(x2 - x1) + abs(y2 - y1) for x1, y1, x2, y2 in segments) == pytest.approx(18)
    assert (3, 0, 3, 3) not in segments  # the wall between the two booths is gone


def test_organizer_plan_links_to_the_booth_page(app, client, auth):
    auth.login("admin@expo.test")
    root = svg_of(client.get("/plan/").get_data(as_text=True))
    if "allocation.booth" not in app.view_functions:
        pytest.skip("the allocation booth page is not there")
    g = root.find(f".//{SVG_NS}g[@data-booth-id]")
    assert g.get("data-href") == f"/organizer/booths/{g.get('data-booth-id')}"


def test_self_selection_marks_available_booths_of_the_exhibitors_pavilion(app, client, auth, feiyue):
    with app.app_context():
        expo = current_expo()
        expo.self_selection_open = True
        pavilion = db.session.scalar(select(Pavilion).where(Pavilion.code == "TECH"))
        application = db.session.scalar(select(SpaceApplication).where(SpaceApplication.exhibitor_id == feiyue["id"]))
        application.preferred_pavilion_id = pavilion.id
        db.session.commit()
        pavilion_code = pavilion.code
    auth.login("feiyue@example.com", "correct horse battery")
    root = svg_of(client.get("/plan/").get_data(as_text=True))
    selectable = [g for g in root.iter(f"{SVG_NS}g") if "selectable" in (g.get("class") or "")]
    assert selectable
    for g in selectable:
        assert g.get("data-status") == "available" and g.get("data-pavilion") == pavilion_code
        assert g.get("data-href") == f"/exhibitor/booths/select?booth={g.get('data-booth-id')}"
    auth.logout()
    root = svg_of(client.get("/plan/").get_data(as_text=True))
    assert not [g for g in root.iter(f"{SVG_NS}g") if "selectable" in (g.get("class") or "")]


def test_dashboard_shows_an_excerpt_with_the_exhibitors_booths(app, client, auth, feiyue):
    auth.login("feiyue@example.com", "correct horse battery")
    page = client.get("/exhibitor/").get_data(as_text=True)
    assert 'id="plan-excerpt"' in page
    root = svg_of(page.split('id="plan-excerpt"', 1)[1])
    highlighted = [g.get("data-number") for g in root.iter(f"{SVG_NS}g") if "highlight" in (g.get("class") or "")]
    assert highlighted == feiyue["booths"]


# --- text fitting ------------------------------------------------------------------------------------------------

def test_svg_names_fit_inside_their_booths(app, feiyue):
    with app.app_context():
        plan = build_plan(current_expo(), "zh")
    fitted_names = 0
    for b in plan.booths:
        num_size, fitted = svg_render.booth_label(b.number, b.exhibitor or "", b.w, b.d)
        assert estimate_width(b.number) * num_size <= b.w
        for line in fitted.lines:
            assert estimate_width(line) * fitted.size <= b.w + 1e-9
        assert len(fitted.lines) <= 2 and num_size * 1.2 + len(fitted.lines) * fitted.size * LINE_HEIGHT <= b.d
        fitted_names += bool(b.exhibitor and fitted.fits)
    assert fitted_names >= 1


@pytest.mark.parametrize("name", [NAME_ZH, NAME_EN, "Anta", "Jinjiang International Sporting Goods Import Export"])
def test_pdf_fitting_uses_real_font_widths(name):
    font = cjk_font()

    def measure(text):
        return stringWidth(text, font_for(text, font), 1)

    width, height = 3 * 8.5, 2.2 * 8.5  # a 3 m booth on an A3 hall plan, less its number
    fitted = fit(name, width, height, measure, max_size=9, min_size=1.5, padding=1)
    assert fitted.fits
    assert 1 <= len(fitted.lines) <= 2
    assert "".join(fitted.lines).replace(" ", "") == name.replace(" ", "")
    for line in fitted.lines:
        assert measure(line) * fitted.size <= width - 2 + 1e-6
    assert len(fitted.lines) * fitted.size * LINE_HEIGHT <= height - 2 + 1e-6


def test_nothing_fits_in_a_sliver():
    assert not fit("Feiyue", 0.1, 3, estimate_width, max_size=1, min_size=0.5).fits


def test_cjk_font_is_embedded_truetype_or_cid_fallback(tmp_path):
    font = cjk_font()
    assert font.embedded == (font.path is not None)
    assert cjk_font(str(tmp_path / "missing.ttf")).name  # a missing override falls back, never fails


def test_demo_user_fixture_sanity(ctx):
    assert user("admin@expo.test") is not None


def test_without_a_cjk_font_the_cid_fallback_still_prints_chinese(app, feiyue, monkeypatch):
    from expo.pdf import fonts

    monkeypatch.setattr(fonts, "CANDIDATES", ())
    monkeypatch.delenv("EXPO_CJK_FONT", raising=False)
    fonts.cjk_font.cache_clear()
    try:
        assert fonts.cjk_font().name == fonts.CID_FALLBACK
        with app.app_context():
            data = render_pdf(build_plan(current_expo(), "zh", hall="A1"), "A3", "landscape")
        assert b"STSong-Light" in data
        assert NAME_ZH in squash(pdf_text(data)[0])
    finally:
        fonts.cjk_font.cache_clear()
