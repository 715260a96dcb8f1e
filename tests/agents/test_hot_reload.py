"""Agent changes take effect in a running runtime, without a restart and without losing a turn."""

from __future__ import annotations

import asyncio
from pathlib import Path

from tests.agents.conftest import RuntimeFactory
from tests.agents.factories import (
    agent_doc,
    context,
    new_name,
    system_prompt_of,
    tenant_docs,
    write,
)
from tests.utils.openai_server import ScriptedModel, ScriptedReply
from tests.utils.waiting import eventually
from wta_runtime.agents.hot_reload import CatalogReloader
from wta_runtime.agents.turn import AgentTurn


def _write_agent(folder: Path, tenant: str, instructions: str) -> None:
    write(folder, [*tenant_docs(tenant, number="+14155550111")], "tenant.yaml")
    write(folder, [agent_doc("helper", tenant, instructions=instructions)], "agent.yaml")


async def test_an_edited_agent_answers_with_its_new_instructions(
    tmp_path: Path, make_runtime: RuntimeFactory, model: ScriptedModel
) -> None:
    tenant = new_name()
    _write_agent(tmp_path, tenant, "Version one.")
    runtime = make_runtime(tmp_path)
    reloader = CatalogReloader(tmp_path, initial=runtime.catalog)
    reloader.subscribe(runtime.swap)
    await runtime.respond(tenant, context(), "hi", [])

    _write_agent(tmp_path, tenant, "Version two.")
    changed = reloader.check()
    await runtime.respond(tenant, context(), "hi", [])

    assert changed
    assert not reloader.check()
    assert system_prompt_of(model.requests[0]).startswith("Version one.")
    assert system_prompt_of(model.requests[1]).startswith("Version two.")


async def test_a_broken_edit_keeps_the_last_good_agent(
    tmp_path: Path, make_runtime: RuntimeFactory, model: ScriptedModel
) -> None:
    tenant = new_name()
    _write_agent(tmp_path, tenant, "Still good.")
    runtime = make_runtime(tmp_path)
    reloader = CatalogReloader(tmp_path, initial=runtime.catalog)
    reloader.subscribe(runtime.swap)

    (tmp_path / "agent.yaml").write_text("kind: AIAgent\napiVersion: wta.io/v1alpha1\n")
    changed = reloader.check()
    await runtime.respond(tenant, context(), "hi", [])

    assert not changed
    assert reloader.last_error is not None
    assert system_prompt_of(model.requests[0]).startswith("Still good.")


async def test_the_polling_loop_swaps_while_a_turn_is_running(
    tmp_path: Path, make_runtime: RuntimeFactory, model: ScriptedModel
) -> None:
    tenant = new_name()
    _write_agent(tmp_path, tenant, "Before.")
    runtime = make_runtime(tmp_path)
    reloader = CatalogReloader(tmp_path, initial=runtime.catalog, interval_seconds=0.05)
    reloader.subscribe(runtime.swap)
    stop = asyncio.Event()
    polling = asyncio.create_task(reloader.run(stop))
    model.replies.append(ScriptedReply("slow answer", delay_seconds=0.5))
    try:
        running = asyncio.create_task(runtime.respond(tenant, context(), "hi", []))
        await asyncio.sleep(0.1)
        _write_agent(tmp_path, tenant, "After.")
        await eventually(
            lambda: runtime.catalog.resources[(tenant, "helper")].agent.spec.instructions,
            until=lambda instructions: instructions == "After.",
            timeout=5,
        )
        slow = await running
        fresh = await runtime.respond(tenant, context(), "hi again", [])
    finally:
        stop.set()
        await polling

    assert slow.text == "slow answer"  # the turn in flight finished with its own catalog
    assert system_prompt_of(model.requests[0]).startswith("Before.")
    assert system_prompt_of(model.requests[1]).startswith("After.")
    assert fresh.text == "scripted reply"


async def test_a_turn_whose_tenant_a_reload_removed_finishes_with_its_agents_own_key(
    tmp_path: Path, make_runtime: RuntimeFactory, model: ScriptedModel
) -> None:
    tenant, other = new_name(), new_name()
    own_key = {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "agent-llm"}}
    own_key["stringData"] = {"apiKey": "sk-agent-own"}
    model_spec = {"name": "gpt-4o-mini", "apiKeySecretRef": {"name": "agent-llm", "key": "apiKey"}}
    write(tmp_path, [*tenant_docs(tenant), own_key], "tenant.yaml")
    write(tmp_path, [agent_doc("helper", tenant, model=model_spec)], "agent.yaml")
    write(tmp_path, [*tenant_docs(other), agent_doc("helper", other)], "other.yaml")
    runtime = make_runtime(tmp_path)
    reloader = CatalogReloader(tmp_path, initial=runtime.catalog)
    reloader.subscribe(runtime.swap)
    # The worker took the tenant from its catalog for this turn; then the tenant moved away.
    served = runtime.catalog.tenant(tenant)
    assert served is not None
    (tmp_path / "tenant.yaml").unlink()
    (tmp_path / "agent.yaml").unlink()
    assert reloader.check()

    reply = await runtime.reply(AgentTurn(served, served.agents[0], "Ana", (), "hello"))

    assert (reply.text, reply.agent) == ("scripted reply", "helper")
    assert model.authorizations == ["Bearer sk-agent-own"]
