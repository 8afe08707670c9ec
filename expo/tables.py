"""Spreadsheets in and out, for every import of the app (booths, buyers, delegation members): one copy of the rules.

- :func:`read_upload` reads an uploaded CSV or XLSX into rows of text cells. The type is recognised by content,
  never by the file name: an XLSX must be a zip holding a workbook and its first worksheet (streamed by
  :class:`_XlsxSheet`); anything else must decode as
  text in one of the allowed encodings (UTF-8 with or without BOM; the buyer import also takes GB18030, which
  Chinese Excel writes) and contain no NUL. The byte size, the row count and the column count are capped, and an
  XLSX is read lazily so a small zip that unpacks to millions of rows stops at the cap.
- :func:`sign_rows` / :func:`unsign_rows` carry the parsed cells from the preview to the confirm step in a signed,
  time-limited hidden field: nothing of the upload is stored on the server, and a tampered or stale field is
  refused.
- :func:`export_table` writes rows back as CSV or XLSX through :mod:`expo.listing` (formula injection neutralised).

No Flask here beyond the lazy translations of the messages.
"""

from __future__ import annotations

import csv
import io
import zipfile
from collections.abc import Iterable, Sequence
from datetime import date, datetime, time
from functools import lru_cache
from typing import Any

from flask_babel import lazy_gettext as _l
from itsdangerous import BadSignature, URLSafeTimedSerializer

from expo import listing
from expo.errors import ExpoError

MIMETYPES = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}
UTF8_ONLY = ("utf-8-sig",)
UTF8_OR_GB18030 = ("utf-8-sig", "gb18030")


class TableError(ExpoError):
    """The upload is not a table we can read (type, encoding, size, header)."""

    code = "bad_import"


def _unreadable(encodings: Sequence[str]) -> TableError:
    if tuple(encodings) == UTF8_ONLY:
        return TableError(_l("The file is neither a CSV file in UTF-8 nor an XLSX workbook."), field="file")
    return TableError(_l("The file is neither a CSV file (UTF-8 or GB18030) nor an XLSX workbook."), field="file")


def read_upload(stream, max_bytes: int, *, max_rows: int, max_cols: int,
                encodings: Sequence[str] = UTF8_ONLY) -> list[list[str]]:
    """The upload's non-blank rows, the header row first, as text cells (at most ``max_cols`` of them a row).

    Raises :class:`TableError` (413 for too large or too long, 400 otherwise) with a message for the person who
    uploaded it."""
    raw = stream.read(max_bytes + 1)
    if len(raw) > max_bytes:
        raise TableError(_l("The file is larger than %(mb)s MB.", mb=round(max_bytes / 1024 / 1024, 1)),
                         status=413, field="file")
    if not raw.strip():
        raise TableError(_l("The uploaded file is empty."), field="file")
    is_zip = raw[:4] == b"PK\x03\x04"
    rows = _read_xlsx(raw, max_rows, max_cols, encodings) if is_zip else _read_csv(raw, encodings)
    rows = [r[:max_cols] for r in rows if any(c.strip() for c in r)]
    if not rows:
        raise TableError(_l("The uploaded file is empty."), field="file")
    if len(rows) - 1 > max_rows:
        raise TableError(_l("The file has more than %(n)d rows.", n=max_rows), status=413, field="file")
    return rows


def _decode(raw: bytes, encodings: Sequence[str]) -> str:
    for encoding in encodings:
        try:
            return raw.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise _unreadable(encodings)


def _read_csv(raw: bytes, encodings: Sequence[str]) -> list[list[str]]:
    text = _decode(raw, encodings)
    if "\x00" in text:
        raise _unreadable(encodings)
    try:
        return [list(r) for r in csv.reader(io.StringIO(text, newline=""))]
    except csv.Error as exc:
        raise TableError(_l("The CSV file cannot be read: %(reason)s", reason=str(exc)), field="file") from exc


def _read_xlsx(raw: bytes, max_rows: int, max_cols: int, encodings: Sequence[str]) -> list[list[str]]:
    try:
        with zipfile.ZipFile(io.BytesIO(raw)) as zf:
            return _XlsxSheet(zf, max_rows, max_cols).rows()
    except TableError:
        raise
    except Exception as exc:  # a broken zip, broken XML, a missing part, an encrypted entry: "unreadable", always
        raise _unreadable(encodings) from exc


