"""The test API server acts like a cluster's: RBAC is enforced and owned objects are collected."""

from __future__ import annotations

import json
import time

import pytest

from tests.crds.cases import TENANT
from tests.crds.manifests import to_yaml
from tests.kube import KubeCluster


def test_a_service_account_gets_only_what_rbac_grants(
    kube_cluster: KubeCluster, kube_namespace: str
) -> None:
    ns = ("-n", kube_namespace)
    kube_cluster.kubectl("create", "serviceaccount", "reader", *ns)
    kube_cluster.kubectl(
        "create", "role", "tenant-reader", "--verb=get,list", "--resource=whatsapptenants", *ns
    )
    kube_cluster.kubectl(
        *("create", "rolebinding", "tenant-reader", "--role=tenant-reader"),
        *(f"--serviceaccount={kube_namespace}:reader", *ns),
    )
    as_reader = kube_cluster.kubeconfig_for_service_account(kube_namespace, "reader")

    def kubectl_as_reader(*args: str) -> str:
        done = kube_cluster.kubectl("--kubeconfig", str(as_reader), *args, *ns, check=False)
        return done.stdout + done.stderr

    assert "No resources found" in kubectl_as_reader("get", "whatsapptenants")
    assert "Forbidden" in kubectl_as_reader("get", "secrets")
    assert "forbidden" in kubectl_as_reader("create", "configmap", "x")


def test_objects_owned_by_a_deleted_tenant_are_collected(
    kube_cluster: KubeCluster, kube_namespace: str
) -> None:
    if not kube_cluster.gc_enabled:
        pytest.skip("kube-controller-manager did not build: no garbage collection")
    ns = ("-n", kube_namespace)
    kube_cluster.kubectl("apply", *ns, "-f", "-", input=to_yaml(TENANT))
    tenant = json.loads(kube_cluster.kubectl("get", "wat", "acme-pizza", "-o", "json", *ns).stdout)
    owned = {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {
            "name": "acme-pizza-config",
            "ownerReferences": [
                {
                    "apiVersion": tenant["apiVersion"],
                    "kind": "WhatsAppTenant",
                    "name": "acme-pizza",
                    "uid": tenant["metadata"]["uid"],
                }
            ],
        },
    }
    kube_cluster.kubectl("apply", *ns, "-f", "-", input=to_yaml(owned))

    kube_cluster.kubectl("delete", "wat", "acme-pizza", *ns)

    deadline = time.monotonic() + 30
    while (
        kube_cluster.kubectl("get", "configmap", "acme-pizza-config", *ns, check=False).returncode
        == 0
    ):
        assert time.monotonic() < deadline, "the owned ConfigMap was not garbage-collected in 30s"
        time.sleep(0.2)
