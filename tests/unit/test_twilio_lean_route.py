"""The gateway's lean Twilio route: its form parser and signature check accept exactly what
`parse_qsl` and twilio's `RequestValidator` accept, and it serves only its four paths."""

from __future__ import annotations

from typing import Any, cast
from urllib.parse import parse_qsl, urlencode

import pytest
from twilio.request_validator import RequestValidator

from wta_runtime.gateway.routes.status import receive_status
from wta_runtime.gateway.routes.twilio import match_twilio_path, serve_twilio
from wta_runtime.gateway.routes.webhook import receive_webhook
from wta_runtime.gateway.signature import valid_signature
from wta_runtime.gateway.state import GatewayState
from wta_runtime.gateway.twilio_request import TwilioPost
from wta_runtime.gateway.webhook_form import WebhookFormError, parse_form

TOKEN = "0123456789abcdef0123456789abcdef"
PARAMS = {
    "MessageSid": "SM1",
    "AccountSid": "AC1",
    "From": "whatsapp:+15550000001",
    "To": "whatsapp:+15550000002",
    "Body": "café & pizza = 2 + 2 %",
    "NumMedia": "0",
}


@pytest.mark.parametrize(
    "body",
    [
        urlencode(PARAMS),
        "a=&b=1",
        "a=%ZZ&b=%C3%28",  # bad escapes and invalid UTF-8 are kept / replaced, not refused
        "na+me=va+lue&x=%2B%26%3D",
        "only=",
        "From=whatsapp%3A%2B15550000001&To=whatsapp%3A%2B",
        "a=whatsapp%3A%2B1+2&b=whatsapp%3A%2B1%2B2&c=whatsapp%3a%2b1&d=whatsapp%3A%2B%C3%A9",
    ],
)
def test_form_is_parsed_as_parse_qsl_parses_it(body: str) -> None:
    expected = dict(parse_qsl(body, keep_blank_values=True, strict_parsing=True))

    assert parse_form(body) == expected


def test_empty_body_is_an_empty_form() -> None:
    assert parse_form("") == {}


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        ("novalue", "bad field"),
        ("a=1&&b=2", "bad field"),
        ("a=1&a=2", "appears more than once"),
        ("&".join(f"k{i}=v" for i in range(201)), "more than 200 fields"),
    ],
)
def test_malformed_forms_are_refused_with_400(body: str, reason: str) -> None:
    with pytest.raises(WebhookFormError, match=reason) as raised:
        parse_form(body)

    assert raised.value.status == 400


@pytest.mark.parametrize(
    ("url", "signed_url"),
    [
        (
            "https://wta.example.com/api/v1/twilio/webhook",
            "https://wta.example.com/api/v1/twilio/webhook",
        ),
        (
            "https://wta.example.com/api/v1/twilio/webhook",
            "https://wta.example.com:443/api/v1/twilio/webhook",
        ),
        (
            "http://10.0.0.7:8000/api/v1/twilio/webhook",
            "http://10.0.0.7:8000/api/v1/twilio/webhook",
        ),
        ("http://10.0.0.7:8000/api/v1/twilio/webhook", "http://10.0.0.7/api/v1/twilio/webhook"),
        (
            "https://a.example/wta/api/v1/twilio/status/acme?x=1",
            "https://a.example/wta/api/v1/twilio/status/acme?x=1",
        ),
        ("https://a.example/api/v1/twilio/webhook", "https://b.example/api/v1/twilio/webhook"),
        (
            "https://a.example/api/v1/twilio/webhook",
            "https://a.example/api/v1/twilio/webhook/other",
        ),
    ],
)
def test_signature_is_accepted_exactly_when_twilios_validator_accepts_it(
    url: str, signed_url: str
) -> None:
    validator = RequestValidator(TOKEN)
    signature = validator.compute_signature(signed_url, PARAMS)

    assert valid_signature(url, PARAMS, TOKEN, signature) == validator.validate(
        url, PARAMS, signature
    )


@pytest.mark.parametrize("signature", ["", "garbage", "é" * 28])
def test_forged_signatures_are_refused(signature: str) -> None:
    url = "https://wta.example.com/api/v1/twilio/webhook"

    assert not valid_signature(url, PARAMS, TOKEN, signature)
    assert not valid_signature(
        url, PARAMS, "another token", RequestValidator(TOKEN).compute_signature(url, PARAMS)
    )


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("/api/v1/twilio/webhook", (receive_webhook, None)),
        ("/api/v1/twilio/webhook/acme-pizza", (receive_webhook, "acme-pizza")),
        ("/api/v1/twilio/status", (receive_status, None)),
        ("/api/v1/twilio/status/acme-pizza", (receive_status, "acme-pizza")),
        ("/api/v1/twilio/webhook/", None),
        ("/api/v1/twilio/webhook/a/b", None),
        ("/api/v1/twilio/other", None),
        ("/api/v1/tenants/acme-pizza/handoffs", None),
        ("/healthz", None),
    ],
)
def test_only_the_four_twilio_paths_take_the_lean_route(path: str, expected: object) -> None:
    assert match_twilio_path(path) == expected


async def test_other_methods_than_post_are_not_allowed() -> None:
    sent: list[dict[str, Any]] = []

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b""}

    scope = {"type": "http", "method": "GET", "path": "/api/v1/twilio/webhook", "headers": []}
    state = cast(GatewayState, None)  # never reached for a GET
    await serve_twilio(state, receive_webhook, None, scope, receive, send)

    assert sent[0]["status"] == 405
    assert (b"allow", b"POST") in sent[0]["headers"]


def test_the_headers_the_route_reads_are_taken_from_the_post_the_first_when_repeated() -> None:
    received = [
        (b"host", b"10.0.0.7:8000"),
        (b"user-agent", b"TwilioProxy/1.1"),
        (b"content-type", b"application/x-www-form-urlencoded; charset=utf-8"),
        (b"content-length", b"512"),
        (b"x-twilio-signature", b"c2lnbmVk"),
        (b"x-twilio-signature", b"c2Vjb25k"),
        (b"x-forwarded-proto", b"https"),
        (b"x-forwarded-host", b"caf\xe9.example"),
        (b"x-forwarded-prefix", b"/wta"),
        (b"i-twilio-idempotency-token", b"abc"),
    ]

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b""}

    post = TwilioPost.from_asgi({"headers": received}, receive)

    assert post.headers == {
        "host": "10.0.0.7:8000",
        "content-type": "application/x-www-form-urlencoded; charset=utf-8",
        "content-length": "512",
        "x-twilio-signature": "c2lnbmVk",
        "x-forwarded-proto": "https",
        "x-forwarded-host": "café.example",
        "x-forwarded-prefix": "/wta",
    }
