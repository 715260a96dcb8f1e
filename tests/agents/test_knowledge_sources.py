"""Documents ingested into an agent's knowledge: from ConfigMaps, URLs and the tenant's S3 store,
into PostgreSQL (pgvector), re-ingested only when they change, and cited by lookup_knowledge."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI, Response
from prometheus_client import REGISTRY
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from tests.agents.conftest import RuntimeFactory
from tests.agents.factories import agent_doc, context, new_name, tenant_docs, write
from tests.utils.documents import pdf_of
from tests.utils.egress import refusals
from tests.utils.openai_server import ScriptedModel, ScriptedReply, call
from tests.utils.s3_server import S3Server
from tests.utils.servers import serve_in_thread
from wta_runtime.agents.agent_catalog import load_agent_catalog
from wta_runtime.agents.document_sources import FetchPolicy
from wta_runtime.agents.embeddings import HashingEmbedder
from wta_runtime.agents.knowledge_ingest import KnowledgeIngester, utcnow
from wta_runtime.channel.s3_media_store import S3Bucket, S3MediaStore
from wta_runtime.db import knowledge_store
from wta_runtime.db.knowledge_tables import KnowledgeChunk, KnowledgeSourceRow
from wta_runtime.egress.connections import egress_client
from wta_runtime.egress.policy import LOOPBACK, EgressPolicy

RETURNS_V1 = "# Returns\n\nReturns are accepted within 30 days with the receipt."
RETURNS_V2 = "# Returns\n\nReturns are accepted within 14 days, receipt or not."
TOOLS = {"builtin": ["lookup_knowledge"]}


@pytest.fixture(scope="module")
def documents() -> Iterator[tuple[dict[str, tuple[bytes, str]], str]]:
    """A document server on loopback: path -> (bytes, content type), editable by the test."""
    served: dict[str, tuple[bytes, str]] = {}
    app = FastAPI()

    @app.get("/{path:path}")
    async def document(path: str) -> Response:
        if path not in served:
            return Response(status_code=404)
        body, content_type = served[path]
        return Response(body, media_type=content_type)

    with serve_in_thread(app) as url:
        yield served, url


@pytest.fixture
async def http() -> AsyncIterator[httpx.AsyncClient]:
    """The worker's client, with loopback allowed as the document server needs."""
    async with egress_client(LOOPBACK) as client:
        yield client


def _manifests(folder: Path, tenant: str, returns: str, knowledge: dict[str, Any]) -> None:
    faq = {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": "shop-faq"},
        "data": {"returns.md": returns},
    }
    agent = agent_doc("helper", tenant, tools=TOOLS, knowledge=knowledge)
    write(folder, [*tenant_docs(tenant), faq, agent])


def _ingester(
    sessions: async_sessionmaker[AsyncSession],
    http: httpx.AsyncClient,
    tenant: str,
    *,
    store: S3MediaStore | None = None,
    allow_http: bool = True,
    owner: str = "replica-a",
) -> KnowledgeIngester:
    return KnowledgeIngester(
        sessions,
        HashingEmbedder(),
        http=http,
        store_for=(lambda _: store) if store else None,
        tenants=[tenant],
        policy=FetchPolicy(allow_http=allow_http),
        owner=owner,
    )


async def _chunks(sessions: async_sessionmaker[AsyncSession], tenant: str) -> list[str]:
    async with sessions() as session:
        rows = await session.scalars(
            select(KnowledgeChunk.content)
            .where(KnowledgeChunk.tenant == tenant)
            .order_by(KnowledgeChunk.id)
        )
        return list(rows)


async def _sources(sessions: async_sessionmaker[AsyncSession], tenant: str) -> dict[str, Any]:
    async with sessions() as session:
        rows = await session.scalars(
            select(KnowledgeSourceRow).where(KnowledgeSourceRow.tenant == tenant)
        )
        return {r.source: r for r in rows}


CONFIG_MAP_SOURCE = {"sources": [{"configMap": {"name": "shop-faq", "key": "returns.md"}}]}


