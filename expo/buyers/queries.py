"""The organizer's buyer list: filters, search, sort and pages, fast at 300,000 buyers.

:class:`BuyerFilter` says what to show; :func:`buyer_page` gives one page of it with the totals the list's header
shows (buyers and countries). The organizer's page, its CSV/XLSX export (:func:`buyer_query`), the API and
``bench/`` all run these, so they agree on every row.

How it stays fast (the approach of :func:`expo.exhibitors.services.queue_page`): every condition is on the
``buyers`` table alone (a category is ``id IN`` the category's buyers, read from the covering index
``ix_buyer_categories_category_buyer``), the count reads no other table, the page's ids are sorted by themselves —
narrow rows, walking the index of the sort (name, company, country, id) — and only the page's rows are then loaded
whole, by id. On SQLite, which keeps no statistics, every list statement reads the covering index
``ix_buyers_list`` rather than the table, and searches and selective filters are answered in one pass
(:func:`_page_ids`). PostgreSQL searches with the trigram indexes of migration 0004.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from operator import itemgetter
from typing import Any

from sqlalchemy import ColumnElement, Select, func, literal_column, or_, select, table
from sqlalchemy.orm import selectinload

from expo import listing
from expo.buyers import regions
from expo.buyers.models import Buyer, buyer_categories
from expo.categories.tree import with_descendants
from expo.exhibitors.services import escape_like
from expo.extensions import db
from expo.venue.models import Expo

#: Sort keys → the column the ids are ordered by (then by id, so that pages never overlap).
SORTS: dict[str, Any] = {
    "name": Buyer.name,
    "company": Buyer.company,
    "country": Buyer.country,
    "newest": Buyer.id,
}
DEFAULT_SORT = "name"

#: The text columns the list's search looks in (``ILIKE '%text%'``; trigram indexes on PostgreSQL).
SEARCHED_COLUMNS = ("name", "name_native", "company", "email")

#: ``BuyerFilter.delegation`` values.
IN_DELEGATION = "delegation"
INDEPENDENT = "independent"


@dataclass
class BuyerFilter:
    """What the buyer list shows. ``None`` (or empty) means "any"."""

    country: str | None = None  # ISO 3166-1 alpha-2
    region: str | None = None  # a code of :mod:`expo.buyers.regions`
    category_id: int | None = None  # with its subcategories
    status: str | None = None  # a BuyerStatus
    hosted_status: str | None = None  # a HostedStatus
    delegation: str | None = None  # IN_DELEGATION or INDEPENDENT
    delegation_id: int | None = None  # the members of one delegation
    purchase_volume: str | None = None  # a VolumeBand
    q: str | None = None  # text in the name, native name, company or e-mail
    sort: str = DEFAULT_SORT
    descending: bool = False
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass
class BuyerPage(listing.Page):
    """A page of buyers, the number of buyers that match (``total``) and of the countries they come from.

    ``exact`` is False for a search that matches more than :data:`SEARCH_COUNT_LIMIT` buyers: then ``total`` is that
    limit, ``countries`` those of the first matches found, and the pages go as far as the limit (the list says
    "more than 20,000 match: narrow the search"), as search engines do. Counting every match of a text that
    nearly every buyer holds (``example.com``) would cost a scan of all 300,000 buyers on each page.
    """

    countries: int = 0
    exact: bool = True


def conditions(expo: Expo, f: BuyerFilter, search_matches: int | None | bool = False) -> list[ColumnElement[bool]]:
    """The WHERE of the list, over the ``buyers`` table alone. ``search_matches``: what
    :func:`_sqlite_search_matches` said of the search, when the caller asked already."""
    q = (f.q or "").strip()
    if search_matches is False:
        search_matches = _sqlite_search_matches(q) if q else None
    indexed_search = search_matches is not None and search_matches <= SQLITE_PROBE_ROWS
    # With SQLite's search index, the expo is asked as "expo_id + 0": so that SQLite reads the search's few
    # candidates by id instead of the whole covering index of the expo, testing the search on each.
    where: list[ColumnElement[bool]] = [(Buyer.expo_id + 0 == expo.id) if indexed_search else Buyer.expo_id == expo.id]
    if f.country:
        where.append(Buyer.country == f.country.upper())
    if f.region:
        if f.region == regions.OTHER:
            where.append(Buyer.country.not_in(list(regions.REGION_OF)))
        else:
            where.append(Buyer.country.in_(regions.countries_in(f.region) or ("",)))
    if f.status:
        where.append(Buyer.status == f.status)
    if f.hosted_status:
        where.append(Buyer.hosted_status == f.hosted_status)
    if f.purchase_volume:
        where.append(Buyer.purchase_volume == f.purchase_volume)
    if f.delegation_id:
        where.append(Buyer.delegation_id == f.delegation_id)
    elif f.delegation == IN_DELEGATION:
        where.append(Buyer.delegation_id.is_not(None))
    elif f.delegation == INDEPENDENT:
        where.append(Buyer.delegation_id.is_(None))
    if f.category_id:  # a category with its subcategories: "Athletic shoes" finds the buyers of running shoes
        # IN, not a correlated EXISTS: both databases read the category's buyers once from the covering index
        # (category_id, buyer_id), instead of probing buyer_categories once per buyer.
        where.append(Buyer.id.in_(select(buyer_categories.c.buyer_id).where(
            buyer_categories.c.category_id.in_(with_descendants(f.category_id)))))
    if indexed_search:
        where.append(Buyer.id.in_(select(literal_column("rowid")).select_from(table(SQLITE_SEARCH_TABLE))
                                  .where(_match(q))))
    elif q:
        where.append(search_condition(q))
    return where


#: SQLite's full-text index (FTS5, trigram tokenizer) of the searched columns, made by migration 0004 where the
#: SQLite library has it (3.34 or later). It finds text of three characters or more anywhere in the columns,
#: ignoring case, from the index; shorter text is searched with LIKE. (A phrase in double quotes: every character
#: of the search text taken literally.)
SQLITE_SEARCH_TABLE = "buyers_search"
_search_index_present: dict[str, bool] = {}


def _match(q: str) -> ColumnElement[bool]:
    return literal_column(SQLITE_SEARCH_TABLE).op("MATCH")('"' + q.replace('"', '""') + '"')


def _sqlite_search_index(q: str) -> bool:
    """Whether to search ``q`` with SQLite's full-text index: SQLite, three characters or more, the index made, and
    at most :data:`SQLITE_PROBE_ROWS` buyers found by it. Text that most buyers hold ("example.com") is faster
    tested on the covering index row by row (LIKE) than fetched by id from a list of 300,000."""
    found = _sqlite_search_matches(q)
    return found is not None and found <= SQLITE_PROBE_ROWS


def _sqlite_search_matches(q: str) -> int | None:
    """How many buyers SQLite's full-text index finds for ``q``, counted up to :data:`SQLITE_PROBE_ROWS` + 1; None
    where the index does not answer (another database, text shorter than three characters, no index)."""
    bind = db.session.get_bind()
    if bind.dialect.name != "sqlite" or len(q) < 3:
        return None
    key = str(bind.url)
    if key not in _search_index_present:
        _search_index_present[key] = db.session.execute(
            select(literal_column("1")).select_from(table("sqlite_master"))
            .where(literal_column("type") == "table", literal_column("name") == SQLITE_SEARCH_TABLE)).first() is not None
    if not _search_index_present[key]:
        return None
    found = select(literal_column("rowid")).select_from(table(SQLITE_SEARCH_TABLE)).where(_match(q)) \
        .limit(SQLITE_PROBE_ROWS + 1).subquery()
    return db.session.scalar(select(func.count()).select_from(found))


def search_condition(q: str) -> ColumnElement[bool]:
    """``q`` anywhere in the name, native name, company or e-mail, ignoring case.

    As in the review queue: SQLite's LIKE already ignores case for ASCII letters (the only ones its lower() folds),
    at well under half the cost of its ILIKE. PostgreSQL's ILIKE folds every letter and uses the trigram indexes of
    migration 0004, but it is slow (a C.UTF-8 database takes its multibyte path: ~4x LIKE when it has to scan), and
    a text of one or two characters (陈静, 王: most Chinese names) has no trigram, yet PostgreSQL still reads the
    whole GIN index for it (seconds at 300,000 buyers). So, on PostgreSQL: text without upper or lower case (Chinese,
    digits, "@") takes LIKE, the same rows; text shorter than three characters takes ``strpos()``, which no index
    offers to serve, so that the table is scanned once instead. (bench/README.md, "Buyers at scale".)
    """
    columns = [getattr(Buyer, column) for column in SEARCHED_COLUMNS]
    like = f"%{escape_like(q)}%"
    if db.session.get_bind().dialect.name == "sqlite":
        return or_(*(c.like(like, escape="\\") for c in columns))
    caseless = q.lower() == q.upper()
    if len(q) < 3:
        if caseless:
            return or_(*(func.strpos(c, q) > 0 for c in columns))
        return or_(*(func.strpos(func.lower(c), q.lower()) > 0 for c in columns))
    if caseless:
        return or_(*(c.like(like, escape="\\") for c in columns))
    return or_(*(c.ilike(like, escape="\\") for c in columns))


def _sort_key(f: BuyerFilter) -> str:
    return f.sort if f.sort in SORTS else DEFAULT_SORT


def order(f: BuyerFilter) -> list:
    """ORDER BY for the list: the sort column, then the id (every sort column is NOT NULL, so an index on
    ``(expo_id, column, id)`` serves both directions)."""
    column = SORTS[_sort_key(f)]
    if column is Buyer.id:
        return [Buyer.id.desc() if not f.descending else Buyer.id.asc()]  # "newest" reads newest first
    return [column.desc(), Buyer.id.desc()] if f.descending else [column.asc(), Buyer.id.asc()]


def buyer_query(expo: Expo, f: BuyerFilter) -> Select:
    """Every buyer that matches ``f``, whole, in the list's order (for exports: stream it with ``yield_per``)."""
    return select(Buyer).where(*conditions(expo, f)).order_by(*order(f))


