"""A shared runtime on the real node: the example tenant moves into the namespace's shared
runtime, is answered once from its pod, and moves back to its own Deployment, answered once."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest

from tests.kube import KubeCluster
from tests.node.node import RealNode
from tests.node.release import EXAMPLES, TENANT, TENANT_NS, Release
from tests.node.rollout import wait_rolled
from tests.node.services import NodeServices
from tests.node.traffic import WEBHOOK, post_until_accepted
from tests.utils.openai_server import ScriptedModel
from tests.utils.waiting import eventually
from tests.utils.webhooks import new_contact, webhook_for
from wta_operator.builders.shared_runtime import SHARED_RUNTIME
from wta_runtime.catalog import load_catalog

pytestmark = [pytest.mark.node, pytest.mark.timeout(900)]

SHARED_PODS = f"app.kubernetes.io/name={SHARED_RUNTIME}"


def _set_mode(kube: KubeCluster, mode: str) -> None:
    patch = [{"op": "add", "path": "/spec/runtime/mode", "value": mode}]
    kube.kubectl(
        *("-n", TENANT_NS, "patch", "whatsapptenant", TENANT, "--type=json"),
        "-p",
        json.dumps(patch),
    )


def _deployment(kube: KubeCluster, name: str) -> dict[str, Any] | None:
    found = kube.kubectl(
        "-n", TENANT_NS, "get", "deployment", name, "-o", "json", "--ignore-not-found"
    )
    return json.loads(found.stdout) if found.stdout.strip() else None


def _served(kube: KubeCluster) -> list[str]:
    deployment = _deployment(kube, SHARED_RUNTIME)
    if deployment is None:
        return []
    env = deployment["spec"]["template"]["spec"]["containers"][0]["env"]
    return list(json.loads(next(e["value"] for e in env if e["name"] == "WTA_TENANTS")))


def _ready_shared_pods(kube: KubeCluster) -> int:
    listed = kube.kubectl("-n", TENANT_NS, "get", "pods", "-l", SHARED_PODS, "-o", "json")
    pods = json.loads(listed.stdout)["items"]
    return sum(
        1
        for pod in pods
        if not pod["metadata"].get("deletionTimestamp")
        and all(s.get("ready") for s in pod["status"].get("containerStatuses") or [{}])
    )


async def _answered_once(release: Release, services: NodeServices, body: str) -> None:
    contact = new_contact()
    url = release.gateway_url + WEBHOOK
    tenant = load_catalog(EXAMPLES).by_name(TENANT)
    data, headers = webhook_for(tenant, url, contact=contact, body=body)
    response = await post_until_accepted(url, data, headers, timeout=60)
    assert response.status_code == 200
    await eventually(lambda: services.sent_to(contact), until=bool, timeout=180)
    await asyncio.sleep(5)  # a second reply (a message handled twice) would have come by now
    assert len(services.sent_to(contact)) == 1


async def test_the_example_tenant_moves_to_the_shared_runtime_and_back(
    real_node: RealNode, release: Release, services: NodeServices, model_tenant: ScriptedModel
) -> None:
    kube = real_node.kube
    _set_mode(kube, "shared")
    try:
        await eventually(lambda: _served(kube), until=lambda s: s == [TENANT], timeout=120)
        await eventually(lambda: _ready_shared_pods(kube), until=lambda n: n >= 1, timeout=300)
        await eventually(
            lambda: _deployment(kube, f"{TENANT}-runtime"), until=lambda d: d is None, timeout=120
        )
        await _answered_once(release, services, "When are you open?")
    finally:
        _set_mode(kube, "dedicated")
    await eventually(
        lambda: _deployment(kube, f"{TENANT}-runtime"), until=lambda d: d is not None, timeout=120
    )
    wait_rolled(kube)
    await eventually(
        lambda: _deployment(kube, SHARED_RUNTIME), until=lambda d: d is None, timeout=120
    )
    await _answered_once(release, services, "Do you deliver?")
