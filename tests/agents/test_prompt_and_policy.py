"""Instructions with variables, business hours in the handoff policy, the provider interface."""

from __future__ import annotations

import os
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from tests.agents.conftest import RuntimeFactory
from tests.agents.factories import (
    agent_doc,
    context,
    new_name,
    system_prompt_of,
    tenant_docs,
    write,
)
from tests.utils.openai_server import ScriptedModel
from wta_runtime.agents.agent_catalog import fingerprint
from wta_runtime.agents.knowledge import config_maps_from_mounts
from wta_runtime.agents.prompt import render_instructions
from wta_runtime.agents.turn import AgentAction, AgentTurn, HistoryEntry
from wta_runtime.catalog import load_catalog
from wta_runtime.conversation.business_hours import AfterHours

INSTRUCTIONS = (
    "You work for {{tenant}}. Greet {{ contact_name }} in {{language}}. "
    "People answer {{business_hours}}. Keep {{unknown}} and {literal} as written."
)
HANDOFF = {
    "outsideBusinessHours": True,
    "businessHours": {
        "timeZone": "Europe/Madrid",
        "windows": [
            {"days": ["mon", "tue", "wed", "thu", "fri"], "start": "09:00", "end": "18:00"}
        ],
    },
}
MONDAY_NOON_MADRID = datetime(2026, 11, 23, 11, 0, tzinfo=UTC)
SUNDAY = datetime(2026, 11, 22, 11, 0, tzinfo=UTC)


def _shop(folder: Path) -> str:
    name = new_name()
    agent = agent_doc("helper", name, instructions=INSTRUCTIONS, handoff=HANDOFF)
    write(folder, [*tenant_docs(name), agent])
    return name


def test_unknown_variables_are_left_as_written() -> None:
    assert render_instructions("{{a}} {{b}} {c}", {"a": "x"}) == "x {{b}} {c}"


async def test_instruction_variables_are_filled_in(
    tmp_path: Path, make_runtime: RuntimeFactory, model: ScriptedModel
) -> None:
    name = _shop(tmp_path)
    runtime = make_runtime(tmp_path, clock=lambda: MONDAY_NOON_MADRID)

    await runtime.respond(name, context(contact_name="Ana", language="Portuguese"), "oi", [])

    prompt = system_prompt_of(model.requests[0])
    assert prompt.startswith(
        f"You work for Shop {name}. Greet Ana in Portuguese. "
        "People answer mon, tue, wed, thu, fri 09:00-18:00 (Europe/Madrid). "
        "Keep {{unknown}} and {literal} as written."
    )


async def test_outside_business_hours_the_policy_hands_off(
    tmp_path: Path, make_runtime: RuntimeFactory, model: ScriptedModel
) -> None:
    name = _shop(tmp_path)
    weekend = make_runtime(tmp_path, clock=lambda: SUNDAY)

    reply = await weekend.respond(name, context(language="en"), "hello", [])

    # The deprecated agent-level setting still works, and now says when people are back.
    back = AfterHours(
        datetime(2026, 11, 23, 9, 0, tzinfo=ZoneInfo("Europe/Madrid")), "Europe/Madrid"
    )
    assert reply.actions == (AgentAction("handoff_to_human", "outside business hours", back),)
    assert reply.text.endswith("when we are back on Monday, November 23 at 9:00 AM.")
    assert model.requests == []


async def test_the_runtime_is_a_drop_in_agent_provider(
    tmp_path: Path, make_runtime: RuntimeFactory, model: ScriptedModel
) -> None:
    name = _shop(tmp_path)
    runtime = make_runtime(tmp_path, clock=lambda: MONDAY_NOON_MADRID)
    tenant = load_catalog(tmp_path).by_name(name)
    agent = tenant.agents[0]

    reply = await runtime.reply(AgentTurn(tenant, agent, "Ana", (), "hello"))

    assert (reply.text, reply.provider, reply.agent) == ("scripted reply", "openai", "helper")


def test_mounted_configmaps_are_read_through_their_links(tmp_path: Path) -> None:
    """Kubernetes mounts keys as links into a '..data' folder it swaps on every update."""
    mount = tmp_path / "configmaps" / "menu-docs"
    (mount / "..2026_11_24").mkdir(parents=True)
    (mount / "..2026_11_24" / "menu.md").write_text("Margherita 9 EUR")
    os.symlink("..2026_11_24", mount / "..data")
    os.symlink("..data/menu.md", mount / "menu.md")
    manifests = tmp_path / "manifests"
    manifests.mkdir()
    before = fingerprint(manifests, configmaps_dir=tmp_path / "configmaps")

    found = config_maps_from_mounts(tmp_path / "configmaps")
    (mount / "..2026_11_24" / "menu.md").write_text("Margherita 10 EUR")

    assert found == {"menu-docs": {"menu.md": "Margherita 9 EUR"}}
    assert fingerprint(manifests, configmaps_dir=tmp_path / "configmaps") != before


async def test_the_chosen_agent_sees_only_its_memory_window(
    tmp_path: Path, make_runtime: RuntimeFactory, model: ScriptedModel
) -> None:
    name = new_name()
    write(tmp_path, [*tenant_docs(name), agent_doc("helper", name, memory={"window": 2})])
    runtime = make_runtime(tmp_path)
    history = [HistoryEntry("user" if i % 2 else "assistant", f"message {i}") for i in range(6)]

    await runtime.respond(name, context(), "latest", history)

    sent = [m["content"] for m in model.requests[0]["messages"][1:]]
    assert sent == ["message 4", "message 5", "latest"]
