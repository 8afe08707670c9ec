"""Personal docking schedules as PDF: data in, bytes out; no Flask, no database.

One A4 schedule per person (a buyer or an exhibitor): the expo, the person's name in both languages, then a table of
their meetings by time — date and time, docking session and room, table number, and whom they meet (English and
Chinese names, company, country) — then the accepted meetings not yet given a time, and the requests still waiting.
A delegation's schedules come in one file, each member's starting on a new page; every page says whose schedule it
is and "page n of m" of that schedule, so pages handed out at the desk cannot be mixed up.

The labels are printed in both languages, like the invitation letters, whatever the reader's language. Chinese text
is drawn with the embedded CJK font of :mod:`expo.pdf.fonts`, so it stays extractable.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Protocol

from reportlab.lib.colors import HexColor
from reportlab.lib.units import mm
from reportlab.pdfgen.canvas import Canvas

from expo.letters.pdf import wrap
from expo.pdf.fonts import LATIN
from expo.pdf.writer import Op, PageWriter

MARGIN_X = 16 * mm
MARGIN_TOP = 16 * mm
MARGIN_BOTTOM = 16 * mm
BODY = 9.0
SMALL = 7.5
LEADING = 1.3
DARK = HexColor("#1a1a1a")
GREY = HexColor("#666666")
RULE = HexColor("#1f4e8a")
SHADE = HexColor("#eef2f7")


# --- the data a schedule prints (duck-typed: expo.docking.meetings' Schedule, Entry and Party fit) ------------------

class Party(Protocol):
    kind: str
    name_en: str
    name_zh: str
    company: str
    country: str


class Entry(Protocol):
    status: str
    other: Party
    session_name_en: str
    session_name_zh: str
    room: str
    table_no: int | None
    starts_at: datetime | None
    ends_at: datetime | None


class Schedule(Protocol):
    kind: str
    name_en: str
    name_zh: str
    company: str
    country: str
    meetings: list
    incoming: list
    outgoing: list


@dataclass(frozen=True)
class Document:
    """What one PDF prints: the expo, and one or more people's schedules."""

    expo_name_zh: str
    expo_name_en: str
    starts_on: date | None
    ends_on: date | None
    schedules: Sequence[Schedule]
    country_names: dict[str, str] | None = None  # ISO code → "English / 中文" (the code alone when missing)
    venue: str = ""


# --- words ---------------------------------------------------------------------------------------------------------

def when(entry: Entry) -> str:
    """``2026-05-12 09:20–09:40`` (local venue time), or "" when not placed."""
    if entry.starts_at is None:
        return ""
    end = f"–{entry.ends_at:%H:%M}" if entry.ends_at is not None else ""
    return f"{entry.starts_at:%Y-%m-%d %H:%M}{end}"


def _both(en: str, zh: str) -> str:
    """English and Chinese on two lines, once when they are the same or one is missing."""
    en, zh = (en or "").strip(), (zh or "").strip()
    if en and zh and en != zh:
        return f"{en}\n{zh}"
    return en or zh


def party_text(party: Party, countries: dict[str, str] | None = None) -> str:
    country = (countries or {}).get(party.country, party.country) if party.country else ""
    tail = " · ".join(x for x in (party.company, country) if x)
    return _both(party.name_en, party.name_zh) + (f"\n{tail}" if tail else "")


def place_text(entry: Entry) -> str:
    session = _both(entry.session_name_en, entry.session_name_zh)
    room = f"Room / 会场: {entry.room}" if entry.room else ""
    return "\n".join(x for x in (session, room) if x)


COLUMNS: tuple[tuple[str, float, Callable[[Entry, dict[str, str] | None], str]], ...] = (
    ("Time\n时间", 33, lambda e, _c: when(e).replace(" ", "\n", 1)),
    ("Session and room\n洽谈会及会场", 48, lambda e, _c: place_text(e)),
    ("Table\n桌号", 15, lambda e, _c: str(e.table_no) if e.table_no is not None else ""),
    ("Meeting with\n洽谈对象", 82, lambda e, c: party_text(e.other, c)),
)