def _local(tag: str) -> str:
    return tag.rpartition("}")[2]


def _attr(element, name: str) -> str | None:
    """An attribute by its local name, whatever its namespace (transitional or strict OOXML)."""
    for key, value in element.attrib.items():
        if _local(key) == name:
            return value
    return None


#: Built-in number formats that are dates or times: the international ones (as openpyxl reads them) and the
#: Chinese, Japanese and Korean ones (27–36, 50–58), which openpyxl would give as plain numbers.
_DATE_FORMAT_IDS = frozenset([*range(14, 23), 45, 46, 47, *range(27, 37), *range(50, 59)])
#: The largest worksheet XML read (uncompressed): a few MB of zip can declare gigabytes.
MAX_SHEET_XML_BYTES = 256 * 1024 * 1024


class _XlsxSheet:
    """The first worksheet of an XLSX as rows of text cells, streamed with the standard library's XML parser.

    openpyxl reads the same at a third of the speed (every shared string goes through its descriptor classes, and
    a sheet without a <dimension> is parsed twice); this reads only what an import needs — values, shared and
    inline strings, booleans, numbers, dates by their cell style — and keeps memory flat: each cell is dropped
    once read, and reading stops at the row cap."""

    def __init__(self, zf: zipfile.ZipFile, max_rows: int, max_cols: int):
        self.zf, self.max_rows, self.max_cols = zf, max_rows, max_cols

    def _xml(self, name: str):
        from xml.etree.ElementTree import fromstring

        return fromstring(self.zf.read(name))

    def _sheet_path(self) -> tuple[str, bool]:
        workbook = self._xml("xl/workbook.xml")
        sheet = next(e for e in workbook.iter() if _local(e.tag) == "sheet")
        date1904 = any(_local(e.tag) == "workbookPr" and (_attr(e, "date1904") or "").lower() in ("1", "true")
                       for e in workbook.iter())
        rel_id = _attr(sheet, "id")
        rels = self._xml("xl/_rels/workbook.xml.rels")
        target = next(e.get("Target") for e in rels.iter() if _local(e.tag) == "Relationship" and e.get("Id") == rel_id)
        path = target.lstrip("/") if target.startswith("/") else f"xl/{target}"
        return path, date1904

    def _date_styles(self) -> frozenset[int]:
        from openpyxl.styles.numbers import is_date_format

        if "xl/styles.xml" not in self.zf.namelist():
            return frozenset()
        styles = self._xml("xl/styles.xml")
        custom = {int(e.get("numFmtId", -1)): e.get("formatCode", "") for e in styles.iter()
                  if _local(e.tag) == "numFmt"}
        dates = set()
        xfs = next((e for e in styles.iter() if _local(e.tag) == "cellXfs"), None)
        for index, xf in enumerate(xfs if xfs is not None else []):
            fmt = int(xf.get("numFmtId", 0))
            if fmt in _DATE_FORMAT_IDS or (fmt in custom and is_date_format(custom[fmt])):
                dates.add(index)
        return frozenset(dates)

    def _shared_strings(self) -> list[str]:
        from xml.etree.ElementTree import iterparse

        if "xl/sharedStrings.xml" not in self.zf.namelist():
            return []
        out: list[str] = []
        with self.zf.open("xl/sharedStrings.xml") as f:
            for _event, element in iterparse(f):
                if _local(element.tag) == "si":
                    out.append(_text_of(element))
                    element.clear()
        return out

    def rows(self) -> list[list[str]]:
        from xml.etree.ElementTree import iterparse

        from openpyxl.utils.datetime import CALENDAR_MAC_1904, CALENDAR_WINDOWS_1900

        path, date1904 = self._sheet_path()
        if self.zf.getinfo(path).file_size > MAX_SHEET_XML_BYTES:
            raise TableError(_l("The workbook is too large to read."), status=413, field="file")
        epoch = CALENDAR_MAC_1904 if date1904 else CALENDAR_WINDOWS_1900
        dates, shared = self._date_styles(), self._shared_strings()
        rows: list[list[str]] = []
        filled = 0
        row: dict[int, str] = {}
        column = 0
        with self.zf.open(path) as f:
            # End events only; each cell and each finished row is cleared, so what stays in memory is an empty
            # element per row (the row cap bounds them).
            for _event, element in iterparse(f):
                tag = element.tag
                local = tag[tag.rfind("}") + 1:]
                if local == "c":
                    ref = element.get("r")
                    column = _column_of(ref) if ref else column + 1
                    if column <= self.max_cols:
                        row[column] = _cell_value(element, tag[:-1], shared, dates, epoch)
                    element.clear()
                elif local == "row":
                    cells = [row.get(i, "") for i in range(1, max(row, default=0) + 1)]
                    rows.append(cells)
                    filled += any(c.strip() for c in cells)
                    row, column = {}, 0
                    element.clear()
                    if filled > self.max_rows + 1 or len(rows) > 4 * self.max_rows + 2:
                        break
        return rows


