"""Factories for tenants, agents and Secrets as the API server returns them (unit and real)."""

from __future__ import annotations

import copy
import uuid
from typing import Any

from wta_operator.builders.runtime import RuntimeInputs
from wta_operator.builders.shared_runtime import SharedRuntimeInputs
from wta_operator.views import (
    AgentView,
    TenantView,
    all_secret_refs,
    read_agent,
    read_tenant,
)

ACCOUNT_SID = "AC" + "0" * 31 + "7"
TOKEN = "operator-test-token-5f0c1a"  # distinctive: tests grep for it where it must not be


def unique_name(prefix: str = "shop") -> str:
    """A tenant name no other test uses (streams and routes are keyed by tenant name)."""
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def unique_number() -> str:
    """An E.164 number no other test claims."""
    return "+1415" + str(uuid.uuid4().int % 10**7).zfill(7)


def secret_manifest(name: str, token: str = TOKEN, key: str = "authToken") -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {"name": name},
        "type": "Opaque",
        "stringData": {key: token},
    }


def tenant_manifest(name: str, *, numbers: list[str] | None = None, **spec: Any) -> dict[str, Any]:
    """A WhatsAppTenant whose auth token lives in Secret `<name>-twilio`, key authToken."""
    body: dict[str, Any] = {
        "apiVersion": "wta.io/v1alpha1",
        "kind": "WhatsAppTenant",
        "metadata": {"name": name},
        "spec": {
            "displayName": f"Shop {name}",
            "twilio": {
                "accountSid": ACCOUNT_SID,
                "authTokenSecretRef": {"name": f"{name}-twilio", "key": "authToken"},
            },
            "numbers": [{"number": n} for n in (numbers or [unique_number()])],
        },
    }
    body["spec"].update(spec)
    return body


def agent_manifest(name: str, tenant: str, **spec: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "apiVersion": "wta.io/v1alpha1",
        "kind": "AIAgent",
        "metadata": {"name": name},
        "spec": {
            "tenantRef": {"name": tenant},
            "instructions": "Answer questions about the shop briefly.",
            "knowledge": {
                "entries": [{"question": "When are you open?", "answer": "Every day 9-17."}]
            },
        },
    }
    body["spec"].update(spec)
    return body


def as_stored(manifest: dict[str, Any], namespace: str = "shops") -> dict[str, Any]:
    """The manifest as the API server returns it: namespace, uid, generation, timestamp."""
    body = copy.deepcopy(manifest)
    body["metadata"].update(
        namespace=namespace,
        uid=str(uuid.uuid4()),
        generation=1,
        creationTimestamp="2026-01-01T00:00:00Z",
    )
    return body


def tenant_view(
    name: str = "acme-pizza",
    namespace: str = "shops",
    numbers: list[str] | None = None,
    **spec: Any,
) -> TenantView:
    """A validated tenant for unit tests: fixed number unless given, so builds are comparable."""
    manifest = tenant_manifest(name, numbers=numbers or ["+14155550100"], **spec)
    return read_tenant(as_stored(manifest, namespace))


def agent_view(name: str, tenant: str, namespace: str = "shops", **spec: Any) -> AgentView:
    return read_agent(namespace, name, agent_manifest(name, tenant, **spec)["spec"])


def runtime_inputs(tenant: TenantView, **changes: Any) -> RuntimeInputs:
    values: dict[str, Any] = {
        "image": "registry.example/wta-runtime:1.0",
        "pull_policy": "IfNotPresent",
        "nats_url": "nats://nats.wta-system:4222",
        "metrics_port": 9101,
        "checksum": "abc123",
        "secret_refs": all_secret_refs(tenant, []),
        "database_url": None,
    }
    values.update(changes)
    return RuntimeInputs(**values)


def shared_runtime_inputs(namespace: str = "shops", **changes: Any) -> SharedRuntimeInputs:
    values: dict[str, Any] = {
        "namespace": namespace,
        "image": "registry.example/wta-runtime:1.0",
        "pull_policy": "IfNotPresent",
        "metrics_port": 9101,
        "replicas": 2,
        "checksum": "abc123",
    }
    return SharedRuntimeInputs(**(values | changes))
