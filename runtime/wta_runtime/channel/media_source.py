"""Where a message's media may be fetched from, and which hosts see the tenant's credentials.

`MediaUrlN` is whatever the webhook says. Twilio's media URLs are `https://api.twilio.com/...` and
redirect to its CDN; only Twilio's own hosts over https (or the configured Twilio API base, which is
the local server in development and tests) get the tenant's Account SID and token. Every hop,
redirects included, must be http(s); where it may connect is the platform's egress policy
(`wta_runtime.egress`: public addresses, pinned), with the configured Twilio base trusted
wherever it is.
"""

from __future__ import annotations

import httpx

from wta_runtime.egress.policy import EgressPolicy

# Twilio's API (api.twilio.com, regional edges such as api.dublin.ie1.twilio.com) and media CDN
# (media.twiliocdn.com, mms.twiliocdn.com...).
TWILIO_MEDIA_DOMAINS = ("twilio.com", "twiliocdn.com")


class MediaSourceRefused(Exception):
    """The URL is no place to fetch media from; no retry changes that."""


def same_origin(url: httpx.URL, base: httpx.URL) -> bool:
    return (url.scheme, url.host, url.port) == (base.scheme, base.host, base.port)


def is_twilio_host(host: str) -> bool:
    return any(host == d or host.endswith("." + d) for d in TWILIO_MEDIA_DOMAINS)


def credentials_allowed(url: httpx.URL, twilio_base: httpx.URL) -> bool:
    """The tenant's token goes to the configured Twilio base, or to Twilio's hosts over https."""
    if same_origin(url, twilio_base):
        return True
    return url.scheme == "https" and is_twilio_host(url.host)


def default_port(url: httpx.URL) -> int:
    return url.port or (443 if url.scheme == "https" else 80)


class MediaSources:
    """Checks each URL the download touches against the configured Twilio base."""

    def __init__(self, twilio_base: str) -> None:
        self.twilio_base = httpx.URL(twilio_base)

    def parse(self, url: str) -> httpx.URL:
        """The URL, if it is one the download may start from."""
        try:
            parsed = httpx.URL(url)
        except httpx.InvalidURL:
            raise MediaSourceRefused("media URL is not a valid URL") from None
        return parsed

    def check(self, url: httpx.URL) -> httpx.URL:
        """`url`, if its scheme is http(s) and it names a host; MediaSourceRefused otherwise."""
        if url.scheme not in ("http", "https"):
            raise MediaSourceRefused(f"media URL scheme {url.scheme[:16]!r} is not allowed")
        if not url.host:
            raise MediaSourceRefused("media URL has no host")
        return url

    def egress(self, platform: EgressPolicy) -> EgressPolicy:
        """The platform's policy, with the configured Twilio base asked by name wherever it is."""
        base = self.twilio_base
        return platform.trusting(base.raw_host.decode("ascii"), default_port(base))

    def credentials_allowed(self, url: httpx.URL) -> bool:
        return credentials_allowed(url, self.twilio_base)
