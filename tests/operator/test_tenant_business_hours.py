"""A time zone the API server cannot check: the operator refuses it, saying what to write."""

from __future__ import annotations

import pytest

from tests.operator.factories import as_stored, tenant_manifest
from wta_operator.views import InvalidSpecError, read_tenant

OFFICE = [{"day": "mon", "from": "09:00", "to": "18:00"}]


def test_an_unknown_time_zone_makes_the_spec_invalid_with_a_zone_to_use_instead() -> None:
    hours = {"timeZone": "Europe/Lisboa", "weekly": OFFICE}
    body = as_stored(tenant_manifest("acme-pizza", businessHours=hours))

    with pytest.raises(InvalidSpecError) as refused:
        read_tenant(body)

    assert str(refused.value) == (
        "spec.businessHours.timeZone: Value error, timeZone 'Europe/Lisboa' is not a known IANA "
        "time zone: use a name of the tz database such as Europe/Lisbon or America/Sao_Paulo"
    )


def test_a_known_time_zone_is_read() -> None:
    hours = {"timeZone": "Europe/Lisbon", "weekly": OFFICE}

    tenant = read_tenant(as_stored(tenant_manifest("acme-pizza", businessHours=hours)))

    assert tenant.spec.business_hours is not None
    assert tenant.spec.business_hours.time_zone == "Europe/Lisbon"
