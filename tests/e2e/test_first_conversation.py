"""A contact writes on WhatsApp; the platform answers once, whatever Twilio does."""

from __future__ import annotations

import asyncio
from pathlib import Path

import httpx
import nats
import yaml
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from tests.conftest import EXAMPLES, OPENAI_TENANT, Platform, TwilioServer
from tests.utils.openai_server import ScriptedModel
from tests.utils.waiting import eventually
from tests.utils.webhooks import new_contact, webhook_for
from wta_runtime.agents.offline import OFFLINE_LABEL
from wta_runtime.catalog import TenantCatalog
from wta_runtime.db.tables import Conversation, Message
from wta_runtime.stream.names import TenantStream

WEBHOOK = "/api/v1/twilio/webhook"


def example_knowledge() -> list[dict[str, str]]:
    """The knowledge entries of the agent defined in examples/, read from the file itself."""
    for path in EXAMPLES.glob("*.yaml"):
        for doc in yaml.safe_load_all(path.read_text()):
            if doc and doc["kind"] == "AIAgent":
                return list(doc["spec"]["knowledge"]["entries"])
    raise AssertionError("examples/ defines no AIAgent")


async def post(platform: Platform, path: str, data: dict[str, str], headers: dict[str, str]):
    async with httpx.AsyncClient(base_url=platform.gateway_url) as client:
        return await client.post(path, data=data, headers=headers)


async def stream_messages(nats_url: str, tenant: str) -> int:
    connection = await nats.connect(nats_url)
    try:
        info = await connection.jetstream().stream_info(TenantStream(tenant).stream)
        return int(info.state.messages)
    finally:
        await connection.close()


async def test_signed_webhook_gets_exactly_one_reply(
    platform: Platform, catalog: TenantCatalog, twilio: TwilioServer
) -> None:
    tenant = catalog.by_name("acme-pizza")
    contact = new_contact()
    data, headers = webhook_for(
        tenant, platform.gateway_url + WEBHOOK, contact=contact, body="Do you deliver?"
    )

    response = await post(platform, WEBHOOK, data, headers)

    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/xml")
    assert "<Response></Response>" in response.text
    replies = await eventually(lambda: twilio.sent_to(contact), until=lambda r: len(r) >= 1)
    await asyncio.sleep(1.0)
    assert len(twilio.sent_to(contact)) == 1
    assert replies[0].from_ == f"whatsapp:{tenant.numbers[0]}"


async def test_reply_comes_from_the_example_agent_knowledge(
    platform: Platform, catalog: TenantCatalog, twilio: TwilioServer
) -> None:
    tenant = catalog.by_name("acme-pizza")
    hours = next(e for e in example_knowledge() if "hours" in e["keywords"])
    contact = new_contact()
    data, headers = webhook_for(
        tenant, platform.gateway_url + WEBHOOK, contact=contact, body="When are you open?"
    )

    assert (await post(platform, WEBHOOK, data, headers)).status_code == 200

    replies = await eventually(lambda: twilio.sent_to(contact), until=bool)
    assert replies[0].body == f"{OFFLINE_LABEL} {hours['answer']}"


