"""Recommendations: exhibitors ranked for a buyer, buyers ranked for an exhibitor, each with a score 0–100 and the
reasons for it.

The candidates are chosen, scored and ranked in SQL (active offers, or needs, in the categories that can fit, of
approved exhibitors and of buyers not cancelled, leaving out pairs that already have a meeting): only the ``limit``
best come back. :func:`score` — the one definition of the points; the SQL twins (:func:`_offer_points`,
:func:`_need_points`) are proved equal to it by the tests — then gives the reasons of those shown. A pair's score is
that of its best-fitting need × offer; its reasons are those of that pair. bench/README.md has the figures.

Points (the reasons are data: a :class:`Reason` code and its parameters; the pages turn them into text):

=====================  ======  ============================================================================
reason                 points  when
=====================  ======  ============================================================================
``same_category``      40      the offer is in the need's category or one of its subcategories
``related_category``   20      the offer is in the need's parent category, or under the same parent
``interest``           40      (a buyer without needs) the offer is in a category the buyer is interested in
``related_interest``   20      (a buyer without needs) ... in a related category, as above
``capacity``           20      monthly capacity ≥ the quantity wanted (10 for at least half of it:
                               ``capacity_partial``)
``min_order``          10      the minimum order ≤ the quantity wanted
``markets``            15      the markets served overlap the need's markets (the country of the buyer, or of
                               the delegation, when the need names none); a world region covers its countries
``price_band``         10      the same price band (5 for an adjacent one: ``price_band_adjacent``)
``oem`` / ``odm``      5       the need asks for OEM or ODM ("oem" / "odm" in its title or description, in
                               any case) and the exhibitor offers it
=====================  ======  ============================================================================
"""

from __future__ import annotations

import heapq
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import String, and_, case, cast, exists, func, literal, or_, select, union_all

from expo.buyers import regions
from expo.buyers.models import Buyer, BuyerStatus, Delegation, buyer_categories
from expo.categories.tree import CategoryTree
from expo.docking.models import BuyerNeed, ExhibitorOffer, Meeting, PriceBand
from expo.exhibitors.models import ApplicationStatus, Exhibitor, SpaceApplication
from expo.extensions import db
from expo.venue.models import Booth, BoothStatus, Expo

DEFAULT_LIMIT = 20
MAX_LIMIT = 100

POINTS = {"same_category": 40, "related_category": 20, "interest": 40, "related_interest": 20, "capacity": 20,
          "capacity_partial": 10, "min_order": 10, "markets": 15, "price_band": 10, "price_band_adjacent": 5,
          "oem": 5, "odm": 5}
BAND_ORDER = [b.value for b in PriceBand]
#: The most a purchase interest (a buyer without needs) can score: the category and the markets.
INTEREST_MAX = POINTS["interest"] + POINTS["markets"]


@dataclass(frozen=True)
class Reason:
    """Why a pair fits: a stable code and its parameters (category ids, numbers, market codes)."""

    code: str
    params: dict[str, Any] = field(default_factory=dict)

    @property
    def points(self) -> int:
        return POINTS[self.code]


@dataclass(frozen=True)
class Match:
    """One recommendation: the other side's id, the score and its reasons, and the need and offer that fit best."""

    exhibitor_id: int
    buyer_id: int
    score: int
    reasons: tuple[Reason, ...]
    need_id: int | None = None
    offer_id: int | None = None


@dataclass(frozen=True)
class Want:
    """What a buyer wants, from a need or (without needs) from a purchase interest."""

    category_id: int
    quantity: int = 0
    price_band: str = ""
    markets: tuple[str, ...] = ()
    oem: bool = False
    odm: bool = False
    need_id: int | None = None
    interest: bool = False


@dataclass(frozen=True)
class Supply:
    """What an exhibitor offers, from one active offer."""

    offer_id: int
    exhibitor_id: int
    category_id: int
    min_order: int
    capacity: int
    price_band: str
    oem: bool
    odm: bool
    markets: tuple[str, ...]


# --- the category tree ------------------------------------------------------------------------------------------------

