"""Read-only lookups of the venue for forms and filters."""

from __future__ import annotations

from sqlalchemy import select

from expo.categories.models import ProductCategory
from expo.extensions import db
from expo.i18n import localized
from expo.venue.models import ExhibitionArea, Expo, Pavilion


def area_choices(expo: Expo, lang: str) -> list[tuple[int, str]]:
    areas = db.session.scalars(select(ExhibitionArea).where(ExhibitionArea.expo_id == expo.id)
                               .order_by(ExhibitionArea.sort))
    return [(a.id, localized(a, "name", lang)) for a in areas]


def pavilion_choices(expo: Expo, lang: str) -> list[tuple[int, str]]:
    pavilions = db.session.scalars(select(Pavilion).where(Pavilion.expo_id == expo.id).order_by(Pavilion.sort))
    return [(p.id, localized(p, "name", lang)) for p in pavilions]


def category_choices(lang: str) -> list[tuple[int, str]]:
    """Active categories, children indented under their parent ("Athletic shoes › Running shoes")."""
    cats = list(db.session.scalars(select(ProductCategory).where(ProductCategory.active.is_(True))
                                   .order_by(ProductCategory.sort, ProductCategory.id)))
    by_parent: dict[int | None, list[ProductCategory]] = {}
    for c in cats:
        by_parent.setdefault(c.parent_id, []).append(c)
    out: list[tuple[int, str]] = []

    def walk(parent_id: int | None, prefix: str) -> None:
        for c in by_parent.get(parent_id, []):
            label = prefix + localized(c, "name", lang)
            out.append((c.id, label))
            walk(c.id, label + " › ")

    walk(None, "")
    return out
