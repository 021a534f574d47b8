"""An unlevelled or stuck RF source fails the run (issue 13 item 3), end to end on the
simulated ST-FMR bench in-process: the E8257D twin's ALC stops levelling part-way through a
two-power run; the ramp to the second power ends unlevelled (STAT:QUES:POW:COND? bit 1), the
run ends FAILED naming the RF source, the rows of the first power stay in the file, and the
shutdown ramps the RF down within its slew limit and switches it off (slew auditor)."""
from __future__ import annotations

import threading

from labspin.results.reader import read_table
from labspin.run.api import prepare
from labspin.run.runner import FAILED, FINISHED, run_procedure
from labspin.sim_backend.audit import SlewAuditor

RF = "rf"
POINTS = 7
PARAMS = {"frequencies": "6", "powers": "0, 5", "field_range": "fixed", "field_min": 0.02,
          "field_max": 0.08, "field_points": POINTS, "both_polarities": False}
"""One frequency, 7 fields, at 0 dBm and then 5 dBm: 14 points, a ramp between the two."""


def _run_stfmr(tmp_path, fault=None, at_percent: float = 20.0, params=PARAMS):
    """Run stfmr with a slew auditor on its bench; when progress first reaches ``at_percent``
    apply ``fault(twin)`` to the RF source twin. Get (RunResult, auditor, twin, rows done
    when the fault began)."""
    prepared = prepare("stfmr", params=params, seed=4)
    bench, auditors, when = prepared.bench, [], {}
    opened = bench.open

    def open_and_watch(*args, **kwargs):      # the runner opens the bench: audit from there
        out = opened(*args, **kwargs)
        auditors.append(SlewAuditor().watch(bench))
        return out
    bench.open = open_and_watch

    def progress(percent, _elapsed):
        if fault is not None and percent >= at_percent and not when:
            when["rows"] = round(percent / 100 * 2 * POINTS)   # 14 points in each plan here
            fault(bench.virtual.instruments[RF])
    result = run_procedure(prepared.procedure, bench, tmp_path, progress=progress,
                           sample_name=prepared.sample_name, seed=4, abort=threading.Event())
    [auditor] = auditors
    auditor.end()
    return result, auditor, bench.virtual.instruments[RF], when


def test_an_rf_source_that_stops_levelling_fails_the_run_naming_it(tmp_path):
    """From 20 % on the ALC delivers at most +2 dBm: 0 dBm is still levelled, 5 dBm is not."""
    result, auditor, twin, when = _run_stfmr(tmp_path, lambda t: t.unlevel(2.0))
    assert result.status == FAILED, result.message
    assert ("Keysight E8257D PSG signal generator (rf_source): :STAT:QUES:POW:COND? bit 1 "
            "(unleveled), with 5 dBm set and the RF on" in result.message)
    text = result.path.read_text(encoding="utf-8")
    assert "#Status: FAILED" in text
    table = read_table(result.path)
    powers = table["Power (dBm)"]
    assert 1 <= when["rows"] < POINTS and len(powers) == POINTS     # the 0 dBm rows, all kept
    assert set(powers) == {0.0}
    assert twin.output("rf_on") is False and RF not in twin.bench.drives.rf
    assert auditor.violations == [] and auditor.live() == []
    levels = [c.new for c in auditor.changes if c.twin == RF and c.output == "power"]
    assert levels[-1] == -20.0 and max(levels) == 5.0                # ramped down from 5 dBm


def test_a_stuck_rf_level_fails_the_run_and_the_rf_still_goes_off(tmp_path):
    """From 20 % the level DAC takes no write (stuck at 0 dBm): the ramp to 5 dBm ends
    unlevelled. The shutdown's ramp cannot move a stuck level: the RF goes off at 0 dBm,
    which the auditor reports, and nothing else."""
    result, auditor, twin, _ = _run_stfmr(
        tmp_path, lambda t: t.inject("stuck_output", on="power", count=None))
    assert result.status == FAILED, result.message
    assert "(rf_source): :STAT:QUES:POW:COND? bit 1 (unleveled), with 5 dBm set" \
        in result.message
    assert twin.output("rf_on") is False
    assert [(v.kind, v.change.twin) for v in auditor.violations] == [("off_not_safe", RF)]
    assert "switched off with power at 0 (safe: -20)" in str(auditor.violations[0])


def test_the_same_run_with_a_levelled_source_finishes(tmp_path):
    result, auditor, twin, _ = _run_stfmr(tmp_path)
    assert result.status == FINISHED, result.message
    assert len(read_table(result.path)["Power (dBm)"]) == 2 * POINTS
    assert auditor.violations == [] and twin.output("rf_on") is False


def test_at_one_power_the_next_frequency_catches_an_output_that_stopped_levelling(tmp_path):
    """One power, two frequencies: no ramp after the RF went on, but each new frequency is
    checked (one query: a frequency change can unlevel a source by itself)."""
    params = {**PARAMS, "frequencies": "6, 7", "powers": "5"}
    result, auditor, twin, _ = _run_stfmr(tmp_path, lambda t: t.unlevel(2.0), params=params)
    assert result.status == FAILED, result.message
    assert "(rf_source): :STAT:QUES:POW:COND? bit 1 (unleveled), with 5 dBm set" \
        in result.message
    table = read_table(result.path)
    assert set(table["Frequency (Hz)"]) == {6e9} and len(table["Frequency (Hz)"]) == POINTS
    assert twin.output("rf_on") is False and auditor.violations == []
