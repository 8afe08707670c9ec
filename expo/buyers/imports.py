"""Bulk import of buyers (the organizer) and of delegation members (the leader into their delegation, the organizer
into any), from CSV or XLSX, and the export back in the same columns so that export → import round-trips.

The flow is the booth import's (:mod:`expo.venue.imports`, the shared reading in :mod:`expo.tables`): upload →
:func:`read_upload` (type by content, at most :data:`MAX_BYTES` and :data:`MAX_ROWS`; UTF-8 or GB18030 text) →
``plan_*`` (every row validated, each with its own errors; nothing written) → preview → confirm (the cells come
back in a signed field and are validated again) → ``apply_*`` (every row in the caller's one transaction, or none).

Columns are recognised by their English name (as the export writes them) or by a Chinese or spelled-out alias
(:data:`MEMBER_COLUMNS`, :data:`BUYER_COLUMNS`); their order does not matter, an unknown column is refused rather
than silently dropped.

Rules:

- Members are checked by :func:`expo.buyers.delegations.validate_member` (the same rules as the leader's form:
  passport number format, expiry at least six months after the expo, nationality, date of birth, Latin passport
  name) and stored as :func:`~expo.buyers.delegations.add_member` stores them (:func:`apply_members`). On top, the file's
  rows may not repeat a passport number or an e-mail address, and a row whose passport number or e-mail belongs
  to a member already in the delegation is either the same person with the same data ("unchanged": skipped, which
  is what re-importing an export gives) or refused as a duplicate.
- Buyers need an e-mail address, a name and a country. A row with the e-mail address of a buyer already in the
  expo is "unchanged" when it says the same as the database, else a duplicate. Passport columns are optional; when
  a row has any passport data, it must be complete and valid as for a member.
- Countries and nationalities take the ISO code (``RU``) or the English or Chinese name (``Russia``, ``俄罗斯``);
  dates take ``2027-04-19``, ``2027/4/19``, ``19.04.2027`` or ``2027年4月19日`` (or a date cell in XLSX).

Exports hold passport columns only on request (:func:`export_members` for the delegation's leader, or an
organizer admin; :func:`export_buyers` for an organizer admin), read through
:func:`expo.buyers.access.read_passports` (purpose ``"export"``) and written to the audit log.
"""

from __future__ import annotations

import io
import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date
from functools import cache
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, insert, select, text
from sqlalchemy.orm import selectinload

from expo import audit, countries, listing, tables
from expo.audit import AuditEntry
from expo.auth.models import Role, User
from expo.buyers import delegations
from expo.buyers.access import may_manage_delegation, read_passports
from expo.buyers.delegations import _MEMBER_BUYER_FIELDS as MEMBER_BUYER_FIELDS
from expo.buyers.delegations import _PASSPORT_FIELDS as PASSPORT_FIELDS
from expo.buyers.delegations import MemberData, member_data_of, validate_member
from expo.buyers.models import Buyer, BuyerStatus, Delegation, Passport, VolumeBand, buyer_categories
from expo.categories.models import ProductCategory
from expo.errors import Forbidden
from expo.extensions import db
from expo.forms import CONTROL_CHARACTERS
from expo.tables import TableError
from expo.venue.models import Expo

MAX_BYTES = 5 * 1024 * 1024
MAX_ROWS = 20_000
MAX_CELL_CHARS = 2000
MEMBER_SALT = "buyers-member-import"
BUYER_SALT = "buyers-buyer-import"
YES = {"yes", "y", "true", "1", "是", "x", "✓"}
NO = {"no", "n", "false", "0", "否", ""}


@dataclass(frozen=True)
class Column:
    key: str  # the header the export writes, and the field it fills
    aliases: tuple[str, ...] = ()  # other headers people write: Chinese, spelled out
    required: bool = False  # the column must be in the file (a cell may still be empty where the rules allow)
    passport: bool = False


