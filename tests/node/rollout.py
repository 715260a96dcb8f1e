"""Rolling the tenant's runtime Deployment and knowing when the roll is over."""

from __future__ import annotations

import json
import time
from typing import Any

from tests.kube.cluster import KubeCluster
from tests.node.release import TENANT, TENANT_NS

RUNTIME = f"{TENANT}-runtime"
RUNTIME_PODS = f"app.kubernetes.io/name=wta-runtime,app.kubernetes.io/instance={TENANT}"


def runtime_pods(kube: KubeCluster) -> list[dict[str, Any]]:
    """The runtime's pods, terminating ones included."""
    listed = kube.kubectl("-n", TENANT_NS, "get", "pods", "-l", RUNTIME_PODS, "-o", "json")
    items: list[dict[str, Any]] = json.loads(listed.stdout)["items"]
    return items


def only_runtime_pod(kube: KubeCluster) -> dict[str, Any]:
    """The runtime's one pod (the example tenant runs one replica)."""
    pods = runtime_pods(kube)
    assert len(pods) == 1, [p["metadata"]["name"] for p in pods]
    return pods[0]


def container_id(pod: dict[str, Any], container: str) -> str:
    """The containerd id of a running container of `pod`."""
    for status in pod["status"].get("containerStatuses", []):
        if status["name"] == container and status.get("containerID"):
            return str(status["containerID"]).removeprefix("containerd://")
    raise AssertionError(f"no running container {container} in {pod['metadata']['name']}")


def restarts(kube: KubeCluster, container: str) -> int:
    """How often `container` of the runtime's pod has restarted."""
    for status in only_runtime_pod(kube)["status"].get("containerStatuses", []):
        if status["name"] == container:
            return int(status["restartCount"])
    return 0


def desired_replicas(kube: KubeCluster) -> int:
    """The runtime Deployment's spec.replicas (0 while the tenant sleeps)."""
    return int(
        kube.kubectl(
            "-n", TENANT_NS, "get", "deployment", RUNTIME, "-o", "jsonpath={.spec.replicas}"
        ).stdout
    )


def wait_rolled(kube: KubeCluster, *, timeout: float = 300) -> None:
    """Wait until the runtime Deployment has rolled out and no pod of an older one is left.

    The replicas are read again each round: the operator may scale the Deployment (a tenant
    woken or put to sleep) while it rolls."""
    kube.kubectl(
        *("-n", TENANT_NS, "rollout", "status", f"deployment/{RUNTIME}"),
        f"--timeout={int(timeout)}s",
        timeout=timeout + 10,
    )
    deadline = time.monotonic() + timeout
    while (pods := len(runtime_pods(kube))) != (replicas := desired_replicas(kube)):
        if time.monotonic() > deadline:
            raise AssertionError(
                f"{pods} runtime pods, {replicas} wanted, still after {timeout:.0f}s"
            )
        time.sleep(1)


def wait_runtime_created(kube: KubeCluster, *, timeout: float = 120) -> None:
    """Wait until the operator has created the runtime Deployment (examples/ just applied)."""
    deadline = time.monotonic() + timeout
    while kube.kubectl("-n", TENANT_NS, "get", "deployment", RUNTIME, check=False).returncode:
        if time.monotonic() > deadline:
            raise AssertionError(f"no runtime Deployment within {timeout:.0f}s")
        time.sleep(0.5)


def generation(kube: KubeCluster) -> int:
    """The runtime Deployment's metadata.generation (it grows when its template changes)."""
    return int(
        kube.kubectl(
            "-n", TENANT_NS, "get", "deployment", RUNTIME, "-o", "jsonpath={.metadata.generation}"
        ).stdout
    )


def wait_template_changed(kube: KubeCluster, since: int, *, timeout: float = 120) -> None:
    """Wait until the operator has changed the runtime's pod template after `since`."""
    deadline = time.monotonic() + timeout
    while generation(kube) <= since:
        if time.monotonic() > deadline:
            raise AssertionError(f"the runtime Deployment did not change within {timeout:.0f}s")
        time.sleep(0.5)
