"""Property-based fuzzing of what the gateway reads before anything else: the webhook body and
its signature. Any bytes, any encoding, repeated keys and huge fields end in a parsed form or the
documented refusal (`WebhookFormError` with 400/413/415), never in another exception; and where
`parse_qsl` and twilio's `RequestValidator` apply, the answers are theirs.

The fixed cases live in test_twilio_lean_route.py; these generate the inputs.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from typing import Any, TypeVar
from urllib.parse import parse_qsl, quote, urlencode

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from starlette.datastructures import Headers
from twilio.request_validator import RequestValidator

from wta_runtime.gateway.signature import valid_signature
from wta_runtime.gateway.webhook_form import (
    FORM_CONTENT_TYPE,
    MAX_FIELDS,
    WebhookFormError,
    parse_form,
    read_form,
    require_message_params,
)

T = TypeVar("T")
FUZZ = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
# Characters that mean something to a form, escapes that decode and ones that do not, and a
# WhatsApp number's prefix as Twilio quotes it (the parser has a shortcut for it).
FORM_SYNTAX = st.sampled_from(
    ["&", "=", "+", "%", "%2", "%2B", "%26", "%3D", "%C3%A9", "%ZZ", "whatsapp%3A%2B"]
)
# Any text a decoded body can hold (no lone surrogates: UTF-8 decoding never yields them).
ANY_TEXT = st.text(st.characters(exclude_categories=["Cs"]))
FORMISH = st.lists(st.one_of(FORM_SYNTAX, ANY_TEXT), max_size=40).map("".join)


def parse_qsl_reference(text: str) -> dict[str, str] | None:
    """What the gateway must accept: `parse_qsl`'s strict parse, with no name twice."""
    if not text:
        return {}
    try:
        pairs = parse_qsl(
            text, keep_blank_values=True, strict_parsing=True, max_num_fields=MAX_FIELDS
        )
    except ValueError:
        return None
    names = [name for name, _ in pairs]
    return dict(pairs) if len(set(names)) == len(names) else None


def parse_or_refusal(text: str) -> dict[str, str] | None:
    """The parsed form, or None when it is refused (always with 400)."""
    outcome = refusal_or(parse_form, text)
    if isinstance(outcome, WebhookFormError):
        assert outcome.status == 400
        return None
    return outcome


def refusal_or(call: Callable[..., T], *args: Any) -> T | WebhookFormError:
    try:
        return call(*args)
    except WebhookFormError as refused:
        return refused


async def read_or_refusal(
    headers: Headers, chunks: list[bytes], max_bytes: int
) -> dict[str, str] | WebhookFormError:
    try:
        return await read_form(headers, _receive(chunks), max_bytes=max_bytes)
    except WebhookFormError as refused:
        return refused


@FUZZ
@given(FORMISH)
def test_any_text_is_parsed_exactly_as_parse_qsl_parses_it_or_refused_with_400(
    text: str,
) -> None:
    assert parse_or_refusal(text) == parse_qsl_reference(text)


@FUZZ
@given(
    st.lists(st.tuples(ANY_TEXT, ANY_TEXT), max_size=30),
    st.sampled_from(["utf-8", "latin-1", "utf-16", "cp1252", "shift_jis"]),
)
def test_a_form_encoded_in_any_charset_agrees_with_parse_qsl(
    pairs: list[tuple[str, str]], charset: str
) -> None:
    """Twilio sends UTF-8; another charset's escapes decode as parse_qsl decodes them."""
    body = urlencode(pairs, encoding=charset, errors="replace")

    assert parse_or_refusal(body) == parse_qsl_reference(body)


@FUZZ
@given(st.lists(st.sampled_from(["Body", "From", "To", "MessageSid", "B%6Fdy"]), min_size=2))
def test_a_repeated_key_is_refused_however_it_is_spelled(names: list[str]) -> None:
    body = "&".join(f"{name}=v{index}" for index, name in enumerate(names))
    decoded = [name.replace("%6F", "o") for name in names]

    accepted = parse_or_refusal(body)

    assert (accepted is not None) == (len(set(decoded)) == len(decoded))


def _receive(chunks: list[bytes]) -> Any:
    messages = [
        {"type": "http.request", "body": chunk, "more_body": index < len(chunks) - 1}
        for index, chunk in enumerate(chunks)
    ] or [{"type": "http.request", "body": b"", "more_body": False}]

    async def receive() -> dict[str, Any]:
        return messages.pop(0)

    return receive


