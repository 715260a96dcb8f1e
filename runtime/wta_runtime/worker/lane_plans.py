"""Which tenants each lane of a worker process serves, with which database and NATS user.

A dedicated runtime has one lane for all its tenants (WTA_DATABASE_URL, WTA_NATS_URL); a shared
runtime one per tenant, with the URLs of the tenant's own Secrets (`wta_runtime.worker.lanes`).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from wta_runtime.catalog import TenantCatalog, load_catalog
from wta_runtime.manifests import ManifestError
from wta_runtime.settings import Settings

log = logging.getLogger("wta.worker")


@dataclass(frozen=True)
class LanePlan:
    """Which tenants a lane serves, and with which database, NATS user and capacity."""

    tenants: list[str]
    database_url: str
    nats_url: str
    pool_size: int
    concurrency: int

    @property
    def label(self) -> str:
        return ",".join(self.tenants) or "none"


def plan_lanes(settings: Settings, catalog: TenantCatalog, tenants: list[str]) -> list[LanePlan]:
    """One lane for a dedicated runtime; one per tenant (known to the catalog) for a shared one.

    A shared tenant uses its own database URL and NATS URL when its Secrets give them, else the
    process's (a platform without per-tenant roles or NATS users).
    """
    if settings.runtime_mode == "dedicated":
        return [
            LanePlan(
                tenants,
                settings.database_url,
                settings.nats_url,
                settings.database_pool_size,
                settings.worker_concurrency,
            )
        ]
    plans = []
    for name in tenants:
        tenant = catalog.tenants.get(name)
        if tenant is None:
            log.error("shared runtime: tenant %s has no manifests here; not served", name)
            continue
        database = tenant.database_url.get_secret_value() if tenant.database_url else None
        nats = tenant.nats_url.get_secret_value() if tenant.nats_url else None
        plans.append(
            LanePlan(
                [name],
                database or settings.database_url,
                nats or settings.nats_url,
                settings.shared_pool_size,
                settings.shared_concurrency,
            )
        )
    return plans


def replan(settings: Settings, plan: LanePlan) -> LanePlan:
    """The plan again with the tenant's Secrets as they are now (a shared lane being retried: the
    operator may have fixed them); the old plan when its tenant's manifests cannot be read."""
    if settings.runtime_mode == "dedicated":
        return plan
    try:
        catalog = load_catalog(settings.manifests_dir, settings.secrets_dir)
    except (ManifestError, OSError, ValueError) as exc:
        log.error("shared runtime: manifests of %s not read again: %s", plan.label, exc)
        return plan
    fresh = plan_lanes(settings, catalog, plan.tenants)
    return fresh[0] if fresh else plan


def served_lanes(settings: Settings) -> tuple[TenantCatalog, list[LanePlan]]:
    """The catalog of the manifests and the lanes of the tenants this process serves."""
    catalog = load_catalog(settings.manifests_dir, settings.secrets_dir)
    return catalog, plan_lanes(settings, catalog, settings.tenants or sorted(catalog.tenants))


def database_urls(settings: Settings) -> list[str]:
    """Every database this process's tenants keep their conversations in, each once."""
    if settings.runtime_mode == "dedicated":
        return [settings.database_url]
    return sorted({plan.database_url for plan in served_lanes(settings)[1]})
