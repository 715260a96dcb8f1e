"""The tenants' JetStream streams, through one lazily (re)connected NATS client."""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime

import nats
from nats.aio.client import Client
from nats.errors import Error as NatsError
from nats.js.api import ConsumerInfo
from nats.js.errors import NotFoundError

from wta_operator.builders.sleep import StreamActivity
from wta_runtime.stream.names import TenantStream
from wta_runtime.stream.setup import ensure_tenant_stream

log = logging.getLogger("wta.operator.streams")


class StreamUnavailableError(Exception):
    """NATS or JetStream could not be reached or refused the request."""


class StreamPlane:
    """Creates and deletes tenants' streams; connects on first use and after losing NATS."""

    def __init__(self, url: str, *, timeout: float) -> None:
        self._url = url
        self._timeout = timeout
        self._client: Client | None = None
        self._lock = asyncio.Lock()

    async def _on_error(self, exc: Exception) -> None:
        # nats-py logs a full traceback per failed attempt by default; one line is enough.
        log.warning("NATS: %s", type(exc).__name__)

    async def _connected(self) -> Client:
        async with self._lock:
            if self._client is not None and self._client.is_connected:
                return self._client
            if self._client is not None and not self._client.is_closed:
                await self._client.close()
            try:
                # One retry, then give up: the reconcile reports it and kopf retries with backoff.
                self._client = await nats.connect(
                    self._url,
                    name="wta-operator",
                    connect_timeout=self._timeout,
                    max_reconnect_attempts=1,
                    reconnect_time_wait=0.5,
                    error_cb=self._on_error,
                )
            except (OSError, NatsError, TimeoutError) as exc:
                self._client = None
                raise StreamUnavailableError(
                    f"NATS at {_safe(self._url)} is unreachable ({type(exc).__name__})"
                ) from None
            return self._client

    async def ensure(self, tenant: str) -> str:
        """Create or update the tenant's streams and consumers; returns the inbound stream."""
        names = TenantStream(tenant)
        client = await self._connected()
        try:
            await ensure_tenant_stream(client.jetstream(timeout=self._timeout), names)
        except (NatsError, TimeoutError) as exc:
            raise StreamUnavailableError(
                f"JetStream refused stream {names.stream}: {type(exc).__name__}: {exc}"
            ) from None
        return names.stream

    async def delete(self, tenant: str) -> bool:
        """Delete the tenant's streams (and so their consumers); False when none existed."""
        names = TenantStream(tenant)
        client = await self._connected()
        js = client.jetstream(timeout=self._timeout)
        deleted = False
        for stream in (names.stream, names.dead_letter_stream):
            try:
                deleted = await js.delete_stream(stream) or deleted
            except NotFoundError:
                continue
            except (NatsError, TimeoutError) as exc:
                raise StreamUnavailableError(
                    f"JetStream could not delete stream {stream}: {type(exc).__name__}"
                ) from None
        return deleted

    async def activity(self, tenant: str) -> StreamActivity | None:
        """What waits on the tenant's stream and when it last moved; None before its consumers
        exist (the Stream part creates them)."""
        names = TenantStream(tenant)
        js = (await self._connected()).jetstream(timeout=self._timeout)
        try:
            inbound = await js.consumer_info(names.stream, names.worker_durable)
            callbacks = await js.consumer_info(names.stream, names.status_durable)
        except NotFoundError:
            return None
        except (NatsError, TimeoutError) as exc:
            raise StreamUnavailableError(
                f"JetStream did not describe stream {names.stream}: {type(exc).__name__}"
            ) from None
        return StreamActivity(
            waiting=_unsettled(inbound),
            callbacks=_unsettled(callbacks),
            last_active=max(_last_active(inbound), _last_active(callbacks)),
            handed_out=_handed_out(inbound) + _handed_out(callbacks),
        )

    async def close(self) -> None:
        if self._client is not None and not self._client.is_closed:
            await self._client.drain()
        self._client = None


def _safe(url: str) -> str:
    """The URL without credentials, for messages."""
    scheme, _, rest = url.partition("://")
    return f"{scheme}://{rest.rpartition('@')[2]}"


def _unsettled(info: ConsumerInfo) -> int:
    return (info.num_pending or 0) + (info.num_ack_pending or 0)


def _last_active(info: ConsumerInfo) -> datetime:
    moments = [info.created]
    for sequence in (info.delivered, info.ack_floor):
        if sequence is not None and sequence.last_active is not None:
            moments.append(sequence.last_active)
    return max(moments)


def _handed_out(info: ConsumerInfo) -> int:
    return info.delivered.stream_seq if info.delivered is not None else 0
