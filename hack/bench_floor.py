"""The floor of the worker benchmark: a consumer doing only the irreducible I/O of a turn.

Per inbound message: pull-fetched from the tenant's durable JetStream consumer, one INSERT into
a table of its own (asyncpg), one chat completion (openai SDK), one Twilio send (twilio SDK, as
the worker's sender does), ack. No conversation, history, ordering or idempotency: what is left
is the cost of the servers and the libraries, the best a worker on this machine could do.
It binds to the worker's durable consumer as the worker configured it (run a worker first).

Run by hack/bench_worker.py as `python -m hack.bench_floor` with a JSON job on stdin; it stops
after `count` answered messages or `timeout` seconds. It prints `ready` once it pulls, then what
it did as one line of JSON.
"""

from __future__ import annotations

import asyncio
import json
import sys
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import asyncpg
import nats
from nats.aio.msg import Msg
from nats.errors import TimeoutError as NatsTimeoutError
from openai import AsyncOpenAI
from twilio.rest import Client

from wta_runtime.channel.twilio_http import RebasedTwilioHttpClient
from wta_runtime.stream.names import TenantStream

APPLICATION_NAME = "wta-floor"
FETCH_BATCH = 64
TABLE = """
CREATE TABLE IF NOT EXISTS floor_turns (
    message_sid text PRIMARY KEY,
    contact text NOT NULL,
    body text NOT NULL,
    received_at timestamptz NOT NULL
)
"""
INSERT = (
    "INSERT INTO floor_turns (message_sid, contact, body, received_at) VALUES ($1, $2, $3, $4) "
    "ON CONFLICT DO NOTHING"
)


@dataclass(frozen=True)
class FloorJob:
    """Where the servers are and how much to do (the fields of the JSON job)."""

    nats_url: str
    database_url: str  # plain postgresql:// for asyncpg
    model_base_url: str
    twilio_api_base: str
    tenant: str
    account_sid: str
    auth_token: str
    concurrency: int
    pool_size: int
    count: int
    timeout: float


async def keep_session(connection: asyncpg.Connection) -> None:
    """No reset when a connection returns to the pool: the floor sets no session state."""


def whatsapp(number: str) -> str:
    return number if number.startswith("whatsapp:") else f"whatsapp:{number}"


class FloorConsumer:
    """Answers each fetched message with the four calls of a turn, up to `concurrency` at once."""

    def __init__(
        self, job: FloorJob, pool: asyncpg.Pool, model: AsyncOpenAI, twilio: Client
    ) -> None:
        self._job = job
        self._pool = pool
        self._model = model
        self._twilio = twilio
        self.answered: list[tuple[str, str, str]] = []  # (message_sid, received, sent)
        self.errors: list[str] = []

    async def turn(self, msg: Msg) -> None:
        try:
            inbound: dict[str, Any] = json.loads(msg.data)
            received = datetime.fromisoformat(inbound["received_at"])
            await self._pool.execute(
                INSERT, inbound["message_sid"], inbound["from_number"], inbound["body"], received
            )
            completion = await self._model.chat.completions.create(
                model="bench", messages=[{"role": "user", "content": inbound["body"]}]
            )
            await self._twilio.messages.create_async(
                to=whatsapp(inbound["from_number"]),
                from_=whatsapp(inbound["to_number"]),
                body=completion.choices[0].message.content or "",
            )
            sent = datetime.now(UTC)
            await msg.ack()
        except Exception as exc:  # counted and reported; the message is redelivered
            self.errors.append(f"{type(exc).__name__}: {exc}")
            await msg.nak(delay=1.0)
            return
        self.answered.append((inbound["message_sid"], received.isoformat(), sent.isoformat()))

    async def run(self, subscription: Any) -> None:
        """Fetch while there is room, until `count` messages are answered or time is up."""
        deadline = time.monotonic() + self._job.timeout
        running: set[asyncio.Task[None]] = set()
        while len(self.answered) < self._job.count and time.monotonic() < deadline:
            room = self._job.concurrency - len(running)
            if room <= 0:
                await asyncio.wait(running, return_when=asyncio.FIRST_COMPLETED)
                continue
            try:
                batch = await subscription.fetch(min(room, FETCH_BATCH), timeout=1.0)
            except (NatsTimeoutError, TimeoutError):
                batch = []
            for msg in batch:
                task = asyncio.create_task(self.turn(msg))
                running.add(task)
                task.add_done_callback(running.discard)
            if not batch:
                await asyncio.sleep(0)  # let finished turns settle before counting again
        if running:
            await asyncio.wait(running, timeout=max(0.0, deadline - time.monotonic()) + 5.0)


async def run_floor(job: FloorJob) -> dict[str, Any]:
    """Connect to every server, answer the job's messages, close everything, say what happened."""
    names = TenantStream(job.tenant)
    connection = await nats.connect(job.nats_url, name=APPLICATION_NAME)
    pool = await asyncpg.create_pool(
        job.database_url,
        min_size=1,
        max_size=job.pool_size,
        reset=keep_session,
        server_settings={"application_name": APPLICATION_NAME},
    )
    model = AsyncOpenAI(api_key="sk-bench", base_url=job.model_base_url, max_retries=0)
    http = RebasedTwilioHttpClient(job.twilio_api_base)
    try:
        await pool.execute(TABLE)
        js = connection.jetstream()
        subscription = await js.pull_subscribe_bind(names.worker_durable, stream=names.stream)
        consumer = FloorConsumer(
            job, pool, model, Client(job.account_sid, job.auth_token, http_client=http)
        )
        print("ready", flush=True)  # the benchmark starts its load on this line
        cpu = time.process_time()
        await consumer.run(subscription)
        cpu = time.process_time() - cpu
        await subscription.unsubscribe()
    finally:
        await http.close()
        await model.close()
        await pool.close()
        await connection.close()
    return {"answered": consumer.answered, "errors": consumer.errors, "cpu_seconds": cpu}


def main() -> None:
    job = FloorJob(**json.load(sys.stdin))
    print(json.dumps(asyncio.run(run_floor(job))), flush=True)


if __name__ == "__main__":
    main()
