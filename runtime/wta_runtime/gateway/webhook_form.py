"""Reads a Twilio webhook body: size, content type and the parameters every message has."""

from __future__ import annotations

from urllib.parse import parse_qsl

from starlette.requests import Request

REQUIRED_PARAMS = ("MessageSid", "AccountSid", "From", "To")


class WebhookFormError(ValueError):
    """The body is not a Twilio webhook; `status` is the HTTP status to answer with."""

    def __init__(self, status: int, reason: str) -> None:
        super().__init__(reason)
        self.status = status
        self.reason = reason


async def read_form(request: Request, *, max_bytes: int) -> dict[str, str]:
    """Parse the form-encoded body, refusing oversized, non-form or repeated-key bodies."""
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type != "application/x-www-form-urlencoded":
        raise WebhookFormError(415, "expected application/x-www-form-urlencoded")
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > max_bytes:
        raise WebhookFormError(413, f"body larger than {max_bytes} bytes")
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > max_bytes:
            raise WebhookFormError(413, f"body larger than {max_bytes} bytes")
    try:
        pairs = parse_qsl(
            body.decode("utf-8"),
            keep_blank_values=True,
            strict_parsing=bool(body),
            max_num_fields=200,
        )
    except (UnicodeDecodeError, ValueError) as exc:
        raise WebhookFormError(400, f"body is not a valid form: {exc}") from None
    params: dict[str, str] = {}
    for key, value in pairs:
        if key in params:
            raise WebhookFormError(400, f"parameter {key!r} appears more than once")
        params[key] = value
    return params


def require_message_params(params: dict[str, str]) -> None:
    """Every inbound message carries these; without them there is nothing to route or store."""
    missing = [name for name in REQUIRED_PARAMS if not params.get(name)]
    if missing:
        raise WebhookFormError(400, f"missing parameter(s): {', '.join(missing)}")
    num_media = params.get("NumMedia", "0") or "0"
    if not num_media.isdigit() or int(num_media) > 10:
        raise WebhookFormError(400, "NumMedia must be a whole number from 0 to 10")
