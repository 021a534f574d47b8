"""Every driver of the registry: importable, serving its roles, constructible on a mock
adapter, with safety members on every source."""
from unittest.mock import MagicMock

import pytest

from labspin.bench.config import ROLES
from labspin.bench.registry import DRIVERS, driver_class, driver_roles
from labspin.drivers import roles
from labspin.drivers.base import SafeSourceMixin

SOURCE_ROLES = {"source_meter", "current_source", "lock_in", "rf_source", "magnet_supply",
                "pulse_generator"}


@pytest.mark.parametrize("key", sorted(DRIVERS))
def test_driver_serves_its_roles_statically(key):
    cls = driver_class(key)
    assert cls.roles and set(cls.roles) <= set(ROLES)
    for role in driver_roles(key):
        assert roles.missing_members(cls, role) == [], (key, role)


@pytest.mark.parametrize("key", sorted(DRIVERS))
def test_driver_constructible_on_a_mock_adapter(key):
    inst = driver_class(key)(MagicMock())
    for role in inst.roles:
        assert roles.serves(inst, role)
    if SOURCE_ROLES & set(inst.roles):
        assert isinstance(inst, SafeSourceMixin)
        assert callable(inst.shutdown) and inst.SAFE_LIMITS


def test_every_role_has_a_driver():
    served = {r for k in DRIVERS for r in driver_roles(k)}
    assert served == set(ROLES)
