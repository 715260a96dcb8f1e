"""Scale to zero on the real node: the example tenant sleeps when idle, a webhook wakes it and
is answered once, and a conversation timer that comes due while it sleeps still fires."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from urllib.parse import urlsplit, urlunsplit

import asyncpg
import pytest

from tests.node.node import RealNode
from tests.node.release import EXAMPLES, TENANT, TENANT_NS, Release
from tests.node.services import NodeServices
from tests.node.sleep import events, sleepy_tenant, wait_asleep
from tests.node.traffic import WEBHOOK, post_until_accepted
from tests.utils.openai_server import ScriptedModel
from tests.utils.waiting import eventually
from tests.utils.webhooks import new_contact, webhook_for
from wta_operator.builders.database import database_scope, plain_postgres_url
from wta_runtime.catalog import load_catalog

pytestmark = [pytest.mark.node, pytest.mark.timeout(900)]

# Long enough for the tenant to fall asleep first (idleAfter 10 s, woken 20 s before it is due).
IDLE_TIMER = "90s"
# The timer is due 90 s after the reply; the scheduler sweeps every 60 s once woken.
TIMER_FIRES_WITHIN = 240.0


@pytest.fixture
def sleepy(real_node: RealNode, model_tenant: ScriptedModel) -> Iterator[None]:
    with sleepy_tenant(real_node.kube, idle_timer=IDLE_TIMER):
        yield


async def conversation(services: NodeServices, contact: str) -> tuple[str, list[str]]:
    """The contact's conversation status and the reasons of its moves so far."""
    admin = urlsplit(services.admin_database_for_pods.replace("+asyncpg", ""))
    url = urlunsplit(admin._replace(netloc=f"postgres@127.0.0.1:{admin.port}"))
    schema = database_scope(TENANT_NS, TENANT).schema
    conn = await asyncpg.connect(plain_postgres_url(url))
    try:
        row = await conn.fetchrow(
            f'SELECT id, status FROM "{schema}".conversations '  # noqa: S608 - our own name
            "WHERE contact_number IN ($1::text, 'whatsapp:' || $1::text)",
            contact,
        )
        assert row is not None, contact
        moves = await conn.fetch(
            f'SELECT reason FROM "{schema}".conversation_state_history '  # noqa: S608
            "WHERE conversation_id = $1 ORDER BY changed_at",
            row["id"],
        )
    finally:
        await conn.close()
    return str(row["status"]), [str(m["reason"]) for m in moves]


async def test_a_sleeping_tenant_wakes_for_a_webhook_answers_once_and_its_timer_fires(
    real_node: RealNode, release: Release, services: NodeServices, sleepy: None
) -> None:
    kube = real_node.kube
    await asyncio.to_thread(wait_asleep, kube)
    assert events(kube, "Sleeping")

    contact = new_contact()
    url = release.gateway_url + WEBHOOK
    tenant = load_catalog(EXAMPLES).by_name(TENANT)
    data, headers = webhook_for(tenant, url, contact=contact, body="When are you open?")
    response = await post_until_accepted(url, data, headers, timeout=60)
    assert response.status_code == 200
    await eventually(lambda: services.sent_to(contact), until=bool, timeout=180)
    assert "1 message waiting" in events(kube, "Woken")

    # The conversation is in progress; its idle timer is due 90 s later. The tenant falls
    # asleep before that, wakes for the timer, and its scheduler moves the conversation.
    await asyncio.to_thread(wait_asleep, kube, pods_gone=False)
    assert (await conversation(services, contact))[0] == "progress"

    async def moved() -> tuple[str, list[str]]:
        return await conversation(services, contact)

    found: tuple[str, list[str]] = await eventually(
        moved, until=lambda now: now[0] == "idle_timeout", timeout=TIMER_FIRES_WITHIN
    )
    assert found[1][-1] == "idle_timer"
    assert any(e.startswith("a conversation timer is due at ") for e in events(kube, "Woken"))
    # Well past JetStream's ack wait by now: a redelivered message would have a second reply.
    assert len(services.sent_to(contact)) == 1
