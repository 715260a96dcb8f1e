"""Session fixtures: real NATS and PostgreSQL from wheels, local Twilio and model servers."""

from __future__ import annotations

import os
import sys
from collections.abc import AsyncIterator, Collection, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from tests.utils.anthropic_server import anthropic_model, api_key_secret, create_anthropic_app
from tests.utils.mcp_server import ShopMcp, serve_shop_mcp, shop_mcp_manifests
from tests.utils.media_server import MediaFiles, MediaHost, create_media_app, sample_media
from tests.utils.node_lock import hold_node_lock
from tests.utils.openai_server import ScriptedModel, create_openai_app
from tests.utils.s3_server import S3Server, serve_s3
from tests.utils.servers import serve_in_thread
from wta_runtime.catalog import Tenant, TenantCatalog, load_catalog
from wta_runtime.db.engine import create_engine, session_factory
from wta_runtime.db.migrate import upgrade_database
from wta_runtime.local.embedded_postgres import create_database, postgres_process
from wta_runtime.local.nats_server import nats_process
from wta_runtime.local.platform import LOCAL_EGRESS_ALLOW
from wta_runtime.local.processes import ManagedProcess, free_port, stop_together
from wta_runtime.local.twilio_api import RecordedMessage, create_twilio_app
from wta_runtime.local.twilio_typing import RecordedTyping

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples"
OPENAI_TENANT = "openai-pizza"
OPENAI_NUMBER = "+14155550199"
# Tenants of the conversation-engine tests: served by worker processes those tests start.
RELAY_TENANT, RELAY_NUMBER = "relay-pizza", "+14155550177"
CRASH_TENANT, CRASH_NUMBER = "crash-pizza", "+14155550188"
MEDIA_TENANT, MEDIA_NUMBER = "media-pizza", "+14155550166"
FENCE_TENANT, FENCE_NUMBER = "fence-pizza", "+14155550155"
SCALE_TENANT, SCALE_NUMBER = "scale-pizza", "+14155550144"
TAKEOVER_TENANT, TAKEOVER_NUMBER = "takeover-pizza", "+14155550133"
ADOPT_TENANT, ADOPT_NUMBER = "adopt-pizza", "+14155550112"
WITHHELD_TENANT, WITHHELD_NUMBER = "withheld-pizza", "+14155550122"
HOURS_TENANT, HOURS_NUMBER = "hours-pizza", "+14155550111"
# hours-pizza's people: weekdays 09-18, Saturday 09-13, in Sao Paulo; away for Christmas.
HOURS_PIZZA_HOURS = {
    "timeZone": "America/Sao_Paulo",
    "weekly": [
        *({"day": d, "from": "09:00", "to": "18:00"} for d in ("mon", "tue", "wed", "thu", "fri")),
        {"day": "sat", "from": "09:00", "to": "13:00"},
    ],
    "holidays": [{"date": "2026-12-24", "until": "2026-12-26", "name": "Natal"}],
}
SPEND_TENANT, SPEND_NUMBER = "spend-pizza", "+14155550109"
# What spend-pizza pays: a scripted model call (10 input, 5 output tokens) costs 0.02.
SPEND_PRICE = {"model": "gpt-4o-mini", "inputPerMillion": 1000, "outputPerMillion": 2000}
SPENDING = {
    "prices": [SPEND_PRICE],
    "limits": {"daily": {"soft": 0.04, "hard": 0.1}},
    "onHardLimit": {"action": "message", "message": "Our assistant is resting until tomorrow."},
    "maxReplyParts": 2,
}
TYPING_TENANT, TYPING_NUMBER = "typing-pizza", "+14155550191"
TIMER_TENANT, TIMER_NUMBER = "timer-pizza", "+14155550107"
# knowledge-pizza's agent answers from a ConfigMap document it ingests (knowledge.sources).
KNOWLEDGE_TENANT, KNOWLEDGE_NUMBER = "knowledge-pizza", "+14155550108"
KNOWLEDGE_CONFIG_MAP, KNOWLEDGE_KEY = "knowledge-pizza-faq", "returns.md"
KNOWLEDGE_RETURNS = "# Returns\n\nPizza ovens may be returned within 30 days."


