"""A real API server accepts the examples and refuses bad manifests with words a user can act on."""

from __future__ import annotations

import json
from typing import Any

import pytest
from kubernetes.client import CustomObjectsApi
from pydantic import BaseModel

from tests.crds.cases import AGENT, INVALID_ON_CREATE, TENANT, InvalidCase
from tests.crds.manifests import EXAMPLES, changed, to_yaml
from tests.kube import KubeCluster
from wta_runtime.specs import (
    API_GROUP,
    API_VERSION,
    AIAgentSpec,
    WhatsAppTenantSpec,
)


def _apply(kube: KubeCluster, namespace: str, *manifests: dict[str, Any]) -> Any:
    return kube.kubectl("apply", "-n", namespace, "-f", "-", input=to_yaml(*manifests), check=False)


def _get(kube: KubeCluster, namespace: str, kind: str, name: str) -> dict[str, Any]:
    out = kube.kubectl("get", kind, name, "-n", namespace, "-o", "json").stdout
    return json.loads(out)  # type: ignore[no-any-return]


def _as_stored(spec: BaseModel) -> dict[str, Any]:
    return spec.model_dump(by_alias=True, exclude_none=True, mode="json")


def test_examples_apply_cleanly(kube_cluster: KubeCluster, kube_namespace: str) -> None:
    applied = kube_cluster.kubectl("apply", "-n", kube_namespace, "-f", str(EXAMPLES))

    assert "whatsapptenant.wta.io/acme-pizza created" in applied.stdout
    assert "aiagent.wta.io/pizza-assistant created" in applied.stdout
    listed = kube_cluster.kubectl("get", "wta", "-n", kube_namespace, "-o", "name").stdout
    assert set(listed.split()) == {
        "whatsapptenant.wta.io/acme-pizza",
        "aiagent.wta.io/pizza-assistant",
    }


def test_examples_apply_server_side(kube_cluster: KubeCluster, kube_namespace: str) -> None:
    args = ("apply", "--server-side", "-n", kube_namespace, "-f", str(EXAMPLES))

    first = kube_cluster.kubectl(*args)
    again = kube_cluster.kubectl(*args)

    assert "serverside-applied" in first.stdout
    assert "serverside-applied" in again.stdout


def test_api_server_fills_in_the_models_defaults(
    kube_cluster: KubeCluster, kube_namespace: str
) -> None:
    kube_cluster.kubectl("apply", "-n", kube_namespace, "-f", str(EXAMPLES))

    tenant = _get(kube_cluster, kube_namespace, "whatsapptenant", "acme-pizza")["spec"]
    agent = _get(kube_cluster, kube_namespace, "aiagent", "pizza-assistant")["spec"]

    assert tenant == _as_stored(WhatsAppTenantSpec.model_validate(TENANT["spec"]))
    assert agent == _as_stored(AIAgentSpec.model_validate(AGENT["spec"]))


def test_explain_describes_every_twilio_field(kube_cluster: KubeCluster) -> None:
    explained = kube_cluster.kubectl("explain", "whatsapptenants.spec.twilio").stdout

    assert "The tenant's Twilio account." in explained
    assert "Twilio Account SID (AC followed by 32 hex digits). Cannot change later." in explained
    assert "authTokenSecretRef\t<Object> -required-" in explained
    assert "Secret key holding the account's auth token" in explained


def test_explain_describes_agent_tools(kube_cluster: KubeCluster) -> None:
    explained = kube_cluster.kubectl("explain", "aiagents.spec.tools.http").stdout

    assert "allowedHosts\t<[]string> -required-" in explained
    assert "the url's host must be one of them" in explained


@pytest.mark.parametrize("case", INVALID_ON_CREATE, ids=lambda c: c.id)
def test_invalid_manifest_is_refused_with_a_readable_message(
    kube_cluster: KubeCluster, kube_namespace: str, case: InvalidCase
) -> None:
    refused = _apply(kube_cluster, kube_namespace, case.manifest)

    assert refused.returncode != 0
    assert case.api_message in refused.stderr


def test_account_sid_cannot_change(kube_cluster: KubeCluster, kube_namespace: str) -> None:
    assert _apply(kube_cluster, kube_namespace, TENANT).returncode == 0

    moved = _apply(
        kube_cluster, kube_namespace, changed(TENANT, "spec.twilio.accountSid", "AC" + "b" * 32)
    )

    assert moved.returncode != 0
    assert "spec.twilio.accountSid: Invalid value" in moved.stderr
    assert "twilio.accountSid cannot change" in moved.stderr
    assert "create a new WhatsAppTenant for another Twilio account" in moved.stderr


