"""The embedded default: real NATS and PostgreSQL from wheels, and a local Twilio-compatible API."""
