"""Visa invitation letters as PDF: data in, bytes out; no Flask, no database.

One bilingual A4 letter serves an embassy or consulate: the organizer's letterhead, the reference number printed
large beside a QR code that opens the public verification page, the invitation in English and then in Chinese,
the invited people (one person as a block of particulars, a delegation as a table), the purpose of the visit, the
organizer's undertaking and the signatory. A letter that runs over a page continues with its reference repeated,
and every page says "page n of m" of its own letter, so pages of a batch cannot be shuffled between letters
unnoticed.

The words printed are fixed in both languages here, not taken from the reader's locale: the letter always carries
both. Chinese text is drawn with the embedded TrueType CJK font of :mod:`expo.pdf.fonts`, so it stays extractable.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from reportlab.lib.colors import HexColor, white
from reportlab.lib.units import mm
from reportlab.pdfbase.pdfmetrics import stringWidth
from reportlab.pdfgen.canvas import Canvas

from expo.pdf.fonts import LATIN_BOLD
from expo.pdf.qr import draw_qr, qr_matrix
from expo.pdf.writer import Op, PageWriter

MARGIN_X = 18 * mm
MARGIN_TOP = 16 * mm
MARGIN_BOTTOM = 18 * mm
BODY = 9.5  # body text size in points
SMALL = 7.5
DARK = HexColor("#1a1a1a")
GREY = HexColor("#666666")
RULE = HexColor("#8a1f1f")  # the letterhead's rule: a seal-red line
SHADE = HexColor("#f1ece4")
QR_SIZE = 27 * mm


# --- the data a letter prints --------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Organizer:
    """The letterhead and the signature block (the Expo's ``organizer_*`` fields and ``letter_signatory``)."""

    name_zh: str
    name_en: str
    address_zh: str = ""
    address_en: str = ""
    phone: str = ""
    email: str = ""
    signatory: str = ""


@dataclass(frozen=True)
class Event:
    """The expo the invitation is for."""

    name_zh: str
    name_en: str
    starts_on: date
    ends_on: date
    venue_zh: str = ""
    venue_en: str = ""
    city_zh: str = ""
    city_en: str = ""


@dataclass(frozen=True)
class Person:
    """One invited person as printed: from the letter's stored snapshot, never re-read."""

    name: str
    name_native: str = ""
    nationality: str = ""  # ISO code
    nationality_en: str = ""
    nationality_zh: str = ""
    date_of_birth: str = ""  # ISO date or ""
    passport_number: str = ""
    passport_expires_on: str = ""  # ISO date or ""
    company: str = ""
    job_title: str = ""


@dataclass(frozen=True)
class Letter:
    """Everything one letter prints. ``delegation`` names the group for a delegation's letter (all its members in
    ``people``) and for a member's own letter (one person); ``None`` for a buyer travelling alone."""

    reference: str
    issued_on: date
    verify_url: str
    organizer: Organizer
    event: Event
    people: tuple[Person, ...]
    delegation: str | None = None
    delegation_organization: str = ""
    group: bool = False  # the delegation's letter (a table of members), not one person's
    stay_from: date | None = None
    stay_to: date | None = None
    revoked: bool = False  # printed across the page when an organizer downloads a revoked letter


# --- words ---------------------------------------------------------------------------------------------------------

def date_en(d: date | str | None) -> str:
    if not d:
        return ""
    d = date.fromisoformat(d) if isinstance(d, str) else d
    return f"{d.day} {d:%B} {d.year}"


def date_zh(d: date | str | None) -> str:
    if not d:
        return ""
    d = date.fromisoformat(d) if isinstance(d, str) else d
    return f"{d.year}年{d.month}月{d.day}日"


def _where_en(e: Event) -> str:
    return ", ".join(p for p in (e.venue_en, e.city_en) if p)


def _where_zh(e: Event) -> str:
    return f"{e.city_zh}{e.venue_zh}"


def intro_en(letter: Letter) -> str:
    e, o = letter.event, letter.organizer
    when = f"from {date_en(e.starts_on)} to {date_en(e.ends_on)}"
    where = f" at {_where_en(e)}" if _where_en(e) else ""
    if letter.group:
        org = f" of {letter.delegation_organization}" if letter.delegation_organization else ""
        n = len(letter.people)
        who = (f"the delegation “{letter.delegation}”{org}, the {n} person{'s' if n != 1 else ''} listed below,")
    elif letter.delegation:
        who = f"the person named below, a member of the delegation “{letter.delegation}”,"
    else:
        who = "the person named below"
    return (f"{o.name_en or o.name_zh} has the pleasure of inviting {who} to visit the People's Republic of China "
            f"as trade buyer{'s' if letter.group and len(letter.people) != 1 else ''} at the {e.name_en or e.name_zh}, "
            f"held{where} {when}.")


def intro_zh(letter: Letter) -> str:
    e, o = letter.event, letter.organizer
    when = f"于{date_zh(e.starts_on)}至{date_zh(e.ends_on)}在{_where_zh(e)}举办的{e.name_zh or e.name_en}"
    if letter.group:
        org = f"（{letter.delegation_organization}）" if letter.delegation_organization else ""
        who = f"“{letter.delegation}”代表团{org}下列{len(letter.people)}人"
    elif letter.delegation:
        who = f"“{letter.delegation}”代表团成员下列人员"
    else:
        who = "下列人员"
    return f"{o.name_zh or o.name_en}诚邀{who}以采购商身份来华参加{when}。"


def body_en(letter: Letter) -> list[str]:
    o = letter.organizer
    out = ["Purpose of the visit: to attend the expo as a trade buyer, to visit the exhibitors and to hold business "
           "negotiations with them."]
    if letter.stay_from and letter.stay_to:
        out.append(f"Planned stay in China: from {date_en(letter.stay_from)} to {date_en(letter.stay_to)}.")
    out.append(f"{o.name_en or o.name_zh} confirms that the visit is for business purposes only and undertakes to "
               "receive the invitees during the expo. Unless agreed otherwise with the organizer, the invitees bear "
               "the cost of their international travel, accommodation and stay in China. They will observe the laws "
               "of China and leave China before their visa expires.")
    return out


def body_zh(letter: Letter) -> list[str]:
    o = letter.organizer
    out = ["访问目的：以采购商身份参观展会，与参展商进行商务洽谈。"]
    if letter.stay_from and letter.stay_to:
        out.append(f"计划在华停留时间：{date_zh(letter.stay_from)}至{date_zh(letter.stay_to)}。")
    out.append(f"{o.name_zh or o.name_en}确认此次访问仅为商务目的，并负责在展会期间接待被邀请人。除与主办方另有约定外，"
               "被邀请人的国际旅费、在华住宿及生活费用由其自理。被邀请人将遵守中国法律，并在签证有效期内离境。")
    return out


def verify_note(letter: Letter) -> tuple[str, str]:
    """How anyone can check the letter, in English and Chinese."""
    return (f"To verify this letter, scan the QR code or open {letter.verify_url} (reference {letter.reference}).",
            f"扫描二维码或访问上述网址（编号 {letter.reference}）可查验本函真伪。")


PARTICULARS = (  # (label, Person attribute or a function of the person)
    ("Name (as in passport) / 姓名（护照）", "name"),
    ("Name in native script / 本国文字姓名", "name_native"),
    ("Nationality / 国籍", lambda p: " / ".join(x for x in (p.nationality_en, p.nationality_zh) if x)),
    ("Date of birth / 出生日期", lambda p: p.date_of_birth),
    ("Passport No. / 护照号码", "passport_number"),
    ("Passport valid until / 护照有效期至", lambda p: p.passport_expires_on),
    ("Company / 单位", "company"),
    ("Position / 职务", "job_title"),
)

TABLE = (  # (header, width in mm, cell text)
    ("No.\n序号", 9, None),
    ("Name (as in passport)\n姓名（护照）", 43, lambda p: p.name),
    ("Native name\n本国文字姓名", 28, lambda p: p.name_native),
    ("Nationality\n国籍", 27, lambda p: "\n".join(x for x in (p.nationality_en, p.nationality_zh) if x)),
    ("Date of birth\n出生日期", 21, lambda p: p.date_of_birth),
    ("Passport No.\n护照号码", 25, lambda p: p.passport_number),
    ("Valid until\n有效期至", 21, lambda p: p.passport_expires_on),
)


# --- text layout ---------------------------------------------------------------------------------------------------

_TOKEN = re.compile(r"[\u2e80-\u9fff\uf900-\ufaff\u3000-\u303f\uff00-\uffef]|[^\s\u2e80-\u9fff\uf900-\ufaff"
                    r"\u3000-\u303f\uff00-\uffef]+\s*|\s+")


def wrap(text: str, font: str, size: float, width: float) -> list[str]:
    """``text`` broken into lines no wider than ``width``: at spaces in Latin text, between characters in Chinese,
    inside a word only when the word alone is too wide (a long e-mail address or URL)."""
    lines: list[str] = []
    for para in text.split("\n"):
        line = ""
        for token in _TOKEN.findall(para):
            trial = line + token
            if line and stringWidth(trial.rstrip(), font, size) > width:
                lines.append(line.rstrip())
                line = token.lstrip()
            else:
                line = trial
            while len(line) > 1 and stringWidth(line.rstrip(), font, size) > width:
                cut = len(line) - 1
                while cut > 1 and stringWidth(line[:cut], font, size) > width:
                    cut -= 1
                lines.append(line[:cut])
                line = line[cut:]
        lines.append(line.rstrip())
    return lines




class _Writer(PageWriter):
    """Lays letters out into pages of drawing operations, then draws them with each page's footer (the page count
    of a letter is known only when it is laid out)."""

    def __init__(self) -> None:
        super().__init__("A4")
        self.letter: Letter | None = None

    def lines_height(self, n: int, size: float) -> float:
        return n * size * 1.35

    def paragraph(self, text: str, size: float = BODY, *, x: float = MARGIN_X, width: float | None = None,
                  bold: bool = False, gap: float = 1.8 * mm, colour=DARK) -> None:
        width = width or self.width - 2 * MARGIN_X
        font = self.font(text, bold)
        for line in wrap(text, font, size, width):
            self.need(size * 1.35)
            self.y -= size * 1.35
            self.text(x, self.y + size * 0.3, line, size, bold=bold, colour=colour)
        self.y -= gap

    def need(self, height: float) -> None:
        """Start a continuation page unless ``height`` points still fit above the footer."""
        if self.y - height < MARGIN_BOTTOM + 8 * mm:
            self.new_page(continued=True)

    def new_page(self, continued: bool = False) -> None:
        self.pages.append([])
        self.y = self.height - MARGIN_TOP
        if continued and self.letter is not None:
            label = f"Invitation letter · 邀请函  {self.letter.reference}  (continued / 续)"
            self.text(MARGIN_X, self.y - 8, label, SMALL + 1, bold=True, colour=GREY)
            self.y -= 16

    # -- one letter -----------------------------------------------------------------------------------------------
    def write(self, letter: Letter) -> None:
        self.letter = letter
        first = len(self.pages)
        self.new_page()
        self.letterhead(letter)
        self.title(letter)
        self.paragraph("To the Embassy or Consulate-General of the People's Republic of China:", bold=True, gap=1 * mm)
        self.paragraph(intro_en(letter))
        self.paragraph("中华人民共和国驻外使（领）馆：", gap=1 * mm)
        self.paragraph(intro_zh(letter))
        if letter.group:
            self.table(letter.people)
        else:
            for person in letter.people:
                self.particulars(person)
        for text in body_en(letter):
            self.paragraph(text)
        self.y -= 1 * mm
        for text in body_zh(letter):
            self.paragraph(text)
        self.signature(letter)
        pages = self.pages[first:]
        for i, page in enumerate(pages, 1):
            page.append(self.footer_op(letter, i, len(pages)))
            if letter.revoked:
                page.append(self.revoked_op())

    def letterhead(self, letter: Letter) -> None:
        o = letter.organizer
        top = self.y
        text_w = self.width - 2 * MARGIN_X - QR_SIZE - 8 * mm
        self.y = top
        if o.name_zh:
            self.paragraph(o.name_zh, 14, width=text_w, bold=True, gap=0.5 * mm)
        if o.name_en:
            self.paragraph(o.name_en, 10.5, width=text_w, bold=True, gap=1.5 * mm)
        for line in (o.address_zh, o.address_en):
            if line:
                self.paragraph(line, SMALL + 0.5, width=text_w, gap=0.3 * mm, colour=GREY)
        contact = "  ·  ".join(p for p in (f"Tel. 电话 {o.phone}" if o.phone else "",
                                          f"E-mail 邮箱 {o.email}" if o.email else "") if p)
        if contact:
            self.paragraph(contact, SMALL + 0.5, width=text_w, gap=0, colour=GREY)
        left_bottom = self.y
        # The reference and its QR code, top right: what a consular officer checks first.
        qx = self.width - MARGIN_X - QR_SIZE
        matrix = qr_matrix(letter.verify_url, "M")
        self.op(lambda c: draw_qr(c, matrix, qx, top - QR_SIZE, QR_SIZE))
        ref_y = top - QR_SIZE - 4 * mm
        self.text(self.width - MARGIN_X, ref_y, "Reference No. 编号", SMALL, align="right", colour=GREY)
        ref_size = 11.5
        while ref_size > 7 and stringWidth(letter.reference, LATIN_BOLD, ref_size) > QR_SIZE + 14 * mm:
            ref_size -= 0.5
        self.text(self.width - MARGIN_X, ref_y - ref_size - 1, letter.reference, ref_size, bold=True,
                  align="right")
        self.y = min(left_bottom, ref_y - ref_size - 3 * mm)
        y = self.y

        def rule(c: Canvas) -> None:
            c.setStrokeColor(RULE)
            c.setLineWidth(1.2)
            c.line(MARGIN_X, y, self.width - MARGIN_X, y)

        self.op(rule)
        self.y -= 4 * mm
        issued = f"Date of issue: {date_en(letter.issued_on)}    签发日期：{date_zh(letter.issued_on)}"
        self.text(self.width - MARGIN_X, self.y - BODY, issued, BODY, align="right")
        self.y -= BODY + 3 * mm

    def title(self, letter: Letter) -> None:
        kind = ("VISA INVITATION LETTER: DELEGATION", "签证邀请函（代表团）") if letter.group else \
            ("VISA INVITATION LETTER", "签证邀请函")
        self.text(self.width / 2, self.y - 14, kind[0], 14, bold=True, align="centre")
        self.text(self.width / 2, self.y - 30, kind[1], 14, align="centre")
        self.y -= 38

    def particulars(self, p: Person) -> None:
        label_w = 62 * mm
        value_w = self.width - 2 * MARGIN_X - label_w - 4 * mm
        rows = []
        for label, attr in PARTICULARS:
            value = attr(p) if callable(attr) else getattr(p, attr)
            if value or attr in ("name", "passport_number"):
                rows.append((label, value or "—"))
        self.y -= 1 * mm
        for label, value in rows:
            lines = wrap(value, self.font(value, bold=True), BODY, value_w)
            h = self.lines_height(len(lines), BODY) + 1.4 * mm
            self.need(h)
            top = self.y
            y0 = top - h

            def shade(c: Canvas, y0=y0, h=h) -> None:
                c.setFillColor(SHADE)
                c.rect(MARGIN_X, y0, label_w, h, stroke=0, fill=1)
                c.setStrokeColor(HexColor("#cccccc"))
                c.setLineWidth(0.4)
                c.line(MARGIN_X, y0, self.width - MARGIN_X, y0)

            self.op(shade)
            self.text(MARGIN_X + 2 * mm, top - BODY - 0.5 * mm, label, SMALL + 0.5, colour=GREY)
            for i, line in enumerate(lines):
                self.text(MARGIN_X + label_w + 4 * mm, top - BODY * (1 + 1.35 * i) - 0.5 * mm, line, BODY,
                          bold=True)
            self.y = y0
        self.y -= 3 * mm

    def table(self, people: Sequence[Person]) -> None:
        size = 8.0
        widths = [w * mm for _h, w, _f in TABLE]
        xs = [MARGIN_X]
        for w in widths[:-1]:
            xs.append(xs[-1] + w)

        def cells_of(texts: list[str], bold: bool) -> tuple[list[list[str]], float]:
            wrapped = [wrap(t, self.font(t, bold), size, w - 2.4 * mm) for t, w in zip(texts, widths, strict=True)]
            return wrapped, self.lines_height(max(len(c) for c in wrapped), size) + 2 * mm

        def row(texts: list[str], *, header: bool) -> None:
            wrapped, h = cells_of(texts, header)
            top = self.y
            y0 = top - h
            full = sum(widths)

            def frame(c: Canvas, y0=y0, h=h) -> None:
                if header:
                    c.setFillColor(SHADE)
                    c.rect(MARGIN_X, y0, full, h, stroke=0, fill=1)
                c.setStrokeColor(HexColor("#999999"))
                c.setLineWidth(0.4)
                c.rect(MARGIN_X, y0, full, h, stroke=1, fill=0)
                for x in xs[1:]:
                    c.line(x, y0, x, y0 + h)

            self.op(frame)
            for x, lines in zip(xs, wrapped, strict=True):
                for i, line in enumerate(lines):
                    self.text(x + 1.2 * mm, top - 1 * mm - size * (1 + 1.35 * i) + 1, line, size, bold=header)
            self.y = y0

        header = [h for h, _w, _f in TABLE]
        _wrapped, header_h = cells_of(header, True)
        self.need(header_h + 12 * mm)
        row(header, header=True)
        for n, person in enumerate(people, 1):
            texts = [str(n)] + [f(person) or "" for _h, _w, f in TABLE[1:]]
            _wrapped, h = cells_of(texts, False)
            if self.y - h < MARGIN_BOTTOM + 8 * mm:
                self.new_page(continued=True)
                row(header, header=True)  # the header again on each page of the table
            row(texts, header=False)
        self.y -= 5 * mm

    def signature(self, letter: Letter) -> None:
        """The signature block on the right; how to verify the letter in the column beside it."""
        o = letter.organizer
        self.need(36 * mm)
        self.y -= 3 * mm
        top = self.y
        x = self.width - MARGIN_X - 85 * mm
        self.paragraph("For and on behalf of 代表", SMALL + 0.5, x=x, width=85 * mm, gap=0.5 * mm, colour=GREY)
        for name in (o.name_zh, o.name_en):
            if name:
                self.paragraph(name, BODY, x=x, width=85 * mm, bold=True, gap=0.5 * mm)
        self.y -= 11 * mm  # room for the signature and the seal
        y = self.y

        def line(c: Canvas) -> None:
            c.setStrokeColor(DARK)
            c.setLineWidth(0.6)
            c.line(x, y, x + 70 * mm, y)

        self.op(line)
        self.y -= 1 * mm
        if o.signatory:
            self.paragraph(o.signatory, BODY, x=x, width=85 * mm, gap=0.5 * mm)
        self.paragraph("Signature and seal / 签字及盖章", SMALL, x=x, width=85 * mm, colour=GREY)
        bottom = self.y
        self.y = top
        for note in verify_note(letter):
            self.paragraph(note, SMALL + 0.5, width=x - MARGIN_X - 8 * mm, gap=1 * mm, colour=GREY)
        self.y = min(self.y, bottom)

    def footer_op(self, letter: Letter, n: int, total: int) -> Op:
        text = f"{letter.reference}  ·  page {n} of {total} / 第{n}页，共{total}页  ·  {letter.verify_url}"
        font = self.font(text)
        width = self.width

        def draw(c: Canvas) -> None:
            c.setFillColor(GREY)
            size = SMALL
            while size > 5 and stringWidth(text, font, size) > width - 2 * MARGIN_X:
                size -= 0.5
            c.setFont(font, size)
            c.drawCentredString(width / 2, MARGIN_BOTTOM - 6 * mm, text)

        return draw

    def revoked_op(self) -> Op:
        width, height = self.width, self.height

        def draw(c: Canvas) -> None:
            c.saveState()
            c.setFillColor(HexColor("#c62828"))
            c.setFillAlpha(0.35)
            c.translate(width / 2, height / 2)
            c.rotate(35)
            c.setFont(self.cjk.name, 54)
            c.drawCentredString(0, 0, "REVOKED 已作废")
            c.restoreState()

        return draw

    # -- output ---------------------------------------------------------------------------------------------------
    def render(self, letters: Sequence[Letter]) -> bytes:
        c = self.canvas
        first = letters[0]
        c.setTitle(f"Invitation letter {first.reference}" + (f" (+{len(letters) - 1})" if len(letters) > 1 else ""))
        c.setAuthor(first.organizer.name_en or first.organizer.name_zh)
        c.setSubject(first.event.name_en or first.event.name_zh)
        for letter in letters:
            self.write(letter)
        for page in self.pages:
            c.setFillColor(white)
            for fn in page:
                fn(c)
            c.showPage()
        c.save()
        return self.buffer.getvalue()


def render_letters(letters: Sequence[Letter]) -> bytes:
    """The letters one after another (each from a new page) as one A4 PDF. Raises ``ValueError`` for none."""
    if not letters:
        raise ValueError("no letters to render")
    return _Writer().render(letters)
