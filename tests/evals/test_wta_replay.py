"""`wta replay` on a conversation a real worker stored: the candidate answers, nothing is sent."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import httpx
import yaml
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from tests.conftest import EXAMPLES, Platform, TwilioServer
from tests.utils.openai_server import ScriptedModel
from tests.utils.waiting import eventually
from tests.utils.webhooks import new_contact, webhook_for
from wta_runtime.catalog import TenantCatalog
from wta_runtime.db.agent_tables import AgentSelection, TurnUsage
from wta_runtime.db.tables import Conversation, Message

WEBHOOK = "/api/v1/twilio/webhook"


def candidate_agent(folder: Path) -> Path:
    """The example agent with new instructions and a new name, as a person would try one."""
    agent = yaml.safe_load((EXAMPLES / "acme-pizza-agent.yaml").read_text())
    agent["metadata"]["name"] = "pizza-candidate"
    agent["spec"]["instructions"] = "You are the new, cheerful assistant of Acme Pizza."
    path = folder / "candidate.yaml"
    path.write_text(yaml.safe_dump(agent))
    return path


async def write(platform: Platform, tenant: Any, contact: str, body: str) -> None:
    data, headers = webhook_for(tenant, platform.gateway_url + WEBHOOK, contact=contact, body=body)
    async with httpx.AsyncClient(base_url=platform.gateway_url) as client:
        assert (await client.post(WEBHOOK, data=data, headers=headers)).status_code == 200


async def snapshot(
    sessions: async_sessionmaker[AsyncSession], conversation: Conversation
) -> tuple[Any, ...]:
    async with sessions() as session:
        row = await session.get(Conversation, conversation.id, populate_existing=True)
        assert row is not None
        messages = await session.execute(
            select(Message.id, Message.body, Message.delivery_status, Message.answered_by)
            .where(Message.conversation_id == conversation.id)
            .order_by(Message.ordinal)
        )
        # Only the candidate's name: a late turn of another test may record its own rows.
        candidate_rows = [
            await session.scalar(select(func.count()).where(table.agent == "pizza-candidate"))
            for table in (TurnUsage, AgentSelection)
        ]
        return (
            row.version,
            row.updated_at,
            row.status,
            row.agent,
            list(messages.all()),
            candidate_rows,
        )


async def test_replay_shows_sent_and_candidate_replies_and_sends_nothing(
    platform: Platform,
    catalog: TenantCatalog,
    twilio: TwilioServer,
    sessions: async_sessionmaker[AsyncSession],
    scripted_model: ScriptedModel,
    openai_url: str,
    database_url: str,
    manifests_dir: Path,
    tmp_path: Path,
) -> None:
    tenant = catalog.by_name("acme-pizza")  # answered by the offline worker
    contact = new_contact()
    await write(platform, tenant, contact, "When are you open?")
    await eventually(lambda: twilio.sent_to(contact), until=lambda sent: len(sent) == 1)
    await write(platform, tenant, contact, "Do you deliver?")
    await eventually(lambda: twilio.sent_to(contact), until=lambda sent: len(sent) == 2)
    async with sessions() as session:
        conversation = await session.scalar(
            select(Conversation).where(
                Conversation.tenant == "acme-pizza", Conversation.contact_number.contains(contact)
            )
        )
    assert conversation is not None
    before = await snapshot(sessions, conversation)
    scripted_model.reset()
    scripted_model.replies = ["Open 11 to 23, every day!", "Free delivery within 5 km!"]

    candidate = candidate_agent(tmp_path)
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("WTA_")},
        "WTA_DATABASE_URL": database_url,
        "WTA_MANIFESTS_DIR": str(manifests_dir),
        "WTA_TWILIO_API_BASE": twilio.url,
        "WTA_OPENAI_API_KEY": "sk-test-local",
        "WTA_OPENAI_BASE_URL": openai_url,
    }

    done = await asyncio.to_thread(
        subprocess.run,
        [
            sys.executable,
            "-m",
            "wta_runtime",
            "replay",
            str(conversation.id),
            "--agent",
            str(candidate),
        ],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )

    assert done.returncode == 0, done.stdout + done.stderr
    output = " ".join(done.stdout.split())  # the table wraps long cells
    for said in ("When are you open?", "Do you deliver?"):
        assert said in done.stdout
    assert "We are open every day from 11:00 to 23:00." in output  # what the worker sent
    assert "Open 11 to 23, every day!" in output  # what the candidate would send
    assert "Free delivery within 5 km!" in output
    # The candidate answered with its own prompt, with the stored conversation as history.
    second = scripted_model.requests[1]["messages"]
    assert "cheerful assistant" in second[0]["content"]
    assert any("We are open every day" in str(m.get("content")) for m in second[1:])
    # Nothing sent, nothing written.
    assert len(twilio.sent_to(contact)) == 2
    assert await snapshot(sessions, conversation) == before