class Tree(CategoryTree):
    """The product categories' tree (read once per recommendation: the taxonomy is small), with matchmaking's fit."""

    def related(self, category_id: int) -> set[int]:
        """The parent's subtree (the category's siblings and the parent itself), or the category's own subtree for a
        top-level category."""
        parent = self.parent.get(category_id)
        return self.subtree(parent) if parent is not None else self.subtree(category_id)

    def fit(self, want: int, offered: int) -> str | None:
        """``same`` when ``offered`` lies in ``want``'s subtree, ``related`` when it lies in the subtree of ``want``'s
        parent, else None: one walk up from ``offered``."""
        parent = self.parent.get(want)
        related = False
        walker: int | None = offered
        while walker is not None:
            if walker == want:
                return "same"
            related = related or walker == parent
            walker = self.parent.get(walker)
        return "related" if related else None


# --- scoring ------------------------------------------------------------------------------------------------------------

def markets_overlap(wanted: Iterable[str], served: Iterable[str]) -> list[str]:
    """The wanted markets that ``served`` covers: the same code, a country inside a served world region, or a wanted
    world region holding a served country. In the order wanted."""
    served = set(served)
    served_regions = {regions.region_of(code) for code in served if code not in regions.REGIONS}
    found = []
    for code in wanted:
        if code in regions.REGIONS:
            hit = code in served or code in served_regions
        else:
            hit = code in served or regions.region_of(code) in served
        if hit:
            found.append(code)
    return found


def score(want: Want, supply: Supply, tree: Tree) -> tuple[int, tuple[Reason, ...]] | None:
    """The score and reasons of one want × supply, or None when the categories do not fit at all."""
    fit = tree.fit(want.category_id, supply.category_id)
    if fit is None:
        return None
    reasons = []
    if want.interest:
        reasons.append(Reason("interest" if fit == "same" else "related_interest",
                              {"category_id": want.category_id}))
    else:
        reasons.append(Reason("same_category" if fit == "same" else "related_category",
                              {"category_id": supply.category_id if fit == "same" else want.category_id}))
    if want.quantity:
        if supply.capacity and supply.capacity >= want.quantity:
            reasons.append(Reason("capacity", {"capacity": supply.capacity, "quantity": want.quantity}))
        elif supply.capacity and supply.capacity * 2 >= want.quantity:
            reasons.append(Reason("capacity_partial", {"capacity": supply.capacity, "quantity": want.quantity}))
        if supply.min_order <= want.quantity:
            reasons.append(Reason("min_order", {"min_order": supply.min_order, "quantity": want.quantity}))
    overlap = markets_overlap(want.markets, supply.markets)
    if overlap:
        reasons.append(Reason("markets", {"markets": overlap}))
    if want.price_band and supply.price_band:
        gap = abs(BAND_ORDER.index(want.price_band) - BAND_ORDER.index(supply.price_band)) \
            if want.price_band in BAND_ORDER and supply.price_band in BAND_ORDER else 99
        if gap == 0:
            reasons.append(Reason("price_band", {"band": supply.price_band}))
        elif gap == 1:
            reasons.append(Reason("price_band_adjacent", {"band": supply.price_band, "wanted": want.price_band}))
    if want.oem and supply.oem:
        reasons.append(Reason("oem"))
    if want.odm and supply.odm:
        reasons.append(Reason("odm"))
    return min(100, sum(r.points for r in reasons)), tuple(reasons)


def _want_of_need(need_id: int, category_id: int, quantity: int, band: str, markets: Sequence[str] | None,
                  title: str, description: str, home: str) -> Want:
    text = f"{title} {description}".lower()
    return Want(category_id=category_id, quantity=quantity or 0, price_band=band or "",
                markets=tuple(markets or ()) or ((home,) if home else ()),
                oem="oem" in text, odm="odm" in text, need_id=need_id)


_NEED_COLUMNS = (BuyerNeed.id, BuyerNeed.category_id, BuyerNeed.quantity_pairs, BuyerNeed.price_band,
                 BuyerNeed.markets, BuyerNeed.title, BuyerNeed.description)
_OFFER_COLUMNS = (ExhibitorOffer.id, ExhibitorOffer.exhibitor_id, ExhibitorOffer.category_id,
                  ExhibitorOffer.min_order_pairs, ExhibitorOffer.monthly_capacity_pairs, ExhibitorOffer.price_band,
                  ExhibitorOffer.oem, ExhibitorOffer.odm, ExhibitorOffer.markets)


