"""WhatsApp Twilio AI runtime: gateway, conversation worker, scheduler and local platform."""

__version__ = "0.1.0"
