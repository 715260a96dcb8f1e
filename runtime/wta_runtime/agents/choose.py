"""Builds the agent side of a worker from its settings: embedder, runtime, reloader, ingester."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from pathlib import Path

import httpx
from pydantic_settings import BaseSettings, SettingsConfigDict
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from wta_runtime.agents.agent_catalog import AgentCatalog, load_agent_catalog
from wta_runtime.agents.document_sources import FetchPolicy
from wta_runtime.agents.embeddings import Embedder, HashingEmbedder, OpenAIEmbedder
from wta_runtime.agents.hot_reload import CatalogReloader
from wta_runtime.agents.knowledge_ingest import KnowledgeIngester
from wta_runtime.agents.model_calls import RetryBudget
from wta_runtime.agents.runtime import AgentRuntime, utcnow
from wta_runtime.catalog import Tenant
from wta_runtime.channel.media_store import MediaStore
from wta_runtime.settings import Settings


class AgentSettings(BaseSettings):
    """`WTA_AGENT_*` settings of the agent runtime (the platform's own live in Settings)."""

    model_config = SettingsConfigDict(
        env_prefix="WTA_AGENT_", env_file=".env", env_file_encoding="utf-8", extra="ignore"
    )

    embedding_model: str | None = None  # unset: the offline hashing embedder
    configmaps_dir: Path | None = None  # mounted ConfigMaps with knowledge documents
    reload_interval_seconds: float = 2.0
    model_attempts: int = 3
    retry_backoff_seconds: float = 0.25
    max_tool_steps: int = 5
    # How often URL and S3 knowledge sources are fetched again to see whether they changed
    # (ConfigMap sources are re-read as soon as their mounted files change).
    knowledge_refresh_seconds: float = 300.0
    # Local mode only: knowledge URLs may be plain http (a document server on loopback).
    knowledge_allow_http: bool = False
    # Local mode only: the agents' clock (business hours, `{{now}}`) stands still at this moment,
    # so a demo or a test can show a handoff on a holiday night.
    clock_at: datetime | None = None


def embedder_from_settings(settings: Settings, agent_settings: AgentSettings) -> Embedder:
    """A real embeddings endpoint when a key and a model are set; else the offline one."""
    key = settings.openai_api_key
    if agent_settings.embedding_model and key is not None and key.get_secret_value():
        from openai import AsyncOpenAI

        client = AsyncOpenAI(
            api_key=key.get_secret_value(), base_url=settings.openai_base_url, max_retries=2
        )
        return OpenAIEmbedder(client, agent_settings.embedding_model)
    return HashingEmbedder()


def _clock(at: datetime | None) -> Callable[[], datetime]:
    return utcnow if at is None else lambda: at


def agent_runtime(
    settings: Settings,
    agent_settings: AgentSettings,
    catalog: AgentCatalog,
    sessions: async_sessionmaker[AsyncSession],
    *,
    embedder: Embedder | None = None,
    http: httpx.AsyncClient | None = None,
) -> AgentRuntime:
    """The agent runtime of the tenants whose conversations `sessions` reach."""
    if agent_settings.clock_at is not None and settings.environment != "local":
        raise ValueError("WTA_AGENT_CLOCK_AT is for local mode only: unset it in production")
    if agent_settings.knowledge_allow_http and settings.environment != "local":
        raise ValueError(
            "WTA_AGENT_KNOWLEDGE_ALLOW_HTTP is for local mode only: serve documents over https"
        )
    return AgentRuntime(
        catalog=catalog,
        sessions=sessions,
        embedder=embedder or embedder_from_settings(settings, agent_settings),
        platform_api_key=settings.openai_api_key,
        platform_base_url=settings.openai_base_url,
        budget=RetryBudget(agent_settings.model_attempts, agent_settings.retry_backoff_seconds),
        max_tool_steps=agent_settings.max_tool_steps,
        clock=_clock(agent_settings.clock_at),
        # The worker retries a turn the model could not answer yet, then dead-letters it.
        retry_later=True,
        http=http,
        egress=settings.egress_policy,
    )


def catalog_reloader(settings: Settings, agent_settings: AgentSettings) -> CatalogReloader:
    """The reloader of the manifests (and mounted Secrets and ConfigMaps), read once already."""
    catalog = load_agent_catalog(
        settings.manifests_dir, settings.secrets_dir, agent_settings.configmaps_dir
    )
    return CatalogReloader(
        settings.manifests_dir,
        secrets_dir=settings.secrets_dir,
        configmaps_dir=agent_settings.configmaps_dir,
        interval_seconds=agent_settings.reload_interval_seconds,
        initial=catalog,
    )


def runtime_from_settings(
    settings: Settings,
    sessions: async_sessionmaker[AsyncSession],
    agent_settings: AgentSettings | None = None,
) -> tuple[AgentRuntime, CatalogReloader]:
    """The agent runtime and the reloader that keeps its catalog current (already subscribed)."""
    agent_settings = agent_settings or AgentSettings()
    reloader = catalog_reloader(settings, agent_settings)
    runtime = agent_runtime(settings, agent_settings, reloader.current, sessions)
    reloader.subscribe(runtime.swap)
    return runtime, reloader


def ingester_from_settings(
    settings: Settings,
    sessions: async_sessionmaker[AsyncSession],
    runtime: AgentRuntime,
    reloader: CatalogReloader,
    *,
    http: httpx.AsyncClient,
    store_for: Callable[[Tenant], MediaStore],
    agent_settings: AgentSettings | None = None,
    tenants: list[str] | None = None,
) -> KnowledgeIngester:
    """The worker's ingester of `knowledge.sources` (of `tenants`, else the served ones), fed
    every catalog the reloader loads."""
    agent_settings = agent_settings or AgentSettings()
    ingester = KnowledgeIngester(
        sessions,
        runtime.embedder,
        http=http,
        store_for=store_for,
        tenants=tenants or settings.tenants or None,
        policy=FetchPolicy(allow_http=agent_settings.knowledge_allow_http),
        refresh_seconds=agent_settings.knowledge_refresh_seconds,
    )
    ingester.use_catalog(reloader.current)
    reloader.subscribe(ingester.use_catalog)
    return ingester
