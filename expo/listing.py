"""Lists: pagination over a select, and export of rows as CSV or XLSX (bytes, no Flask)."""

from __future__ import annotations

import csv
import io
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from openpyxl import Workbook
from openpyxl.styles import Font
from sqlalchemy import Select, func, select

from expo.extensions import db

MAX_PER_PAGE = 200


@dataclass
class Page:
    items: list[Any]
    page: int
    per_page: int
    total: int

    @property
    def pages(self) -> int:
        return max(1, math.ceil(self.total / self.per_page))

    @property
    def has_prev(self) -> bool:
        return self.page > 1

    @property
    def has_next(self) -> bool:
        return self.page < self.pages


def paginate(stmt: Select, page: int, per_page: int, *, scalars: bool = False, count: Select | None = None) -> Page:
    """One page of ``stmt`` and the total count. Pages beyond the end are clamped to the last one.

    ``count``, when given, is a cheaper statement that gives the same total as counting ``stmt`` (for instance one
    that leaves out a join no filter needs)."""
    per_page = max(1, min(per_page, MAX_PER_PAGE))
    if count is None:
        count = select(func.count()).select_from(stmt.order_by(None).subquery())
    total = db.session.scalar(count) or 0
    last = max(1, math.ceil(total / per_page))
    page = max(1, min(page, last))
    run = db.session.scalars if scalars else db.session.execute
    items = list(run(stmt.limit(per_page).offset((page - 1) * per_page)))
    return Page(items=items, page=page, per_page=per_page, total=total)


def to_csv(headers: Sequence[str], rows: Iterable[Sequence[Any]]) -> bytes:
    """UTF-8 with a byte-order mark, so Excel opens Chinese text correctly."""
    buf = io.StringIO()
    writer = csv.writer(buf)
    writer.writerow(headers)
    for row in rows:
        writer.writerow(["" if v is None else _safe_cell(v) for v in row])
    return ("\ufeff" + buf.getvalue()).encode("utf-8")


def to_xlsx(headers: Sequence[str], rows: Iterable[Sequence[Any]], title: str = "Export") -> bytes:
    wb = Workbook(write_only=True)
    ws = wb.create_sheet(title=title[:31])
    ws.append([_bold(ws, h) for h in headers])
    for row in rows:
        ws.append([_text(ws, v) if isinstance(v, str) else v for v in row])
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def _bold(ws, text: str):
    from openpyxl.cell import WriteOnlyCell

    cell = WriteOnlyCell(ws, value=text)
    cell.font = Font(bold=True)
    return cell


def _text(ws, text: str):
    """A text cell. Stored as text it is never run as a formula, so it needs no quote mark: a phone number such as
    "+86 139 ..." stays exactly as typed. Text that looks like a formula also gets Excel's quote prefix, so it stays
    text when someone edits the cell."""
    from openpyxl.cell import WriteOnlyCell

    cell = WriteOnlyCell(ws, value=text)
    cell.data_type = "s"
    if text[:1] in FORMULA_STARTS:
        cell.quotePrefix = True
    return cell


FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def _safe_cell(value: Any) -> Any:
    # A cell starting with = + - @ is run as a formula by spreadsheet programs (CSV injection): quote it.
    if isinstance(value, str) and value[:1] in FORMULA_STARTS:
        return "'" + value
    return value
