"""An agent answers from a ConfigMap document through the real platform; editing the ConfigMap
gets it re-ingested by the worker, and the next answer says what the document now says."""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from tests.conftest import (
    KNOWLEDGE_RETURNS,
    KNOWLEDGE_TENANT,
    EngineWorkers,
    TwilioServer,
    knowledge_config_map,
)
from tests.utils.openai_server import ScriptedModel, ScriptedReply, call
from tests.utils.waiting import eventually
from tests.utils.webhooks import new_contact, webhook_for
from wta_runtime.catalog import TenantCatalog
from wta_runtime.db.knowledge_tables import KnowledgeSourceRow

WEBHOOK = "/api/v1/twilio/webhook"
EDITED = "# Returns\n\nPizza ovens may be returned within 14 days, unused."
MANIFEST = f"zz-{KNOWLEDGE_TENANT}.yaml"


def _quote_the_document(body: dict[str, Any]) -> str:
    """The model's answer: the line of the looked-up passage that says how many days."""
    last = body["messages"][-1]
    if last["role"] != "tool":
        return "I do not know."
    days = [line for line in str(last["content"]).splitlines() if "days" in line]
    source = str(last["content"]).splitlines()[0]
    return f"{days[0]} {source}" if days else "I do not know."


@pytest.fixture
def quoting_model(scripted_model: ScriptedModel) -> Iterator[ScriptedModel]:
    scripted_model.answer = _quote_the_document
    yield scripted_model
    scripted_model.answer = None
    scripted_model.reset()


def _edit_config_map(folder: Path, returns: str) -> None:
    """Replace the ConfigMap in knowledge-pizza's manifest file, as `kubectl apply` would."""
    path = folder / MANIFEST
    docs = [d for d in yaml.safe_load_all(path.read_text()) if d["kind"] != "ConfigMap"]
    path.write_text(yaml.safe_dump_all([*docs, knowledge_config_map(returns)]))


async def _ingested(sessions: async_sessionmaker[AsyncSession], text: str) -> None:
    checksum = hashlib.sha256(text.encode()).hexdigest()

    async def stored() -> str | None:
        async with sessions() as session:
            return await session.scalar(
                select(KnowledgeSourceRow.checksum).where(
                    KnowledgeSourceRow.tenant == KNOWLEDGE_TENANT
                )
            )

    await eventually(stored, until=lambda found: found == checksum, timeout=30)


async def test_editing_the_configmap_changes_the_answer(
    engine_workers: EngineWorkers,
    catalog: TenantCatalog,
    twilio: TwilioServer,
    quoting_model: ScriptedModel,
    sessions: async_sessionmaker[AsyncSession],
    manifests_dir: Path,
) -> None:
    tenant = catalog.by_name(KNOWLEDGE_TENANT)
    engine_workers.spawn(KNOWLEDGE_TENANT, "knowledge-replica")
    url = engine_workers.platform.gateway_url

    async def ask(contact: str) -> str:
        token = secrets.token_hex(3)
        quoting_model.replies.append(
            ScriptedReply(tool_calls=[call("lookup_knowledge", query="return pizza oven days")])
        )
        data, headers = webhook_for(
            tenant, url + WEBHOOK, contact=contact, body=f"{token} can I return my oven?"
        )
        before = len(twilio.sent_to(contact))
        async with httpx.AsyncClient(base_url=url) as client:
            assert (await client.post(WEBHOOK, data=data, headers=headers)).status_code == 200
        sent = await eventually(lambda: twilio.sent_to(contact), until=lambda s: len(s) > before)
        return sent[-1].body

    try:
        await _ingested(sessions, KNOWLEDGE_RETURNS)
        first = await ask(new_contact())
        _edit_config_map(manifests_dir, EDITED)
        await _ingested(sessions, EDITED)
        second = await ask(new_contact())
    finally:
        _edit_config_map(manifests_dir, KNOWLEDGE_RETURNS)

    source = "[source: configmap/knowledge-pizza-faq/returns.md]"
    assert first == f"Pizza ovens may be returned within 30 days. {source}"
    assert second == f"Pizza ovens may be returned within 14 days, unused. {source}"
