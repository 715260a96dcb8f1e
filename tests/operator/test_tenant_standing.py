"""What other tenants and agents decide for a tenant, and where its database URL comes from."""

from __future__ import annotations

from pydantic import SecretStr

from tests.operator.factories import agent_manifest, as_stored, tenant_manifest, tenant_view
from wta_operator.claims import Claim
from wta_operator.reconcile.runtime import database_url_source
from wta_operator.reconcile.tenant import standing
from wta_operator.settings import OperatorConfig
from wta_operator.views import AgentEntry, read_tenant

EARLIER = "2025-12-31T00:00:00Z"


def test_a_tenant_alone_loses_nothing_and_keeps_its_valid_agents() -> None:
    body = as_stored(tenant_manifest("acme-pizza", numbers=["+14155550100"]))
    tenant = read_tenant(body)
    agents = {
        ("shops", "acme-pizza"): [
            AgentEntry("helper", "shops", agent_manifest("helper", "acme-pizza")["spec"])
        ]
    }
    place = standing(tenant, body, {}, agents)
    assert place.lost == {}
    assert place.name_taken == ""
    assert [a.name for a in place.agents] == ["helper"]


def test_an_older_tenant_of_the_same_name_elsewhere_takes_the_name() -> None:
    body = as_stored(tenant_manifest("acme-pizza", numbers=["+14155550100"]))
    tenant = read_tenant(body)
    claims = {("name", "acme-pizza"): [Claim(EARLIER, "elsewhere", "acme-pizza")]}
    place = standing(tenant, body, claims, {})
    assert "already used by elsewhere/acme-pizza" in place.name_taken


def test_database_url_follows_the_placement_and_the_operator_settings() -> None:
    platform = OperatorConfig(_env_file=None)
    managed = OperatorConfig(_env_file=None, admin_database_url=SecretStr("postgresql://a@h/d"))
    plain = OperatorConfig(_env_file=None, runtime_database_url="postgresql://wta@db/wta")
    tenant = tenant_view()
    external = tenant_view(database={"mode": "external", "secretRef": {"name": "db", "key": "url"}})

    assert database_url_source(tenant, platform) is None
    source = database_url_source(tenant, managed)
    assert source is not None
    assert source.secret is not None
    assert (source.secret.name, source.secret.key) == ("acme-pizza-database", "url")
    source = database_url_source(tenant, plain)
    assert source is not None
    assert source.value == "postgresql://wta@db/wta"
    source = database_url_source(external, managed)
    assert source is not None
    assert source.secret is not None
    assert (source.secret.name, source.secret.key) == ("db", "url")
