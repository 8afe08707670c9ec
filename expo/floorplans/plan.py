"""A floor plan as plain data, built from the database in one place; the PDF and SVG renderers draw from it.

Coordinates stay in metres: booths, obstacles and entrances in their hall's frame (x east, y south, origin at the
hall's north-west corner); halls carry their position on the whole-venue plan (``Hall.plan_x_m``/``plan_y_m``).
Two variants: the *exhibitor* plan (names of the exhibitors of assigned booths, no prices) and the *sales* plan
(prices of the booths still for sale). What a reader may see is decided here, so a renderer cannot leak it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from math import floor, log10

from sqlalchemy import select

from expo.categories.models import ProductCategory, exhibitor_categories
from expo.exhibitors.models import Exhibitor
from expo.extensions import db
from expo.i18n import localized
from expo.venue.models import Booth, BoothStatus, Expo, Hall, Pavilion, pavilion_categories

VARIANTS = ("exhibitor", "sales")
#: Statuses whose holder is shown on the plan: a hold is not yet public.
NAMED_STATUSES = frozenset({BoothStatus.ASSIGNED})


@dataclass
class PlanBooth:
    id: int
    number: str
    x: float
    y: float
    w: float
    d: float
    status: str
    kind: str
    raw_space: bool
    pavilion: str  # pavilion code, "" when none
    colour: str
    price_cny: int | None  # None unless the sales plan shows it (booths for sale only)
    exhibitor_id: int | None  # only when the name is shown
    exhibitor: str  # display name in the plan's language, "" when not shown
    categories: tuple[str, ...] = ()  # product category codes: the exhibitor's, else the pavilion's
    stand_id: int | None = None

    @property
    def hidden_in_stand(self) -> bool:
        return self.stand_id is not None


@dataclass
class PlanStand:
    """Merged booths of one exhibitor: drawn as one outline with one name."""

    id: int
    booth_ids: list[int]
    segments: list[tuple[float, float, float, float]]  # outline as wall segments (x1, y1, x2, y2)
    bbox: tuple[float, float, float, float]  # x, y, w, d
    exhibitor: str
    numbers: list[str]


@dataclass
class PlanEntrance:
    name: str
    side: str  # N, E, S, W
    offset: float
    width: float

    def segment(self, hall_w: float, hall_d: float) -> tuple[float, float, float, float]:
        """The door's opening as a segment on the hall's wall."""
        o, w = self.offset, self.width
        return {"N": (o, 0, o + w, 0), "S": (o, hall_d, o + w, hall_d),
                "W": (0, o, 0, o + w), "E": (hall_w, o, hall_w, o + w)}.get(self.side, (o, 0, o + w, 0))


@dataclass
class PlanObstacle:
    label: str
    x: float
    y: float
    w: float
    d: float


@dataclass
class PlanHall:
    id: int
    code: str
    name: str
    width: float
    depth: float
    x: float  # position on the whole-venue plan
    y: float
    entrances: list[PlanEntrance] = field(default_factory=list)
    obstacles: list[PlanObstacle] = field(default_factory=list)
    booths: list[PlanBooth] = field(default_factory=list)
    stands: list[PlanStand] = field(default_factory=list)


@dataclass
class LegendEntry:
    code: str
    name: str
    colour: str
    booths: int


@dataclass
class IndexEntry:
    exhibitor_id: int
    name: str
    booths: list[str]


@dataclass
class Plan:
    expo_name: str
    lang: str
    variant: str
    halls: list[PlanHall]
    legend: list[LegendEntry]
    index: list[IndexEntry]
    categories: dict[str, str]  # code → name, the categories that occur on the plan (web filter)

    @property
    def extent(self) -> tuple[float, float, float, float]:
        """Bounding box of the halls on the venue plan: x, y, width, depth in metres."""
        if not self.halls:
            return (0.0, 0.0, 1.0, 1.0)
        x0 = min(h.x for h in self.halls)
        y0 = min(h.y for h in self.halls)
        x1 = max(h.x + h.width for h in self.halls)
        y1 = max(h.y + h.depth for h in self.halls)
        return (x0, y0, x1 - x0, y1 - y0)

    @property
    def booths(self) -> list[PlanBooth]:
        return [b for h in self.halls for b in h.booths]


def scale_bar_length(span_m: float) -> float:
    """A round length (1, 2 or 5 × 10ⁿ m) of about a fifth of ``span_m`` for the scale bar."""
    target = max(span_m / 5, 0.1)
    power = 10 ** floor(log10(target))
    for step in (5, 2, 1):
        if step * power <= target:
            return float(step * power)
    return float(power)


def outline_segments(rects: list[tuple[float, float, float, float]]) -> list[tuple[float, float, float, float]]:
    """The outer walls of a union of axis-aligned rectangles, as segments (interior walls dropped)."""
    xs = sorted({v for x, _y, w, _d in rects for v in (round(x, 3), round(x + w, 3))})
    ys = sorted({v for _x, y, _w, d in rects for v in (round(y, 3), round(y + d, 3))})

    def covered(i: int, j: int) -> bool:
        if i < 0 or j < 0 or i >= len(xs) - 1 or j >= len(ys) - 1:
            return False
        cx, cy = (xs[i] + xs[i + 1]) / 2, (ys[j] + ys[j + 1]) / 2
        return any(x < cx < x + w and y < cy < y + d for x, y, w, d in rects)

    cells = {(i, j) for i in range(len(xs) - 1) for j in range(len(ys) - 1) if covered(i, j)}
    segs = []
    for i, j in cells:
        if (i, j - 1) not in cells:
            segs.append((xs[i], ys[j], xs[i + 1], ys[j]))
        if (i, j + 1) not in cells:
            segs.append((xs[i], ys[j + 1], xs[i + 1], ys[j + 1]))
        if (i - 1, j) not in cells:
            segs.append((xs[i], ys[j], xs[i], ys[j + 1]))
        if (i + 1, j) not in cells:
            segs.append((xs[i + 1], ys[j], xs[i + 1], ys[j + 1]))
    return sorted(segs)


def build_plan(expo: Expo, lang: str = "en", hall: str | None = None, variant: str = "exhibitor") -> Plan:
    """The plan of ``expo`` (or of one hall by code) in ``lang`` ("en" or "zh"), as the ``variant`` shows it.

    Raises ``LookupError`` for an unknown hall code and ``ValueError`` for an unknown variant. Four queries in
    all, whatever the number of booths.
    """
    if variant not in VARIANTS:
        raise ValueError(variant)
    lang = "zh" if lang == "zh" else "en"
    hall_query = select(Hall).where(Hall.expo_id == expo.id).order_by(Hall.code)
    if hall:
        hall_query = hall_query.where(Hall.code == hall)
    halls = list(db.session.scalars(hall_query))
    if hall and not halls:
        raise LookupError(hall)
    pavilions = {p.id: p for p in db.session.scalars(select(Pavilion).where(Pavilion.expo_id == expo.id)
                                                     .order_by(Pavilion.sort))}
    rows = db.session.execute(
        select(Booth.id, Booth.hall_id, Booth.number, Booth.x_m, Booth.y_m, Booth.width_m, Booth.depth_m,
               Booth.status, Booth.kind, Booth.raw_space, Booth.pavilion_id, Booth.price_cny, Booth.exhibitor_id,
               Booth.stand_id, Exhibitor.name_zh, Exhibitor.name_en)
        .outerjoin(Exhibitor, Exhibitor.id == Booth.exhibitor_id)
        .where(Booth.hall_id.in_([h.id for h in halls]))
        .order_by(Booth.number)
    ).all()
    shown = {r.exhibitor_id for r in rows if r.exhibitor_id and r.status in NAMED_STATUSES}
    cats: dict[int, str] = {}
    ex_cats: dict[int, list[str]] = {}
    pav_cats: dict[int, list[str]] = {}
    for ex_id, cat_id, code in db.session.execute(
            select(exhibitor_categories.c.exhibitor_id, ProductCategory.id, ProductCategory.code)
            .join(ProductCategory, ProductCategory.id == exhibitor_categories.c.category_id)
            .where(exhibitor_categories.c.exhibitor_id.in_(shown or {0}))):
        ex_cats.setdefault(ex_id, []).append(code)
        cats[cat_id] = code
    for pav_id, cat_id, code in db.session.execute(
            select(pavilion_categories.c.pavilion_id, ProductCategory.id, ProductCategory.code)
            .join(ProductCategory, ProductCategory.id == pavilion_categories.c.category_id)
            .where(pavilion_categories.c.pavilion_id.in_(list(pavilions) or [0]))):
        pav_cats.setdefault(pav_id, []).append(code)
        cats[cat_id] = code
    category_names = {c.code: localized(c, "name", lang) for c in db.session.scalars(
        select(ProductCategory).where(ProductCategory.id.in_(list(cats) or [0])).order_by(ProductCategory.sort))}

    plan_halls = {h.id: PlanHall(
        id=h.id, code=h.code, name=localized(h, "name", lang), width=float(h.width_m), depth=float(h.depth_m),
        x=float(h.plan_x_m or 0), y=float(h.plan_y_m or 0),
        entrances=[PlanEntrance(str(e.get("name", "")), str(e.get("side", "N")), float(e.get("offset_m", 0)),
                                float(e.get("width_m", 0))) for e in (h.entrances or [])],
        obstacles=[PlanObstacle(str(o.get("label", "")), float(o["x_m"]), float(o["y_m"]), float(o["width_m"]),
                                float(o["depth_m"])) for o in (h.obstacles or [])],
    ) for h in halls}
    counts: dict[int, int] = {}
    index: dict[int, IndexEntry] = {}
    stands: dict[tuple[int, int], list[PlanBooth]] = {}
    for r in rows:
        pav = pavilions.get(r.pavilion_id) if r.pavilion_id else None
        named = r.exhibitor_id in shown and r.status in NAMED_STATUSES
        name = ""
        if named:
            first, second = (r.name_zh, r.name_en) if lang == "zh" else (r.name_en, r.name_zh)
            name = first or second or ""
        for_sale = r.status == BoothStatus.AVAILABLE
        booth = PlanBooth(
            id=r.id, number=r.number, x=r.x_m, y=r.y_m, w=r.width_m, d=r.depth_m, status=r.status, kind=r.kind,
            raw_space=r.raw_space, pavilion=pav.code if pav else "", colour=pav.colour if pav else "#999999",
            price_cny=r.price_cny if variant == "sales" and for_sale else None,
            exhibitor_id=r.exhibitor_id if named else None, exhibitor=name,
            categories=tuple((named and ex_cats.get(r.exhibitor_id)) or pav_cats.get(r.pavilion_id, [])),
            stand_id=r.stand_id if named else None,
        )
        plan_halls[r.hall_id].booths.append(booth)
        if pav:
            counts[pav.id] = counts.get(pav.id, 0) + 1
        if named:
            index.setdefault(r.exhibitor_id, IndexEntry(r.exhibitor_id, name, [])).booths.append(r.number)
        if booth.stand_id:
            stands.setdefault((r.hall_id, booth.stand_id), []).append(booth)
    for (hall_id, stand_id), members in stands.items():
        if len(members) < 2:  # a stand of one booth is just that booth
            members[0].stand_id = None
            continue
        rects = [(b.x, b.y, b.w, b.d) for b in members]
        x0, y0 = min(b.x for b in members), min(b.y for b in members)
        x1, y1 = max(b.x + b.w for b in members), max(b.y + b.d for b in members)
        plan_halls[hall_id].stands.append(PlanStand(
            id=stand_id, booth_ids=[b.id for b in members], segments=outline_segments(rects),
            bbox=(x0, y0, x1 - x0, y1 - y0), exhibitor=members[0].exhibitor, numbers=[b.number for b in members]))
    legend = [LegendEntry(p.code, localized(p, "name", lang), p.colour, counts[p.id])
              for p in pavilions.values() if counts.get(p.id)]
    return Plan(
        expo_name=localized(expo, "name", lang), lang=lang, variant=variant, halls=list(plan_halls.values()),
        legend=legend, index=sorted(index.values(), key=lambda e: (e.name.casefold(), e.exhibitor_id)),
        categories=category_names,
    )


def hall_names(expo: Expo, lang: str = "en") -> list[tuple[str, str]]:
    """(code, name in ``lang``) of every hall of ``expo``, by code: the hall tabs of a plan that shows one hall."""
    return [(h.code, localized(h, "name", lang))
            for h in db.session.scalars(select(Hall).where(Hall.expo_id == expo.id).order_by(Hall.code))]


def booths_of(expo: Expo, exhibitor_id: int) -> tuple[str | None, list[int]]:
    """The hall code and booth ids of an exhibitor's booths (assigned or held), in the hall with most of them."""
    rows = db.session.execute(
        select(Hall.code, Booth.id).join(Hall, Hall.id == Booth.hall_id)
        .where(Booth.expo_id == expo.id, Booth.exhibitor_id == exhibitor_id,
               Booth.status.in_([BoothStatus.ASSIGNED, BoothStatus.HELD]))
        .order_by(Booth.number)).all()
    if not rows:
        return None, []
    by_hall: dict[str, list[int]] = {}
    for code, booth_id in rows:
        by_hall.setdefault(code, []).append(booth_id)
    code = max(by_hall, key=lambda c: len(by_hall[c]))
    return code, by_hall[code]


def selectable_booths(expo: Expo, pavilion_id: int | None) -> set[int]:
    """Booths an exhibitor may pick in self-selection: available ones in its pavilion (any, without one)."""
    query = select(Booth.id).where(Booth.expo_id == expo.id, Booth.status == BoothStatus.AVAILABLE)
    if pavilion_id:
        query = query.where(Booth.pavilion_id == pavilion_id)
    return set(db.session.scalars(query))
