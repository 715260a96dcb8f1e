"""Creates or updates a tenant's streams and the worker's durable consumers."""

from __future__ import annotations

import dataclasses
import logging
from datetime import timedelta
from typing import Any

from nats.errors import TimeoutError as NatsTimeoutError
from nats.js import JetStreamContext
from nats.js.api import AckPolicy, ConsumerConfig, RetentionPolicy, StorageType, StreamConfig
from nats.js.errors import NotFoundError

from wta_runtime.stream.names import TenantStream

log = logging.getLogger("wta.stream")

# Twilio retries a webhook for minutes, not hours: a day of duplicate detection covers it amply.
DUPLICATE_WINDOW = timedelta(hours=24)
# The worker counts its own attempts and dead-letters a message after the last one, so JetStream
# never stops delivering an inbound message: a give-up cut off by a dying worker is tried again,
# however often that happens, instead of the message being dropped at a delivery cap.
UNLIMITED_DELIVERIES = -1
# Status callbacks are only retried a few times: a lost one leaves a tick behind, not a contact.
STATUS_MAX_DELIVERIES = 10
# Workers send `in_progress` heartbeats well within this, so a long model call is not redelivered.
ACK_WAIT_SECONDS = 30.0
# Messages handed out and not yet settled, across every replica: the stream's backpressure bound.
MAX_ACK_PENDING = 4096


def stream_config(names: TenantStream) -> StreamConfig:
    """The desired configuration of a tenant's stream (inbound messages and status callbacks)."""
    return StreamConfig(
        name=names.stream,
        subjects=[names.inbound_subject, names.inbound_wildcard, names.status_subject],
        retention=RetentionPolicy.LIMITS,
        storage=StorageType.FILE,
        duplicate_window=DUPLICATE_WINDOW.total_seconds(),
        max_age=timedelta(days=7).total_seconds(),
    )


def dead_letter_config(names: TenantStream) -> StreamConfig:
    """Messages the worker gave up on, with the reason, kept for a month for people to look at."""
    return StreamConfig(
        name=names.dead_letter_stream,
        subjects=[names.dead_letter_subject],
        retention=RetentionPolicy.LIMITS,
        storage=StorageType.FILE,
        duplicate_window=DUPLICATE_WINDOW.total_seconds(),
        max_age=timedelta(days=30).total_seconds(),
    )


def worker_consumer_config(
    names: TenantStream, *, ack_wait: float = ACK_WAIT_SECONDS
) -> ConsumerConfig:
    """The desired configuration of the runtime's durable pull consumer of inbound messages."""
    return ConsumerConfig(
        durable_name=names.worker_durable,
        ack_policy=AckPolicy.EXPLICIT,
        ack_wait=ack_wait,
        max_deliver=UNLIMITED_DELIVERIES,
        max_ack_pending=MAX_ACK_PENDING,
        filter_subjects=[names.inbound_subject, names.inbound_wildcard],
    )


def status_consumer_config(names: TenantStream) -> ConsumerConfig:
    """The durable pull consumer of Twilio status callbacks."""
    return ConsumerConfig(
        durable_name=names.status_durable,
        ack_policy=AckPolicy.EXPLICIT,
        ack_wait=ACK_WAIT_SECONDS,
        max_deliver=STATUS_MAX_DELIVERIES,
        filter_subject=names.status_subject,
    )


def differs(desired: Any, live: Any) -> bool:
    """Whether `live` lacks a value `desired` sets (fields left None are the server's choice)."""
    for item in dataclasses.fields(desired):
        wanted = getattr(desired, item.name)
        if wanted is not None and getattr(live, item.name, None) != wanted:
            return True
    return False


async def _write(what: str, write: Any) -> None:
    try:
        await write
    except NatsTimeoutError:
        # A refused request gets no answer, only a permissions violation on the connection.
        log.error(
            "JetStream did not answer %s: a tenant's runtime may not change streams or consumers "
            "(the operator, or the local platform, makes them: see its Stream condition)",
            what,
        )
        raise


async def _ensure_stream(js: JetStreamContext, config: StreamConfig) -> None:
    assert config.name is not None
    try:
        live = (await js.stream_info(config.name)).config
    except NotFoundError:
        await _write(f"creating stream {config.name}", js.add_stream(config))
        return
    if differs(config, live):
        await _write(f"updating stream {config.name}", js.update_stream(config))


async def _ensure_consumer(js: JetStreamContext, stream: str, config: ConsumerConfig) -> None:
    assert config.durable_name is not None
    try:
        live = (await js.consumer_info(stream, config.durable_name)).config
    except NotFoundError:
        live = None
    if live is None or differs(config, live):
        what = f"consumer {config.durable_name} of {stream}"
        await _write(f"creating or updating {what}", js.add_consumer(stream, config))


async def ensure_tenant_stream(
    js: JetStreamContext,
    names: TenantStream,
    *,
    consumers: bool = True,
    ack_wait: float = ACK_WAIT_SECONDS,
) -> None:
    """Create the tenant's streams (and consumers), or bring them to the desired configuration.

    Only what is missing or differs is written: a tenant's runtime, whose NATS user may only
    read its streams, binds to what the operator made with the same configuration. The gateway
    only publishes and passes `consumers=False`, so it never resets what the workers and the
    operator configured for consuming.
    """
    await _ensure_stream(js, stream_config(names))
    await _ensure_stream(js, dead_letter_config(names))
    if consumers:
        await _ensure_consumer(js, names.stream, worker_consumer_config(names, ack_wait=ack_wait))
        await _ensure_consumer(js, names.stream, status_consumer_config(names))
