"""Booth import and export: one list of booths as CSV or XLSX, the same columns both ways.

The flow is upload → :func:`read_table` (type checked by content, size-capped) → :func:`plan_import` (every row
validated against the expo as it is, each with its own errors; nothing written) → preview → confirm →
:func:`apply_import` (all rows in one transaction, or none).

Reading, signing and exporting are the shared ones of :mod:`expo.tables`. Between preview and confirm the parsed
cells travel in a signed, time-limited hidden field (:func:`sign_rows`, :func:`unsign_rows`): nothing of the upload is stored on the server or ever served back, and a tampered or stale
field is refused. On confirm the rows are validated again against the expo as it is then.

Rules of the import:
- A number not yet in the expo creates a booth (status available or blocked).
- A number already in the expo updates that booth (hall, pavilion, geometry, raw space, price, available ⇄
  blocked) — unless the booth is held or assigned: then any change is refused for that row (vacate it first, so an
  exhibitor's booth never moves under them). Rows equal to the booth count as unchanged.
- Booths not named in the file are left as they are.
"""

from __future__ import annotations

import io
import math
import re
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from expo import audit, tables
from expo.auth.models import User
from expo.extensions import db
from expo.venue.geometry import Rect
from expo.venue.models import Booth, BoothStatus, Expo, Hall, Pavilion
from expo.venue.services import booth_rect, derive_hall, obstacle_rects

#: The columns of the export and the import, in this order (not translated: a file must read back anywhere).
COLUMNS = ("number", "hall", "pavilion", "x_m", "y_m", "width_m", "depth_m", "raw_space", "price_cny", "status")
MAX_ROWS = 20_000
MAX_CELL_CHARS = 200
NUMBER_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._/-]{0,19}\Z")
MAX_METRES = 10_000.0
MAX_PRICE = 100_000_000
YES = {"yes", "y", "true", "1", "是"}
NO = {"no", "n", "false", "0", "否", ""}
SIGNING_SALT = "venue-booth-import"
MIMETYPES = tables.MIMETYPES


#: The import's refusals: the shared table error (the builtin ImportError is another thing).
ImportError_ = tables.TableError


# --- export ---------------------------------------------------------------------------------------------------------

def export_row(booth: Booth) -> list[Any]:
    return [booth.number, booth.hall.code, booth.pavilion.code if booth.pavilion else "", booth.x_m, booth.y_m,
            booth.width_m, booth.depth_m, "yes" if booth.raw_space else "no", booth.price_cny, booth.status]


def export(booths: list[Booth], fmt: str) -> tuple[io.BytesIO, str]:
    """Booths as CSV or XLSX in the import's columns (cells that look like formulas are neutralised by
    :mod:`expo.listing`)."""
    return tables.export_table(COLUMNS, (export_row(b) for b in booths), fmt, "Booths")


# --- reading the upload ---------------------------------------------------------------------------------------------

def read_table(stream, max_bytes: int) -> list[list[str]]:
    """The uploaded file's rows as text cells (:func:`expo.tables.read_upload`: type checked by content, size- and
    row-capped; UTF-8 text or an XLSX workbook); the first row must be :data:`COLUMNS`."""
    rows = tables.read_upload(stream, max_bytes, max_rows=MAX_ROWS, max_cols=len(COLUMNS) + 5,
                              encodings=tables.UTF8_ONLY)
    header = [c.strip().lower() for c in rows[0]]
    while header and header[-1] == "":
        header.pop()
    if tuple(header) != COLUMNS:
        raise ImportError_(_l("This is not a booth list: the first row must name the columns %(columns)s.",
                              columns=", ".join(COLUMNS)), field="file")
    return rows[1:]


# --- validating -----------------------------------------------------------------------------------------------------

@dataclass
class ImportRow:
    line: int  # the line in the file (the header is line 1)
    cells: list[str]
    errors: list[str] = field(default_factory=list)
    action: str = ""  # new, changed, unchanged
    number: str = ""
    hall: Hall | None = None
    pavilion: Pavilion | None = None
    rect: Rect | None = None
    raw_space: bool = False
    price_cny: int = 0
    status: str = BoothStatus.AVAILABLE
    booth: Booth | None = None


@dataclass
class ImportPlan:
    rows: list[ImportRow]

    @property
    def ok(self) -> bool:
        return bool(self.rows) and not any(r.errors for r in self.rows)

    @property
    def bad_rows(self) -> list[ImportRow]:
        return [r for r in self.rows if r.errors]

    def count(self, action: str) -> int:
        return sum(1 for r in self.rows if not r.errors and r.action == action)


