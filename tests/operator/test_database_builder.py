"""A tenant's database scope: names, its URL and its credentials Secret."""

from __future__ import annotations

import base64

from tests.operator.factories import tenant_view
from wta_operator.builders.database import (
    build_database_secret,
    database_scope,
    plain_postgres_url,
    tenant_database_url,
)


def test_scope_is_per_namespace_and_tenant() -> None:
    assert database_scope("shops", "acme-pizza").schema == "wta_shops_acme_pizza"
    assert database_scope("shops", "acme-pizza").role == "wta_shops_acme_pizza"
    assert database_scope("other", "acme-pizza") != database_scope("shops", "acme-pizza")


def test_plain_url_for_asyncpg() -> None:
    assert plain_postgres_url("postgresql+asyncpg://u@h/db") == "postgresql://u@h/db"
    assert plain_postgres_url("postgres://u@h/db") == "postgresql://u@h/db"
    assert plain_postgres_url("postgresql://u@h/db") == "postgresql://u@h/db"


def test_tenant_url_keeps_host_port_database_and_quotes_credentials() -> None:
    scope = database_scope("shops", "acme-pizza")
    url = tenant_database_url("postgresql://admin:pw@db.internal:5433/wta", scope, "p@ss/word")
    assert url == "postgresql+asyncpg://wta_shops_acme_pizza:p%40ss%2Fword@db.internal:5433/wta"


def test_credentials_secret_holds_url_user_password_schema() -> None:
    tenant = tenant_view()
    scope = database_scope(tenant.namespace, tenant.name)
    secret = build_database_secret(tenant, scope, "postgresql+asyncpg://x", "pw")
    assert secret["metadata"]["name"] == "acme-pizza-database"
    decoded = {k: base64.b64decode(v).decode() for k, v in secret["data"].items()}
    assert decoded == {
        "url": "postgresql+asyncpg://x",
        "username": scope.role,
        "password": "pw",
        "schema": scope.schema,
    }
