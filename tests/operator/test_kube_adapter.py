"""The drift check behind apply: does the live object still hold what we want?"""

from __future__ import annotations

from wta_operator.adapters.kube import matches

DESIRED = {"spec": {"replicas": 1, "ports": [{"name": "metrics", "port": 9101}]}}


def test_server_defaults_and_status_do_not_count_as_drift() -> None:
    live = {
        "metadata": {"resourceVersion": "7"},
        "spec": {"replicas": 1, "ports": [{"name": "metrics", "port": 9101, "protocol": "TCP"}]},
        "status": {},
    }
    assert matches(DESIRED, live)


def test_a_changed_value_is_drift() -> None:
    assert not matches(
        DESIRED, {"spec": {"replicas": 3, "ports": [{"name": "metrics", "port": 9101}]}}
    )


def test_an_extra_list_item_is_drift() -> None:
    ports = [{"name": "metrics", "port": 9101}, {"name": "debug", "port": 5000}]
    assert not matches(DESIRED, {"spec": {"replicas": 1, "ports": ports}})


def test_a_missing_object_is_drift() -> None:
    assert not matches(DESIRED, {})
