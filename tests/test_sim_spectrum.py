"""Simulated spectrum analyzers (N9020A, N9030A, FSV) on the spin-torque oscillator: the peak at
physics.md check 6, the noise floor and its averaging, the command set through our drivers,
pymeasure's R&S FSSeries/FSL and a loopback socket."""
import math
import time
import uuid

import numpy as np
import pytest
import pyvisa
from pymeasure.instruments.rohdeschwarz.fsseries import FSL
from scipy import stats

from labspin.drivers.spectrum_analyzers import FSV, N9020A, N9030A
from labspin.physics.constants import KB
from labspin.sim_backend.sample_spectrum import sample_psd
from labspin.sim_backend.samples import load_sample
from labspin.sim_backend.server import serve
from labspin.sim_backend.sim_spectrum import (
    ENBW_PER_RBW,
    TWINS,
    FSVTwin,
    N9020ATwin,
    N9030ATwin,
)
from labspin.sim_backend.virtual_bench import VirtualBench, VirtualMagnet

STO = load_sample("spin_torque_oscillator")
I_DC = 0.2e-3              # A; m_z = H_DL/(α M_eff) ≈ 0.2: well inside the oscillating range
SMALL = {"members": 4, "segments": 2}    # a cheaper LLG record where the line shape is not tested


def check6_frequency(current_A):
    """physics.md check 6: f = γ0 H_DL/(2πα), from `labspin sim show` keys."""
    d = STO.describe()
    return d["gamma_Hz_per_T"] * d["mu0_hdl_per_A_T"] * current_A / d["alpha"]


def sto_bench(seed=1):
    return VirtualBench(STO, seed=seed, magnet=VirtualMagnet(remanence_T=0.0, l_over_r_s=1e-3))


@pytest.fixture
def connect():
    keys = []

    def make(twin, driver_cls, **kwargs):
        key = twin.bench.resources.register(f"TCPIP0::sa-{uuid.uuid4().hex[:8]}::inst0::INSTR",
                                            twin)
        keys.append((twin.bench.resources, key))
        return driver_cls(key, visa_library=twin.bench.visa_library, **kwargs)

    yield make
    for resources, key in keys:
        resources.unregister(key)


def floor_W(twin, rbw):
    """The displayed average noise level (W) in ``rbw``: k·T0·F·10^(att/10)·ENBW."""
    return KB * 290.0 * 10 ** ((twin.NOISE_FIGURE_dB + twin.attenuation()) / 10) * (
        ENBW_PER_RBW * rbw)


def test_twins_table_uses_the_driver_registry_keys():
    from labspin.bench import registry as drivers
    for key, cls in TWINS.items():
        assert drivers.driver_class(key).__name__ == cls.__name__.removesuffix("Twin")


def test_sto_peak_at_check6_frequency_and_none_below_threshold(connect):
    bench = sto_bench()
    twin = N9030ATwin(bench, "sa", probe="mtj")
    sa = connect(twin, N9030A)
    bench.set_dc_current("smu", I_DC)
    f6 = check6_frequency(I_DC)                               # ≈ 5.47 GHz
    sa.start_frequency, sa.stop_frequency = 2e9, 10e9
    sa.resolution_bandwidth, sa.sweep_points, sa.attenuation = 3e6, 801, 0
    sa.detector = "average"
    sa.averages = 16
    t0 = bench.clock.now()
    freq, dbm = sa.read_trace()
    # 16 sweeps of 2.5·span/RBW² in virtual time
    assert bench.clock.now() - t0 == pytest.approx(16 * 2.5 * 8e9 / 3e6 ** 2)
    assert freq.size == 801 and sa.check_errors() == []
    watts = 1e-3 * 10 ** (dbm / 10)
    floor = floor_W(twin, 3e6)
    assert np.median(watts[freq > 9e9]) == pytest.approx(floor, rel=0.1)
    excess = np.clip(watts - floor, 0, None)
    line = excess > 0.25 * excess.max()
    centroid = np.sum(freq[line] * excess[line]) / np.sum(excess[line])
    # the thermally broadened line (HWHM ≈ 0.4 GHz at 300 K in this small pillar) is centred
    # on check 6 to 1 % (LLG step bias ≈ 0.2 %; over seeds 1–8 the centroid scatters ±0.2 %)
    assert centroid == pytest.approx(f6, rel=0.01)
    peak_f, peak_dbm = sa.marker_peak()                       # the flat top: within the HWHM
    assert abs(peak_f - f6) < 0.4e9 and peak_f == freq[np.argmax(dbm)]
    assert peak_dbm > 10 * math.log10(floor / 1e-3) + 10       # ≥ 10 dB above the floor
    # below threshold: 0.1 T in plane along x; the same current only tilts m (no
    # auto-oscillation up to 2 mA in a direct LLG run; H_DL ≈ H would need ~10 mA), and the
    # thermal FMR mode, second order in δm with m along the reference, stays under the floor
    bench.set_magnet_current(0.1 / bench.magnet.tesla_per_A)
    bench.clock.sleep(0.05)
    freq, dbm = sa.read_trace()
    watts = 1e-3 * 10 ** (dbm / 10)
    # average detector over 10 MHz buckets of 3 MHz cells, 16 sweeps: each point is
    # floor × Gamma(k)/k with k = 16·10/3; none of 801 points beyond its 1e-5 quantile
    k = 16 * (8e9 / 800) / 3e6
    assert np.mean(watts) == pytest.approx(floor, rel=3 / math.sqrt(801 * k))
    assert watts.max() < floor * stats.gamma.isf(1e-5, k) / k


