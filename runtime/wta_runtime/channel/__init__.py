"""The WhatsApp channel: sending messages through the Twilio SDK."""