_PASSPORT_COLUMNS = (
    Column("passport_number", ("passport no", "passport no.", "passport", "passport number", "护照号码", "护照号",
                               "护照编号"), passport=True),
    Column("passport_expires_on", ("passport expiry", "passport expires", "passport expiry date",
                                   "passport valid until", "valid until", "expiry date", "护照有效期",
                                   "护照有效期至", "护照到期日", "有效期至"), passport=True),
    Column("nationality", ("citizenship", "国籍"), passport=True),
    Column("date_of_birth", ("birth date", "birthday", "dob", "date of birth", "出生日期", "生日"), passport=True),
)
_PERSON = {
    "name": Column("name", ("name as in passport", "name (as in passport)", "passport name", "full name", "姓名",
                            "护照姓名", "姓名（护照）", "英文姓名", "拼音姓名"), required=True),
    "name_native": Column("name_native", ("native name", "name in native script", "name in own script",
                                          "本国文字姓名", "母语姓名", "中文姓名", "中文名")),
    "email": Column("email", ("e-mail", "e mail", "email address", "e-mail address", "邮箱", "电子邮件", "电子邮箱",
                              "邮件地址")),
    "phone": Column("phone", ("telephone", "mobile", "phone number", "tel", "电话", "手机", "联系电话")),
    "company": Column("company", ("organization", "organisation", "company name", "公司", "单位", "公司名称")),
    "job_title": Column("job_title", ("job title", "position", "title", "职位", "职务")),
}

#: A delegation member: the person and the passport (all four passport columns must be in the file).
MEMBER_COLUMNS: tuple[Column, ...] = (
    _PERSON["name"], _PERSON["name_native"], _PERSON["email"], _PERSON["phone"], _PERSON["company"],
    _PERSON["job_title"], *(Column(c.key, c.aliases, required=True, passport=True) for c in _PASSPORT_COLUMNS),
)
#: A buyer: who they are and what they buy; the passport columns are optional.
BUYER_COLUMNS: tuple[Column, ...] = (
    Column("email", _PERSON["email"].aliases, required=True), _PERSON["name"], _PERSON["name_native"],
    _PERSON["company"],
    Column("country", ("country or region", "country/region", "region", "国家", "国家或地区", "国家/地区", "地区"),
           required=True),
    _PERSON["job_title"], _PERSON["phone"],
    Column("website", ("web site", "homepage", "url", "网站", "网址", "公司网站")),
    Column("purchase_volume", ("annual purchase volume", "purchase volume", "年采购额", "年采购量")),
    Column("products_sought", ("products sought", "products", "求购产品", "采购需求")),
    Column("categories", ("product categories", "interests", "category", "产品类别", "采购品类", "感兴趣的类别")),
    Column("contact_consent", ("consent", "consent to be contacted", "contact consent", "同意联系",
                               "同意展商联系")),
    *_PASSPORT_COLUMNS,
)


class RowsInvalid(TableError):
    code = "rows_invalid"


# --- headers and cells -----------------------------------------------------------------------------------------------

def _norm(text: str) -> str:
    text = unicodedata.normalize("NFKC", text).strip().lower().rstrip("*:：").strip()
    return " ".join(text.replace("_", " ").replace("-", " ").split())


def _header_index(columns: Sequence[Column]) -> dict[str, str]:
    index: dict[str, str] = {}
    for c in columns:
        for name in (c.key, *c.aliases):
            index[_norm(name)] = c.key
    return index


def map_header(header: Sequence[str], columns: Sequence[Column]) -> list[str | None]:
    """The column key of each header cell (``None`` for a blank one), or :class:`TableError` naming unknown,
    repeated and missing columns."""
    index = _header_index(columns)
    keys: list[str | None] = []
    unknown: list[str] = []
    for cell in header:
        if not cell.strip():
            keys.append(None)
            continue
        key = index.get(_norm(cell))
        if key is None:
            unknown.append(cell.strip()[:40])
        keys.append(key)
    if unknown:
        raise TableError(_l("Unknown columns: %(unknown)s. The columns are: %(columns)s.",
                            unknown=", ".join(unknown[:10]), columns=", ".join(c.key for c in columns)),
                         field="file", code="unknown_columns")
    named = [k for k in keys if k]
    repeated = sorted({k for k in named if named.count(k) > 1})
    if repeated:
        raise TableError(_l("These columns appear twice: %(columns)s.", columns=", ".join(repeated)), field="file",
                         code="repeated_columns")
    missing = [c.key for c in columns if c.required and c.key not in named]
    if missing:
        raise TableError(_l("The file lacks the columns %(columns)s (the first row names the columns).",
                            columns=", ".join(missing)), field="file", code="missing_columns")
    return keys


