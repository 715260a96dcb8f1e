"""Choosing the media store: local by default, S3 when configured, clear words when it is wrong."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from wta_runtime.channel.media_store import LocalMediaStore
from wta_runtime.channel.media_stores import platform_media_store
from wta_runtime.channel.s3_media_store import S3Bucket, S3MediaStore
from wta_runtime.settings import Settings


def test_media_stays_in_a_local_folder_by_default(tmp_path: Path) -> None:
    store = platform_media_store(Settings(media_dir=tmp_path))

    assert isinstance(store, LocalMediaStore)
    assert store.location == str(tmp_path)


def test_the_s3_store_is_chosen_for_the_whole_platform() -> None:
    settings = Settings(
        media_store="s3",
        media_s3_bucket="acme-media",
        media_s3_endpoint_url="https://minio.example.com",
        media_s3_prefix="wta/media",
        media_s3_server_side_encryption="aws:kms",
        media_s3_kms_key_id="alias/wta-media",
    )

    store = platform_media_store(settings)

    assert isinstance(store, S3MediaStore)
    assert store.location == "s3://acme-media/wta/media at https://minio.example.com"
    assert (store.bucket.encryption, store.bucket.kms_key_id) == ("aws:kms", "alias/wta-media")
    store.close()


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        ({"media_store": "s3"}, "WTA_MEDIA_STORE=s3 needs WTA_MEDIA_S3_BUCKET"),
        (
            {"media_store": "s3", "media_s3_bucket": "b-1", "media_s3_kms_key_id": "k"},
            "WTA_MEDIA_S3_KMS_KEY_ID needs WTA_MEDIA_S3_SERVER_SIDE_ENCRYPTION=aws:kms",
        ),
        ({"media_s3_prefix": "media/../other"}, "media_s3_prefix"),
        ({"media_s3_bucket": "Not_A_Bucket"}, "media_s3_bucket"),
        ({"media_store": "gcs"}, "media_store"),
    ],
)
def test_a_wrong_media_configuration_is_refused_at_start(
    settings: dict[str, str], message: str
) -> None:
    with pytest.raises(ValidationError, match=message.replace("=", ".")):
        Settings(**settings)


@pytest.mark.parametrize("prefix", ["/media", "media/", "a//b", "../media", "media/./x", "m d"])
def test_a_prefix_cannot_leave_its_folder(prefix: str) -> None:
    with pytest.raises(ValueError, match="media prefix"):
        S3Bucket("acme-media", prefix=prefix)