def knowledge_config_map(returns: str) -> dict[str, Any]:
    """knowledge-pizza's ConfigMap manifest, with this returns policy."""
    return {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": KNOWLEDGE_CONFIG_MAP},
        "data": {KNOWLEDGE_KEY: returns},
    }


# Its agent may call check_order_status on the shop's MCP server (the `shop_mcp` fixture).
MCP_TENANT, MCP_NUMBER = "mcp-pizza", "+14155550102"
# claude-pizza's agent runs on the anthropic provider, against the local Messages API.
CLAUDE_TENANT, CLAUDE_NUMBER = "claude-pizza", "+14155550178"
CLAUDE_MODEL, CLAUDE_KEY = "claude-haiku-4-5", "sk-ant-test-e2e"
ENGINE_TENANTS = {
    RELAY_TENANT: RELAY_NUMBER,
    CRASH_TENANT: CRASH_NUMBER,
    MEDIA_TENANT: MEDIA_NUMBER,
    FENCE_TENANT: FENCE_NUMBER,
    SCALE_TENANT: SCALE_NUMBER,
    TAKEOVER_TENANT: TAKEOVER_NUMBER,
    ADOPT_TENANT: ADOPT_NUMBER,
    WITHHELD_TENANT: WITHHELD_NUMBER,
    HOURS_TENANT: HOURS_NUMBER,
    SPEND_TENANT: SPEND_NUMBER,
    TYPING_TENANT: TYPING_NUMBER,
    KNOWLEDGE_TENANT: KNOWLEDGE_NUMBER,
    TIMER_TENANT: TIMER_NUMBER,
}


def pytest_collection_finish(session: pytest.Session) -> None:
    if any(item.get_closest_marker("node") for item in session.items):
        hold_node_lock()


@pytest.fixture(scope="session")
def nats_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    folder = tmp_path_factory.mktemp("nats")
    port = free_port()
    server = nats_process(folder / "data", port=port, log_path=folder / "nats.log")
    server.start()
    yield f"nats://127.0.0.1:{port}"
    server.stop()


@pytest.fixture(scope="session")
def database_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    folder = tmp_path_factory.mktemp("postgres")
    port = free_port()
    server = postgres_process(folder / "data", port=port, log_path=folder / "postgres.log")
    server.start()
    create_database(port, "wta", "wta")
    url = f"postgresql+asyncpg://wta@127.0.0.1:{port}/wta"
    upgrade_database(url)
    yield url
    server.stop()


@pytest.fixture(scope="session")
async def engine(database_url: str) -> AsyncIterator[AsyncEngine]:
    created = create_engine(database_url)
    yield created
    await created.dispose()


