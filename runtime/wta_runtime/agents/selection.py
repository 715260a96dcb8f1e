"""Which of a tenant's agents answers: rules first, then the sticky choice, the router, the default.

A rule that matches always wins (highest priority, then name), even over the agent that answered
the conversation so far; otherwise the conversation keeps its agent. A new conversation without a
matching rule goes to the LLM router when agents describe themselves, else to the default agent.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Literal

from wta_runtime.agents.agent_catalog import AgentCatalog, AgentResources
from wta_runtime.agents.chat_model import ChatModel
from wta_runtime.agents.model_calls import ModelFailure, RetryBudget
from wta_runtime.agents.router import route
from wta_runtime.agents.turn import HistoryEntry, Usage
from wta_runtime.catalog import Agent, Tenant
from wta_runtime.conversation.intents import mentions_any
from wta_runtime.specs import SelectionRule

log = logging.getLogger("wta.agents")
Method = Literal["rule", "sticky", "router", "default", "spend_limit"]


@dataclass(frozen=True)
class Choice:
    """The chosen agent, how it was chosen, and a short detail (the rule, the router's pick)."""

    agent: Agent
    method: Method
    detail: str | None = None


def rule_matches(rule: SelectionRule, text: str) -> bool:
    """Any keyword as a whole word (case and accents aside), or the regex anywhere."""
    if rule.keywords and mentions_any(text, rule.keywords):
        return True
    return rule.regex is not None and re.search(rule.regex, text, re.IGNORECASE) is not None


def _describe(rule: SelectionRule) -> str:
    return f"regex {rule.regex}" if rule.regex else f"keywords {', '.join(rule.keywords)}"[:200]


def by_rules(agents: tuple[Agent, ...], text: str) -> Choice | None:
    """The highest-priority agent with a matching rule (ties by name), or None."""
    matches: list[tuple[int, str, Choice]] = []
    for agent in agents:
        for rule in agent.spec.selection.rules:
            if rule_matches(rule, text):
                matches.append(
                    (
                        -agent.spec.selection.priority,
                        agent.name,
                        Choice(agent, "rule", _describe(rule)),
                    )
                )
                break
    return min(matches, key=lambda m: (m[0], m[1]))[2] if matches else None


def routable(tenant: Tenant) -> list[Agent]:
    """The agents the LLM router may choose: those with a selection description."""
    return [a for a in tenant.agents if a.spec.selection.description]


def choose_without_model(tenant: Tenant, text: str, sticky: str | None) -> Choice | None:
    """Rules, then the sticky agent; None when only the router or the default can decide."""
    ruled = by_rules(tenant.agents, text)
    if ruled is not None:
        return ruled
    for agent in tenant.agents:
        if agent.name == sticky:
            return Choice(agent, "sticky")
    return None


def history_window(tenant: Tenant) -> int:
    """How many earlier messages a turn loads: enough for whichever agent selection picks."""
    return max((agent.spec.memory.window for agent in tenant.agents), default=0)


def default_choice(tenant: Tenant) -> Choice | None:
    """The tenant's default agent (marked default, else the first), or None without agents."""
    agent = tenant.default_agent()
    return Choice(agent, "default") if agent is not None else None


async def select_agent(
    tenant: Tenant,
    catalog: AgentCatalog,
    user_text: str,
    history: Sequence[HistoryEntry],
    *,
    sticky: str | None,
    model_for: Callable[[AgentResources], ChatModel | None],
    budget: RetryBudget,
) -> tuple[Choice | None, Usage]:
    """The agent for this turn and what asking the router cost; the router runs on the
    default agent's model, and its failure means the default agent."""
    choice = choose_without_model(tenant, user_text, sticky)
    if choice is not None:
        return choice, Usage()
    fallback = default_choice(tenant)
    candidates = routable(tenant)
    resources = catalog.agent(tenant.name, fallback.agent.name) if fallback else None
    chat = model_for(resources) if resources else None
    if len(tenant.agents) < 2 or not candidates or resources is None or chat is None:
        return fallback, Usage()
    try:
        agent, spent = await route(
            chat,
            tenant=tenant,
            agents=candidates,
            model=resources.agent.spec.model,
            user_text=user_text,
            history=history,
            budget=budget,
        )
    except ModelFailure as failure:
        log.warning("router of tenant %s failed (%s); using the default", tenant.name, failure)
        return fallback, failure.usage
    if agent is None:
        return fallback, spent
    return Choice(agent, "router", "chosen by the LLM router"), spent
