"""Conditions: Ready from parts, transition times, transitions worth an event, backoff."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from wta_operator.conditions import (
    backoff_delay,
    false,
    merge_conditions,
    ready_from_parts,
    same_conditions,
    transitions,
    true,
)

T0 = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)
PARTS = [
    true("Runtime", "Applied", "ok"),
    true("Stream", "Ready", "ok"),
    true("Routing", "Routed", "ok"),
    true("Database", "NotManaged", "ok"),
]


def test_ready_is_true_when_every_part_is() -> None:
    ready = ready_from_parts(PARTS)
    assert (ready.type, ready.status, ready.reason) == ("Ready", "True", "Ready")


def test_ready_carries_the_first_failing_reason_and_every_failing_message() -> None:
    parts = [
        *PARTS[:2],
        false("Routing", "NumberConflict", "taken by a/b"),
        false("Database", "DatabaseUnavailable", "down", retry=True),
    ]
    ready = ready_from_parts(parts)
    assert (ready.status, ready.reason) == ("False", "NumberConflict")
    assert ready.message == "Routing: taken by a/b; Database: down"
    assert ready.retry


def test_merge_sets_times_observed_generation_and_no_internal_fields() -> None:
    merged = merge_conditions([], [true("Ready", "Ready", "fine")], generation=3, now=T0)
    assert merged == [
        {
            "type": "Ready",
            "status": "True",
            "reason": "Ready",
            "message": "fine",
            "lastTransitionTime": "2026-01-01T12:00:00Z",
            "observedGeneration": 3,
        }
    ]


def test_transition_time_only_moves_when_the_status_changes() -> None:
    first = merge_conditions([], [true("Ready", "Ready", "a")], generation=1, now=T0)
    later = T0 + timedelta(minutes=5)
    same_status = merge_conditions(first, [true("Ready", "Other", "b")], generation=2, now=later)
    assert same_status[0]["lastTransitionTime"] == "2026-01-01T12:00:00Z"
    flipped = merge_conditions(first, [false("Ready", "Down", "c")], generation=2, now=later)
    assert flipped[0]["lastTransitionTime"] == "2026-01-01T12:05:00Z"


def test_unchanged_conditions_need_no_write() -> None:
    first = merge_conditions([], PARTS, generation=1, now=T0)
    again = merge_conditions(first, PARTS, generation=1, now=T0 + timedelta(hours=1))
    assert same_conditions(first, again)


def test_transitions_report_new_and_changed_conditions_only() -> None:
    previous = merge_conditions([], PARTS, generation=1, now=T0)
    now = [PARTS[0], false("Stream", "NatsUnavailable", "down"), *PARTS[2:]]
    found = transitions(previous, now)
    assert [(t.condition.type, t.warning) for t in found] == [("Stream", True)]
    assert [t.condition.type for t in transitions([], PARTS)] == [p.type for p in PARTS]


def test_backoff_doubles_up_to_a_cap() -> None:
    assert [backoff_delay(r) for r in range(4)] == [2.0, 4.0, 8.0, 16.0]
    assert backoff_delay(50) == 120.0