@pytest.fixture(scope="session")
def sessions(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return session_factory(engine)


@pytest.fixture(scope="session")
def shop_mcp() -> Iterator[ShopMcp]:
    """The pizza shop's MCP server (real, streamable HTTP on loopback), for the whole session."""
    with serve_shop_mcp() as shop:
        yield shop


@pytest.fixture(scope="session")
def manifests_dir(
    tmp_path_factory: pytest.TempPathFactory, shop_mcp: ShopMcp, anthropic_server: AnthropicServer
) -> Path:
    """The examples, plus a copy of their tenant on another number served by a real-model worker."""
    folder = tmp_path_factory.mktemp("manifests")
    for path in EXAMPLES.glob("*.yaml"):
        (folder / path.name).write_text(path.read_text())
    twin = []
    for path in sorted(EXAMPLES.glob("*.yaml")):
        for doc in yaml.safe_load_all(path.read_text()):
            if doc["kind"] == "WhatsAppTenant":
                doc["metadata"]["name"] = OPENAI_TENANT
                doc["spec"]["numbers"] = [{"number": OPENAI_NUMBER}]
            elif doc["kind"] == "AIAgent":
                doc["spec"]["tenantRef"]["name"] = OPENAI_TENANT
            else:
                continue
            twin.append(doc)
    (folder / "zz-openai-twin.yaml").write_text(yaml.safe_dump_all(twin))
    for name, number in ENGINE_TENANTS.items():
        (folder / f"zz-{name}.yaml").write_text(yaml.safe_dump_all(_engine_twin(name, number)))
    (folder / f"zz-{MCP_TENANT}.yaml").write_text(yaml.safe_dump_all(_mcp_twin(shop_mcp.url)))
    claude = _claude_twin(anthropic_server.url)
    (folder / f"zz-{CLAUDE_TENANT}.yaml").write_text(yaml.safe_dump_all(claude))
    return folder


def _mcp_twin(url: str) -> list[dict[str, Any]]:
    """The engine twin of mcp-pizza, its agent with the shop's MCP server and its token Secret."""
    secret, server = shop_mcp_manifests(MCP_TENANT, url, timeoutSeconds=5)
    docs = _engine_twin(MCP_TENANT, MCP_NUMBER)
    for doc in docs:
        if doc["kind"] == "AIAgent":
            doc["spec"]["tools"] = {"builtin": ["handoff_to_human"], "mcp": [server]}
    return [secret, *docs]


def _claude_twin(anthropic_url: str) -> list[dict[str, Any]]:
    """The engine twin of the example on the anthropic provider, its key in a Secret."""
    docs = _engine_twin(CLAUDE_TENANT, CLAUDE_NUMBER)
    secret = f"{CLAUDE_TENANT}-anthropic"
    for doc in docs:
        if doc["kind"] == "AIAgent":
            doc["spec"]["model"] = anthropic_model(
                anthropic_url, secret, CLAUDE_MODEL, timeoutSeconds=5
            )
            doc["spec"]["tools"] = {"builtin": ["handoff_to_human"]}
    return [*docs, api_key_secret(secret, CLAUDE_KEY)]


def _engine_twin(name: str, number: str) -> list[dict[str, Any]]:
    """The example tenant and agent again, under `name`, with a short burst window (and the
    typing indicator on for the typing tenant only)."""
    docs = []
    for path in sorted(EXAMPLES.glob("*.yaml")):
        for doc in yaml.safe_load_all(path.read_text()):
            if doc["kind"] == "WhatsAppTenant":
                doc["metadata"]["name"] = name
                doc["spec"]["numbers"] = [{"number": number}]
                doc["spec"]["conversation"] = {"burstWindow": "1s"}
                doc["spec"]["rateLimit"] = {"messagesPerSecond": 400}
                if name == HOURS_TENANT:
                    doc["spec"]["businessHours"] = HOURS_PIZZA_HOURS
                if name == SPEND_TENANT:
                    doc["spec"]["spending"] = SPENDING
                doc["spec"]["typingIndicator"] = {"enabled": name == TYPING_TENANT}
            elif doc["kind"] == "AIAgent":
                doc["spec"]["tenantRef"]["name"] = name
                if name == HOURS_TENANT:
                    doc["spec"]["tools"] = {"builtin": ["handoff_to_human"]}
                if name == KNOWLEDGE_TENANT:
                    doc["spec"]["tools"] = {"builtin": ["lookup_knowledge"]}
                    source = {"configMap": {"name": KNOWLEDGE_CONFIG_MAP, "key": KNOWLEDGE_KEY}}
                    doc["spec"]["knowledge"] = {"sources": [source]}
            else:
                continue
            docs.append(doc)
    if name == KNOWLEDGE_TENANT:
        docs.append(knowledge_config_map(KNOWLEDGE_RETURNS))
    return docs


@pytest.fixture(scope="session")
def catalog(manifests_dir: Path) -> TenantCatalog:
    return load_catalog(manifests_dir)


@dataclass
class TwilioServer:
    url: str
    messages: list[RecordedMessage]
    media: MediaFiles
    # `To` addresses whose sends are recorded but not answered until removed (a sender killed).
    hold_replies_to: set[str]
    typing_indicators: list[RecordedTyping]
    # MessageSid -> AccountSid of the contacts' messages Twilio has (typing needs one).
    inbound_messages: dict[str, str]
    # MessageSid -> how many seconds Twilio takes to show a typing indicator on it.
    slow_typing: dict[str, float]
    # `To` -> how many seconds Twilio takes to act on a send to it (recorded that late).
    slow_sends: dict[str, float]

    def sent_to(self, contact: str) -> list[RecordedMessage]:
        return [m for m in self.messages if m.to == f"whatsapp:{contact}"]

    def receive(self, tenant: Tenant, message_sid: str) -> None:
        """The contact's message reached Twilio, before its webhook is posted."""
        self.inbound_messages[message_sid] = tenant.account_sid

    def typing_on(self, message_sids: Collection[str]) -> list[str]:
        """The messages typing indicators were shown for, in order, of those given."""
        return [t.message_id for t in self.typing_indicators if t.message_id in message_sids]


@pytest.fixture(scope="session")
def twilio(catalog: TenantCatalog) -> Iterator[TwilioServer]:
    accounts = {t.account_sid: t.auth_token.get_secret_value() for t in catalog.tenants.values()}
    app = create_twilio_app(accounts)
    media = sample_media()
    # Twilio serves media from its API host: the worker sends credentials to no other.
    app.router.routes.extend(create_media_app(accounts, media).routes)
    with serve_in_thread(app) as url:
        yield TwilioServer(
            url,
            app.state.messages,
            media,
            app.state.hold_replies_to,
            app.state.typing_indicators,
            app.state.inbound_messages,
            app.state.slow_typing,
            app.state.slow_sends,
        )


@pytest.fixture(scope="session")
def media_host(catalog: TenantCatalog, twilio: TwilioServer) -> MediaHost:
    """Media of the example tenant's account, served like Twilio's (Basic auth, redirect)."""
    return MediaHost(twilio.url, twilio.media, catalog.by_name("acme-pizza").account_sid)


@pytest.fixture(scope="session")
def s3_server() -> Iterator[S3Server]:
    """A real S3-compatible HTTP server (moto) on a free port."""
    with serve_s3() as server:
        yield server


@pytest.fixture(scope="session")
def scripted_model() -> ScriptedModel:
    return ScriptedModel()


@pytest.fixture(scope="session")
def openai_url(scripted_model: ScriptedModel) -> Iterator[str]:
    with serve_in_thread(create_openai_app(scripted_model)) as url:
        yield url + "/v1"


@dataclass
class AnthropicServer:
    """The local Anthropic Messages API: its scripted model, URL and the API keys it was sent."""

    model: ScriptedModel
    url: str
    api_keys: list[str]

    def reset(self) -> None:
        self.model.reset()
        self.api_keys.clear()


@pytest.fixture(scope="session")
def anthropic_server() -> Iterator[AnthropicServer]:
    scripted, keys = ScriptedModel(), list[str]()
    with serve_in_thread(create_anthropic_app(scripted, keys)) as url:
        yield AnthropicServer(scripted, url, keys)


@dataclass
class Platform:
    """The gateway and workers running as real processes, as in production."""

    gateway_url: str
    processes: list[ManagedProcess]


def _wta(*args: str) -> list[str]:
    return [sys.executable, "-m", "wta_runtime", *args]


@pytest.fixture(scope="session")
def platform(
    tmp_path_factory: pytest.TempPathFactory,
    nats_url: str,
    database_url: str,
    manifests_dir: Path,
    twilio: TwilioServer,
    openai_url: str,
) -> Iterator[Platform]:
    logs = tmp_path_factory.mktemp("logs")
    base_env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("WTA_")},
        "WTA_NATS_URL": nats_url,
        "WTA_DATABASE_URL": database_url,
        "WTA_TWILIO_API_BASE": twilio.url,
        "WTA_MANIFESTS_DIR": str(manifests_dir),
        "WTA_LOG_LEVEL": "INFO",
        # The shop's MCP server listens on loopback: the platform allows it explicitly.
        "WTA_EGRESS_ALLOW": LOCAL_EGRESS_ALLOW,
    }
    gateway_port = free_port()
    offline_port, openai_port = free_port(), free_port()
    processes = [
        ManagedProcess(
            "gateway",
            _wta("gateway"),
            port=gateway_port,
            log_path=logs / "gateway.log",
            env={**base_env, "WTA_GATEWAY_PORT": str(gateway_port)},
        ),
        ManagedProcess(
            "worker-offline",
            _wta("worker"),
            port=offline_port,
            log_path=logs / "worker.log",
            env={
                **base_env,
                "WTA_TENANTS": '["acme-pizza"]',
                "WTA_WORKER_METRICS_PORT": str(offline_port),
            },
        ),
        ManagedProcess(
            "worker-openai",
            _wta("worker"),
            port=openai_port,
            log_path=logs / "worker-ai.log",
            env={
                **base_env,
                "WTA_TENANTS": f'["{OPENAI_TENANT}"]',
                "WTA_WORKER_METRICS_PORT": str(openai_port),
                "WTA_OPENAI_API_KEY": "sk-test-local",
                "WTA_OPENAI_BASE_URL": openai_url,
            },
        ),
    ]
    started: list[ManagedProcess] = []
    try:
        for process in processes:
            process.start(timeout=60)
            started.append(process)
        yield Platform(f"http://127.0.0.1:{gateway_port}", started)
    finally:
        stop_together(started)


