"""The shared webhook gateway: checks Twilio webhooks and publishes them to JetStream."""
