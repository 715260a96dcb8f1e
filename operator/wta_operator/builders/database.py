"""A tenant's scope in the platform database: role, schema, credentials Secret (pure parts)."""

from __future__ import annotations

import base64
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, urlsplit, urlunsplit

from wta_operator.naming import child_labels, pg_identifier
from wta_operator.views import TenantView
from wta_runtime.catalog import DATABASE_URL_KEY

URL_KEY = DATABASE_URL_KEY
USERNAME_KEY = "username"
PASSWORD_KEY = "password"  # noqa: S105 - a key name, not a password
SCHEMA_KEY = "schema"


@dataclass(frozen=True)
class DatabaseScope:
    """The role a tenant's runtime logs in as, and the schema it owns (its search_path)."""

    role: str
    schema: str


def database_scope(namespace: str, tenant: str) -> DatabaseScope:
    """Role and schema of a tenant; namespaced, because tenant names repeat across namespaces."""
    name = pg_identifier(namespace, tenant)
    return DatabaseScope(role=name, schema=name)


def plain_postgres_url(url: str) -> str:
    """A URL asyncpg accepts: `postgresql://`, without SQLAlchemy's `+driver` suffix."""
    scheme, separator, rest = url.partition("://")
    base = scheme.split("+", 1)[0]
    return f"{'postgresql' if base == 'postgres' else base}{separator}{rest}"


def tenant_database_url(admin_url: str, scope: DatabaseScope, password: str) -> str:
    """The admin URL's host, port and database, logged in as the tenant's role."""
    parts = urlsplit(plain_postgres_url(admin_url))
    host = parts.hostname or "localhost"
    if ":" in host:
        host = f"[{host}]"
    netloc = f"{quote(scope.role, safe='')}:{quote(password, safe='')}@{host}"
    if parts.port:
        netloc += f":{parts.port}"
    return urlunsplit(("postgresql+asyncpg", netloc, parts.path or "/", "", ""))


def _b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


def build_database_secret(
    tenant: TenantView, scope: DatabaseScope, url: str, password: str
) -> dict[str, Any]:
    """The tenant's database credentials; the runtime reads `url` through `secretKeyRef`."""
    return {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {
            "name": tenant.names.database_secret,
            "namespace": tenant.namespace,
            "labels": child_labels(tenant.name, "database"),
        },
        "type": "Opaque",
        "data": {
            URL_KEY: _b64(url),
            USERNAME_KEY: _b64(scope.role),
            PASSWORD_KEY: _b64(password),
            SCHEMA_KEY: _b64(scope.schema),
        },
    }


# Identifiers and the password are quoted by the server (format %I / %L), never by us.
ROLE_EXISTS = "SELECT 1 FROM pg_roles WHERE rolname = $1"
CREATE_ROLE = "SELECT format('CREATE ROLE %I LOGIN PASSWORD %L', $1::text, $2::text)"
SET_PASSWORD = "SELECT format('ALTER ROLE %I PASSWORD %L', $1::text, $2::text)"  # noqa: S105
CREATE_SCHEMA = (
    "SELECT format('CREATE SCHEMA IF NOT EXISTS %I AUTHORIZATION %I', $1::text, $2::text)"
)
SET_SEARCH_PATH = "SELECT format('ALTER ROLE %I SET search_path = %I', $1::text, $2::text)"
DROP_SCHEMA = "SELECT format('DROP SCHEMA IF EXISTS %I CASCADE', $1::text)"
DROP_ROLE = "SELECT format('DROP ROLE IF EXISTS %I', $1::text)"
SPEND_ROWS = (
    "SELECT format('SELECT agent, day, prompt_tokens + completion_tokens, cost, messages "
    "FROM %I.spend_counters WHERE tenant = $1 AND day >= $2', $1::text)"
)
# The same, where the tenant's own URL leads (an external database: its role's search path).
OWN_SPEND_ROWS = (
    "SELECT agent, day, prompt_tokens + completion_tokens, cost, messages "
    "FROM spend_counters WHERE tenant = $1 AND day >= $2"
)
# What the agent's worker ingested from its knowledge.sources (runtime table knowledge_sources).
KNOWLEDGE_ROWS = (
    "SELECT format('SELECT source, chunks, ingested_at, error "
    "FROM %I.knowledge_sources WHERE tenant = $1 AND agent = $2 ORDER BY source', $1::text)"
)
OWN_KNOWLEDGE_ROWS = (
    "SELECT source, chunks, ingested_at, error "
    "FROM knowledge_sources WHERE tenant = $1 AND agent = $2 ORDER BY source"
)
# When the tenant's scheduler next has something to do: the earliest idle timer of a
# conversation in progress ($2 is the tenant's spec.timers.idle) or expiry of an open one.
NEXT_TIMER = (
    "SELECT format('SELECT LEAST("
    "(SELECT min(updated_at) FROM %1$I.conversations WHERE tenant = $1 AND status = ''progress'') "
    "+ $2, (SELECT min(expires_at) FROM %1$I.conversations "
    "WHERE tenant = $1 AND status = ANY($3::text[])))', $1::text)"
)
OWN_NEXT_TIMER = (
    "SELECT LEAST("
    "(SELECT min(updated_at) FROM conversations WHERE tenant = $1 AND status = 'progress') + $2, "
    "(SELECT min(expires_at) FROM conversations WHERE tenant = $1 AND status = ANY($3::text[])))"
)
