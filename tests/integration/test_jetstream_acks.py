"""The gateway's publisher reports a message stored only on JetStream's ack for that message."""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import AsyncIterator

import pytest
from nats.aio.client import Client as NATS

from wta_runtime.gateway.jetstream_acks import JetStreamAcks, NotAcknowledged
from wta_runtime.stream.connection import close_connection, connect
from wta_runtime.stream.names import TenantStream
from wta_runtime.stream.setup import ensure_tenant_stream


@pytest.fixture
async def connection(nats_url: str) -> AsyncIterator[NATS]:
    nats = await connect(nats_url, name="acks-test")
    yield nats
    await close_connection(nats)


@pytest.fixture
async def names(connection: NATS) -> TenantStream:
    names = TenantStream("acks-" + secrets.token_hex(4))
    await ensure_tenant_stream(connection.jetstream(), names, consumers=False)
    return names


async def test_a_stored_message_is_acknowledged_and_its_retry_is_a_duplicate(
    connection: NATS, names: TenantStream
) -> None:
    acks = await JetStreamAcks.subscribe(connection)
    subject = names.thread_subject("+15550000001", "+15550000002")

    first = await acks.publish(subject, b"{}", stream=names.stream, msg_id="SM1", timeout=5)
    retry = await acks.publish(subject, b"{}", stream=names.stream, msg_id="SM1", timeout=5)
    other = await acks.publish(subject, b"{}", stream=names.stream, msg_id="SM2", timeout=5)

    info = await connection.jetstream().stream_info(names.stream)
    assert (first, retry, other) == (False, True, False)
    assert info.state.messages == 2


async def test_many_messages_at_once_each_get_their_own_ack(
    connection: NATS, names: TenantStream
) -> None:
    acks = await JetStreamAcks.subscribe(connection)
    subject = names.thread_subject("+15550000001", "+15550000002")

    duplicates = await asyncio.gather(
        *(
            acks.publish(subject, b"{}", stream=names.stream, msg_id=f"SM{n % 50}", timeout=5)
            for n in range(100)
        )
    )

    assert sorted(duplicates) == [False] * 50 + [True] * 50


async def test_a_subject_no_stream_takes_is_not_acknowledged(connection: NATS) -> None:
    acks = await JetStreamAcks.subscribe(connection)

    with pytest.raises(NotAcknowledged, match="no stream"):
        await acks.publish(
            "wta.inbound.nobody.x", b"{}", stream="WTA_INBOUND_NOBODY", msg_id="SM1", timeout=5
        )


async def test_a_message_for_another_stream_than_expected_is_refused(
    connection: NATS, names: TenantStream
) -> None:
    acks = await JetStreamAcks.subscribe(connection)

    with pytest.raises(NotAcknowledged, match="refused"):
        await acks.publish(
            names.status_subject, b"{}", stream="WTA_INBOUND_SOMEONE_ELSE", msg_id="x", timeout=5
        )