def wants_of(buyer: Buyer) -> list[Want]:
    """The buyer's active needs and their delegation's; without any, their purchase interests.

    A need that names no markets is for its owner's country: the buyer's, or the delegation's."""
    owners = BuyerNeed.buyer_id == buyer.id
    if buyer.delegation_id is not None:
        owners = or_(owners, BuyerNeed.delegation_id == buyer.delegation_id)
    wants = [_want_of_need(*row[:-1], home=buyer.country if row[-1] is None else row[-1]) for row in db.session.execute(
        select(*_NEED_COLUMNS, Delegation.country).outerjoin(Delegation, Delegation.id == BuyerNeed.delegation_id)
        .where(BuyerNeed.expo_id == buyer.expo_id, BuyerNeed.active.is_(True), owners).order_by(BuyerNeed.id))]
    if wants:
        return wants
    home = (buyer.country,) if buyer.country else ()
    return [Want(category_id=cid, markets=home, interest=True) for cid in db.session.scalars(
        select(buyer_categories.c.category_id).where(buyer_categories.c.buyer_id == buyer.id))]


def _approved(expo_id: int, exhibitor_id) -> Any:
    return exists().where(SpaceApplication.expo_id == expo_id, SpaceApplication.exhibitor_id == exhibitor_id,
                          SpaceApplication.status == ApplicationStatus.APPROVED.value)


def _met(expo_id: int, buyer_id, exhibitor_id) -> Any:
    return exists().where(Meeting.expo_id == expo_id, Meeting.buyer_id == buyer_id,
                          Meeting.exhibitor_id == exhibitor_id)


def candidate_offers_query(expo_id: int, buyer_id: int, category_ids: Iterable[int]):
    """The candidate offers for a buyer: active, in ``category_ids``, of exhibitors approved at the expo, and not
    of an exhibitor the buyer already has a meeting with. The benchmark runs this bare as its floor."""
    return (select(*_OFFER_COLUMNS)
            .where(ExhibitorOffer.expo_id == expo_id, ExhibitorOffer.active.is_(True),
                   ExhibitorOffer.category_id.in_(sorted(set(category_ids))),
                   _approved(expo_id, ExhibitorOffer.exhibitor_id),
                   ~_met(expo_id, literal(buyer_id), ExhibitorOffer.exhibitor_id)))


def _rank(candidates: dict[int, Match], limit: int) -> list[Match]:
    return heapq.nsmallest(limit, candidates.values(), key=lambda m: (-m.score, m.exhibitor_id, m.buyer_id))


def _keep_best(best: dict[int, Match], key: int, buyer_id: int, want: Want, supply: Supply, tree: Tree) -> None:
    """Score ``want`` × ``supply`` and keep it as ``best[key]`` if it beats what is there (the first of equals)."""
    scored = score(want, supply, tree)
    if scored is None:
        return
    if key not in best or scored[0] > best[key].score:
        best[key] = Match(exhibitor_id=supply.exhibitor_id, buyer_id=buyer_id, score=scored[0], reasons=scored[1],
                          need_id=want.need_id, offer_id=supply.offer_id)


def market_hits(wanted: Iterable[str]) -> set[str]:
    """The served market codes that cover one of ``wanted`` (:func:`markets_overlap` turned round, for SQL)."""
    hits: set[str] = set()
    for code in wanted:
        if code in regions.REGIONS:
            hits |= {code, *regions.countries_in(code)}
        else:
            hits.add(code)
            if regions.region_of(code) != regions.OTHER:
                hits.add(regions.region_of(code))
    return hits