@FUZZ
@given(
    body=st.binary(max_size=4096),
    cuts=st.lists(st.integers(min_value=0, max_value=4096), max_size=4),
    content_type=st.sampled_from(
        [
            FORM_CONTENT_TYPE,
            "Application/X-WWW-Form-Urlencoded; charset=latin-1",
            "multipart/form-data; boundary=x",
            "application/json",
            "",
        ]
    ),
    declared=st.one_of(st.none(), st.integers(min_value=0, max_value=10**6).map(str), ANY_TEXT),
    max_bytes=st.integers(min_value=0, max_value=5000),
)
@example(body=b"", cuts=[], content_type=FORM_CONTENT_TYPE, declared="\u00b9", max_bytes=0)
async def test_any_bytes_in_any_chunks_give_a_form_or_the_documented_refusal(
    body: bytes, cuts: list[int], content_type: str, declared: str | None, max_bytes: int
) -> None:
    bounds = sorted({0, len(body), *(c for c in cuts if c < len(body))})
    chunks = [body[a:b] for a, b in itertools.pairwise(bounds)]
    raw = [(b"content-type", content_type.encode("latin-1", "replace"))]
    if declared is not None:
        raw.append((b"content-length", declared.encode("latin-1", "replace")))

    form = await read_or_refusal(Headers(raw=raw), chunks, max_bytes)

    if isinstance(form, WebhookFormError):
        assert form.status in (400, 413, 415)
        if form.status == 415:
            assert not content_type.lower().startswith(FORM_CONTENT_TYPE)
        if form.status == 413:
            digits = declared is not None and declared.isascii() and declared.isdigit()
            assert len(body) > max_bytes or (digits and int(declared or 0) > max_bytes)
        return
    assert len(body) <= max_bytes
    assert form == parse_qsl_reference(body.decode("utf-8"))


@settings(max_examples=25, deadline=None)
@given(size=st.integers(min_value=0, max_value=200_000), char=st.sampled_from(["a", "é", "%", "+"]))
async def test_a_huge_field_is_parsed_or_refused_with_413_by_its_size_alone(
    size: int, char: str
) -> None:
    limit = 64 * 1024
    body = ("MessageSid=SM1&Body=" + quote(char * size)).encode()
    headers = Headers(raw=[(b"content-type", FORM_CONTENT_TYPE.encode())])

    form = await read_or_refusal(headers, [body], limit)

    if isinstance(form, WebhookFormError):
        assert (form.status, len(body) > limit) == (413, True)
        return
    assert len(body) <= limit
    assert form == {"MessageSid": "SM1", "Body": char * size}


@FUZZ
@given(ANY_TEXT)
@example("\u00b9")  # a digit to str.isdigit, not to int
def test_any_num_media_is_a_count_from_0_to_10_or_a_400(num_media: str) -> None:
    params = {
        "MessageSid": "SM" + "0" * 32,
        "AccountSid": "AC1",
        "From": "whatsapp:+1",
        "To": "whatsapp:+2",
    }

    whole = num_media.isascii() and num_media.isdigit()
    expected = num_media == "" or (whole and int(num_media) <= 10)

    outcome = refusal_or(require_message_params, {**params, "NumMedia": num_media})

    if isinstance(outcome, WebhookFormError):
        assert (outcome.status, expected) == (400, False)
    else:
        assert expected


TOKENS = st.text(st.characters(exclude_categories=["Cs"]), min_size=1, max_size=40)
HOSTS = st.sampled_from(
    ["wta.example.com", "10.0.0.7", "a.example", "[::1]", "xn--caf-dma.example"]
)
PORTS = st.one_of(st.none(), st.sampled_from(["80", "443", "8000", "65535", "0", "x", ""]))
URLS = st.builds(
    lambda scheme, host, port, path, query: (
        f"{scheme}://{host}{'' if port is None else ':' + port}{path}{query}"
    ),
    st.sampled_from(["http", "https"]),
    HOSTS,
    PORTS,
    st.sampled_from(["/api/v1/twilio/webhook", "/api/v1/twilio/status/acme", "/", ""]),
    st.one_of(st.just(""), ANY_TEXT.map(lambda q: "?" + quote(q, safe="=&"))),
)
PARAMS = st.dictionaries(ANY_TEXT, ANY_TEXT, max_size=12)
# Header values reach the gateway as latin-1 text (ASGI headers are bytes).
LATIN1 = st.text(st.characters(max_codepoint=255, exclude_categories=["Cs"]), max_size=40)


def twilio_says(validator: RequestValidator, url: str, params: dict[str, str], sig: str) -> bool:
    """RequestValidator's verdict; a URL it cannot even parse is one Twilio never signed."""
    try:
        return bool(validator.validate(url, params, sig))
    except ValueError:
        return False


@FUZZ
@given(
    url=URLS,
    signed_url=URLS,
    params=PARAMS,
    token=TOKENS,
    other_token=TOKENS,
    forged=LATIN1,
    use_forged=st.booleans(),
)
def test_the_signature_check_agrees_with_twilios_validator_on_any_post(
    url: str,
    signed_url: str,
    params: dict[str, str],
    token: str,
    other_token: str,
    forged: str,
    use_forged: bool,
) -> None:
    validator = RequestValidator(token)
    try:
        genuine = RequestValidator(other_token).compute_signature(signed_url, params)
    except ValueError:  # a port that is not a number: Twilio signs no such URL
        genuine = forged
    for candidate_url in (url, signed_url):
        signature = forged if use_forged else genuine

        assert valid_signature(candidate_url, params, token, signature) == twilio_says(
            validator, candidate_url, params, signature
        )


@FUZZ
@given(params=PARAMS, token=TOKENS, signature=ANY_TEXT)
def test_a_signature_in_any_text_is_a_refusal_never_an_exception(
    params: dict[str, str], token: str, signature: str
) -> None:
    url = "https://wta.example.com/api/v1/twilio/webhook"
    expected = RequestValidator(token).compute_signature(url, params)

    assert valid_signature(url, params, token, signature) == (signature == expected)