PENDING = (
    ("With\n洽谈对象", 120, lambda e, c: party_text(e.other, c)),
    ("Status\n状态", 58, lambda e, _c: STATUS.get(e.status, e.status)),
)

STATUS = {"requested": "Waiting for an answer / 待答复", "accepted": "Accepted, time to follow / 已接受，时间待定"}


# --- layout ----------------------------------------------------------------------------------------------------------



class _Writer(PageWriter):
    def __init__(self, doc: Document) -> None:
        super().__init__("A4")
        self.doc = doc
        self.who = ""

    def lines(self, text: str, size: float, width: float, bold: bool = False) -> list[str]:
        out: list[str] = []
        for part in text.split("\n"):
            out.extend(wrap(part, self.font(part, bold), size, width))
        return out

    def paragraph(self, text: str, size: float = BODY, *, bold: bool = False, colour=DARK, gap: float = 1.5 * mm):
        for line in self.lines(text, size, self.width - 2 * MARGIN_X, bold):
            self.need(size * LEADING)
            self.y -= size * LEADING
            self.text(MARGIN_X, self.y + size * 0.25, line, size, bold=bold, colour=colour)
        self.y -= gap

    def need(self, height: float) -> bool:
        if self.y - height < MARGIN_BOTTOM + 8 * mm:
            self.new_page(continued=True)
            return True
        return False

    def new_page(self, continued: bool = False) -> None:
        self.pages.append([])
        self.y = self.height - MARGIN_TOP
        if continued:
            self.text(MARGIN_X, self.y - 8, f"{self.who}  (continued / 续)", SMALL + 1, bold=True, colour=GREY)
            self.y -= 16

    # -- one schedule ---------------------------------------------------------------------------------------------
    def write(self, schedule: Schedule) -> None:
        doc = self.doc
        self.who = " ".join(x for x in (schedule.name_en, schedule.name_zh) if x)
        first = len(self.pages)
        self.new_page()
        self.paragraph(_both(doc.expo_name_en, doc.expo_name_zh), 10, bold=True, colour=RULE, gap=0)
        dates = " – ".join(d.isoformat() for d in (doc.starts_on, doc.ends_on) if d)
        if dates or doc.venue:
            self.paragraph(" · ".join(x for x in (dates, doc.venue) if x), SMALL + 0.5, colour=GREY, gap=1 * mm)
        self.rule()
        title = ("Docking schedule / 洽谈日程" if schedule.kind == "buyer"
                 else "Docking schedule (exhibitor) / 参展商洽谈日程")
        self.paragraph(title, 14, bold=True, gap=1 * mm)
        self.paragraph(_both(schedule.name_en, schedule.name_zh), 12, bold=True, gap=0.5 * mm)
        country = (doc.country_names or {}).get(schedule.country, schedule.country) if schedule.country else ""
        tail = " · ".join(x for x in (schedule.company, country) if x)
        if tail:
            self.paragraph(tail, BODY, colour=GREY)
        placed = [e for e in schedule.meetings if e.starts_at is not None]
        unplaced = [e for e in schedule.meetings if e.starts_at is None]
        self.y -= 2 * mm
        self.paragraph(f"Meetings / 洽谈安排 ({len(placed)})", 11, bold=True)
        if placed:
            self.table(COLUMNS, placed)
        else:
            self.paragraph("No meeting has a time yet. / 暂无已排定时间的洽谈。", BODY, colour=GREY)
        if unplaced:
            self.y -= 3 * mm
            self.paragraph(f"Accepted, time to follow / 已接受，时间待定 ({len(unplaced)})", 11, bold=True)
            self.table(PENDING, unplaced)
        waiting = list(schedule.incoming) + list(schedule.outgoing)
        if waiting:
            self.y -= 3 * mm
            self.paragraph(f"Requests waiting for an answer / 待答复的洽谈邀请 ({len(waiting)})", 11, bold=True)
            self.table(PENDING, waiting)
        self.y -= 3 * mm
        self.paragraph("Times are local venue time. Please be at your table a few minutes early and bring your "
                       "badge. / 时间为展馆当地时间。请提前几分钟到达洽谈桌并佩戴证件。", SMALL + 0.5, colour=GREY)
        pages = self.pages[first:]
        for i, page in enumerate(pages, 1):
            page.append(self.footer_op(i, len(pages)))

    def rule(self) -> None:
        y = self.y - 1 * mm

        def draw(c: Canvas) -> None:
            c.setStrokeColor(RULE)
            c.setLineWidth(1.2)
            c.line(MARGIN_X, y, self.width - MARGIN_X, y)

        self.op(draw)
        self.y -= 4 * mm

    def table(self, columns, rows: Sequence[Entry]) -> None:
        pad = 1.6 * mm
        widths = [w * mm for _h, w, _f in columns]

        def draw_row(cells: list[list[str]], size: float, *, bold: bool = False, shade: bool = False) -> None:
            height = max(len(c) for c in cells) * size * LEADING + 2 * pad
            if self.need(height):
                self.draw_header(columns, widths, pad)
            top = self.y
            if shade:
                def fill(c: Canvas, top=top, height=height) -> None:
                    c.setFillColor(SHADE)
                    c.rect(MARGIN_X, top - height, sum(widths), height, stroke=0, fill=1)
                self.op(fill)
            x = MARGIN_X
            for lines, w in zip(cells, widths, strict=True):
                for i, line in enumerate(lines):
                    self.text(x + pad, top - pad - (i + 1) * size * LEADING + size * 0.3, line, size, bold=bold)
                x += w

            def border(c: Canvas, top=top, height=height) -> None:
                c.setStrokeColor(GREY)
                c.setLineWidth(0.3)
                c.line(MARGIN_X, top - height, MARGIN_X + sum(widths), top - height)

            self.op(border)
            self.y -= height

        self.draw_header(columns, widths, pad)
        for n, entry in enumerate(rows):
            cells = [fn(entry, self.doc.country_names) for _h, _w, fn in columns]
            draw_row(self.cell_lines(cells, widths, pad, BODY), BODY, shade=n % 2 == 1)
        self.y -= 1 * mm

    def cell_lines(self, cells: list[str], widths: list[float], pad: float, size: float,
                   bold: bool = False) -> list[list[str]]:
        return [self.lines(text, size, w - 2 * pad, bold) for text, w in zip(cells, widths, strict=True)]

    def draw_header(self, columns, widths, pad) -> None:
        cells = self.cell_lines([h for h, _w, _f in columns], widths, pad, SMALL + 0.5, True)
        height = max(len(c) for c in cells) * (SMALL + 0.5) * LEADING + 2 * pad
        self.need(height)
        top = self.y
        x = MARGIN_X
        for lines, w in zip(cells, widths, strict=True):
            for i, line in enumerate(lines):
                self.text(x + pad, top - pad - (i + 1) * (SMALL + 0.5) * LEADING + 2, line, SMALL + 0.5, bold=True,
                          colour=GREY)
            x += w

        def line(c: Canvas, top=top, height=height) -> None:
            c.setStrokeColor(DARK)
            c.setLineWidth(0.8)
            c.line(MARGIN_X, top - height, MARGIN_X + sum(widths), top - height)

        self.op(line)
        self.y -= height

    def footer_op(self, page: int, pages: int) -> Op:
        who, width = self.who, self.width
        font = self.font(who)

        def draw(c: Canvas) -> None:
            c.setFillColor(GREY)
            c.setFont(font, SMALL)
            c.drawString(MARGIN_X, MARGIN_BOTTOM - 4 * mm, who)
            c.setFont(LATIN, SMALL)
            c.drawRightString(width - MARGIN_X, MARGIN_BOTTOM - 4 * mm, f"Page {page} of {pages}")

        return draw

    def finish(self) -> bytes:
        for page in self.pages:
            for fn in page:
                fn(self.canvas)
            self.canvas.showPage()
        self.canvas.save()
        return self.buffer.getvalue()


def render(doc: Document) -> bytes:
    """The schedules of ``doc`` as one PDF, each starting on a new page."""
    writer = _Writer(doc)
    for schedule in doc.schedules:
        writer.write(schedule)
    if not writer.pages:
        writer.new_page()
    return writer.finish()