def read_upload(stream, max_bytes: int = MAX_BYTES) -> list[list[str]]:
    """The upload's rows, header first, as text cells: :func:`expo.tables.read_upload` with this import's caps."""
    return tables.read_upload(stream, max_bytes, max_rows=MAX_ROWS, max_cols=40, encodings=tables.UTF8_OR_GB18030)


_DATE_FORMATS = (
    re.compile(r"(?P<y>\d{4})[-/.](?P<m>\d{1,2})[-/.](?P<d>\d{1,2})"),
    re.compile(r"(?P<y>\d{4})\s*年\s*(?P<m>\d{1,2})\s*月\s*(?P<d>\d{1,2})\s*日?"),
    re.compile(r"(?P<d>\d{1,2})\.(?P<m>\d{1,2})\.(?P<y>\d{4})"),
    re.compile(r"(?P<y>\d{4})-(?P<m>\d{2})-(?P<d>\d{2})[ T]00:00(:00)?"),  # a datetime at midnight from a sheet
)


def parse_date(text: str) -> date | None:
    """A date as people write it in a sheet; ``None`` for anything else (01/02/2027: which is the month?)."""
    text = unicodedata.normalize("NFKC", text).strip()
    for pattern in _DATE_FORMATS:
        m = pattern.fullmatch(text)
        if m:
            try:
                return date(int(m["y"]), int(m["m"]), int(m["d"]))
            except ValueError:
                return None
    return None


@cache
def _country_lookup() -> dict[str, str]:
    found: dict[str, str] = {}
    for lang in ("en", "zh"):
        for code, name in countries.choices(lang):
            found[_norm(name)] = code
    for code in countries.codes():
        found[code.lower()] = code
    return found


def country_code(text: str) -> str | None:
    """An ISO code from a code or an English or Chinese name; ``None`` if it is none of them."""
    return _country_lookup().get(_norm(text)) if text.strip() else None


def _yes_no(text: str) -> bool | None:
    value = text.strip().lower()
    if value in YES:
        return True
    if value in NO:
        return False
    return None


def _day(d: date | None) -> str:
    return d.isoformat() if d else ""


# --- the plan ----------------------------------------------------------------------------------------------------------

@dataclass
class ImportRow:
    line: int  # the line in the file (the header is line 1)
    values: dict[str, str]
    errors: list[str] = field(default_factory=list)
    action: str = ""  # "new" or "unchanged" once valid
    member: MemberData | None = None  # members, and buyers' person and passport fields
    buyer: dict[str, Any] | None = None  # buyers: the other Buyer fields
    categories: list[ProductCategory] = field(default_factory=list)
    has_passport: bool = False

    @property
    def label(self) -> str:
        return self.values.get("name") or self.values.get("email") or ""

    def error(self, column: str, message: Any) -> None:
        self.errors.append(f"{column}: {message}")


@dataclass
class ImportPlan:
    kind: str  # "members" or "buyers"
    columns: list[str]
    rows: list[ImportRow]

    @property
    def ok(self) -> bool:
        return bool(self.rows) and not any(r.errors for r in self.rows)

    @property
    def bad_rows(self) -> list[ImportRow]:
        return [r for r in self.rows if r.errors]

    def count(self, action: str) -> int:
        return sum(1 for r in self.rows if not r.errors and r.action == action)


