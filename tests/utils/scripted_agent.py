"""An in-process agent provider that answers from a script and keeps every turn it was given."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field

from wta_runtime.agents.turn import AgentReply, AgentTurn


@dataclass
class ScriptedAgent:
    """Replies (or raises) in script order, then `default`; `turns` records what it was asked."""

    script: list[AgentReply | Exception] = field(default_factory=list)
    default: str = "scripted answer"
    turns: list[AgentTurn] = field(default_factory=list)
    name: str = "scripted"
    # How long each reply takes to make (a model thinking), 0 for at once.
    thinking_seconds: float = 0.0

    async def reply(self, turn: AgentTurn) -> AgentReply:
        self.turns.append(turn)
        if self.thinking_seconds:
            await asyncio.sleep(self.thinking_seconds)
        item = self.script.pop(0) if self.script else AgentReply(self.default, self.name)
        if isinstance(item, Exception):
            raise item
        return item
