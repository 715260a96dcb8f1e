"""Metrics Service, PodDisruptionBudget and NetworkPolicy of a tenant's runtime."""

from __future__ import annotations

from tests.operator.factories import runtime_inputs, tenant_view
from wta_operator.builders.network import (
    build_disruption_budget,
    build_metrics_service,
    build_network_policy,
)
from wta_operator.builders.runtime import build_runtime_deployment
from wta_operator.naming import selector_labels


def test_metrics_service_selects_the_workers_metrics_port() -> None:
    service = build_metrics_service(tenant_view(), 9101)
    assert service["metadata"]["name"] == "acme-pizza-metrics"
    assert service["spec"]["selector"] == selector_labels("acme-pizza")
    assert service["spec"]["ports"] == [
        {"name": "metrics", "port": 9101, "targetPort": "metrics", "protocol": "TCP"}
    ]


def test_disruption_budget_never_blocks_a_drain_of_a_single_worker() -> None:
    budget = build_disruption_budget(tenant_view())
    assert budget["spec"] == {
        "maxUnavailable": 1,
        "selector": {"matchLabels": selector_labels("acme-pizza")},
    }


def test_network_policy_admits_only_the_metrics_port_of_the_worker() -> None:
    policy = build_network_policy(tenant_view())
    assert policy["spec"]["podSelector"] == {"matchLabels": selector_labels("acme-pizza")}
    assert policy["spec"]["policyTypes"] == ["Ingress"]
    [rule] = policy["spec"]["ingress"]
    admitted = {port["port"] for port in rule["ports"]}
    tenant = tenant_view()
    pod = build_runtime_deployment(tenant, runtime_inputs(tenant))["spec"]["template"]["spec"]
    served = {port["name"] for c in pod["containers"] for port in c.get("ports", [])}
    assert admitted == served == {"metrics"}
