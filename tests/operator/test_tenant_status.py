"""The tenant's status patch: only what changed, so a steady tenant causes no writes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from wta_operator.conditions import false, ready_from_parts, transitions, true
from wta_operator.reconcile.tenant import TenantOutcome, status_patch

NOW = datetime(2026, 1, 1, tzinfo=UTC)


def outcome(*parts_changed: bool) -> TenantOutcome:
    parts = [
        true("Runtime", "Applied", "ok"),
        true("Stream", "Ready", "ok"),
        true("Routing", "Routed", "ok")
        if not parts_changed
        else false("Routing", "SecretNotFound", "Secret shops/x not found", retry=True),
        true("Database", "NotManaged", "ok"),
    ]
    return TenantOutcome([ready_from_parts(parts), *parts], "WTA_INBOUND_X", 2)


def test_first_status_has_every_field() -> None:
    patch = status_patch({}, outcome(), 4, NOW)
    assert patch["observedGeneration"] == 4
    assert patch["stream"] == "WTA_INBOUND_X"
    assert patch["agents"] == 2
    assert [c["type"] for c in patch["conditions"]] == [
        "Ready",
        "Runtime",
        "Stream",
        "Routing",
        "Database",
    ]


def test_a_steady_tenant_needs_no_status_write() -> None:
    status = status_patch({}, outcome(), 4, NOW)
    assert status_patch(status, outcome(), 4, NOW + timedelta(minutes=1)) == {}


def test_a_failing_part_changes_conditions_and_asks_to_retry() -> None:
    status = status_patch({}, outcome(), 4, NOW)
    failing = outcome(True)
    patch = status_patch(status, failing, 4, NOW)
    assert list(patch) == ["conditions"]
    assert failing.retry
    assert "Routing: Secret shops/x not found" in failing.summary()
    changed = transitions(status["conditions"], failing.conditions)
    assert [t.condition.type for t in changed] == ["Ready", "Routing"]