def _rows(cells: list[list[str]], columns: Sequence[Column]) -> tuple[list[str], list[ImportRow]]:
    """The header's keys and a row per data line, its cells by key."""
    if not cells:
        raise TableError(_l("The uploaded file is empty."), field="file")
    keys = map_header([c if isinstance(c, str) else str(c) for c in cells[0]], columns)
    out: list[ImportRow] = []
    for i, raw in enumerate(cells[1:]):
        values = {}
        row = ImportRow(line=i + 2, values=values)
        padded = keys + [None] * (len(raw) - len(keys))  # cells right of the last named column
        for position, (key, cell) in enumerate(zip(padded, raw, strict=False), 1):
            text = cell if isinstance(cell, str) else str(cell)
            if key is None:
                if text.strip():
                    row.error(str(_l("column %(n)d", n=position)), _l("This cell has no column name."))
                continue
            if text[:2] in _QUOTED_FORMULA_STARTS:
                text = text[1:]  # our CSV export's guard against formulas (expo.listing): the value as stored
            if CONTROL_CHARACTERS.search(text):
                # NUL and its kind: nobody types them, and PostgreSQL cannot even compare them.
                row.error(key, _l("Remove the control characters (such as NUL) from this text."))
                text = CONTROL_CHARACTERS.sub("", text)
            if len(text) > MAX_CELL_CHARS:
                row.error(key, _l("Use at most %(n)d characters.", n=MAX_CELL_CHARS))
                text = text[:MAX_CELL_CHARS]
            values[key] = text.strip()
        out.append(row)
    return [k for k in keys if k], out


_QUOTED_FORMULA_STARTS = frozenset("'" + c for c in listing.FORMULA_STARTS)


def _member_data(row: ImportRow) -> MemberData:
    """The row's person and passport as :class:`MemberData` (normalised); bad dates and countries are row errors."""
    v = row.values
    dates = {}
    for key in ("passport_expires_on", "date_of_birth"):
        text = v.get(key, "")
        dates[key] = parse_date(text) if text else None
        if text and dates[key] is None:
            row.error(key, _l("“%(value)s” is not a date: write it as 2027-04-19.", value=text[:40]))
    nationality = v.get("nationality", "")
    code = country_code(nationality) if nationality else ""
    if nationality and code is None:
        row.error("nationality", _l("“%(value)s” is not a country code or a country name we know (use a two-letter "
                                    "code such as RU).", value=nationality[:40]))
    return MemberData(name=v.get("name", ""), name_native=v.get("name_native", ""), email=v.get("email", ""),
                      phone=v.get("phone", ""), company=v.get("company", ""), job_title=v.get("job_title", ""),
                      passport_number=v.get("passport_number", ""), nationality=code or "",
                      passport_expires_on=dates["passport_expires_on"],
                      date_of_birth=dates["date_of_birth"]).normalized()


def _validate_person(expo: Expo, row: ImportRow, data: MemberData, *, passport: bool, today: date | None) -> None:
    """:func:`validate_member`'s problems as row errors (without the passport's when the row has none)."""
    parse_failed = {e.split(":", 1)[0] for e in row.errors}
    for problem in validate_member(expo, data, today=today):
        if not passport and problem.field in {c.key for c in _PASSPORT_COLUMNS}:
            continue
        if problem.field in parse_failed:
            continue  # "not a date" already says it; "give the date" would only repeat it
        row.error(problem.field, problem)


def _in_file_twice(rows: list[ImportRow], key: str, value_of, message) -> None:
    seen: dict[str, int] = {}
    for row in rows:
        value = value_of(row)
        if not value:
            continue
        if value in seen:
            row.error(key, message(value, seen[value]))
        else:
            seen[value] = row.line


def _chunks(values: list, size: int = 500) -> Iterable[list]:
    for start in range(0, len(values), size):
        yield values[start:start + size]


