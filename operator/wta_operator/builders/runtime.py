"""The tenant's runtime workers: ServiceAccount and Deployment running `wta_runtime worker`."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from wta_operator.naming import (
    CHECKSUM_ANNOTATION,
    WORKER_METRICS_PORT,
    child_labels,
    selector_labels,
)
from wta_operator.views import TenantView
from wta_runtime.catalog import secret_env_name
from wta_runtime.specs import Knowledge, SecretKeyRef

MANIFESTS_DIR = "/etc/wta/manifests"
# Knowledge documents: each ConfigMap of an agent's knowledge.configMapRefs at <dir>/<name>/<key>.
CONFIGMAPS_DIR = "/etc/wta/configmaps"
CONTAINER = "worker"
# Keys of the platform's media-bucket Secret, passed under the names boto3 reads.
MEDIA_KEY_NAMES = ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY")


@dataclass(frozen=True)
class DatabaseUrlSource:
    """WTA_DATABASE_URL: a Secret key (with credentials) or a plain value (without)."""

    secret: SecretKeyRef | None = None
    value: str | None = None


@dataclass(frozen=True)
class RuntimeInputs:
    """What the Deployment needs besides the tenant: platform settings and derived values."""

    image: str
    pull_policy: str
    nats_url: str
    metrics_port: int
    checksum: str
    secret_refs: Sequence[SecretKeyRef]
    database_url: DatabaseUrlSource | None
    twilio_api_base: str | None = None
    # False when the tenant may not run (suspended, or its name is taken by an older tenant).
    may_run: bool = True
    knowledge_config_maps: Sequence[str] = ()
    # WTA_MEDIA_* of the platform's media store, and the Secret keys of its credentials.
    media_env: Mapping[str, str] = field(default_factory=dict)
    media_credentials: Sequence[SecretKeyRef] = ()
    # WTA_NATS_URL from the tenant's own NATS user's Secret instead of `nats_url`.
    nats_url_secret: SecretKeyRef | None = None
    # True while the tenant sleeps (spec.runtime.idleAfter): no workers until it wakes.
    sleeping: bool = False
    # WTA_EGRESS_ALLOW: internal networks and hosts the tenant's tools and documents may reach.
    egress_allow: str = ""


def media_credential_refs(secret: str | None) -> list[SecretKeyRef]:
    """The platform media bucket's key pair in a Secret of the tenant's namespace, if any."""
    return [SecretKeyRef(name=secret, key=key) for key in MEDIA_KEY_NAMES] if secret else []


def build_service_account(
    tenant: TenantView, annotations: Mapping[str, str] | None = None
) -> dict[str, Any]:
    """The runtime's own identity; it needs no Kubernetes API access, so no token is mounted.

    `annotations` give it a cloud identity (IRSA's role ARN) to reach the media bucket.
    """
    metadata: dict[str, Any] = {
        "name": tenant.names.service_account,
        "namespace": tenant.namespace,
        "labels": child_labels(tenant.name),
    }
    if annotations:
        metadata["annotations"] = dict(sorted(annotations.items()))
    return {
        "apiVersion": "v1",
        "kind": "ServiceAccount",
        "metadata": metadata,
        "automountServiceAccountToken": False,
    }


def secret_env(refs: Sequence[SecretKeyRef]) -> list[dict[str, Any]]:
    """One env var per Secret key, named as `wta_runtime.catalog` looks them up."""
    by_name = {secret_env_name(ref): ref for ref in refs}
    return [
        {"name": name, "valueFrom": {"secretKeyRef": {"name": ref.name, "key": ref.key}}}
        for name, ref in sorted(by_name.items())
    ]


def nats_url_env(inputs: RuntimeInputs) -> dict[str, Any]:
    ref = inputs.nats_url_secret
    if ref is None:
        return {"name": "WTA_NATS_URL", "value": inputs.nats_url}
    return {
        "name": "WTA_NATS_URL",
        "valueFrom": {"secretKeyRef": {"name": ref.name, "key": ref.key}},
    }


def runtime_env(tenant: TenantView, inputs: RuntimeInputs) -> list[dict[str, Any]]:
    """The worker's environment: what it serves, where NATS and PostgreSQL are, its Secrets."""
    env: list[dict[str, Any]] = [
        {"name": "WTA_ENVIRONMENT", "value": "production"},
        {"name": "WTA_TENANTS", "value": json.dumps([tenant.name])},
        {"name": "WTA_MANIFESTS_DIR", "value": MANIFESTS_DIR},
        nats_url_env(inputs),
        {"name": "WTA_WORKER_METRICS_PORT", "value": str(inputs.metrics_port)},
        # Metrics bind loopback by default; in the pod Prometheus scrapes them from outside.
        {"name": "WTA_METRICS_HOST", "value": "0.0.0.0"},
    ]
    if inputs.twilio_api_base:
        env.append({"name": "WTA_TWILIO_API_BASE", "value": inputs.twilio_api_base})
    if inputs.egress_allow:
        env.append({"name": "WTA_EGRESS_ALLOW", "value": inputs.egress_allow})
    source = inputs.database_url
    if source is not None and source.secret is not None:
        ref = {"name": source.secret.name, "key": source.secret.key}
        env.append({"name": "WTA_DATABASE_URL", "valueFrom": {"secretKeyRef": ref}})
    elif source is not None and source.value is not None:
        env.append({"name": "WTA_DATABASE_URL", "value": source.value})
    if inputs.knowledge_config_maps:
        env.append({"name": "WTA_AGENT_CONFIGMAPS_DIR", "value": CONFIGMAPS_DIR})
    env.extend({"name": name, "value": value} for name, value in sorted(inputs.media_env.items()))
    env.extend(
        {"name": ref.key, "valueFrom": {"secretKeyRef": {"name": ref.name, "key": ref.key}}}
        for ref in inputs.media_credentials
    )
    return env + secret_env(inputs.secret_refs)


def knowledge_config_maps(knowledge: Sequence[Knowledge]) -> list[str]:
    """The ConfigMaps the agents read documents from: `configMapRefs` and `sources[].configMap`."""
    names = [ref.name for k in knowledge for ref in k.config_map_refs]
    names += [s.config_map.name for k in knowledge for s in k.sources if s.config_map is not None]
    return sorted(set(names))


def knowledge_volumes(inputs: RuntimeInputs) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Volumes and mounts of the agents' knowledge ConfigMaps, one folder per ConfigMap."""
    return config_map_volumes(inputs.knowledge_config_maps)


def config_map_volumes(names: Sequence[str]) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Volumes and mounts of knowledge ConfigMaps, each at <CONFIGMAPS_DIR>/<name>."""
    volumes: list[dict[str, Any]] = []
    mounts: list[dict[str, Any]] = []
    for index, name in enumerate(sorted(set(names))):
        volume = f"knowledge-{index}"
        volumes.append({"name": volume, "configMap": {"name": name}})
        mounts.append({"name": volume, "mountPath": f"{CONFIGMAPS_DIR}/{name}", "readOnly": True})
    return volumes, mounts


def _resources(tenant: TenantView) -> dict[str, dict[str, str]]:
    wanted = tenant.spec.runtime.resources
    out: dict[str, dict[str, str]] = {}
    for part in ("requests", "limits"):
        amounts = getattr(wanted, part).model_dump(exclude_none=True)
        if amounts:
            out[part] = {k: str(v) for k, v in amounts.items()}
    return out


def replicas(tenant: TenantView, inputs: RuntimeInputs) -> int:
    """Desired workers: the spec's count, or none while suspended, asleep or not allowed to run."""
    if tenant.spec.suspend or not inputs.may_run or inputs.sleeping:
        return 0
    return tenant.spec.runtime.replicas


def container_security() -> dict[str, Any]:
    """A runtime container: no privilege, nothing written outside its emptyDir."""
    return {
        "allowPrivilegeEscalation": False,
        "readOnlyRootFilesystem": True,
        "capabilities": {"drop": ["ALL"]},
    }


def pod_security() -> dict[str, Any]:
    """A runtime pod: a fixed non-root user, the runtime's default seccomp profile."""
    return {
        "runAsNonRoot": True,
        "runAsUser": 10001,
        "runAsGroup": 10001,
        "seccompProfile": {"type": "RuntimeDefault"},
    }


def worker_probes() -> dict[str, dict[str, Any]]:
    """The worker's probes, on its metrics port: ready while its lane consumes (a shared
    runtime's: one of its lanes), live while its event loop runs. A slow first start gets two
    minutes before liveness counts."""

    def probe(path: str, period: int, failures: int) -> dict[str, Any]:
        return {
            "httpGet": {"path": path, "port": WORKER_METRICS_PORT},
            "periodSeconds": period,
            "failureThreshold": failures,
        }

    return {
        "startupProbe": probe("/live", 2, 60),
        # /live itself fails only after 30 s without a heartbeat of the loop.
        "livenessProbe": probe("/live", 10, 3),
        # A lane's connections are looked at every 5 s; two misses in a row take the pod out.
        "readinessProbe": probe("/ready", 5, 2),
    }


def _container(tenant: TenantView, inputs: RuntimeInputs) -> dict[str, Any]:
    """The worker; it sweeps the tenant's timers too, so the pod has no scheduler container."""
    return {
        "name": CONTAINER,
        "image": tenant.spec.runtime.image or inputs.image,
        "imagePullPolicy": inputs.pull_policy,
        "args": ["worker"],
        "command": ["python", "-m", "wta_runtime"],
        "env": runtime_env(tenant, inputs),
        "ports": [
            {"name": WORKER_METRICS_PORT, "containerPort": inputs.metrics_port, "protocol": "TCP"}
        ],
        "resources": _resources(tenant),
        **worker_probes(),
        "securityContext": container_security(),
        "volumeMounts": [
            {"name": "manifests", "mountPath": MANIFESTS_DIR, "readOnly": True},
            {"name": "tmp", "mountPath": "/tmp"},  # noqa: S108 - an emptyDir, not the host's /tmp
            *knowledge_volumes(inputs)[1],
        ],
    }


def _migrations(tenant: TenantView, inputs: RuntimeInputs) -> dict[str, Any]:
    """Runs the schema migrations with the tenant's own database URL before the worker starts."""
    worker = _container(tenant, inputs)
    return {
        key: worker[key]
        for key in ("image", "imagePullPolicy", "command", "env", "resources", "securityContext")
    } | {"name": "migrate", "args": ["migrate"], "volumeMounts": worker["volumeMounts"]}


def build_runtime_deployment(tenant: TenantView, inputs: RuntimeInputs) -> dict[str, Any]:
    """The worker Deployment; its checksum annotation rolls the pods when config changes."""
    pod_labels = child_labels(tenant.name)
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {
            "name": tenant.names.deployment,
            "namespace": tenant.namespace,
            "labels": child_labels(tenant.name),
        },
        "spec": {
            "replicas": replicas(tenant, inputs),
            "selector": {"matchLabels": selector_labels(tenant.name)},
            # Durable pull consumers share work, so a surge pod is safe and keeps capacity.
            "strategy": {
                "type": "RollingUpdate",
                "rollingUpdate": {"maxSurge": 1, "maxUnavailable": 0},
            },
            "template": {
                "metadata": {
                    "labels": pod_labels,
                    "annotations": {
                        CHECKSUM_ANNOTATION: inputs.checksum,
                        "prometheus.io/scrape": "true",
                        "prometheus.io/port": str(inputs.metrics_port),
                    },
                },
                "spec": {
                    "serviceAccountName": tenant.names.service_account,
                    "automountServiceAccountToken": False,
                    "enableServiceLinks": False,
                    "terminationGracePeriodSeconds": 60,
                    "securityContext": pod_security(),
                    "initContainers": [_migrations(tenant, inputs)],
                    # Every worker sweeps timers too: SKIP LOCKED keeps replicas from acting twice.
                    "containers": [_container(tenant, inputs)],
                    "volumes": [
                        {"name": "manifests", "configMap": {"name": tenant.names.config_map}},
                        {"name": "tmp", "emptyDir": {"sizeLimit": "64Mi"}},
                        *knowledge_volumes(inputs)[0],
                    ],
                },
            },
        },
    }
