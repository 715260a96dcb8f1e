"""Opening and closing NATS connections the same way in every process."""

from __future__ import annotations

import logging

import nats
from nats.aio.client import Client as NATS
from nats.errors import Error as NatsError

from wta_runtime.stream.permissions import inbox_prefix, url_user

log = logging.getLogger("wta.nats")


async def connect(url: str, *, name: str) -> NATS:
    """A connection that keeps reconnecting for as long as the process lives.

    A URL with a user (`nats://user:password@host`) takes its replies under that user's own
    inbox prefix, the only one its NATS permissions let it subscribe to.
    """
    return await nats.connect(
        url, name=name, max_reconnect_attempts=-1, inbox_prefix=inbox_prefix(url_user(url))
    )


async def close_connection(connection: NATS) -> None:
    """Drain when connected (in-flight publishes finish); just close while reconnecting."""
    try:
        if connection.is_connected:
            await connection.drain()
        else:
            await connection.close()
    except (NatsError, OSError):
        log.warning("NATS connection closed uncleanly")
