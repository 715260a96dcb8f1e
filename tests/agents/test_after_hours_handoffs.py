"""The runtime's own words after hours: the policy's handoff, the offline agent's, and a handoff
after failed turns tell the contact when people are back; the prompt names the tenant's hours."""

from __future__ import annotations

from datetime import datetime
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
from wta_runtime.agents.offline import OFFLINE_LABEL

LISBON = ZoneInfo("Europe/Lisbon")
HOURS = {
    "timeZone": "Europe/Lisbon",
    "weekly": [{"day": d, "from": "10:00", "to": "19:00"} for d in ("mon", "tue", "wed")],
    "holidays": [{"date": "2026-12-01", "name": "Restauração da Independência"}],
}
HOLIDAY_NOON = datetime(2026, 12, 1, 12, 0, tzinfo=LISBON)  # a Tuesday, but a holiday
BACK_EN = "when we are back on Wednesday, December 2 at 10:00 AM."


def _shop(folder: Path, **agent: object) -> str:
    name = new_name()
    [secret, tenant] = tenant_docs(name)
    tenant["spec"]["businessHours"] = HOURS
    instructions = "People answer {{business_hours}}."
    write(folder, [secret, tenant, agent_doc("helper", name, instructions=instructions, **agent)])
    return name


async def test_the_policys_handoff_on_a_holiday_says_when_people_are_back(
    tmp_path: Path, make_runtime: RuntimeFactory, model: ScriptedModel
) -> None:
    name = _shop(tmp_path)
    runtime = make_runtime(tmp_path, clock=lambda: HOLIDAY_NOON)

    reply = await runtime.respond(name, context(), "Can I talk to a real person?", [])

    [handoff] = reply.actions
    assert handoff.after_hours is not None
    assert handoff.after_hours.back_at == datetime(2026, 12, 2, 10, 0, tzinfo=LISBON)
    assert reply.text.endswith(BACK_EN)
    assert model.requests == []


async def test_the_offline_agent_keeps_its_label_and_tells_when_people_are_back(
    tmp_path: Path, make_runtime: RuntimeFactory
) -> None:
    # The offline agent's own handoff tool, not the policy's.
    name = _shop(
        tmp_path, handoff={"onUserRequest": False}, tools={"builtin": ["handoff_to_human"]}
    )
    runtime = make_runtime(tmp_path, offline=True, clock=lambda: HOLIDAY_NOON)

    reply = await runtime.respond(name, context(language="pt-PT"), "quero falar com um humano", [])

    assert reply.text.startswith(f"{OFFLINE_LABEL} Nossa equipe não está disponível agora.")
    assert reply.text.endswith("quando voltarmos: quarta-feira, 2 de dezembro, às 10:00.")


async def test_a_handoff_after_failed_turns_adds_when_people_are_back_to_the_fallback(
    tmp_path: Path, make_runtime: RuntimeFactory, model: ScriptedModel
) -> None:
    name = _shop(tmp_path, handoff={"afterFailedTurns": 1})
    runtime = make_runtime(tmp_path, clock=lambda: HOLIDAY_NOON)
    model.fail_with_status = 500

    reply = await runtime.respond(name, context(), "where is my pizza", [])

    [handoff] = reply.actions
    assert handoff.reason == "too many failed turns"
    assert handoff.after_hours is not None
    assert reply.text.startswith("Tenant fallback: a person will answer soon.\n\n")
    assert reply.text.endswith(BACK_EN)


async def test_the_prompt_names_the_tenants_hours_and_holidays(
    tmp_path: Path, make_runtime: RuntimeFactory, model: ScriptedModel
) -> None:
    name = _shop(tmp_path)
    runtime = make_runtime(tmp_path, clock=lambda: HOLIDAY_NOON)

    await runtime.respond(name, context(), "hello", [])

    assert system_prompt_of(model.requests[0]).startswith(
        "People answer mon, tue, wed 10:00-19:00; closed 2026-12-01 "
        "(Restauração da Independência) (Europe/Lisbon)."
    )
