"""Child names, labels, route keys and PostgreSQL identifiers."""

from __future__ import annotations

import pytest

from wta_operator.builders.shared_runtime import SHARED_RUNTIME
from wta_operator.naming import (
    InvalidNameError,
    check_tenant_name,
    child_labels,
    pg_identifier,
    route_key,
    selector_labels,
)


def test_children_are_named_after_the_tenant() -> None:
    names = check_tenant_name("acme-pizza")
    assert names.deployment == "acme-pizza-runtime"
    assert names.service_account == "acme-pizza-runtime"
    assert names.config_map == "acme-pizza-manifests"
    assert names.metrics_service == "acme-pizza-metrics"
    assert names.database_secret == "acme-pizza-database"


@pytest.mark.parametrize("name", ["9lives", "Acme", "acme_pizza", "acme-", "a" * 54, "a.b"])
def test_names_that_cannot_name_a_service_are_refused(name: str) -> None:
    with pytest.raises(InvalidNameError, match="at most 53"):
        check_tenant_name(name)


def test_a_tenant_cannot_take_the_shared_runtimes_name() -> None:
    with pytest.raises(InvalidNameError, match="reserved: its runtime would take the name"):
        check_tenant_name("wta-shared")
    assert check_tenant_name("wta-shared-2").deployment != SHARED_RUNTIME


def test_the_longest_allowed_name_still_gives_dns_labels() -> None:
    names = check_tenant_name("a" * 53)
    assert max(len(names.metrics_service), len(names.config_map)) <= 63


def test_selector_labels_are_a_subset_of_child_labels() -> None:
    labels = child_labels("acme-pizza", "config")
    assert selector_labels("acme-pizza").items() <= labels.items()
    assert labels["app.kubernetes.io/managed-by"] == "wta-operator"
    assert labels["wta.io/tenant"] == "acme-pizza"
    assert labels["app.kubernetes.io/component"] == "config"


def test_route_key_is_namespace_dot_tenant_dot_yaml() -> None:
    assert route_key("shops", "acme-pizza") == "shops.acme-pizza.yaml"


def test_pg_identifiers_are_lowercase_and_safe() -> None:
    assert pg_identifier("shops", "acme-pizza") == "wta_shops_acme_pizza"


def test_long_pg_identifiers_are_shortened_with_a_distinct_hash() -> None:
    first = pg_identifier("n" * 60, "tenant-one")
    second = pg_identifier("n" * 60, "tenant-two")
    assert len(first) == len(second) == 63
    assert first != second