async def test_a_configmap_document_is_ingested_once_and_again_only_when_it_changes(
    tmp_path: Path,
    sessions: async_sessionmaker[AsyncSession],
    http: httpx.AsyncClient,
    pgvector: None,
) -> None:
    tenant = new_name()
    _manifests(tmp_path, tenant, RETURNS_V1, CONFIG_MAP_SOURCE)
    ingester = _ingester(sessions, http, tenant)
    ingester.use_catalog(load_agent_catalog(tmp_path))

    first = await ingester.ingest_all()
    stored = await _sources(sessions, tenant)
    again = await ingester.ingest_all()
    _manifests(tmp_path, tenant, RETURNS_V2, CONFIG_MAP_SOURCE)
    ingester.use_catalog(load_agent_catalog(tmp_path))
    changed = await ingester.ingest_all()
    after = await _sources(sessions, tenant)

    label = f"{tenant}/helper/configmap/shop-faq/returns.md"
    assert (first.ingested, again.unchanged, changed.ingested) == ([label], [label], [label])
    counted = {
        outcome: REGISTRY.get_sample_value(
            "wta_knowledge_ingestions_total",
            {"tenant": tenant, "agent": "helper", "outcome": outcome},
        )
        for outcome in ("ingested", "unchanged")
    }
    assert counted == {"ingested": 2.0, "unchanged": 1.0}
    assert again.ingested == []
    [source] = stored.values()
    assert (source.chunks, source.error, source.lease_owner) == (1, None, None)
    assert after["configmap/shop-faq/returns.md"].checksum != source.checksum
    assert await _chunks(sessions, tenant) == [RETURNS_V2]


async def test_a_url_document_from_an_allowed_host_is_ingested_and_http_needs_permission(
    tmp_path: Path,
    sessions: async_sessionmaker[AsyncSession],
    http: httpx.AsyncClient,
    documents: tuple[dict[str, tuple[bytes, str]], str],
    pgvector: None,
) -> None:
    served, url = documents
    tenant = new_name()
    served[f"{tenant}/hours"] = (
        b"<html><body><h1>Opening hours</h1><p>We open at nine.</p></body></html>",
        "text/html",
    )
    knowledge = {
        "sources": [{"url": f"{url}/{tenant}/hours?key=s3cret"}, {"url": f"{url}/{tenant}/gone"}],
        "allowedHosts": [url.removeprefix("http://")],
    }
    _manifests(tmp_path, tenant, RETURNS_V1, knowledge)
    catalog = load_agent_catalog(tmp_path)
    strict = _ingester(sessions, http, tenant, allow_http=False)
    strict.use_catalog(catalog)
    refused = await strict.ingest_all()
    local = _ingester(sessions, http, tenant)
    local.use_catalog(catalog)

    report = await local.ingest_all()

    hours, gone = (f"{tenant}/helper/{url}/{tenant}/{p}" for p in ("hours", "gone"))
    assert "must be https" in refused.failed[hours]
    assert report.ingested == [hours]
    assert report.failed == {gone: f"{url}/{tenant}/gone answered HTTP 404"}
    assert await _chunks(sessions, tenant) == ["Opening hours\n\nWe open at nine."]
    stored = await _sources(sessions, tenant)
    assert stored[f"{url}/{tenant}/gone"].error == f"{url}/{tenant}/gone answered HTTP 404"
    assert "s3cret" not in str([(s.source, s.error) for s in stored.values()])


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost"])
async def test_a_url_on_an_internal_address_is_refused_by_the_platform_and_never_asked(
    tmp_path: Path, sessions: async_sessionmaker[AsyncSession], pgvector: None, host: str
) -> None:
    asked: list[str] = []
    app = FastAPI()

    @app.get("/{path:path}")
    async def document(path: str) -> Response:
        asked.append(path)
        return Response("# Secrets of the cluster", media_type="text/markdown")

    tenant = new_name()
    with serve_in_thread(app) as url:
        url = url.replace("127.0.0.1", host)
        knowledge = {"sources": [{"url": f"{url}/faq.md"}], "allowedHosts": [host]}
        _manifests(tmp_path, tenant, RETURNS_V1, knowledge)
        async with egress_client(EgressPolicy()) as platform_default:
            ingester = _ingester(sessions, platform_default, tenant)
            ingester.use_catalog(load_agent_catalog(tmp_path))
            report = await ingester.ingest_all()

    where = f"{tenant}/helper/{url}/faq.md"
    expected = f"{url}/faq.md is refused: {host} is not allowed by the platform's egress policy"
    assert report.failed[where].startswith(expected)
    stored = await _sources(sessions, tenant)
    assert stored[f"{url}/faq.md"].error.startswith(expected)  # shown in status.knowledge
    assert asked == []
    assert await _chunks(sessions, tenant) == []
    assert refusals(tenant, "knowledge") == 1


