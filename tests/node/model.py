"""The scripted OpenAI-compatible model the node's runtime calls, and the tenant wired to it.

Its answer names the revision written in the agent's instructions (`rev-N`), so a reply shows
which instructions the worker that wrote it had.
"""

from __future__ import annotations

import asyncio
import json
import re
import time
from typing import Any

from tests.node.node import RealNode
from tests.node.release import AGENT, TENANT, TENANT_NS
from tests.node.rollout import (
    generation,
    wait_rolled,
    wait_runtime_created,
    wait_template_changed,
)

REVISION = re.compile(r"rev-\d+")
MODEL_SECRET = f"{TENANT}-model"
BASE_INSTRUCTIONS = "You are the WhatsApp assistant of Acme Pizza. Sign every reply with {rev}."


def answer_with_revision(body: dict[str, Any]) -> str:
    """`Open 11:00-23:00 (rev-N)`, N from the instructions in the system message."""
    system = " ".join(
        str(m.get("content")) for m in body.get("messages", []) if m.get("role") == "system"
    )
    found = REVISION.search(system)
    return f"Open 11:00-23:00 ({found.group(0) if found else 'no revision'})"


def revision_of(reply: str) -> str | None:
    """The `rev-N` a reply was signed with."""
    found = REVISION.search(reply)
    return found.group(0) if found else None


def set_instructions(node: RealNode, revision: str) -> None:
    """Change the agent's instructions to sign replies with `revision`."""
    patch = {"spec": {"instructions": BASE_INSTRUCTIONS.format(rev=revision)}}
    node.kube.kubectl(
        *("-n", TENANT_NS, "patch", "aiagent", AGENT, "--type=merge"), "-p", json.dumps(patch)
    )


async def roll_to(node: RealNode, revision: str) -> tuple[float, float]:
    """Sign replies with `revision` and wait until the runtime has rolled to it; when the
    instructions changed and when the last old pod was gone (`time.monotonic()`)."""
    kube = node.kube
    before = generation(kube)
    changed = time.monotonic()
    set_instructions(node, revision)
    await asyncio.to_thread(wait_template_changed, kube, before)
    await asyncio.to_thread(wait_rolled, kube)
    return changed, time.monotonic()


def use_model(node: RealNode, base_url: str) -> None:
    """Point the tenant at the scripted model (with an API key Secret), instructions rev-1,
    and wait until the runtime has rolled to that."""
    kube = node.kube
    kube.kubectl(
        *("-n", TENANT_NS, "create", "secret", "generic", MODEL_SECRET),
        "--from-literal=apiKey=sk-node-test",
    )
    wait_runtime_created(kube)
    before = generation(kube)
    patch = {
        "spec": {
            "model": {
                "baseUrl": base_url,
                "apiKeySecretRef": {"name": MODEL_SECRET, "key": "apiKey"},
            }
        }
    }
    kube.kubectl(
        *("-n", TENANT_NS, "patch", "whatsapptenant", TENANT, "--type=merge"),
        "-p",
        json.dumps(patch),
    )
    set_instructions(node, "rev-1")
    wait_template_changed(kube, before)
    wait_rolled(kube)
