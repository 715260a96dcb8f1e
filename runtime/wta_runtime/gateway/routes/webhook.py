"""`POST /api/v1/twilio/webhook[/{tenant}]`: check, publish, answer Twilio at once."""

from __future__ import annotations

import logging
import time
from datetime import UTC, datetime

from fastapi import APIRouter, Request, Response
from fastapi.responses import PlainTextResponse
from twilio.request_validator import RequestValidator

from wta_runtime import metrics
from wta_runtime.catalog import Tenant, UnknownTenantError
from wta_runtime.gateway.public_url import public_url
from wta_runtime.gateway.publisher import PublishError
from wta_runtime.gateway.state import GatewayDep, GatewayState
from wta_runtime.gateway.webhook_form import WebhookFormError, read_form, require_message_params
from wta_runtime.stream.inbound import InboundMessage

log = logging.getLogger("wta.gateway")
router = APIRouter(prefix="/api/v1/twilio", tags=["twilio"])

EMPTY_TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response></Response>'


class WebhookRejected(Exception):
    def __init__(self, status: int, reason: str, tenant: str = "unknown") -> None:
        super().__init__(reason)
        self.status = status
        self.reason = reason
        self.tenant = tenant


def _resolve(state: GatewayState, params: dict[str, str], tenant_name: str | None) -> Tenant:
    try:
        if tenant_name is not None:
            return state.catalog.by_name(tenant_name)
        if not params.get("AccountSid") or not params.get("To"):
            raise WebhookRejected(400, "AccountSid and To are needed to find the tenant")
        return state.catalog.by_number(params["AccountSid"], params["To"])
    except UnknownTenantError as exc:
        raise WebhookRejected(404, str(exc)) from None


def _check_signature(
    state: GatewayState, request: Request, tenant: Tenant, params: dict[str, str]
) -> None:
    signature = request.headers.get("x-twilio-signature")
    if not signature:
        raise WebhookRejected(403, "missing X-Twilio-Signature", tenant.name)
    url = public_url(
        request,
        base_url=state.settings.public_base_url,
        trust_forwarded=state.settings.trust_forwarded_headers,
    )
    validator = RequestValidator(tenant.auth_token.get_secret_value())
    if not validator.validate(url, params, signature):
        raise WebhookRejected(403, "invalid X-Twilio-Signature", tenant.name)


async def _accept(request: Request, state: GatewayState, tenant_name: str | None) -> Response:
    started = time.perf_counter()
    try:
        try:
            params = await read_form(request, max_bytes=state.settings.max_webhook_bytes)
        except WebhookFormError as exc:
            raise WebhookRejected(exc.status, exc.reason) from None
        tenant = _resolve(state, params, tenant_name)
        _check_signature(state, request, tenant, params)
        try:
            require_message_params(params)
        except WebhookFormError as exc:
            raise WebhookRejected(exc.status, exc.reason, tenant.name) from None
        if params["AccountSid"] != tenant.account_sid:
            raise WebhookRejected(403, "AccountSid does not belong to this tenant", tenant.name)
        if tenant.spec.suspend:
            raise WebhookRejected(503, "tenant is suspended", tenant.name)
        message = InboundMessage.from_twilio(tenant.name, params, datetime.now(UTC))
        try:
            duplicate = await state.publisher.publish(message)
        except PublishError as exc:
            log.warning("publish failed for tenant %s: %s", tenant.name, exc)
            raise WebhookRejected(
                503, "message queue unavailable, retry later", tenant.name
            ) from None
    except WebhookRejected as rejected:
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
