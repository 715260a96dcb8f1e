"""The shared runtime's Deployment: each tenant's manifests and Secrets mounted once, as files."""

from __future__ import annotations

import json
from typing import Any

import yaml

from tests.kube import KubeCluster
from tests.operator.factories import shared_runtime_inputs
from wta_operator.builders.shared_runtime import (
    SharedTenant,
    build_shared_runtime_deployment,
    build_shared_service_account,
)
from wta_runtime.specs import SecretKeyRef


def _tenant(name: str, *refs: SecretKeyRef) -> SharedTenant:
    return SharedTenant(
        name=name,
        config_map=f"{name}-manifests",
        manifest_keys=["agent-helper.yaml", "tenant.yaml"],
        secret_refs=[
            SecretKeyRef(name=f"{name}-database", key="url"),
            SecretKeyRef(name=f"{name}-nats", key="url"),
            *refs,
        ],
    )


def _volume(deployment: dict[str, Any], name: str) -> list[dict[str, Any]]:
    volumes = {v["name"]: v for v in deployment["spec"]["template"]["spec"]["volumes"]}
    return list(volumes[name]["projected"]["sources"])


def test_two_tenants_get_their_own_files_and_a_secret_they_share_is_mounted_once() -> None:
    model_key = SecretKeyRef(name="openai", key="apiKey")
    deployment = build_shared_runtime_deployment(
        [_tenant("bakery", model_key), _tenant("florist", model_key)], shared_runtime_inputs()
    )

    manifests = [
        i["path"] for s in _volume(deployment, "manifests") for i in s["configMap"]["items"]
    ]
    secrets = [i["path"] for s in _volume(deployment, "secrets") for i in s["secret"]["items"]]
    assert sorted(manifests) == [
        "bakery--agent-helper.yaml",
        "bakery--tenant.yaml",
        "florist--agent-helper.yaml",
        "florist--tenant.yaml",
    ]
    assert sorted(secrets) == [
        "bakery-database/url",
        "bakery-nats/url",
        "florist-database/url",
        "florist-nats/url",
        "openai/apiKey",
    ]
    env = {
        e["name"]: e.get("value")
        for e in deployment["spec"]["template"]["spec"]["containers"][0]["env"]
    }
    assert json.loads(env["WTA_TENANTS"] or "") == ["bakery", "florist"]
    assert env["WTA_RUNTIME_MODE"] == "shared"
    assert deployment["spec"]["replicas"] == 2


def test_without_tenants_it_runs_no_pod() -> None:
    assert build_shared_runtime_deployment([], shared_runtime_inputs())["spec"]["replicas"] == 0


def test_only_a_url_without_credentials_is_a_literal_value() -> None:
    deployment = build_shared_runtime_deployment(
        [_tenant("bakery")], shared_runtime_inputs(nats_url="nats://nats.wta-system:4222")
    )
    containers = deployment["spec"]["template"]["spec"]["containers"]
    for container in [*containers, *deployment["spec"]["template"]["spec"]["initContainers"]]:
        env = {e["name"]: e.get("value") for e in container["env"]}
        assert env["WTA_NATS_URL"] == "nats://nats.wta-system:4222"
        assert "WTA_DATABASE_URL" not in env


def test_the_shared_runtime_applies_without_warnings(
    kube_cluster: KubeCluster, kube_namespace: str
) -> None:
    children = [
        build_shared_service_account(kube_namespace),
        build_shared_runtime_deployment(
            [_tenant("bakery"), _tenant("florist")], shared_runtime_inputs(kube_namespace)
        ),
    ]

    applied = kube_cluster.kubectl("apply", "-f", "-", input=yaml.safe_dump_all(children))

    assert "deployment.apps/wta-shared-runtime created" in applied.stdout
    assert "Warning" not in applied.stderr, applied.stderr


def test_the_platforms_egress_allow_list_reaches_the_shared_workers() -> None:
    deployment = build_shared_runtime_deployment(
        [_tenant("bakery")], shared_runtime_inputs(egress_allow="10.20.0.0/16")
    )
    [worker] = deployment["spec"]["template"]["spec"]["containers"]
    env = {e["name"]: e.get("value") for e in worker["env"]}
    assert env["WTA_EGRESS_ALLOW"] == "10.20.0.0/16"


def test_the_shared_workers_are_probed_like_a_tenants_own() -> None:
    deployment = build_shared_runtime_deployment([_tenant("bakery")], shared_runtime_inputs())
    worker = deployment["spec"]["template"]["spec"]["containers"][0]
    probes = {k: v["httpGet"]["path"] for k, v in worker.items() if k.endswith("Probe")}
    assert probes == {"readinessProbe": "/ready", "livenessProbe": "/live", "startupProbe": "/live"}
    assert {v["httpGet"]["port"] for k, v in worker.items() if k.endswith("Probe")} == {
        worker["ports"][0]["name"]
    }
