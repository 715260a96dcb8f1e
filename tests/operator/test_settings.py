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
