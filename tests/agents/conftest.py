"""Fixtures of the agent tests: a scripted model of their own, pgvector, runtimes on manifests."""

from __future__ import annotations

import subprocess
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from pydantic import SecretStr
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from tests.utils.openai_server import ScriptedModel, create_openai_app
from tests.utils.servers import serve_in_thread
from wta_runtime.agents.agent_catalog import load_agent_catalog
from wta_runtime.agents.model_calls import RetryBudget
from wta_runtime.agents.runtime import AgentRuntime
from wta_runtime.local.embedded_postgres import postgres_bin_dir

RuntimeFactory = Callable[..., AgentRuntime]


@pytest.fixture(scope="session")
def model_server() -> Iterator[tuple[ScriptedModel, str]]:
    scripted = ScriptedModel()
    with serve_in_thread(create_openai_app(scripted)) as url:
        yield scripted, url + "/v1"


@pytest.fixture
def model(model_server: tuple[ScriptedModel, str]) -> Iterator[ScriptedModel]:
    """The scripted model, emptied before and after each test."""
    scripted = model_server[0]
    scripted.reset()
    yield scripted
    scripted.reset()


@pytest.fixture
def model_url(model_server: tuple[ScriptedModel, str]) -> str:
    return model_server[1]


@pytest.fixture(scope="session")
def pgvector(database_url: str) -> None:
    """Install pgvector as the superuser, as a platform's database administrator would."""
    port = str(urlsplit(database_url.replace("+asyncpg", "")).port)
    subprocess.run(
        [
            str(postgres_bin_dir() / "psql"),
            *("-h", "127.0.0.1", "-p", port, "-U", "postgres", "-d", "wta"),
            *("-v", "ON_ERROR_STOP=1", "-c", "CREATE EXTENSION IF NOT EXISTS vector"),
        ],
        check=True,
        capture_output=True,
    )


@pytest.fixture
async def make_runtime(
    sessions: async_sessionmaker[AsyncSession], model_url: str, pgvector: None
) -> AsyncIterator[RuntimeFactory]:
    """Runtimes over a manifests folder, talking to the scripted model; closed after the test."""
    made: list[AgentRuntime] = []

    def factory(folder: Path, *, offline: bool = False, **options: object) -> AgentRuntime:
        runtime = AgentRuntime(
            catalog=load_agent_catalog(folder),
            sessions=sessions,
            platform_api_key=None if offline else SecretStr("sk-test-local"),
            platform_base_url=model_url,
            budget=RetryBudget(attempts=2, backoff_seconds=0.01),
            **options,  # type: ignore[arg-type]
        )
        made.append(runtime)
        return runtime

    yield factory
    for runtime in made:
        await runtime.close()
