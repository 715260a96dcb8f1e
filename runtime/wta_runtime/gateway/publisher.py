"""Publishes accepted webhooks and status callbacks to the tenant's stream, waiting for the ack."""

from __future__ import annotations

from nats.errors import Error as NatsError
from nats.js import JetStreamContext
from nats.js.errors import Error as JetStreamError

from wta_runtime.stream.inbound import InboundMessage
from wta_runtime.stream.names import TenantStream
from wta_runtime.stream.status import StatusUpdate


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
                names.thread_subject(message.from_number, message.to_number),
                message.model_dump_json().encode(),
                stream=names.stream,
                timeout=self._timeout,
                headers={"Nats-Msg-Id": message.message_sid},
            )
        except (NatsError, JetStreamError, TimeoutError) as exc:
            raise PublishError(f"JetStream did not acknowledge: {type(exc).__name__}") from exc
        return bool(ack.duplicate)

    async def publish_status(self, update: StatusUpdate) -> None:
        """Put a Twilio status callback on the tenant's stream for the worker to apply."""
        names = TenantStream(update.tenant)
        try:
            await self._js.publish(
                names.status_subject,
                update.model_dump_json().encode(),
                stream=names.stream,
                timeout=self._timeout,
                headers={"Nats-Msg-Id": update.dedup_id},
            )
        except (NatsError, JetStreamError, TimeoutError) as exc:
            raise PublishError(f"JetStream did not acknowledge: {type(exc).__name__}") from exc
