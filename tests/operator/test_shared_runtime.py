"""Tenants of mode shared, with the operator running for real: one shared Deployment serves them
all with each one's own Secrets mounted, and a tenant moves between modes and back."""

from __future__ import annotations

import json
from typing import Any

from tests.operator.factories import agent_manifest, secret_manifest, tenant_manifest, unique_name
from tests.operator.harness import RunningOperator, wait_for
from wta_operator.builders.shared_runtime import SHARED_RUNTIME

SHARED = {"mode": "shared"}


def _shared(op: RunningOperator, namespace: str) -> dict[str, Any] | None:
    return op.read(namespace, "Deployment", SHARED_RUNTIME)


def _served(op: RunningOperator, namespace: str) -> list[str]:
    """The tenants the shared runtime's worker serves (none when it does not exist)."""
    deployment = _shared(op, namespace)
    if deployment is None:
        return []
    env = deployment["spec"]["template"]["spec"]["containers"][0]["env"]
    return list(json.loads(next(e["value"] for e in env if e["name"] == "WTA_TENANTS")))


def _mounted(deployment: dict[str, Any]) -> tuple[set[str], set[str]]:
    """The manifest files and the Secret files (`<secret>/<key>`) the shared pods see."""
    volumes = {v["name"]: v for v in deployment["spec"]["template"]["spec"]["volumes"]}
    manifests = {
        item["path"]
        for source in volumes["manifests"]["projected"]["sources"]
        for item in source["configMap"]["items"]
    }
    secrets = {
        item["path"]
        for source in volumes["secrets"]["projected"]["sources"]
        for item in source["secret"]["items"]
    }
    return manifests, secrets


def _create(op: RunningOperator, namespace: str, name: str, **spec: Any) -> None:
    op.apply(namespace, secret_manifest(f"{name}-twilio"), tenant_manifest(name, **spec))
    op.wait_condition(namespace, "WhatsAppTenant", name, "Ready", "True")


def test_shared_tenants_run_in_one_deployment_with_their_own_secrets_mounted(
    live_operator: RunningOperator, kube_namespace: str
) -> None:
    op, namespace = live_operator, kube_namespace
    first, second = sorted([unique_name(), unique_name()])
    _create(op, namespace, first, runtime=SHARED)
    _create(op, namespace, second, runtime=SHARED)

    wait_for(lambda: _served(op, namespace), lambda served: served == [first, second])
    deployment = _shared(op, namespace) or {}
    manifests, secrets = _mounted(deployment)
    for name in (first, second):
        assert op.read(namespace, "Deployment", f"{name}-runtime") is None
        assert f"{name}--tenant.yaml" in manifests
        # Its Twilio token, its own database role's URL and its own NATS user's URL.
        assert {f"{name}-twilio/authToken", f"{name}-database/url", f"{name}-nats/url"} <= secrets
    uids = {
        (op.read(namespace, "WhatsAppTenant", name) or {})["metadata"]["uid"]
        for name in (first, second)
    }
    assert {ref["uid"] for ref in deployment["metadata"]["ownerReferences"]} == uids
    env = {e["name"]: e for e in deployment["spec"]["template"]["spec"]["containers"][0]["env"]}
    assert env["WTA_RUNTIME_MODE"]["value"] == "shared"
    # No password is a literal value of the Deployment: every URL with one is a mounted file.
    assert "WTA_NATS_URL" not in env
    condition = op.condition(namespace, "WhatsAppTenant", first, "Runtime")
    assert condition["reason"] == "Shared"
    assert SHARED_RUNTIME in condition["message"]
    _assert_guarded_like_a_dedicated_runtime(op, namespace, deployment, uids)