async def test_twilio_retries_give_one_stored_message_and_one_reply(
    platform: Platform,
    catalog: TenantCatalog,
    twilio: TwilioServer,
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    tenant = catalog.by_name("acme-pizza")
    contact = new_contact()
    data, headers = webhook_for(
        tenant, platform.gateway_url + WEBHOOK, contact=contact, body="menu please"
    )

    statuses = [(await post(platform, WEBHOOK, data, headers)).status_code for _ in range(3)]

    assert statuses == [200, 200, 200]
    await eventually(lambda: twilio.sent_to(contact), until=bool)
    await asyncio.sleep(1.5)
    assert len(twilio.sent_to(contact)) == 1
    async with sessions() as session:
        stored = await session.scalar(
            select(func.count()).where(Message.twilio_sid == data["MessageSid"])
        )
        conversations = await session.scalar(
            select(func.count()).where(Conversation.contact_number == contact)
        )
    assert stored == 1
    assert conversations == 1


async def test_forged_signature_is_refused_and_nothing_reaches_the_stream(
    platform: Platform, catalog: TenantCatalog, twilio: TwilioServer, nats_url: str
) -> None:
    tenant = catalog.by_name("acme-pizza")
    contact = new_contact()
    data, _ = webhook_for(tenant, platform.gateway_url + WEBHOOK, contact=contact, body="hi")
    before = await stream_messages(nats_url, tenant.name)

    forged = await post(platform, WEBHOOK, data, {"X-Twilio-Signature": "Zm9yZ2VkIHNpZ25hdHVyZQ=="})
    unsigned = await post(platform, WEBHOOK, data, {})
    tampered_data = {**data, "Body": "send me everything"}
    _, real_headers = webhook_for(
        tenant,
        platform.gateway_url + WEBHOOK,
        contact=contact,
        body="hi",
        message_sid=data["MessageSid"],
    )
    tampered = await post(platform, WEBHOOK, tampered_data, real_headers)

    assert [forged.status_code, unsigned.status_code, tampered.status_code] == [403, 403, 403]
    await asyncio.sleep(0.5)
    assert await stream_messages(nats_url, tenant.name) == before
    assert twilio.sent_to(contact) == []


async def test_unknown_number_or_tenant_gets_404(
    platform: Platform, catalog: TenantCatalog
) -> None:
    tenant = catalog.by_name("acme-pizza")
    data, headers = webhook_for(
        tenant, platform.gateway_url + WEBHOOK, contact=new_contact(), body="hi"
    )
    unknown_number = {**data, "To": "whatsapp:+19998887777"}
    path = WEBHOOK + "/no-such-tenant"

    assert (await post(platform, WEBHOOK, unknown_number, headers)).status_code == 404
    assert (await post(platform, path, data, headers)).status_code == 404


async def test_tenant_url_accepts_signed_webhook(
    platform: Platform, catalog: TenantCatalog, twilio: TwilioServer
) -> None:
    tenant = catalog.by_name("acme-pizza")
    contact = new_contact()
    path = f"{WEBHOOK}/{tenant.name}"
    data, headers = webhook_for(tenant, platform.gateway_url + path, contact=contact, body="pizza")

    assert (await post(platform, path, data, headers)).status_code == 200
    await eventually(lambda: twilio.sent_to(contact), until=bool)


async def test_malformed_or_oversized_bodies_get_a_clear_4xx(platform: Platform) -> None:
    async with httpx.AsyncClient(base_url=platform.gateway_url) as client:
        as_json = await client.post(WEBHOOK, json={"Body": "hi"})
        oversized = await client.post(
            WEBHOOK,
            content=b"Body=" + b"x" * 70_000,
            headers={"content-type": "application/x-www-form-urlencoded"},
        )
        missing = await client.post(WEBHOOK, data={"Body": "hi"})

    assert as_json.status_code == 415
    assert "x-www-form-urlencoded" in as_json.text
    assert oversized.status_code == 413
    assert missing.status_code == 400
    assert "AccountSid" in missing.text


async def test_real_model_answers_with_the_example_agent_instructions(
    platform: Platform,
    catalog: TenantCatalog,
    twilio: TwilioServer,
    scripted_model: ScriptedModel,
) -> None:
    tenant = catalog.by_name(OPENAI_TENANT)
    agent = tenant.default_agent()
    assert agent is not None
    scripted_model.replies.append("Our Margherita costs 9 EUR.")
    contact = new_contact()
    data, headers = webhook_for(
        tenant, platform.gateway_url + WEBHOOK, contact=contact, body="How much is a pizza?"
    )

    assert (await post(platform, WEBHOOK, data, headers)).status_code == 200

    replies = await eventually(lambda: twilio.sent_to(contact), until=bool)
    assert replies[0].body == "Our Margherita costs 9 EUR."
    request = scripted_model.requests[-1]
    system = request["messages"][0]
    assert system["role"] == "system"
    assert agent.spec.instructions.strip() in system["content"]
    assert request["messages"][-1] == {"role": "user", "content": "How much is a pizza?"}
    assert request["model"] == agent.spec.model.name


async def test_health_readiness_and_metrics(platform: Platform) -> None:
    async with httpx.AsyncClient(base_url=platform.gateway_url) as client:
        health = await client.get("/healthz")
        ready = await client.get("/readyz")
        metrics = await client.get("/metrics")

    assert health.status_code == 200
    assert ready.json() == {"status": "ok", "nats": "connected"}
    assert "wta_webhook_requests_total" in metrics.text


async def test_an_edited_agent_answers_in_the_running_worker_without_a_restart(
    platform: Platform,
    catalog: TenantCatalog,
    manifests_dir: Path,
    twilio: TwilioServer,
    scripted_model: ScriptedModel,
) -> None:
    tenant = catalog.by_name(OPENAI_TENANT)
    twin = manifests_dir / "zz-openai-twin.yaml"
    original = twin.read_text()
    marker = "Always mention the pizza of the day."

    async def system_prompt_after(text: str) -> str:
        contact = new_contact()
        data, headers = webhook_for(
            tenant, platform.gateway_url + WEBHOOK, contact=contact, body=text
        )
        assert (await post(platform, WEBHOOK, data, headers)).status_code == 200
        await eventually(lambda: twilio.sent_to(contact), until=bool)
        request = next(
            r for r in reversed(scripted_model.requests) if r["messages"][-1]["content"] == text
        )
        return str(request["messages"][0]["content"])

    twin.write_text(
        original.replace(
            "You are the WhatsApp assistant", f"{marker} You are the WhatsApp assistant"
        )
    )
    try:
        prompt = await eventually(
            lambda: system_prompt_after(f"hi {new_contact()}"),
            until=lambda p: marker in p,
            timeout=20,
        )
    finally:
        twin.write_text(original)
    restored = await eventually(
        lambda: system_prompt_after(f"hello {new_contact()}"),
        until=lambda p: marker not in p,
        timeout=20,
    )

    assert marker in prompt
    assert marker not in restored
