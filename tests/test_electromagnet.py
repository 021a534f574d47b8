"""Electromagnet field control on fakes in virtual time: ramp limits, branches, closed-loop
settling, time-outs, limits before writes, shutdown."""
import numpy as np
import pytest

from labspin.bench.calibration import MagnetCalibration
from labspin.bench.clock import VirtualClock
from labspin.bench.safety import LimitError
from labspin.drivers.electromagnet import Electromagnet, FieldSettleError

K = 0.05        # T/A, calibration slope
BR = 0.004      # T, remanence


class FakeSupply:
    """A bipolar supply that logs (virtual time, setpoint) of every write."""

    def __init__(self, clock, max_current=20.0, fail_at=None):
        self.clock, self.max_current, self.fail_at = clock, max_current, fail_at
        self._i, self.output_enabled, self.log, self.shut = 0.0, False, [], False

    @property
    def current_setpoint(self):
        return self._i

    @current_setpoint.setter
    def current_setpoint(self, value):
        if self.fail_at is not None and len(self.log) == self.fail_at:
            raise TimeoutError("VI_ERROR_TMO on 'CURR 3.5'")
        self._i = value
        self.log.append((self.clock.now(), value))

    def measure_current(self):
        return self._i

    def shutdown(self):
        self.shut = True
        self.output_enabled = False


class HystereticMagnet:
    """A 'true' magnet: B = k_true·I ∓ B_r on the branch of the last current change, read by
    a gaussmeter with Gaussian noise."""

    def __init__(self, supply, k_true=K, br=BR, noise=2e-5, seed=0):
        self.supply, self.k, self.br, self.noise = supply, k_true, br, noise
        self.rng = np.random.default_rng(seed)

    def measure_field(self):
        log = self.supply.log
        up = len(log) < 2 or log[-1][1] >= log[-2][1]
        b = self.k * self.supply.current_setpoint + (-self.br if up else self.br)
        return b + self.noise * self.rng.normal()


def _magnet(k_true=K, gaussmeter=True, **kw):
    clock = VirtualClock()
    supply = FakeSupply(clock, fail_at=kw.pop("fail_at", None))
    gm = HystereticMagnet(supply, k_true=k_true) if gaussmeter else None
    cal = MagnetCalibration.linear(K, 20.0, remanence_T=BR)
    params = dict(max_field_T=0.9, max_ramp_rate_T_per_s=0.05, max_step_T=0.005,
                  tolerance_T=1e-4, settle_timeout_s=20.0, settle_delay_s=0.1)
    params.update(kw)
    return Electromagnet(supply, cal, gm, clock=clock, **params), supply, clock


def test_ramp_respects_field_step_and_rate():
    em, supply, clock = _magnet(gaussmeter=False)
    em.set_field(0.3)
    t, i = np.array(supply.log).T
    db = np.diff(np.r_[0.0, i]) * K
    assert np.abs(db).max() <= 0.005 + 1e-12
    rates = np.abs(np.diff(i) * K) / np.diff(t)
    assert rates.max() <= 0.05 * (1 + 1e-9)
    assert clock.now() >= 0.3 / 0.05            # 0.3 T at 0.05 T/s takes ≥ 6 s (virtual)
    assert i[-1] == pytest.approx((0.3 + BR) / K)


def test_branch_follows_direction_of_travel():
    em, supply, _ = _magnet(gaussmeter=False)
    em.set_field(0.1)
    up_current = supply.current_setpoint
    em.set_field(0.5)
    em.set_field(0.1)
    down_current = supply.current_setpoint
    assert up_current == pytest.approx((0.1 + BR) / K)
    assert down_current == pytest.approx((0.1 - BR) / K)
    assert up_current - down_current == pytest.approx(2 * BR / K)


def test_closed_loop_trim_corrects_a_calibration_error():
    # the true magnet is 3 % stronger than the calibration says
    em, supply, clock = _magnet(k_true=1.03 * K)
    reading = em.set_field(0.4)
    assert abs(reading - 0.4) <= 1e-4
    # open-loop, the calibration current would have been 0.012 T off
    open_loop = 1.03 * K * (0.4 + BR) / K - BR
    assert abs(open_loop - 0.4) > 0.01
    assert len(supply.log) > int(0.4 / 0.005)   # extra writes: the trims


def test_settle_times_out_with_a_clear_message():
    em, supply, clock = _magnet()
    em.gaussmeter = type("Stuck", (), {"measure_field": lambda self: 0.0})()
    with pytest.raises(FieldSettleError, match=r"did not settle at 0.2 T: gaussmeter reads 0 T"):
        em.set_field(0.2)
    ramp_time = 0.2 / 0.05
    assert clock.now() < ramp_time + 20.0 + 5.0  # bounded: ramp + time-out + one trim


def test_limits_are_checked_before_any_write():
    em, supply, _ = _magnet(gaussmeter=False)
    with pytest.raises(LimitError, match=r"magnet field = 1.2 T is outside the allowed range \[-0.9, 0.9\] T"):
        em.set_field(1.2)
    em.supply.max_current = 5.0                  # 0.3 T needs 6.08 A
    with pytest.raises(LimitError, match="magnet current"):
        em.set_field(0.3)
    assert supply.log == [] and not supply.output_enabled


def test_shutdown_ramps_to_zero_then_shuts_the_supply_down():
    em, supply, clock = _magnet(gaussmeter=False)
    em.set_field(0.2)
    n = len(supply.log)
    em.shutdown()
    tail = np.array(supply.log[n - 1:])
    assert tail[-1, 1] == 0.0 and supply.shut
    assert np.abs(np.diff(tail[:, 1])).max() * K <= 0.005 + 1e-12


def test_shutdown_reaches_the_supply_even_if_the_ramp_fails():
    em, supply, _ = _magnet(gaussmeter=False, fail_at=50)
    with pytest.raises(TimeoutError):
        em.set_field(0.4)
    with pytest.raises(TimeoutError):
        supply.fail_at = len(supply.log) + 1
        em.shutdown()
    assert supply.shut


def test_shutdown_with_output_off_writes_nothing():
    em, supply, _ = _magnet(gaussmeter=False)
    em.shutdown()
    assert supply.log == [] and supply.shut and not supply.output_enabled


@pytest.mark.parametrize("kwargs, message", [
    (dict(current_A=[0, 1], field_up_T=[0, 1], field_down_T=[0, 1, 2]), "same length"),
    (dict(current_A=[0, 1], field_up_T=[0, 1], field_down_T=[0]), "field_down_T must be a list"),
    (dict(current_A=[0, 1, 1], field_up_T=[0, 1, 2], field_down_T=[0, 1, 2]), "current_A must increase"),
    (dict(current_A=[0, 1, 2], field_up_T=[0, 2, 1], field_down_T=[0, 1, 2]), "field_up_T must increase"),
    (dict(current_A=[0, "x"], field_up_T=[0, 1], field_down_T=[0, 1]), None),
])
def test_bad_calibrations_name_the_problem(kwargs, message):
    with pytest.raises(ValueError, match=message):
        MagnetCalibration(**kwargs)


def test_calibration_branches_and_remanence():
    cal = MagnetCalibration.linear(K, 10.0, remanence_T=BR)
    assert cal.remanence_T == pytest.approx((-BR, BR))
    assert cal.current(0.1, "up") == pytest.approx((0.1 + BR) / K)
    assert cal.field(cal.current(0.1, "down"), "down") == pytest.approx(0.1)
    with pytest.raises(LimitError, match="up branch"):
        cal.current(0.6, "up")
    assert MagnetCalibration(**cal.to_dict()).to_dict() == cal.to_dict()
