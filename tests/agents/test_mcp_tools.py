"""MCP tools: a real MCP server's allowed tools offered, called with the Secret's token, and a
server that is down, slow, broken, refusing us or outside the platform's egress policy costs its
tools, never the turn. The shop server is on loopback: the platform allows it (`LOOPBACK`)."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from prometheus_client import REGISTRY

from tests.agents.conftest import RuntimeFactory
from tests.agents.factories import agent_doc, context, new_name, tenant_docs, write
from tests.utils.egress import refusals
from tests.utils.mcp_server import SHOP_TOKEN, ShopMcp, serve_shop_mcp, shop_mcp_manifests
from tests.utils.openai_server import ScriptedModel, ScriptedReply, call
from wta_runtime.agents.mcp_tools import LIST_TTL_SECONDS, RETRY_SECONDS, McpTools
from wta_runtime.egress.policy import LOOPBACK
from wta_runtime.local.processes import free_port
from wta_runtime.specs import McpServer

AGENT = "orders"


@pytest.fixture
def shop() -> Iterator[ShopMcp]:
    with serve_shop_mcp() as server:
        yield server


def _tenant(folder: Path, url: str, **fields: Any) -> str:
    """A tenant whose agent has the shop's MCP server, its token read from a Secret."""
    name = new_name()
    secret, server = shop_mcp_manifests(name, url, **fields)
    tools = {"builtin": ["handoff_to_human"], "mcp": [server]}
    write(folder, [*tenant_docs(name), secret, agent_doc(AGENT, name, tools=tools)])
    return name


