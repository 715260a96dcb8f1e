"""The console's own platform: two tenants whose bot hands off, a gateway, a worker, a Twilio.

Its Twilio server reports sent, delivered and read, so the console's ticks can move to read.
"""

from __future__ import annotations

import os
import re
import secrets
import sys
from collections.abc import AsyncIterator, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from tests.utils.media_server import MediaFiles, create_media_app, sample_media
from tests.utils.servers import serve_in_thread
from tests.utils.webhooks import webhook_for
from wta_runtime.catalog import TenantCatalog, load_catalog
from wta_runtime.console.passwords import hash_password, new_password
from wta_runtime.db.staff_accounts import add_staff
from wta_runtime.local.processes import ManagedProcess, free_port, stop_together
from wta_runtime.local.twilio_api import RecordedMessage, create_twilio_app
from wta_runtime.local.twilio_typing import RecordedTyping

TENANT_A, NUMBER_A = "console-a", "+14155550301"
TENANT_B, NUMBER_B = "console-b", "+14155550302"
# Served by a worker of its own on the scripted model, which also transcribes voice notes.
TENANT_V, NUMBER_V = "console-voice", "+14155550303"
TEMPLATE_SID = "HX" + "c0" * 16
WEBHOOK = "/api/v1/twilio/webhook"
RECEIPT = b"%PDF-1.4 a receipt"
CSRF_FIELD = re.compile(r'name="csrf" value="([^"]+)"')


def tenant_docs(name: str, number: str, account: str) -> list[dict[str, Any]]:
    secret = f"{name}-twilio"
    return [
        {
            "apiVersion": "v1",
            "kind": "Secret",
            "metadata": {"name": secret},
            "stringData": {"authToken": f"{name}-local-token-000000000000"},
        },
        {
            "apiVersion": "wta.io/v1alpha1",
            "kind": "WhatsAppTenant",
            "metadata": {"name": name},
            "spec": {
                "displayName": name,
                "twilio": {
                    "accountSid": account,
                    "authTokenSecretRef": {"name": secret, "key": "authToken"},
                },
                "numbers": [{"number": number}],
                "conversation": {"burstWindow": "1s"},
                "template": {
                    "contentSid": TEMPLATE_SID,
                    "variables": {"1": name},
                    "perSendVariables": [{"name": "2", "example": "A-1042"}],
                },
                "typingIndicator": {"enabled": name == TENANT_A},
            },
        },
        {
            "apiVersion": "wta.io/v1alpha1",
            "kind": "AIAgent",
            "metadata": {"name": f"{name}-assistant"},
            "spec": {
                "tenantRef": {"name": name},
                "selection": {"default": True},
                "model": {"name": "gpt-4o-mini"},
                "instructions": "You are the shop's assistant.",
                "tools": {"builtin": ["handoff_to_human"]},
                "knowledge": {
                    "entries": [
                        {
                            "question": "Do you deliver?",
                            "answer": "Yes, we deliver within 5 km.",
                            "keywords": ["deliver", "delivery"],
                        }
                    ]
                },
            },
        },
    ]


