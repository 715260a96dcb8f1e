"""Pieces shared by both specs: camelCase models, references, durations, quantities, CEL rules."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Annotated, Any

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PlainSerializer,
    StringConstraints,
    WithJsonSchema,
)
from pydantic.alias_generators import to_camel

API_GROUP = "wta.io"
API_VERSION = "v1alpha1"

# Kubernetes object names (RFC 1123 subdomain), used for references to other objects.
DNS_SUBDOMAIN = r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$"
# Secret and ConfigMap data keys.
DATA_KEY = r"^[-._a-zA-Z0-9]+$"
# Hours, minutes and seconds in this order, each optional but at least one: 48h, 15m, 1h30m5s.
DURATION = r"^([0-9]+h([0-9]+m)?([0-9]+s)?|[0-9]+m([0-9]+s)?|[0-9]+s)$"
# resource.Quantity as kube-openapi writes it (controller-gen emits the same pattern).
QUANTITY = (
    r"^(\+|-)?(([0-9]+(\.[0-9]*)?)|(\.[0-9]+))(([KMGTPE]i)|[numkMGTPE]"
    r"|([eE](\+|-)?(([0-9]+(\.[0-9]*)?)|(\.[0-9]+))))?$"
)

_DURATION_PART = re.compile(r"(\d+)(h|m|s)")


class SpecModel(BaseModel):
    """Base of every spec model: camelCase on the wire, snake_case in Python, no unknown keys."""

    model_config = ConfigDict(
        alias_generator=to_camel, populate_by_name=True, extra="forbid", frozen=True
    )


def cel(
    rule: str,
    message: str,
    *,
    field_path: str | None = None,
    reason: str | None = None,
) -> dict[str, str]:
    """One `x-kubernetes-validations` entry: a CEL rule the API server checks on admission."""
    entry = {"rule": rule, "message": message}
    if field_path is not None:
        entry["fieldPath"] = field_path
    if reason is not None:
        entry["reason"] = reason
    return entry


def validations(*rules: dict[str, str]) -> dict[str, Any]:
    """`json_schema_extra` carrying CEL rules into the generated CRD schema."""
    return {"x-kubernetes-validations": list(rules)}


def immutable(message: str) -> dict[str, Any]:
    """`json_schema_extra` for a field that cannot change once the object exists."""
    return validations(cel("self == oldSelf", message))


def list_map(*keys: str) -> dict[str, Any]:
    """`json_schema_extra` for a list whose items are unique by `keys` (merged by key in SSA)."""
    return {"x-kubernetes-list-type": "map", "x-kubernetes-list-map-keys": list(keys)}


def explained_pattern(message: str) -> dict[str, Any]:
    """`json_schema_extra`: in the CRD, check the field's pattern as a CEL rule with `message`.

    The API server's own pattern error only repeats the regular expression; this says what a
    valid value looks like. Pydantic still checks the same pattern.
    """
    return {PATTERN_MESSAGE: message}


PATTERN_MESSAGE = "x-wta-pattern-message"
LIST_SET: dict[str, Any] = {"x-kubernetes-list-type": "set"}


def unique(values: list[str], what: str) -> list[str]:
    """Refuse repeated values with the same words the API server's list checks use."""
    seen: set[str] = set()
    for value in values:
        if value in seen:
            raise ValueError(f"{what} {value!r} is listed twice; each may appear only once")
        seen.add(value)
    return values


class SecretKeyRef(SpecModel):
    """A key of a Kubernetes Secret in the resource's namespace."""

    name: str = Field(
        min_length=1, max_length=253, pattern=DNS_SUBDOMAIN, description="Name of the Secret."
    )
    key: str = Field(
        min_length=1, max_length=253, pattern=DATA_KEY, description="Key inside the Secret's data."
    )


def parse_duration(value: object) -> timedelta:
    """Parse a Kubernetes-style duration such as `48h`, `15m` or `1h30m` (numbers mean seconds)."""
    if isinstance(value, timedelta):
        return value
    if isinstance(value, int | float):
        return timedelta(seconds=value)
    text = str(value).strip()
    if not re.fullmatch(DURATION, text):
        raise ValueError(
            f"invalid duration {text!r}: use hours, minutes, seconds like '48h' or '15m'"
        )
    units = {"h": 3600, "m": 60, "s": 1}
    return timedelta(seconds=sum(int(n) * units[u] for n, u in _DURATION_PART.findall(text)))


def format_duration(value: timedelta) -> str:
    """Write a duration back in the `1h30m` form."""
    seconds = int(value.total_seconds())
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    text = "".join(f"{n}{u}" for n, u in ((hours, "h"), (minutes, "m"), (secs, "s")) if n)
    return text or "0s"


Duration = Annotated[
    timedelta,
    BeforeValidator(parse_duration),
    PlainSerializer(format_duration, return_type=str),
    WithJsonSchema({"type": "string", "pattern": DURATION, "maxLength": 32}),
]


def _quantity_text(value: object) -> object:
    return str(value) if isinstance(value, int | float) and not isinstance(value, bool) else value


Quantity = Annotated[
    str,
    BeforeValidator(_quantity_text),
    StringConstraints(pattern=QUANTITY),
    WithJsonSchema(
        {
            "anyOf": [{"type": "integer"}, {"type": "string"}],
            "pattern": QUANTITY,
            "x-kubernetes-int-or-string": True,
        }
    ),
]