def _offered(request: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {t["function"]["name"]: t["function"] for t in request.get("tools", [])}


def _calls(tenant: str, outcome: str) -> float:
    """MCP calls of the shop server by the tenant's agent that ended with `outcome`."""
    labels = {"tenant": tenant, "agent": AGENT, "server": "shop", "outcome": outcome}
    return REGISTRY.get_sample_value("wta_agent_mcp_calls_total", labels) or 0.0


def _unavailable(tenant: str) -> float:
    labels = {"tenant": tenant, "agent": AGENT, "server": "shop"}
    return REGISTRY.get_sample_value("wta_agent_mcp_unavailable_total", labels) or 0.0


async def test_the_model_calls_an_allowed_tool_and_answers_with_its_result(
    tmp_path: Path, make_runtime: RuntimeFactory, model: ScriptedModel, shop: ShopMcp
) -> None:
    name = _tenant(tmp_path, shop.url)
    runtime = make_runtime(tmp_path, egress=LOOPBACK)
    model.replies += [
        ScriptedReply(tool_calls=[call("shop_check_order_status", order="A-17")]),
        "Your order A-17 is out for delivery: about 20 minutes.",
    ]
    before = _calls(name, "ok")

    reply = await runtime.respond(name, context(), "where is my order A-17?", [])

    offered = _offered(model.requests[0])
    assert set(offered) == {"handoff_to_human", "shop_check_order_status"}  # not cancel_order
    assert offered["shop_check_order_status"]["description"] == (
        "Where an order is now, by its number (e.g. A-17)."
    )
    assert offered["shop_check_order_status"]["parameters"]["required"] == ["order"]
    assert shop.calls == [("check_order_status", {"order": "A-17"})]
    [record] = reply.tool_calls
    assert (record.name, record.status, record.arguments) == (
        "shop_check_order_status",
        "ok",
        {"order": "A-17"},
    )
    assert record.result == "Order A-17: out for delivery, arriving in about 20 minutes."
    told = model.requests[1]["messages"][-1]
    assert (told["role"], told["content"]) == ("tool", record.result)
    assert reply.text == "Your order A-17 is out for delivery: about 20 minutes."
    after = _calls(name, "ok")
    assert after == before + 1


async def test_the_tools_are_listed_once_for_many_turns(
    tmp_path: Path, make_runtime: RuntimeFactory, model: ScriptedModel, shop: ShopMcp
) -> None:
    name = _tenant(tmp_path, shop.url)
    runtime = make_runtime(tmp_path, egress=LOOPBACK)

    for turn in range(3):
        await runtime.respond(name, context(), f"hello {turn}", [])

    assert shop.listings() == 1
    assert all("shop_check_order_status" in _offered(r) for r in model.requests)


async def test_a_tool_outside_the_allow_list_cannot_be_called(
    tmp_path: Path, make_runtime: RuntimeFactory, model: ScriptedModel, shop: ShopMcp
) -> None:
    name = _tenant(tmp_path, shop.url)
    runtime = make_runtime(tmp_path, egress=LOOPBACK)
    cancel = ScriptedReply(tool_calls=[call("shop_cancel_order", order="A-17")])
    model.replies += [cancel, cancel]

    reply = await runtime.respond(name, context(), "cancel A-17", [])

    assert reply.fallback  # the model insisted on a tool it was not given: its reply is malformed
    assert shop.calls == []


async def test_a_server_that_refuses_our_token_leaves_its_tools_out(
    tmp_path: Path, make_runtime: RuntimeFactory, model: ScriptedModel, shop: ShopMcp
) -> None:
    name = _tenant(tmp_path, shop.url, token="an-old-token")
    runtime = make_runtime(tmp_path, egress=LOOPBACK)
    model.replies += ["I cannot look orders up right now; a person will check A-17."]
    before = _unavailable(name)

    reply = await runtime.respond(name, context(), "where is my order A-17?", [])

    assert set(shop.refused) == {"Bearer an-old-token"}
    assert set(_offered(model.requests[0])) == {"handoff_to_human"}
    assert (reply.text, reply.fallback) == (
        "I cannot look orders up right now; a person will check A-17.",
        False,
    )
    after = _unavailable(name)
    assert after == before + 1


async def test_a_server_that_is_down_leaves_its_tools_out_and_the_turn_answers(
    tmp_path: Path, make_runtime: RuntimeFactory, model: ScriptedModel
) -> None:
    name = _tenant(tmp_path, f"http://127.0.0.1:{free_port()}/mcp", timeoutSeconds=2)
    runtime = make_runtime(tmp_path, egress=LOOPBACK)
    model.replies += ["Our order system is not answering; a person will check A-17."]

    reply = await runtime.respond(name, context(), "where is my order A-17?", [])

    assert set(_offered(model.requests[0])) == {"handoff_to_human"}
    assert reply.text == "Our order system is not answering; a person will check A-17."
    assert not reply.fallback


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost"])
async def test_a_server_on_an_internal_address_is_unavailable_and_never_asked(
    tmp_path: Path,
    make_runtime: RuntimeFactory,
    model: ScriptedModel,
    shop: ShopMcp,
    caplog: pytest.LogCaptureFixture,
    host: str,
) -> None:
    name = _tenant(tmp_path, shop.url.replace("127.0.0.1", host))
    runtime = make_runtime(tmp_path)  # the platform's default: public addresses only
    model.replies += ["Our order system is not available; a person will check A-17."]

    with caplog.at_level(logging.WARNING):
        reply = await runtime.respond(name, context(), "where is my order A-17?", [])

    assert set(_offered(model.requests[0])) == {"handoff_to_human"}
    assert not reply.fallback
    assert (shop.methods, shop.refused) == ([], [])
    assert _unavailable(name) == 1
    assert refusals(name, "mcp") == 1
    assert f"refused ({host} is not allowed by the platform's egress policy" in caplog.text


async def test_a_server_that_goes_down_after_listing_fails_the_call_not_the_turn(
    tmp_path: Path, make_runtime: RuntimeFactory, model: ScriptedModel, shop: ShopMcp
) -> None:
    name = _tenant(tmp_path, shop.url)
    runtime = make_runtime(tmp_path, egress=LOOPBACK)
    await runtime.respond(name, context(), "hello", [])  # lists the tools
    shop.down = True
    model.replies += [
        ScriptedReply(tool_calls=[call("shop_check_order_status", order="A-17")]),
        "Sorry, I cannot see your order right now.",
    ]
    before = _calls(name, "unreachable")

    reply = await runtime.respond(name, context(), "where is my order A-17?", [])

    [record] = reply.tool_calls
    assert record.status == "error"
    assert record.result.startswith("error: the tool's server failed (")
    assert reply.text == "Sorry, I cannot see your order right now."
    after = _calls(name, "unreachable")
    assert after == before + 1


async def test_a_slow_tool_times_out_into_an_error_the_model_reads(
    tmp_path: Path, make_runtime: RuntimeFactory, model: ScriptedModel, shop: ShopMcp
) -> None:
    name = _tenant(tmp_path, shop.url, allowTools=["slow_lookup"], timeoutSeconds=1)
    runtime = make_runtime(tmp_path, egress=LOOPBACK)
    model.replies += [
        ScriptedReply(tool_calls=[call("shop_slow_lookup", order="A-17")]),
        "The order system is slow today; a person will check A-17.",
    ]

    reply = await runtime.respond(name, context(), "where is my order A-17?", [])

    [record] = reply.tool_calls
    assert (record.status, record.result) == ("error", "error: no answer within 1s")
    assert model.requests[1]["messages"][-1]["content"] == "error: no answer within 1s"
    assert reply.text == "The order system is slow today; a person will check A-17."
    timeouts = _calls(name, "timeout")
    assert timeouts == 1


async def test_a_tool_error_is_told_to_the_model(
    tmp_path: Path, make_runtime: RuntimeFactory, model: ScriptedModel, shop: ShopMcp
) -> None:
    name = _tenant(tmp_path, shop.url, allowTools=["broken_lookup"])
    runtime = make_runtime(tmp_path, egress=LOOPBACK)
    model.replies += [
        ScriptedReply(tool_calls=[call("shop_broken_lookup", order="A-17")]),
        "I cannot see your order now.",
    ]

    reply = await runtime.respond(name, context(), "where is my order A-17?", [])

    [record] = reply.tool_calls
    assert (record.status, record.result) == (
        "error",
        "error: Error executing tool broken_lookup: the order database is offline",
    )
    assert reply.text == "I cannot see your order now."


async def test_the_token_never_reaches_the_logs(
    tmp_path: Path,
    make_runtime: RuntimeFactory,
    model: ScriptedModel,
    shop: ShopMcp,
    caplog: pytest.LogCaptureFixture,
) -> None:
    name = _tenant(tmp_path, shop.url)
    runtime = make_runtime(tmp_path, egress=LOOPBACK)
    model.replies += [
        ScriptedReply(tool_calls=[call("shop_check_order_status", order="A-17")]),
        "ok",
    ]

    with caplog.at_level(logging.DEBUG):
        await runtime.respond(name, context(), "where is my order A-17?", [])
        shop.down = True
        await runtime.respond(name, context(), "and now?", [])

    assert shop.calls  # the token was sent
    assert SHOP_TOKEN not in caplog.text


def _resolved(tenant: str, url: str) -> tuple[McpServer, dict[str, dict[str, str]]]:
    """The shop server's spec and its headers with the Secret's value, as the catalog has them."""
    secret, server = shop_mcp_manifests(tenant, url)
    return McpServer.model_validate(server), {
        "shop": {"Authorization": secret["stringData"]["authorization"]}
    }


class _Clock:
    """A monotonic clock the test moves forward."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


async def test_a_server_back_up_is_listed_again_after_the_retry_delay(shop: ShopMcp) -> None:
    clock = _Clock()
    servers = McpTools(LOOPBACK, clock)
    spec, headers = _resolved("t-retry", shop.url)
    shop.down = True

    assert (await servers.offer("t-retry", AGENT, [spec], headers)).tools == {}
    shop.down = False
    assert (await servers.offer("t-retry", AGENT, [spec], headers)).tools == {}  # not asked yet
    assert shop.listings() == 0
    clock.now += RETRY_SECONDS + 1
    offer = await servers.offer("t-retry", AGENT, [spec], headers)

    assert set(offer.tools) == {"shop_check_order_status"}
    assert shop.listings() == 1


async def test_a_listing_is_renewed_when_it_expires(shop: ShopMcp) -> None:
    clock = _Clock()
    servers = McpTools(LOOPBACK, clock)
    spec, headers = _resolved("t-ttl", shop.url)

    await servers.offer("t-ttl", AGENT, [spec], headers)
    clock.now += LIST_TTL_SECONDS - 1
    await servers.offer("t-ttl", AGENT, [spec], headers)
    assert shop.listings() == 1
    clock.now += 2
    await servers.offer("t-ttl", AGENT, [spec], headers)

    assert shop.listings() == 2
