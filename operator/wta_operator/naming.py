"""Names and labels of everything the operator creates for a tenant."""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass

from wta_runtime.catalog import NATS_SECRET_SUFFIX, PLATFORM_DATABASE_SUFFIX

MANAGED_BY = "wta-operator"
FIELD_MANAGER = "wta-operator"
TENANT_LABEL = "wta.io/tenant"
FINALIZER = "wta.io/operator"
CHECKSUM_ANNOTATION = "checksum/config"
# Container port names are unique in a pod (the API server warns about a repeated one), and at
# most 15 characters: the worker's keeps the name the metrics Service targets.
WORKER_METRICS_PORT = "metrics"

# The longest suffix we add is "-manifests"; the metrics Service name must stay a DNS-1035
# label (63 characters, starting with a letter), so tenant names are held to this pattern.
TENANT_NAME = re.compile(r"^[a-z]([-a-z0-9]{0,51}[a-z0-9])?$")
MAX_TENANT_NAME = 53
PG_IDENTIFIER_MAX = 63


class InvalidNameError(ValueError):
    """A tenant name the operator cannot turn into valid child names."""


@dataclass(frozen=True)
class ChildNames:
    """Names of a tenant's objects in its namespace."""

    tenant: str

    @property
    def service_account(self) -> str:
        return f"{self.tenant}-runtime"

    @property
    def config_map(self) -> str:
        return f"{self.tenant}-manifests"

    @property
    def deployment(self) -> str:
        return f"{self.tenant}-runtime"

    @property
    def metrics_service(self) -> str:
        return f"{self.tenant}-metrics"

    @property
    def disruption_budget(self) -> str:
        return f"{self.tenant}-runtime"

    @property
    def network_policy(self) -> str:
        return f"{self.tenant}-runtime"

    @property
    def database_secret(self) -> str:
        # The name the gateway's catalog looks the tenant's database URL up by.
        return f"{self.tenant}-{PLATFORM_DATABASE_SUFFIX}"

    @property
    def nats_secret(self) -> str:
        return f"{self.tenant}-{NATS_SECRET_SUFFIX}"


# A tenant of this name would own `wta-shared-runtime`, the namespace's shared runtime's name.
RESERVED_TENANT_NAMES = frozenset({"wta-shared"})


def check_tenant_name(name: str) -> ChildNames:
    """The child names of a tenant, or InvalidNameError saying why the name cannot be used."""
    if name in RESERVED_TENANT_NAMES:
        raise InvalidNameError(
            f"tenant name {name!r} is reserved: its runtime would take the name of the "
            "namespace's shared runtime; choose another name"
        )
    if not TENANT_NAME.match(name):
        raise InvalidNameError(
            f"tenant name {name!r} must be at most {MAX_TENANT_NAME} lowercase letters, digits "
            "or '-', start with a letter and end with a letter or digit"
        )
    return ChildNames(name)


def selector_labels(tenant: str) -> dict[str, str]:
    """Labels that select a tenant's runtime pods (immutable once a Deployment exists)."""
    return {"app.kubernetes.io/name": "wta-runtime", "app.kubernetes.io/instance": tenant}


def child_labels(tenant: str, component: str = "runtime") -> dict[str, str]:
    """Labels on every object the operator creates for a tenant."""
    return {
        **selector_labels(tenant),
        "app.kubernetes.io/component": component,
        "app.kubernetes.io/part-of": "wta",
        "app.kubernetes.io/managed-by": MANAGED_BY,
        TENANT_LABEL: tenant,
    }


def route_key(namespace: str, tenant: str) -> str:
    """The tenant's key in the gateway routes Secret (a file name when mounted)."""
    return f"{namespace}.{tenant}.yaml"


def pg_identifier(*parts: str) -> str:
    """A lowercase PostgreSQL identifier from name parts, shortened with a hash when too long."""
    raw = "_".join(("wta", *parts)).lower()
    clean = re.sub(r"[^a-z0-9_]", "_", raw)
    if len(clean) <= PG_IDENTIFIER_MAX:
        return clean
    digest = hashlib.sha256(raw.encode()).hexdigest()[:8]
    return f"{clean[: PG_IDENTIFIER_MAX - 9]}_{digest}"
