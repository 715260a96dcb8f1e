"""One log format for every process."""

from __future__ import annotations

import logging
from contextvars import ContextVar

# The tenant whose work the current task does (a shared runtime's lanes set it); tasks inherit it.
serving_tenant: ContextVar[str | None] = ContextVar("serving_tenant", default=None)


class TenantTag(logging.Filter):
    """Adds `tenant=<name> ` to every record made while a tenant's work runs."""

    def filter(self, record: logging.LogRecord) -> bool:
        tenant = serving_tenant.get()
        record.tenant_tag = f"tenant={tenant} " if tenant else ""
        return True


def configure_logging(level: str) -> None:
    logging.basicConfig(
        level=level.upper(),
        format="%(asctime)s %(levelname)-7s %(name)s: %(tenant_tag)s%(message)s",
    )
    for handler in logging.getLogger().handlers:
        handler.addFilter(TenantTag())
    # The Twilio SDK logs request URLs and bodies at INFO: message text stays out of our logs.
    logging.getLogger("twilio").setLevel(logging.WARNING)
    logging.getLogger("httpx").setLevel(logging.WARNING)
    # The MCP SDK's HTTP client logs each request at INFO, the MCP server's URL with it.
    logging.getLogger("httpx2").setLevel(logging.WARNING)
    # botocore says at INFO which credential source each new client found, for every store.
    logging.getLogger("botocore").setLevel(logging.WARNING)
