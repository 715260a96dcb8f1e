"""The example tenant put to sleep when idle (spec.runtime.idleAfter), and what shows it."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from tests.kube import KubeCluster
from tests.node.release import TENANT, TENANT_NS
from tests.node.rollout import (
    desired_replicas,
    generation,
    runtime_pods,
    wait_rolled,
    wait_template_changed,
)

IDLE_AFTER = "10s"


def tenant(kube: KubeCluster) -> dict[str, Any]:
    found = kube.kubectl("-n", TENANT_NS, "get", "whatsapptenant", TENANT, "-o", "json")
    return dict(json.loads(found.stdout))


def sleeping(kube: KubeCluster) -> dict[str, Any]:
    """The tenant's Sleeping condition (empty when it has none)."""
    for condition in (tenant(kube).get("status") or {}).get("conditions") or []:
        if condition.get("type") == "Sleeping":
            return dict(condition)
    return {}


def events(kube: KubeCluster, reason: str) -> list[str]:
    """Messages of the tenant's Events with `reason`, oldest first."""
    listed = kube.kubectl(
        *("-n", TENANT_NS, "get", "events", "-o", "json"),
        f"--field-selector=involvedObject.name={TENANT},reason={reason}",
    )
    items = sorted(json.loads(listed.stdout)["items"], key=lambda e: e["metadata"]["name"])
    return [str(e.get("message")) for e in items]


def _patch(kube: KubeCluster, operations: list[dict[str, Any]]) -> None:
    before = generation(kube)
    kube.kubectl(
        *("-n", TENANT_NS, "patch", "whatsapptenant", TENANT, "--type=json"),
        "-p",
        json.dumps(operations),
    )
    wait_template_changed(kube, before)  # the tenant's manifest is in the pods' config


def wait_awake(kube: KubeCluster, *, timeout: float = 180) -> None:
    """Until the tenant's runtime is scaled back up and rolled out."""
    deadline = time.monotonic() + timeout
    while desired_replicas(kube) == 0:
        if time.monotonic() > deadline:
            raise AssertionError(f"still asleep after {timeout:.0f}s: {sleeping(kube)}")
        time.sleep(1)
    wait_rolled(kube)


@contextmanager
def sleepy_tenant(kube: KubeCluster, *, idle_timer: str) -> Iterator[None]:
    """The example tenant with idleAfter and a short idle timer; as it was again after."""
    spec = tenant(kube)["spec"]
    _patch(
        kube,
        [
            {"op": "add", "path": "/spec/runtime/idleAfter", "value": IDLE_AFTER},
            {"op": "replace", "path": "/spec/timers/idle", "value": idle_timer},
        ],
    )
    wait_rolled(kube)
    try:
        yield
    finally:
        _patch(
            kube,
            [
                {"op": "remove", "path": "/spec/runtime/idleAfter"},
                {"op": "replace", "path": "/spec/timers/idle", "value": spec["timers"]["idle"]},
            ],
        )
        wait_awake(kube)  # without idleAfter the operator wakes it, maybe after the roll


def wait_asleep(kube: KubeCluster, *, pods_gone: bool = True, timeout: float = 180) -> None:
    """Until the tenant sleeps and (with `pods_gone`) its last runtime pod is gone."""
    deadline = time.monotonic() + timeout
    while sleeping(kube).get("status") != "True" or (pods_gone and runtime_pods(kube)):
        if time.monotonic() > deadline:
            raise AssertionError(f"still awake after {timeout:.0f}s: {sleeping(kube)}")
        time.sleep(1)
