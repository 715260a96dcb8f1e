"""The tenants' agents ready to run: resolved credentials and header Secrets, knowledge indexes."""

from __future__ import annotations

import logging
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from pydantic import SecretStr

from wta_runtime.agents.knowledge import (
    KnowledgeIndex,
    build_index,
    config_maps_from_manifests,
    config_maps_from_mounts,
)
from wta_runtime.agents.providers import missing_integration
from wta_runtime.catalog import Agent, SecretResolver, Tenant, TenantCatalog, build_catalog
from wta_runtime.manifests import ManifestSet, folder_fingerprint, read_manifests
from wta_runtime.specs.agent_headers import HttpHeader

log = logging.getLogger("wta.agents")


@dataclass(frozen=True)
class AgentResources:
    """What running one agent needs besides its spec; secrets are resolved once per load."""

    agent: Agent
    api_key: SecretStr | None
    base_url: str | None
    tool_headers: Mapping[str, Mapping[str, str]]
    knowledge: KnowledgeIndex
    # The headers of each MCP server, by the server's name in the agent.
    mcp_headers: Mapping[str, Mapping[str, str]] = field(default_factory=dict)

    @property
    def provider(self) -> str:
        return self.agent.spec.model.provider


@dataclass(frozen=True)
class AgentCatalog:
    """One consistent version of every tenant and agent; replaced whole on reload, never edited."""

    tenants: TenantCatalog
    resources: Mapping[tuple[str, str], AgentResources]
    fingerprint: str
    # ConfigMaps by name (mounted, or manifests locally): `knowledge.sources[].configMap` data.
    config_maps: Mapping[str, Mapping[str, str]] = field(default_factory=dict)

    def tenant(self, name: str) -> Tenant | None:
        return self.tenants.tenants.get(name)

    def agent(self, tenant: str, agent: str) -> AgentResources | None:
        return self.resources.get((tenant, agent))

    def only(self, names: Collection[str]) -> AgentCatalog:
        """The part of this version that serves `names`: a shared runtime's tenant sees no other."""
        wanted = set(names)
        return AgentCatalog(
            tenants=TenantCatalog({n: t for n, t in self.tenants.tenants.items() if n in wanted}),
            resources={key: r for key, r in self.resources.items() if key[0] in wanted},
            fingerprint=self.fingerprint,
            config_maps=self.config_maps,
        )


def fingerprint(
    manifests_dir: Path, secrets_dir: Path | None = None, configmaps_dir: Path | None = None
) -> str:
    """A digest of every file the catalog is read from: it changes when any of them does."""
    return folder_fingerprint(manifests_dir, secrets_dir, configmaps_dir)


def _header_values(
    headers: list[HttpHeader], secrets: SecretResolver, namespace: str, where: str
) -> dict[str, str]:
    values: dict[str, str] = {}
    for header in headers:
        value = header.value
        if header.secret_key_ref is not None:
            ref = header.secret_key_ref
            value = secrets.resolve(namespace, ref, needed_by=where).get_secret_value()
        values[header.name] = value or ""
    return values


def _resources(
    tenant: Tenant,
    agent: Agent,
    secrets: SecretResolver,
    config_maps: Mapping[str, Mapping[str, str]],
) -> AgentResources:
    spec = agent.spec
    where = f"AIAgent {tenant.namespace}/{agent.name}"
    key_ref = spec.model.api_key_secret_ref
    ns = tenant.namespace
    openai = spec.model.provider == "openai"
    problem = missing_integration(spec.model.provider)
    if problem is not None:
        log.error("%s cannot answer with the model until fixed: %s", where, problem)
    return AgentResources(
        agent=agent,
        api_key=(
            secrets.resolve(tenant.namespace, key_ref, needed_by=where)
            if key_ref
            else (tenant.model_api_key if openai else None)
        ),
        # The tenant's endpoint is an OpenAI-compatible one: other providers use their own.
        base_url=spec.model.base_url or (tenant.spec.model.base_url if openai else None),
        tool_headers={
            t.name: _header_values(t.headers, secrets, ns, where) for t in spec.tools.http
        },
        knowledge=build_index(spec.knowledge, config_maps),
        mcp_headers={s.name: _header_values(s.headers, secrets, ns, where) for s in spec.tools.mcp},
    )


def load_agent_catalog(
    manifests_dir: Path, secrets_dir: Path | None = None, configmaps_dir: Path | None = None
) -> AgentCatalog:
    """Read, validate and resolve everything; raises ManifestError and changes nothing on error."""
    stamp = fingerprint(manifests_dir, secrets_dir, configmaps_dir)
    config_maps = {
        **config_maps_from_manifests(manifests_dir),
        **config_maps_from_mounts(configmaps_dir),
    }
    return agent_catalog_of(read_manifests(manifests_dir), config_maps, secrets_dir, stamp)


def agent_catalog_of(
    manifests: ManifestSet,
    config_maps: Mapping[str, Mapping[str, str]],
    secrets_dir: Path | None = None,
    stamp: str = "",
) -> AgentCatalog:
    """Validate and resolve manifests already read; raises ManifestError."""
    tenants = build_catalog(manifests, secrets_dir)
    secrets = SecretResolver(manifests, secrets_dir)
    resources = {
        (tenant.name, agent.name): _resources(tenant, agent, secrets, config_maps)
        for tenant in tenants.tenants.values()
        for agent in tenant.agents
    }
    return AgentCatalog(
        tenants=tenants, resources=resources, fingerprint=stamp, config_maps=config_maps
    )
