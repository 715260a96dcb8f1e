"""Reading a tenant's dead letters and putting them back on its stream for the worker to answer."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from nats.js import JetStreamContext
from nats.js.errors import NotFoundError

from wta_runtime.stream.inbound import InboundMessage
from wta_runtime.stream.names import TenantStream


@dataclass(frozen=True)
class DeadLetter:
    """A message the worker gave up on, with why, after how many attempts and when."""

    seq: int
    message: InboundMessage
    reason: str
    attempts: int
    dead_at: datetime | None


async def read_dead_letters(js: JetStreamContext, tenant: str) -> list[DeadLetter]:
    """Every dead letter of the tenant still kept (30 days), oldest first."""
    names = TenantStream(tenant)
    found: list[DeadLetter] = []
    seq = 1
    while True:
        try:
            raw = await js.get_msg(
                names.dead_letter_stream, seq=seq, subject=names.dead_letter_subject, next=True
            )
        except NotFoundError:
            return found
        assert raw.seq is not None
        headers = raw.headers or {}
        found.append(
            DeadLetter(
                seq=raw.seq,
                message=InboundMessage.model_validate_json(raw.data or b""),
                reason=headers.get("Wta-Reason", ""),
                attempts=int(headers.get("Wta-Attempts", "0") or 0),
                dead_at=raw.time,
            )
        )
        seq = raw.seq + 1


async def replay(js: JetStreamContext, letter: DeadLetter) -> None:
    """Publish the message again on its thread's subject, as the gateway did.

    The stream already saw its `MessageSid` as a message id (duplicate window): the replay gets
    a fresh id. The worker stores messages by `MessageSid`, so a replay never stores twice, and
    the dead letter stays where it is until the stream's age limit removes it.
    """
    message = letter.message
    names = TenantStream(message.tenant)
    await js.publish(
        names.thread_subject(message.from_number, message.to_number),
        message.model_dump_json().encode(),
        stream=names.stream,
        headers={"Nats-Msg-Id": f"replay:{message.message_sid}:{uuid.uuid4().hex}"},
    )
