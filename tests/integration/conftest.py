"""Fixtures shared by the integration tests."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from tests.conftest import TwilioServer
from tests.utils.conversations import Clock, processor_for
from tests.utils.flaky_twilio import FlakyTwilio, serve_flaky_twilio
from tests.utils.scripted_agent import ScriptedAgent
from wta_runtime.catalog import TenantCatalog
from wta_runtime.channel.sender import OutboundSender
from wta_runtime.worker.turn_processor import TurnProcessor


@pytest.fixture
def flaky(catalog: TenantCatalog) -> Iterator[FlakyTwilio]:
    """A Twilio API of its own per test, failing the sends a test scripts."""
    with serve_flaky_twilio(catalog) as twilio:
        yield twilio


@pytest.fixture
async def sender(twilio: TwilioServer) -> AsyncIterator[OutboundSender]:
    created = OutboundSender(twilio.url)
    yield created
    await created.close()


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def agent() -> ScriptedAgent:
    return ScriptedAgent()


@pytest.fixture
def processor(
    catalog: TenantCatalog,
    sessions: async_sessionmaker[AsyncSession],
    agent: ScriptedAgent,
    sender: OutboundSender,
    clock: Clock,
) -> TurnProcessor:
    """A turn processor with a scripted agent, the local Twilio API and the test's clock."""
    return processor_for(catalog, sessions, agent, sender, clock)