async def test_a_pdf_in_the_tenants_s3_store_is_ingested_page_by_page(
    tmp_path: Path,
    sessions: async_sessionmaker[AsyncSession],
    http: httpx.AsyncClient,
    s3_server: S3Server,
    pgvector: None,
) -> None:
    tenant = new_name()
    bucket = S3Bucket(s3_server.new_bucket(), endpoint_url=s3_server.endpoint_url)
    client = s3_server.client()
    pdf = pdf_of(["Menu\nMargherita 8 euros.", "Allergens\nThe Quattro Formaggi has nuts."])
    client.put_object(Bucket=bucket.name, Key=f"media/{tenant}/knowledge/menu.pdf", Body=pdf)
    client.put_object(Bucket=bucket.name, Key="media/other-tenant/secret.md", Body=b"# Secret")
    client.close()
    knowledge = {"sources": [{"s3": {"key": "knowledge/menu.pdf"}}, {"s3": {"key": "nope.md"}}]}
    _manifests(tmp_path, tenant, RETURNS_V1, knowledge)
    store = s3_server.store(bucket)
    ingester = _ingester(sessions, http, tenant, store=store)
    ingester.use_catalog(load_agent_catalog(tmp_path))

    report = await ingester.ingest_all()

    assert report.ingested == [f"{tenant}/helper/s3/knowledge/menu.pdf"]
    assert report.failed == {
        f"{tenant}/helper/s3/nope.md": "no object nope.md in the tenant's media store"
    }
    async with sessions() as session:
        found = await knowledge_store.passages(
            session,
            list(await session.scalars(select(KnowledgeChunk.id))),
            tenant=tenant,
            agent="helper",
        )
    assert sorted(p.citation for p in found.values()) == [
        "s3/knowledge/menu.pdf, page 1",
        "s3/knowledge/menu.pdf, page 2",
    ]
    with pytest.raises(PermissionError):
        await store.read_document(tenant, "../other-tenant/secret.md")
    store.close()


async def test_a_source_another_replica_is_ingesting_is_left_to_it(
    tmp_path: Path,
    sessions: async_sessionmaker[AsyncSession],
    http: httpx.AsyncClient,
    pgvector: None,
) -> None:
    tenant = new_name()
    _manifests(tmp_path, tenant, RETURNS_V1, CONFIG_MAP_SOURCE)
    async with sessions.begin() as session:
        held = await knowledge_store.claim(
            session,
            tenant=tenant,
            agent="helper",
            source="configmap/shop-faq/returns.md",
            owner="replica-b",
            now=utcnow(),
            lease=timedelta(minutes=5),
        )
    ingester = _ingester(sessions, http, tenant, owner="replica-a")
    ingester.use_catalog(load_agent_catalog(tmp_path))

    report = await ingester.ingest_all()

    assert held is not None
    assert report.busy == [f"{tenant}/helper/configmap/shop-faq/returns.md"]
    assert await _chunks(sessions, tenant) == []


async def test_two_replicas_at_once_ingest_a_source_once(
    tmp_path: Path,
    sessions: async_sessionmaker[AsyncSession],
    http: httpx.AsyncClient,
    pgvector: None,
) -> None:
    tenant = new_name()
    _manifests(tmp_path, tenant, RETURNS_V1, CONFIG_MAP_SOURCE)
    catalog = load_agent_catalog(tmp_path)
    replicas = [_ingester(sessions, http, tenant, owner=f"replica-{n}") for n in "ab"]
    for replica in replicas:
        replica.use_catalog(catalog)

    reports = await asyncio.gather(*(replica.ingest_all() for replica in replicas))

    label = f"{tenant}/helper/configmap/shop-faq/returns.md"
    ingested = [r for r in reports if r.ingested == [label]]
    # The other found the lease taken (or, if it came that late, the checksum already stored).
    [other] = [r for r in reports if r not in ingested]
    assert (len(ingested), other.ingested, other.failed) == (1, [], {})
    assert other.busy + other.unchanged == [label]
    assert await _chunks(sessions, tenant) == [RETURNS_V1]


