"""Reads a tenant's spend from its database scope for `status.usage`."""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

from wta_operator.adapters.database import DatabaseUnavailableError
from wta_operator.builders.database import database_scope
from wta_operator.builders.usage import usage_status
from wta_operator.plane import ControlPlane
from wta_operator.views import TenantView
from wta_runtime.agents.spend_limits import Periods, time_zone

log = logging.getLogger("wta.operator")


async def read_usage(
    plane: ControlPlane, tenant: TenantView, now: datetime
) -> dict[str, Any] | None:
    """`status.usage`, or None when the operator cannot read it (external or unreachable
    database: the reconcile goes on without it)."""
    if plane.database is None or tenant.spec.database.mode != "platform":
        return None
    since = Periods.at(now, time_zone(tenant.spec)).month_start
    scope = database_scope(tenant.namespace, tenant.name)
    try:
        rows = await plane.database.spend_rows(scope, tenant.name, since)
    except DatabaseUnavailableError as exc:
        log.warning("[%s/%s] usage not read: %s", tenant.namespace, tenant.name, exc)
        return None
    return usage_status(tenant.spec, rows, now)