def plan_members(actor: User | None, delegation: Delegation, cells: list[list[str]], *,
                 today: date | None = None) -> ImportPlan:
    """Validate every row for ``delegation``; writes nothing. A row naming a member already in the delegation
    (same passport number or e-mail) is "unchanged" when it holds the same data, else a duplicate."""
    expo = db.session.get(Expo, delegation.expo_id)
    keys, rows = _rows(cells, MEMBER_COLUMNS)
    for row in rows:
        row.member = _member_data(row)
        row.has_passport = True
        _validate_person(expo, row, row.member, passport=True, today=today)
    _in_file_twice(rows, "passport_number", lambda r: r.member.passport_number,
                   lambda v, line: _l("Passport number %(number)s is in the file twice (also line %(line)d).",
                                      number=v, line=line))
    _in_file_twice(rows, "email", lambda r: r.member.email,
                   lambda v, line: _l("The e-mail address %(email)s is in the file twice (also line %(line)d).",
                                      email=v, line=line))
    _against_members(actor, delegation, rows)
    return ImportPlan("members", keys, rows)


def _against_members(actor: User | None, delegation: Delegation, rows: list[ImportRow]) -> None:
    numbers = sorted({r.member.passport_number for r in rows if r.member.passport_number})
    emails = sorted({r.member.email for r in rows if r.member.email})
    by_number: dict[str, Buyer] = {}
    by_email: dict[str, Buyer] = {}
    base = select(Buyer).where(Buyer.delegation_id == delegation.id)
    for chunk in _chunks(numbers):
        # Which of the numbers the file names are already in the delegation: a lookup of numbers the uploader
        # typed, not a read of anyone's passport data.
        for buyer, number in db.session.execute(base.add_columns(Passport.number)
                                                .join(Passport, Passport.buyer_id == Buyer.id)
                                                .where(Passport.number.in_(chunk))):
            by_number[number] = buyer
    for chunk in _chunks(emails):
        for buyer in db.session.scalars(base.where(func.lower(Buyer.email).in_(chunk))):
            by_email[buyer.email.lower()] = buyer
    matched = {r.line: by_number.get(r.member.passport_number) or by_email.get(r.member.email) for r in rows}
    found = {b.id: b for b in matched.values() if b is not None}
    # Comparing a row with the member it names reads that member's passport data: audited.
    passports = read_passports(actor, found.values(), "import") if found else {}
    for row in rows:
        existing = matched[row.line]
        if existing is None:
            row.action = "new"
            continue
        if member_data_of(existing, passports.get(existing.id)).normalized() == row.member:
            row.action = "unchanged"
        elif by_number.get(row.member.passport_number) is not None:
            row.error("passport_number", _l("%(name)s in this delegation already has this passport number.",
                                            name=existing.name))
        else:
            row.error("email", _l("%(name)s in this delegation already has this e-mail address.",
                                  name=existing.name))


def apply_members(actor: User, delegation: Delegation, plan: ImportPlan) -> dict[str, int]:
    """Add every new member of a valid plan; refuses the whole plan when a row has an error. Flushes; the caller
    commits, or rolls back on a refusal, so nothing is half-imported.

    The rows are written as :func:`~expo.buyers.delegations.add_member` writes one member — the same buyer and
    passport fields (its own field lists), the delegation's country, status registered, one
    ``delegation_member_added`` audit entry each — but in bulk statements: ``add_member`` runs five statements
    per member (two duplicate checks, two inserts, the audit), which makes a 10,000-row file take a minute. The
    rules are not skipped: the caller plans the rows again in this same transaction right before (every row
    through ``validate_member``, the duplicates against the file and the delegation in bulk).
    tests/test_buyer_imports.py checks that an imported member is stored exactly as ``add_member`` stores one."""
    if plan.kind != "members" or not plan.ok:
        raise RowsInvalid(_l("%(n)d rows have errors: nothing was imported.", n=len(plan.bad_rows)))
    if not may_manage_delegation(actor, delegation):
        raise Forbidden(_l("This delegation has another leader."))
    new = [row.member for row in plan.rows if row.action == "new"]
    actor_id = actor.id if actor is not None and actor.is_authenticated else None
    for chunk in _chunks(new, 1000):
        values = [{"expo_id": delegation.expo_id, "delegation_id": delegation.id, "country": delegation.country,
                   "status": BuyerStatus.REGISTERED, **{k: getattr(m, k) for k in MEMBER_BUYER_FIELDS}} for m in chunk]
        ids = _insert_buyers(values)
        db.session.execute(insert(Passport), [
            {"buyer_id": buyer_id, **{column: getattr(m, key) for key, column in PASSPORT_FIELDS.items()}}
            for buyer_id, m in zip(ids, chunk, strict=True)])
        db.session.execute(insert(AuditEntry), [
            {"actor_id": actor_id, "action": "delegation_member_added", "object_type": "Buyer", "object_id": buyer_id,
             "changes": {"delegation_id": delegation.id, "name": m.name}}
            for buyer_id, m in zip(ids, chunk, strict=True)])
    summary = {"new": len(new), "unchanged": plan.count("unchanged")}
    audit.record(actor, "members_imported", delegation, **summary)
    db.session.flush()
    return summary


