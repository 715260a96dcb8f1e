"""Names of each tenant's JetStream streams, subjects and durable consumers."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from functools import cached_property, lru_cache


@lru_cache(maxsize=4096)  # the gateway computes it for every message; contacts write again
def thread_token(contact: str, business: str) -> str:
    """A subject token for one contact talking to one business number (no number in clear)."""
    bare = f"{contact.removeprefix('whatsapp:')}|{business.removeprefix('whatsapp:')}"
    return hashlib.sha256(bare.encode()).hexdigest()[:16]


@dataclass(frozen=True)
class TenantStream:
    """Where a tenant's inbound messages, status callbacks and dead letters live in JetStream."""

    tenant: str

    @property
    def _suffix(self) -> str:
        return self.tenant.upper().replace("-", "_").replace(".", "_")

    @cached_property
    def stream(self) -> str:
        return "WTA_INBOUND_" + self._suffix

    @property
    def inbound_subject(self) -> str:
        """Messages published before per-conversation subjects existed; still consumed."""
        return f"wta.inbound.{self.tenant}"

    @property
    def inbound_wildcard(self) -> str:
        return f"wta.inbound.{self.tenant}.*"

    def thread_subject(self, contact: str, business: str) -> str:
        """One subject per conversation thread, so a worker can find a thread's earlier messages."""
        return f"wta.inbound.{self.tenant}.{thread_token(contact, business)}"

    @property
    def status_subject(self) -> str:
        return f"wta.status.{self.tenant}"

    @property
    def worker_durable(self) -> str:
        return "runtime-worker"

    @property
    def status_durable(self) -> str:
        return "status-worker"

    @property
    def dead_letter_stream(self) -> str:
        return "WTA_DEAD_" + self._suffix

    @property
    def dead_letter_subject(self) -> str:
        return f"wta.dead.{self.tenant}"
