"""Runs an agent on any OpenAI-compatible chat completions endpoint with the OpenAI SDK."""

from __future__ import annotations

from openai import AsyncOpenAI
from openai.types.chat import ChatCompletionMessageParam
from pydantic import SecretStr

from wta_runtime.agents.turn import AgentReply, AgentTurn, system_prompt


class AgentModelError(RuntimeError):
    """The model endpoint gave no usable reply."""


def chat_messages(turn: AgentTurn) -> list[ChatCompletionMessageParam]:
    """The request messages: system prompt, the recent history, then the user's message."""
    messages: list[ChatCompletionMessageParam] = [
        {"role": "system", "content": system_prompt(turn)}
    ]
    for entry in turn.history:
        if entry.role == "user":
            messages.append({"role": "user", "content": entry.text})
        else:
            messages.append({"role": "assistant", "content": entry.text})
    messages.append({"role": "user", "content": turn.user_text})
    return messages


class OpenAIAgentProvider:
    """Calls the chat completions API; the tenant's own key and endpoint win over the platform's."""

    name = "openai"

    def __init__(self, *, api_key: SecretStr, base_url: str | None) -> None:
        self._api_key = api_key
        self._base_url = base_url
        self._clients: dict[tuple[str, str | None], AsyncOpenAI] = {}

    def _client(self, turn: AgentTurn) -> AsyncOpenAI:
        key = turn.tenant.model_api_key or self._api_key
        base_url = turn.tenant.spec.model.base_url or self._base_url
        cache_key = (key.get_secret_value(), base_url)
        if cache_key not in self._clients:
            self._clients[cache_key] = AsyncOpenAI(
                api_key=key.get_secret_value(), base_url=base_url, max_retries=2
            )
        return self._clients[cache_key]

    async def reply(self, turn: AgentTurn) -> AgentReply:
        model = turn.agent.spec.model
        completion = await self._client(turn).chat.completions.create(
            model=model.name,
            messages=chat_messages(turn),
            temperature=model.temperature,
            max_tokens=model.max_tokens,
            timeout=model.timeout_seconds,
        )
        if not completion.choices or not completion.choices[0].message.content:
            raise AgentModelError("the model returned no text")
        return AgentReply(text=completion.choices[0].message.content.strip(), provider=self.name)

    async def close(self) -> None:
        for client in self._clients.values():
            await client.close()
