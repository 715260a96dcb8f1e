"""The gateway reads JetStream's ack for each webhook: a plain ack is read without parsing, and
every other reply (a duplicate in any spelling, an error, no stream, not JSON) as before."""

from __future__ import annotations

from typing import cast

import pytest
from nats.aio.client import Client as NATS
from nats.aio.msg import Msg

from wta_runtime.gateway.jetstream_acks import NotAcknowledged, read_ack


def reply(data: bytes, headers: dict[str, str] | None = None) -> Msg:
    return Msg(cast(NATS, None), subject="_INBOX.x.1", data=data, headers=headers)


@pytest.mark.parametrize(
    ("data", "duplicate"),
    [
        (b'{"stream":"WTA_INBOUND_A","seq":7}', False),
        (b'{"stream":"WTA_INBOUND_A","seq":7,"domain":"hub"}', False),
        (b'{"stream":"WTA_INBOUND_A","seq":7,"duplicate": true}', True),
        (b'{"stream":"WTA_INBOUND_A","seq":7,"duplicate":true}', True),
        (b'{"stream":"WTA_INBOUND_A","seq":7,"duplicate":false}', False),
        (b'{ "stream": "WTA_INBOUND_A", "seq": 7, "duplicate": true }', True),
    ],
)
def test_an_ack_says_whether_the_stream_already_had_the_message(
    data: bytes, duplicate: bool
) -> None:
    assert read_ack(reply(data)) is duplicate


@pytest.mark.parametrize(
    ("data", "headers", "reason"),
    [
        (b'{"stream":"WTA_INBOUND_A","error":{"code":503,"description":"full"}}', None, "full"),
        (b'{"error":{"code":400,"description":"expected stream does not match"}}', None, "match"),
        (b"", {"Status": "503"}, "no stream"),
        (b"not json", None, "not a JetStream ack"),
        (b'{"stream":"WTA_INBOUND_A"', None, "not a JetStream ack"),
    ],
)
def test_anything_but_an_ack_is_not_acknowledged(
    data: bytes, headers: dict[str, str] | None, reason: str
) -> None:
    with pytest.raises(NotAcknowledged, match=reason):
        read_ack(reply(data, headers))
