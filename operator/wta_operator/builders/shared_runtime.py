"""The namespace's shared runtime: one Deployment whose pods serve every tenant of mode shared.

Each tenant's manifests (its `<tenant>-manifests` ConfigMap) and the Secret keys its runtime
reads (Twilio token, model keys, `<tenant>-database`, `<tenant>-nats`) are mounted as files, so
the worker opens one database engine and one NATS connection per tenant with that tenant's own
role and user. Secrets stay in the tenants' namespace: one shared runtime per namespace.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from wta_operator.builders.network import disruption_budget, network_policy
from wta_operator.builders.runtime import (
    CONFIGMAPS_DIR,
    MANIFESTS_DIR,
    config_map_volumes,
    container_security,
    pod_security,
    worker_probes,
)
from wta_operator.naming import (
    CHECKSUM_ANNOTATION,
    MANAGED_BY,
    WORKER_METRICS_PORT,
)
from wta_runtime.specs import SecretKeyRef

SHARED_RUNTIME = "wta-shared-runtime"
SECRETS_DIR = "/etc/wta/secrets"


@dataclass(frozen=True)
class SharedTenant:
    """What the shared pods need of one tenant: its manifests and the Secret keys it reads."""

    name: str
    config_map: str
    manifest_keys: Sequence[str]
    secret_refs: Sequence[SecretKeyRef]
    knowledge_config_maps: Sequence[str] = ()


@dataclass(frozen=True)
class SharedRuntimeInputs:
    """Platform settings of the shared runtime of one namespace."""

    namespace: str
    image: str
    pull_policy: str
    metrics_port: int
    replicas: int
    checksum: str
    # Plain URLs for tenants whose Secrets give none (no password in them, ever).
    nats_url: str | None = None
    database_url: str | None = None
    twilio_api_base: str | None = None
    egress_allow: str = ""
    media_env: Mapping[str, str] = field(default_factory=dict)
    media_credentials: Sequence[SecretKeyRef] = ()


def shared_selector_labels() -> dict[str, str]:
    """Labels selecting the shared runtime's pods; no tenant's selector matches them."""
    return {"app.kubernetes.io/name": SHARED_RUNTIME, "app.kubernetes.io/instance": SHARED_RUNTIME}


def shared_labels() -> dict[str, str]:
    return {
        **shared_selector_labels(),
        "app.kubernetes.io/component": "runtime",
        "app.kubernetes.io/part-of": "wta",
        "app.kubernetes.io/managed-by": MANAGED_BY,
    }


def manifest_file(tenant: str, key: str) -> str:
    """A tenant's manifest in the one flat folder the shared worker reads."""
    return f"{tenant}--{key}"


def shared_env(
    tenants: Sequence[SharedTenant], inputs: SharedRuntimeInputs
) -> list[dict[str, Any]]:
    """The shared worker's environment: its tenants, and where their Secrets are mounted."""
    env: list[dict[str, Any]] = [
        {"name": "WTA_ENVIRONMENT", "value": "production"},
        {"name": "WTA_RUNTIME_MODE", "value": "shared"},
        {"name": "WTA_TENANTS", "value": json.dumps(sorted(t.name for t in tenants))},
        {"name": "WTA_MANIFESTS_DIR", "value": MANIFESTS_DIR},
        {"name": "WTA_SECRETS_DIR", "value": SECRETS_DIR},
        {"name": "WTA_WORKER_METRICS_PORT", "value": str(inputs.metrics_port)},
        {"name": "WTA_METRICS_HOST", "value": "0.0.0.0"},
    ]
    optional = {
        "WTA_NATS_URL": inputs.nats_url,
        "WTA_DATABASE_URL": inputs.database_url,
        "WTA_TWILIO_API_BASE": inputs.twilio_api_base,
        "WTA_EGRESS_ALLOW": inputs.egress_allow,
    }
    env += [{"name": name, "value": value} for name, value in optional.items() if value]
    if any(t.knowledge_config_maps for t in tenants):
        env.append({"name": "WTA_AGENT_CONFIGMAPS_DIR", "value": CONFIGMAPS_DIR})
    env += [{"name": name, "value": value} for name, value in sorted(inputs.media_env.items())]
    env += [
        {"name": ref.key, "valueFrom": {"secretKeyRef": {"name": ref.name, "key": ref.key}}}
        for ref in inputs.media_credentials
    ]
    return env


