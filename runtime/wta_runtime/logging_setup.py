"""One log format for every process."""

from __future__ import annotations

import logging


def configure_logging(level: str) -> None:
    logging.basicConfig(
        level=level.upper(),
        format="%(asctime)s %(levelname)-7s %(name)s: %(message)s",
    )
    # The Twilio SDK logs request URLs and bodies at INFO: message text stays out of our logs.
    logging.getLogger("twilio").setLevel(logging.WARNING)
    logging.getLogger("httpx").setLevel(logging.WARNING)
    # The MCP SDK's HTTP client logs each request at INFO, the MCP server's URL with it.
    logging.getLogger("httpx2").setLevel(logging.WARNING)
    # botocore says at INFO which credential source each new client found, for every store.
    logging.getLogger("botocore").setLevel(logging.WARNING)
