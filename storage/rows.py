"""Result rows to the core's dataclasses by name, never by position.

A select labels each column with the name of the dataclass field it fills (with a prefix when one row
carries several dataclasses), and the dataclass is built from the row's mapping, or on the hot reads by
a `picker` that finds each label's position once per statement: a new column or a reordered field can't
shift values into the wrong field, and a field without a column is a KeyError at once instead of a
silently wrong value.
"""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Callable, Mapping, Sequence
from operator import itemgetter
from typing import Any, ClassVar, Protocol, TypeVar

from sqlalchemy import ColumnElement, Label, RowMapping, SelectBase, cast, null
from sqlalchemy.orm import InstrumentedAttribute


class DataclassInstance(Protocol):
    """What every dataclass has (typeshed's protocol of the same name, which exists for type checkers only)."""

    __dataclass_fields__: ClassVar[dict[str, dataclasses.Field[Any]]]


T = TypeVar("T", bound=DataclassInstance)

# A dataclass's field name -> the column that stores it.
FieldColumns = Mapping[str, InstrumentedAttribute[Any]]
# A result row's mapping (or any mapping of labels to values, as in tests).
RowValues = RowMapping | Mapping[str, Any]


def by_key(*columns: InstrumentedAttribute[Any]) -> dict[str, InstrumentedAttribute[Any]]:
    """Columns whose attribute names are the field names (users, chats): {name: column}."""
    return {column.key: column for column in columns}


@functools.cache
def field_names(cls: type[DataclassInstance]) -> tuple[str, ...]:
    """Cached: the hot reads build thousands of rows, `dataclasses.fields` per row would show."""
    return tuple(field.name for field in dataclasses.fields(cls))


@functools.cache
def _keys(cls: type[DataclassInstance], prefix: str) -> tuple[tuple[str, str], ...]:
    """(field name, label) pairs, cached for the same reason."""
    return tuple((name, prefix + name) for name in field_names(cls))


def labelled(columns: FieldColumns, prefix: str = "") -> list[Label[Any]]:
    """The columns to select, each labelled `prefix + field name`."""
    return [column.label(prefix + name) for name, column in columns.items()]


def labelled_nulls(columns: FieldColumns, prefix: str = "") -> list[Label[Any]]:
    """Typed NULLs under the same labels: the other half of a UNION (PostgreSQL wants every column typed)."""
    return [typed_null(column).label(prefix + name) for name, column in columns.items()]


def typed_null(column: InstrumentedAttribute[Any]) -> ColumnElement[Any]:
    """A NULL of the column's own type."""
    return cast(null(), column.type)


def from_mapping(cls: type[T], values: RowValues, prefix: str = "") -> T:
    """Fill every field of `cls` from the key `prefix + field name` (a KeyError when one is missing)."""
    return cls(**{name: values[key] for name, key in _keys(cls, prefix)})


def labels_of(statement: SelectBase) -> tuple[str, ...]:
    """The labels of a select's (or a union's) columns, in order: what its result rows carry by position."""
    return tuple(statement.selected_columns.keys())


def picker(cls: type[T], labels: Sequence[str], prefix: str = "") -> Callable[[Sequence[Any]], T]:
    """Builds `cls` from a result row of `labels`, each field from the label `prefix + field name`.

    As safe as `from_mapping` (the positions are found by label, a field without one is a KeyError at
    once) but the labels are looked up here, once per statement, instead of once per row and field: the
    hot reads run on every command."""
    at = {label: i for i, label in enumerate(labels)}
    names = field_names(cls)
    positions = [at[prefix + name] for name in names]
    if len(positions) == 1:  # itemgetter of one position gives the value, not a tuple
        return lambda row: cls(**{names[0]: row[positions[0]]})
    values = itemgetter(*positions)
    return lambda row: cls(*values(row))


def from_object(cls: type[T], row: object, columns: FieldColumns) -> T:
    """Fill every field of `cls` from the ORM row's attribute of the field's column."""
    return cls(**{name: getattr(row, columns[name].key) for name in field_names(cls)})


def to_values(item: DataclassInstance, columns: FieldColumns) -> dict[str, Any]:
    """The inverse of `from_object`: {column attribute: the field's value}, to build or update a row."""
    return {column.key: getattr(item, name) for name, column in columns.items()}