def _offer_points(want: Want, tree: Tree, *, related_too: bool = True):
    """The SQL twin of :func:`score` for one want: ``(categories that fit, points of an offer)``. Kept equal to
    :func:`score` by the tests (the reasons are then worked out by :func:`score` for the few offers shown).
    ``related_too=False``: the want's own categories only."""
    same = tree.subtree(want.category_id)
    parent = tree.parent.get(want.category_id)
    related = (tree.subtree(parent) if parent is not None and related_too else set()) - same
    o = ExhibitorOffer
    points = case((o.category_id.in_(sorted(same)), POINTS["same_category"]),
                  else_=POINTS["related_category"])
    if want.quantity:
        points = points + case((o.monthly_capacity_pairs >= want.quantity, POINTS["capacity"]),
                               (and_(o.monthly_capacity_pairs > 0, o.monthly_capacity_pairs * 2 >= want.quantity),
                                POINTS["capacity_partial"]), else_=0) \
            + case((o.min_order_pairs <= want.quantity, POINTS["min_order"]), else_=0)
    hits = market_hits(want.markets)
    if hits:
        points = points + case((_json_has_any(o.markets, hits), POINTS["markets"]), else_=0)
    if want.price_band in BAND_ORDER:
        i = BAND_ORDER.index(want.price_band)
        adjacent = [BAND_ORDER[j] for j in (i - 1, i + 1) if 0 <= j < len(BAND_ORDER)]
        points = points + case((o.price_band == want.price_band, POINTS["price_band"]),
                               (o.price_band.in_(adjacent), POINTS["price_band_adjacent"]), else_=0)
    if want.oem:
        points = points + case((o.oem.is_(True), POINTS["oem"]), else_=0)
    if want.odm:
        points = points + case((o.odm.is_(True), POINTS["odm"]), else_=0)
    return same | related, points


def related_best(want: Want) -> int:
    """The most an offer in a category related to the want's (not its own) can score for it."""
    best = POINTS["related_interest" if want.interest else "related_category"]
    if want.quantity:
        best += POINTS["capacity"] + POINTS["min_order"]
    if want.markets:
        best += POINTS["markets"]
    if want.price_band:
        best += POINTS["price_band"]
    return best + (POINTS["oem"] if want.oem else 0) + (POINTS["odm"] if want.odm else 0)


def ranked_exhibitors_query(expo_id: int, buyer_id: int, wants: Sequence[Want], tree: Tree, limit: int, *,
                            related_too: bool = True):
    """``(exhibitor_id, score)`` of the best ``limit`` exhibitors for these wants, scored and ranked in SQL: the
    candidate offers (:func:`candidate_offers_query`) of each want, their best score per exhibitor. With
    ``related_too=False`` only offers in the wants' own categories (subtrees) count."""
    parts = []
    for want in wants:
        categories, points = _offer_points(want, tree, related_too=related_too)
        parts.append(candidate_offers_query(expo_id, buyer_id, categories)
                     .with_only_columns(ExhibitorOffer.exhibitor_id, points.label("points")))
    scored = union_all(*parts).subquery() if len(parts) > 1 else parts[0].subquery()
    best = func.max(scored.c.points)
    return (select(scored.c.exhibitor_id, best).group_by(scored.c.exhibitor_id)
            .order_by(best.desc(), scored.c.exhibitor_id).limit(limit))


def for_buyer(buyer: Buyer, limit: int = DEFAULT_LIMIT, *, tree: Tree | None = None) -> list[Match]:
    """Exhibitors ranked by fit for ``buyer`` (best first, ties by exhibitor id), at most ``limit``.

    The database scores and ranks the candidate offers (30,000 exhibitors' offers: only ``limit`` rows come back);
    :func:`score` then gives the reasons of the exhibitors shown, from their offers."""
    limit = max(1, min(limit, MAX_LIMIT))
    wants = wants_of(buyer)
    if not wants:
        return []
    tree = tree or Tree.load()
    # First the offers in the wants' own categories (a fraction of the candidates). When ``limit`` of them score
    # more than any offer of a related category could, the related ones cannot enter the list: done.
    top = db.session.execute(ranked_exhibitors_query(buyer.expo_id, buyer.id, wants, tree, limit,
                                                     related_too=False)).all()
    if len(top) < limit or top[-1][1] <= max(related_best(w) for w in wants):
        top = db.session.execute(ranked_exhibitors_query(buyer.expo_id, buyer.id, wants, tree, limit)).all()
    if not top:
        return []
    categories: set[int] = set()
    for want in wants:
        categories |= tree.related(want.category_id)
    best: dict[int, Match] = {}
    for row in db.session.execute(candidate_offers_query(buyer.expo_id, buyer.id, categories)
                                  .where(ExhibitorOffer.exhibitor_id.in_([e for e, _p in top]))
                                  .order_by(ExhibitorOffer.id)):
        supply = Supply(*row[:8], markets=tuple(row[8] or ()))
        for want in wants:
            _keep_best(best, supply.exhibitor_id, buyer.id, want, supply, tree)
    return _rank(best, limit)


