"""Limits and ramps shared by every sourcing driver, in virtual time."""
import math

import pytest

from labspin.bench.clock import VirtualClock
from labspin.bench.safety import (
    LimitError,
    SlewLimit,
    check_limit,
    ramp,
    ramp_points,
    shutdown_all,
)
from labspin.drivers.base import SafeSourceMixin


def test_check_limit_names_value_and_range():
    assert check_limit("current", 1e-3, -2e-3, 2e-3, "A") == 1e-3
    with pytest.raises(LimitError, match=r"current = 0.005 A is outside the allowed range \[-0.002, 0.002\] A"):
        check_limit("current", 5e-3, -2e-3, 2e-3, "A")
    with pytest.raises(LimitError):
        check_limit("current", math.nan, -1, 1)


def test_ramp_respects_step_and_rate_in_virtual_time():
    clock = VirtualClock()
    log = []
    ramp(lambda v: log.append((clock.now(), v)), 0.0, 1.0, SlewLimit(0.3, 0.1), clock)
    values = [v for _, v in log]
    assert values[-1] == 1.0
    steps = [b - a for a, b in zip([0.0] + values[:-1], values)]
    assert max(abs(s) for s in steps) <= 0.3 + 1e-12
    assert clock.now() == pytest.approx(10.0)       # 1.0 at 0.1 per second
    for (t0, v0), (t1, v1) in zip(log, log[1:]):
        assert abs(v1 - v0) / (t1 - t0) <= 0.1 + 1e-9
    assert list(ramp_points(2.0, 2.0, 0.1)) == [2.0]
    assert ramp_points(0.1, 1e-9, 0.003)[-1] == 1e-9      # ends exactly on the target


def test_shutdown_all_attempts_every_action():
    done = []

    def bad():
        raise RuntimeError("supply timed out")
    errors = shutdown_all(lambda: done.append(1), bad, lambda: done.append(3))
    assert done == [1, 3] and len(errors) == 1 and "timed out" in str(errors[0])


class _Fake(SafeSourceMixin):
    SAFE_LIMITS = {"current": (-1.0, 1.0, "A")}
    DEFAULT_SLEW = {"current": SlewLimit(0.1)}


def test_configure_safety_narrows_but_never_widens():
    f = _Fake(clock=VirtualClock())
    f.configure_safety(limits={"current": (-0.01, 0.01)})
    with pytest.raises(LimitError, match=r"_Fake current = 0.02 A"):
        f.check_limit("current", 0.02)
    with pytest.raises(LimitError, match="must lie within the model's"):
        f.configure_safety(limits={"current": (-2.0, 2.0)})
    with pytest.raises(LimitError, match="has no output 'voltage'"):
        f.configure_safety(limits={"voltage": (-1.0, 1.0)})
    writes = []
    with pytest.raises(LimitError):
        f.ramp_output("current", 0.0, 0.5, writes.append)
    assert writes == []                              # refused before any write


def test_serves_reads_no_property():
    """roles.serves checks members statically: a property that would query is not called."""
    from labspin.drivers import roles

    class Probe:
        roles = ("voltmeter",)
        calls = 0

        def measure_voltage(self):
            return 0.0

        @property
        def trap(self):
            Probe.calls += 1
            return 0

    assert roles.serves(Probe(), "voltmeter") and Probe.calls == 0
    assert not roles.serves(Probe(), "lock_in")
    assert "measure_xy" in roles.missing_members(Probe(), "lock_in")
    assert {"frequency", "measure_xy", "overloaded", "shutdown"} <= roles.role_members("lock_in")
