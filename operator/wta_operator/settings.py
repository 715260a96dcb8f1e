"""The operator's settings, read from `WTA_*` environment variables and an optional `.env` file."""

from __future__ import annotations

from typing import Literal
from urllib.parse import urlsplit

from pydantic import Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from wta_runtime.egress.policy import EgressPolicy
from wta_runtime.specs.common import DNS_SUBDOMAIN
from wta_runtime.specs.tenant_media import MEDIA_PREFIX, S3_BUCKET_NAME


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
        description="NATS URL given to the runtime pods; unset means the operator's own. One "
        "with credentials reaches the pods only through a Secret `<tenant>-nats` of their "
        "namespace, never as a value of their Deployment.",
    )
    nats_auth_secret: str | None = Field(
        default=None,
        pattern=r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?/[a-z0-9]([-.a-z0-9]*[a-z0-9])?$",
        description="`namespace/name` of the Secret the operator writes NATS's `authorization` "
        "block into (key auth.conf), one user per tenant limited to its own streams; unset "
        "means every runtime gets WTA_RUNTIME_NATS_URL as is.",
    )
    gateway_nats_url: SecretStr | None = Field(
        default=None,
        description="The gateway's NATS URL with its user and password, listed in auth.conf "
        "with the gateway's rights (publish to every tenant); unset means the gateway uses the "
        "operator's own user.",
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
    shared_runtime_replicas: int = Field(
        default=1,
        ge=0,
        le=20,
        description="Pods of each namespace's shared runtime (tenants of spec.runtime.mode "
        "shared); 2 keeps them served while one pod restarts.",
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
    number_claims_config_map: str | None = Field(
        default=None,
        pattern=DNS_SUBDOMAIN,
        description="ConfigMap, in the gateway's namespace, the operator keeps filled with every "
        "claimed number and its owning tenant: the parameter of the chart's admission policy "
        "that refuses a second claim. Unset: not written.",
    )
    metrics_port: int = Field(default=9101, description="Port of the runtime's metrics server.")
    resync_seconds: float = Field(
        default=15.0,
        gt=0,
        le=25,
        description="How often each tenant's desired state is re-applied: a deleted or edited "
        "child is back within this plus one reconciliation (the promise is 30 s).",
    )
    sleep_check_seconds: float = Field(
        default=10.0,
        gt=0,
        le=300,
        description="How often a running tenant with spec.runtime.idleAfter is checked for "
        "idleness, and a sleeping tenant's next conversation timer read again.",
    )
    wake_poll_seconds: float = Field(
        default=1.0,
        gt=0,
        le=10,
        description="How often a sleeping tenant's stream is asked for waiting messages: the "
        "first message's wait before its workers start.",
    )
    wake_before_timer_seconds: float = Field(
        default=60.0,
        ge=0,
        le=3600,
        description="How long before a conversation timer is due a sleeping tenant wakes (and "
        "a running one stays up), so its scheduler moves the conversation on time.",
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
    runtime_egress_allow: str = Field(
        default="",
        description="WTA_EGRESS_ALLOW of the runtime workers: internal CIDRs and host names "
        "tenants' HTTP tools, knowledge URLs and MCP servers may reach (comma-separated).",
    )
    runtime_media_store: Literal["local", "s3"] = Field(
        default="local",
        description="WTA_MEDIA_STORE of the runtime workers: local keeps media in the pod's "
        "/tmp (lost with the pod), s3 in WTA_RUNTIME_MEDIA_S3_BUCKET.",
    )
    runtime_media_s3_bucket: str | None = Field(
        default=None, pattern=S3_BUCKET_NAME, description="Bucket of the s3 media store."
    )
    runtime_media_s3_endpoint_url: str | None = Field(
        default=None, description="S3-compatible endpoint (MinIO, R2...); unset means AWS S3."
    )
    runtime_media_s3_region: str | None = Field(default=None, description="Region of the bucket.")
    runtime_media_s3_prefix: str = Field(
        default="media", pattern=MEDIA_PREFIX, description="Objects go under <prefix>/<tenant>/."
    )
    runtime_media_s3_server_side_encryption: Literal["AES256", "aws:kms"] | None = None
    runtime_media_s3_kms_key_id: str | None = None
    runtime_media_s3_credentials_secret: str | None = Field(
        default=None,
        pattern=DNS_SUBDOMAIN,
        description="Secret, in each tenant's namespace, with keys AWS_ACCESS_KEY_ID and "
        "AWS_SECRET_ACCESS_KEY for the s3 store; unset means the pods' own identity (IRSA...).",
    )
    runtime_service_account_annotations: dict[str, str] = Field(
        default_factory=dict,
        description="Annotations of the runtime ServiceAccounts, e.g. eks.amazonaws.com/role-arn "
        "so the workers reach the media bucket with an IAM role (IRSA).",
    )
    health_port: int = Field(
        default=8080, ge=0, description="Port of the liveness endpoint `/healthz`; 0 disables it."
    )
    connect_timeout_seconds: float = Field(
        default=3.0, gt=0, description="Timeout to reach NATS or PostgreSQL before reporting."
    )

    @model_validator(mode="after")
    def _nats_users_keep_the_operator_in(self) -> OperatorConfig:
        if self.nats_auth_secret is not None and not urlsplit(self.nats_url).username:
            raise ValueError(
                "WTA_NATS_AUTH_SECRET needs a user and password in WTA_NATS_URL: the operator "
                "lists its own user in NATS's authorization block, or it would lock itself out"
            )
        return self

    @model_validator(mode="after")
    def _egress_allow_parses(self) -> OperatorConfig:
        EgressPolicy.parse(self.runtime_egress_allow, setting="WTA_RUNTIME_EGRESS_ALLOW")
        return self

    @model_validator(mode="after")
    def _media_store_complete(self) -> OperatorConfig:
        if self.runtime_media_store == "s3" and not self.runtime_media_s3_bucket:
            raise ValueError(
                "WTA_RUNTIME_MEDIA_STORE=s3 needs WTA_RUNTIME_MEDIA_S3_BUCKET, the bucket's name"
            )
        return self

    @property
    def runtime_media_env(self) -> dict[str, str]:
        """The WTA_MEDIA_* settings of the runtime workers (none: the runtime's local default)."""
        if self.runtime_media_store == "local":
            return {}
        values = {
            "WTA_MEDIA_STORE": self.runtime_media_store,
            "WTA_MEDIA_S3_BUCKET": self.runtime_media_s3_bucket,
            "WTA_MEDIA_S3_PREFIX": self.runtime_media_s3_prefix,
            "WTA_MEDIA_S3_ENDPOINT_URL": self.runtime_media_s3_endpoint_url,
            "WTA_MEDIA_S3_REGION": self.runtime_media_s3_region,
            "WTA_MEDIA_S3_SERVER_SIDE_ENCRYPTION": self.runtime_media_s3_server_side_encryption,
            "WTA_MEDIA_S3_KMS_KEY_ID": self.runtime_media_s3_kms_key_id,
        }
        return {name: value for name, value in values.items() if value}

    @property
    def nats_url_for_runtime(self) -> str:
        return self.runtime_nats_url or self.nats_url
