"""The SRS lock-in twins' data buffers (sim_backend.srs_buffer): timing, one-shot and loop
modes, and the SR830's TRCL and the SR86x's block formats."""
import numpy as np
import pytest

from labspin.sim_backend.srs_buffer import (
    SampleBuffer,
    ieee_block,
    sr86x_rate_max,
    sr830_nonnormalized,
)


def test_buffer_takes_a_reading_per_period_from_its_start():
    buffer = SampleBuffer(100)
    buffer.rate = 4.0
    buffer.start(10.0)
    buffer.fill(11.0, lambda t: (t,))
    buffer.fill(11.3, lambda t: (t,))          # nothing new before 11.25 + ...
    assert [p[0] for p in buffer.points] == pytest.approx([10, 10.25, 10.5, 10.75, 11, 11.25])


def test_one_shot_stops_full_and_loop_keeps_the_newest():
    one = SampleBuffer(5)
    one.loop, one.rate = False, 1.0
    one.start(0.0)
    one.fill(100.0, lambda t: (t,))
    assert [p[0] for p in one.points] == [0, 1, 2, 3, 4] and not one.running
    loop = SampleBuffer(5)
    loop.rate = 1.0
    loop.start(0.0)
    loop.fill(100.0, lambda t: (t,))
    assert [p[0] for p in loop.points] == [96, 97, 98, 99, 100] and loop.wrapped


def test_trcl_format_decodes_as_qcodes_and_the_manual_do():
    values = [1.234e-3, -0.5, 7.0, 0.0, 3.3e-9]
    raw = np.frombuffer(sr830_nonnormalized(values), dtype="<i2")
    decoded = raw[::2] * 2.0 ** (raw[1::2] - 124)      # SR830 manual, TRCL?
    assert decoded == pytest.approx(values, rel=2 ** -14)


def test_ieee_block_header_counts_the_bytes():
    block = ieee_block(np.array([1.0, 2.0]), "<f4")
    assert block.startswith("#18")
    assert np.frombuffer(block[3:].encode("latin-1"), "<f4").tolist() == [1.0, 2.0]


def test_capture_rate_max_follows_the_time_constant():
    assert sr86x_rate_max(1e-6) == 1.25e6 / 2 ** 4           # ≤ 1/(8 µs) = 125 kHz
    assert sr86x_rate_max(1e-3) == 1.25e6 / 2 ** 14          # ≤ 125 Hz
    assert sr86x_rate_max(1e3) == 1.25e6 / 2 ** 20


def _sr830():
    from labspin.sim_backend.samples import load_sample
    from labspin.sim_backend.virtual_bench import VirtualBench
    from labspin.sim_backend.wirings import twin_classes

    bench = VirtualBench(load_sample("inplane_sot_hallbar"), seed=0)
    return twin_classes()["sr830"](bench, "sr830", probe="xx", drives_sample=True), bench


def test_sr830_stores_a_point_per_trigger_and_trigger_start_waits():
    twin, bench = _sr830()
    h = twin.handle
    h("SRAT 14;STRT")
    for _ in range(3):
        h("TRIG")
    bench.clock.sleep(5.0)
    assert h("SPTS?") == "3"
    h("REST;SRAT 4;TSTR 1;STRT")            # 1 Hz, the scan waits for a trigger
    bench.clock.sleep(5.0)
    assert h("SPTS?") == "0"
    h("TRIG")
    bench.clock.sleep(2.0)
    assert h("SPTS?") == "3"                  # at 0, 1 and 2 s after the trigger
    assert len(h("TRCA? 1,0,3").rstrip(",").split(",")) == 3
    h("*CLS")
    assert h("TRCA? 1,1,3") is None           # beyond the stored points: an execution error
    assert int(h("*ESR?")) & 0x10


def test_sr830_reset_empties_the_buffer():
    twin, bench = _sr830()
    h = twin.handle
    h("SRAT 13;STRT")
    bench.clock.sleep(0.5)
    assert int(h("SPTS?")) == 257             # 512 Hz for 0.5 s, both ends
    h("*RST")
    assert h("SPTS?") == "0" and h("SRAT?") == "4" and h("SEND?") == "1"