@pytest.fixture(scope="session")
def console_manifests(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("console-manifests")
    docs = tenant_docs(TENANT_A, NUMBER_A, "AC" + "0" * 28 + "0301")
    docs += tenant_docs(TENANT_B, NUMBER_B, "AC" + "0" * 28 + "0302")
    docs += tenant_docs(TENANT_V, NUMBER_V, "AC" + "0" * 28 + "0303")
    (folder / "tenants.yaml").write_text(yaml.safe_dump_all(docs))
    return folder


@pytest.fixture(scope="session")
def console_catalog(console_manifests: Path) -> TenantCatalog:
    return load_catalog(console_manifests)


@dataclass
class ConsoleTwilio:
    url: str
    messages: list[RecordedMessage]
    media: MediaFiles
    typing_indicators: list[RecordedTyping]
    inbound_messages: dict[str, str]

    def sent_to(self, contact: str) -> list[RecordedMessage]:
        return [m for m in self.messages if m.to == f"whatsapp:{contact}"]

    def typing_on(self, message_sid: str) -> int:
        """How many typing indicators the contact was shown on their message `message_sid`."""
        return sum(t.message_id == message_sid for t in self.typing_indicators)


@pytest.fixture(scope="session")
def console_twilio(console_catalog: TenantCatalog) -> Iterator[ConsoleTwilio]:
    accounts = {
        t.account_sid: t.auth_token.get_secret_value() for t in console_catalog.tenants.values()
    }
    app = create_twilio_app(accounts, callback_statuses=("sent", "delivered", "read"))
    media = sample_media()
    media.files["ME9"] = ("application/pdf", RECEIPT)
    app.router.routes.extend(create_media_app(accounts, media).routes)
    with serve_in_thread(app) as url:
        yield ConsoleTwilio(
            url, app.state.messages, media, app.state.typing_indicators, app.state.inbound_messages
        )


@dataclass
class ConsolePlatform:
    url: str
    catalog: TenantCatalog
    twilio: ConsoleTwilio
    # The environment its processes share (NATS, PostgreSQL, Twilio, manifests, media).
    env: dict[str, str]
    logs: Path

    async def contact_writes(
        self, tenant: str, contact: str, body: str, name: str, media: Sequence[str] = ()
    ) -> str:
        """A signed inbound webhook, as Twilio posts it when the contact writes; its MessageSid.

        `media` are ids of the local Twilio's sample files, attached in that order.
        """
        account = self.catalog.by_name(tenant).account_sid
        sid = "SM" + secrets.token_hex(16)
        self.twilio.inbound_messages[sid] = account  # Twilio has it before posting the webhook
        attached = [
            (
                f"{self.twilio.url}/2010-04-01/Accounts/{account}/Messages/MM1/Media/{media_id}",
                self.twilio.media.files[media_id][0],
            )
            for media_id in media
        ]
        data, headers = webhook_for(
            self.catalog.by_name(tenant),
            self.url + WEBHOOK,
            contact=contact,
            body=body,
            profile_name=name,
            media=attached,
            message_sid=sid,
        )
        async with httpx.AsyncClient(base_url=self.url) as client:
            response = await client.post(WEBHOOK, data=data, headers=headers)
        assert response.status_code == 200
        return sid


def _wta(*args: str) -> list[str]:
    return [sys.executable, "-m", "wta_runtime", *args]


@pytest.fixture(scope="session")
def console_platform(
    tmp_path_factory: pytest.TempPathFactory,
    nats_url: str,
    database_url: str,
    console_manifests: Path,
    console_catalog: TenantCatalog,
    console_twilio: ConsoleTwilio,
) -> Iterator[ConsolePlatform]:
    logs = tmp_path_factory.mktemp("console-logs")
    gateway_port, worker_port = free_port(), free_port()
    gateway_url = f"http://127.0.0.1:{gateway_port}"
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("WTA_")},
        "WTA_NATS_URL": nats_url,
        "WTA_DATABASE_URL": database_url,
        "WTA_TWILIO_API_BASE": console_twilio.url,
        "WTA_MANIFESTS_DIR": str(console_manifests),
        "WTA_PUBLIC_BASE_URL": gateway_url,
        "WTA_MEDIA_DIR": str(logs / "media"),
        "WTA_LOG_LEVEL": "INFO",
    }
    processes = [
        ManagedProcess(
            "console-gateway",
            _wta("gateway"),
            port=gateway_port,
            log_path=logs / "gateway.log",
            env={**env, "WTA_GATEWAY_PORT": str(gateway_port)},
        ),
        ManagedProcess(
            "console-worker",
            _wta("worker"),
            port=worker_port,
            log_path=logs / "worker.log",
            env={
                **env,
                "WTA_TENANTS": f'["{TENANT_A}", "{TENANT_B}"]',
                "WTA_WORKER_METRICS_PORT": str(worker_port),
            },
        ),
    ]
    started: list[ManagedProcess] = []
    try:
        for process in processes:
            process.start(timeout=60)
            started.append(process)
        yield ConsolePlatform(gateway_url, console_catalog, console_twilio, env, logs)
    finally:
        stop_together(started)


@pytest.fixture(scope="session")
def voice_worker(console_platform: ConsolePlatform, openai_url: str) -> Iterator[None]:
    """A worker of TENANT_V on the scripted model: voice notes are transcribed by its endpoint."""
    port = free_port()
    worker = ManagedProcess(
        "console-voice-worker",
        _wta("worker"),
        port=port,
        log_path=console_platform.logs / "voice-worker.log",
        env={
            **console_platform.env,
            "WTA_TENANTS": f'["{TENANT_V}"]',
            "WTA_WORKER_METRICS_PORT": str(port),
            "WTA_OPENAI_API_KEY": "sk-local-test",
            "WTA_OPENAI_BASE_URL": openai_url,
        },
    )
    worker.start(timeout=60)
    try:
        yield
    finally:
        stop_together([worker])


@dataclass(frozen=True)
class StaffLogin:
    tenant: str
    email: str
    password: str


@pytest.fixture
def make_staff(
    sessions: async_sessionmaker[AsyncSession],
) -> Any:
    """A factory of staff accounts with fresh emails and passwords."""
    counter = iter(range(10**6))

    async def make(tenant: str = TENANT_A, role: str = "agent") -> StaffLogin:
        email = f"staff{next(counter)}-{os.urandom(3).hex()}@{tenant}.example"
        password = new_password()
        async with sessions.begin() as session:
            await add_staff(
                session,
                tenant=tenant,
                email=email,
                role=role,
                password_hash=hash_password(password),
                now=datetime.now(UTC),
            )
        return StaffLogin(tenant, email, password)

    return make


def csrf_of(html: str) -> str:
    """The CSRF token a page's forms carry."""
    match = CSRF_FIELD.search(html)
    assert match, "the page has no form with a CSRF token"
    return match.group(1)


async def log_in(client: httpx.AsyncClient, staff: StaffLogin) -> httpx.Response:
    """Log in through the form, as a browser does; returns the login POST's response."""
    page = await client.get("/console/login")
    return await client.post(
        "/console/login",
        data={
            "tenant": staff.tenant,
            "email": staff.email,
            "password": staff.password,
            "csrf": csrf_of(page.text),
        },
    )


@pytest.fixture
async def console_client(console_platform: ConsolePlatform) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=console_platform.url) as client:
        yield client
