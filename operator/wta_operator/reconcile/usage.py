"""Reads a tenant's spend from its database scope for `status.usage`."""

from __future__ import annotations

import logging
from datetime import date, datetime
from typing import Any

from wta_operator.adapters.database import DatabaseUnavailableError, SpendRow, own_spend_rows
from wta_operator.builders.usage import usage_status
from wta_operator.plane import ControlPlane
from wta_operator.reconcile.tenant_database import read_tenant_database
from wta_operator.views import TenantView
from wta_runtime.agents.spend_limits import Periods, time_zone

log = logging.getLogger("wta.operator")


async def read_usage(
    plane: ControlPlane, tenant: TenantView, now: datetime
) -> dict[str, Any] | None:
    """`status.usage`, or None when the operator cannot read it (no database it may reach, or
    one that is unreachable: the reconcile goes on without it)."""
    since = Periods.at(now, time_zone(tenant.spec)).month_start
    try:
        rows = await _spend_rows(plane, tenant, since)
    except DatabaseUnavailableError as exc:
        log.warning("[%s/%s] usage not read: %s", tenant.namespace, tenant.name, exc)
        return None
    return None if rows is None else usage_status(tenant.spec, rows, now)


async def _spend_rows(
    plane: ControlPlane, tenant: TenantView, since: date
) -> list[SpendRow] | None:
    return await read_tenant_database(
        plane,
        tenant,
        lambda admin, scope: admin.spend_rows(scope, tenant.name, since),
        lambda url, timeout: own_spend_rows(url, tenant.name, since, timeout=timeout),
    )
