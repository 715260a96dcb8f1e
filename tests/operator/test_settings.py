"""The operator's settings: the defaults keep the issue's promises."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from wta_operator.settings import OperatorConfig


def test_default_resync_repairs_drift_well_within_30_seconds() -> None:
    assert OperatorConfig(_env_file=None).resync_seconds <= 15


def test_a_resync_too_slow_for_the_promise_is_refused() -> None:
    with pytest.raises(ValidationError):
        OperatorConfig(_env_file=None, resync_seconds=60)


def test_chart_style_environment_is_read(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WTA_NAMESPACES", '["shops", "cafes"]')
    monkeypatch.setenv("WTA_STANDALONE", "true")
    monkeypatch.setenv("WTA_ADMIN_DATABASE_URL", "postgresql://admin:pw@db/wta")
    config = OperatorConfig(_env_file=None)
    assert config.namespaces == ["shops", "cafes"]
    assert config.admin_database_url is not None
    assert "pw" not in repr(config)
    assert config.nats_url_for_runtime == config.nats_url


def test_an_s3_media_store_without_a_bucket_is_refused_at_start() -> None:
    with pytest.raises(ValidationError, match="WTA_RUNTIME_MEDIA_STORE=s3 needs"):
        OperatorConfig(_env_file=None, runtime_media_store="s3")


def test_chart_style_media_settings_are_read(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WTA_RUNTIME_MEDIA_STORE", "s3")
    monkeypatch.setenv("WTA_RUNTIME_MEDIA_S3_BUCKET", "wta-media")
    monkeypatch.setenv("WTA_RUNTIME_MEDIA_S3_SERVER_SIDE_ENCRYPTION", "aws:kms")
    monkeypatch.setenv(
        "WTA_RUNTIME_SERVICE_ACCOUNT_ANNOTATIONS", '{"eks.amazonaws.com/role-arn": "r"}'
    )

    config = OperatorConfig(_env_file=None)

    assert config.runtime_media_env == {
        "WTA_MEDIA_STORE": "s3",
        "WTA_MEDIA_S3_BUCKET": "wta-media",
        "WTA_MEDIA_S3_PREFIX": "media",
        "WTA_MEDIA_S3_SERVER_SIDE_ENCRYPTION": "aws:kms",
    }
    assert config.runtime_service_account_annotations == {"eks.amazonaws.com/role-arn": "r"}


def test_a_malformed_egress_allow_list_is_refused_at_start_naming_the_entry() -> None:
    with pytest.raises(ValidationError, match="WTA_RUNTIME_EGRESS_ALLOW entry 'http://crm'"):
        OperatorConfig(_env_file=None, runtime_egress_allow="10.0.0.0/8,http://crm")
