"""Model providers: the integration each needs, whether it is installed, one chat model per
account. `openai` is the SDK's short path; the others load LangChain only when first used."""

from __future__ import annotations

import importlib
import importlib.util
from collections.abc import Iterable
from dataclasses import dataclass

from pydantic import SecretStr

from wta_runtime.agents.chat_model import ChatModel, FailureReason, ModelStep, StepRequest
from wta_runtime.agents.model_calls import ModelClients, OpenAIChatModel
from wta_runtime.egress.policy import EgressPolicy

# provider -> (the LangChain integration's module, the runtime's extra that installs it)
INTEGRATIONS: dict[str, tuple[str, str]] = {
    "anthropic": ("langchain_anthropic", "anthropic"),
    "google_genai": ("langchain_google_genai", "google"),
    "mistralai": ("langchain_mistralai", "mistral"),
}


def missing_integration(provider: str) -> str | None:
    """Why `provider` cannot run in this process (its extra is not installed), or None."""
    if provider not in INTEGRATIONS:
        return None
    module, extra = INTEGRATIONS[provider]
    if importlib.util.find_spec(module) is not None:
        return None
    package = module.replace("_", "-")
    return (
        f"model provider {provider!r} needs the runtime's {extra!r} extra ({package}), "
        f"which is not installed: pip install 'whatsapp-twilio-ai[{extra}]', or use an image "
        "built with it"
    )


def load_integrations(providers: Iterable[str]) -> None:
    """Import the LangChain integrations of `providers` now, where blocking is harmless (startup,
    the catalog reloader's thread): a first import takes seconds, and in the middle of a turn it
    would stall every conversation of the process (and lose their thread leases)."""
    wanted = {p for p in providers if p in INTEGRATIONS and missing_integration(p) is None}
    if not wanted:
        return
    importlib.import_module("wta_runtime.agents.langchain_models")
    for provider in sorted(wanted):
        importlib.import_module(INTEGRATIONS[provider][0])


class ProviderUnavailable(Exception):
    """The agent's provider cannot run here; every call fails at once, with the reason."""


@dataclass(frozen=True)
class UnavailableChatModel:
    """Stands in for a provider whose integration is missing: turns fall back, not crash."""

    provider: str
    problem: str

    async def step(self, request: StepRequest) -> ModelStep:
        raise ProviderUnavailable(self.problem)

    def failure_reason(self, exc: Exception) -> FailureReason | None:
        return "rejected" if isinstance(exc, ProviderUnavailable) else None


class ChatModels:
    """One chat model per (provider, key, base URL), made on first use and kept."""

    def __init__(self, egress: EgressPolicy | None = None) -> None:
        """`egress`: where an endpoint a tenant wrote may be."""
        self._egress = egress or EgressPolicy()
        self.openai = ModelClients(self._egress)
        self._models: dict[tuple[str, str, str | None, bool], ChatModel] = {}

    def get(
        self, provider: str, api_key: SecretStr, base_url: str | None, *, checked: bool = False
    ) -> ChatModel:
        """`checked`: `base_url` is the tenant's, reached only where the egress policy allows."""
        key = (provider, api_key.get_secret_value(), base_url, checked)
        if key not in self._models:
            self._models[key] = self._make(provider, api_key, base_url, checked)
        return self._models[key]

    def _make(
        self, provider: str, api_key: SecretStr, base_url: str | None, checked: bool
    ) -> ChatModel:
        if provider == "openai":
            return OpenAIChatModel(self.openai.get(api_key, base_url, checked=checked))
        problem = missing_integration(provider)
        if problem is not None:
            return UnavailableChatModel(provider, problem)
        # Imported here: LangChain costs memory a process without such agents should not pay.
        from wta_runtime.agents.langchain_models import LangChainChatModel

        return LangChainChatModel(
            provider, api_key, base_url, egress=self._egress if checked else None
        )

    async def close(self) -> None:
        self._models.clear()
        await self.openai.close()
