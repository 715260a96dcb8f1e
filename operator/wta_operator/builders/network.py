"""What surrounds the runtime pods: metrics Service, PodDisruptionBudget and NetworkPolicy."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from wta_operator.naming import (
    WORKER_METRICS_PORT,
    child_labels,
    selector_labels,
)
from wta_operator.views import TenantView


def build_metrics_service(tenant: TenantView, metrics_port: int) -> dict[str, Any]:
    """A ClusterIP Service in front of the workers' Prometheus endpoint."""
    return {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {
            "name": tenant.names.metrics_service,
            "namespace": tenant.namespace,
            "labels": child_labels(tenant.name, "metrics"),
        },
        "spec": {
            "type": "ClusterIP",
            "selector": selector_labels(tenant.name),
            "ports": [
                {
                    "name": "metrics",
                    "port": metrics_port,
                    "targetPort": WORKER_METRICS_PORT,
                    "protocol": "TCP",
                }
            ],
        },
    }


def build_disruption_budget(tenant: TenantView) -> dict[str, Any]:
    """At most one of the tenant's workers evicted at a time."""
    return disruption_budget(
        tenant.names.disruption_budget,
        tenant.namespace,
        child_labels(tenant.name),
        selector_labels(tenant.name),
    )


def build_network_policy(tenant: TenantView) -> dict[str, Any]:
    """The tenant's runtime pods accept connections only on their metrics port."""
    return network_policy(
        tenant.names.network_policy,
        tenant.namespace,
        child_labels(tenant.name),
        selector_labels(tenant.name),
    )


def disruption_budget(
    name: str, namespace: str, labels: Mapping[str, str], selector: Mapping[str, str]
) -> dict[str, Any]:
    """At most one runtime pod of `selector` evicted at a time.

    maxUnavailable rather than minAvailable: with one replica, minAvailable 1 would block every
    node drain forever, while a redelivered message only waits for the next pod.
    """
    return {
        "apiVersion": "policy/v1",
        "kind": "PodDisruptionBudget",
        "metadata": {"name": name, "namespace": namespace, "labels": dict(labels)},
        "spec": {"maxUnavailable": 1, "selector": {"matchLabels": dict(selector)}},
    }


def network_policy(
    name: str, namespace: str, labels: Mapping[str, str], selector: Mapping[str, str]
) -> dict[str, Any]:
    """Runtime pods of `selector` accept connections only on their metrics port; nothing else
    calls them.

    The port is named, not numbered: the tenant's spec may move it.

    Egress stays open: NATS, PostgreSQL, Twilio and the model endpoint live wherever the platform
    team put them, which the operator cannot know.
    """
    return {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "NetworkPolicy",
        "metadata": {"name": name, "namespace": namespace, "labels": dict(labels)},
        "spec": {
            "podSelector": {"matchLabels": dict(selector)},
            "policyTypes": ["Ingress"],
            "ingress": [{"ports": [{"protocol": "TCP", "port": WORKER_METRICS_PORT}]}],
        },
    }
