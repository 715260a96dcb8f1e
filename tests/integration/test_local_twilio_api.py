"""The local Twilio server speaks the Messages API to the real SDK and posts signed callbacks."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import pytest
from fastapi import FastAPI, Request
from twilio.base.exceptions import TwilioRestException
from twilio.request_validator import RequestValidator
from twilio.rest import Client

from tests.utils.servers import serve_in_thread
from wta_runtime.channel.twilio_http import RebasedTwilioHttpClient
from wta_runtime.local.twilio_api import create_twilio_app

ACCOUNT = "AC" + "1" * 32
TOKEN = "test-token"


@pytest.fixture
def callbacks() -> Iterator[tuple[str, list[tuple[str, dict[str, str], str]]]]:
    received: list[tuple[str, dict[str, str], str]] = []
    app = FastAPI()

    @app.post("/status")
    async def status(request: Request) -> dict[str, str]:
        form = {k: str(v) for k, v in (await request.form()).items()}
        received.append((str(request.url), form, request.headers.get("x-twilio-signature", "")))
        return {}

    with serve_in_thread(app) as url:
        yield url + "/status", received


async def test_sdk_send_is_recorded_and_status_callbacks_are_signed(
    callbacks: tuple[str, list[tuple[str, dict[str, str], str]]],
) -> None:
    callback_url, received = callbacks
    app = create_twilio_app({ACCOUNT: TOKEN})
    with serve_in_thread(app) as base:
        http = RebasedTwilioHttpClient(base)
        client = Client(ACCOUNT, TOKEN, http_client=http)
        message = await client.messages.create_async(
            to="whatsapp:+15550001",
            from_="whatsapp:+15550002",
            body="hello",
            status_callback=callback_url,
        )
        for _ in range(100):
            if len(received) >= 2:
                break
            await asyncio.sleep(0.05)
        await http.close()

    assert message.sid.startswith("SM")
    assert len(message.sid) == 34
    assert message.status == "queued"
    assert app.state.messages[0].body == "hello"
    assert [form["MessageStatus"] for _, form, _ in received] == ["sent", "delivered"]
    validator = RequestValidator(TOKEN)
    for url, form, signature in received:
        assert form["MessageSid"] == message.sid
        assert validator.validate(url, form, signature)


async def test_wrong_credentials_are_refused_like_twilio() -> None:
    with serve_in_thread(create_twilio_app({ACCOUNT: TOKEN})) as base:
        http = RebasedTwilioHttpClient(base)
        client = Client(ACCOUNT, "wrong-token", http_client=http)
        with pytest.raises(TwilioRestException) as raised:
            await client.messages.create_async(
                to="whatsapp:+1555", from_="whatsapp:+1556", body="x"
            )
        await http.close()

    assert raised.value.status == 401
