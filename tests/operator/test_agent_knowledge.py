"""`status.knowledge`: the operator shows on each AIAgent what its worker ingested from
`knowledge.sources` (documents, chunks, when, errors), read from the tenant's database."""

from __future__ import annotations

import asyncio
import base64
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import yaml

from tests.operator.factories import agent_manifest, secret_manifest, tenant_manifest, unique_name
from tests.operator.harness import REPAIR_WITHIN, RunningOperator, wait_for
from wta_operator.builders.knowledge import knowledge_status
from wta_runtime.agents.agent_catalog import load_agent_catalog
from wta_runtime.agents.embeddings import HashingEmbedder
from wta_runtime.agents.knowledge_ingest import KnowledgeIngester
from wta_runtime.db.engine import create_engine, session_factory
from wta_runtime.db.migrate import upgrade_database

RETURNS = "# Returns\n\nPizza ovens may be returned within 30 days."
KNOWLEDGE = {
    "sources": [
        {"configMap": {"name": "shop-faq", "key": "returns.md"}},
        {"url": "http://127.0.0.1:9/prices.md?token=s3cret"},
    ],
    "allowedHosts": ["127.0.0.1:9"],
}


def _config_map() -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": "shop-faq"},
        "data": {"returns.md": RETURNS},
    }


def test_the_status_counts_ingested_documents_and_lists_failed_sources() -> None:
    at = datetime(2026, 3, 15, 12, tzinfo=UTC)
    rows = [
        ("configmap/faq/a.md", 3, at, None),
        ("https://docs.example.com/b.md", 2, datetime(2026, 3, 1, tzinfo=UTC), "answered HTTP 500"),
        ("s3/c.pdf", 0, None, "no object c.pdf in the tenant's media store"),
    ]

    status = knowledge_status(rows)

    assert status == {
        "documents": 2,
        "chunks": 5,
        "lastIngested": "2026-03-15T12:00:00Z",
        "errors": [
            {"source": "https://docs.example.com/b.md", "message": "answered HTTP 500"},
            {"source": "s3/c.pdf", "message": "no object c.pdf in the tenant's media store"},
        ],
    }
    assert knowledge_status([]) == {"documents": 0, "chunks": 0, "errors": []}


async def _ingest(url: str, manifests: Path) -> None:
    """What the tenant's worker does: its migrations, then one ingestion pass."""
    await asyncio.to_thread(upgrade_database, url)
    engine = create_engine(url)
    try:
        async with httpx.AsyncClient() as http:
            ingester = KnowledgeIngester(session_factory(engine), HashingEmbedder(), http=http)
            ingester.use_catalog(load_agent_catalog(manifests))
            await ingester.ingest_all()
    finally:
        await engine.dispose()


async def test_what_the_worker_ingested_shows_on_the_agent(
    live_operator: RunningOperator, kube_namespace: str, tmp_path: Path
) -> None:
    op, namespace, name = live_operator, kube_namespace, unique_name()
    manifests = [
        secret_manifest(f"{name}-twilio"),
        tenant_manifest(name),
        _config_map(),
        agent_manifest("helper", name, knowledge=KNOWLEDGE),
    ]
    op.apply(namespace, *manifests)
    op.wait_condition(namespace, "WhatsAppTenant", name, "Ready", "True")
    op.wait_condition(namespace, "AIAgent", "helper", "Ready", "True")
    secret = op.read(namespace, "Secret", f"{name}-database") or {}
    url = base64.b64decode(secret["data"]["url"]).decode()
    (tmp_path / "manifests.yaml").write_text(yaml.safe_dump_all(manifests))
    await _ingest(url, tmp_path)

    knowledge = wait_for(
        lambda: ((op.read(namespace, "AIAgent", "helper") or {}).get("status") or {}).get(
            "knowledge"
        ),
        until=lambda found: bool(found) and found["documents"] > 0,
        timeout=REPAIR_WITHIN,
    )

    assert (knowledge["documents"], knowledge["chunks"]) == (1, 1)
    assert knowledge["lastIngested"]
    [error] = knowledge["errors"]
    assert error["source"] == "http://127.0.0.1:9/prices.md"
    assert error["message"].startswith("http:// is refused: knowledge URLs must be https")
    assert "s3cret" not in str(knowledge)
