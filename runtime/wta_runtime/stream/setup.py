"""Creates or updates a tenant's inbound stream and the worker's durable consumer."""

from __future__ import annotations

from datetime import timedelta

from nats.js import JetStreamContext
from nats.js.api import AckPolicy, ConsumerConfig, RetentionPolicy, StorageType, StreamConfig
from nats.js.errors import NotFoundError

from wta_runtime.stream.names import TenantStream

# Twilio retries a webhook for minutes, not hours: a day of duplicate detection covers it amply.
DUPLICATE_WINDOW = timedelta(hours=24)
MAX_DELIVERIES = 10
ACK_WAIT_SECONDS = 60.0


def stream_config(names: TenantStream) -> StreamConfig:
    """The desired configuration of a tenant's inbound stream."""
    return StreamConfig(
        name=names.stream,
        subjects=[names.inbound_subject],
        retention=RetentionPolicy.LIMITS,
        storage=StorageType.FILE,
        duplicate_window=DUPLICATE_WINDOW.total_seconds(),
        max_age=timedelta(days=7).total_seconds(),
    )


def worker_consumer_config(names: TenantStream) -> ConsumerConfig:
    """The desired configuration of the runtime's durable pull consumer."""
    return ConsumerConfig(
        durable_name=names.worker_durable,
        ack_policy=AckPolicy.EXPLICIT,
        ack_wait=ACK_WAIT_SECONDS,
        max_deliver=MAX_DELIVERIES,
        filter_subject=names.inbound_subject,
    )


async def ensure_tenant_stream(js: JetStreamContext, names: TenantStream) -> None:
    """Create the tenant's stream and consumer, or bring them to the desired configuration."""
    config = stream_config(names)
    try:
        await js.stream_info(names.stream)
    except NotFoundError:
        await js.add_stream(config)
    else:
        await js.update_stream(config)
    await js.add_consumer(names.stream, worker_consumer_config(names))
