"""Variants of the example tenant for one test: other timers, template, keywords, agents."""

from __future__ import annotations

import dataclasses
from typing import Any

from wta_runtime.catalog import Agent, TenantCatalog


def catalog_variant(
    catalog: TenantCatalog,
    tenant: str = "acme-pizza",
    *,
    agent_updates: dict[str, Any] | None = None,
    **spec_updates: Any,
) -> TenantCatalog:
    """A catalog whose `tenant` has `spec_updates` (and its agents `agent_updates`) applied."""
    base = catalog.by_name(tenant)
    agents = tuple(
        Agent(a.name, a.spec.model_copy(update=agent_updates)) if agent_updates else a
        for a in base.agents
    )
    spec = base.spec.model_copy(update=spec_updates)
    changed = dataclasses.replace(base, spec=spec, agents=agents)
    return TenantCatalog({**catalog.tenants, tenant: changed})
