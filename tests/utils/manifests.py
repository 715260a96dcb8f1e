"""Factories for manifest files: a tenant with its token Secret and an offline agent."""

from __future__ import annotations

from typing import Any


def tenant_documents(
    name: str, *, account: str, number: str, answer: str, **spec: Any
) -> list[dict[str, Any]]:
    """A Secret `<name>-twilio`, the WhatsAppTenant (plus `spec`) and a default AIAgent whose
    offline answer to "hours"/"open" is `answer`."""
    return [
        {
            "apiVersion": "v1",
            "kind": "Secret",
            "metadata": {"name": f"{name}-twilio"},
            "stringData": {"authToken": f"token-of-{name}-000000000000"},
        },
        {
            "apiVersion": "wta.io/v1alpha1",
            "kind": "WhatsAppTenant",
            "metadata": {"name": name},
            "spec": {
                "displayName": name,
                "twilio": {
                    "accountSid": account,
                    "authTokenSecretRef": {"name": f"{name}-twilio", "key": "authToken"},
                },
                "numbers": [{"number": number}],
                **spec,
            },
        },
        {
            "apiVersion": "wta.io/v1alpha1",
            "kind": "AIAgent",
            "metadata": {"name": f"{name}-agent"},
            "spec": {
                "tenantRef": {"name": name},
                "selection": {"default": True},
                "model": {"name": "gpt-4o-mini"},
                "instructions": "Answer from the knowledge.",
                "knowledge": {
                    "entries": [
                        {
                            "question": "When do you open?",
                            "answer": answer,
                            "keywords": ["open", "hours"],
                        }
                    ]
                },
            },
        },
    ]
