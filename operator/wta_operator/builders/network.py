"""What surrounds the runtime pods: metrics Service, PodDisruptionBudget and NetworkPolicy."""

from __future__ import annotations

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
    """At most one worker evicted at a time.

    maxUnavailable rather than minAvailable: with one replica, minAvailable 1 would block every
    node drain forever, while a redelivered message only waits for the next pod.
    """
    return {
        "apiVersion": "policy/v1",
        "kind": "PodDisruptionBudget",
        "metadata": {
            "name": tenant.names.disruption_budget,
            "namespace": tenant.namespace,
            "labels": child_labels(tenant.name),
        },
        "spec": {"maxUnavailable": 1, "selector": {"matchLabels": selector_labels(tenant.name)}},
    }


def build_network_policy(tenant: TenantView) -> dict[str, Any]:
    """Runtime pods accept connections only on their metrics port; nothing else calls them.

    The port is named, not numbered: the tenant's spec may move it.

    Egress stays open: NATS, PostgreSQL, Twilio and the model endpoint live wherever the platform
    team put them, which the operator cannot know.
    """
    return {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "NetworkPolicy",
        "metadata": {
            "name": tenant.names.network_policy,
            "namespace": tenant.namespace,
            "labels": child_labels(tenant.name),
        },
        "spec": {
            "podSelector": {"matchLabels": selector_labels(tenant.name)},
            "policyTypes": ["Ingress"],
            "ingress": [{"ports": [{"protocol": "TCP", "port": WORKER_METRICS_PORT}]}],
        },
    }
