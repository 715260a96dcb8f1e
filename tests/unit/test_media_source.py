"""Which media URLs get the tenant's credentials, and which schemes may be fetched at all."""

from __future__ import annotations

import httpx
import pytest

from wta_runtime.channel.media_source import (
    MediaSourceRefused,
    MediaSources,
    credentials_allowed,
)
from wta_runtime.egress.policy import EgressPolicy

BASE = httpx.URL("http://127.0.0.1:8010")


@pytest.mark.parametrize(
    ("url", "allowed"),
    [
        ("https://api.twilio.com/2010-04-01/Accounts/AC1/Messages/MM1/Media/ME1", True),
        ("https://api.dublin.ie1.twilio.com/2010-04-01/Accounts/AC1/Media/ME1", True),
        ("https://media.twiliocdn.com/AC1/abc", True),
        ("https://mms.twiliocdn.com/AC1/abc", True),
        ("http://127.0.0.1:8010/2010-04-01/Accounts/AC1/Messages/MM1/Media/ME1", True),
        ("http://api.twilio.com/2010-04-01/Accounts/AC1/Messages/MM1/Media/ME1", False),
        ("https://api.twilio.com.evil.example/x", False),
        ("https://eviltwilio.com/x", False),
        ("https://evil.example/api.twilio.com", False),
        ("http://127.0.0.1:8011/x", False),
        ("http://localhost:8010/x", False),
        ("https://127.0.0.1:8010/x", False),
    ],
)
def test_credentials_go_only_to_twilio_over_https_or_to_the_configured_base(
    url: str, allowed: bool
) -> None:
    assert credentials_allowed(httpx.URL(url), BASE) is allowed


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("file:///etc/passwd", "scheme 'file' is not allowed"),
        ("ftp://media.example/x", "scheme 'ftp' is not allowed"),
        ("gopher://media.example/x", "scheme 'gopher' is not allowed"),
        ("https:///no-host", "no host"),
    ],
)
def test_other_schemes_are_refused(url: str, reason: str) -> None:
    sources = MediaSources(str(BASE))

    with pytest.raises(MediaSourceRefused, match=reason):
        sources.check(sources.parse(url))


def test_the_configured_base_is_trusted_where_it_is_and_nothing_else_on_loopback() -> None:
    egress = MediaSources(str(BASE)).egress(EgressPolicy())

    assert egress.trusts("127.0.0.1", 8010)
    assert not egress.trusts("127.0.0.1", 8011)
    assert not egress.trusts("localhost", 8010)
    assert (
        MediaSources("https://api.twilio.com").egress(EgressPolicy()).trusts("api.twilio.com", 443)
    )
