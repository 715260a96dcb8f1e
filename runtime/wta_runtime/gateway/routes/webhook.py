"""`POST /api/v1/twilio/webhook[/{tenant}]`: check, publish, answer Twilio at once."""

from __future__ import annotations

import logging
import time
from datetime import UTC, datetime

from starlette.types import Send

from wta_runtime.gateway.publisher import PublishError
from wta_runtime.gateway.state import GatewayState
from wta_runtime.gateway.twilio_request import (
    TwilioPost,
    TwilioRequestRejected,
    answer,
    read_signed_form,
    refuse,
)
from wta_runtime.gateway.webhook_counts import publish_seconds, webhook_outcome
from wta_runtime.gateway.webhook_form import WebhookFormError, require_message_params
from wta_runtime.stream.inbound import InboundMessage

log = logging.getLogger("wta.gateway")

EMPTY_TWIML = b'<?xml version="1.0" encoding="UTF-8"?><Response></Response>'
TWIML = b"text/xml; charset=utf-8"


async def receive_webhook(
    state: GatewayState, post: TwilioPost, send: Send, tenant_name: str | None
) -> None:
    """Accept an inbound message; the tenant is the path's, else the owner of AccountSid + To."""
    started = time.perf_counter()
    try:
        form = await read_signed_form(state, post, tenant_name, number_param="To")
        tenant = form.tenant
        try:
            require_message_params(form.params)
        except WebhookFormError as exc:
            raise TwilioRequestRejected(exc.status, exc.reason, tenant.name) from None
        if tenant.spec.suspend:
            raise TwilioRequestRejected(503, "tenant is suspended", tenant.name)
        message = InboundMessage.from_twilio(tenant.name, form.params, datetime.now(UTC))
        try:
            duplicate = await state.publisher.publish(message)
        except PublishError as exc:
            log.warning("publish failed for tenant %s: %s", tenant.name, exc)
            raise TwilioRequestRejected(
                503, "message queue unavailable, retry later", tenant.name
            ) from None
    except TwilioRequestRejected as rejected:
        await refuse(send, rejected, outcome_prefix="")
        return
    webhook_outcome(tenant.name, "duplicate" if duplicate else "accepted").inc()
    publish_seconds(tenant.name).observe(time.perf_counter() - started)
    await answer(send, 200, EMPTY_TWIML, TWIML)
