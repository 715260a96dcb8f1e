"""The gateway's per-tenant metrics, bound to their labels once (`.labels()` locks and builds a
key on every call, which the hot path would pay twice a request)."""

from __future__ import annotations

from functools import lru_cache

from prometheus_client import Counter, Histogram

from wta_runtime import metrics


@lru_cache(maxsize=4096)
def webhook_outcome(tenant: str, outcome: str) -> Counter:
    """`wta_webhook_requests_total{tenant, outcome}`; tenants are the catalog's or "unknown"."""
    return metrics.WEBHOOK_REQUESTS.labels(tenant, outcome)


@lru_cache(maxsize=1024)
def publish_seconds(tenant: str) -> Histogram:
    """`wta_webhook_publish_seconds{tenant}`."""
    return metrics.WEBHOOK_PUBLISH_SECONDS.labels(tenant)
