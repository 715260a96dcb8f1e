"""Publishes accepted webhooks to the tenant's stream and waits for JetStream's acknowledgement."""

from __future__ import annotations

from nats.errors import Error as NatsError
from nats.js import JetStreamContext
from nats.js.errors import Error as JetStreamError

from wta_runtime.stream.inbound import InboundMessage
from wta_runtime.stream.names import TenantStream


class PublishError(RuntimeError):
    """JetStream did not acknowledge the message; Twilio should retry."""


class InboundPublisher:
    """Puts inbound messages on JetStream with `Nats-Msg-Id` = `MessageSid` (server-side dedup)."""

    def __init__(self, js: JetStreamContext, *, timeout: float) -> None:
        self._js = js
        self._timeout = timeout

    async def publish(self, message: InboundMessage) -> bool:
        """Publish and return whether the stream already had this message (a Twilio retry)."""
        names = TenantStream(message.tenant)
        try:
            ack = await self._js.publish(
                names.inbound_subject,
                message.model_dump_json().encode(),
                stream=names.stream,
                timeout=self._timeout,
                headers={"Nats-Msg-Id": message.message_sid},
            )
        except (NatsError, JetStreamError, TimeoutError) as exc:
            raise PublishError(f"JetStream did not acknowledge: {type(exc).__name__}") from exc
        return bool(ack.duplicate)
