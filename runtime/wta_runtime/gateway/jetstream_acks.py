"""Publishes to JetStream and waits for each message's acknowledgement on one reply subscription.

nats-py's `js.publish` makes every message a request: a random token, a `wait_for`, a `PubAck`
dataclass. On the gateway's hot path that cost as much as all its checks. Here each message's
reply subject is the shared inbox plus a counter, one timer bounds the wait, and the ack's JSON
is read for what the gateway needs: an error, or whether the stream already had the message.
A message is only reported stored once JetStream's ack for it has arrived.
"""

from __future__ import annotations

import asyncio
import json

from nats.aio.client import Client as NATS
from nats.aio.msg import Msg

MSG_ID = "Nats-Msg-Id"  # JetStream drops a second message with the same id
EXPECTED_STREAM = "Nats-Expected-Stream"
NO_RESPONDERS = "503"  # the `Status` header NATS replies with when no stream takes the subject
ACK_START = b'{"stream":'
ERROR_KEY = b'"error"'
DUPLICATE_KEY = b'"duplicate"'


class NotAcknowledged(Exception):
    """JetStream did not store the message: no stream, a refusal or no ack in time."""


class JetStreamAcks:
    """Publishes with a reply subject under one wildcard subscription; futures wait by token."""

    def __init__(self, nats: NATS, reply_prefix: str) -> None:
        self._nats = nats
        self._reply_prefix = reply_prefix
        self._waiting: dict[str, asyncio.Future[Msg]] = {}
        self._sent = 0

    @classmethod
    async def subscribe(cls, nats: NATS) -> JetStreamAcks:
        """Acks for messages published on `nats`, their replies under one new inbox."""
        # Under the connection's inbox prefix: the only subjects its NATS user may subscribe to.
        acks = cls(nats, nats.new_inbox() + ".")
        await nats.subscribe(acks._reply_prefix + "*", cb=acks._on_reply)
        return acks

    async def publish(
        self, subject: str, payload: bytes, *, stream: str, msg_id: str, timeout: float
    ) -> bool:
        """Publish and wait for the ack; whether the stream already had `msg_id` (deduplicated)."""
        self._sent += 1
        token = str(self._sent)
        loop = asyncio.get_running_loop()
        reply: asyncio.Future[Msg] = loop.create_future()
        self._waiting[token] = reply
        timer = loop.call_later(timeout, _expire, reply)
        try:
            await self._nats.publish(
                subject,
                payload,
                reply=self._reply_prefix + token,
                headers={MSG_ID: msg_id, EXPECTED_STREAM: stream},
            )
            return read_ack(await reply)
        finally:
            timer.cancel()
            del self._waiting[token]

    async def _on_reply(self, msg: Msg) -> None:
        reply = self._waiting.get(msg.subject[len(self._reply_prefix) :])
        if reply is not None and not reply.done():
            reply.set_result(msg)


def _expire(reply: asyncio.Future[Msg]) -> None:
    if not reply.done():
        reply.set_exception(NotAcknowledged("no acknowledgement in time"))


def read_ack(msg: Msg) -> bool:
    """Whether an ack says "duplicate"; `NotAcknowledged` when it is no ack at all."""
    if msg.headers and msg.headers.get("Status") == NO_RESPONDERS:
        raise NotAcknowledged("no stream takes this subject")
    data = msg.data
    # Nearly every ack is `{"stream":"WTA_INBOUND_X","seq":7}`: flat JSON the server wrote, in
    # which a key cannot hide inside a string value (its quotes would be escaped). One without
    # an error or duplicate key says "stored, new" unparsed; any other reply is parsed.
    if (
        data.startswith(ACK_START)
        and data.endswith(b"}")
        and ERROR_KEY not in data
        and DUPLICATE_KEY not in data
    ):
        return False
    try:
        ack = json.loads(msg.data)
    except ValueError:
        raise NotAcknowledged("the reply is not a JetStream ack") from None
    if not isinstance(ack, dict) or "error" in ack:
        error = ack.get("error") if isinstance(ack, dict) else None
        raise NotAcknowledged(f"JetStream refused the message: {error}")
    return bool(ack.get("duplicate"))