def _number(text: str, name: str, errors: list[str], *, positive: bool = False) -> float | None:
    try:
        value = float(text.strip().replace(",", "."))
    except (ValueError, AttributeError):
        errors.append(str(_l("%(column)s is not a number: “%(value)s”.", column=name, value=text[:40])))
        return None
    if not math.isfinite(value) or abs(value) > MAX_METRES:
        errors.append(str(_l("%(column)s is out of range.", column=name)))
        return None
    if positive and value <= 0:
        errors.append(str(_l("%(column)s must be larger than zero.", column=name)))
        return None
    if not positive and value < 0:
        errors.append(str(_l("%(column)s must not be negative.", column=name)))
        return None
    return round(value, 2)


def _parse_row(row: ImportRow, halls: dict[str, Hall], pavilions: dict[str, Pavilion]) -> None:
    cells = [c if isinstance(c, str) else str(c) for c in row.cells]
    cells = (cells + [""] * len(COLUMNS))[:len(COLUMNS)]
    row.cells = cells
    e = row.errors
    if any(len(c) > MAX_CELL_CHARS for c in cells):
        e.append(str(_l("A cell is longer than %(n)d characters.", n=MAX_CELL_CHARS)))
        return
    number, hall_code, pavilion_code, x, y, w, d, raw, price, status = (c.strip() for c in cells)
    if not NUMBER_RE.match(number):
        e.append(str(_l("“%(value)s” is not a booth number (letters, digits and - . / _, at most 20).",
                        value=number[:40])))
    row.number = number
    row.hall = halls.get(hall_code)
    if row.hall is None:
        e.append(str(_l("There is no hall “%(code)s”.", code=hall_code[:40])))
    if pavilion_code:
        row.pavilion = pavilions.get(pavilion_code)
        if row.pavilion is None:
            e.append(str(_l("There is no pavilion “%(code)s”.", code=pavilion_code[:40])))
    xs = _number(x, "x_m", e), _number(y, "y_m", e), _number(w, "width_m", e, positive=True), \
        _number(d, "depth_m", e, positive=True)
    if all(v is not None for v in xs):
        row.rect = Rect(*xs)  # type: ignore[arg-type]
    if raw.lower() in YES:
        row.raw_space = True
    elif raw.lower() not in NO:
        e.append(str(_l("raw_space must be yes or no.")))
    try:
        value = float(price) if price else 0.0
        if not math.isfinite(value) or not value.is_integer() or not 0 <= value <= MAX_PRICE:
            raise ValueError
        row.price_cny = int(value)
    except ValueError:
        e.append(str(_l("price_cny must be a whole number of yuan, not negative.")))
    row.status = (status or BoothStatus.AVAILABLE).lower()
    if row.status not in {s.value for s in BoothStatus}:
        e.append(str(_l("There is no booth status “%(value)s”.", value=status[:40])))


def plan_import(expo: Expo, cells: list[list[str]]) -> ImportPlan:
    """Validate every row against the expo as it is and say what each would do; writes nothing."""
    halls = {h.code: h for h in db.session.scalars(select(Hall).where(Hall.expo_id == expo.id))}
    pavilions = {p.code: p for p in db.session.scalars(select(Pavilion).where(Pavilion.expo_id == expo.id))}
    booths = {b.number: b for b in db.session.scalars(select(Booth).where(Booth.expo_id == expo.id))}
    rows = [ImportRow(line=i + 2, cells=list(c)) for i, c in enumerate(cells)]
    seen: dict[str, int] = {}
    for row in rows:
        _parse_row(row, halls, pavilions)
        if row.number and NUMBER_RE.match(row.number):
            if row.number in seen:
                row.errors.append(str(_l("Booth %(number)s is in the file twice (also line %(line)d).",
                                         number=row.number, line=seen[row.number])))
            else:
                seen[row.number] = row.line
        row.booth = booths.get(row.number)
        if not row.errors:
            _decide_action(row)
    _check_geometry(rows, booths)
    return ImportPlan(rows)


