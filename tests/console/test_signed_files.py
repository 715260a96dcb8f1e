"""Links to files staff send: valid for their file, their tenant's secret and an hour only."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs, urlsplit

from wta_runtime.console.signed_files import LIFETIME, signed_file_url, valid_signature

NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)


def _parts(url: str) -> tuple[uuid.UUID, int, str]:
    split = urlsplit(url)
    query = parse_qs(split.query)
    return uuid.UUID(split.path.rsplit("/", 1)[1]), int(query["expires"][0]), query["signature"][0]


def test_a_link_is_valid_for_its_file_and_secret_until_it_expires() -> None:
    file_id = uuid.uuid4()
    url = signed_file_url("https://wta.example/", "acme", "tenant-token", file_id, NOW)
    named, expires, signature = _parts(url)
    just_before = NOW + LIFETIME - timedelta(seconds=1)

    assert url.startswith(f"https://wta.example/console/files/acme/{file_id}?")
    assert named == file_id
    assert valid_signature("tenant-token", file_id, expires, signature, just_before)
    assert not valid_signature("tenant-token", file_id, expires, signature, NOW + LIFETIME)
    assert not valid_signature("other-token", file_id, expires, signature, NOW)
    assert not valid_signature("tenant-token", uuid.uuid4(), expires, signature, NOW)
    assert not valid_signature("tenant-token", file_id, expires + 3600, signature, NOW)
    assert not valid_signature("tenant-token", file_id, expires, "0" * 64, NOW)