def test_noise_floor_and_averaging(connect):
    bench = sto_bench(seed=4)
    twin = N9020ATwin(bench, "sa", probe="mtj")
    sa = connect(twin, N9020A)
    sa.center_frequency, sa.span = 5e9, 1e9
    sa.resolution_bandwidth, sa.video_bandwidth, sa.sweep_points = 1e6, 1e6, 2001
    sa.detector = "sample"
    psd = sample_psd(bench, "mtj", **twin.psd_options)        # I_dc = 0: no rf voltage
    johnson = psd.johnson_W_per_Hz * ENBW_PER_RBW * 1e6
    expected = floor_W(twin, 1e6) + johnson
    stds = {}
    for n in (1, 16):
        sa.averages = n
        _, dbm = sa.read_trace()
        w = 1e-3 * 10 ** (dbm / 10) / expected
        # sample detector: one exponential per point, averaged: Gamma(n, 1/n), std 1/√n;
        # 2001 points give the mean to 3/√(2001 n)
        assert w.mean() == pytest.approx(1.0, abs=3 / math.sqrt(2001 * n))
        stds[n] = w.std()
    assert stds[1] == pytest.approx(1.0, rel=0.1)
    assert stds[1] / stds[16] == pytest.approx(4.0, rel=0.15)
    # a 10 dB larger attenuation raises the floor 10 dB; a peak detector reads noise higher
    sa.attenuation = twin.attenuation() + 10
    sa.averages = 16
    _, dbm = sa.read_trace()
    assert np.mean(1e-3 * 10 ** (dbm / 10)) == pytest.approx(
        floor_W(twin, 1e6) + johnson, rel=0.03)
    sa.detector = "peak"
    sa.span = 20e9                                            # 10 MHz buckets of 1 MHz cells
    _, peak = sa.read_trace()
    assert np.median(peak) - 10 * math.log10(floor_W(twin, 1e6) / 1e-3) > 3.0


def test_keysight_settings_coupling_errors_and_reset():
    bench = sto_bench()
    sa = N9030ATwin(bench, "sa", **SMALL)
    h = sa.handle
    assert h(":FREQ:CENT?;:FREQ:SPAN?") == "+2.50050000000E+010;+4.99900000000E+010"
    assert h(":SWE:POIN?;:AVER:COUN?;:TRAC1:TYPE?;:DET:TRAC1?") == "+1001;+10;WRIT;NORM"
    assert float(h(":BAND?")) == 3e6 and float(h(":BAND:VID?")) == 3e6     # auto, capped
    h(":FREQ:CENT 1 GHz;:FREQ:SPAN 100 MHz")
    assert float(h(":FREQ:STAR?")) == 0.95e9 and float(h(":FREQ:STOP?")) == 1.05e9
    assert float(h(":BAND:RES?")) == 1e6                      # span/106 -> 1-3-10 series
    assert float(h(":SWE:TIME?")) == pytest.approx(2.5 * 100e6 / 1e12, rel=1e-6) or \
        float(h(":SWE:TIME?")) == 1e-3
    h(":BAND 10 kHz;:BAND:VID 1 kHz")
    assert float(h(":SWE:TIME?")) == pytest.approx(2.5 * 100e6 / (1e4 * 1e3))
    h(":FREQ:STAR 2 GHz")                                     # start above stop: stop follows
    assert float(h(":FREQ:STOP?")) == 2e9 and float(h(":FREQ:SPAN?")) == 0.0
    h(":DISP:WIND:TRAC:Y:RLEV -30;:POW:ATT:AUTO ON")
    assert float(h(":POW:ATT?")) == 0.0                        # auto: RL + 10 dB
    h(":FREQ:CENT 60 GHz")                                     # above 50 GHz
    h(":BAND 9 MHz")                                           # above 8 MHz
    h(":SWE:POIN 40002")
    h(":FREQ:CENT 1 PHz")
    h(":DET:TRAC1 RMS")                                        # an R&S detector
    h(":TRAC:DATA? TRACE7")
    h(":NOSUCH 1")
    codes = [int(h("SYST:ERR?").split(",")[0]) for _ in range(8)]
    assert codes == [-222, -222, -222, -131, -224, -221, -113, 0]
    h("*RST")
    assert h(":FREQ:SPAN?;:BAND:AUTO?;:INIT:CONT?") == "+4.99900000000E+010;1;1"


