"""`POST /api/v1/twilio/webhook[/{tenant}]`: check, publish, answer Twilio at once."""

from __future__ import annotations

import logging
import time
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
from wta_runtime.gateway.webhook_form import WebhookFormError, read_form, require_message_params
from wta_runtime.stream.inbound import InboundMessage

log = logging.getLogger("wta.gateway")
router = APIRouter(prefix="/api/v1/twilio", tags=["twilio"])

EMPTY_TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response></Response>'


async def _accept(request: Request, state: GatewayState, tenant_name: str | None) -> Response:
    started = time.perf_counter()
    try:
        try:
            params = await read_form(request, max_bytes=state.settings.max_webhook_bytes)
        except WebhookFormError as exc:
            raise TwilioRequestRejected(exc.status, exc.reason) from None
        tenant = resolve_tenant(state, params, tenant_name, number_param="To")
        check_signature(state, request, tenant, params)
        try:
            require_message_params(params)
        except WebhookFormError as exc:
            raise TwilioRequestRejected(exc.status, exc.reason, tenant.name) from None
        if tenant.spec.suspend:
            raise TwilioRequestRejected(503, "tenant is suspended", tenant.name)
        message = InboundMessage.from_twilio(tenant.name, params, datetime.now(UTC))
        try:
            duplicate = await state.publisher.publish(message)
        except PublishError as exc:
            log.warning("publish failed for tenant %s: %s", tenant.name, exc)
            raise TwilioRequestRejected(
                503, "message queue unavailable, retry later", tenant.name
            ) from None
    except TwilioRequestRejected as rejected:
        metrics.WEBHOOK_REQUESTS.labels(rejected.tenant, f"rejected_{rejected.status}").inc()
        headers = {"Retry-After": "5"} if rejected.status == 503 else None
        return PlainTextResponse(rejected.reason, status_code=rejected.status, headers=headers)
    metrics.WEBHOOK_REQUESTS.labels(tenant.name, "duplicate" if duplicate else "accepted").inc()
    metrics.WEBHOOK_PUBLISH_SECONDS.labels(tenant.name).observe(time.perf_counter() - started)
    return Response(EMPTY_TWIML, media_type="text/xml")


@router.post("/webhook")
async def receive_webhook(request: Request, state: GatewayDep) -> Response:
    """Accept a Twilio webhook on the shared URL; the tenant comes from AccountSid and To."""
    return await _accept(request, state, None)


@router.post("/webhook/{tenant}")
async def receive_tenant_webhook(tenant: str, request: Request, state: GatewayDep) -> Response:
    """Accept a Twilio webhook on a tenant's own URL."""
    return await _accept(request, state, tenant)
