"""The rendered chart is accepted by a real API server (`kubectl apply --dry-run=server`)."""

from __future__ import annotations

import json

import pytest

from tests.chart.helm import FULL_VALUES, MONITORING_CRDS, Helm
from tests.kube import KubeCluster


@pytest.fixture(scope="module")
def monitoring_crds(kube_cluster: KubeCluster) -> KubeCluster:
    """The API server with ServiceMonitor, PodMonitor and PrometheusRule served."""
    kube_cluster.kubectl("apply", "--server-side", "--force-conflicts", "-f", str(MONITORING_CRDS))
    kube_cluster.kubectl(
        "wait",
        "--for=condition=Established",
        "--timeout=60s",
        "crd/servicemonitors.monitoring.coreos.com",
        "crd/podmonitors.monitoring.coreos.com",
        "crd/prometheusrules.monitoring.coreos.com",
    )
    return kube_cluster


def dry_run(cluster: KubeCluster, manifests: str) -> str:
    """Server-side dry run of every object, with strict field validation; kubectl's output."""
    done = cluster.kubectl(
        "apply", "--dry-run=server", "--validate=strict", "-f", "-", input=manifests, check=False
    )
    assert done.returncode == 0, f"the API server refused the chart:\n{done.stderr}"
    return done.stdout


def test_default_values_apply(
    helm: Helm, monitoring_crds: KubeCluster, kube_namespace: str
) -> None:
    out = dry_run(monitoring_crds, helm.template(namespace=kube_namespace))
    assert "deployment.apps/wta-operator created (server dry run)" in out
    assert "deployment.apps/wta-gateway created (server dry run)" in out


def test_full_values_apply(helm: Helm, monitoring_crds: KubeCluster, kube_namespace: str) -> None:
    manifests = helm.template(
        namespace=kube_namespace,
        values=[FULL_VALUES],
        sets=[f"operator.watchNamespaces={{{kube_namespace}}}"],
    )
    out = dry_run(monitoring_crds, manifests)
    for created in (
        "prometheusrule.monitoring.coreos.com/wta",
        "servicemonitor.monitoring.coreos.com/wta-gateway",
        "podmonitor.monitoring.coreos.com/wta-runtime",
        "horizontalpodautoscaler.autoscaling/wta-gateway",
        "ingress.networking.k8s.io/wta-gateway",
        "role.rbac.authorization.k8s.io/wta-operator",
        "configmap/wta-dashboard-platform-overview",
    ):
        assert created in out, out


def test_nats_credentials_reach_the_pods_only_by_secret_key_ref(
    helm: Helm, monitoring_crds: KubeCluster, kube_namespace: str
) -> None:
    """As the API server stores them: the gateway connects as its own NATS user."""
    manifests = helm.template(namespace=kube_namespace, values=[FULL_VALUES])
    done = monitoring_crds.kubectl(
        "apply", "--dry-run=server", "-o", "json", "-f", "-", input=manifests
    )
    stored = json.loads(done.stdout)["items"]
    env = {
        item["metadata"]["name"]: {
            e["name"]: e for e in item["spec"]["template"]["spec"]["containers"][0]["env"]
        }
        for item in stored
        if item["kind"] == "Deployment"
    }

    gateway_user = {"secretKeyRef": {"name": "wta-nats-gateway", "key": "url"}}
    assert env["wta-gateway"]["WTA_NATS_URL"]["valueFrom"] == gateway_user
    assert env["wta-operator"]["WTA_GATEWAY_NATS_URL"]["valueFrom"] == gateway_user
    operator_user = {"secretKeyRef": {"name": "wta-nats", "key": "url"}}
    assert env["wta-operator"]["WTA_NATS_URL"]["valueFrom"] == operator_user


def test_a_misspelt_monitoring_field_is_refused(
    monitoring_crds: KubeCluster, kube_namespace: str
) -> None:
    """The minimal monitoring CRDs really check fields, so the tests above prove something."""
    wrong = (
        "apiVersion: monitoring.coreos.com/v1\nkind: PodMonitor\n"
        f"metadata: {{name: wrong, namespace: {kube_namespace}}}\n"
        "spec: {selector: {}, podMetricEndpoints: [{port: metrics}]}\n"
    )
    done = monitoring_crds.kubectl(
        "apply", "--dry-run=server", "--validate=strict", "-f", "-", input=wrong, check=False
    )
    assert done.returncode != 0
    assert "podMetricEndpoints" in done.stderr
