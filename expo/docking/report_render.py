"""The docking report as PDF and XLSX: report data and labels in, bytes out. No Flask here.

The PDF (A4) opens with the headline sentence in English and Chinese, then the totals, a bar chart of the value in
yuan per pavilion and per buyer country, and the four breakdowns as tables. Text beyond Latin-1 is drawn with the
CJK font of :mod:`expo.pdf.fonts` (embedded, so it can be searched and read back). The XLSX has one sheet for the
headline and one per breakdown, with plain numbers (pairs as integers, yuan with two decimals) to compute with.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from io import BytesIO
from xml.sax.saxutils import escape

from openpyxl import Workbook
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter
from reportlab.graphics.shapes import Drawing, Rect, String
from reportlab.lib import colors
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase.pdfmetrics import stringWidth
from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

from expo.charts import PALETTE
from expo.docking.reports import BREAKDOWNS, DockingReport, Figures, Row
from expo.pdf.fonts import LATIN, LATIN_BOLD, cjk_font, needs_cjk
from expo.pdf.pages import page_size


@dataclass(frozen=True)
class Labels:
    """The words of the report in the reader's language (the view translates them; English by default)."""

    title: str = "Supply-demand docking report"
    expo: str = ""
    generated: str = ""
    totals: str = "Totals"
    companies: str = "Companies with a cooperation"
    buyers: str = "Buyers with a cooperation"
    meetings: str = "Meetings"
    held: str = "Held"
    intentions: str = "Intentions"
    agreements: str = "Agreements"
    pairs: str = "Pairs"
    value: str = "Value (yuan)"
    total: str = "Total"
    chart_pavilion: str = "Value in yuan per pavilion"
    chart_country: str = "Value in yuan per buyer country"
    session: str = "By docking session"
    pavilion: str = "By pavilion"
    country: str = "By buyer country or region"
    delegation: str = "By delegation"
    headline: str = "Headline"
    name: str = "Name"

    def breakdown(self, name: str) -> str:
        return getattr(self, name)

    def columns(self) -> list[str]:
        return [self.meetings, self.held, self.intentions, self.agreements, self.pairs, self.value]


def _numbers(f: Figures) -> list:
    return [f.meetings, f.held, f.intentions, f.agreements, f.pairs, f.value_cny]


def total(rows: Sequence[Row]) -> Figures:
    """The sum of a breakdown's rows (each meeting is in exactly one row, so this is the expo's total)."""
    out = Figures()
    for r in rows:
        for name in ("meetings", "held", "intentions", "agreements", "pairs", "value_cny"):
            setattr(out, name, getattr(out, name) + getattr(r.figures, name))
    return out


# --- PDF -------------------------------------------------------------------------------------------------------------

BODY = 9


def _font(text: str, bold: bool = False) -> str:
    if needs_cjk(text):
        return cjk_font().name
    return LATIN_BOLD if bold else LATIN


def _para(text: str, size: float = BODY, *, bold: bool = False, align: int = 0, colour=colors.black,
          keep_with_next: bool = False) -> Paragraph:
    style = ParagraphStyle("p", fontName=_font(text, bold), fontSize=size, leading=size * 1.35, alignment=align,
                           textColor=colour, wordWrap="CJK" if needs_cjk(text) else None,
                           keepWithNext=int(keep_with_next))
    return Paragraph(escape(text), style)


def _money(value: Decimal) -> str:
    return f"{value:,.0f}"


def _table(rows: Sequence[Row], labels: Labels, width: float) -> Table:
    header = [_para(labels.name, 7.5, bold=True)] + [_para(c, 7.5, bold=True, align=2) for c in labels.columns()]
    # Figures as plain cells (styled below): a Paragraph per cell costs ten times as much, and a report has hundreds
    # of delegation rows.
    body = [[_para(r.label, 8)] + [_fmt(v) for v in _numbers(r.figures)] for r in rows]
    foot = [[_para(labels.total, 8, bold=True)] + [_fmt(v) for v in _numbers(total(rows))]]
    num_w = 21 * mm
    table = Table([header, *body, *foot], colWidths=[width - 6 * num_w] + [num_w] * 6, repeatRows=1)
    table.setStyle(TableStyle([
        ("FONT", (1, 1), (-1, -1), LATIN, 8), ("FONT", (1, -1), (-1, -1), LATIN_BOLD, 8),
        ("ALIGN", (1, 1), (-1, -1), "RIGHT"),
        ("LINEBELOW", (0, 0), (-1, 0), 0.6, colors.HexColor("#1d2430")),
        ("LINEABOVE", (0, -1), (-1, -1), 0.6, colors.HexColor("#1d2430")),
        ("ROWBACKGROUNDS", (0, 1), (-1, -2), [colors.white, colors.HexColor("#f3f5f8")]),
        ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
        ("TOPPADDING", (0, 0), (-1, -1), 2), ("BOTTOMPADDING", (0, 0), (-1, -1), 2),
    ]))
    return table


def _fmt(value) -> str:
    return _money(value) if isinstance(value, Decimal) else f"{value:,}"


