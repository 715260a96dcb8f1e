"""AIAgent handlers: validate against the tenant, then re-render that tenant's config."""

from __future__ import annotations

from typing import Any

import kopf

from wta_operator.adapters.kube import KubeError
from wta_operator.conditions import backoff_delay, now_utc, transitions
from wta_operator.handlers.indexes import agents_index, claims_index
from wta_operator.metrics import measured
from wta_operator.naming import InvalidNameError
from wta_operator.plane import control_plane
from wta_operator.reconcile.agent import (
    agent_condition,
    agent_status_patch,
    deprecated_fields,
    tenant_exists,
    tenant_name_of,
)
from wta_operator.reconcile.knowledge import agent_knowledge
from wta_operator.reconcile.tenant import ClaimsIndex, render_for_agents
from wta_operator.settings import OperatorConfig
from wta_operator.views import InvalidSpecError
from wta_runtime.specs.common import API_GROUP, API_VERSION

AGENTS = (API_GROUP, API_VERSION, "aiagents")


def _check(
    body: kopf.Body, status: kopf.Status, patch: kopf.Patch, claims: ClaimsIndex
) -> str | None:
    """Write the agent's Ready condition; returns its tenant's name."""
    namespace, name = str(body.metadata.namespace), str(body.metadata.name)
    tenant = tenant_name_of(body.spec)
    has_tenant = tenant is not None and tenant_exists(claims, namespace, tenant)
    condition = agent_condition(namespace, name, body.spec, has_tenant=has_tenant)
    deprecated = deprecated_fields(body.spec)
    previous = status.get("conditions") or []
    changes = agent_status_patch(
        status, [condition, *deprecated], body.metadata.get("generation"), now_utc()
    )
    if "conditions" in changes:
        message = condition.message
        if condition.ok:
            kopf.info(body, reason=condition.reason, message=message)
        else:
            kopf.warn(body, reason=condition.reason, message=message)
    for moved in transitions(previous, deprecated):
        kopf.warn(body, reason=moved.condition.reason, message=moved.condition.message)
    for key, value in changes.items():
        patch.status[key] = value
    return tenant


async def _patch_knowledge(
    body: kopf.Body, status: kopf.Status, patch: kopf.Patch, memo: kopf.Memo, tenant: str | None
) -> None:
    """`status.knowledge` when it changed, for an agent with knowledge.sources (or that had)."""
    sources = (body.spec.get("knowledge") or {}).get("sources")
    if tenant is None or not (sources or status.get("knowledge")):
        return
    namespace, name = str(body.metadata.namespace), str(body.metadata.name)
    knowledge = await agent_knowledge(control_plane(memo), namespace, tenant, name)
    if knowledge is not None and knowledge != status.get("knowledge"):
        patch.status["knowledge"] = knowledge


async def _render(
    memo: kopf.Memo, namespace: str, tenant: str | None, kwargs: dict[str, Any], retry: int
) -> None:
    """Re-render the tenant's config with its agents as the index holds them now."""
    if tenant is None:
        return
    plane = control_plane(memo)
    try:
        await render_for_agents(
            plane, namespace, tenant, claims_index(kwargs), agents_index(kwargs)
        )
    except (InvalidSpecError, InvalidNameError):
        return  # the tenant's own handler reports its invalid spec
    except KubeError as exc:
        message = f"tenant {tenant} not re-rendered: {exc}"
        raise kopf.TemporaryError(message, delay=backoff_delay(retry)) from None


@kopf.on.resume(*AGENTS, id="attach")
@kopf.on.create(*AGENTS, id="attach")
@kopf.on.update(*AGENTS, id="attach")
async def attach_agent(
    *,
    body: kopf.Body,
    status: kopf.Status,
    patch: kopf.Patch,
    retry: int,
    memo: kopf.Memo,
    **kwargs: Any,
) -> None:
    """Validate the agent and put it into its tenant's config (which rolls the runtime)."""
    with measured("AIAgent"):
        tenant = _check(body, status, patch, claims_index(kwargs))
        await _render(memo, str(body.metadata.namespace), tenant, kwargs, retry)
        await _patch_knowledge(body, status, patch, memo, tenant)


async def recheck_agent(
    *,
    body: kopf.Body,
    status: kopf.Status,
    patch: kopf.Patch,
    **kwargs: Any,
) -> None:
    """Follow the tenant appearing or going away (in memory only: no API call unless changed),
    and what the worker ingested from the agent's knowledge.sources."""
    tenant = _check(body, status, patch, claims_index(kwargs))
    await _patch_knowledge(body, status, patch, kwargs["memo"], tenant)


def register_recheck(config: OperatorConfig) -> None:
    """A tenant created or deleted after its agents is noticed within the resync interval."""
    kopf.timer(
        *AGENTS, interval=config.resync_seconds, initial_delay=config.resync_seconds, id="recheck"
    )(recheck_agent)


def _deleted(type: str, **_: Any) -> bool:
    return type == "DELETED"


@kopf.on.event(*AGENTS, id="detach", when=_deleted)
async def detach_agent(
    *,
    body: kopf.Body,
    memo: kopf.Memo,
    **kwargs: Any,
) -> None:
    """A deleted agent leaves its tenant's config at once (the index no longer holds it)."""
    tenant = tenant_name_of(body.spec)
    await _render(memo, str(body.metadata.namespace), tenant, kwargs, int(kwargs.get("retry", 0)))