def test_trace_formats_units_and_markers(connect):
    bench = sto_bench()
    twin = N9030ATwin(bench, "sa", **SMALL)
    sa = connect(twin, N9030A)
    bench.set_dc_current("smu", I_DC)
    sa.write(":FREQ:STAR 3 GHz;:FREQ:STOP 9 GHz;:SWE:POIN 101;:INIT:CONT OFF;:INIT")
    ascii_dbm = np.asarray(sa.values(":TRAC:DATA? TRACE1"))
    assert ascii_dbm.size == 101
    sa.write(":FORM REAL,32")
    block = sa.adapter.connection.query_binary_values(":TRAC? TRACE1", datatype="f",
                                                      is_big_endian=True)
    np.testing.assert_allclose(block, ascii_dbm, atol=1e-4)  # same (single-sweep) trace
    sa.write(":FORM:BORD SWAP")
    swapped = sa.adapter.connection.query_binary_values(":TRAC? TRACE1", datatype="f")
    np.testing.assert_allclose(swapped, ascii_dbm, atol=1e-4)
    sa.write(":FORM ASC;:UNIT:POW W")
    watts = np.asarray(sa.values(":TRAC:DATA? TRACE1"))
    np.testing.assert_allclose(watts, 1e-3 * 10 ** (ascii_dbm / 10), rtol=1e-6)
    sa.write(":UNIT:POW DBM")
    peak_f, peak_y = sa.marker_peak()
    freqs = np.linspace(3e9, 9e9, 101)
    assert peak_f == freqs[np.argmax(ascii_dbm)] and peak_y == pytest.approx(ascii_dbm.max())
    sa.write(":CALC:MARK2:X 4.5 GHz")
    assert float(sa.ask(":CALC:MARK2:X?")) == 4.5e9
    assert float(sa.ask(":CALC:MARK2:Y?")) == pytest.approx(ascii_dbm[25], abs=1e-6)
    assert sa.check_errors() == []


def test_fsv_with_pymeasure_fsseries_and_our_driver_over_a_socket():
    bench = sto_bench(seed=2)
    twin = FSVTwin(bench, "sa", probe="mtj", **SMALL)
    bench.set_dc_current("smu", I_DC)
    f6 = check6_frequency(I_DC)
    with twin.bench.resources.registered({"TCPIP0::fsv::inst0::INSTR": twin}) as names:
        fs = FSL(names["TCPIP0::fsv::inst0::INSTR"], visa_library=twin.bench.visa_library)
        assert fs.id == twin.idn
        fs.freq_start, fs.freq_stop = "2 GHz", "10 GHz"          # values with units
        fs.res_bandwidth, fs.video_bandwidth, fs.sweep_time = "3 MHz", "AUTO", "AUTO"
        fs.attenuation = 0
        fs.continuous_sweep_enabled = False
        fs.trace_mode = "AVER"
        fs.write("SWE:COUN 8")
        t0 = bench.clock.now()
        fs.single_sweep()                                        # "INIT; *WAI"
        assert bench.clock.now() - t0 == pytest.approx(8 * 2.5 * 8e9 / 9e12)
        x, y = fs.read_trace()
        assert x.size == 691 and x[0] == 2e9 and x[-1] == 10e9
        marker = fs.create_marker()
        marker.to_peak()
        assert marker.x == pytest.approx(x[np.argmax(y)], abs=1.0) and abs(marker.x - f6) < 0.5e9
        assert fs.check_errors() == []
    with serve({"sa": twin}) as server:
        sa = FSV(server.resources["sa"], visa_library="@py", read_termination="\n",
                 write_termination="\n", timeout=10_000)
        try:
            assert sa.id == twin.idn
            assert sa.sweep_points == 691 and sa.trace_type == "AVER" and sa.averages == 8
            sa.span = 0                                          # zero span at the center
            sa.detector = "rms"
            freq, dbm = sa.read_trace()
            assert freq.size == 691 and np.all(freq == 6e9)
            sa.write("BAND:RES 20 MHz")                          # above 10 MHz
            assert [int(c) for c, _ in sa.check_errors()] == [-222]
        finally:
            sa.adapter.close()
    pyvisa.ResourceManager("@py").close()


def test_psd_is_cached_per_state_and_runs_are_reproducible(connect):
    traces = []
    for _ in range(2):
        bench = sto_bench(seed=7)
        twin = N9030ATwin(bench, "sa", **SMALL)
        bench.set_dc_current("smu", I_DC)
        twin.handle(":FREQ:STAR 2 GHz;:FREQ:STOP 10 GHz;:INIT:CONT OFF")
        start = time.perf_counter()
        twin.handle(":INIT")
        first = time.perf_counter() - start
        psd = sample_psd(bench, "mtj", **SMALL)
        start = time.perf_counter()
        twin.handle(":INIT")
        assert time.perf_counter() - start < first             # no second LLG run
        assert sample_psd(bench, "mtj", **SMALL) is psd
        traces.append(twin.handle(":TRAC? TRACE1"))
    assert traces[0] == traces[1]                              # same seed, same dry run
