"""The gateway's pure parts: public URL rebuilding and webhook form checks."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from starlette.requests import Request

from wta_runtime.channel.twilio_http import RebasedTwilioHttpClient
from wta_runtime.gateway.public_url import public_url
from wta_runtime.gateway.webhook_form import WebhookFormError, require_message_params
from wta_runtime.stream.inbound import InboundMessage


def _request(headers: dict[str, str], path: str = "/api/v1/twilio/webhook") -> Request:
    return Request(
        {
            "type": "http",
            "method": "POST",
            "scheme": "http",
            "server": ("10.1.2.3", 8000),
            "path": path,
            "query_string": b"",
            "headers": [(k.lower().encode(), v.encode()) for k, v in headers.items()],
        }
    )


def test_configured_base_url_wins() -> None:
    request = _request({"host": "10.1.2.3:8000", "x-forwarded-host": "evil.example"})

    url = public_url(
        request.scope, request.headers, base_url="https://wta.example.com/", trust_forwarded=True
    )

    assert url == "https://wta.example.com/api/v1/twilio/webhook"


def test_forwarded_headers_rebuild_the_public_url() -> None:
    request = _request(
        {
            "host": "10.1.2.3:8000",
            "x-forwarded-proto": "https",
            "x-forwarded-host": "a.example",
            "x-forwarded-prefix": "/wta",
        }
    )

    url = public_url(request.scope, request.headers, base_url=None, trust_forwarded=True)

    assert url == "https://a.example/wta/api/v1/twilio/webhook"


def test_forwarded_headers_ignored_when_not_trusted() -> None:
    request = _request({"host": "10.1.2.3:8000", "x-forwarded-proto": "https"})

    assert public_url(
        request.scope, request.headers, base_url=None, trust_forwarded=False
    ).startswith("http://10.1.2.3")


def test_required_parameters_are_named_when_missing() -> None:
    with pytest.raises(WebhookFormError, match="MessageSid, From") as raised:
        require_message_params({"AccountSid": "AC1", "To": "whatsapp:+1"})
    assert raised.value.status == 400


@pytest.mark.parametrize(
    ("name", "value", "reason"),
    [
        ("MessageSid", "SM1", "MessageSid must be a Twilio SID"),
        ("MessageSid", "SM" + "0" * 200, "MessageSid must be a Twilio SID"),
        ("From", "whatsapp:+1" + "5" * 80, "From must be a number"),
        ("To", "not a number", "To must be a number"),
        ("From", "whatsapp:+1\x00", "From must be a number"),
    ],
)
def test_what_could_not_be_stored_is_refused_with_the_parameter_named(
    name: str, value: str, reason: str
) -> None:
    params = {
        "MessageSid": "SM" + "ab" * 16,
        "AccountSid": "AC1",
        "From": "whatsapp:+14155550123",
        "To": "whatsapp:+14155550100",
    }
    require_message_params(params)  # Twilio's own shapes pass

    with pytest.raises(WebhookFormError, match=reason) as raised:
        require_message_params({**params, name: value})
    assert raised.value.status == 400


def test_every_media_item_is_kept() -> None:
    params = {
        "MessageSid": "MM1",
        "AccountSid": "AC1",
        "From": "whatsapp:+1",
        "To": "whatsapp:+2",
        "NumMedia": "2",
        "MediaUrl0": "https://m/0",
        "MediaContentType0": "image/jpeg",
        "MediaUrl1": "https://m/1",
        "MediaContentType1": "audio/ogg",
    }
    message = InboundMessage.from_twilio("t", params, datetime.now(UTC))

    assert [m.url for m in message.media] == ["https://m/0", "https://m/1"]
    assert message.media[1].content_type == "audio/ogg"


async def test_twilio_sdk_calls_are_rebased_to_the_configured_api() -> None:
    client = RebasedTwilioHttpClient("http://127.0.0.1:8010/")
    try:
        rebased = client.rebase("https://api.twilio.com/2010-04-01/Accounts/AC1/Messages.json")
    finally:
        await client.close()

    assert rebased == "http://127.0.0.1:8010/2010-04-01/Accounts/AC1/Messages.json"


def test_a_message_keeps_what_twilio_posted_and_stores_only_what_postgresql_accepts() -> None:
    params = {
        "MessageSid": "SM1",
        "AccountSid": "AC1",
        "From": "whatsapp:+1",
        "To": "whatsapp:+2",
        "Body": "a pizza\x00 please",
        "ProfileName": "Ana\x00",
        "WaId": "1",
        "ButtonPayload": "order",
        "ButtonText": "Order \ud83c",
        "NumMedia": "3",
        "MediaUrl0": "https://m/0\x00",
        "MediaUrl2": "https://m/2",
        "MediaContentType2": "image/png",
    }
    received_at = datetime.now(UTC)

    message = InboundMessage.from_twilio("t", params, received_at)

    assert (message.tenant, message.message_sid, message.account_sid) == ("t", "SM1", "AC1")
    assert (message.from_number, message.to_number) == ("whatsapp:+1", "whatsapp:+2")
    assert (message.body, message.profile_name) == ("a pizza\ufffd please", "Ana\ufffd")
    assert (message.wa_id, message.button_payload) == ("1", "order")
    assert message.button_text == "Order \ufffd"
    assert [(m.url, m.content_type) for m in message.media] == [
        ("https://m/0\ufffd", None),
        ("https://m/2", "image/png"),
    ]
    assert message.received_at == received_at
    assert message.params == params


def test_a_message_without_the_optional_parameters_has_their_defaults() -> None:
    params = {"MessageSid": "SM1", "AccountSid": "AC1", "From": "whatsapp:+1", "To": "whatsapp:+2"}
    message = InboundMessage.from_twilio("t", params, datetime.now(UTC))

    assert message.body == ""
    assert message.profile_name is message.wa_id is message.button_text is None
    assert message.media == []
