"""Manifests on disk become tenants; bad ones are refused with the file and the field to fix."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import EXAMPLES
from wta_runtime.catalog import UnknownTenantError, load_catalog, secret_env_name
from wta_runtime.manifests import ManifestError
from wta_runtime.specs import SecretKeyRef


def _copy_examples(folder: Path) -> None:
    for path in EXAMPLES.glob("*.yaml"):
        (folder / path.name).write_text(path.read_text())


def test_examples_load_with_their_agent_and_secret() -> None:
    catalog = load_catalog(EXAMPLES)
    tenant = catalog.by_name("acme-pizza")

    assert tenant.numbers == ("+14155550100",)
    assert tenant.auth_token.get_secret_value() == "local-dev-auth-token-0000000000"
    assert tenant.default_agent() is not None
    assert catalog.by_number(tenant.account_sid, "whatsapp:+14155550100") is tenant


def test_a_number_of_another_account_is_not_routed() -> None:
    catalog = load_catalog(EXAMPLES)

    with pytest.raises(UnknownTenantError):
        catalog.by_number("AC" + "f" * 32, "whatsapp:+14155550100")


def test_secret_from_environment_wins(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    ref = SecretKeyRef(name="acme-pizza-twilio", key="authToken")
    monkeypatch.setenv(secret_env_name(ref), "from-deployment-env")

    tenant = load_catalog(EXAMPLES).by_name("acme-pizza")

    assert secret_env_name(ref) == "WTA_SECRET_ACME_PIZZA_TWILIO_AUTHTOKEN"
    assert tenant.auth_token.get_secret_value() == "from-deployment-env"


def test_mounted_secret_folder_wins_over_manifest(tmp_path: Path) -> None:
    (tmp_path / "acme-pizza-twilio").mkdir()
    (tmp_path / "acme-pizza-twilio" / "authToken").write_text("mounted-token\n")

    tenant = load_catalog(EXAMPLES, secrets_dir=tmp_path).by_name("acme-pizza")

    assert tenant.auth_token.get_secret_value() == "mounted-token"


def test_missing_secret_names_the_secret_and_key(tmp_path: Path) -> None:
    _copy_examples(tmp_path)
    tenant_file = tmp_path / "acme-pizza-tenant.yaml"
    tenant_file.write_text(
        tenant_file.read_text().replace(
            "name: acme-pizza-twilio\n      key", "name: gone\n      key"
        )
    )

    with pytest.raises(ManifestError, match=r"Secret default/gone with key 'authToken' not found"):
        load_catalog(tmp_path)


def test_invalid_spec_names_the_file_and_field(tmp_path: Path) -> None:
    _copy_examples(tmp_path)
    tenant_file = tmp_path / "acme-pizza-tenant.yaml"
    tenant_file.write_text(tenant_file.read_text().replace('"+14155550100"', '"0800-PIZZA"'))

    with pytest.raises(ManifestError) as raised:
        load_catalog(tmp_path)

    assert "acme-pizza-tenant.yaml" in str(raised.value)
    assert "spec.numbers.0.number" in str(raised.value)


def test_broken_yaml_is_reported(tmp_path: Path) -> None:
    (tmp_path / "bad.yaml").write_text("kind: [unclosed")

    with pytest.raises(ManifestError, match="invalid YAML"):
        load_catalog(tmp_path)
