"""A whole tenant: every part applied in order, the status to write, and the clean-up on delete."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, cast

import kopf

from wta_operator.adapters.database import DatabaseUnavailableError
from wta_operator.adapters.kube import KubeError
from wta_operator.adapters.streams import StreamUnavailableError
from wta_operator.builders.database import database_scope
from wta_operator.claims import Claim, ClaimKey, describe_conflicts, lost_claims, tenant_claims
from wta_operator.conditions import (
    Condition,
    merge_conditions,
    ready_from_parts,
    same_conditions,
)
from wta_operator.naming import route_key
from wta_operator.plane import ControlPlane
from wta_operator.reconcile.nats_users import apply_nats_user, write_auth
from wta_operator.reconcile.number_claims import publish_claims
from wta_operator.reconcile.parts import apply_database, apply_routing, apply_stream
from wta_operator.reconcile.runtime import apply_runtime
from wta_operator.reconcile.shared_runtime import AgentsIndex as AgentsIndex
from wta_operator.reconcile.shared_runtime import apply_shared_runtime
from wta_operator.reconcile.sleep import sleep_condition
from wta_operator.views import AgentView, TenantView, read_tenant, valid_agents

ClaimsIndex = Mapping[ClaimKey, Iterable[Claim]]


@dataclass(frozen=True)
class TenantOutcome:
    """What one reconciliation found: Ready first, then one condition per part."""

    conditions: list[Condition]
    stream: str | None
    agents: int
    # Numbers the gateway routes to this tenant (none while its route is refused).
    numbers: int = 0

    @property
    def retry(self) -> bool:
        return any(c.retry for c in self.conditions)

    def summary(self) -> str:
        parts = self.conditions[1:]  # Ready repeats the failing parts' messages
        return "; ".join(f"{c.type}: {c.message}" for c in parts if c.retry)


@dataclass(frozen=True)
class Standing:
    """What other tenants decide for this one: claims it lost, agents it has."""

    lost: dict[ClaimKey, Claim]
    agents: list[AgentView] = field(default_factory=list)

    @property
    def name_taken(self) -> str:
        return describe_conflicts({k: v for k, v in self.lost.items() if k[0] == "name"})


def standing(
    tenant: TenantView, body: Mapping[str, Any], claims: ClaimsIndex, agents: AgentsIndex
) -> Standing:
    """The tenant's lost claims and valid agents, from the operator's in-memory indexes."""
    me = Claim(tenant.created, tenant.namespace, tenant.name)
    keys = tenant_claims(body.get("metadata") or {}, body.get("spec") or {}).keys()
    entries = agents.get((tenant.namespace, tenant.name), ())
    return Standing(lost_claims(me, keys, claims), valid_agents(entries))


async def reconcile_tenant(
    plane: ControlPlane, body: kopf.Body, claims: ClaimsIndex, agents: AgentsIndex
) -> TenantOutcome:
    """Apply every part; a failing part never stops the others. Raises on an invalid spec."""
    tenant = read_tenant(body)
    place = standing(tenant, body, claims, agents)
    async with plane.tenant_lock(tenant.namespace, tenant.name):
        sleep = sleep_condition(plane, tenant, body.get("status") or {})
        database = await apply_database(plane, body, tenant)
        nats_user = await apply_nats_user(plane, body, tenant, name_taken=place.name_taken)
        runtime = await apply_runtime(
            plane,
            body,
            tenant,
            place.agents,
            may_run=not place.name_taken,
            conflict=place.name_taken,
            sleeping=sleep is not None and sleep.ok,
            index=agents,
        )
        stream, stream_name = await apply_stream(
            plane, tenant, name_taken=place.name_taken, user_problem=nats_user
        )
        routing = await apply_routing(plane, tenant, runtime.secrets, lost=place.lost)
    await publish_claims(plane, claims)
    parts = [runtime.condition, stream, routing, database]
    routed = len(tenant.spec.numbers) if routing.status == "True" else 0
    shown = [ready_from_parts(parts), *parts, *([sleep] if sleep is not None else [])]
    return TenantOutcome(shown, stream_name, len(place.agents), numbers=routed)


async def render_for_agents(
    plane: ControlPlane, namespace: str, name: str, claims: ClaimsIndex, agents: AgentsIndex
) -> bool:
    """Re-apply a tenant's config and runtime after its agents changed; False if no tenant."""
    raw = await plane.kube.read_tenant(namespace, name)
    if raw is None or (raw.get("metadata") or {}).get("deletionTimestamp"):
        return False
    body = kopf.Body(cast(kopf.RawBody, raw))
    tenant = read_tenant(body)
    place = standing(tenant, body, claims, agents)
    async with plane.tenant_lock(namespace, name):
        sleep = sleep_condition(plane, tenant, raw.get("status") or {})
        await apply_runtime(
            plane,
            body,
            tenant,
            place.agents,
            may_run=not place.name_taken,
            conflict=place.name_taken,
            sleeping=sleep is not None and sleep.ok,
            index=agents,
        )
        if (raw.get("status") or {}).get("agents") != len(place.agents):
            # The agents column follows at once; conditions wait for the tenant's own handlers.
            await plane.kube.patch_tenant_status(namespace, name, {"agents": len(place.agents)})
    return True


