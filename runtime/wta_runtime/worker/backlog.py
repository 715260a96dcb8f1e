"""Earlier messages of a conversation thread that are still in the stream, maybe held elsewhere."""

from __future__ import annotations

import contextlib

from nats.js import JetStreamContext
from nats.js.errors import NotFoundError
from pydantic import ValidationError

from wta_runtime.stream.inbound import InboundMessage
from wta_runtime.stream.names import TenantStream

# A thread rarely has more than a few unacknowledged messages; this bounds a pathological one.
MAX_SCAN = 500


class StreamBacklog:
    """Every message on one thread's subject above the consumer's ack floor.

    Another replica may have pulled an older message of the same thread and be slow or dead: the
    turn stores it too (idempotently) so that a reply never answers a newer message first.
    """

    def __init__(self, js: JetStreamContext, names: TenantStream, subject: str) -> None:
        self._js = js
        self._names = names
        self._subject = subject

    async def pending(self) -> list[tuple[int, InboundMessage]]:
        info = await self._js.consumer_info(self._names.stream, self._names.worker_durable)
        seq = int(info.ack_floor.stream_seq if info.ack_floor else 0) + 1
        found: list[tuple[int, InboundMessage]] = []
        for _ in range(MAX_SCAN):
            try:
                raw = await self._js.get_msg(
                    self._names.stream, seq=seq, subject=self._subject, next=True
                )
            except NotFoundError:
                break
            assert raw.seq is not None
            # A malformed message is terminated by whoever pulls it; skip it here.
            with contextlib.suppress(ValidationError):
                found.append((raw.seq, InboundMessage.model_validate_json(raw.data or b"")))
            seq = raw.seq + 1
        return found
