"""Names of each tenant's JetStream stream, subjects and durable consumer."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class TenantStream:
    """Where a tenant's inbound messages live in JetStream."""

    tenant: str

    @property
    def stream(self) -> str:
        return "WTA_INBOUND_" + self.tenant.upper().replace("-", "_").replace(".", "_")

    @property
    def inbound_subject(self) -> str:
        return f"wta.inbound.{self.tenant}"

    @property
    def worker_durable(self) -> str:
        return "runtime-worker"
