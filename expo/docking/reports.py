"""The organizer's docking reports: what the meetings of an expo came to, by session, pavilion, buyer country and
delegation, and the headline in the words of the press reports.

Definitions (the same in every breakdown, the headline, the PDF and the XLSX):

- *meetings*: accepted meetings (requested, declined and cancelled ones never took place);
- *held*: accepted meetings with a recorded outcome other than "no-show";
- *intentions* / *agreements*: outcomes of those results; together they are the *cooperations*;
- *pairs* and *value*: the quantities and the values in yuan (:attr:`MeetingOutcome.value_cny`) of the
  cooperations only — a follow-up is not an order yet;
- *companies*: exhibitors with at least one cooperation.

An exhibitor's *pavilion* is the themed pavilion of its assigned booths at the expo (the lowest pavilion id when its
booths lie in several; exhibitors without a booth in a pavilion are counted under "no pavilion").

Each breakdown is one GROUP BY statement; nothing here reads the request.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal

from flask_babel import lazy_gettext as _l
from sqlalchemy import ColumnElement, Select, case, func, select

from expo import countries
from expo.buyers.models import Buyer, Delegation
from expo.docking.models import (
    COOPERATION_RESULTS,
    DockingSession,
    Meeting,
    MeetingOutcome,
    MeetingStatus,
    OutcomeResult,
)
from expo.extensions import db
from expo.venue.models import Booth, BoothStatus, Expo, Pavilion

_COOPERATION = [r.value for r in COOPERATION_RESULTS]


@dataclass
class Figures:
    """What a group of meetings came to."""

    meetings: int = 0
    held: int = 0
    intentions: int = 0
    agreements: int = 0
    pairs: int = 0
    value_cny: Decimal = Decimal(0)

    @property
    def cooperations(self) -> int:
        return self.intentions + self.agreements


@dataclass
class Row:
    """One line of a breakdown: its key (a session, pavilion or delegation id, a country code; ``None`` for the
    meetings outside any), its label in the reader's language, and its figures."""

    key: int | str | None
    label: str
    figures: Figures


@dataclass
class Headline(Figures):
    """The expo's totals, with the number of exhibitors (companies) and buyers that reached a cooperation."""

    companies: int = 0
    buyers: int = 0


@dataclass
class DockingReport:
    """The whole report, as the page, the PDF and the XLSX show it."""

    headline: Headline
    sentence_en: str
    sentence_zh: str
    breakdowns: dict[str, list[Row]] = field(default_factory=dict)  # "session", "pavilion", "country", "delegation"


BREAKDOWNS = ("session", "pavilion", "country", "delegation")


# --- queries ---------------------------------------------------------------------------------------------------------

def _figure_columns() -> list[ColumnElement]:
    coop = MeetingOutcome.result.in_(_COOPERATION)
    return [
        func.count(Meeting.id),
        func.count(MeetingOutcome.id).filter(MeetingOutcome.result != OutcomeResult.NO_SHOW.value),
        func.count(MeetingOutcome.id).filter(MeetingOutcome.result == OutcomeResult.INTENTION.value),
        func.count(MeetingOutcome.id).filter(MeetingOutcome.result == OutcomeResult.AGREEMENT.value),
        func.coalesce(func.sum(case((coop, MeetingOutcome.quantity_pairs), else_=0)), 0),
        func.coalesce(func.sum(case((coop, MeetingOutcome.value_cny), else_=0)), 0),
    ]


def _figures(values) -> Figures:
    meetings, held, intentions, agreements, pairs, value = values
    return Figures(int(meetings), int(held), int(intentions), int(agreements), int(pairs or 0), _yuan(value))


def _yuan(value) -> Decimal:
    # SQLite sums NUMERIC as a float: back to fen.
    return Decimal(str(value or 0)).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


def _meetings(expo: Expo, *columns) -> Select:
    return (select(*columns).select_from(Meeting).outerjoin(MeetingOutcome, MeetingOutcome.meeting_id == Meeting.id)
            .where(Meeting.expo_id == expo.id, Meeting.status == MeetingStatus.ACCEPTED.value))


