"""What the egress policy refused, as Prometheus counts it."""

from __future__ import annotations

from prometheus_client import REGISTRY


def refusals(tenant: str, kind: str) -> float:
    """`wta_egress_refused_total` of the tenant and kind so far."""
    found = REGISTRY.get_sample_value("wta_egress_refused_total", {"tenant": tenant, "kind": kind})
    return found or 0.0
