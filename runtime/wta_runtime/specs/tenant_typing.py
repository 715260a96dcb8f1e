"""`WhatsAppTenant.spec.typingIndicator`: whether contacts see "typing..." while a reply is made."""

from __future__ import annotations

from pydantic import Field

from wta_runtime.specs.common import SpecModel


class TypingIndicatorSettings(SpecModel):
    """Twilio's WhatsApp typing indicator (public beta): it also marks the message read."""

    enabled: bool = Field(
        default=False,
        description=(
            "Show the contact 'typing...' (and mark their newest message read) while the bot "
            "prepares a reply or a person types one in the console. Off by default: Twilio's "
            "typing indicator is a public beta, not HIPAA-eligible nor PCI-compliant."
        ),
    )
