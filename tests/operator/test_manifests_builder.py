"""The manifests ConfigMap is exactly a folder `wta_runtime.catalog.load_catalog` accepts."""

from __future__ import annotations

import base64
from pathlib import Path

import pytest
import yaml

from tests.operator.factories import TOKEN, agent_view, tenant_view
from wta_operator.builders.manifests import (
    build_manifests_config_map,
    config_checksum,
    manifests_data,
)
from wta_runtime.catalog import load_catalog, secret_env_name
from wta_runtime.specs import SecretKeyRef


def test_config_map_holds_the_tenant_and_one_file_per_agent() -> None:
    tenant = tenant_view()
    agents = [agent_view("zeta", tenant.name), agent_view("alpha", tenant.name)]
    config_map = build_manifests_config_map(tenant, agents)
    assert config_map["metadata"]["name"] == "acme-pizza-manifests"
    assert config_map["metadata"]["namespace"] == "shops"
    assert list(config_map["data"]) == ["tenant.yaml", "agent-alpha.yaml", "agent-zeta.yaml"]


def test_the_runtime_loads_the_config_map_as_its_manifests_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    tenant = tenant_view()
    agents = [agent_view("helper", tenant.name)]
    for key, text in manifests_data(tenant, agents).items():
        (tmp_path / key).write_text(text)
    # The Deployment gives the worker its Secrets as env vars named like this.
    ref = SecretKeyRef(name="acme-pizza-twilio", key="authToken")
    monkeypatch.setenv(secret_env_name(ref), TOKEN)
    loaded = load_catalog(tmp_path).by_name("acme-pizza")
    assert loaded.namespace == "shops"
    assert loaded.auth_token.get_secret_value() == TOKEN
    assert [a.name for a in loaded.agents] == ["helper"]
    assert loaded.spec == tenant.spec


def test_the_config_map_never_holds_secret_values() -> None:
    tenant = tenant_view()
    text = yaml.safe_dump(build_manifests_config_map(tenant, []))
    assert TOKEN not in text
    assert base64.b64encode(TOKEN.encode()).decode() not in text


def test_equal_input_gives_equal_text_and_checksum() -> None:
    first = manifests_data(tenant_view(), [agent_view("a", "acme-pizza")])
    second = manifests_data(tenant_view(), [agent_view("a", "acme-pizza")])
    assert first == second
    assert config_checksum(first, {"s": "1"}) == config_checksum(second, {"s": "1"})


def test_checksum_follows_spec_agents_and_secret_versions() -> None:
    base = manifests_data(tenant_view(), [])
    checksum = config_checksum(base, {"acme-pizza-twilio": "10"})
    changed_spec = manifests_data(tenant_view(fallbackMessage="Back soon."), [])
    with_agent = manifests_data(tenant_view(), [agent_view("a", "acme-pizza")])
    assert config_checksum(changed_spec, {"acme-pizza-twilio": "10"}) != checksum
    assert config_checksum(with_agent, {"acme-pizza-twilio": "10"}) != checksum
    assert config_checksum(base, {"acme-pizza-twilio": "11"}) != checksum
