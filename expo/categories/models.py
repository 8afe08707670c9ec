"""The product-category taxonomy of the footwear trade, editable by the organizer."""

from __future__ import annotations

from sqlalchemy import Boolean, Column, ForeignKey, Integer, String, Table
from sqlalchemy.orm import Mapped, mapped_column, relationship

from expo.extensions import db


class ProductCategory(db.Model):
    __tablename__ = "product_categories"

    id: Mapped[int] = mapped_column(primary_key=True)
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("product_categories.id", ondelete="CASCADE"), index=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name_zh: Mapped[str] = mapped_column(String(100))
    name_en: Mapped[str] = mapped_column(String(100))
    sort: Mapped[int] = mapped_column(Integer, default=0)
    active: Mapped[bool] = mapped_column(Boolean, default=True)

    parent: Mapped[ProductCategory | None] = relationship(remote_side="ProductCategory.id", back_populates="children")
    children: Mapped[list[ProductCategory]] = relationship(back_populates="parent", order_by="ProductCategory.sort")


exhibitor_categories = Table(
    "exhibitor_categories",
    db.metadata,
    Column("exhibitor_id", ForeignKey("exhibitors.id", ondelete="CASCADE"), primary_key=True),
    Column("category_id", ForeignKey("product_categories.id", ondelete="CASCADE"), primary_key=True, index=True),
)
