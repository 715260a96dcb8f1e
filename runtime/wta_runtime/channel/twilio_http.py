"""A Twilio SDK HTTP client that talks to a configurable API base instead of api.twilio.com."""

from __future__ import annotations

import logging
from typing import Any
from urllib.parse import urlencode

from twilio.http.async_http_client import AsyncTwilioHttpClient
from twilio.http.response import Response

from wta_runtime.settings import TWILIO_PUBLIC_API

_quiet = logging.getLogger("twilio.wta_http")
FORM = "application/x-www-form-urlencoded"


class RebasedTwilioHttpClient(AsyncTwilioHttpClient):  # type: ignore[misc]
    """Sends every Twilio API call to `api_base`, so a local Twilio server can stand in."""

    def __init__(self, api_base: str, *, timeout: float = 10.0) -> None:
        super().__init__(timeout=timeout, logger=_quiet)
        self._api_base = api_base.rstrip("/")

    def rebase(self, url: str) -> str:
        """Replace the scheme and host of a Twilio API URL with the configured base."""
        if self._api_base == TWILIO_PUBLIC_API:
            return url
        scheme_end = url.find("://")
        path_start = url.find("/", scheme_end + 3) if scheme_end >= 0 else -1
        return self._api_base + (url[path_start:] if path_start >= 0 else "")

    async def request(
        self,
        method: str,
        url: str,
        params: dict[str, object] | None = None,
        data: dict[str, object] | None = None,
        headers: dict[str, str] | None = None,
        *args: Any,
        **kwargs: Any,
    ) -> Response:
        form: bytes | None = None
        if data:
            # The form encoded here as aiohttp would (lists repeat their key): aiohttp's way
            # builds a multipart writer and a form object first, a quarter of a send's CPU.
            form = urlencode(data, doseq=True).encode()
            headers = {**(headers or {}), "Content-Type": FORM}
        # The SDK passes timeout=None unless a call names one, and aiohttp reads None as "no
        # timeout at all": a Twilio that never answers would hold the turn for ever.
        if kwargs.get("timeout") is None:
            kwargs["timeout"] = self.timeout
        return await super().request(
            method, self.rebase(url), params, form, headers, *args, **kwargs
        )
