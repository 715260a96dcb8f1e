"""The operator's settings, read from `WTA_*` environment variables and an optional `.env` file."""

from __future__ import annotations

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict


class OperatorConfig(BaseSettings):
    """Where the operator finds NATS, the platform database and the gateway, and how it runs."""

    model_config = SettingsConfigDict(
        env_prefix="WTA_", env_file=".env", env_file_encoding="utf-8", extra="ignore"
    )

    log_level: str = "INFO"

    nats_url: str = Field(
        default="nats://127.0.0.1:4222",
        description="NATS the operator uses to create the tenants' streams.",
    )
    runtime_nats_url: str | None = Field(
        default=None,
        description="NATS URL given to the runtime pods; unset means the operator's own.",
    )
    admin_database_url: SecretStr | None = Field(
        default=None,
        description="PostgreSQL URL of a role allowed to create roles and schemas; unset means "
        "the operator does not manage per-tenant database scopes.",
    )
    runtime_database_url: str | None = Field(
        default=None,
        description="Database URL given to runtimes when neither the tenant nor the operator "
        "manages one (no password in it: use a tenant database Secret for real credentials).",
    )
    runtime_image: str = Field(
        default="ghcr.io/wta-io/wta-runtime:0.1.0",
        description="Image of the runtime worker; a tenant's spec.runtime.image overrides it.",
    )
    runtime_image_pull_policy: str = "IfNotPresent"
    gateway_namespace: str = Field(
        default="wta-system", description="Namespace of the gateway and its routes Secret."
    )
    gateway_routes_secret: str = Field(
        default="wta-gateway-routes",
        description="Secret the gateway mounts as its manifests folder: one key per tenant.",
    )
    metrics_port: int = Field(default=9101, description="Port of the runtime's metrics server.")
    resync_seconds: float = Field(
        default=15.0,
        gt=0,
        le=25,
        description="How often each tenant's desired state is re-applied: a deleted or edited "
        "child is back within this plus one reconciliation (the promise is 30 s).",
    )
    namespaces: list[str] = Field(
        default_factory=list, description="Namespaces to watch; empty means the whole cluster."
    )
    standalone: bool = Field(
        default=True, description="Run without kopf peering (one replica, strategy Recreate)."
    )
    operator_metrics_port: int = Field(
        default=9103, ge=0, description="Port of the operator's Prometheus metrics; 0 disables."
    )
    runtime_twilio_api_base: str | None = Field(
        default=None,
        description="WTA_TWILIO_API_BASE of the runtime workers; unset means Twilio itself.",
    )
    health_port: int = Field(
        default=8080, ge=0, description="Port of the liveness endpoint `/healthz`; 0 disables it."
    )
    connect_timeout_seconds: float = Field(
        default=3.0, gt=0, description="Timeout to reach NATS or PostgreSQL before reporting."
    )

    @property
    def nats_url_for_runtime(self) -> str:
        return self.runtime_nats_url or self.nats_url
