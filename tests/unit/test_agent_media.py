"""An agent's media: the spec refuses bad catalogs, the tool picks by name, parts carry one file."""

from __future__ import annotations

import dataclasses
from typing import Any

import httpx
import pytest
from pydantic import ValidationError

from tests.conftest import EXAMPLES
from wta_runtime.agents.agent_catalog import load_agent_catalog
from wta_runtime.agents.builtin_tools import (
    MAX_MEDIA_PER_REPLY,
    MediaChoice,
    send_media_definition,
)
from wta_runtime.agents.offline import OFFLINE_LABEL, OfflineAgentProvider, named_media
from wta_runtime.agents.toolbox import Toolbox
from wta_runtime.agents.turn import AgentTurn, HistoryEntry
from wta_runtime.catalog import Agent, TenantCatalog, load_catalog
from wta_runtime.db.outbound import with_media
from wta_runtime.specs import AIAgentSpec, MediaEntry
from wta_runtime.worker.turn_context import history_entry

MENU = {"name": "menu", "url": "https://cdn.acme.example/menu.jpg", "description": "The menu"}
PRICES = {
    "name": "price-list",
    "url": "https://cdn.acme.example/prices.pdf",
    "description": "Prices of every pizza",
    "contentType": "application/pdf",
}


def _agent(**spec: Any) -> dict[str, Any]:
    return {"tenantRef": {"name": "shop"}, "instructions": "Be kind.", **spec}


def _entries(*items: dict[str, Any]) -> list[MediaEntry]:
    return [MediaEntry.model_validate(i) for i in items]


def test_an_agent_lists_files_by_name_with_https_urls() -> None:
    spec = AIAgentSpec.model_validate(_agent(media=[MENU, PRICES]))

    assert [(m.name, m.content_type) for m in spec.media] == [
        ("menu", None),
        ("price-list", "application/pdf"),
    ]
    assert AIAgentSpec.model_validate(_agent()).media == []


@pytest.mark.parametrize(
    ("media", "refusal"),
    [
        ([{**MENU, "url": "http://cdn.acme.example/menu.jpg"}], "url"),
        ([{**MENU, "url": "ftp://cdn.acme.example/menu.jpg"}], "url"),
        ([{**MENU, "url": "https://"}], "url"),
        ([MENU, {**PRICES, "name": "menu"}], "media 'menu' is listed twice"),
        ([{**MENU, "name": "Menu Photo"}], "name"),
        ([{**MENU, "name": "-menu"}], "name"),
        ([{**MENU, "description": ""}], "description"),
        ([{**MENU, "contentType": "jpeg"}], "contentType"),
        ([{**MENU, "caption": "x"}], "Extra inputs are not permitted"),
        ([{**MENU, "name": f"f{i}"} for i in range(21)], "at most 20 items"),
    ],
)
def test_a_bad_media_catalog_is_refused(media: list[dict[str, Any]], refusal: str) -> None:
    with pytest.raises(ValidationError, match=refusal):
        AIAgentSpec.model_validate(_agent(media=media))


def test_no_http_tool_may_be_called_send_media() -> None:
    tool = {
        "name": "send_media",
        "description": "x",
        "url": "https://api.example/x",
        "allowedHosts": ["api.example"],
    }

    with pytest.raises(ValidationError, match="send_media"):
        AIAgentSpec.model_validate(_agent(tools={"http": [tool]}))


def test_the_tool_description_lists_every_file_with_what_it_shows() -> None:
    definition = send_media_definition(_entries(MENU, PRICES))

    function = definition["function"]
    assert function["name"] == "send_media"
    assert "- menu: The menu" in function["description"]
    assert "- price-list: Prices of every pizza (application/pdf)" in function["description"]
    parameters: dict[str, Any] = dict(function["parameters"])
    assert parameters["properties"]["name"]["enum"] == ["menu", "price-list"]
    assert parameters["required"] == ["name"]