def test_database_mode_cannot_change(kube_cluster: KubeCluster, kube_namespace: str) -> None:
    assert _apply(kube_cluster, kube_namespace, TENANT).returncode == 0
    external = {"mode": "external", "secretRef": {"name": "acme-db", "key": "url"}}

    moved = _apply(kube_cluster, kube_namespace, changed(TENANT, "spec.database", external))

    assert moved.returncode != 0
    assert "spec.database.mode: Invalid value: database.mode cannot change" in moved.stderr


def test_agent_cannot_move_to_another_tenant(
    kube_cluster: KubeCluster, kube_namespace: str
) -> None:
    assert _apply(kube_cluster, kube_namespace, AGENT).returncode == 0

    moved = _apply(kube_cluster, kube_namespace, changed(AGENT, "spec.tenantRef.name", "other"))

    assert moved.returncode != 0
    assert "spec.tenantRef.name: Invalid value" in moved.stderr
    assert "tenantRef cannot change" in moved.stderr


def test_other_fields_can_change(kube_cluster: KubeCluster, kube_namespace: str) -> None:
    assert _apply(kube_cluster, kube_namespace, TENANT).returncode == 0
    two_numbers = [{"number": "+14155550100"}, {"number": "+14155550101", "webhookMode": "tenant"}]

    updated = _apply(
        kube_cluster,
        kube_namespace,
        changed(changed(TENANT, "spec.numbers", two_numbers), "spec.suspend", True),
    )

    assert updated.returncode == 0, updated.stderr
    spec = _get(kube_cluster, kube_namespace, "wat", "acme-pizza")["spec"]
    assert [n["webhookMode"] for n in spec["numbers"]] == ["shared", "tenant"]


def test_printer_columns_show_status(kube_cluster: KubeCluster, kube_namespace: str) -> None:
    assert _apply(kube_cluster, kube_namespace, TENANT, AGENT).returncode == 0
    ready = {
        "type": "Ready",
        "status": "True",
        "reason": "AllPartsReady",
        "message": "",
        "lastTransitionTime": "2026-01-01T00:00:00Z",
    }
    status = {"status": {"conditions": [ready], "numbers": 1, "agents": 1}}
    kube_cluster.kubectl(
        *("patch", "wat", "acme-pizza", "-n", kube_namespace, "--subresource=status"),
        *("--type=merge", "-p", json.dumps(status)),
    )

    table = kube_cluster.kubectl("get", "wat", "-n", kube_namespace).stdout.splitlines()
    agents = kube_cluster.kubectl("get", "aia", "-n", kube_namespace).stdout.splitlines()

    assert table[0].split() == ["NAME", "READY", "REASON", "NUMBERS", "AGENTS", "AGE"]
    assert table[1].split()[:5] == ["acme-pizza", "True", "AllPartsReady", "1", "1"]
    assert agents[0].split() == ["NAME", "TENANT", "READY", "REASON", "DEFAULT", "AGE"]
    assert agents[1].split()[:2] == ["pizza-assistant", "acme-pizza"]


def test_status_schema_refuses_a_malformed_condition(
    kube_cluster: KubeCluster, kube_namespace: str
) -> None:
    assert _apply(kube_cluster, kube_namespace, TENANT).returncode == 0
    bad = {"status": {"conditions": [{"type": "Ready", "status": "Yes"}]}}

    patched = kube_cluster.kubectl(
        *("patch", "wat", "acme-pizza", "-n", kube_namespace, "--subresource=status"),
        *("--type=merge", "-p", json.dumps(bad)),
        check=False,
    )

    assert patched.returncode != 0
    assert 'status.conditions[0].status: Unsupported value: "Yes"' in patched.stderr
    assert "status.conditions[0].reason: Required value" in patched.stderr


def test_python_client_creates_tenants(kube_cluster: KubeCluster, kube_namespace: str) -> None:
    api = CustomObjectsApi(kube_cluster.api_client())
    body = changed(TENANT, "metadata.name", "from-python")

    api.create_namespaced_custom_object(
        API_GROUP, API_VERSION, kube_namespace, "whatsapptenants", body
    )
    stored = api.get_namespaced_custom_object(
        API_GROUP, API_VERSION, kube_namespace, "whatsapptenants", "from-python"
    )

    assert isinstance(stored, dict)
    assert stored["spec"]["timers"] == {"pending": "48h", "progress": "24h", "idle": "15m"}
