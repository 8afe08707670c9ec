"""The organizer's docking reports and the expo dashboard.

Proves, on a known set of meetings and outcomes: the figures of every breakdown (session, pavilion, buyer country,
delegation) and the headline (requested meetings and follow-ups do not count as orders; no-shows are not held);
the headline sentence in English and Chinese with its rounding (万/亿, "over"/超 only when rounding dropped
something, "about"/约 for yuan); the PDF read back with pypdf (both sentences, Chinese included) and the XLSX read
back with openpyxl; the report page, its downloads and the API for organizers only; and the organizer dashboard's
booths, fees (checked against the fee statements), exhibitors and buyers by country, check-ins per day and docking
results.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from decimal import Decimal

import pytest
from openpyxl import load_workbook
from pypdf import PdfReader
from sqlalchemy import select, update

from expo import dashboard
from expo.allocation.services import fee_statement
from expo.badges import services as badge_services
from expo.buyers.models import Buyer, Delegation
from expo.checkin.dashboard import to_utc
from expo.checkin.models import Checkpoint, Scan
from expo.docking import currencies, outcomes, report_render, reports
from expo.docking.models import DockingSession, MeetingStatus
from expo.exhibitors.models import ApplicationStatus, Exhibitor, SpaceApplication
from expo.exhibitors.services import current_expo
from expo.extensions import db
from expo.venue.models import Booth, BoothStatus, Pavilion
from tests.factories import user
from tests.test_docking_outcomes import make_meeting

RATES = currencies.rates({"USD": "7"})


@dataclass
class Known:
    """Ids of the known data set (see :func:`known`)."""

    session1: int
    session2: int
    pavilion1: int
    pavilion2: int
    ex_a: int
    ex_b: int
    ex_c: int
    ru_delegation: int
    vn_delegation: int


def _outcome(meeting, result, products="", pairs=0, value="0", currency="CNY"):
    outcomes.record_outcome(user("admin@expo.test"), meeting, outcomes.OutcomeData(
        result=result, products=products, quantity_pairs=pairs, value=Decimal(value), currency=currency), RATES)


def _build() -> Known:
    expo = current_expo()
    # Exhibitors A and B get one booth each in two pavilions; C none. Every other booth is freed.
    db.session.execute(update(Booth).values(status=BoothStatus.AVAILABLE.value, exhibitor_id=None))
    p1, p2 = db.session.scalars(select(Pavilion).where(Pavilion.expo_id == expo.id).order_by(Pavilion.id)).all()[:2]
    ex_a, ex_b = user("exhibitor@expo.test").exhibitor_id, user("ex000002@expo.test").exhibitor_id
    ex_c = db.session.scalars(select(Exhibitor.id).where(Exhibitor.id.not_in([ex_a, ex_b])).order_by(Exhibitor.id)).first()
    for exhibitor_id, pavilion in ((ex_a, p1), (ex_b, p2)):
        booth = db.session.scalars(select(Booth).where(Booth.pavilion_id == pavilion.id).order_by(Booth.id)).first()
        booth.status, booth.exhibitor_id = BoothStatus.ASSIGNED.value, exhibitor_id
    day1 = datetime.combine(expo.starts_on, time(9))
    s1 = DockingSession(expo_id=expo.id, name_zh="第一场对接会", name_en="First docking session", room="R1",
                        starts_at=day1, slot_minutes=20, slot_count=6, table_count=5)
    s2 = DockingSession(expo_id=expo.id, name_zh="第二场对接会", name_en="Second docking session", room="R2",
                        starts_at=day1 + timedelta(days=1), slot_minutes=20, slot_count=6, table_count=5)
    db.session.add_all([s1, s2])
    db.session.flush()
    br = db.session.scalar(select(Buyer).where(Buyer.user_id == user("buyer@expo.test").id))
    ru = db.session.scalar(select(Delegation).where(Delegation.country == "RU"))
    vn = db.session.scalar(select(Delegation).where(Delegation.country == "VN"))
    ru1, ru2 = ru.members[:2]
    vn1 = vn.members[0]

    def meet(buyer, exhibitor_id, session=None, slot=0, table=1, status=MeetingStatus.ACCEPTED):
        m = make_meeting(buyer.id, exhibitor_id, status)
        if session is not None:
            m.session_id, m.slot, m.table_no = session.id, slot, table
        return m

    _outcome(meet(br, ex_a, s1, 0, 1), "intention", "Running shoes", 1_000_000, "10000000")
    _outcome(meet(ru1, ex_a, s1, 1, 1), "agreement", "Winter boots", 2_500_000, "1000000", "USD")  # 7,000,000 yuan
    _outcome(meet(ru2, ex_b, s2, 0, 1), "follow_up", "Sandals", 100, "500")  # not an order: not counted
    _outcome(meet(vn1, ex_b, s2, 1, 1), "no_show")
    _outcome(meet(vn1, ex_c), "intention", "鞋材 Shoe materials", 3_000_000, "283000000")
    meet(br, ex_c, status=MeetingStatus.REQUESTED)  # never took place
    meet(ru1, ex_c)  # accepted, no outcome yet
    db.session.commit()
    return Known(s1.id, s2.id, p1.id, p2.id, ex_a, ex_b, ex_c, ru.id, vn.id)


@pytest.fixture
def known(app) -> Known:
    with app.app_context():
        return _build()


def F(meetings, held, intentions, agreements, pairs, value) -> reports.Figures:  # noqa: N802 - reads like a row
    return reports.Figures(meetings, held, intentions, agreements, pairs, Decimal(value).quantize(Decimal("0.01")))


def rows(breakdown: list[reports.Row]) -> list[tuple]:
    return [(r.key, r.figures) for r in breakdown]


# --- the breakdowns and the headline ---------------------------------------------------------------------------------

def test_breakdowns_on_a_known_data_set(ctx, known):
    expo = current_expo()
    in_s1, in_s2, loose = F(2, 2, 1, 1, 3_500_000, 17_000_000), F(2, 1, 0, 0, 0, 0), F(2, 1, 1, 0, 3_000_000, 283_000_000)
    assert rows(reports.by_session(expo)) == [(known.session1, in_s1), (known.session2, in_s2), (None, loose)]
    assert [r.label for r in reports.by_session(expo, "zh")] == ["第一场对接会", "第二场对接会", "Not in a session"]
    assert rows(reports.by_pavilion(expo)) == [(known.pavilion1, in_s1), (known.pavilion2, in_s2), (None, loose)]
    assert rows(reports.by_country(expo)) == [("VN", F(2, 1, 1, 0, 3_000_000, 283_000_000)),
                                              ("BR", F(1, 1, 1, 0, 1_000_000, 10_000_000)),
                                              ("RU", F(3, 2, 0, 1, 2_500_000, 7_000_000))]
    assert [r.label for r in reports.by_country(expo, "en")] == ["Vietnam", "Brazil", "Russia"]
    assert rows(reports.by_delegation(expo)) == [(known.vn_delegation, F(2, 1, 1, 0, 3_000_000, 283_000_000)),
                                                 (known.ru_delegation, F(3, 2, 0, 1, 2_500_000, 7_000_000)),
                                                 (None, F(1, 1, 1, 0, 1_000_000, 10_000_000))]


def test_headline_counts_companies_and_buyers_with_a_cooperation(ctx, known):
    head = reports.headline(current_expo())
    assert (head.meetings, head.held, head.intentions, head.agreements, head.pairs, head.value_cny) == \
        (6, 4, 2, 1, 6_500_000, Decimal("300000000.00"))
    assert (head.companies, head.buyers) == (2, 3)
    assert reports.sentence(head, "en") == \
        "2 companies reached cooperation intentions; orders of 6.5 million pairs, about 300 million yuan"
    assert reports.sentence(head, "zh") == "2家企业达成合作意向，加工订单650万双，约3亿元"


def test_every_breakdown_adds_up_to_the_headline(ctx, known):
    data = reports.report(current_expo())
    for name, breakdown in data.breakdowns.items():
        total = report_render.total(breakdown)
        assert (total.meetings, total.held, total.cooperations, total.pairs, total.value_cny) == \
            (6, 4, 3, 6_500_000, Decimal("300000000.00")), name


@pytest.mark.empty_db
def test_an_expo_without_meetings(ctx):
    from expo import demo

    demo.load(exhibitors=3, buyers=3, hall_capacity=10)
    data = reports.report(current_expo())
    assert data.headline.meetings == 0 and all(not r for r in data.breakdowns.values())
    assert data.sentence_en == "No company has reached a cooperation intention yet"
    assert data.sentence_zh == "尚无企业达成合作意向"


# --- the sentence and its rounding ---------------------------------------------------------------------------------

@pytest.mark.parametrize(("companies", "pairs", "value", "en", "zh"), [
    (6, 6_500_000, "300000000", "6 companies reached cooperation intentions; orders of 6.5 million pairs, "
                                "about 300 million yuan", "6家企业达成合作意向，加工订单650万双，约3亿元"),
    (6, 6_543_210, "301234567.89", "6 companies reached cooperation intentions; orders of over 6.5 million pairs, "
                                   "about 300 million yuan", "6家企业达成合作意向，加工订单超650万双，约3亿元"),
    (1, 8_543, "12345.67", "1 company reached cooperation intentions; orders of over 8,500 pairs, about 12,000 yuan",
     "1家企业达成合作意向，加工订单超8500双，约1.2万元"),
    (3, 99_999_999, "99999999", "3 companies reached cooperation intentions; orders of over 99 million pairs, "
                                "about 100 million yuan", "3家企业达成合作意向，加工订单超9900万双，约1亿元"),
    (2, 10_000, "1250000", "2 companies reached cooperation intentions; orders of 10,000 pairs, about 1.3 million "
                           "yuan", "2家企业达成合作意向，加工订单1万双，约130万元"),
    (12, 1_250_000_000, "15000000000", "12 companies reached cooperation intentions; orders of over 1.2 billion "
                                       "pairs, about 15 billion yuan", "12家企业达成合作意向，加工订单超12亿双，约150亿元"),
    (2, 0, "5000000", "2 companies reached cooperation intentions; orders worth about 5 million yuan",
     "2家企业达成合作意向，合作金额约500万元"),
    (2, 5, "0.4", "2 companies reached cooperation intentions; orders of 5 pairs", "2家企业达成合作意向，加工订单5双"),
    (1, 0, "0", "1 company reached cooperation intentions", "1家企业达成合作意向"),
    (4, 120_000, "2500000000000", "4 companies reached cooperation intentions; orders of 120,000 pairs, about 2.5 "
                                  "trillion yuan", "4家企业达成合作意向，加工订单12万双，约2.5万亿元"),
    (1_234, 9_999, "999", "1,234 companies reached cooperation intentions; orders of over 9,900 pairs, about 1,000 "
                          "yuan", "1234家企业达成合作意向，加工订单超9900双，约1000元"),
    (0, 0, "0", "No company has reached a cooperation intention yet", "尚无企业达成合作意向"),
])
def test_sentence_rounding(companies, pairs, value, en, zh):
    head = reports.Headline(pairs=pairs, value_cny=Decimal(value), companies=companies)
    assert reports.sentence(head, "en") == en
    assert reports.sentence(head, "zh") == zh


def test_amounts_in_words():
    assert [reports.amount_zh(n) for n in (9_999, 10_000, 15_000, 100_000_000, 120_000_000, 10**12)] == \
        ["9999", "1万", "1.5万", "1亿", "1.2亿", "1万亿"]
    assert [reports.amount_en(n) for n in (999_999, 1_000_000, 25_000_000, 10**9)] == \
        ["999,999", "1 million", "25 million", "1 billion"]


# --- PDF and XLSX --------------------------------------------------------------------------------------------------

def test_pdf_reads_back_with_both_sentences(ctx, known):
    data = reports.report(current_expo(), "zh")
    pdf = report_render.render_pdf(data, report_render.Labels(title="供需对接报告", expo="晋江鞋博会"))
    text = "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)
    flat = " ".join(text.split())
    assert "2家企业达成合作意向，加工订单650万双，约3亿元" in text.replace("\n", "")
    assert "2 companies reached cooperation intentions; orders of 6.5 million pairs, about 300 million yuan" in flat
    for expected in ("供需对接报告", "晋江鞋博会", "第一场对接会", "Not in a session", "283,000,000", "6,500,000",
                     "300,000,000"):
        assert expected in flat, expected


def test_xlsx_reads_back_one_sheet_per_breakdown(ctx, known):
    data = reports.report(current_expo())
    wb = load_workbook(io.BytesIO(report_render.render_xlsx(data, report_render.Labels())))
    assert wb.sheetnames == ["Headline", "By docking session", "By pavilion", "By buyer country or region",
                             "By delegation"]
    head = [tuple(r) for r in wb["Headline"].iter_rows(values_only=True)]
    assert (data.sentence_zh,) == tuple(v for v in head[3] if v is not None)
    assert ("Pairs", 6_500_000) in head and ("Value (yuan)", 300_000_000) in head
    countries = list(wb["By buyer country or region"].iter_rows(values_only=True))
    assert countries[0] == ("Name", "Meetings", "Held", "Intentions", "Agreements", "Pairs", "Value (yuan)")
    assert countries[1] == ("Vietnam", 2, 1, 1, 0, 3_000_000, 283_000_000)
    assert countries[-1] == ("Total", 6, 4, 2, 1, 6_500_000, 300_000_000)


# --- pages and API ---------------------------------------------------------------------------------------------------

def test_report_page_and_downloads_for_organizers(client, auth, known):
    auth.login("staff@expo.test")
    page = client.get("/docking/reports").get_data(as_text=True)
    assert "2 companies reached cooperation intentions; orders of 6.5 million pairs, about 300 million yuan" in page
    assert "2家企业达成合作意向，加工订单650万双，约3亿元" in page
    assert 'id="chart-pavilion"' in page and "<svg" in page and "First docking session" in page
    r = client.get("/docking/reports/docking-report.pdf")
    assert r.status_code == 200 and r.mimetype == "application/pdf" and r.data.startswith(b"%PDF")
    r = client.get("/docking/reports/docking-report.xlsx")
    assert r.status_code == 200 and load_workbook(io.BytesIO(r.data)).sheetnames[0] == "Headline"


def test_report_page_in_chinese_puts_the_chinese_sentence_first(client, auth, known):
    auth.login("admin@expo.test")
    page = client.get("/docking/reports", headers={"Accept-Language": "zh-CN"}).get_data(as_text=True)
    assert page.index("约3亿元") < page.index("about 300 million yuan")


@pytest.mark.parametrize("email", ["exhibitor@expo.test", "buyer@expo.test", "leader@expo.test"])
def test_reports_are_for_organizers_only(client, auth, token, app, email):
    auth.login(email)
    for url in ("/docking/reports", "/docking/reports/docking-report.pdf", "/docking/reports/docking-report.xlsx"):
        assert client.get(url).status_code == 403, url
    assert app.test_client().get("/api/v1/docking/reports/summary", headers=token(email)).status_code == 403


def test_api_summary(client, token, known):
    r = client.get("/api/v1/docking/reports/summary", headers=token("admin@expo.test"))
    assert r.status_code == 200
    body = r.get_json()
    assert body["headline"] == {"meetings": 6, "held": 4, "intentions": 2, "agreements": 1, "pairs": 6_500_000,
                                "value_cny": "300000000.00", "companies": 2, "buyers": 3}
    assert body["sentence_zh"] == "2家企业达成合作意向，加工订单650万双，约3亿元"
    assert [(r["key"], r["pairs"]) for r in body["session"]] == [(known.session1, 3_500_000),
                                                                 (known.session2, 0), (None, 3_000_000)]
    assert body["country"][0] == {"key": "VN", "label": "Vietnam", "meetings": 2, "held": 1, "intentions": 1,
                                  "agreements": 0, "pairs": 3_000_000, "value_cny": "283000000.00"}


# --- the dashboard ---------------------------------------------------------------------------------------------------

def _scan(expo, checkpoint, badge_id, local: datetime, n: int, result="admitted"):
    at = to_utc(local)
    db.session.add(Scan(expo_id=expo.id, checkpoint_id=checkpoint.id, badge_id=badge_id, device_id="test",
                        nonce=f"n{n}", direction="in", result=result, scanned_at=at, received_at=at))


def test_dashboard_figures(ctx):
    expo = current_expo()
    figures = dashboard.figures(expo)
    booths = db.session.scalars(select(Booth).where(Booth.expo_id == expo.id)).all()
    assert figures.booths_sold == sum(b.status == "assigned" for b in booths) > 0
    assert figures.booths_free == sum(b.status == "available" for b in booths) > 0
    # The fees agree with each exhibitor's fee statement.
    by_status: dict[str, int] = {}
    for exhibitor in {b.exhibitor for b in booths if b.status == "assigned"}:
        statement = fee_statement(expo, exhibitor)
        by_status[statement.payment_status] = by_status.get(statement.payment_status, 0) + statement.total_cny
    assert figures.fees.by_status == by_status
    assert figures.fees.invoiced == sum(v for k, v in by_status.items() if k in ("invoiced", "partial", "paid"))
    assert figures.fees.paid == by_status.get("paid", 0)
    assert 0 < figures.fees.paid < figures.fees.invoiced <= figures.fees.total  # paid, partial and invoiced ones
    approved = db.session.scalars(select(SpaceApplication).where(
        SpaceApplication.status == ApplicationStatus.APPROVED.value)).all()
    assert sum(n for _c, n in figures.exhibitors_by_country) == len(approved)
    assert sum(n for _c, n in figures.buyers_by_country) == len(db.session.scalars(select(Buyer.id)).all())
    assert figures.buyers_by_country[0][1] >= figures.buyers_by_country[-1][1]


def test_checkins_per_day_count_entries_at_the_entrances(ctx):
    expo = current_expo()
    gate = Checkpoint(expo_id=expo.id, code="E1", name_zh="东门", name_en="East gate", kind="entrance",
                      badge_type_ids=[], days=[])
    hall = Checkpoint(expo_id=expo.id, code="H1", name_zh="一号馆", name_en="Hall 1", kind="hall",
                      badge_type_ids=[], days=[])
    db.session.add_all([gate, hall])
    buyers = db.session.scalars(select(Buyer).order_by(Buyer.id).limit(2)).all()
    badges = [badge_services.issue_for(None, expo, badge_services.holder_of_buyer(b)).id for b in buyers]
    day1, day2 = expo.starts_on, expo.starts_on + timedelta(days=1)
    _scan(expo, gate, badges[0], datetime.combine(day1, time(0, 5)), 1)  # just after midnight at the venue
    _scan(expo, gate, badges[0], datetime.combine(day1, time(14)), 2)  # came back in the afternoon
    _scan(expo, gate, badges[1], datetime.combine(day1, time(23, 55)), 3)
    _scan(expo, gate, badges[1], datetime.combine(day1, time(10)), 4, result="refused")  # not counted
    _scan(expo, hall, badges[1], datetime.combine(day1, time(10)), 5)  # a hall door, not an entrance
    _scan(expo, gate, badges[1], datetime.combine(day2, time(9)), 6)
    db.session.flush()
    days = dashboard.checkins_per_day(expo)
    assert days[0] == (day1, 3, 2) and days[1] == (day2, 1, 1)
    assert len(days) == (expo.ends_on - expo.starts_on).days + 1 and all(d[1] == 0 for d in days[2:])


def test_dashboard_page_shows_the_figures_and_charts(client, auth, known, app):
    with app.app_context():
        figures = dashboard.figures(current_expo())
    auth.login("admin@expo.test")
    page = client.get("/organizer/").get_data(as_text=True)
    assert f'id="booths-sold">{figures.booths_sold}<' in page
    assert f'id="fees-invoiced">¥{figures.fees.invoiced:,}<' in page
    assert f'id="fees-paid">¥{figures.fees.paid:,}<' in page
    assert 'id="docking-companies">2<' in page
    assert "2 companies reached cooperation intentions; orders of 6.5 million pairs, about 300 million yuan" in page
    for chart in ("booths", "fees", "exhibitors", "buyers", "checkins"):
        assert f'id="chart-{chart}"' in page
    assert page.count("<svg") >= 5
