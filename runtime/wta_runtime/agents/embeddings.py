"""Text embeddings for semantic recall: an offline hashing embedder and an OpenAI-compatible one."""

from __future__ import annotations

import hashlib
import math
import re
import unicodedata
from collections.abc import Sequence
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from openai import AsyncOpenAI


OFFLINE_DIMENSION = 256
_WORD = re.compile(r"\w+", re.UNICODE)


class Embedder(Protocol):
    """Turns texts into vectors; `name` tells vectors of different embedders apart."""

    name: str

    async def embed(self, texts: Sequence[str]) -> list[list[float]]: ...


def words(text: str) -> list[str]:
    """Lower-case words without accents, so 'Adiós' and 'adios' are one word."""
    folded = unicodedata.normalize("NFKD", text.casefold())
    plain = "".join(c for c in folded if not unicodedata.combining(c))
    return _WORD.findall(plain)


def _bucket(token: str, dimension: int) -> tuple[int, float]:
    digest = hashlib.blake2b(token.encode("utf-8"), digest_size=8).digest()
    value = int.from_bytes(digest, "big")
    return value % dimension, 1.0 if (value >> 63) & 1 else -1.0


def hashed_vector(text: str, dimension: int = OFFLINE_DIMENSION) -> list[float]:
    """A unit vector from hashed words and word prefixes: same words, similar vectors."""
    vector = [0.0] * dimension
    for word in words(text):
        # The 5-letter prefix makes 'delivery' and 'deliver' land close together.
        for token, weight in ((word, 1.0), (f"p:{word[:5]}", 0.5)):
            index, sign = _bucket(token, dimension)
            vector[index] += sign * weight
    norm = math.sqrt(sum(v * v for v in vector))
    return [v / norm for v in vector] if norm else vector


class HashingEmbedder:
    """Deterministic embeddings for local mode and tests: a hashed bag of words."""

    def __init__(self, dimension: int = OFFLINE_DIMENSION) -> None:
        self.dimension = dimension
        self.name = f"offline-hash-{dimension}"

    async def embed(self, texts: Sequence[str]) -> list[list[float]]:
        return [hashed_vector(t, self.dimension) for t in texts]


class OpenAIEmbedder:
    """Embeddings from any OpenAI-compatible `/embeddings` endpoint."""

    def __init__(self, client: AsyncOpenAI, model: str, *, timeout_seconds: float = 10) -> None:
        self._client = client
        self._model = model
        self._timeout = timeout_seconds
        self.name = model

    async def embed(self, texts: Sequence[str]) -> list[list[float]]:
        if not texts:
            return []
        response = await self._client.embeddings.create(
            model=self._model, input=list(texts), timeout=self._timeout
        )
        ordered = sorted(response.data, key=lambda item: item.index)
        return [list(item.embedding) for item in ordered]


def cosine(a: Sequence[float], b: Sequence[float]) -> float:
    """Cosine similarity; 0 for vectors of different length or zero norm."""
    if len(a) != len(b):
        return 0.0
    dot = sum(x * y for x, y in zip(a, b, strict=True))
    norm = math.sqrt(sum(x * x for x in a)) * math.sqrt(sum(y * y for y in b))
    return dot / norm if norm else 0.0
