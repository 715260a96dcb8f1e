"""Which media URLs get the tenant's credentials, and which may be fetched at all (SSRF)."""

from __future__ import annotations

import httpx
import pytest

from wta_runtime.channel.media_source import (
    MediaSourceRefused,
    MediaSources,
    credentials_allowed,
    public_address,
)

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
    ("address", "public"),
    [
        ("93.184.216.34", True),
        ("2606:2800:220:1:248:1893:25c8:1946", True),
        ("127.0.0.1", False),
        ("10.1.2.3", False),
        ("172.16.0.1", False),
        ("192.168.1.1", False),
        ("169.254.169.254", False),  # cloud metadata
        ("100.64.0.1", False),  # carrier-grade NAT
        ("0.0.0.0", False),
        ("224.0.0.1", False),
        ("::1", False),
        ("fe80::1%eth0", False),
        ("fd00::1", False),
        ("::ffff:127.0.0.1", False),
        ("::ffff:10.0.0.1", False),
    ],
)
def test_only_public_unicast_addresses_may_be_fetched(address: str, public: bool) -> None:
    assert public_address(address) is public


def _resolving_to(*addresses: str) -> MediaSources:
    async def resolve(host: str, port: int) -> list[str]:
        return list(addresses)

    return MediaSources(str(BASE), resolve)


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("file:///etc/passwd", "scheme 'file' is not allowed"),
        ("ftp://media.example/x", "scheme 'ftp' is not allowed"),
        ("gopher://media.example/x", "scheme 'gopher' is not allowed"),
        ("https:///no-host", "no host"),
    ],
)
async def test_other_schemes_are_refused_without_resolving(url: str, reason: str) -> None:
    sources = _resolving_to("93.184.216.34")

    with pytest.raises(MediaSourceRefused, match=reason):
        await sources.hops(sources.parse(url))


async def test_every_address_of_the_host_is_checked() -> None:
    sources = _resolving_to("93.184.216.34", "10.0.0.1")

    with pytest.raises(MediaSourceRefused, match="not a public address"):
        await sources.hops(httpx.URL("https://media.example/x"))
    await _resolving_to("93.184.216.34").hops(httpx.URL("https://media.example/x"))


async def test_the_configured_base_is_fetched_even_on_loopback() -> None:
    await _resolving_to("127.0.0.1").hops(BASE.join("/2010-04-01/Accounts/AC1/Media/ME1"))


async def test_each_request_goes_to_a_checked_address_under_the_hosts_name() -> None:
    sources = _resolving_to("93.184.216.34", "2606:2800:220:1:248:1893:25c8:1946", "93.184.216.34")

    first, second = await sources.hops(httpx.URL("https://cdn.example:8443/m/1?sig=a"))

    assert str(first.url) == "https://93.184.216.34:8443/m/1?sig=a"
    assert str(second.url) == "https://[2606:2800:220:1:248:1893:25c8:1946]:8443/m/1?sig=a"
    assert first.headers == {"Host": "cdn.example:8443"}
    assert first.extensions == {"sni_hostname": "cdn.example"}


async def test_an_international_host_is_resolved_and_named_in_its_ascii_form() -> None:
    asked: list[str] = []

    async def resolve(host: str, port: int) -> list[str]:
        asked.append(host)
        return ["93.184.216.34"]

    [hop] = await MediaSources(str(BASE), resolve).hops(httpx.URL("https://bücher.example/x"))

    assert asked == ["xn--bcher-kva.example"]
    assert hop.headers == {"Host": "xn--bcher-kva.example"}
    assert hop.extensions == {"sni_hostname": "xn--bcher-kva.example"}
