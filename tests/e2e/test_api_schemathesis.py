"""schemathesis over the running gateway's OpenAPI document, with a real API key: whatever it
sends to any operation, the answer is never a server error (>= 500).

Three requests in four go to acme-pizza (the key's tenant), two in four to conversations that
exist, so the fuzzing gets past authentication and lookups into the routes' own work; the rest
keep the tenant and conversation schemathesis generated.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis import Case, GenerationMode
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from tests.conftest import Platform
from tests.utils.conversations import ACME, conversation_in
from wta_runtime.db.api_keys import issue_api_key

# Requests in all, valid by the schema or not, over every operation: about 25 s on two cores.
MAX_EXAMPLES = 1500


@dataclass
class Caller:
    """The API key, and where each generated request goes: the key's tenant or the generated
    one, a conversation that exists or the generated one (None: as generated)."""

    headers: dict[str, str]
    targets: Iterator[tuple[str | None, str | None]]


@pytest.fixture(scope="module")
async def caller(sessions: async_sessionmaker[AsyncSession]) -> Caller:
    async with sessions.begin() as session:
        key = await issue_api_key(session, tenant=ACME, name="schemathesis", now=datetime.now(UTC))
    ids = [str((await conversation_in(sessions, s)).id) for s in ("progress", "human_handoff")]
    targets = [(ACME, ids[0]), (ACME, ids[1]), (ACME, None), (None, None)]
    return Caller({"Authorization": f"Bearer {key}"}, itertools.cycle(targets))


def _aimed(case: Case, caller: Caller) -> Case:
    """The case, mostly at the key's tenant and (two in four) at a conversation that exists."""
    tenant, conversation = next(caller.targets)
    parameters = case.path_parameters or {}
    if tenant and "tenant" in parameters:
        parameters["tenant"] = tenant
    if conversation and "conversation_id" in parameters:
        parameters["conversation_id"] = conversation
    return case


def test_no_request_the_schema_allows_or_not_gets_a_server_error(
    platform: Platform, caller: Caller
) -> None:
    # Loaded from the running gateway: the operations are whatever it serves today.
    schema = schemathesis.openapi.from_url(f"{platform.gateway_url}/openapi.json", timeout=30)
    cases = st.one_of(
        schema.as_strategy(GenerationMode.POSITIVE), schema.as_strategy(GenerationMode.NEGATIVE)
    )

    @settings(
        max_examples=MAX_EXAMPLES,
        deadline=None,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    @given(case=cases)
    def no_server_error(case: Case) -> None:
        case = _aimed(case, caller)
        response = case.call(base_url=platform.gateway_url, headers=caller.headers, timeout=30)
        assert response.status_code < 500, (
            f"{case.method} {case.formatted_path} {case.query} {case.body!r}: {response.text}"
        )

    no_server_error()
