"""What the operator builds for a tenant is taken by a real API server as is, without warnings."""

from __future__ import annotations

import yaml

from tests.kube import KubeCluster
from tests.operator.factories import agent_view, tenant_view
from wta_operator.reconcile.runtime import desired_children, runtime_inputs
from wta_operator.reconcile.secrets import SecretCheck
from wta_operator.settings import OperatorConfig


def test_a_tenants_objects_apply_without_warnings(
    kube_cluster: KubeCluster, kube_namespace: str
) -> None:
    tenant = tenant_view(namespace=kube_namespace)
    agents = [agent_view("helper", tenant.name, namespace=kube_namespace)]
    config = OperatorConfig()
    inputs = runtime_inputs(tenant, agents, config, SecretCheck({}, {}, {}), may_run=True)
    children = desired_children(tenant, agents, inputs, config)

    applied = kube_cluster.kubectl("apply", "-f", "-", input=yaml.safe_dump_all(children))

    assert "deployment.apps/acme-pizza-runtime created" in applied.stdout
    assert "Warning" not in applied.stderr, applied.stderr
