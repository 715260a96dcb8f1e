"""An agent sends its menu photo through the real platform: one WhatsApp message, never two."""

from __future__ import annotations

import secrets
from datetime import UTC, datetime

import httpx
import nats

from tests.conftest import RELAY_TENANT, EngineWorkers, TwilioServer
from tests.utils.openai_server import ScriptedModel, ScriptedReply, call
from tests.utils.waiting import eventually
from tests.utils.webhooks import new_contact, webhook_for
from wta_runtime.catalog import TenantCatalog
from wta_runtime.stream.inbound import InboundMessage
from wta_runtime.stream.names import TenantStream

WEBHOOK = "/api/v1/twilio/webhook"


async def _redeliver(nats_url: str, message: InboundMessage) -> None:
    """Put the message on its thread again, as JetStream does when an ack is lost."""
    names = TenantStream(message.tenant)
    connection = await nats.connect(nats_url)
    try:
        js = connection.jetstream()
        await js.publish(
            names.thread_subject(message.from_number, message.to_number),
            message.model_dump_json().encode(),
            stream=names.stream,
            headers={"Nats-Msg-Id": f"{message.message_sid}:again"},
        )

        async def waiting() -> int:
            info = await js.consumer_info(names.stream, names.worker_durable)
            return int(info.num_pending or 0) + int(info.num_ack_pending or 0)

        # Handled once nothing waits in the workers' consumer, neither undelivered nor unacked.
        await eventually(waiting, until=lambda count: count == 0)
    finally:
        await connection.close()


async def test_the_menu_photo_goes_with_the_answer_once_whatever_is_delivered_again(
    engine_workers: EngineWorkers,
    catalog: TenantCatalog,
    twilio: TwilioServer,
    scripted_model: ScriptedModel,
    nats_url: str,
) -> None:
    tenant = catalog.by_name(RELAY_TENANT)
    agent = tenant.default_agent()
    assert agent is not None
    assert agent.spec.media, "the example agent has a menu photo"
    contact, token = new_contact(), secrets.token_hex(3)
    scripted_model.replies += [
        ScriptedReply(tool_calls=[call("send_media", name="menu")]),
        f"{token} Here is our menu.",
    ]
    url = engine_workers.platform.gateway_url
    data, headers = webhook_for(tenant, url + WEBHOOK, contact=contact, body=f"{token} menu?")

    async with httpx.AsyncClient(base_url=url) as client:
        assert (await client.post(WEBHOOK, data=data, headers=headers)).status_code == 200
        [sent] = await eventually(lambda: twilio.sent_to(contact), until=bool)
        # Twilio retries the webhook (JetStream drops it), then the worker gets it again.
        assert (await client.post(WEBHOOK, data=data, headers=headers)).status_code == 200
    await _redeliver(nats_url, InboundMessage.from_twilio(RELAY_TENANT, data, datetime.now(UTC)))

    assert (sent.body, sent.media_urls) == (f"{token} Here is our menu.", [agent.spec.media[0].url])
    assert twilio.sent_to(contact) == [sent]
    asked = [r for r in scripted_model.requests if token in str(r["messages"])]
    assert len(asked) == 2  # the turn's two model calls (send_media, then the text), never again
    assert "send_media" in {t["function"]["name"] for t in asked[0]["tools"]}
    assert asked[1]["messages"][-1]["role"] == "tool"
