"""A deterministic agent that answers from knowledge entries, for running without a model.

It also uses the agent's built-in tools on their keywords: a user asking for a person is handed
off (handoff_to_human), a goodbye closes the conversation (close_conversation), and a message
naming one of the agent's files (`spec.media`, e.g. "menu") gets that file with the answer.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from wta_runtime.agents.builtin_tools import ACTION_TEXT, MAX_MEDIA_PER_REPLY
from wta_runtime.agents.handoff_policy import ASKS_FOR_HUMAN
from wta_runtime.agents.turn import AgentAction, AgentReply, AgentTurn
from wta_runtime.conversation.intents import is_closing_intent, mentions_any
from wta_runtime.conversation.turn_text import contact_words
from wta_runtime.specs import KnowledgeEntry, MediaEntry

OFFLINE_LABEL = "[offline agent]"
MEDIA_ONLY_TEXT = "Here it is."
_WORD = re.compile(r"\w+", re.UNICODE)


def _words(text: str) -> set[str]:
    return {w.lower() for w in _WORD.findall(text) if len(w) > 2}


def best_entry(entries: list[KnowledgeEntry], text: str) -> KnowledgeEntry | None:
    """The entry whose keywords (worth 3) and question words (worth 1) best match the text."""
    asked = _words(text)
    best: tuple[int, KnowledgeEntry] | None = None
    for entry in entries:
        score = 3 * len(asked & {k.lower() for k in entry.keywords})
        score += len(asked & _words(entry.question))
        if score and (best is None or score > best[0]):
            best = (score, entry)
    return best[1] if best else None


@dataclass(frozen=True)
class OfflineAnswer:
    """The offline agent's text (unlabelled), its actions, and whether it really answered."""

    text: str
    actions: tuple[AgentAction, ...] = ()
    answered: bool = True
    media_urls: tuple[str, ...] = ()


def named_media(media: list[MediaEntry], text: str) -> tuple[str, ...]:
    """The files whose every name word (split on - and _) the text contains, in catalog order."""
    asked = {w.lower() for w in _WORD.findall(text)}
    named = [m.url for m in media if set(re.split(r"[-_]", m.name)) <= asked]
    return tuple(named[:MAX_MEDIA_PER_REPLY])


def offline_answer(turn: AgentTurn) -> OfflineAnswer:
    """Tools on their keywords first, then the best knowledge entry, else what it can answer."""
    spec = turn.agent.spec
    builtin = set(spec.tools.builtin)
    text = contact_words(turn.user_text)
    if "handoff_to_human" in builtin and mentions_any(
        text, [*ASKS_FOR_HUMAN, *spec.handoff.keywords]
    ):
        action = AgentAction("handoff_to_human", "the user asked for a person")
        return OfflineAnswer(ACTION_TEXT["handoff_to_human"], (action,))
    closing = turn.tenant.spec.conversation.closing_keywords
    if "close_conversation" in builtin and is_closing_intent(text, closing):
        action = AgentAction("close_conversation", "the user said goodbye")
        return OfflineAnswer(ACTION_TEXT["close_conversation"], (action,))
    media = named_media(list(spec.media), text)
    entries = list(spec.knowledge.entries)
    entry = best_entry(entries, text)
    if entry is not None:
        return OfflineAnswer(entry.answer, media_urls=media)
    if media:
        return OfflineAnswer(MEDIA_ONLY_TEXT, media_urls=media)
    if entries:
        topics = "; ".join(e.question for e in entries)
        return OfflineAnswer(f"I can help with: {topics}", answered=False)
    return OfflineAnswer(
        f"Hello from {turn.tenant.spec.display_name}! How can I help?", answered=False
    )


class OfflineAgentProvider:
    """Answers with the best-matching knowledge entry; every reply is labelled as offline."""

    name = "offline"

    async def reply(self, turn: AgentTurn) -> AgentReply:
        answer = offline_answer(turn)
        return AgentReply(
            text=f"{OFFLINE_LABEL} {answer.text}",
            provider=self.name,
            actions=answer.actions,
            agent=turn.agent.name,
            media_urls=answer.media_urls,
        )
