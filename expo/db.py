"""Declarative base with a naming convention (stable constraint names in migrations) and shared mixins."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

from sqlalchemy import DateTime, MetaData
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


#: Tables the migrations create outside the models, and their shadow tables: the SQLite full-text index of the buyer
#: list's search (migration 0004, FTS5 virtual table ``buyers_search`` and ``buyers_search_*``).
UNMODELLED_TABLES = ("buyers_search",)


def autogenerate_filter(dialect: str) -> Callable[..., bool]:
    """Alembic's ``include_object`` for comparing the models with a database of ``dialect``: it leaves out what the
    models declare for another database only (``Index(...).ddl_if(dialect="postgresql")``, such as the trigram
    indexes of the review queue's search), which the migrations create there and nowhere else."""

    def include_object(obj, name, type_, reflected, compare_to) -> bool:
        if type_ == "table" and reflected and compare_to is None and name.startswith(UNMODELLED_TABLES):
            return False
        ddl_if = getattr(obj, "_ddl_if", None)
        if ddl_if is None or ddl_if.dialect is None:
            return True
        wanted = (ddl_if.dialect,) if isinstance(ddl_if.dialect, str) else tuple(ddl_if.dialect)
        return dialect in wanted

    return include_object


def utcnow() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


class TimestampMixin:
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, onupdate=utcnow)
