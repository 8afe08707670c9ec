"""The organizer's edits of the venue: halls (size, place on the plan, entrances, obstacles), pavilions, exhibition
areas, and the layout generator's preview. Services flush, the view commits (ARCHITECTURE.md).

A hall's geometry change re-derives the open sides and kinds of its booths and is refused when a booth would end up
outside the hall or on an obstacle: the plan never holds a booth nobody can build.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from expo import audit
from expo.auth.models import User
from expo.categories.models import ProductCategory
from expo.extensions import db
from expo.venue import layout
from expo.venue.models import Booth, ExhibitionArea, Expo, Hall, Pavilion
from expo.venue.services import VenueError, booth_rect, derive_hall, hall_size, obstacle_rects


def update_hall(actor: User | None, hall: Hall, *, name_zh: str, name_en: str, width_m: float, depth_m: float,
                plan_x_m: float, plan_y_m: float, entrances: list[dict[str, Any]],
                obstacles: list[dict[str, Any]]) -> int:
    """Change a hall's names and geometry; refuse when a booth would stand outside the hall or on an obstacle.
    Returns how many booths changed their open sides or kind."""
    old = {"width_m": float(hall.width_m), "depth_m": float(hall.depth_m), "entrances": hall.entrances,
           "obstacles": hall.obstacles}
    hall.name_zh, hall.name_en = name_zh, name_en
    hall.width_m, hall.depth_m = width_m, depth_m
    hall.plan_x_m, hall.plan_y_m = plan_x_m, plan_y_m
    hall.entrances, hall.obstacles = entrances, obstacles
    booths = list(db.session.scalars(select(Booth).where(Booth.hall_id == hall.id).order_by(Booth.number)))
    outside = [b.number for b in booths if not booth_rect(b).inside(width_m, depth_m)]
    if outside:
        raise VenueError(_l("These booths would be outside the hall: %(numbers)s",
                            numbers=", ".join(outside[:10])), code="outside_hall", status=409)
    blocks = obstacle_rects(hall)
    on_obstacle = [b.number for b in booths if any(booth_rect(b).overlaps(o) for o in blocks)]
    if on_obstacle:
        raise VenueError(_l("These booths would stand on an obstacle: %(numbers)s",
                            numbers=", ".join(on_obstacle[:10])), code="on_obstacle", status=409, field="obstacles")
    changed = derive_hall(hall, booths)
    db.session.flush()
    new = {"width_m": width_m, "depth_m": depth_m, "entrances": entrances, "obstacles": obstacles}
    diff = {k: [old[k], new[k]] for k in old if old[k] != new[k]}
    audit.record(actor, "hall_updated", hall, **diff)
    return changed


def save_pavilion(actor: User | None, expo: Expo, pavilion: Pavilion | None, *, code: str, name_zh: str,
                  name_en: str, colour: str, area_id: int | None, category_ids: list[int]) -> Pavilion:
    """Create (``pavilion`` None) or change a pavilion: names, colour, exhibition area and hosted categories."""
    clash = db.session.scalar(select(Pavilion.id).where(Pavilion.expo_id == expo.id, Pavilion.code == code))
    if clash is not None and (pavilion is None or clash != pavilion.id):
        raise VenueError(_l("Another pavilion has this code."), code="code_taken", field="code", status=409)
    area = None
    if area_id:
        area = db.session.get(ExhibitionArea, area_id)
        if area is None or area.expo_id != expo.id:
            raise VenueError(_l("There is no such exhibition area."), field="area_id")
    categories = list(db.session.scalars(select(ProductCategory).where(ProductCategory.id.in_(category_ids or [])))) \
        if category_ids else []
    if pavilion is None:
        sort = len(expo.pavilions)
        pavilion = Pavilion(expo=expo, code=code, name_zh=name_zh, name_en=name_en, sort=sort)
        db.session.add(pavilion)
        action = "pavilion_created"
    else:
        action = "pavilion_updated"
    pavilion.code, pavilion.name_zh, pavilion.name_en, pavilion.colour = code, name_zh, name_en, colour.lower()
    pavilion.area = area
    pavilion.categories = categories
    db.session.flush()
    audit.record(actor, action, pavilion, code=code, colour=pavilion.colour,
                 categories=sorted(c.code for c in categories))
    return pavilion


def update_area(actor: User | None, area: ExhibitionArea, *, name_zh: str, name_en: str) -> ExhibitionArea:
    """Rename an exhibition area."""
    old = [area.name_zh, area.name_en]
    area.name_zh, area.name_en = name_zh, name_en
    db.session.flush()
    audit.record(actor, "area_updated", area, names=[old, [name_zh, name_en]])
    return area


@dataclass
class GenerationPreview:
    """What the layout generator would create, without writing anything."""

    specs: list[layout.BoothSpec]
    taken: list[str]
    existing: list[Booth]
    keep_clear: list


def preview_generation(hall: Hall, spec: layout.BlockLayout) -> GenerationPreview:
    """The booths :func:`expo.venue.services.generate` would create for ``spec``, computed the same way (obstacles,
    entrance zones and the booths already there kept clear), and the numbers of them already taken in the expo."""
    width, depth = hall_size(hall)
    if not spec.region.inside(width, depth):
        raise VenueError(_l("The region does not fit inside the hall."), code="outside_hall")
    existing = list(db.session.scalars(select(Booth).where(Booth.hall_id == hall.id)))
    keep_clear = [*obstacle_rects(hall), *layout.entrance_zones(hall.entrances, width, depth)]
    specs = layout.generate(spec, [*keep_clear, *(booth_rect(b) for b in existing)])
    numbers = [s.number for s in specs]
    taken = sorted(db.session.scalars(select(Booth.number).where(Booth.expo_id == hall.expo_id,
                                                                 Booth.number.in_(numbers)))) if numbers else []
    return GenerationPreview(specs=specs, taken=taken, existing=existing, keep_clear=keep_clear)
