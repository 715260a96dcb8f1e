"""Opening and closing NATS connections the same way in every process."""

from __future__ import annotations

import logging

import nats
from nats.aio.client import Client as NATS
from nats.errors import Error as NatsError

log = logging.getLogger("wta.nats")


async def connect(url: str, *, name: str) -> NATS:
    """A connection that keeps reconnecting for as long as the process lives."""
    return await nats.connect(url, name=name, max_reconnect_attempts=-1)


async def close_connection(connection: NATS) -> None:
    """Drain when connected (in-flight publishes finish); just close while reconnecting."""
    try:
        if connection.is_connected:
            await connection.drain()
        else:
            await connection.close()
    except (NatsError, OSError):
        log.warning("NATS connection closed uncleanly")