def engine_worker_env(
    platform: Platform, base_env: dict[str, str], tenant: str, port: int, media_dir: Path
) -> dict[str, str]:
    """A real-model worker for one engine tenant: short ack wait, fast retries, status callbacks."""
    return {
        **base_env,
        "WTA_TENANTS": f'["{tenant}"]',
        "WTA_WORKER_METRICS_PORT": str(port),
        "WTA_PUBLIC_BASE_URL": platform.gateway_url,
        "WTA_STREAM_ACK_WAIT_SECONDS": "3",
        "WTA_THREAD_LEASE_SECONDS": "4",
        "WTA_WORKER_MAX_ATTEMPTS": "3",
        "WTA_WORKER_RETRY_DELAYS": "[0.2, 0.5]",
        "WTA_MEDIA_DIR": str(media_dir),
    }


@dataclass
class EngineWorkers:
    """Worker processes of the engine tenants; `spawn` starts more (e.g. after a SIGKILL)."""

    platform: Platform
    base_env: dict[str, str]
    logs: Path
    processes: list[ManagedProcess]

    def spawn(self, tenant: str, name: str, env: dict[str, str] | None = None) -> ManagedProcess:
        """Start a worker of `tenant`; `env` adds or overrides settings."""
        port = free_port()
        media_dir = self.logs / "media"
        process = ManagedProcess(
            name,
            _wta("worker"),
            port=port,
            log_path=self.logs / f"{name}.log",
            env=engine_worker_env(self.platform, self.base_env, tenant, port, media_dir)
            | (env or {}),
        )
        process.start(timeout=60)
        self.processes.append(process)
        return process


