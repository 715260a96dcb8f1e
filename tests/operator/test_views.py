"""Reading tenants and agents: validation, Secret references, valid agents only."""

from __future__ import annotations

import pytest

from tests.operator.factories import agent_manifest, as_stored, tenant_manifest, tenant_view
from wta_operator.naming import InvalidNameError
from wta_operator.views import (
    AgentEntry,
    InvalidSpecError,
    all_secret_refs,
    read_tenant,
    secret_refs,
    valid_agents,
)


def test_a_tenant_is_read_with_its_metadata() -> None:
    tenant = tenant_view("acme-pizza", "shops")
    assert (tenant.name, tenant.namespace, tenant.generation) == ("acme-pizza", "shops", 1)
    assert tenant.names.deployment == "acme-pizza-runtime"


def test_an_invalid_spec_names_each_field() -> None:
    body = as_stored(tenant_manifest("acme-pizza", numbers=["12345"]))
    with pytest.raises(InvalidSpecError, match=r"spec\.numbers\.0\.number"):
        read_tenant(body)


def test_a_name_unusable_for_children_is_refused() -> None:
    with pytest.raises(InvalidNameError):
        read_tenant(as_stored(tenant_manifest("9-lives")))


def test_secret_refs_are_found_wherever_the_spec_keeps_them() -> None:
    tenant = tenant_view(
        model={"apiKeySecretRef": {"name": "llm", "key": "apiKey"}},
        database={"mode": "external", "secretRef": {"name": "db", "key": "url"}},
    )
    found = {(ref.name, ref.key) for ref in secret_refs(tenant.spec)}
    assert found == {("acme-pizza-twilio", "authToken"), ("llm", "apiKey"), ("db", "url")}


def test_refs_of_tenant_and_agents_are_listed_once_in_order() -> None:
    tenant = tenant_view(model={"apiKeySecretRef": {"name": "llm", "key": "apiKey"}})
    agents = valid_agents(
        [
            AgentEntry(
                "a",
                "shops",
                agent_manifest(
                    "a", "acme-pizza", model={"apiKeySecretRef": {"name": "llm", "key": "apiKey"}}
                )["spec"],
            )
        ]
    )
    refs = [(ref.name, ref.key) for ref in all_secret_refs(tenant, agents)]
    assert refs == [("acme-pizza-twilio", "authToken"), ("llm", "apiKey")]


def test_invalid_agents_are_left_out_and_valid_ones_sorted() -> None:
    entries = [
        AgentEntry("zed", "shops", agent_manifest("zed", "acme-pizza")["spec"]),
        AgentEntry("bad", "shops", {"tenantRef": {"name": "acme-pizza"}}),
        AgentEntry("amy", "shops", agent_manifest("amy", "acme-pizza")["spec"]),
    ]
    assert [agent.name for agent in valid_agents(entries)] == ["amy", "zed"]
