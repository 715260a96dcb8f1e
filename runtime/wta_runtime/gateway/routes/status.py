"""`POST /api/v1/twilio/status[/{tenant}]`: Twilio's delivery callbacks, checked and queued."""

from __future__ import annotations

import logging
from datetime import UTC, datetime

from fastapi import APIRouter, Request, Response
from fastapi.responses import PlainTextResponse

from wta_runtime import metrics
from wta_runtime.gateway.publisher import PublishError
from wta_runtime.gateway.state import GatewayDep, GatewayState
from wta_runtime.gateway.twilio_request import (
    TwilioRequestRejected,
    check_signature,
    resolve_tenant,
)
from wta_runtime.gateway.webhook_form import WebhookFormError, read_form
from wta_runtime.stream.status import StatusUpdate

log = logging.getLogger("wta.gateway")
router = APIRouter(prefix="/api/v1/twilio", tags=["twilio"])


async def _accept(request: Request, state: GatewayState, tenant_name: str | None) -> Response:
    try:
        try:
            params = await read_form(request, max_bytes=state.settings.max_webhook_bytes)
        except WebhookFormError as exc:
            raise TwilioRequestRejected(exc.status, exc.reason) from None
        # A status callback is about a message we sent: the business number is `From`.
        tenant = resolve_tenant(state, params, tenant_name, number_param="From")
        check_signature(state, request, tenant, params)
        if not params.get("MessageSid") or not params.get("MessageStatus"):
            raise TwilioRequestRejected(400, "missing MessageSid or MessageStatus", tenant.name)
        update = StatusUpdate(
            tenant=tenant.name,
            message_sid=params["MessageSid"],
            status=params["MessageStatus"].lower(),
            error_code=params.get("ErrorCode") or None,
            received_at=datetime.now(UTC),
        )
        try:
            await state.publisher.publish_status(update)
        except PublishError as exc:
            log.warning("status publish failed for tenant %s: %s", tenant.name, exc)
            raise TwilioRequestRejected(503, "queue unavailable", tenant.name) from None
    except TwilioRequestRejected as rejected:
        metrics.WEBHOOK_REQUESTS.labels(rejected.tenant, f"status_rejected_{rejected.status}").inc()
        headers = {"Retry-After": "5"} if rejected.status == 503 else None
        return PlainTextResponse(rejected.reason, status_code=rejected.status, headers=headers)
    metrics.WEBHOOK_REQUESTS.labels(tenant.name, "status_accepted").inc()
    return Response(status_code=204)


@router.post("/status", status_code=204)
async def receive_status(request: Request, state: GatewayDep) -> Response:
    """Accept a status callback on the shared URL; the tenant comes from AccountSid and From."""
    return await _accept(request, state, None)


@router.post("/status/{tenant}", status_code=204)
async def receive_tenant_status(tenant: str, request: Request, state: GatewayDep) -> Response:
    """Accept a status callback on a tenant's own URL."""
    return await _accept(request, state, tenant)
