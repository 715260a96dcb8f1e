"""The kopf operator that reconciles WhatsAppTenant and AIAgent resources (control-plane issue)."""

__version__ = "0.1.0"
