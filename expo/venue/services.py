"""Building the venue: booths from the layout generator, derived open sides and kinds, prices.

Services flush, callers commit (ARCHITECTURE.md). Every change of geometry re-derives the open sides and kinds of
the hall's booths, so they always follow from the plan.
"""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select

from expo import audit
from expo.auth.models import User
from expo.errors import ExpoError
from expo.extensions import db
from expo.venue import geometry, layout
from expo.venue.geometry import Rect
from expo.venue.models import Booth, BoothStatus, Hall, Pavilion


class VenueError(ExpoError):
    code = "venue"


def booth_rect(booth: Booth) -> Rect:
    return Rect(booth.x_m, booth.y_m, booth.width_m, booth.depth_m)


def obstacle_rects(hall: Hall) -> list[Rect]:
    return [Rect(float(o["x_m"]), float(o["y_m"]), float(o["width_m"]), float(o["depth_m"])) for o in hall.obstacles]


def hall_size(hall: Hall) -> tuple[float, float]:
    return float(hall.width_m), float(hall.depth_m)


def derive_hall(hall: Hall, booths: list[Booth] | None = None) -> int:
    """Set the open sides and kind of every booth in ``hall`` from the geometry; returns how many changed."""
    if booths is None:
        booths = list(db.session.scalars(select(Booth).where(Booth.hall_id == hall.id)))
    sides = geometry.open_sides({b.id or id(b): booth_rect(b) for b in booths}, *hall_size(hall), obstacle_rects(hall))
    changed = 0
    for b in booths:
        s = sides[b.id or id(b)]
        kind = geometry.kind_for(s, b.raw_space)
        if (b.open_sides, b.kind) != (s, kind):
            b.open_sides, b.kind = s, str(kind)
            changed += 1
    return changed


def check_fits(hall: Hall, rect: Rect, others: list[Rect]) -> None:
    """Refuse a booth outside the hall, on an obstacle, or on top of another booth."""
    if not rect.inside(*hall_size(hall)):
        raise VenueError(_l("The booth does not fit inside the hall."), code="outside_hall")
    if any(rect.overlaps(o) for o in obstacle_rects(hall)):
        raise VenueError(_l("The booth stands on an obstacle of the hall."), code="on_obstacle")
    if any(rect.overlaps(o) for o in others):
        raise VenueError(_l("The booth overlaps another booth."), code="overlap")


def generate(actor: User | None, hall: Hall, spec: layout.BlockLayout, *, pavilion: Pavilion | None,
             price_cny: int, raw_space: bool = False) -> list[Booth]:
    """Lay out booths in a region of ``hall`` with the block generator, around obstacles, entrance zones and the
    booths already there. Numbers already taken in the expo are refused before anything is written."""
    width, depth = hall_size(hall)
    if not spec.region.inside(width, depth):
        raise VenueError(_l("The region does not fit inside the hall."), code="outside_hall")
    existing = list(db.session.scalars(select(Booth).where(Booth.hall_id == hall.id)))
    keep_clear = [*obstacle_rects(hall), *layout.entrance_zones(hall.entrances, width, depth),
                  *(booth_rect(b) for b in existing)]
    specs = layout.generate(spec, keep_clear)
    if not specs:
        raise VenueError(_l("No booth fits in this region."), code="empty_layout")
    numbers = [s.number for s in specs]
    taken = set(db.session.scalars(select(Booth.number).where(Booth.expo_id == hall.expo_id,
                                                              Booth.number.in_(numbers))))
    if taken:
        raise VenueError(_l("These booth numbers are taken already: %(numbers)s",
                            numbers=", ".join(sorted(taken)[:10])), code="number_taken")
    booths = [Booth(expo_id=hall.expo_id, hall=hall, pavilion=pavilion, number=s.number, x_m=s.rect.x, y_m=s.rect.y,
                    width_m=s.rect.w, depth_m=s.rect.d, raw_space=raw_space, price_cny=price_cny,
                    status=BoothStatus.AVAILABLE) for s in specs]
    db.session.add_all(booths)
    derive_hall(hall, existing + booths)
    db.session.flush()
    if actor is not None:
        audit.record(actor, "booths_generated", hall, count=len(booths), first=numbers[0], last=numbers[-1])
    return booths


def booth_counts(expo_id: int) -> dict[str, int]:
    """Booths of the expo by status."""
    rows = db.session.execute(select(Booth.status, func.count()).where(Booth.expo_id == expo_id)
                              .group_by(Booth.status))
    return {status: n for status, n in rows}