def buyer_page(expo: Expo, f: BuyerFilter, page: int, per_page: int) -> BuyerPage:
    """One page of the buyers of ``expo`` that match ``f``, with their categories and delegation loaded, and the
    totals: how many buyers match and from how many countries. Pages past the end show the last page.

    The totals and the page's ids come from narrow statements over the buyers table alone (see :func:`_page_ids`);
    then the page's rows are loaded by id, with one statement for their categories and one for their delegations.
    """
    per_page = max(1, min(per_page, listing.MAX_PER_PAGE))
    q = (f.q or "").strip()
    matches = _sqlite_search_matches(q) if q else None
    where = conditions(expo, f, matches)
    # The full-text index already found more matches than a search counts: no need to find them again with LIKE.
    # (It folds the case of every letter, LIKE of ASCII only: taken as said for text where the two agree.)
    known_overflow = (matches is not None and matches > SEARCH_COUNT_LIMIT
                      and (q.isascii() or q.lower() == q.upper()))
    ids, total, countries, page, exact = _page_ids(f, where, page, per_page, known_overflow)
    items: list[Buyer] = []
    if ids:
        rows = {b.id: b for b in db.session.scalars(
            select(Buyer).where(Buyer.id.in_(ids))
            .options(selectinload(Buyer.categories), selectinload(Buyer.delegation)))}
        items = [rows[i] for i in ids if i in rows]
    return BuyerPage(items=items, page=page, per_page=per_page, total=total, countries=countries, exact=exact)


