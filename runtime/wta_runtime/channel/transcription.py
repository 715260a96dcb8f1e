"""Turns voice messages into text through an OpenAI-compatible transcription endpoint."""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

from pydantic import SecretStr

from wta_runtime.catalog import Tenant
from wta_runtime.channel.media import MediaUnavailableError

if TYPE_CHECKING:
    from openai import AsyncOpenAI


class Transcriber(Protocol):
    """Writes down what a voice message says."""

    async def transcribe(self, tenant: Tenant, audio: bytes, content_type: str) -> str: ...


class OpenAITranscriber:
    """`POST /audio/transcriptions`; the tenant's own key and endpoint win over the platform's."""

    def __init__(self, *, api_key: SecretStr, base_url: str | None, model: str) -> None:
        self._api_key = api_key
        self._base_url = base_url
        self._model = model
        self._clients: dict[tuple[str, str | None], AsyncOpenAI] = {}

    def _client(self, tenant: Tenant) -> AsyncOpenAI:
        key = (tenant.model_api_key or self._api_key).get_secret_value()
        base_url = tenant.spec.model.base_url or self._base_url
        if (key, base_url) not in self._clients:
            from openai import AsyncOpenAI

            self._clients[key, base_url] = AsyncOpenAI(api_key=key, base_url=base_url)
        return self._clients[key, base_url]

    async def transcribe(self, tenant: Tenant, audio: bytes, content_type: str) -> str:
        from openai import APIConnectionError, APITimeoutError, InternalServerError, RateLimitError

        extension = content_type.split("/")[-1] or "ogg"
        try:
            result = await self._client(tenant).audio.transcriptions.create(
                model=self._model, file=(f"voice.{extension}", audio, content_type)
            )
        except (APITimeoutError, APIConnectionError, RateLimitError, InternalServerError) as exc:
            raise MediaUnavailableError(f"transcription failed: {type(exc).__name__}") from exc
        return result.text.strip()

    async def close(self) -> None:
        for client in self._clients.values():
            await client.close()