async def test_a_removed_source_is_forgotten(
    tmp_path: Path,
    sessions: async_sessionmaker[AsyncSession],
    http: httpx.AsyncClient,
    pgvector: None,
) -> None:
    tenant = new_name()
    _manifests(tmp_path, tenant, RETURNS_V1, CONFIG_MAP_SOURCE)
    ingester = _ingester(sessions, http, tenant)
    ingester.use_catalog(load_agent_catalog(tmp_path))
    await ingester.ingest_all()

    _manifests(tmp_path, tenant, RETURNS_V1, {})
    ingester.use_catalog(load_agent_catalog(tmp_path))
    await ingester.ingest_all()

    assert await _sources(sessions, tenant) == {}
    assert await _chunks(sessions, tenant) == []


async def test_lookup_knowledge_returns_document_passages_with_their_source(
    tmp_path: Path,
    sessions: async_sessionmaker[AsyncSession],
    http: httpx.AsyncClient,
    make_runtime: RuntimeFactory,
    model: ScriptedModel,
) -> None:
    tenant = new_name()
    knowledge = {
        **CONFIG_MAP_SOURCE,
        "entries": [{"question": "Do you deliver?", "answer": "Within 5 km, for free."}],
    }
    _manifests(tmp_path, tenant, RETURNS_V1, knowledge)
    ingester = _ingester(sessions, http, tenant)
    ingester.use_catalog(load_agent_catalog(tmp_path))
    await ingester.ingest_all()
    runtime = make_runtime(tmp_path)
    model.replies += [
        ScriptedReply(tool_calls=[call("lookup_knowledge", query="how many days to return")]),
        "Within 30 days (configmap/shop-faq/returns.md).",
    ]

    reply = await runtime.respond(tenant, context(), "Can I return a pizza oven?", [])

    [lookup] = reply.tool_calls
    assert lookup.result.startswith("[source: configmap/shop-faq/returns.md]\n# Returns")
    assert "within 30 days" in lookup.result
    assert model.requests[1]["messages"][-1]["content"] == lookup.result
    assert reply.text == "Within 30 days (configmap/shop-faq/returns.md)."


async def test_a_pdf_in_a_mounted_configmap_is_ingested_with_its_pages(
    tmp_path: Path,
    sessions: async_sessionmaker[AsyncSession],
    http: httpx.AsyncClient,
    pgvector: None,
) -> None:
    tenant = new_name()
    knowledge = {"sources": [{"configMap": {"name": "shop-menu", "key": "menu.pdf"}}]}
    _manifests(tmp_path / "manifests", tenant, RETURNS_V1, knowledge)
    mounted = tmp_path / "configmaps" / "shop-menu"
    mounted.mkdir(parents=True)
    # As the kubelet mounts a ConfigMap: each key a link into the current `..data` folder.
    (mounted / "..data").mkdir()
    (mounted / "..data" / "menu.pdf").write_bytes(
        pdf_of(["Menu\nMargherita 8 euros.", "Allergens\nThe Quattro Formaggi has nuts."])
    )
    (mounted / "menu.pdf").symlink_to("..data/menu.pdf")
    ingester = _ingester(sessions, http, tenant)
    ingester.use_catalog(load_agent_catalog(tmp_path / "manifests", None, tmp_path / "configmaps"))

    report = await ingester.ingest_all()

    assert report.ingested == [f"{tenant}/helper/configmap/shop-menu/menu.pdf"]
    assert await _chunks(sessions, tenant) == [
        "Menu\nMargherita 8 euros.",
        "Allergens\nThe Quattro Formaggi has nuts.",
    ]
