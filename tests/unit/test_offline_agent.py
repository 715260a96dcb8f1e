"""The offline agent answers from knowledge entries and says it is offline."""

from __future__ import annotations

from tests.conftest import EXAMPLES
from wta_runtime.agents.offline import OFFLINE_LABEL, OfflineAgentProvider, best_entry
from wta_runtime.agents.turn import AgentTurn
from wta_runtime.catalog import load_catalog


def _turn(text: str) -> AgentTurn:
    tenant = load_catalog(EXAMPLES).by_name("acme-pizza")
    agent = tenant.default_agent()
    assert agent is not None
    return AgentTurn(tenant=tenant, agent=agent, contact_name=None, history=(), user_text=text)


async def test_keyword_picks_the_matching_answer() -> None:
    turn = _turn("Do you do delivery to my street?")
    expected = next(e for e in turn.agent.spec.knowledge.entries if "delivery" in e.keywords)

    reply = await OfflineAgentProvider().reply(turn)

    assert reply.text == f"{OFFLINE_LABEL} {expected.answer}"
    assert reply.provider == "offline"


async def test_unknown_question_lists_what_it_can_answer() -> None:
    turn = _turn("xyzzy")

    reply = await OfflineAgentProvider().reply(turn)

    assert reply.text.startswith(OFFLINE_LABEL)
    for entry in turn.agent.spec.knowledge.entries:
        assert entry.question in reply.text


def test_no_match_gives_none() -> None:
    assert best_entry([], "hours") is None