def bar_drawing(rows: Sequence[tuple[str, float]], width: float, title: str, *, bar_h: float = 11) -> Drawing:
    """A horizontal bar chart (label, value) as a reportlab drawing, in the colours of the web charts."""
    gap, label_w = 4, min(max([stringWidth(label, _font(label), 8) for label, _v in rows] + [20]) + 6, width * 0.4)
    title_h = 14
    height = title_h + max(len(rows), 1) * (bar_h + gap) + gap
    d = Drawing(width, height)
    d.add(String(0, height - 10, title, fontName=_font(title, True), fontSize=9))
    biggest = max([v for _l, v in rows] + [0])
    value_w = stringWidth(f"{biggest:,.0f}", LATIN, 8) + 8
    span = max(width - label_w - value_w, 20)
    for i, (label, value) in enumerate(rows):
        y = height - title_h - (i + 1) * (bar_h + gap)
        shown = label
        while len(shown) > 1 and stringWidth(shown, _font(shown), 8) > label_w - 6:
            shown = shown[:-2] + "…"
        d.add(String(label_w - 4, y + 2, shown, fontName=_font(shown), fontSize=8, textAnchor="end"))
        length = span * value / biggest if biggest > 0 else 0
        d.add(Rect(label_w, y, length, bar_h, fillColor=colors.HexColor(PALETTE[0]), strokeColor=None))
        d.add(String(label_w + length + 3, y + 2, f"{value:,.0f}", fontName=LATIN, fontSize=8))
    if not rows:
        d.add(String(width / 2, height / 2 - 4, "—", fontName=LATIN, fontSize=9, textAnchor="middle"))
    return d


def _chart_rows(rows: Sequence[Row], n: int = 12) -> list[tuple[str, float]]:
    return [(r.label, float(r.figures.value_cny)) for r in rows[:n]]


def render_pdf(report: DockingReport, labels: Labels) -> bytes:
    """The report as an A4 PDF."""
    buffer = BytesIO()
    width, height = page_size("A4")
    margin = 16 * mm
    doc = SimpleDocTemplate(buffer, pagesize=(width, height), leftMargin=margin, rightMargin=margin,
                            topMargin=margin, bottomMargin=margin, title=labels.title, invariant=1)
    inner = width - 2 * margin
    story: list = [_para(labels.title, 16, bold=True), Spacer(1, 1 * mm)]
    if labels.expo:
        story.append(_para(labels.expo, 10))
    if labels.generated:
        story.append(_para(labels.generated, 8, colour=colors.HexColor("#5b6675")))
    story += [Spacer(1, 4 * mm), _para(report.sentence_zh, 13, bold=True), Spacer(1, 1.5 * mm),
              _para(report.sentence_en, 11, bold=True), Spacer(1, 4 * mm)]
    head = report.headline
    totals = [(labels.companies, head.companies), (labels.buyers, head.buyers), (labels.meetings, head.meetings),
              (labels.held, head.held), (labels.intentions, head.intentions), (labels.agreements, head.agreements),
              (labels.pairs, head.pairs), (labels.value, head.value_cny)]
    grid = Table([[_para(k, 9), _para(_fmt(v), 9, bold=True, align=2)] for k, v in totals],
                 colWidths=[inner * 0.45, inner * 0.2], hAlign="LEFT")
    grid.setStyle(TableStyle([("LINEBELOW", (0, 0), (-1, -1), 0.3, colors.HexColor("#d5dae1"))]))
    story += [_para(labels.totals, 12, bold=True), Spacer(1, 1.5 * mm), grid, Spacer(1, 5 * mm)]
    for name, title in (("pavilion", labels.chart_pavilion), ("country", labels.chart_country)):
        story += [bar_drawing(_chart_rows(report.breakdowns.get(name, [])), inner, title), Spacer(1, 4 * mm)]
    for name in BREAKDOWNS:
        rows = report.breakdowns.get(name, [])
        story += [_para(labels.breakdown(name), 12, bold=True, keep_with_next=True), _table(rows, labels, inner),
                  Spacer(1, 5 * mm)]
    doc.build(story)
    return buffer.getvalue()


# --- XLSX ------------------------------------------------------------------------------------------------------------

def _sheet_title(text: str) -> str:
    """An Excel sheet name: at most 31 characters, none of []:*?/\\."""
    for ch in "[]:*?/\\":
        text = text.replace(ch, " ")
    return text[:31] or "Sheet"


def render_xlsx(report: DockingReport, labels: Labels) -> bytes:
    """The report as a workbook: the headline sheet, then one sheet per breakdown with a total row."""
    wb = Workbook()
    ws = wb.active
    ws.title = _sheet_title(labels.headline)
    bold = Font(bold=True)
    for row in ([labels.title], [labels.expo], [], [report.sentence_zh], [report.sentence_en], []):
        ws.append(row)
    ws["A1"].font = Font(bold=True, size=14)
    head = report.headline
    for key, value in ((labels.companies, head.companies), (labels.buyers, head.buyers),
                       (labels.meetings, head.meetings), (labels.held, head.held),
                       (labels.intentions, head.intentions), (labels.agreements, head.agreements),
                       (labels.pairs, head.pairs), (labels.value, head.value_cny)):
        ws.append([key, value])
    ws.column_dimensions["A"].width = 40
    ws.column_dimensions["B"].width = 18
    for name in BREAKDOWNS:
        rows = report.breakdowns.get(name, [])
        sheet = wb.create_sheet(_sheet_title(labels.breakdown(name)))
        sheet.append([labels.name, *labels.columns()])
        for cell in sheet[1]:
            cell.font = bold
        for r in rows:
            sheet.append([r.label, *_numbers(r.figures)])
        sheet.append([labels.total, *_numbers(total(rows))])
        for cell in sheet[sheet.max_row]:
            cell.font = bold
        sheet.column_dimensions["A"].width = 40
        for col in range(2, 8):
            sheet.column_dimensions[get_column_letter(col)].width = 14
        for (cell,) in sheet.iter_rows(min_row=2, min_col=7, max_col=7):
            cell.number_format = "#,##0.00"
        sheet.freeze_panes = "A2"
    out = BytesIO()
    wb.save(out)
    return out.getvalue()
