"""Twilio answering 500, 429 or nothing for a while, and the model endpoint down: sends are
retried with backoff and each reply goes once; a message the model never answers is
dead-lettered and the contact gets the fallback, once."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import nats
import pytest

from tests.chaos.stack import (
    HANG_SECONDS,
    ChaosPlatform,
    all_answered,
    chaos_platform,
    gateway_client,
    steady_load,
)
from tests.conftest import SCALE_TENANT
from tests.utils.conversations import conversations_of
from wta_runtime.catalog import TenantCatalog
from wta_runtime.db.engine import create_engine, session_factory
from wta_runtime.stream.names import TenantStream

WORKER_ENV = {
    "WTA_OPENAI_API_KEY": "sk-test-local",
    "WTA_WORKER_RETRY_DELAYS": "[0.5, 1, 2, 4]",
}
MODEL_REPLY = "scripted reply"


@pytest.fixture(scope="module")
def platform(
    tmp_path_factory: pytest.TempPathFactory, manifests_dir: Path, catalog: TenantCatalog
) -> Iterator[ChaosPlatform]:
    with chaos_platform(
        tmp_path_factory.mktemp("chaos-twilio-model"),
        manifests_dir,
        catalog,
        tenant=SCALE_TENANT,
        worker_env=WORKER_ENV,
    ) as started:
        yield started


def replies_per_contact(platform: ChaosPlatform, contacts: list[str]) -> dict[str, list[str]]:
    return {c: [m.body for m in platform.sent_to(c)] for c in contacts}


async def test_twilio_failing_for_a_while_gets_every_reply_sent_once_after_retries(
    platform: ChaosPlatform, catalog: TenantCatalog
) -> None:
    platform.faults.fail_for(4)
    async with gateway_client(platform) as client:
        posts = await steady_load(
            client, catalog.by_name(SCALE_TENANT), count=15, per_second=3, body="menu?"
        )
    contacts = [p.contact for p in posts]

    await all_answered(platform, contacts, timeout=HANG_SECONDS + 25)

    kinds = [kind for _, kind in platform.faults.failed]
    print(
        f"\nTwilio outage: {len(posts)} messages, {len(kinds)} failed sends "
        f"({kinds.count(500)} x 500, {kinds.count(429)} x 429, {kinds.count('timeout')} timeouts)"
    )
    assert {p.status for p in posts} == {200}
    assert {500, 429, "timeout"} <= set(kinds)
    assert replies_per_contact(platform, contacts) == {c: [MODEL_REPLY] for c in contacts}


async def test_the_model_down_gives_each_contact_one_fallback_and_flags_the_conversation(
    platform: ChaosPlatform, catalog: TenantCatalog
) -> None:
    dead_before = await _dead_letters(platform)
    platform.model.stop()
    try:
        async with gateway_client(platform) as client:
            posts = await steady_load(
                client, catalog.by_name(SCALE_TENANT), count=3, per_second=3, body="menu?"
            )
        contacts = [p.contact for p in posts]
        await all_answered(platform, contacts, timeout=30)
    finally:
        platform.model.start()

    fallbacks = replies_per_contact(platform, contacts)
    [fallback] = {body for bodies in fallbacks.values() for body in bodies}
    assert fallback != MODEL_REPLY
    assert fallbacks == {c: [fallback] for c in contacts}
    assert await _flagged(platform, contacts) == dict.fromkeys(contacts, True)
    # Retried with backoff first, then kept where `wta dead-letters replay` finds them.
    assert await _dead_letters(platform) == dead_before + len(contacts)


async def test_a_model_down_for_a_few_seconds_is_retried_until_it_answers(
    platform: ChaosPlatform, catalog: TenantCatalog
) -> None:
    dead_before = await _dead_letters(platform)
    platform.model.stop()
    try:
        async with gateway_client(platform) as client:
            posts = await steady_load(
                client, catalog.by_name(SCALE_TENANT), count=3, per_second=3, body="menu?"
            )
        await asyncio.sleep(3)
    finally:
        platform.model.start()
    contacts = [p.contact for p in posts]
    await all_answered(platform, contacts, timeout=30)

    assert replies_per_contact(platform, contacts) == {c: [MODEL_REPLY] for c in contacts}
    assert await _dead_letters(platform) == dead_before


async def _flagged(platform: ChaosPlatform, contacts: list[str]) -> dict[str, bool]:
    engine = create_engine(platform.database_url)
    try:
        sessions = session_factory(engine)
        return {
            c: any(conv.flagged_at is not None for conv in await conversations_of(sessions, c))
            for c in contacts
        }
    finally:
        await engine.dispose()


async def _dead_letters(platform: ChaosPlatform) -> int:
    connection = await nats.connect(platform.nats_url)
    try:
        info = await connection.jetstream().stream_info(
            TenantStream(SCALE_TENANT).dead_letter_stream
        )
        return int(info.state.messages)
    finally:
        await connection.close()
