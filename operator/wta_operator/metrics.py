"""The operator's Prometheus metrics (the chart's dashboards and alerts read these names)."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager

import kopf
from prometheus_client import Counter, Histogram

RECONCILES = Counter(
    "wta_operator_reconciles_total",
    "Reconciliations by kind (WhatsAppTenant, AIAgent) and outcome (success, retry, invalid, "
    "error).",
    ["kind", "outcome"],
)
RECONCILE_SECONDS = Histogram(
    "wta_operator_reconcile_seconds",
    "Time one reconciliation took, by kind.",
    ["kind"],
    buckets=(0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30),
)


@contextmanager
def measured(kind: str) -> Iterator[None]:
    """Count one reconciliation and its duration; the outcome follows how the block ended."""
    started = time.perf_counter()
    outcome = "error"
    try:
        yield
        outcome = "success"
    except kopf.TemporaryError:
        outcome = "retry"
        raise
    except kopf.PermanentError:
        outcome = "invalid"
        raise
    finally:
        RECONCILES.labels(kind, outcome).inc()
        RECONCILE_SECONDS.labels(kind).observe(time.perf_counter() - started)