#: On SQLite, a filter matching at most this many buyers is answered by one pass over the covering index.
SQLITE_PROBE_ROWS = 20_000
#: A search counts its matches up to this many; beyond, the list shows "more than" and pages up to it.
SEARCH_COUNT_LIMIT = SQLITE_PROBE_ROWS


def _clamp(page: int, per_page: int, total: int) -> int:
    return max(1, min(page, max(1, -(-total // per_page))))


def _page_ids(f: BuyerFilter, where: list, page: int, per_page: int,
              known_overflow: bool = False) -> tuple[list[int], int, int, int, bool]:
    """The page's ids in order, the number of matching buyers and of their countries, the page number, and whether
    the numbers are exact (see :class:`BuyerPage`).

    SQLite has no statistics (nothing runs ANALYZE) and would walk the sort index reading every row of the table
    to test a filter: a search or a selective filter first reads (id, sort key, country) of up to
    :data:`SQLITE_PROBE_ROWS` + 1 matches from ``ix_buyers_list``, which covers every column the list filters,
    searches and sorts by. When that is all of them — a search, "hosted: approved", one delegation — the page is
    cut from them here, in one pass over the index instead of two (a count, then the page). Python orders text
    as SQLite does (``BINARY``: by code point, the order of UTF-8 bytes); on PostgreSQL, which probes searches
    only, that is the order of a "C" collation. Otherwise the count (with the countries) and the page of ids from
    the sort's index.
    """
    key = _sort_key(f)
    sqlite = db.session.get_bind().dialect.name == "sqlite"
    if known_overflow:
        return _first_pages(f, where, page, per_page, 0)
    # SQLite: see above. A search on PostgreSQL too: its LIMIT would otherwise walk the name index testing the
    # search on every row until the page is full, and matches cluster by name ("Nguyen": 200,000 rows read for the
    # first page).
    if (sqlite and _probe_first(f, key)) or f.q:
        column = SORTS[key]
        # Plain tuples through the connection (no ORM result processing), sorted with a C key: up to 20,000 rows.
        found = db.session.connection().execute(
            select(Buyer.id, column.label("sort_key"), Buyer.country).where(*where).limit(SQLITE_PROBE_ROWS + 1)).all()
        if len(found) <= SQLITE_PROBE_ROWS:
            total = len(found)
            page = _clamp(page, per_page, total)
            if column is Buyer.id:
                found.sort(key=itemgetter(0), reverse=not f.descending)
            else:
                found.sort(key=itemgetter(1, 0), reverse=f.descending)
            start = (page - 1) * per_page
            return [row[0] for row in found[start:start + per_page]], total, len({row[2] for row in found}), page, True
        if f.q and len(found) > SEARCH_COUNT_LIMIT:
            return _first_pages(f, where, page, per_page, len({row[2] for row in found}))
    if sqlite:
        # count(DISTINCT country) reads the covering index; a GROUP BY country would make SQLite walk the country
        # index in order and read the table for every other filter.
        total, countries = db.session.execute(select(func.count(), func.count(func.distinct(Buyer.country)))
                                              .where(*where)).one()
    else:
        # Buyers per country, summed: the total and the number of countries in one statement, a hash aggregate
        # that is cheaper than PostgreSQL's sort for count(DISTINCT ...).
        per_country = db.session.execute(select(Buyer.country, func.count()).where(*where)
                                          .group_by(Buyer.country)).all()
        total, countries = sum(n for _country, n in per_country), len(per_country)
    page = _clamp(page, per_page, total)
    ids = list(db.session.scalars(select(Buyer.id).where(*where).order_by(*order(f))
                                  .limit(per_page).offset((page - 1) * per_page)))
    return ids, total, countries, page, True


def _first_pages(f: BuyerFilter, where: list, page: int, per_page: int, countries: int):
    """A search with more matches than it counts: a page of the first :data:`SEARCH_COUNT_LIMIT`, in order, from the
    sort's index (matches are many, so the walk meets a page of them soon)."""
    page = _clamp(page, per_page, SEARCH_COUNT_LIMIT)
    ids = list(db.session.scalars(select(Buyer.id).where(*where).order_by(*order(f))
                                  .limit(per_page).offset((page - 1) * per_page)))
    return ids, SEARCH_COUNT_LIMIT, countries, page, False


def _probe_first(f: BuyerFilter, key: str) -> bool:
    """Whether ``f`` is worth one pass over the covering index first (SQLite): a filter that likely leaves a few
    thousand buyers. Not: no filter at all; a country or region shown by name (``ix_buyers_list`` gives their ids in
    order, ready to stop at the page); and the filters most buyers pass (in a delegation or not, registered, not in
    the hosted-buyer programme), where a probe would only fetch its 20,001 rows before the count anyway."""
    if f.q or f.purchase_volume or f.delegation_id:
        return True
    if f.category_id:
        if f.country or f.region or f.status or f.hosted_status or f.delegation:
            return True  # the other filters may leave few
        # A category alone: probe only when its rows in buyer_categories (at least as many as its buyers, counted
        # from the covering index in a millisecond) say it fits; a broad one ("Athletic shoes": 65,000 buyers of
        # 300,000) would read 20,001 rows in vain before the count.
        rows = db.session.scalar(select(func.count()).select_from(buyer_categories).where(
            buyer_categories.c.category_id.in_(with_descendants(f.category_id))))
        return rows <= SQLITE_PROBE_ROWS
    if (f.status and f.status != "registered") or (f.hosted_status and f.hosted_status != "none"):
        return True
    return bool(f.country or f.region or f.delegation or f.status or f.hosted_status) and key != DEFAULT_SORT