def test_an_unknown_name_is_an_error_the_model_can_read() -> None:
    choice = MediaChoice(_entries(MENU, PRICES))

    text, status = choice.pick("wine-list")

    assert status == "error"
    assert "no file named 'wine-list'" in text
    assert "menu, price-list" in text
    assert choice.urls == []
    assert choice.pick(None)[1] == "error"


def test_each_file_is_attached_once_in_the_order_chosen() -> None:
    choice = MediaChoice(_entries(MENU, PRICES))

    results = [choice.pick("price-list"), choice.pick("menu"), choice.pick("price-list")]

    assert [status for _, status in results] == ["ok", "ok", "ok"]
    assert "already attached" in results[2][0]
    assert choice.urls == [PRICES["url"], MENU["url"]]


def test_a_reply_carries_a_few_files_at_most() -> None:
    many = _entries(*({**MENU, "name": f"f{i}", "url": f"{MENU['url']}?{i}"} for i in range(8)))
    choice = MediaChoice(many)

    statuses = [choice.pick(f"f{i}")[1] for i in range(8)]

    assert statuses == ["ok"] * MAX_MEDIA_PER_REPLY + ["refused"] * (8 - MAX_MEDIA_PER_REPLY)
    assert len(choice.urls) == MAX_MEDIA_PER_REPLY


def _example() -> TenantCatalog:
    return load_catalog(EXAMPLES)


async def test_send_media_is_offered_only_to_an_agent_with_files() -> None:
    with_files = load_agent_catalog(EXAMPLES).resources[("acme-pizza", "pizza-assistant")]
    agent = with_files.agent
    without = dataclasses.replace(
        with_files, agent=Agent(agent.name, agent.spec.model_copy(update={"media": []}))
    )
    async with httpx.AsyncClient() as http:
        offered = Toolbox(with_files, http).definitions()
        plain = Toolbox(without, http)

        assert [d["function"]["name"] for d in offered] == ["send_media"]
        assert plain.definitions() == []
        assert plain.media_urls == []


def test_the_first_file_goes_with_the_first_part_and_each_other_alone() -> None:
    assert with_media(["one", "two"], ["https://a/1.jpg", "https://a/2.pdf"]) == [
        ("one", ["https://a/1.jpg"]),
        ("two", []),
        ("", ["https://a/2.pdf"]),
    ]
    assert with_media(["only text"], []) == [("only text", [])]
    assert with_media([], ["https://a/1.jpg"]) == [("", ["https://a/1.jpg"])]


def test_the_offline_agent_sends_a_file_the_message_names() -> None:
    media = _entries(MENU, PRICES)

    assert named_media(media, "Can I see the MENU please?") == (MENU["url"],)
    assert named_media(media, "your price list?") == (PRICES["url"],)
    assert named_media(media, "prices?") == ()


async def test_the_offline_example_agent_answers_with_the_menu_photo() -> None:
    tenant = _example().by_name("acme-pizza")
    agent = tenant.default_agent()
    assert agent is not None
    turn = AgentTurn(tenant=tenant, agent=agent, contact_name=None, history=(), user_text="menu?")

    reply = await OfflineAgentProvider().reply(turn)

    assert reply.text.startswith(OFFLINE_LABEL)
    assert reply.media_urls == (agent.spec.media[0].url,)


def test_the_next_turn_remembers_which_files_went_out() -> None:
    # (direction, author, body, delivery status, details): a stored message as the turn reads it.
    with_text = ("outbound", "agent", "Our menu.", "delivered", {"media_urls": [MENU["url"]]})
    file_only = ("outbound", "agent", "", "queued", {"media_urls": [PRICES["url"]]})

    assert history_entry(*with_text) == HistoryEntry(
        "assistant", f"Our menu.\n[sent a file: {MENU['url']}]"
    )
    assert history_entry(*file_only) == HistoryEntry("assistant", f"[sent a file: {PRICES['url']}]")