def _text_of(element) -> str:
    """The text of a shared or inline string: its <t>, or its rich-text runs' <t>s; not the phonetic guides."""
    parts = []
    for child in element:
        tag = _local(child.tag)
        if tag == "t":
            parts.append(child.text or "")
        elif tag == "r":
            parts.extend(t.text or "" for t in child if _local(t.tag) == "t")
    return "".join(parts)


def _column_of(ref: str) -> int:
    """The column number of a cell reference such as ``AB12`` (28)."""
    return _column_number(ref.rstrip("0123456789$"))


@lru_cache(maxsize=1024)
def _column_number(letters: str) -> int:
    n = 0
    for ch in letters:
        if not ch.isalpha():
            break
        n = n * 26 + (ord(ch.upper()) - 64)
    return n


def _cell_value(cell, ns: str, shared: list[str], dates: frozenset[int], epoch) -> str:
    """One cell's value as text; ``ns`` is the namespace prefix of the sheet's tags (``"{...}"``)."""
    kind = cell.get("t", "n")
    if kind == "inlineStr":
        inline = cell.find(ns + "is")
        return _text_of(inline) if inline is not None else ""
    v = cell.find(ns + "v")
    value = (v.text or "") if v is not None else ""
    if kind == "s":
        return shared[int(value)] if value else ""
    if kind == "b":
        return cell_text(value.strip() == "1")
    if kind == "d":
        return value[:10] if value.endswith("T00:00:00") or value.endswith("T00:00:00Z") else value
    if kind in ("str", "e") or not value:
        return value
    number: int | float = float(value) if any(ch in value for ch in ".eE") else int(value)
    if int(cell.get("s", 0) or 0) in dates:
        from openpyxl.utils.datetime import from_excel

        return cell_text(from_excel(number, epoch))
    return cell_text(number)


def cell_text(value: Any) -> str:
    """A spreadsheet cell as the text a person would type: whole numbers without ".0", dates as ISO dates (Excel
    stores a typed date as a datetime at midnight), yes/no for booleans."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, datetime):
        return value.date().isoformat() if value.time() == time(0) else value.isoformat(sep=" ")
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


# --- carrying the rows from preview to confirm ----------------------------------------------------------------------

def sign_rows(secret_key: str, cells: list[list[str]], salt: str) -> str:
    """The cells as a signed, compressed token for the preview's confirm form."""
    return URLSafeTimedSerializer(secret_key, salt=salt).dumps(cells)


def unsign_rows(secret_key: str, token: str, salt: str, max_age: int = 3600) -> list[list[str]]:
    """The cells of a preview, if the token is ours (same key, same ``salt``) and at most ``max_age`` seconds old."""
    try:
        cells = URLSafeTimedSerializer(secret_key, salt=salt).loads(token, max_age=max_age)
    except BadSignature as exc:
        raise TableError(_l("The preview has expired or was changed. Upload the file again."),
                         code="stale_preview") from exc
    if not isinstance(cells, list) or not all(isinstance(r, list) and all(isinstance(c, str) for c in r)
                                              for r in cells):
        raise TableError(_l("The preview has expired or was changed. Upload the file again."), code="stale_preview")
    return cells


# --- export ---------------------------------------------------------------------------------------------------------

def export_table(headers: Sequence[str], rows: Iterable[Sequence[Any]], fmt: str, title: str) -> tuple[io.BytesIO, str]:
    """Rows as CSV (UTF-8 with BOM) or XLSX, cells that look like formulas neutralised; ``KeyError`` for another
    format."""
    mimetype = MIMETYPES[fmt]
    body = listing.to_csv(headers, rows) if fmt == "csv" else listing.to_xlsx(headers, rows, title=title)
    return io.BytesIO(body), mimetype
