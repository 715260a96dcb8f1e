"""`WhatsAppTenant.spec.media`: the tenant's own bucket for inbound media, if any."""

from __future__ import annotations

from typing import Literal

from pydantic import ConfigDict, Field, model_validator

from wta_runtime.specs.common import SecretKeyRef, SpecModel, cel, explained_pattern, validations

# Segments of letters, digits, '.', '_', '-' joined by '/'; a segment never starts with '.', so
# neither '.' nor '..' can climb out of the prefix. RE2-compatible (the API server checks it).
MEDIA_PREFIX = r"^[A-Za-z0-9_-][A-Za-z0-9._-]*(/[A-Za-z0-9_-][A-Za-z0-9._-]*)*$"
S3_BUCKET_NAME = r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$"
HTTP_URL = r"^https?://[^\s/?#]+([/?#][^\s]*)?$"

KEY_PAIR_TOGETHER = (
    "media.s3.accessKeyIdSecretRef and media.s3.secretAccessKeySecretRef go together: set both "
    "(a key pair from a Secret) or neither (the pod's own identity, e.g. IRSA)"
)
KMS_KEY_NEEDS_KMS = "media.s3.kmsKeyId needs serverSideEncryption: aws:kms"


class TenantBucket(SpecModel):
    """The tenant's own S3-compatible bucket (AWS S3, MinIO, R2...) for its inbound media."""

    model_config = ConfigDict(
        json_schema_extra=validations(
            cel(
                "has(self.accessKeyIdSecretRef) == has(self.secretAccessKeySecretRef)",
                KEY_PAIR_TOGETHER,
            ),
            cel(
                "!has(self.kmsKeyId) || "
                "(has(self.serverSideEncryption) && self.serverSideEncryption == 'aws:kms')",
                KMS_KEY_NEEDS_KMS,
                field_path=".kmsKeyId",
            ),
        )
    )

    bucket: str = Field(
        min_length=3,
        max_length=63,
        pattern=S3_BUCKET_NAME,
        description="Bucket name; it must exist and should block public access.",
        json_schema_extra=explained_pattern(
            "must be an S3 bucket name: 3 to 63 lowercase letters, digits, '.' or '-'"
        ),
    )
    prefix: str = Field(
        default="media",
        max_length=256,
        pattern=MEDIA_PREFIX,
        description="Objects go to <prefix>/<tenant>/<hash[:2]>/<hash>.",
        json_schema_extra=explained_pattern(
            "must be segments of letters, digits, '.', '_' or '-' separated by '/', "
            "none starting with '.', e.g. media or wta/media"
        ),
    )
    endpoint_url: str | None = Field(
        default=None,
        max_length=2048,
        pattern=HTTP_URL,
        description="Endpoint of an S3-compatible store (MinIO, R2...); unset means AWS S3.",
    )
    region: str | None = Field(
        default=None,
        max_length=32,
        pattern=r"^[a-z0-9-]+$",
        description="Region of the bucket, e.g. eu-west-1 (auto for R2).",
    )
    server_side_encryption: Literal["AES256", "aws:kms"] | None = Field(
        default=None, description="Encryption at rest asked for each object; unset: the bucket's."
    )
    kms_key_id: str | None = Field(
        default=None,
        min_length=1,
        max_length=2048,
        description="KMS key (id or ARN) for serverSideEncryption aws:kms; unset: the AWS one.",
    )
    access_key_id_secret_ref: SecretKeyRef | None = Field(
        default=None,
        description="Secret key holding the access key id; unset uses the pod's identity.",
    )
    secret_access_key_secret_ref: SecretKeyRef | None = Field(
        default=None, description="Secret key holding the secret access key."
    )

    @model_validator(mode="after")
    def _consistent(self) -> TenantBucket:
        if (self.access_key_id_secret_ref is None) != (self.secret_access_key_secret_ref is None):
            raise ValueError(KEY_PAIR_TOGETHER)
        if self.kms_key_id is not None and self.server_side_encryption != "aws:kms":
            raise ValueError(KMS_KEY_NEEDS_KMS)
        return self


class MediaStorage(SpecModel):
    """Where inbound media (photos, voice notes, documents) of the tenant is kept."""

    s3: TenantBucket | None = Field(
        default=None,
        description="The tenant's own bucket; unset keeps media in the platform's store.",
    )
