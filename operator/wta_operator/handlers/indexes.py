"""In-memory indexes kopf keeps from its watches: tenants' claims, agents by tenant."""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import Any, cast

import kopf

from wta_operator.claims import Claim, ClaimKey, tenant_claims
from wta_operator.reconcile.agent import tenant_name_of
from wta_operator.reconcile.tenant import AgentsIndex, ClaimsIndex
from wta_operator.views import AgentEntry
from wta_runtime.specs.common import API_GROUP, API_VERSION


@kopf.index(API_GROUP, API_VERSION, "whatsapptenants")
def tenant_claims_index(*, meta: kopf.Meta, spec: kopf.Spec, **_: Any) -> dict[ClaimKey, Claim]:
    """Each tenant's name and numbers; a tenant being deleted claims nothing any more."""
    if meta.get("deletionTimestamp"):
        return {}
    return tenant_claims(meta, spec)


@kopf.index(API_GROUP, API_VERSION, "aiagents")
def tenant_agents_index(
    *, name: str, namespace: str | None, meta: kopf.Meta, spec: kopf.Spec, **_: Any
) -> dict[tuple[str, str], AgentEntry]:
    """Agents by (namespace, tenant), with a copy of their spec for rendering the config."""
    tenant = tenant_name_of(spec)
    if meta.get("deletionTimestamp") or tenant is None or namespace is None:
        return {}
    return {(namespace, tenant): AgentEntry(name, namespace, copy.deepcopy(dict(spec)))}


# kopf passes each index to every handler as a keyword argument named after the index function.
def claims_index(kwargs: Mapping[str, Any]) -> ClaimsIndex:
    """The tenants' claims, by ("name", tenant) and ("number", E.164)."""
    return cast(ClaimsIndex, kwargs["tenant_claims_index"])


def agents_index(kwargs: Mapping[str, Any]) -> AgentsIndex:
    """The agents, by (namespace, tenant)."""
    return cast(AgentsIndex, kwargs["tenant_agents_index"])