def _decide_action(row: ImportRow) -> None:
    booth = row.booth
    if booth is None:
        row.action = "new"
        if row.status not in (BoothStatus.AVAILABLE, BoothStatus.BLOCKED):
            row.errors.append(str(_l("A new booth can only be available or blocked.")))
        return
    same = (booth.hall_id == row.hall.id and booth.pavilion_id == (row.pavilion.id if row.pavilion else None)
            and _close(booth_rect(booth), row.rect) and booth.raw_space == row.raw_space
            and booth.price_cny == row.price_cny and booth.status == row.status)
    row.action = "unchanged" if same else "changed"
    if same:
        return
    if booth.status in (BoothStatus.HELD, BoothStatus.ASSIGNED):
        row.errors.append(str(_l("Booth %(number)s is held or assigned: vacate it before changing it.",
                                 number=booth.number)))
    elif row.status not in (BoothStatus.AVAILABLE, BoothStatus.BLOCKED):
        row.errors.append(str(_l("An import can only make a booth available or blocked; holds and assignments go "
                                 "through the allocation.")))


def _close(a: Rect, b: Rect | None) -> bool:
    return b is not None and all(abs(p - q) < 0.005 for p, q in ((a.x, b.x), (a.y, b.y), (a.w, b.w), (a.d, b.d)))


def _check_geometry(rows: list[ImportRow], booths: dict[str, Booth]) -> None:
    """Each row's rectangle against its hall's walls and obstacles and every booth the hall would hold after the
    import (booths of the file, plus those not in it)."""
    placed = [r for r in rows if r.hall is not None and r.rect is not None and r.number]
    # Only rows without other errors take their place in the hall: a row that will not be imported as it stands
    # must not make the good rows around it look wrong. Its own place is still checked.
    clean = [r for r in placed if not r.errors]
    in_file = {r.number for r in clean}
    by_hall: dict[int, list[tuple[str, Rect]]] = defaultdict(list)
    for b in booths.values():
        if b.number not in in_file:
            by_hall[b.hall_id].append((b.number, booth_rect(b)))
    for r in clean:
        by_hall[r.hall.id].append((r.number, r.rect))
    obstacles = {}
    for r in placed:
        hall, rect = r.hall, r.rect
        if not rect.inside(float(hall.width_m), float(hall.depth_m)):
            r.errors.append(str(_l("Booth %(number)s does not fit inside hall %(hall)s.", number=r.number,
                                   hall=hall.code)))
            continue
        if hall.id not in obstacles:
            obstacles[hall.id] = obstacle_rects(hall)
        if any(rect.overlaps(o) for o in obstacles[hall.id]):
            r.errors.append(str(_l("Booth %(number)s stands on an obstacle of the hall.", number=r.number)))
        # Sort-and-sweep would be faster; a hall holds a few hundred booths, so a scan is quick enough.
        hits = [n for n, other in by_hall[hall.id] if n != r.number and rect.overlaps(other)]
        if hits:
            r.errors.append(str(_l("Booth %(number)s overlaps booth %(other)s.", number=r.number,
                                   other=", ".join(sorted(hits)[:3]))))


def apply_import(actor: User | None, expo: Expo, plan: ImportPlan) -> dict[str, int]:
    """Write every row of a valid plan (new booths, changed booths), re-derive the open sides of the affected
    halls, and record it. Refuses the whole plan when any row has an error. Flushes; the caller commits."""
    if not plan.ok:
        raise ImportError_(_l("%(n)d rows have errors: nothing was imported.", n=len(plan.bad_rows)),
                           code="rows_invalid")
    halls: dict[int, Hall] = {}
    for r in plan.rows:
        if r.action == "unchanged":
            continue
        booth = r.booth
        if booth is None:
            booth = Booth(expo_id=expo.id, number=r.number)
            db.session.add(booth)
        else:
            halls[booth.hall_id] = booth.hall
        booth.hall, booth.pavilion = r.hall, r.pavilion
        booth.x_m, booth.y_m, booth.width_m, booth.depth_m = r.rect.x, r.rect.y, r.rect.w, r.rect.d
        booth.raw_space, booth.price_cny, booth.status = r.raw_space, r.price_cny, r.status
        halls[r.hall.id] = r.hall
    db.session.flush()
    for hall in halls.values():
        derive_hall(hall)
    db.session.flush()
    summary = {"new": plan.count("new"), "changed": plan.count("changed"), "unchanged": plan.count("unchanged")}
    audit.record(actor, "booths_imported", expo, **summary)
    return summary


# --- carrying the rows from preview to confirm ----------------------------------------------------------------------

def sign_rows(secret_key: str, cells: list[list[str]]) -> str:
    return tables.sign_rows(secret_key, cells, SIGNING_SALT)


def unsign_rows(secret_key: str, token: str, max_age: int = 3600) -> list[list[str]]:
    """The rows of a preview, if the token is ours and at most ``max_age`` seconds old."""
    return tables.unsign_rows(secret_key, token, SIGNING_SALT, max_age)
