"""`POST /api/v1/twilio/status[/{tenant}]`: Twilio's delivery callbacks, checked and queued."""

from __future__ import annotations

import logging
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
from wta_runtime.gateway.webhook_counts import webhook_outcome
from wta_runtime.stream.status import StatusUpdate

log = logging.getLogger("wta.gateway")


async def receive_status(
    state: GatewayState, post: TwilioPost, send: Send, tenant_name: str | None
) -> None:
    """Accept a status callback; the tenant is the path's, else the owner of AccountSid + From."""
    try:
        # A status callback is about a message we sent: the business number is `From`.
        form = await read_signed_form(state, post, tenant_name, number_param="From")
        tenant, params = form.tenant, form.params
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
        await refuse(send, rejected, outcome_prefix="status_")
        return
    webhook_outcome(tenant.name, "status_accepted").inc()
    await answer(send, 204, b"", None)
