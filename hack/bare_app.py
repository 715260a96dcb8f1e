"""The baselines of the gateway benchmark, both plain ASGI apps on the same uvicorn.

- `app`: reads the body and answers 200 with empty TwiML, nothing else (bare uvicorn).
- `publish_app`: the same plus the one thing the gateway cannot skip, publishing the body to a
  JetStream stream and waiting for its acknowledgement: the floor of the gateway's cost. It
  publishes as the gateway does (`JetStreamAcks`), so gateway / floor is the cost of the checks.
"""

from __future__ import annotations

import os
import uuid
from typing import Any

import nats
from starlette.requests import Request
from starlette.responses import Response

from wta_runtime.gateway.jetstream_acks import JetStreamAcks
from wta_runtime.stream.names import TenantStream
from wta_runtime.stream.setup import ensure_tenant_stream

EMPTY_TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response></Response>'
FLOOR = TenantStream("bench-floor")


async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    """Read the body and answer 200 with empty TwiML, nothing else."""
    if scope["type"] != "http":
        return
    await Request(scope, receive).body()
    await Response(EMPTY_TWIML, media_type="text/xml")(scope, receive, send)


_floor: dict[str, Any] = {}


async def publish_app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    """Read the body, publish it to JetStream with a `Nats-Msg-Id`, answer after the ack."""
    if scope["type"] == "lifespan":
        while (await receive())["type"] == "lifespan.startup":
            connection = await nats.connect(os.environ["WTA_NATS_URL"])
            _floor["nats"] = connection
            await ensure_tenant_stream(connection.jetstream(), FLOOR, consumers=False)
            _floor["acks"] = await JetStreamAcks.subscribe(connection)
            await send({"type": "lifespan.startup.complete"})
        await _floor["nats"].close()
        await send({"type": "lifespan.shutdown.complete"})
        return
    body = await Request(scope, receive).body()
    await _floor["acks"].publish(
        FLOOR.inbound_subject + ".floor",
        body,
        stream=FLOOR.stream,
        msg_id=uuid.uuid4().hex,
        timeout=5,
    )
    await Response(EMPTY_TWIML, media_type="text/xml")(scope, receive, send)
