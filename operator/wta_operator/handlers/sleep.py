"""The sleep daemon: one per tenant, scaling idle runtimes to zero and waking them."""

from __future__ import annotations

from typing import Any

import kopf

from wta_operator.handlers.indexes import agents_index, claims_index
from wta_operator.handlers.tenants import TENANTS
from wta_operator.plane import control_plane
from wta_operator.reconcile.sleep import Place, SleepKeeper
from wta_operator.reconcile.tenant import standing
from wta_operator.views import InvalidSpecError, read_tenant


@kopf.daemon(*TENANTS, id="sleep", cancellation_timeout=5.0)
async def keep_sleep(
    *, body: kopf.Body, stopped: kopf.DaemonStopped, memo: kopf.Memo, **kwargs: Any
) -> None:
    """Until the tenant is deleted: sleep when idle for spec.runtime.idleAfter, wake for a
    message or a conversation timer (the body is kopf's live view: spec edits are seen)."""
    plane = control_plane(memo)
    keeper = SleepKeeper(plane, body)
    while not stopped:
        delay = plane.config.sleep_check_seconds
        if not body.get("metadata", {}).get("deletionTimestamp"):
            try:
                tenant = read_tenant(body)
            except InvalidSpecError:
                tenant = None
            if tenant is not None:
                place = standing(tenant, body, claims_index(kwargs), agents_index(kwargs))
                delay = await keeper.step(tenant, Place(place.agents, place.name_taken))
        await stopped.wait(delay)
