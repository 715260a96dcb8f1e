"""Twilio's `X-Twilio-Signature`: HMAC-SHA1, keyed by the auth token, of the URL and parameters.

It accepts exactly what twilio's `RequestValidator.validate(url, params, signature)` accepts for a
form post: the URL with or without its port, as Twilio signs either. The validator always computes
both HMACs; here the likelier one goes first, and the URL pair and each token's keyed HMAC are
cached (the URLs and tokens are few).
"""

from __future__ import annotations

import base64
import hmac
from functools import lru_cache
from urllib.parse import urlparse

from twilio.request_validator import add_port, remove_port


@lru_cache(maxsize=256)
def _signed_urls(url: str) -> tuple[bytes, ...]:
    """The URL without and with its port, the form `url` is in first, encoded as signed."""
    parsed = urlparse(url)
    try:
        has_port = parsed.port is not None
    except ValueError:  # not a number: Twilio cannot have signed it
        return ()
    without, with_port = remove_port(parsed).encode(), add_port(parsed).encode()
    return (with_port, without) if has_port else (without, with_port)


@lru_cache(maxsize=256)
def _keyed_hmac(token: str) -> hmac.HMAC:
    """HMAC-SHA1 keyed by `token`, before any message: copied for each request, the key is
    hashed into it once per token rather than once per request."""
    return hmac.new(token.encode(), digestmod="sha1")


def valid_signature(url: str, params: dict[str, str], token: str, signature: str) -> bool:
    """Whether `signature` is Twilio's for a post of `params` to `url`, signed with `token`."""
    # Twilio concatenates every name and its value, names sorted (one value per name here, so
    # sorting the names alone orders the pairs as sorting them would, in half the time).
    if not signature.isascii():  # base64 is ASCII: no signature of Twilio's looks like this
        return False
    signed_params = "".join([name + params[name] for name in sorted(params)]).encode()
    keyed = _keyed_hmac(token)
    expected = signature.encode("ascii")
    for candidate in _signed_urls(url):
        mac = keyed.copy()
        mac.update(candidate)
        mac.update(signed_params)
        if hmac.compare_digest(base64.b64encode(mac.digest()), expected):
            return True
    return False
