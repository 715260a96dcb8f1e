"""A deterministic agent that answers from knowledge entries, for running without a model."""

from __future__ import annotations

import re

from wta_runtime.agents.turn import AgentReply, AgentTurn
from wta_runtime.specs import KnowledgeEntry

OFFLINE_LABEL = "[offline agent]"
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


class OfflineAgentProvider:
    """Answers with the best-matching knowledge entry; every reply is labelled as offline."""

    name = "offline"

    async def reply(self, turn: AgentTurn) -> AgentReply:
        entries = list(turn.agent.spec.knowledge.entries)
        entry = best_entry(entries, turn.user_text)
        if entry is not None:
            text = entry.answer
        elif entries:
            topics = "; ".join(e.question for e in entries)
            text = f"I can help with: {topics}"
        else:
            text = f"Hello from {turn.tenant.spec.display_name}! How can I help?"
        return AgentReply(text=f"{OFFLINE_LABEL} {text}", provider=self.name)
