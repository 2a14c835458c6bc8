"""The ORM, the sync catalogue and the migrations describe the same schema."""

from __future__ import annotations

import datetime as dt
import decimal
import typing
from typing import Any

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from desktop.domain import catalogue
from desktop.models.base import Base
from desktop.models.entities import CLASS_BY_ENTITY
from desktop.models.store import Store

SYNCED_EXTRA = {"id", "version", "deleted", "updated_at"}


def test_every_catalogue_entity_has_an_orm_class_with_exactly_its_fields() -> None:
    assert set(CLASS_BY_ENTITY) == set(catalogue.ENTITIES)
    for name, cls in CLASS_BY_ENTITY.items():
        columns = {c.key for c in cls.__table__.columns}  # type: ignore[attr-defined]
        assert columns - SYNCED_EXTRA == set(catalogue.entity(name).fields), name


def test_text_columns_are_at_least_as_long_as_the_catalogue_allows() -> None:
    for name, cls in CLASS_BY_ENTITY.items():
        for field in catalogue.entity(name).fields.values():
            column = cls.__table__.columns[field.name]  # type: ignore[attr-defined]
            length = getattr(column.type, "length", None)
            if field.type is catalogue.FieldType.TEXT and length is not None:
                assert field.max_length is not None
                assert length >= field.max_length, f"{name}.{field.name}"


# the Python type a column holds for each way a value travels (catalogue.FieldType)
_HELD_AS: dict[catalogue.FieldType, type] = {
    catalogue.FieldType.TEXT: str,
    catalogue.FieldType.INT: int,
    catalogue.FieldType.DECIMAL: decimal.Decimal,
    catalogue.FieldType.BOOL: bool,
    catalogue.FieldType.DATE: dt.date,
    catalogue.FieldType.DATETIME: str,
    catalogue.FieldType.MONTH: str,
    catalogue.FieldType.PARTIAL_DATE: str,
    catalogue.FieldType.REF: str,
    catalogue.FieldType.JSON: dict,
    catalogue.FieldType.LIST: list,
}


def _held(annotation: Any) -> type:
    """``Mapped[list[str] | None]`` -> list."""
    (inner,) = typing.get_args(annotation)
    kinds = [typing.get_origin(k) or k for k in typing.get_args(inner) or (inner,)]
    (kind,) = [k for k in kinds if k is not type(None)]
    return typing.cast(type, kind)


def test_every_field_travels_as_the_type_its_column_holds() -> None:
    """A column holding a list must not be described as text: the server checks values
    by the catalogue, and refused every name kept with its Zawgyi input that way."""
    for name, cls in CLASS_BY_ENTITY.items():
        hints = typing.get_type_hints(cls)
        for field in catalogue.entity(name).fields.values():
            assert _held(hints[field.name]) is _HELD_AS[field.type], f"{name}.{field.name}"


def test_migrations_and_models_agree(store: Store) -> None:
    with store.engine.connect() as conn:
        context = MigrationContext.configure(
            conn,
            opts={
                "include_object": lambda obj, name, type_, *_: (
                    not (type_ == "table" and str(name).startswith("person_search"))
                )
            },
        )
        assert compare_metadata(context, Base.metadata) == []