def _grouped(expo: Expo, key, *joins) -> dict:
    stmt = _meetings(expo, key, *_figure_columns())
    for join in joins:
        stmt = stmt.outerjoin(*join)
    return {row[0]: _figures(row[1:]) for row in db.session.execute(stmt.group_by(key))}


def _ordered(rows: list[Row]) -> list[Row]:
    """Most value first, then most pairs, then most meetings; the group of "none" last."""
    return sorted(rows, key=lambda r: (r.key is None, -r.figures.value_cny, -r.figures.pairs, -r.figures.meetings,
                                       r.label))


def by_session(expo: Expo, lang: str = "en") -> list[Row]:
    """Per docking session, in the order of the sessions; meetings not (yet) in a session last."""
    groups = _grouped(expo, Meeting.session_id)
    sessions = {s.id: s for s in db.session.scalars(select(DockingSession).where(
        DockingSession.id.in_([k for k in groups if k is not None])))} if groups else {}
    rows = [Row(sid, sessions[sid].display_name(lang), figures) for sid, figures in groups.items() if sid is not None]
    rows.sort(key=lambda r: (sessions[r.key].starts_at, r.key))
    if None in groups:
        rows.append(Row(None, str(_l("Not in a session")), groups[None]))
    return rows


def _pavilion_of_exhibitor(expo: Expo):
    return (select(Booth.exhibitor_id.label("exhibitor_id"), func.min(Booth.pavilion_id).label("pavilion_id"))
            .where(Booth.expo_id == expo.id, Booth.status == BoothStatus.ASSIGNED.value,
                   Booth.pavilion_id.is_not(None), Booth.exhibitor_id.is_not(None))
            .group_by(Booth.exhibitor_id).subquery())


def by_pavilion(expo: Expo, lang: str = "en") -> list[Row]:
    """Per themed pavilion of the exhibitors' booths."""
    pav = _pavilion_of_exhibitor(expo)
    groups = _grouped(expo, pav.c.pavilion_id, (pav, pav.c.exhibitor_id == Meeting.exhibitor_id))
    pavilions = {p.id: p for p in db.session.scalars(select(Pavilion).where(Pavilion.expo_id == expo.id))}
    rows = [Row(pid, _local_name(pavilions[pid], lang) if pid in pavilions else str(pid), figures)
            for pid, figures in groups.items() if pid is not None]
    if None in groups:
        rows.append(Row(None, str(_l("No pavilion")), groups[None]))
    return _ordered(rows)


def _local_name(obj, lang: str) -> str:
    first, second = (obj.name_zh, obj.name_en) if lang == "zh" else (obj.name_en, obj.name_zh)
    return first or second or ""


def by_country(expo: Expo, lang: str = "en") -> list[Row]:
    """Per country or region of the buyers."""
    groups = _grouped(expo, Buyer.country, (Buyer, Buyer.id == Meeting.buyer_id))
    return _ordered([Row(code, countries.name(code, lang) if code else str(_l("Unknown")), figures)
                     for code, figures in groups.items()])


def by_delegation(expo: Expo, lang: str = "en") -> list[Row]:
    """Per buyer delegation; buyers who came on their own last."""
    groups = _grouped(expo, Buyer.delegation_id, (Buyer, Buyer.id == Meeting.buyer_id))
    names = dict(db.session.execute(select(Delegation.id, Delegation.name).where(
        Delegation.id.in_([k for k in groups if k is not None]))).all()) if groups else {}
    rows = [Row(did, names.get(did, str(did)), figures) for did, figures in groups.items() if did is not None]
    if None in groups:
        rows.append(Row(None, str(_l("Individual buyers")), groups[None]))
    return _ordered(rows)