def _assert_guarded_like_a_dedicated_runtime(
    op: RunningOperator, namespace: str, deployment: dict[str, Any], owners: set[str]
) -> None:
    """A drain evicts one shared pod at a time, and only the metrics port admits connections."""
    pods = deployment["spec"]["template"]
    budget = op.read(namespace, "PodDisruptionBudget", SHARED_RUNTIME) or {}
    assert budget["spec"]["maxUnavailable"] == 1
    assert budget["spec"]["selector"] == deployment["spec"]["selector"]
    policy = op.read(namespace, "NetworkPolicy", SHARED_RUNTIME) or {}
    selected = policy["spec"]["podSelector"]["matchLabels"]
    assert selected.items() <= pods["metadata"]["labels"].items()
    [rule] = policy["spec"]["ingress"]
    served = {port["name"] for c in pods["spec"]["containers"] for port in c.get("ports", [])}
    assert {port["port"] for port in rule["ports"]} == served == {"metrics"}
    for child in (budget, policy):
        assert {ref["uid"] for ref in child["metadata"]["ownerReferences"]} == owners


def test_a_tenant_moves_to_the_shared_runtime_and_back(
    live_operator: RunningOperator, kube_namespace: str
) -> None:
    op, namespace = live_operator, kube_namespace
    name, neighbour = unique_name(), unique_name()
    _create(op, namespace, neighbour, runtime=SHARED)
    number = "+14155550180"
    _create(op, namespace, name, numbers=[number])
    assert op.read(namespace, "Deployment", f"{name}-runtime") is not None
    assert _served(op, namespace) == [neighbour]

    op.apply(namespace, tenant_manifest(name, numbers=[number], runtime=SHARED))
    wait_for(lambda: _served(op, namespace), lambda served: name in served)
    wait_for(lambda: op.read(namespace, "Deployment", f"{name}-runtime"), lambda d: d is None)

    op.apply(namespace, tenant_manifest(name, numbers=[number]))
    wait_for(lambda: op.read(namespace, "Deployment", f"{name}-runtime"), lambda d: d is not None)
    wait_for(lambda: _served(op, namespace), lambda served: served == [neighbour])


def test_the_shared_runtime_goes_with_its_last_tenant(
    live_operator: RunningOperator, kube_namespace: str
) -> None:
    op, namespace = live_operator, kube_namespace
    first, second = unique_name(), unique_name()
    _create(op, namespace, first, runtime=SHARED)
    _create(op, namespace, second, runtime=SHARED)
    wait_for(lambda: len(_served(op, namespace)), lambda count: count == 2)

    op.delete(namespace, "WhatsAppTenant", first)
    wait_for(lambda: _served(op, namespace), lambda served: served == [second])
    op.delete(namespace, "WhatsAppTenant", second)
    wait_for(lambda: _shared(op, namespace), lambda deployment: deployment is None)


def test_a_shared_tenant_without_its_secret_waits_outside_and_stops_no_one(
    live_operator: RunningOperator, kube_namespace: str
) -> None:
    op, namespace = live_operator, kube_namespace
    served, missing = unique_name(), unique_name()
    _create(op, namespace, served, runtime=SHARED)
    op.apply(namespace, tenant_manifest(missing, runtime=SHARED))  # no `<missing>-twilio`

    condition = op.wait_condition(
        namespace, "WhatsAppTenant", missing, "Runtime", "False", reason="SecretNotFound"
    )
    assert f"{missing}-twilio" in condition["message"]
    assert _served(op, namespace) == [served]


def test_the_configmaps_of_a_shared_tenants_knowledge_sources_are_mounted(
    live_operator: RunningOperator, kube_namespace: str
) -> None:
    op, namespace, name = live_operator, kube_namespace, unique_name()
    _create(op, namespace, name, runtime=SHARED)
    source = {"configMap": {"name": f"{name}-faq", "key": "returns.md"}}
    op.apply(namespace, agent_manifest("helper", name, knowledge={"sources": [source]}))

    def knowledge_mounts() -> dict[str, str]:
        pod = (_shared(op, namespace) or {}).get("spec", {}).get("template", {}).get("spec", {})
        volumes = {v["name"]: v.get("configMap", {}).get("name") for v in pod.get("volumes", [])}
        mounts = pod.get("containers", [{}])[0].get("volumeMounts", [])
        return {m["mountPath"]: volumes.get(m["name"]) or "" for m in mounts}

    mounts = wait_for(knowledge_mounts, lambda found: f"/etc/wta/configmaps/{name}-faq" in found)

    assert mounts[f"/etc/wta/configmaps/{name}-faq"] == f"{name}-faq"
