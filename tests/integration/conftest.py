"""Fixtures shared by the integration tests."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.utils.flaky_twilio import FlakyTwilio, serve_flaky_twilio
from wta_runtime.catalog import TenantCatalog


@pytest.fixture
def flaky(catalog: TenantCatalog) -> Iterator[FlakyTwilio]:
    """A Twilio API of its own per test, failing the sends a test scripts."""
    with serve_flaky_twilio(catalog) as twilio:
        yield twilio