def _ancestors(tree: Tree, category_id: int) -> list[int]:
    found, walker = [], category_id
    while walker is not None:
        found.append(walker)
        walker = tree.parent.get(walker)
    return found


def _wanted_hits(served: Iterable[str]) -> set[str]:
    """The wanted market codes that ``served`` covers (:func:`markets_overlap`, for SQL)."""
    served = set(served)
    hits = set(served)
    for code in served:
        if code in regions.REGIONS:
            hits |= set(regions.countries_in(code))
        elif regions.region_of(code) != regions.OTHER:
            hits.add(regions.region_of(code))
    return hits


def _json_has_any(column, codes: set[str]):
    """The JSON list ``column`` holds one of ``codes``: its text holds each code quoted, as json.dumps writes it,
    on SQLite and PostgreSQL alike."""
    text = cast(column, String)
    return or_(*(text.contains(f'"{code}"', autoescape=True) for code in sorted(codes)))


def _need_points(supply: Supply, tree: Tree, home):
    """The SQL twin of :func:`score` for one offer against need rows, ``home`` the column of the owner's country (the
    buyer's or the delegation's): ``(categories that fit, the offer's category and its ancestors, points)``."""
    own = _ancestors(tree, supply.category_id)
    fitting = set(own) | {child for a in own for child in tree.children.get(a, ())}
    n = BuyerNeed
    q = n.quantity_pairs
    points = case((n.category_id.in_(own), POINTS["same_category"]), else_=POINTS["related_category"])
    if supply.capacity:
        points = points + case((and_(q > 0, q <= supply.capacity), POINTS["capacity"]),
                               (and_(q > 0, q <= supply.capacity * 2), POINTS["capacity_partial"]), else_=0)
    points = points + case((and_(q > 0, q >= supply.min_order), POINTS["min_order"]), else_=0)
    hits = _wanted_hits(supply.markets)
    if hits:
        empty = cast(n.markets, String) == "[]"
        points = points + case((or_(and_(~empty, _json_has_any(n.markets, hits)),
                                    and_(empty, home.in_(sorted(hits)))), POINTS["markets"]), else_=0)
    if supply.price_band in BAND_ORDER:
        i = BAND_ORDER.index(supply.price_band)
        adjacent = [BAND_ORDER[j] for j in (i - 1, i + 1) if 0 <= j < len(BAND_ORDER)]
        points = points + case((n.price_band == supply.price_band, POINTS["price_band"]),
                               (n.price_band.in_(adjacent), POINTS["price_band_adjacent"]), else_=0)
    text = func.lower(n.title + " " + n.description)
    if supply.oem:
        points = points + case((text.contains("oem", autoescape=True), POINTS["oem"]), else_=0)
    if supply.odm:
        points = points + case((text.contains("odm", autoescape=True), POINTS["odm"]), else_=0)
    return fitting, own, points


def _active_buyer(expo_id: int, exhibitor_id: int):
    return and_(Buyer.expo_id == expo_id, Buyer.status != BuyerStatus.CANCELLED.value,
                ~_met(expo_id, Buyer.id, literal(exhibitor_id)))


def _best_first(parts: list, key, limit: int | None):
    scored = union_all(*parts).subquery() if len(parts) > 1 else parts[0].subquery()
    best = func.max(scored.c.points)
    stmt = select(scored.c[key], best).group_by(scored.c[key]).order_by(best.desc(), scored.c[key])
    return stmt.limit(limit) if limit else stmt


