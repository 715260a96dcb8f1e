"""Process settings, read from `WTA_*` environment variables and an optional `.env` file."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from wta_runtime.channel.media import DEFAULT_CONTENT_TYPES
from wta_runtime.egress.policy import EgressPolicy
from wta_runtime.specs.tenant_media import MEDIA_PREFIX, S3_BUCKET_NAME

TWILIO_PUBLIC_API = "https://api.twilio.com"


class Settings(BaseSettings):
    """Everything a gateway, worker or scheduler process needs to know about its surroundings."""

    model_config = SettingsConfigDict(
        env_prefix="WTA_", env_file=".env", env_file_encoding="utf-8", extra="ignore"
    )

    environment: Literal["local", "production"] = "local"
    log_level: str = "INFO"

    nats_url: str = "nats://127.0.0.1:4222"
    database_url: str = "postgresql+asyncpg://wta@127.0.0.1:54329/wta"

    manifests_dir: Path = Field(
        default=Path("examples"),
        description="Folder of WhatsAppTenant/AIAgent/Secret manifests (YAML) to serve.",
    )
    secrets_dir: Path | None = Field(
        default=None,
        description="Mounted Secrets: <dir>/<secret-name>/<key> files override manifest Secrets.",
    )
    tenants: list[str] = Field(
        default_factory=list, description="Tenants this worker serves; empty means all."
    )
    runtime_mode: Literal["dedicated", "shared"] = Field(
        default="dedicated",
        description="dedicated: every served tenant uses WTA_DATABASE_URL and WTA_NATS_URL; "
        "shared: each tenant its own, from its `<tenant>-database` and `<tenant>-nats` Secrets.",
    )
    shared_pool_size: int = Field(
        default=2,
        ge=1,
        le=20,
        description="PostgreSQL connections per tenant of a shared runtime (each its own role).",
    )
    shared_concurrency: int = Field(
        default=16,
        ge=1,
        le=1024,
        description="Turns one tenant of a shared runtime works on at once.",
    )

    reload_interval_seconds: float = Field(
        default=5.0,
        description="Seconds between the gateway's checks of the manifest folder; 0 = never.",
    )

    gateway_host: str = "127.0.0.1"
    gateway_port: int = 8000
    public_base_url: str | None = Field(
        default=None,
        description="Public URL Twilio calls (https://wta.example.com); used to check signatures.",
    )
    trust_forwarded_headers: bool = True
    max_webhook_bytes: int = 64 * 1024
    gateway_tenant_pools: int = Field(
        default=50,
        ge=1,
        description=(
            "Tenants whose own database pool (2 connections, 4 at peak) the gateway keeps open "
            "at once for the handoff API and the console; the least recently used closes first."
        ),
    )
    publish_timeout_seconds: float = 5.0

    twilio_api_base: str | None = Field(
        default=None,
        description="Twilio API base URL; unset means the local Twilio server in local mode.",
    )
    openai_api_key: SecretStr | None = None
    openai_base_url: str | None = None
    egress_allow: str = Field(
        default="",
        description="Internal CIDRs, addresses and host names (or *.domain) tenants' HTTP tools, "
        "knowledge URLs and MCP servers may reach, comma-separated; public addresses always are.",
    )

    worker_metrics_port: int = 9101
    metrics_host: str = Field(
        default="127.0.0.1",
        description="Address the worker's and scheduler's metrics listen on: loopback unless set "
        "(runtime pods set 0.0.0.0 so Prometheus can scrape them).",
    )
    worker_concurrency: int = Field(
        default=256,
        ge=1,
        le=4096,
        description="Turns one worker process works on at once (most of them wait on the model).",
    )
    database_pool_size: int = Field(
        default=10,
        ge=1,
        le=100,
        description="PostgreSQL connections of one worker process, whatever its concurrency.",
    )
    thread_lease_seconds: float = Field(
        default=30.0,
        gt=3,
        description="How long a conversation thread stays owned by a worker that stopped "
        "renewing it (crashed or paused) before another worker may take it over.",
    )
    worker_max_attempts: int = Field(
        default=5,
        ge=1,
        le=100,
        description="Attempts at a message before it is dead-lettered and the fallback is sent.",
    )
    worker_retry_delays: list[float] = Field(
        default_factory=lambda: [1.0, 2.0, 5.0, 10.0, 30.0],
        description="Seconds to wait before retry 1, 2, ...; the last value repeats.",
    )
    stream_ack_wait_seconds: float = Field(
        default=30.0,
        gt=0,
        description="Seconds JetStream waits for a worker's heartbeat before redelivering.",
    )
    media_dir: Path = Field(
        default=Path(".wta/media"),
        description="Folder of downloaded media, one subfolder per tenant.",
    )
    media_max_bytes: int = Field(
        default=16 * 1024 * 1024, ge=1, description="Largest inbound media file kept."
    )
    media_content_types: list[str] = Field(
        default_factory=lambda: list(DEFAULT_CONTENT_TYPES),
        description="Content types of inbound media that are downloaded and kept.",
    )
    media_store: Literal["local", "s3"] = Field(
        default="local",
        description="Where inbound media is kept: local = WTA_MEDIA_DIR, s3 = WTA_MEDIA_S3_BUCKET.",
    )
    media_s3_bucket: str | None = Field(
        default=None,
        pattern=S3_BUCKET_NAME,
        description="Bucket of the s3 media store; credentials come from boto3's chain "
        "(AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, AWS_PROFILE, IRSA or the instance role).",
    )
    media_s3_endpoint_url: str | None = Field(
        default=None, description="S3-compatible endpoint (MinIO, R2...); unset means AWS S3."
    )
    media_s3_region: str | None = Field(
        default=None, description="Region of the bucket; unset means AWS_REGION or us-east-1."
    )
    media_s3_prefix: str = Field(
        default="media",
        pattern=MEDIA_PREFIX,
        description="Objects are <prefix>/<tenant>/<hash[:2]>/<hash>.",
    )
    media_s3_server_side_encryption: Literal["AES256", "aws:kms"] | None = Field(
        default=None, description="Encryption at rest asked for each object; unset: the bucket's."
    )
    media_s3_kms_key_id: str | None = Field(
        default=None, description="KMS key for aws:kms encryption; unset: the AWS managed key."
    )
    transcription_model: str = Field(
        default="whisper-1", description="Model of the OpenAI-compatible transcription endpoint."
    )
    typing_renew_seconds: float = Field(
        default=20.0,
        gt=0,
        le=24,
        description="How often a turn renews the typing indicator (WhatsApp hides it after ~25 s).",
    )
    scheduler_metrics_port: int = 9102
    scheduler_interval_seconds: float = 60.0
    worker_runs_scheduler: bool = Field(
        default=True,
        description="The worker sweeps the timers of the tenants it serves itself, every "
        "`scheduler_interval_seconds`; false where a separate `wta scheduler` does it.",
    )

    local_data_dir: Path = Path(".wta")
    local_twilio_port: int = 8010
    local_postgres_port: int = 54329
    local_nats_port: int = 4222

    @model_validator(mode="after")
    def _media_store_complete(self) -> Settings:
        if self.media_store == "s3" and not self.media_s3_bucket:
            raise ValueError("WTA_MEDIA_STORE=s3 needs WTA_MEDIA_S3_BUCKET, the bucket's name")
        if self.media_s3_kms_key_id and self.media_s3_server_side_encryption != "aws:kms":
            raise ValueError(
                "WTA_MEDIA_S3_KMS_KEY_ID needs WTA_MEDIA_S3_SERVER_SIDE_ENCRYPTION=aws:kms"
            )
        return self

    @model_validator(mode="after")
    def _egress_allow_parses(self) -> Settings:
        EgressPolicy.parse(self.egress_allow)
        return self

    @property
    def egress_policy(self) -> EgressPolicy:
        """Where a tenant's configuration may make the runtime connect."""
        return EgressPolicy.parse(self.egress_allow)

    @property
    def twilio_api_url(self) -> str:
        """Where Twilio API calls go: the configured base, the local server, or Twilio itself."""
        if self.twilio_api_base:
            return self.twilio_api_base.rstrip("/")
        if self.environment == "local":
            return f"http://127.0.0.1:{self.local_twilio_port}"
        return TWILIO_PUBLIC_API


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """Return the process-wide settings, read once."""
    return Settings()
