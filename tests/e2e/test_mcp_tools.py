"""An agent answers a WhatsApp message with an MCP tool's result, through the real platform."""

from __future__ import annotations

import secrets

import httpx

from tests.conftest import MCP_TENANT, EngineWorkers, TwilioServer
from tests.utils.mcp_server import ShopMcp
from tests.utils.openai_server import ScriptedModel, ScriptedReply, call
from tests.utils.waiting import eventually
from tests.utils.webhooks import new_contact, webhook_for
from wta_runtime.catalog import TenantCatalog

WEBHOOK = "/api/v1/twilio/webhook"


async def test_the_reply_carries_what_the_shops_mcp_server_said(
    engine_workers: EngineWorkers,
    catalog: TenantCatalog,
    twilio: TwilioServer,
    scripted_model: ScriptedModel,
    shop_mcp: ShopMcp,
) -> None:
    engine_workers.spawn(MCP_TENANT, "mcp-pizza-1")
    tenant = catalog.by_name(MCP_TENANT)
    contact, order = new_contact(), f"A-{secrets.token_hex(3)}"
    scripted_model.replies += [
        ScriptedReply(tool_calls=[call("shop_check_order_status", order=order)]),
        f"Good news: order {order} is out for delivery, about 20 minutes.",
    ]
    url = engine_workers.platform.gateway_url
    data, headers = webhook_for(
        tenant, url + WEBHOOK, contact=contact, body=f"where is my order {order}?"
    )

    async with httpx.AsyncClient(base_url=url) as client:
        assert (await client.post(WEBHOOK, data=data, headers=headers)).status_code == 200
    [sent] = await eventually(lambda: twilio.sent_to(contact), until=bool)

    assert sent.body == f"Good news: order {order} is out for delivery, about 20 minutes."
    assert ("check_order_status", {"order": order}) in shop_mcp.calls
    asked = [r for r in scripted_model.requests if order in str(r["messages"])]
    assert len(asked) == 2  # the tool call, then the reply written with its result
    offered = {t["function"]["name"] for t in asked[0]["tools"]}
    assert offered == {"handoff_to_human", "send_media", "shop_check_order_status"}
    told = asked[1]["messages"][-1]
    assert (told["role"], told["content"]) == (
        "tool",
        f"Order {order}: out for delivery, arriving in about 20 minutes.",
    )
