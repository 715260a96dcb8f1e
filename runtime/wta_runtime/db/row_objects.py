"""ORM objects from the rows the driver reads, made the way the ORM's own loading makes them.

The declarative constructor sends every attribute through the ORM's instrumentation (events,
history); for an object the hot path only reads, that cost as much as the statement itself.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar

from sqlalchemy.orm import DeclarativeBase, class_mapper

Entity = TypeVar("Entity", bound=DeclarativeBase)


def from_row(cls: type[Entity], values: Mapping[str, Any]) -> Entity:
    """A transient `cls` holding `values` (column name -> value), as `cls(**values)` would."""
    made: Entity = class_mapper(cls).class_manager.new_instance()  # configures the mappers
    made.__dict__.update(values)
    return made
