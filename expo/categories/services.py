"""The organizer edits the product-category taxonomy. Categories are deactivated, never deleted, so that
exhibitors and buyers who chose them keep their data."""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from expo import audit
from expo.auth.models import User
from expo.categories.models import ProductCategory
from expo.errors import ExpoError
from expo.extensions import db

FIELDS = ("code", "name_zh", "name_en", "parent_id", "sort", "active")


def save_category(actor: User, values: dict[str, Any], category: ProductCategory | None = None) -> ProductCategory:
    """Create a category, or change ``category``. Codes are unique; a category cannot sit under itself."""
    values = {k: values[k] for k in FIELDS if k in values}
    values["sort"] = values.get("sort") or 0
    clash = db.session.scalar(select(ProductCategory.id).where(ProductCategory.code == values["code"]))
    if clash is not None and (category is None or clash != category.id):
        raise ExpoError(_l("Another category already uses this code."), field="code", code="code_taken")
    parent_id = values.get("parent_id")
    if parent_id is not None:
        parent = db.session.get(ProductCategory, parent_id)
        if parent is None:
            raise ExpoError(_l("Choose a parent category from the list."), field="parent_id")
        walker = parent
        while walker is not None:
            if category is not None and walker.id == category.id:
                raise ExpoError(_l("A category cannot be placed under itself."), field="parent_id")
            walker = walker.parent
    if category is None:
        category = ProductCategory(**values)
        db.session.add(category)
        db.session.flush()
        audit.record(actor, "category_created", category, code=category.code)
    else:
        changes = audit.diff(category, values)
        db.session.flush()
        if changes:
            audit.record(actor, "category_updated", category, **changes)
    return category
