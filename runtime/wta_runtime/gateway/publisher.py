"""Publishes accepted webhooks and status callbacks to the tenant's stream, waiting for the ack."""

from __future__ import annotations

from functools import lru_cache

from nats.errors import Error as NatsError

from wta_runtime.gateway.jetstream_acks import JetStreamAcks, NotAcknowledged
from wta_runtime.stream.inbound import InboundMessage
from wta_runtime.stream.names import TenantStream
from wta_runtime.stream.status import StatusUpdate


@lru_cache(maxsize=1024)
def tenant_stream(tenant: str) -> TenantStream:
    """A tenant's stream names, made once per tenant rather than once per message."""
    return TenantStream(tenant)


class PublishError(RuntimeError):
    """JetStream did not acknowledge the message; Twilio should retry."""


class InboundPublisher:
    """Puts inbound messages on JetStream with `Nats-Msg-Id` = `MessageSid` (server-side dedup)."""

    def __init__(self, acks: JetStreamAcks, *, timeout: float) -> None:
        self._acks = acks
        self._timeout = timeout

    async def publish(self, message: InboundMessage) -> bool:
        """Publish and return whether the stream already had this message (a Twilio retry)."""
        names = tenant_stream(message.tenant)
        return await self._publish(
            names.thread_subject(message.from_number, message.to_number),
            # The model's own serializer, as `model_dump_json` uses it, without its keywords.
            InboundMessage.__pydantic_serializer__.to_json(message),
            stream=names.stream,
            msg_id=message.message_sid,
        )

    async def publish_status(self, update: StatusUpdate) -> None:
        """Put a Twilio status callback on the tenant's stream for the worker to apply."""
        names = tenant_stream(update.tenant)
        await self._publish(
            names.status_subject,
            update.model_dump_json().encode(),
            stream=names.stream,
            msg_id=update.dedup_id,
        )

    async def _publish(self, subject: str, payload: bytes, *, stream: str, msg_id: str) -> bool:
        try:
            return await self._acks.publish(
                subject, payload, stream=stream, msg_id=msg_id, timeout=self._timeout
            )
        except (NatsError, NotAcknowledged) as exc:
            raise PublishError(
                f"JetStream did not acknowledge: {exc or type(exc).__name__}"
            ) from exc
