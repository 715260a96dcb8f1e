"""Pieces shared by both specs: camelCase models, Secret references and Kubernetes durations."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Annotated

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, PlainSerializer
from pydantic.alias_generators import to_camel

API_GROUP = "wta.io"
API_VERSION = "v1alpha1"

_DURATION_PART = re.compile(r"(\d+)(h|m|s)")


class SpecModel(BaseModel):
    """Base of every spec model: camelCase on the wire, snake_case in Python, no unknown keys."""

    model_config = ConfigDict(
        alias_generator=to_camel, populate_by_name=True, extra="forbid", frozen=True
    )


class SecretKeyRef(SpecModel):
    """A key of a Kubernetes Secret in the resource's namespace."""

    name: str = Field(min_length=1, description="Name of the Secret.")
    key: str = Field(min_length=1, description="Key inside the Secret's data.")


def parse_duration(value: object) -> timedelta:
    """Parse a Kubernetes-style duration such as `48h`, `15m` or `1h30m` (numbers mean seconds)."""
    if isinstance(value, timedelta):
        return value
    if isinstance(value, int | float):
        return timedelta(seconds=value)
    text = str(value).strip()
    parts = _DURATION_PART.findall(text)
    if not text or "".join(n + u for n, u in parts) != text:
        raise ValueError(
            f"invalid duration {text!r}: use hours, minutes, seconds like '48h' or '15m'"
        )
    units = {"h": 3600, "m": 60, "s": 1}
    return timedelta(seconds=sum(int(n) * units[u] for n, u in parts))


def format_duration(value: timedelta) -> str:
    """Write a duration back in the `1h30m` form."""
    seconds = int(value.total_seconds())
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    text = "".join(f"{n}{u}" for n, u in ((hours, "h"), (minutes, "m"), (secs, "s")) if n)
    return text or "0s"


Duration = Annotated[
    timedelta, BeforeValidator(parse_duration), PlainSerializer(format_duration, return_type=str)
]
