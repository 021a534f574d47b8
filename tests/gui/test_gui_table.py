"""Reading a growing results file (LiveTable) and splitting it into plotted segments."""
import numpy as np
from pymeasure.experiment import Results

from labspin.gui.plots import segment_connect
from labspin.gui.table import LiveTable
from labspin.procedures import procedure_class


def _append(path, text):
    with open(path, "a", encoding="utf-8") as f:
        f.write(text)


def test_live_table_reads_only_complete_new_lines(tmp_path):
    cls = procedure_class("field-sweep")
    path = str(tmp_path / "run.csv")
    results = Results(cls(), path)
    table = LiveTable(path, cls.DATA_COLUMNS)
    assert table.update() == 0 and len(table) == 0          # header only
    # the worker inserts the metadata into the header before the first point
    proc = results.procedure
    proc.sample_name = "s"
    proc.evaluate_metadata()
    results.store_metadata()
    assert table.update() == 0
    row = "0.1,0.1,1.0,0.001,0.002,2.0,0.0,0.0,voltmeter\n"
    _append(path, row + row.replace("0.1,0.1", "0.2,0.2") + "0.3,0.3,1.0")   # partial line
    assert table.update() == 2
    np.testing.assert_array_equal(table.column("Field (T)"), [0.1, 0.2])
    assert list(table.values("Probe")) == ["voltmeter", "voltmeter"]
    assert np.isnan(table.column("Probe")).all()
    _append(path, ",0.001,0.002,2.0,nan,0.0,source meter\n#End time: x\n#Status: FINISHED\n")
    assert table.update() == 1
    np.testing.assert_array_equal(table.column("Field (T)"), [0.1, 0.2, 0.3])
    assert np.isnan(table.column("Field polar angle (deg)")[2])
    assert table.values("Probe")[2] == "source meter"
    assert np.isnan(table.column("No such column")).all()


def test_segments_break_where_a_column_changes_or_a_sign_flips(tmp_path):
    cls = procedure_class("stfmr")
    path = str(tmp_path / "run.csv")
    Results(cls(), path)
    rows = [(6e9, -0.1), (6e9, -0.05), (6e9, 0.05), (6e9, 0.1), (12e9, 0.2), (12e9, 0.3)]
    _append(path, "".join(f"{f},10,nan,45,{b},{b},1e-6,0,1e-3\n" for f, b in rows))
    table = LiveTable(path, cls.DATA_COLUMNS)
    table.update()
    conn = segment_connect(table, ("Frequency (Hz)", "DC current (A)",
                                   "sign(Field set (T))"))
    # joins within a sweep; breaks at the sign flip and the frequency change; the last point
    # joins nothing; DC current left empty (NaN) breaks nothing
    assert list(conn) == [True, False, True, False, True, False]
