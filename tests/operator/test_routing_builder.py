"""The gateway's routing entry is what `load_catalog` reads from the mounted routes Secret."""

from __future__ import annotations

from pathlib import Path

import yaml

from tests.operator.factories import TOKEN, tenant_view
from wta_operator.builders.routing import build_route_document, build_routes_secret
from wta_operator.naming import route_key
from wta_runtime.catalog import load_catalog


def write_routes(folder: Path, *documents: tuple[str, str]) -> None:
    for key, text in documents:
        (folder / key).write_text(text)


def test_the_gateway_resolves_the_tenant_by_number_with_its_token(tmp_path: Path) -> None:
    tenant = tenant_view(numbers=["+14155550123"])
    write_routes(
        tmp_path, (route_key("shops", tenant.name), build_route_document(tenant, TOKEN, None))
    )
    catalog = load_catalog(tmp_path)
    found = catalog.by_number(tenant.spec.twilio.account_sid, "whatsapp:+14155550123")
    assert found.name == "acme-pizza"
    assert found.namespace == "shops"
    assert found.auth_token.get_secret_value() == TOKEN


def test_the_route_carries_only_the_auth_token_secret(tmp_path: Path) -> None:
    tenant = tenant_view(model={"apiKeySecretRef": {"name": "llm", "key": "apiKey"}})
    document = build_route_document(tenant, TOKEN, None)
    kinds = [doc["kind"] for doc in yaml.safe_load_all(document)]
    assert kinds == ["Secret", "WhatsAppTenant"]
    assert "apiKeySecretRef" not in document
    write_routes(tmp_path, ("shops.acme-pizza.yaml", document))
    assert load_catalog(tmp_path).by_name("acme-pizza").model_api_key is None


DATABASE_URL = "postgresql+asyncpg://wta_shops_acme_pizza:pw@db:5432/wta"


def test_the_route_carries_the_database_url_the_runtime_uses(tmp_path: Path) -> None:
    document = build_route_document(tenant_view(), TOKEN, DATABASE_URL)
    write_routes(tmp_path, ("shops.acme-pizza.yaml", document))

    tenant = load_catalog(tmp_path).by_name("acme-pizza")

    assert tenant.database_url is not None
    assert tenant.database_url.get_secret_value() == DATABASE_URL
    assert DATABASE_URL not in repr(tenant)


def test_an_external_tenants_url_is_read_under_its_own_secret_key(tmp_path: Path) -> None:
    placement = {"mode": "external", "secretRef": {"name": "acme-pizza-twilio", "key": "dbUrl"}}
    document = build_route_document(tenant_view(database=placement), TOKEN, DATABASE_URL)
    write_routes(tmp_path, ("shops.acme-pizza.yaml", document))

    tenant = load_catalog(tmp_path).by_name("acme-pizza")

    assert tenant.database_url is not None
    assert tenant.database_url.get_secret_value() == DATABASE_URL
    assert tenant.auth_token.get_secret_value() == TOKEN


def test_without_a_url_the_tenant_uses_the_gateways_own_database(tmp_path: Path) -> None:
    write_routes(
        tmp_path, ("shops.acme-pizza.yaml", build_route_document(tenant_view(), TOKEN, None))
    )
    assert load_catalog(tmp_path).by_name("acme-pizza").database_url is None


def test_the_route_leaves_the_tenants_media_bucket_to_the_workers(tmp_path: Path) -> None:
    keys = {
        "accessKeyIdSecretRef": {"name": "acme-s3", "key": "id"},
        "secretAccessKeySecretRef": {"name": "acme-s3", "key": "secret"},
    }
    tenant = tenant_view(media={"s3": {"bucket": "acme-media", **keys}})

    document = build_route_document(tenant, TOKEN, None)

    assert "acme-s3" not in document
    write_routes(tmp_path, ("shops.acme-pizza.yaml", document))
    assert load_catalog(tmp_path).by_name("acme-pizza").media_access_key is None


def test_two_tenants_route_side_by_side(tmp_path: Path) -> None:
    one = tenant_view("one", numbers=["+14155550001"])
    two = tenant_view("two", numbers=["+14155550002"])
    write_routes(
        tmp_path,
        ("shops.one.yaml", build_route_document(one, "token-one", None)),
        ("shops.two.yaml", build_route_document(two, "token-two", None)),
    )
    catalog = load_catalog(tmp_path)
    assert catalog.by_name("two").auth_token.get_secret_value() == "token-two"
    assert catalog.by_number(one.spec.twilio.account_sid, "+14155550001").name == "one"


def test_routes_secret_starts_empty_and_labelled() -> None:
    secret = build_routes_secret("wta-system", "wta-gateway-routes")
    assert secret["metadata"]["namespace"] == "wta-system"
    assert secret["data"] == {}
    assert secret["metadata"]["labels"]["app.kubernetes.io/managed-by"] == "wta-operator"