def shared_volumes(tenants: Sequence[SharedTenant]) -> list[dict[str, Any]]:
    """Every tenant's manifests in one folder, every Secret key at `<secret>/<key>`."""
    manifests = [
        {
            "configMap": {
                "name": t.config_map,
                "items": [{"key": k, "path": manifest_file(t.name, k)} for k in t.manifest_keys],
            }
        }
        for t in sorted(tenants, key=lambda t: t.name)
    ]
    keys_by_secret: dict[str, set[str]] = {}
    for tenant in tenants:
        for ref in tenant.secret_refs:
            keys_by_secret.setdefault(ref.name, set()).add(ref.key)
    secrets = [
        {
            "secret": {
                "name": name,
                "items": [{"key": key, "path": f"{name}/{key}"} for key in sorted(keys)],
            }
        }
        for name, keys in sorted(keys_by_secret.items())
    ]
    return [
        {"name": "manifests", "projected": {"sources": manifests}},
        {"name": "secrets", "projected": {"sources": secrets}},
        {"name": "tmp", "emptyDir": {"sizeLimit": "64Mi"}},
    ]


def _knowledge(
    tenants: Sequence[SharedTenant],
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    names = sorted({name for t in tenants for name in t.knowledge_config_maps})
    return config_map_volumes(names)


def _container(tenants: Sequence[SharedTenant], inputs: SharedRuntimeInputs) -> dict[str, Any]:
    """The worker; each of its lanes sweeps its tenant's timers, so no scheduler container."""
    return {
        "name": "worker",
        "image": inputs.image,
        "imagePullPolicy": inputs.pull_policy,
        "command": ["python", "-m", "wta_runtime"],
        "args": ["worker"],
        "env": shared_env(tenants, inputs),
        "ports": [
            {"name": WORKER_METRICS_PORT, "containerPort": inputs.metrics_port, "protocol": "TCP"}
        ],
        **worker_probes(),
        "securityContext": container_security(),
        "volumeMounts": [
            {"name": "manifests", "mountPath": MANIFESTS_DIR, "readOnly": True},
            {"name": "secrets", "mountPath": SECRETS_DIR, "readOnly": True},
            {"name": "tmp", "mountPath": "/tmp"},  # noqa: S108 - an emptyDir, not the host's /tmp
            *_knowledge(tenants)[1],
        ],
    }


def build_shared_service_account(namespace: str) -> dict[str, Any]:
    """The shared runtime's identity: no Kubernetes API access, so no token is mounted."""
    return {
        "apiVersion": "v1",
        "kind": "ServiceAccount",
        "metadata": {"name": SHARED_RUNTIME, "namespace": namespace, "labels": shared_labels()},
        "automountServiceAccountToken": False,
    }


def build_shared_disruption_budget(namespace: str) -> dict[str, Any]:
    """At most one shared runtime pod evicted at a time (each pod serves every shared tenant)."""
    return disruption_budget(SHARED_RUNTIME, namespace, shared_labels(), shared_selector_labels())


def build_shared_network_policy(namespace: str) -> dict[str, Any]:
    """The shared runtime's pods, like a tenant's own, accept only their metrics port."""
    return network_policy(SHARED_RUNTIME, namespace, shared_labels(), shared_selector_labels())


def build_shared_runtime_deployment(
    tenants: Sequence[SharedTenant], inputs: SharedRuntimeInputs
) -> dict[str, Any]:
    """The Deployment; its checksum (tenants, manifests, Secret versions) rolls it on change."""
    worker = _container(tenants, inputs)
    # Migrates each tenant's own database, as its own role, before the worker starts.
    migrate = {
        key: worker[key]
        for key in ("image", "imagePullPolicy", "command", "env", "securityContext", "volumeMounts")
    } | {"name": "migrate", "args": ["migrate"]}
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {
            "name": SHARED_RUNTIME,
            "namespace": inputs.namespace,
            "labels": shared_labels(),
        },
        "spec": {
            "replicas": inputs.replicas if tenants else 0,
            "selector": {"matchLabels": shared_selector_labels()},
            # The new pod consumes beside the old one before it drains: no tenant pauses.
            "strategy": {
                "type": "RollingUpdate",
                "rollingUpdate": {"maxSurge": 1, "maxUnavailable": 0},
            },
            "template": {
                "metadata": {
                    "labels": shared_labels(),
                    "annotations": {
                        CHECKSUM_ANNOTATION: inputs.checksum,
                        "prometheus.io/scrape": "true",
                        "prometheus.io/port": str(inputs.metrics_port),
                    },
                },
                "spec": {
                    "serviceAccountName": SHARED_RUNTIME,
                    "automountServiceAccountToken": False,
                    "enableServiceLinks": False,
                    "terminationGracePeriodSeconds": 60,
                    "securityContext": pod_security(),
                    "initContainers": [migrate],
                    "containers": [worker],
                    "volumes": [*shared_volumes(tenants), *_knowledge(tenants)[0]],
                },
            },
        },
    }
