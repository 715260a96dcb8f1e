"""`AIAgent.spec.media`: the files an agent may send with its replies (a menu, a price list)."""

from __future__ import annotations

from pydantic import Field

from wta_runtime.specs.common import SpecModel, explained_pattern

# Twilio fetches the file itself when it sends the message: it must be public and over TLS.
HTTPS_URL = r"^https://[^\s/?#]+([/?#][^\s]*)?$"
MEDIA_NAME = r"^[a-z0-9]([-_a-z0-9]*[a-z0-9])?$"
MIME_TYPE = r"^[a-z]+/[-+.a-z0-9]+$"
MAX_MEDIA = 20

URL_HINT = (
    "must be an https:// URL Twilio can download without credentials, "
    "e.g. https://cdn.example.com/menu.jpg (http:// is refused)"
)
NAME_HINT = "must be lowercase letters, digits, '-' or '_', e.g. menu or price-list"


class MediaEntry(SpecModel):
    """A file the agent may attach to a reply, by name, through the send_media tool."""

    name: str = Field(
        min_length=1,
        max_length=64,
        pattern=MEDIA_NAME,
        description="Name the model asks for with send_media, e.g. menu. Unique in the agent.",
        json_schema_extra=explained_pattern(NAME_HINT),
    )
    url: str = Field(
        max_length=1024,
        pattern=HTTPS_URL,
        description=(
            "Public https URL of the file; Twilio downloads it when the reply is sent "
            "(WhatsApp takes images, audio, video and PDF, 16 MB at most, images 5 MB)."
        ),
        json_schema_extra=explained_pattern(URL_HINT),
    )
    description: str = Field(
        min_length=1,
        max_length=300,
        description="What the file shows, told to the model so it knows when to send it.",
    )
    content_type: str | None = Field(
        default=None,
        max_length=100,
        pattern=MIME_TYPE,
        description=(
            "MIME type, e.g. image/jpeg or application/pdf, told to the model; Twilio checks "
            "the type the URL serves."
        ),
    )