def status_patch(
    status: Mapping[str, Any], outcome: TenantOutcome, generation: int | None, now: datetime
) -> dict[str, Any]:
    """The status fields that change (empty when nothing does: no write, no watch event)."""
    previous = list(status.get("conditions") or [])
    merged = merge_conditions(previous, outcome.conditions, generation=generation, now=now)
    wanted: dict[str, Any] = {
        "observedGeneration": generation,
        "stream": outcome.stream,
        "agents": outcome.agents,
        "numbers": outcome.numbers,
    }
    patch = {key: value for key, value in wanted.items() if status.get(key) != value}
    if not same_conditions(previous, merged):
        patch["conditions"] = merged
    return patch


async def clean_up_tenant(plane: ControlPlane, body: kopf.Body, claims: ClaimsIndex) -> list[str]:
    """Remove the route at once; the stream and database scope only with deletionPolicy Delete.

    Returns what was done, for events. Raises TemporaryError while something is unreachable.
    """
    meta = body.get("metadata") or {}
    namespace, name = str(meta.get("namespace")), str(meta.get("name"))
    policy = str((body.get("spec") or {}).get("deletionPolicy") or "Retain")
    done: list[str] = []
    try:
        async with plane.routes_lock:
            removed = await plane.kube.write_route(
                plane.config.gateway_namespace,
                plane.config.gateway_routes_secret,
                route_key(namespace, name),
                None,
            )
        if removed:
            done.append("gateway route removed")
        if plane.config.nats_auth_secret is not None and await write_auth(
            plane, name, namespace, None
        ):
            done.append("NATS user removed")
        if policy == "Delete":
            done += await _delete_data(plane, body, namespace, name, claims)
    except (KubeError, StreamUnavailableError, DatabaseUnavailableError) as exc:
        raise kopf.TemporaryError(f"clean-up waits: {exc}", delay=10) from None
    plane.tenant_locks.pop((namespace, name), None)
    plane.sleep_states.pop((namespace, name), None)
    await publish_claims(plane, claims)  # its numbers are free again
    return done


async def leave_shared_runtime(plane: ControlPlane, body: kopf.Body, agents: AgentsIndex) -> str:
    """A deleted tenant of mode shared leaves its namespace's shared runtime (a summary)."""
    runtime = (body.get("spec") or {}).get("runtime") or {}
    if runtime.get("mode") != "shared":
        return ""
    namespace = str((body.get("metadata") or {}).get("namespace"))
    try:
        _, summary = await apply_shared_runtime(plane, namespace, agents)
    except KubeError as exc:
        raise kopf.TemporaryError(f"clean-up waits: {exc}", delay=10) from None
    return f"left the shared runtime, now {summary}"


async def _delete_data(
    plane: ControlPlane, body: kopf.Body, namespace: str, name: str, claims: ClaimsIndex
) -> list[str]:
    done: list[str] = []
    # Another namespace's tenant of the same name may be waiting for the stream: keep it then.
    others = [c for c in claims.get(("name", name), ()) if c.namespace != namespace]
    if not others and await plane.streams.delete(name):
        done.append(f"stream of {name} deleted")
    mode = str(((body.get("spec") or {}).get("database") or {}).get("mode") or "platform")
    if plane.database is not None and mode == "platform":
        scope = database_scope(namespace, name)
        await plane.database.drop_scope(scope)
        done.append(f"database schema and role {scope.schema} dropped")
    return done