@pytest.fixture(scope="session")
def engine_workers(
    tmp_path_factory: pytest.TempPathFactory,
    platform: Platform,
    nats_url: str,
    database_url: str,
    manifests_dir: Path,
    twilio: TwilioServer,
    openai_url: str,
) -> Iterator[EngineWorkers]:
    """Two worker processes sharing relay-pizza, as two replicas of one Deployment."""
    base_env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("WTA_")},
        "WTA_NATS_URL": nats_url,
        "WTA_DATABASE_URL": database_url,
        "WTA_TWILIO_API_BASE": twilio.url,
        "WTA_MANIFESTS_DIR": str(manifests_dir),
        "WTA_LOG_LEVEL": "INFO",
        # The shop's MCP server listens on loopback: the platform allows it explicitly.
        "WTA_EGRESS_ALLOW": LOCAL_EGRESS_ALLOW,
        "WTA_OPENAI_API_KEY": "sk-test-local",
        "WTA_OPENAI_BASE_URL": openai_url,
    }
    workers = EngineWorkers(platform, base_env, tmp_path_factory.mktemp("engine-logs"), [])
    try:
        workers.spawn(RELAY_TENANT, "relay-worker-1")
        workers.spawn(RELAY_TENANT, "relay-worker-2")
        yield workers
    finally:
        stop_together(workers.processes)
