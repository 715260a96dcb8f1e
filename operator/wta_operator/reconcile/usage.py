"""Reads a tenant's spend from its database scope for `status.usage`."""

from __future__ import annotations

import logging
from datetime import date, datetime
from typing import Any

from wta_operator.adapters.database import DatabaseUnavailableError, SpendRow, own_spend_rows
from wta_operator.builders.database import database_scope
from wta_operator.builders.usage import usage_status
from wta_operator.plane import ControlPlane
from wta_operator.reconcile.secrets import check_secrets
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
    """From the tenant's scope of the platform database, or with the URL its runtime gets from
    the Secret of an external database."""
    placement = tenant.spec.database
    if placement.mode == "platform":
        if plane.database is None:
            return None
        scope = database_scope(tenant.namespace, tenant.name)
        return await plane.database.spend_rows(scope, tenant.name, since)
    if placement.secret_ref is None:
        return None
    found = await check_secrets(plane.kube, tenant.namespace, [placement.secret_ref])
    url = found.value(placement.secret_ref)
    if url is None:
        return None  # the Runtime condition says what is missing
    timeout = plane.config.connect_timeout_seconds
    return await own_spend_rows(url, tenant.name, since, timeout=timeout)