def _insert_buyers(values: list[dict[str, Any]]) -> list[int]:
    """Insert buyer rows; their ids in the order of ``values``.

    On PostgreSQL the ids are drawn from the table's sequence first and the rows go in as one pipelined
    ``executemany``: a multi-row ``INSERT ... RETURNING`` of a thousand rows is a statement of 25,000 parameters
    that the driver rewrites on every call, three times slower. SQLite has no sequences, and its RETURNING is
    cheap: there the rows come back in parameter order."""
    if db.session.get_bind().dialect.name == "postgresql":
        ids = list(db.session.scalars(text("SELECT nextval(pg_get_serial_sequence('buyers', 'id')) "
                                           "FROM generate_series(1, :n)"), {"n": len(values)}))
        db.session.execute(insert(Buyer), [{"id": i, **v} for i, v in zip(ids, values, strict=True)])
        return ids
    return list(db.session.scalars(insert(Buyer).returning(Buyer.id, sort_by_parameter_order=True), values))


# --- buyers ----------------------------------------------------------------------------------------------------------------

@cache
def _volume_values() -> frozenset[str]:
    return frozenset(v.value for v in VolumeBand)


def _category_lookup() -> dict[str, ProductCategory]:
    found: dict[str, ProductCategory] = {}
    for c in db.session.scalars(select(ProductCategory).where(ProductCategory.active.is_(True))):
        for name in (c.code, c.name_en, c.name_zh):
            if name:
                found[_norm(name)] = c
    return found


_LIST_SPLIT = re.compile(r"[;,、，；\n]+")


def _buyer_fields(row: ImportRow, categories: dict[str, ProductCategory]) -> None:
    v = row.values
    buyer: dict[str, Any] = {}
    text = v.get("country", "")
    buyer["country"] = country_code(text) if text else None
    if not text:
        row.error("country", _l("Give the country or region."))
    elif buyer["country"] is None:
        row.error("country", _l("“%(value)s” is not a country code or a country name we know (use a two-letter "
                                "code such as RU).", value=text[:40]))
    if not v.get("email"):
        row.error("email", _l("Give the e-mail address."))
    buyer["website"] = v.get("website", "")
    if len(buyer["website"]) > 300 or any(ch.isspace() for ch in buyer["website"]):
        row.error("website", _l("Enter a web address without spaces, at most 300 characters."))
    volume = v.get("purchase_volume", "").lower()
    if volume and volume not in _volume_values():
        row.error("purchase_volume", _l("Use one of %(values)s.", values=", ".join(sorted(_volume_values()))))
    buyer["purchase_volume"] = volume
    buyer["products_sought"] = v.get("products_sought", "")
    consent = _yes_no(v.get("contact_consent", ""))
    if consent is None:
        row.error("contact_consent", _l("Write yes or no."))
    buyer["contact_consent"] = bool(consent)
    wanted = [p.strip() for p in _LIST_SPLIT.split(v.get("categories", "")) if p.strip()]
    unknown = [w for w in wanted if _norm(w) not in categories]
    if unknown:
        row.error("categories", _l("Unknown product categories: %(names)s.", names=", ".join(unknown[:5])[:200]))
    row.categories = sorted({categories[_norm(w)] for w in wanted if _norm(w) in categories},
                            key=lambda c: (c.sort, c.id))
    row.buyer = buyer


