"""`status.conditions` of our resources: building, merging and noticing transitions (pure)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal

Status = Literal["True", "False", "Unknown"]
TENANT_PARTS = ("Runtime", "Stream", "Routing", "Database")


@dataclass(frozen=True)
class Condition:
    """One condition as a step of reconciliation reports it (times are added when merging)."""

    type: str
    status: Status
    reason: str
    message: str
    # Not written to the status: whether the operator should try again soon (with backoff).
    retry: bool = field(default=False, compare=False)

    @property
    def ok(self) -> bool:
        return self.status == "True"


def true(type_: str, reason: str, message: str) -> Condition:
    return Condition(type_, "True", reason, message)


def false(type_: str, reason: str, message: str, *, retry: bool = False) -> Condition:
    return Condition(type_, "False", reason, message, retry)


def ready_from_parts(parts: Sequence[Condition]) -> Condition:
    """Ready is True when every part is; otherwise it carries the first failing part's reason."""
    failing = [part for part in parts if not part.ok]
    if not failing:
        names = ", ".join(part.type.lower() for part in parts)
        return true("Ready", "Ready", f"{names}: all ready")
    first = failing[0]
    message = "; ".join(f"{part.type}: {part.message}" for part in failing)
    return Condition("Ready", "False", first.reason, message, any(p.retry for p in failing))


def timestamp(now: datetime) -> str:
    """RFC 3339 in UTC with a Z, as Kubernetes writes times."""
    return now.astimezone(UTC).replace(microsecond=0).strftime("%Y-%m-%dT%H:%M:%SZ")


def merge_conditions(
    previous: Iterable[Mapping[str, Any]],
    current: Sequence[Condition],
    *,
    generation: int | None,
    now: datetime,
) -> list[dict[str, Any]]:
    """The new `status.conditions`: lastTransitionTime only moves when a status changes."""
    before = {str(c.get("type")): c for c in previous}
    merged: list[dict[str, Any]] = []
    for condition in current:
        old = before.get(condition.type)
        changed = old is None or old.get("status") != condition.status
        since = timestamp(now) if changed or old is None else old.get("lastTransitionTime")
        entry: dict[str, Any] = {
            "type": condition.type,
            "status": condition.status,
            "reason": condition.reason,
            "message": condition.message,
            "lastTransitionTime": since or timestamp(now),
        }
        if generation is not None:
            entry["observedGeneration"] = generation
        merged.append(entry)
    return merged


def same_conditions(
    previous: Iterable[Mapping[str, Any]], merged: Iterable[Mapping[str, Any]]
) -> bool:
    """Whether writing `merged` would change nothing (so no status patch is needed)."""
    return [dict(c) for c in previous] == [dict(c) for c in merged]


@dataclass(frozen=True)
class Transition:
    """A condition that changed status or reason: worth a Kubernetes Event."""

    condition: Condition
    warning: bool


def transitions(
    previous: Iterable[Mapping[str, Any]], current: Sequence[Condition]
) -> list[Transition]:
    """Conditions whose status or reason differs from what the object showed before."""
    before = {str(c.get("type")): c for c in previous}
    found: list[Transition] = []
    for condition in current:
        old = before.get(condition.type)
        if old and old.get("status") == condition.status and old.get("reason") == condition.reason:
            continue
        found.append(Transition(condition, warning=not condition.ok))
    return found


def now_utc() -> datetime:
    return datetime.now(UTC)


def backoff_delay(retry: int, *, base: float = 2.0, cap: float = 120.0) -> float:
    """Seconds before the next attempt after `retry` failed ones: 2, 4, 8 ... at most `cap`."""
    return float(min(cap, base * 2 ** min(retry, 16)))
