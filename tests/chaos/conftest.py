"""Every test of this folder breaks a server of its own: they run alone with `pytest -m chaos`."""

from __future__ import annotations

import pytest


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if item.path.parent.name == "chaos":
            item.add_marker(pytest.mark.chaos)
