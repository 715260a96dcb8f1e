"""send_media: the model attaches the agent's files by name; a wrong name is an answer it reads."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from tests.agents.conftest import RuntimeFactory
from tests.agents.factories import agent_doc, context, new_name, tenant_docs, write
from tests.utils.openai_server import ScriptedModel, ScriptedReply, call
from wta_runtime.db.agent_tables import ToolCall

MENU_URL = "https://cdn.shop.example/menu.jpg"
MAP_URL = "https://cdn.shop.example/map.png"
MEDIA = [
    {
        "name": "menu",
        "url": MENU_URL,
        "description": "Photo of the menu",
        "contentType": "image/jpeg",
    },
    {"name": "map", "url": MAP_URL, "description": "How to find us"},
]


def _tenant(folder: Path, **spec: object) -> str:
    name = new_name()
    write(folder, [*tenant_docs(name), agent_doc("helper", name, **spec)])
    return name


async def test_the_model_attaches_a_file_and_answers_with_text(
    tmp_path: Path,
    make_runtime: RuntimeFactory,
    model: ScriptedModel,
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    name = _tenant(tmp_path, media=MEDIA)
    runtime = make_runtime(tmp_path)
    turn = context()
    model.replies += [
        ScriptedReply(tool_calls=[call("send_media", name="menu")]),
        "Here is our menu.",
    ]

    reply = await runtime.respond(name, turn, "What do you have?", [])

    assert reply.text == "Here is our menu."
    assert reply.media_urls == (MENU_URL,)
    [tool] = model.requests[0]["tools"]
    assert tool["function"]["name"] == "send_media"
    assert "- menu: Photo of the menu (image/jpeg)" in tool["function"]["description"]
    assert "- map: How to find us" in tool["function"]["description"]
    result = model.requests[1]["messages"][-1]
    assert result["role"] == "tool"
    assert result["content"].startswith("attached menu")
    async with sessions() as session:
        stored = (
            await session.scalars(select(ToolCall).where(ToolCall.turn_key == turn.turn_key))
        ).one()
    assert (stored.name, stored.status, stored.arguments) == ("send_media", "ok", {"name": "menu"})


async def test_a_file_without_text_is_a_whole_reply(
    tmp_path: Path, make_runtime: RuntimeFactory, model: ScriptedModel
) -> None:
    name = _tenant(tmp_path, media=MEDIA)
    runtime = make_runtime(tmp_path)
    model.replies += [ScriptedReply(tool_calls=[call("send_media", name="map")]), ""]

    reply = await runtime.respond(name, context(), "Where are you?", [])

    assert (reply.text, reply.media_urls, reply.fallback) == ("", (MAP_URL,), False)
    assert len(model.requests) == 2  # not retried as an empty answer


async def test_an_unknown_name_is_told_to_the_model_which_picks_again(
    tmp_path: Path, make_runtime: RuntimeFactory, model: ScriptedModel
) -> None:
    name = _tenant(tmp_path, media=MEDIA)
    runtime = make_runtime(tmp_path)
    model.replies += [
        ScriptedReply(tool_calls=[call("send_media", name="wine-list")]),
        ScriptedReply(tool_calls=[call("send_media", name="map")]),
        "This is how to find us.",
    ]

    reply = await runtime.respond(name, context(), "Where are you?", [])

    error = model.requests[1]["messages"][-1]["content"]
    assert "no file named 'wine-list'" in error
    assert "menu, map" in error
    assert reply.text == "This is how to find us."
    assert reply.media_urls == ("https://cdn.shop.example/map.png",)
    assert not reply.fallback


async def test_an_agent_without_files_is_not_offered_send_media(
    tmp_path: Path, make_runtime: RuntimeFactory, model: ScriptedModel
) -> None:
    name = _tenant(tmp_path)
    runtime = make_runtime(tmp_path)
    model.replies += [ScriptedReply(tool_calls=[call("send_media", name="menu")]), "Hi!", "Hi!"]

    reply = await runtime.respond(name, context(), "menu?", [])

    assert "tools" not in model.requests[0]
    assert reply.media_urls == ()
    assert reply.text == "Hi!"  # the call to a tool it was never offered was retried
