"""Changing an agent's instructions rolls the tenant's runtime under traffic, losing nothing."""

from __future__ import annotations

import asyncio

import pytest

from tests.node.model import revision_of, roll_to
from tests.node.node import RealNode
from tests.node.release import EXAMPLES, TENANT, Release
from tests.node.services import NodeServices
from tests.node.traffic import every_contact_answered, write_steadily
from tests.utils.openai_server import ScriptedModel
from wta_runtime.catalog import load_catalog
from wta_runtime.settings import Settings

pytestmark = [pytest.mark.node, pytest.mark.timeout(900)]

ACK_WAIT = Settings().stream_ack_wait_seconds


async def test_new_instructions_roll_the_runtime_under_traffic_losing_and_repeating_nothing(
    real_node: RealNode,
    release: Release,
    services: NodeServices,
    model_tenant: ScriptedModel,
) -> None:
    tenant = load_catalog(EXAMPLES).by_name(TENANT)
    rolled = asyncio.Event()
    rolled_at: list[float] = []

    async def roll() -> None:
        await asyncio.sleep(5)
        _, done = await roll_to(real_node, "rev-2")
        rolled_at.append(done)
        rolled.set()

    roller = asyncio.create_task(roll())
    sent = await write_steadily(
        release.gateway_url, tenant, per_second=2, stop=rolled, then=10, at_most=600
    )
    await roller

    assert [s.contact for s in sent if s.status != 200] == []
    await every_contact_answered(services, sent, timeout=240, then_wait=ACK_WAIT + 5)
    replies = {s.contact: services.sent_to(s.contact) for s in sent}
    assert {c: len(r) for c, r in replies.items() if len(r) != 1} == {}
    after_roll = [s.contact for s in sent if s.sent_at > rolled_at[0]]
    assert len(after_roll) >= 10
    assert {revision_of(replies[c][0].body) for c in after_roll} == {"rev-2"}
