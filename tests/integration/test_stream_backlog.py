"""A turn finds the earlier messages of its thread that are still in the stream, on real NATS."""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator
from datetime import UTC, datetime

import nats
import pytest
from nats.aio.client import Client
from nats.js import JetStreamContext

from tests.utils.conversations import inbound
from tests.utils.webhooks import new_contact
from wta_runtime.stream.names import TenantStream
from wta_runtime.stream.setup import ensure_tenant_stream
from wta_runtime.worker.backlog import AckFloors, StreamBacklog

BUSINESS = "+14155550100"


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
async def connection(nats_url: str) -> AsyncIterator[Client]:
    client = await nats.connect(nats_url)
    yield client
    await client.close()


async def _publish(js: JetStreamContext, names: TenantStream, contact: str, body: str) -> str:
    message = inbound(contact, body, at=datetime.now(UTC), tenant=names.tenant, number=BUSINESS)
    await js.publish(
        names.thread_subject(message.from_number, message.to_number),
        message.model_dump_json().encode(),
        stream=names.stream,
        headers={"Nats-Msg-Id": message.message_sid},
    )
    return message.message_sid


async def test_the_backlog_holds_the_threads_unacknowledged_messages_only(
    connection: Client,
) -> None:
    js = connection.jetstream()
    names = TenantStream("backlog-" + secrets.token_hex(3))
    await ensure_tenant_stream(js, names)
    contact, other = new_contact(), new_contact()
    first = await _publish(js, names, contact, "first")
    await _publish(js, names, other, "another conversation")
    second = await _publish(js, names, contact, "second")
    subscription = await js.pull_subscribe_bind(names.worker_durable, stream=names.stream)
    [oldest] = await subscription.fetch(1, timeout=2)
    await oldest.ack_sync()  # the first message is done: the ack floor moves past it

    clock = Clock()
    floors = AckFloors(js, monotonic=clock)
    subject = names.thread_subject(f"whatsapp:{contact}", f"whatsapp:{BUSINESS}")
    pending = await StreamBacklog(js, names, subject, floors).pending()

    assert [message.message_sid for _, message in pending] == [second]
    assert first not in {message.message_sid for _, message in pending}
    assert await floors.floor(names) == 1

    # Within a second the floor is not asked again; it is a lower bound, so still correct.
    rest = await subscription.fetch(2, timeout=2)
    for msg in rest:
        await msg.ack_sync()
    assert await floors.floor(names) == 1
    assert [
        m.message_sid for _, m in await StreamBacklog(js, names, subject, floors).pending()
    ] == [second]
    clock.now += 1.5
    assert await floors.floor(names) == 3
    assert await StreamBacklog(js, names, subject, floors).pending() == []
