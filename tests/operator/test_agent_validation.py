"""An AIAgent against its tenant: Attached, InvalidSpec or TenantNotFound."""

from __future__ import annotations

from datetime import UTC, datetime

from tests.operator.factories import agent_manifest
from wta_operator.claims import Claim
from wta_operator.reconcile.agent import (
    agent_condition,
    agent_status_patch,
    deprecated_fields,
    tenant_exists,
    tenant_name_of,
)

NOW = datetime(2026, 1, 1, tzinfo=UTC)
CLAIMS = {("name", "acme-pizza"): [Claim("2026-01-01T00:00:00Z", "shops", "acme-pizza")]}


def test_tenant_must_live_in_the_agents_namespace() -> None:
    assert tenant_exists(CLAIMS, "shops", "acme-pizza")
    assert not tenant_exists(CLAIMS, "elsewhere", "acme-pizza")
    assert not tenant_exists(CLAIMS, "shops", "other")


def test_tenant_name_is_read_from_the_raw_spec() -> None:
    assert tenant_name_of({"tenantRef": {"name": "acme-pizza"}}) == "acme-pizza"
    assert tenant_name_of({}) is None


def test_a_valid_agent_of_an_existing_tenant_is_attached() -> None:
    spec = agent_manifest("helper", "acme-pizza")["spec"]
    condition = agent_condition("shops", "helper", spec, has_tenant=True)
    assert (condition.status, condition.reason) == ("True", "Attached")


def test_an_agent_without_its_tenant_says_which_one_is_missing() -> None:
    spec = agent_manifest("helper", "ghost")["spec"]
    condition = agent_condition("shops", "helper", spec, has_tenant=False)
    assert (condition.status, condition.reason) == ("False", "TenantNotFound")
    assert "shops/ghost" in condition.message


def test_an_invalid_agent_says_what_is_wrong() -> None:
    condition = agent_condition("shops", "helper", {"tenantRef": {"name": "x"}}, has_tenant=True)
    assert (condition.status, condition.reason) == ("False", "InvalidSpec")
    assert "spec.instructions" in condition.message


def test_a_knowledge_url_on_a_host_not_allowed_makes_the_agent_invalid() -> None:
    knowledge = {"sources": [{"url": "https://docs.example.com/faq.md"}]}
    spec = agent_manifest("helper", "acme-pizza", knowledge=knowledge)["spec"]

    condition = agent_condition("shops", "helper", spec, has_tenant=True)

    assert (condition.status, condition.reason) == ("False", "InvalidSpec")
    assert "knowledge.allowedHosts, and docs.example.com is not" in condition.message


def test_status_is_written_only_when_it_changes() -> None:
    spec = agent_manifest("helper", "acme-pizza")["spec"]
    condition = agent_condition("shops", "helper", spec, has_tenant=True)
    first = agent_status_patch({}, [condition], 1, NOW)
    assert first["observedGeneration"] == 1
    assert first["conditions"][0]["reason"] == "Attached"
    assert agent_status_patch(first, [condition], 1, NOW) == {}


def test_agent_business_hours_are_reported_deprecated_with_where_they_moved() -> None:
    hours = {"timeZone": "UTC", "windows": [{"days": ["mon"], "start": "09:00", "end": "18:00"}]}
    spec = agent_manifest("helper", "acme-pizza", handoff={"businessHours": hours})["spec"]

    [deprecated] = deprecated_fields(spec)
    ready = agent_condition("shops", "helper", spec, has_tenant=True)
    status = agent_status_patch({}, [ready, deprecated], 1, NOW)

    assert (ready.status, ready.reason) == ("True", "Attached")  # still works
    assert [c["type"] for c in status["conditions"]] == ["Ready", "Deprecated"]
    assert deprecated.message.startswith(
        "spec.handoff.businessHours is deprecated: move it to WhatsAppTenant.spec.businessHours"
    )
    assert deprecated_fields(agent_manifest("helper", "acme-pizza")["spec"]) == []
