"""charts/wta installed on the real node the way a platform team would, plus examples/."""

from __future__ import annotations

import os
import subprocess
from dataclasses import dataclass
from pathlib import Path

from tests.node.node import RealNode
from tests.node.services import NodeServices

ROOT = Path(__file__).resolve().parents[2]
CHART = ROOT / "charts" / "wta"
EXAMPLES = ROOT / "examples"
SYSTEM_NS = "wta-system"
TENANT_NS = "shop"
TENANT = "acme-pizza"
AGENT = "pizza-assistant"
RELEASE = "wta"


@dataclass(frozen=True)
class Release:
    """The installed release: where its gateway Service answers, from the host."""

    gateway_url: str


def helm(node: RealNode, *args: str, timeout: float = 600) -> str:
    """Run helm against the node's cluster; a failure raises with its output."""
    done = subprocess.run(
        [str(node.kube.helm_path), *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        env={**os.environ, "KUBECONFIG": str(node.kube.kubeconfig)},
        check=False,
    )
    if done.returncode != 0:
        raise AssertionError(f"helm {' '.join(args)} exited {done.returncode}\n{done.stderr}")
    return done.stdout


def chart_values(image: str, services: NodeServices, host_ip: str) -> list[str]:
    """Helm arguments: the built image (never pulled), the host's services, one gateway; the
    tenant's scripted model on the host is an internal address the platform allows."""
    repository, tag = image.rsplit(":", 1)
    values = {
        "image.repository": repository,
        "image.tag": tag,
        "image.pullPolicy": "Never",
        "nats.url": services.nats_for_pods,
        "database.adminExistingSecret.name": "wta-db-admin",
        "operator.runtime.twilioApiBase": services.twilio_for_pods,
    }
    strings = [arg for key, value in values.items() for arg in ("--set-string", f"{key}={value}")]
    # Idle tenants (test_sleep) are checked every 2 s and woken 20 s before a timer; a sleeping
    # one's stream is polled at the chart's default, as the wake-up benchmark measures.
    sleep = ["operator.sleep.checkSeconds=2", "operator.sleep.wakeBeforeTimerSeconds=20"]
    others = ["gateway.replicas=1", f"operator.runtime.egressAllow={{{host_ip}/32}}"]
    return [*strings, *(a for v in [*others, *sleep] for a in ("--set", v))]


def install(node: RealNode, services: NodeServices) -> Release:
    """Create the admin database Secret, `helm install` the chart, apply examples/."""
    kube = node.kube
    kube.kubectl("create", "namespace", SYSTEM_NS)
    kube.kubectl(
        "-n",
        SYSTEM_NS,
        "create",
        "secret",
        "generic",
        "wta-db-admin",
        f"--from-literal=url={services.admin_database_for_pods}",
    )
    helm(
        node,
        "install",
        RELEASE,
        str(CHART),
        "--namespace",
        SYSTEM_NS,
        *chart_values(node.image, services, node.network.host_ip),
        "--wait",
        "--timeout",
        "5m",
    )
    kube.kubectl("create", "namespace", TENANT_NS)
    kube.kubectl("-n", TENANT_NS, "apply", "-f", str(EXAMPLES))
    cluster_ip = kube.kubectl(
        "-n", SYSTEM_NS, "get", "service", f"{RELEASE}-gateway", "-o", "jsonpath={.spec.clusterIP}"
    ).stdout.strip()
    return Release(gateway_url=f"http://{cluster_ip}")