def ranked_buyers_query(expo_id: int, exhibitor_id: int, supplies: Sequence[Supply], tree: Tree, limit: int, *,
                        interests: bool = False):
    """``(buyer_id, score)`` of the best ``limit`` buyers for these offers by their own active needs — or, with
    ``interests``, by the purchase interests of buyers without any active need (theirs or their delegation's).
    Cancelled buyers and buyers the exhibitor has a meeting with are left out."""
    active_buyer = _active_buyer(expo_id, exhibitor_id)
    parts = []
    for supply in supplies:
        fitting, own, points = _need_points(supply, tree, Buyer.country)
        if not interests:
            parts.append(select(Buyer.id.label("buyer_id"), points.label("points"))
                         .join(BuyerNeed, BuyerNeed.buyer_id == Buyer.id)
                         .where(active_buyer, BuyerNeed.expo_id == expo_id, BuyerNeed.active.is_(True),
                                BuyerNeed.category_id.in_(sorted(fitting))))
            continue
        category = buyer_categories.c.category_id
        interest_points = case((category.in_(own), POINTS["interest"]), else_=POINTS["related_interest"])
        hits = _wanted_hits(supply.markets)
        if hits:
            interest_points = interest_points + case((Buyer.country.in_(sorted(hits)), POINTS["markets"]), else_=0)
        has_need = or_(exists().where(BuyerNeed.buyer_id == Buyer.id, BuyerNeed.active.is_(True)),
                       exists().where(BuyerNeed.delegation_id == Buyer.delegation_id, BuyerNeed.active.is_(True)))
        parts.append(select(Buyer.id.label("buyer_id"), interest_points.label("points"))
                     .join(buyer_categories, buyer_categories.c.buyer_id == Buyer.id)
                     .where(active_buyer, category.in_(sorted(fitting)), ~has_need))
    return _best_first(parts, "buyer_id", limit)


def ranked_delegations_query(expo_id: int, supplies: Sequence[Supply], tree: Tree):
    """``(delegation_id, score)`` of every delegation with a fitting active need, best first: a delegation's need
    scores the same for each of its members, so it is scored once here."""
    parts = []
    for supply in supplies:
        fitting, _own, points = _need_points(supply, tree, Delegation.country)
        parts.append(select(Delegation.id.label("delegation_id"), points.label("points"))
                     .join(BuyerNeed, BuyerNeed.delegation_id == Delegation.id)
                     .where(Delegation.expo_id == expo_id, BuyerNeed.active.is_(True),
                            BuyerNeed.category_id.in_(sorted(fitting))))
    return _best_first(parts, "delegation_id", None)


def _ranked_buyer_ids(expo_id: int, exhibitor_id: int, supplies: Sequence[Supply], tree: Tree,
                      limit: int) -> list[int]:
    """The ids of the best ``limit`` buyers, in order: own needs ranked in SQL, then the members of the delegations
    whose needs reach the list (a member scores the better of their own and their delegation's), then — when the
    needs leave room for them — the interests of buyers without needs."""
    pool = dict(db.session.execute(ranked_buyers_query(expo_id, exhibitor_id, supplies, tree, limit)).all())

    def ranked() -> list[tuple[int, int]]:
        return heapq.nsmallest(limit, pool.items(), key=lambda item: (-item[1], item[0]))

    for delegation_id, points in db.session.execute(ranked_delegations_query(expo_id, supplies, tree)):
        top = ranked()
        if len(top) == limit and points < top[-1][1]:
            break  # the delegations come best first: none of the rest reaches the list
        # Ties go to the smaller id: the first ``limit`` eligible members are all that can enter.
        for member_id in db.session.scalars(select(Buyer.id).where(
                Buyer.delegation_id == delegation_id, _active_buyer(expo_id, exhibitor_id))
                .order_by(Buyer.id).limit(limit)):
            pool[member_id] = max(points, pool.get(member_id, 0))
    top = ranked()
    if len(top) < limit or top[-1][1] <= INTEREST_MAX:
        for buyer_id, points in db.session.execute(ranked_buyers_query(expo_id, exhibitor_id, supplies, tree, limit,
                                                                       interests=True)):
            pool[buyer_id] = max(points, pool.get(buyer_id, 0))
        top = ranked()
    return [buyer_id for buyer_id, _points in top]


