"""Twilio status callbacks: signed, queued by the gateway, applied by the worker, furthest wins."""

from __future__ import annotations

import asyncio
import contextlib
import secrets
import time
import uuid
from collections.abc import AsyncIterator

import httpx
import nats
import pytest
from nats.errors import TimeoutError as NatsTimeoutError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from twilio.request_validator import RequestValidator

from tests.utils.conversations import ACME_ACCOUNT, ACME_NUMBER, T0, conversation_in
from tests.utils.gateways import GATEWAY_BASE, gateway_client
from wta_runtime.catalog import TenantCatalog
from wta_runtime.db.driver import driver
from wta_runtime.db.outbound import mark_sent, save_outbound
from wta_runtime.db.tables import Message
from wta_runtime.stream.names import TenantStream
from wta_runtime.stream.setup import ensure_tenant_stream
from wta_runtime.worker.status_updates import StatusApplier

BASE = GATEWAY_BASE
STATUS = "/api/v1/twilio/status"


@pytest.fixture
async def gateway(catalog: TenantCatalog, nats_url: str) -> AsyncIterator[httpx.AsyncClient]:
    async with gateway_client(catalog, nats_url) as client:
        yield client


@pytest.fixture
async def status_worker(
    nats_url: str, sessions: async_sessionmaker[AsyncSession]
) -> AsyncIterator[None]:
    """The worker's status consumer for acme-pizza, as the worker runs it."""
    connection = await nats.connect(nats_url)
    js = connection.jetstream()
    names = TenantStream("acme-pizza")
    await ensure_tenant_stream(js, names)
    subscription = await js.pull_subscribe_bind(names.status_durable, stream=names.stream)
    applier = StatusApplier(sessions, lambda: T0)

    async def pull() -> None:
        while True:
            with contextlib.suppress(NatsTimeoutError, TimeoutError):
                for msg in await subscription.fetch(10, timeout=0.5):
                    await applier.handle(msg)

    task = asyncio.create_task(pull())
    yield
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task
    await connection.close()


def signed_status(
    catalog: TenantCatalog, sid: str, status: str, **extra: str
) -> tuple[dict[str, str], dict[str, str]]:
    params = {
        "MessageSid": sid,
        "SmsSid": sid,
        "AccountSid": ACME_ACCOUNT,
        "From": f"whatsapp:{ACME_NUMBER}",
        "To": "whatsapp:+15550000000",
        "MessageStatus": status,
        "ApiVersion": "2010-04-01",
        **extra,
    }
    token = catalog.by_name("acme-pizza").auth_token.get_secret_value()
    signature = RequestValidator(token).compute_signature(BASE + STATUS, params)
    return params, {"X-Twilio-Signature": signature}


async def _sent_message(sessions: async_sessionmaker[AsyncSession]) -> tuple[uuid.UUID, str]:
    conversation = await conversation_in(sessions, "progress")
    sid = "SM" + secrets.token_hex(16)
    async with sessions.begin() as session:
        [part] = await save_outbound(
            session,
            conversation=conversation,
            key=f"test:{sid}",
            parts=["hello"],
            author="agent",
            agent=None,
            provider="test",
            now=T0,
        )
    await mark_sent(
        driver(sessions), message_id=part.id, twilio_sid=sid, status="queued", now=T0, day=T0.date()
    )
    return part.id, sid


async def _state(
    sessions: async_sessionmaker[AsyncSession], message_id: uuid.UUID
) -> tuple[str | None, str | None]:
    async with sessions() as session:
        row = await session.get(Message, message_id, populate_existing=True)
    assert row is not None
    return row.delivery_status, row.error_code


async def _settles_at(
    sessions: async_sessionmaker[AsyncSession], message_id: uuid.UUID, status: str
) -> None:
    deadline = time.monotonic() + 10
    while (await _state(sessions, message_id))[0] != status:
        assert time.monotonic() < deadline, f"never reached {status}"
        await asyncio.sleep(0.05)


@pytest.mark.usefixtures("status_worker")
async def test_callbacks_out_of_order_keep_the_furthest_status(
    gateway: httpx.AsyncClient,
    catalog: TenantCatalog,
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    message_id, sid = await _sent_message(sessions)

    answers = []
    for status in ["read", "sent", "delivered", "read", "queued"]:  # late, early and repeated
        data, headers = signed_status(catalog, sid, status)
        answers.append((await gateway.post(STATUS, data=data, headers=headers)).status_code)

    assert answers == [204] * 5
    await _settles_at(sessions, message_id, "read")
    await asyncio.sleep(0.5)  # every callback was applied or dropped by now: still read
    assert await _state(sessions, message_id) == ("read", None)


@pytest.mark.usefixtures("status_worker")
async def test_a_failure_is_terminal_and_keeps_twilios_error_code(
    gateway: httpx.AsyncClient,
    catalog: TenantCatalog,
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    message_id, sid = await _sent_message(sessions)

    for status, extra in [("undelivered", {"ErrorCode": "63016"}), ("delivered", {})]:
        data, headers = signed_status(catalog, sid, status, **extra)
        assert (await gateway.post(STATUS, data=data, headers=headers)).status_code == 204

    await _settles_at(sessions, message_id, "undelivered")
    await asyncio.sleep(0.5)
    assert await _state(sessions, message_id) == ("undelivered", "63016")


async def test_forged_unknown_or_incomplete_callbacks_are_refused(
    gateway: httpx.AsyncClient, catalog: TenantCatalog
) -> None:
    data, headers = signed_status(catalog, "SM" + "0" * 32, "delivered")
    forged = await gateway.post(STATUS, data={**data, "MessageStatus": "read"}, headers=headers)
    unknown_number = await gateway.post(
        STATUS, data={**data, "From": "whatsapp:+19998887777"}, headers=headers
    )
    incomplete_data, incomplete_headers = signed_status(catalog, "", "delivered")
    incomplete = await gateway.post(STATUS, data=incomplete_data, headers=incomplete_headers)

    assert forged.status_code == 403
    assert unknown_number.status_code == 404
    assert incomplete.status_code == 400