def plan_buyers(actor: User | None, expo: Expo, cells: list[list[str]], *, today: date | None = None) -> ImportPlan:
    """Validate every row as a new buyer of ``expo``; writes nothing. A row with the e-mail address of a buyer
    already in the expo is "unchanged" when it holds the same data, else a duplicate."""
    keys, rows = _rows(cells, BUYER_COLUMNS)
    categories = _category_lookup()
    for row in rows:
        row.member = _member_data(row)
        row.has_passport = any(row.values.get(c.key) for c in _PASSPORT_COLUMNS)
        _validate_person(expo, row, row.member, passport=row.has_passport, today=today)
        _buyer_fields(row, categories)
    _in_file_twice(rows, "email", lambda r: r.member.email,
                   lambda v, line: _l("The e-mail address %(email)s is in the file twice (also line %(line)d).",
                                      email=v, line=line))
    _against_buyers(actor, expo, rows)
    return ImportPlan("buyers", keys, rows)


_BUYER_COMPARED = ("name", "name_native", "company", "job_title", "phone")


def _against_buyers(actor: User | None, expo: Expo, rows: list[ImportRow]) -> None:
    emails = sorted({r.member.email for r in rows if r.member.email})
    existing: dict[str, Buyer] = {}
    for chunk in _chunks(emails):
        for buyer in db.session.scalars(select(Buyer).options(selectinload(Buyer.categories))
                                        .where(Buyer.expo_id == expo.id, func.lower(Buyer.email).in_(chunk))):
            existing.setdefault(buyer.email.lower(), buyer)
    with_passport = [existing[r.member.email] for r in rows if r.has_passport and r.member.email in existing]
    passports = read_passports(actor, with_passport, "import") if with_passport else {}
    for row in rows:
        buyer = existing.get(row.member.email)
        if buyer is None:
            row.action = "new"
            continue
        same = (all(getattr(buyer, k) == getattr(row.member, k) for k in _BUYER_COMPARED)
                and buyer.delegation_id is None and row.buyer is not None
                and all(getattr(buyer, k) == value for k, value in row.buyer.items())
                and sorted(c.id for c in buyer.categories) == sorted(c.id for c in row.categories))
        if same and row.has_passport:
            same = member_data_of(buyer, passports.get(buyer.id)).normalized() == row.member
        if same:
            row.action = "unchanged"
        else:
            row.error("email", _l("%(name)s is already registered with this e-mail address, with other details; "
                                  "the import only adds new buyers.", name=buyer.name))


def apply_buyers(actor: User, expo: Expo, plan: ImportPlan) -> dict[str, int]:
    """Create the new buyers of a valid plan (registered, with their interests and passport data); refuses the
    whole plan when a row has an error. Flushes; the caller commits."""
    if plan.kind != "buyers" or not plan.ok:
        raise RowsInvalid(_l("%(n)d rows have errors: nothing was imported.", n=len(plan.bad_rows)))
    new = [row for row in plan.rows if row.action == "new"]
    for chunk in _chunks(new, 1000):
        # Bulk statements, as for members: an ORM flush of 10,000 buyers with their interests takes three times
        # as long.
        ids = _insert_buyers([
            {"expo_id": expo.id, "status": BuyerStatus.REGISTERED, "email": r.member.email, "name": r.member.name,
             "name_native": r.member.name_native, "company": r.member.company, "job_title": r.member.job_title,
             "phone": r.member.phone, **r.buyer} for r in chunk])
        links = [{"buyer_id": buyer_id, "category_id": c.id}
                 for buyer_id, r in zip(ids, chunk, strict=True) for c in r.categories]
        if links:
            db.session.execute(insert(buyer_categories), links)
        passports = [{"buyer_id": buyer_id, "number": r.member.passport_number,
                      "expires_on": r.member.passport_expires_on, "nationality": r.member.nationality,
                      "date_of_birth": r.member.date_of_birth}
                     for buyer_id, r in zip(ids, chunk, strict=True) if r.has_passport]
        if passports:
            db.session.execute(insert(Passport), passports)
    summary = {"new": len(new), "unchanged": plan.count("unchanged"),
               "with_passports": sum(1 for r in new if r.has_passport)}
    audit.record(actor, "buyers_imported", expo, **summary)
    db.session.flush()
    return summary


