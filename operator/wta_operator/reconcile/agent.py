"""An AIAgent checked against its tenant: Ready when it is valid and its tenant exists (pure)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any

from wta_operator.claims import Claim, ClaimKey
from wta_operator.conditions import Condition, false, merge_conditions, same_conditions, true
from wta_operator.views import InvalidSpecError, read_agent
from wta_runtime.specs.agent import DEPRECATED_AGENT_HOURS

READY = "Ready"
DEPRECATED = "Deprecated"


def tenant_exists(claims: Mapping[ClaimKey, Iterable[Claim]], namespace: str, name: str) -> bool:
    """Whether a WhatsAppTenant of that name lives (and is not being deleted) in the namespace."""
    return any(claim.namespace == namespace for claim in claims.get(("name", name), ()))


def tenant_name_of(spec: Mapping[str, Any]) -> str | None:
    ref = spec.get("tenantRef")
    name = ref.get("name") if isinstance(ref, Mapping) else None
    return str(name) if name else None


def agent_condition(
    namespace: str, name: str, spec: Mapping[str, Any], *, has_tenant: bool
) -> Condition:
    """Ready/Attached, or why not: InvalidSpec, TenantNotFound."""
    try:
        agent = read_agent(namespace, name, spec)
    except InvalidSpecError as exc:
        return false(READY, "InvalidSpec", f"not given to any runtime: {exc}")
    tenant = agent.spec.tenant_ref.name
    if not has_tenant:
        return false(
            READY,
            "TenantNotFound",
            f"WhatsAppTenant {namespace}/{tenant} not found: create it, or fix spec.tenantRef",
        )
    return true(READY, "Attached", f"in the config of tenant {tenant}")


def deprecated_fields(spec: Mapping[str, Any]) -> list[Condition]:
    """A Deprecated condition while the agent sets fields that moved elsewhere; else none."""
    handoff = spec.get("handoff")
    if isinstance(handoff, Mapping) and "businessHours" in handoff:
        return [true(DEPRECATED, "AgentBusinessHours", DEPRECATED_AGENT_HOURS)]
    return []


def agent_status_patch(
    status: Mapping[str, Any],
    conditions: Sequence[Condition],
    generation: int | None,
    now: datetime,
) -> dict[str, Any]:
    """The agent's status fields that change (empty when none does)."""
    previous = list(status.get("conditions") or [])
    merged = merge_conditions(previous, conditions, generation=generation, now=now)
    patch: dict[str, Any] = {}
    if status.get("observedGeneration") != generation:
        patch["observedGeneration"] = generation
    if not same_conditions(previous, merged):
        patch["conditions"] = merged
    return patch
