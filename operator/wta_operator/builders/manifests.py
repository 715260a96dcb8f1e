"""The tenant's manifests ConfigMap (the YAML folder its runtime loads) and its checksum."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from typing import Any

import yaml

from wta_operator.naming import child_labels
from wta_operator.views import AgentView, TenantView
from wta_runtime.specs.common import API_GROUP, API_VERSION

TENANT_FILE = "tenant.yaml"


def tenant_manifest(tenant: TenantView, *, spec: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """The WhatsAppTenant as a manifest file, its spec written back by the shared model."""
    return {
        "apiVersion": f"{API_GROUP}/{API_VERSION}",
        "kind": "WhatsAppTenant",
        "metadata": {"name": tenant.name, "namespace": tenant.namespace},
        "spec": dict(spec) if spec is not None else spec_document(tenant.spec),
    }


def agent_manifest(agent: AgentView) -> dict[str, Any]:
    """An AIAgent as a manifest file."""
    return {
        "apiVersion": f"{API_GROUP}/{API_VERSION}",
        "kind": "AIAgent",
        "metadata": {"name": agent.name, "namespace": agent.namespace},
        "spec": spec_document(agent.spec),
    }


def spec_document(spec: Any) -> dict[str, Any]:
    """A spec model as camelCase JSON-compatible data (durations as `48h`)."""
    data: dict[str, Any] = spec.model_dump(mode="json", by_alias=True, exclude_none=True)
    return data


def dump_yaml(*documents: Mapping[str, Any]) -> str:
    """Stable multi-document YAML: sorted keys, so equal input gives equal text and checksum."""
    return yaml.safe_dump_all(
        [dict(doc) for doc in documents], sort_keys=True, default_flow_style=False
    )


def agent_file(agent: AgentView) -> str:
    return f"agent-{agent.name}.yaml"


def manifests_data(tenant: TenantView, agents: Sequence[AgentView]) -> dict[str, str]:
    """ConfigMap data: `tenant.yaml` plus one `agent-<name>.yaml` per agent, sorted by name."""
    data = {TENANT_FILE: dump_yaml(tenant_manifest(tenant))}
    for agent in sorted(agents, key=lambda a: a.name):
        data[agent_file(agent)] = dump_yaml(agent_manifest(agent))
    return data


def build_manifests_config_map(tenant: TenantView, agents: Sequence[AgentView]) -> dict[str, Any]:
    """The ConfigMap mounted as the runtime's WTA_MANIFESTS_DIR."""
    return {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {
            "name": tenant.names.config_map,
            "namespace": tenant.namespace,
            "labels": child_labels(tenant.name, "config"),
        },
        "data": manifests_data(tenant, agents),
    }


def config_checksum(data: Mapping[str, str], secret_versions: Mapping[str, str]) -> str:
    """SHA-256 over the manifests and the referenced Secrets' resourceVersions (never values).

    A change to either rolls the runtime: env vars from `secretKeyRef` are read only at start.
    """
    digest = hashlib.sha256()
    for key in sorted(data):
        digest.update(f"file:{key}\n{data[key]}\n".encode())
    for name in sorted(secret_versions):
        digest.update(f"secret:{name}@{secret_versions[name]}\n".encode())
    return digest.hexdigest()
