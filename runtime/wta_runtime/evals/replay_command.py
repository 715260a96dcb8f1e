"""`wta replay`: the worker's settings, the stored conversation, the candidate, nothing sent."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from pathlib import Path

from wta_runtime.agents.runtime import AgentRuntime
from wta_runtime.db.engine import create_engine, session_factory
from wta_runtime.evals.replay import ReplayedTurn, candidate_catalog, read_conversation, replay
from wta_runtime.settings import Settings


async def replay_conversation(
    settings: Settings, conversation_id: uuid.UUID, candidates: Sequence[Path]
) -> list[ReplayedTurn]:
    """Read the conversation from WTA_DATABASE_URL, then answer it with the candidate agents."""
    catalog = candidate_catalog(settings.manifests_dir, candidates, settings.secrets_dir)
    engine = create_engine(settings.database_url, pool_size=1, max_overflow=0)
    try:
        conversation = await read_conversation(session_factory(engine), conversation_id)
    finally:
        await engine.dispose()
    runtime = AgentRuntime(
        catalog=catalog,
        sessions=None,  # no memory, usage or agent state is written
        platform_api_key=settings.openai_api_key,
        platform_base_url=settings.openai_base_url,
        egress=settings.egress_policy,
    )
    try:
        return await replay(runtime, conversation)
    finally:
        await runtime.close()