def for_exhibitor(exhibitor: Exhibitor, expo: Expo, limit: int = DEFAULT_LIMIT, *,
                  tree: Tree | None = None) -> list[Match]:
    """Buyers ranked by fit for ``exhibitor`` (best first, ties by buyer id), at most ``limit``.

    The buyers' active needs (a delegation's needs count for each of its members), and for buyers without any needs
    their purchase interests; cancelled buyers and buyers the exhibitor already has a meeting with are left out.
    The database scores and ranks (:func:`_ranked_buyer_ids`); :func:`score` gives the reasons of those shown."""
    limit = max(1, min(limit, MAX_LIMIT))
    supplies = [Supply(*row[:8], markets=tuple(row[8] or ())) for row in db.session.execute(
        select(*_OFFER_COLUMNS).where(ExhibitorOffer.expo_id == expo.id, ExhibitorOffer.exhibitor_id == exhibitor.id,
                                      ExhibitorOffer.active.is_(True)).order_by(ExhibitorOffer.id))]
    if not supplies:
        return []
    tree = tree or Tree.load()
    ids = _ranked_buyer_ids(expo.id, exhibitor.id, supplies, tree, limit)
    best: dict[int, Match] = {}
    for buyer in db.session.scalars(select(Buyer).where(Buyer.id.in_(ids))) if ids else ():
        for want in wants_of(buyer):
            for supply in supplies:
                _keep_best(best, buyer.id, buyer.id, want, supply, tree)
    return _rank(best, limit)


# --- what the pages show ------------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class ExhibitorCard:
    """A recommended exhibitor as a buyer sees it."""

    match: Match
    exhibitor: Exhibitor
    booths: tuple[str, ...]
    products: tuple[str, ...]


@dataclass(frozen=True)
class BuyerCard:
    """A recommended buyer as an exhibitor sees it: contact details only if the buyer consented to be contacted."""

    match: Match
    name: str
    name_native: str
    company: str
    country: str
    contact_consent: bool
    email: str
    phone: str
    job_title: str


def exhibitor_cards(expo: Expo, matches: Sequence[Match]) -> list[ExhibitorCard]:
    """The matches with their exhibitors, booth numbers (assigned booths) and offered products, in three queries."""
    ids = [m.exhibitor_id for m in matches]
    if not ids:
        return []
    exhibitors = {e.id: e for e in db.session.scalars(select(Exhibitor).where(Exhibitor.id.in_(ids)))}
    booths: dict[int, list[str]] = {}
    for exhibitor_id, number in db.session.execute(
            select(Booth.exhibitor_id, Booth.number).where(Booth.expo_id == expo.id, Booth.exhibitor_id.in_(ids),
                                                           Booth.status == BoothStatus.ASSIGNED.value)
            .order_by(Booth.number)):
        booths.setdefault(exhibitor_id, []).append(number)
    products: dict[int, list[str]] = {}
    for exhibitor_id, text in db.session.execute(
            select(ExhibitorOffer.exhibitor_id, ExhibitorOffer.products)
            .where(ExhibitorOffer.expo_id == expo.id, ExhibitorOffer.exhibitor_id.in_(ids),
                   ExhibitorOffer.active.is_(True)).order_by(ExhibitorOffer.id)):
        products.setdefault(exhibitor_id, []).append(text)
    return [ExhibitorCard(m, exhibitors[m.exhibitor_id], tuple(booths.get(m.exhibitor_id, ())),
                          tuple(products.get(m.exhibitor_id, ()))) for m in matches if m.exhibitor_id in exhibitors]


def buyer_cards(matches: Sequence[Match]) -> list[BuyerCard]:
    """The matches with their buyers as the exhibitor may see them (:mod:`expo.checkin.leads`' consent rule)."""
    ids = [m.buyer_id for m in matches]
    buyers = {b.id: b for b in db.session.scalars(select(Buyer).where(Buyer.id.in_(ids)))} if ids else {}
    cards = []
    for m in matches:
        buyer = buyers.get(m.buyer_id)
        if buyer is None:
            continue
        consent = bool(buyer.contact_consent)
        cards.append(BuyerCard(m, buyer.name, buyer.name_native, buyer.company if consent else "", buyer.country,
                               consent, buyer.email if consent else "", buyer.phone if consent else "",
                               buyer.job_title if consent else ""))
    return cards