def headline(expo: Expo) -> Headline:
    """The expo's totals: meetings, cooperations, pairs, value, and the companies and buyers that cooperate."""
    coop = MeetingOutcome.result.in_(_COOPERATION)
    row = db.session.execute(_meetings(
        expo, *_figure_columns(), func.count(func.distinct(case((coop, Meeting.exhibitor_id)))),
        func.count(func.distinct(case((coop, Meeting.buyer_id)))))).one()
    figures = _figures(row[:6])
    return Headline(**vars(figures), companies=int(row[6]), buyers=int(row[7]))


def report(expo: Expo, lang: str = "en") -> DockingReport:
    """Everything the report page, the PDF and the XLSX show."""
    head = headline(expo)
    return DockingReport(head, sentence(head, "en"), sentence(head, "zh"),
                         {"session": by_session(expo, lang), "pavilion": by_pavilion(expo, lang),
                          "country": by_country(expo, lang), "delegation": by_delegation(expo, lang)})


# --- the headline sentence ----------------------------------------------------------------------------------------

def _significant(n: int, digits: int = 2, *, down: bool) -> int:
    """``n`` rounded to ``digits`` significant digits: down (floor) or half up."""
    if n <= 0:
        return 0
    scale = 10 ** max(int(math.log10(n)) + 1 - digits, 0)
    if down:
        return n // scale * scale
    return (n + scale // 2) // scale * scale if scale > 1 else n


def _mantissa(n: int, unit: int) -> str:
    """``n / unit`` with at most one decimal and no trailing ``.0`` (``n`` has two significant digits)."""
    text = f"{Decimal(n) / Decimal(unit):.1f}"
    return text[:-2] if text.endswith(".0") else text


EN_UNITS = ((10**12, "trillion"), (10**9, "billion"), (10**6, "million"))
ZH_UNITS = ((10**12, "万亿"), (10**8, "亿"), (10**4, "万"))


def amount_en(n: int) -> str:
    """A rounded amount in words: 6,500,000 → "6.5 million"; under a million with thousands separators."""
    for unit, word in EN_UNITS:
        if n >= unit:
            return f"{_mantissa(n, unit)} {word}"
    return f"{n:,}"


def amount_zh(n: int) -> str:
    """A rounded amount with 万/亿: 6,500,000 → "650万", 300,000,000 → "3亿", 120,000,000 → "1.2亿"."""
    for unit, word in ZH_UNITS:
        if n >= unit:
            return f"{_mantissa(n, unit)}{word}"
    return str(n)


def sentence(head: Headline, lang: str) -> str:
    """The headline as the press reports it, in English or Chinese.

    "6 companies reached cooperation intentions; orders of 6.5 million pairs, about 300 million yuan" /
    "6家企业达成合作意向，加工订单超650万双，约3亿元". Pairs are rounded *down* to two significant digits and said
    to be "over" (超) the figure when that dropped anything; the value is rounded to the nearest two significant
    digits of a yuan and always "about" (约): it went through exchange rates. A part with nothing to say is left out.
    """
    pairs = _significant(head.pairs, down=True)
    more = pairs < head.pairs
    value = _significant(int(head.value_cny.to_integral_value(rounding=ROUND_HALF_UP)), down=False)
    if lang == "zh":
        if not head.companies:
            return "尚无企业达成合作意向"
        parts = [f"{head.companies}家企业达成合作意向"]
        if pairs:
            parts.append(f"加工订单{'超' if more else ''}{amount_zh(pairs)}双")
        if value:
            parts.append(f"{'' if pairs else '合作金额'}约{amount_zh(value)}元")
        return "，".join(parts)
    if not head.companies:
        return "No company has reached a cooperation intention yet"
    text = f"{head.companies:,} {'company' if head.companies == 1 else 'companies'} reached cooperation intentions"
    orders = []
    if pairs:
        orders.append(f"orders of {'over ' if more else ''}{amount_en(pairs)} pairs")
    if value:
        orders.append(f"about {amount_en(value)} yuan")
    if orders and not pairs:
        orders[0] = "orders worth " + orders[0]
    return text + ("; " + ", ".join(orders) if orders else "")
