"""WhatsAppTenant handlers: reconcile on change and on a timer (drift repair); clean up."""

from __future__ import annotations

from typing import Any

import kopf

from wta_operator.builders.sleep import SLEEPING
from wta_operator.builders.usage import usage_event
from wta_operator.conditions import (
    Condition,
    backoff_delay,
    false,
    merge_conditions,
    now_utc,
    transitions,
)
from wta_operator.handlers.indexes import agents_index, claims_index
from wta_operator.metrics import measured
from wta_operator.naming import InvalidNameError
from wta_operator.plane import control_plane
from wta_operator.reconcile.tenant import (
    AgentsIndex,
    ClaimsIndex,
    clean_up_tenant,
    leave_shared_runtime,
    reconcile_tenant,
    status_patch,
)
from wta_operator.reconcile.usage import read_usage
from wta_operator.settings import OperatorConfig
from wta_operator.views import InvalidSpecError, read_tenant
from wta_runtime.specs.common import API_GROUP, API_VERSION

TENANTS = (API_GROUP, API_VERSION, "whatsapptenants")


def _post_events(body: kopf.Body, status: kopf.Status, conditions: list[Condition]) -> None:
    """One Event per condition that changed status or reason since the object last showed it
    (Sleeping excepted: the sleep daemon says why it sleeps or wakes when it does)."""
    shown = [c for c in conditions if c.type != SLEEPING]
    for transition in transitions(status.get("conditions") or [], shown):
        condition = transition.condition
        message = f"{condition.type}: {condition.message}"
        if transition.warning:
            kopf.warn(body, reason=condition.reason, message=message)
        else:
            kopf.info(body, reason=condition.reason, message=message)


async def _patch_usage(
    body: kopf.Body, status: kopf.Status, patch: kopf.Patch, memo: kopf.Memo
) -> None:
    """`status.usage` when it changed, and an Event when a spending limit is newly reached."""
    usage = await read_usage(control_plane(memo), read_tenant(body), now_utc())
    previous = status.get("usage")
    if usage is None or usage == previous:
        return
    patch.status["usage"] = usage
    event = usage_event(previous, usage)
    if event is not None:
        kopf.warn(body, reason=event[0], message=event[1])


async def _reconcile(
    body: kopf.Body,
    status: kopf.Status,
    patch: kopf.Patch,
    retry: int,
    memo: kopf.Memo,
    claims: ClaimsIndex,
    agents: AgentsIndex,
) -> None:
    generation = body.metadata.get("generation")
    with measured("WhatsAppTenant"):
        try:
            outcome = await reconcile_tenant(control_plane(memo), body, claims, agents)
        except (InvalidSpecError, InvalidNameError) as exc:
            invalid = [false("Ready", "InvalidSpec", str(exc))]
            _post_events(body, status, invalid)
            patch.status["conditions"] = merge_conditions(
                status.get("conditions") or [], invalid, generation=generation, now=now_utc()
            )
            raise kopf.PermanentError(str(exc)) from None
        _post_events(body, status, outcome.conditions)
        for key, value in status_patch(status, outcome, generation, now_utc()).items():
            patch.status[key] = value
        await _patch_usage(body, status, patch, memo)
        if outcome.retry:
            raise kopf.TemporaryError(outcome.summary(), delay=backoff_delay(retry))


@kopf.on.resume(*TENANTS, id="reconcile")
@kopf.on.create(*TENANTS, id="reconcile")
@kopf.on.update(*TENANTS, id="reconcile")
async def reconcile_on_change(
    *,
    body: kopf.Body,
    status: kopf.Status,
    patch: kopf.Patch,
    retry: int,
    memo: kopf.Memo,
    **kwargs: Any,
) -> None:
    """Apply the tenant's desired state as soon as it is created, changed or found at start."""
    await _reconcile(body, status, patch, retry, memo, claims_index(kwargs), agents_index(kwargs))


async def reconcile_on_timer(
    *,
    body: kopf.Body,
    status: kopf.Status,
    patch: kopf.Patch,
    memo: kopf.Memo,
    **kwargs: Any,
) -> None:
    """Re-apply everything: repairs drift, resolves conflicts that went away, follows agents."""
    retry = int(kwargs.get("retry", 0))  # kopf passes it to timers too; their protocol omits it
    await _reconcile(body, status, patch, retry, memo, claims_index(kwargs), agents_index(kwargs))


def register_resync(config: OperatorConfig) -> None:
    """The drift-repair timer, registered at start: its interval comes from the settings."""
    kopf.timer(
        *TENANTS, interval=config.resync_seconds, initial_delay=config.resync_seconds, id="resync"
    )(reconcile_on_timer)


@kopf.on.delete(*TENANTS, id="clean-up")
async def clean_up_on_delete(
    *,
    body: kopf.Body,
    memo: kopf.Memo,
    logger: kopf.Logger,
    **kwargs: Any,
) -> None:
    """Remove the route at once, the stream and database scope if deletionPolicy is Delete."""
    plane = control_plane(memo)
    done = await clean_up_tenant(plane, body, claims_index(kwargs))
    left = await leave_shared_runtime(plane, body, agents_index(kwargs))
    done += [left] if left else []
    for what in done:
        logger.info("%s", what)
    if done:
        kopf.info(body, reason="CleanedUp", message="; ".join(done))
