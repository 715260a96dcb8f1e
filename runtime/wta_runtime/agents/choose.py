"""Chooses the agent provider from the settings: a real model when a key is set, else offline."""

from __future__ import annotations

from wta_runtime.agents.offline import OfflineAgentProvider
from wta_runtime.agents.openai_provider import OpenAIAgentProvider
from wta_runtime.agents.turn import AgentProvider
from wta_runtime.settings import Settings


def provider_from_settings(settings: Settings) -> AgentProvider:
    if settings.openai_api_key is not None and settings.openai_api_key.get_secret_value():
        return OpenAIAgentProvider(
            api_key=settings.openai_api_key, base_url=settings.openai_base_url
        )
    return OfflineAgentProvider()