# --- export ------------------------------------------------------------------------------------------------------------

def _passport_cells(p: Passport | None) -> list[str]:
    if p is None:
        return ["", "", "", ""]
    return [p.number, _day(p.expires_on), p.nationality, _day(p.date_of_birth)]


def export_members(actor: User, delegation: Delegation, fmt: str, *, with_passports: bool) -> tuple[io.BytesIO, str]:
    """The delegation's members in :data:`MEMBER_COLUMNS` (the import's format). Passport columns for the
    delegation's own leader or an organizer admin who asks; read through ``read_passports`` and audited."""
    if with_passports and not (actor.role == Role.ADMIN or delegation.leader_user_id == actor.id):
        raise Forbidden(_l("Only an organizer admin or the delegation's leader can export passport data."))
    members = delegations.members_of(delegation)
    columns = [c.key for c in MEMBER_COLUMNS if with_passports or not c.passport]
    passports: dict[int, Passport] = {}
    if with_passports:
        passports = read_passports(actor, members, "export")
        audit.record(actor, "members_exported_for_import", delegation, members=len(members), format=fmt)

    def rows():
        for m in members:
            row = [m.name, m.name_native, m.email, m.phone, m.company, m.job_title]
            yield row + _passport_cells(passports.get(m.id)) if with_passports else row

    return tables.export_table(columns, rows(), fmt, "Members")


def export_buyers(actor: User, expo: Expo, fmt: str, *, with_passports: bool) -> tuple[io.BytesIO, str]:
    """The expo's buyers who travel on their own (members are exported per delegation) in
    :data:`BUYER_COLUMNS`. Passport columns only for an organizer admin who asks; read and audited."""
    if with_passports and actor.role != Role.ADMIN:
        raise Forbidden(_l("Only an organizer admin can export passport data."))
    buyers = list(db.session.scalars(select(Buyer).where(Buyer.expo_id == expo.id, Buyer.delegation_id.is_(None))
                                     .order_by(Buyer.id)))
    category_codes = _category_codes([b.id for b in buyers])
    columns = [c.key for c in BUYER_COLUMNS if with_passports or not c.passport]
    passports: dict[int, Passport] = {}
    if with_passports:
        passports = read_passports(actor, buyers, "export")
        audit.record(actor, "buyers_exported_with_passports", expo, buyers=len(buyers), format=fmt)

    def rows():
        for b in buyers:
            row = [b.email, b.name, b.name_native, b.company, b.country, b.job_title, b.phone, b.website,
                   b.purchase_volume, b.products_sought, "; ".join(category_codes.get(b.id, [])),
                   "yes" if b.contact_consent else "no"]
            yield row + _passport_cells(passports.get(b.id)) if with_passports else row

    return tables.export_table(columns, rows(), fmt, "Buyers")


def _category_codes(buyer_ids: list[int]) -> dict[int, list[str]]:
    codes: dict[int, list[str]] = {}
    for chunk in _chunks(buyer_ids):
        for buyer_id, code in db.session.execute(
                select(buyer_categories.c.buyer_id, ProductCategory.code)
                .join(ProductCategory, ProductCategory.id == buyer_categories.c.category_id)
                .where(buyer_categories.c.buyer_id.in_(chunk)).order_by(ProductCategory.sort, ProductCategory.id)):
            codes.setdefault(buyer_id, []).append(code)
    return codes
