"""Manifests of tenants and agents written to a folder, and turn contexts, for the agent tests."""

from __future__ import annotations

import secrets
import uuid
from pathlib import Path
from typing import Any

import yaml

from wta_runtime.agents.turn import ConversationContext


def new_name(prefix: str = "t") -> str:
    return f"{prefix}-{secrets.token_hex(4)}"


def tenant_docs(name: str, *, number: str | None = None) -> list[dict[str, Any]]:
    """A WhatsAppTenant and its Twilio Secret."""
    return [
        {
            "apiVersion": "v1",
            "kind": "Secret",
            "metadata": {"name": f"{name}-twilio"},
            "stringData": {"authToken": "test-token", "apiToken": "s3cret-api-token"},
        },
        {
            "apiVersion": "wta.io/v1alpha1",
            "kind": "WhatsAppTenant",
            "metadata": {"name": name},
            "spec": {
                "displayName": f"Shop {name}",
                "twilio": {
                    "accountSid": "AC" + secrets.token_hex(16),
                    "authTokenSecretRef": {"name": f"{name}-twilio", "key": "authToken"},
                },
                "numbers": [{"number": number or "+1415555" + str(secrets.randbelow(10**4))}],
                "fallbackMessage": "Tenant fallback: a person will answer soon.",
            },
        },
    ]


def agent_doc(name: str, tenant: str, **spec: Any) -> dict[str, Any]:
    """An AIAgent of `tenant`; `spec` keys (camelCase) override the defaults."""
    body: dict[str, Any] = {
        "tenantRef": {"name": tenant},
        "instructions": f"You are agent {name}.",
        "model": {"name": "gpt-4o-mini", "timeoutSeconds": 2},
    }
    body.update(spec)
    return {
        "apiVersion": "wta.io/v1alpha1",
        "kind": "AIAgent",
        "metadata": {"name": name},
        "spec": body,
    }


def write(folder: Path, docs: list[dict[str, Any]], file: str = "manifests.yaml") -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / file).write_text(yaml.safe_dump_all(docs))
    return folder


def context(
    *, contact: str | None = None, conversation: uuid.UUID | None = None, **extra: Any
) -> ConversationContext:
    """A turn context with a fresh turn key (a MessageSid stand-in)."""
    return ConversationContext(
        turn_key="SM" + secrets.token_hex(16),
        conversation_id=conversation or uuid.uuid4(),
        contact_number=contact or "+1555" + str(secrets.randbelow(10**7)).zfill(7),
        **extra,
    )


def system_prompt_of(request: dict[str, Any]) -> str:
    return str(request["messages"][0]["content"])
