"""The product-category tree as plain ids, read in one query: for filters that take a category with its
subcategories ("Athletic shoes" finds running shoes too) and for matchmaking's category fit."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select

from expo.categories.models import ProductCategory
from expo.extensions import db


@dataclass(frozen=True)
class CategoryTree:
    parent: dict[int, int | None]
    children: dict[int | None, list[int]]

    @classmethod
    def load(cls) -> CategoryTree:
        parent: dict[int, int | None] = {}
        children: dict[int | None, list[int]] = {}
        for cid, parent_id in db.session.execute(select(ProductCategory.id, ProductCategory.parent_id)):
            parent[cid] = parent_id
            children.setdefault(parent_id, []).append(cid)
        return cls(parent, children)

    def subtree(self, category_id: int) -> set[int]:
        """``category_id`` with the ids of all its subcategories, at any depth."""
        found, todo = {category_id}, [category_id]
        while todo:
            for child in self.children.get(todo.pop(), []):
                if child not in found:
                    found.add(child)
                    todo.append(child)
        return found


def with_descendants(category_id: int) -> set[int]:
    """A category's id with the ids of all its subcategories (any depth)."""
    return CategoryTree.load().subtree(category_id)
