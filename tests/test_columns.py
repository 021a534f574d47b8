"""Foreign results files: column renames and unit conversion for `labspin analyze`."""
import json

import numpy as np
import pandas as pd
import pytest

from labspin.cli.main import main
from labspin.procedures.field_sweep import loop_fields
from labspin.results.reader import read_table


def _foreign_loop(path, sep="\t"):
    """A lab's own R–H loop: field in Oe, Hall resistance as 'Rxy', tab separated."""
    b, branch = loop_fields(0.1, 0.002)
    mz = np.where(branch > 0, np.where(b > 0.05, 1.0, -1.0), np.where(b < -0.05, -1.0, 1.0))
    mz[:26] = 1.0                                   # the first branch starts saturated +
    df = pd.DataFrame({"H": b / 1e-4, "dir": branch, "Rxy": 2.5 * mz})
    df.to_csv(path, sep=sep, index=False)


def test_read_table_renames_and_converts(tmp_path):
    f = tmp_path / "loop.txt"
    _foreign_loop(f)
    df = read_table(f, ["Field (T)=H", "Branch=dir", "Resistance (ohm)=Rxy"], ["Field (T)=Oe"])
    assert df["Field (T)"].abs().max() == pytest.approx(0.1)
    with pytest.raises(ValueError, match="OLD one of H, dir, Rxy"):
        read_table(f, ["Field (T)=B"])
    with pytest.raises(ValueError, match="unknown unit 'gauss'"):
        read_table(f, ["Field (T)=H"], ["Field (T)=gauss"])


def test_analyze_a_foreign_loop_from_the_command_line(tmp_path, capsys):
    f = tmp_path / "loop.txt"
    _foreign_loop(f)
    rc = main(["analyze", "field-sweep", str(f), "--json", "--column", "Field (T)=H",
               "--column", "Branch=dir", "--column", "Resistance (ohm)=Rxy",
               "--unit", "Field (T)=Oe"])
    assert rc == 0
    res = json.loads(capsys.readouterr().out)
    assert res["dr_ahe_ohm"] == pytest.approx(2.5)
    assert res["mu0_hc_T"] == pytest.approx(0.05, abs=0.002)
    assert main(["analyze", "field-sweep", str(f)]) == 2      # unmapped columns: named error
    assert "field-sweep needs the column(s) Field (T), Resistance (ohm); have H, dir, Rxy" \
        in capsys.readouterr().err


def test_every_caller_of_the_reader_gets_its_checks(tmp_path):
    """The unit check of a rename and the analysis's missing columns live in the reader's
    path (read_table, run.analysis.read_files), so the GUI's Analysis tab and the API get
    the same refusals as `labspin analyze`."""
    from labspin.run.analysis import MissingColumns, read_files
    f = tmp_path / "loop.txt"
    _foreign_loop(f)
    g = tmp_path / "loop_oe.txt"
    pd.read_csv(f, sep="\t").rename(columns={"H": "H (Oe)"}).to_csv(g, sep="\t", index=False)
    with pytest.raises(ValueError, match=r"'H \(Oe\)' is in Oe, 'Field \(T\)' in T; add "
                                         r"--unit \"Field \(T\)=Oe\""):
        read_table(g, ["Field (T)=H (Oe)"])
    assert read_table(g, ["Field (T)=H (Oe)"], ["Field (T)=Oe"])["Field (T)"].abs().max() \
        == pytest.approx(0.1)
    with pytest.raises(MissingColumns, match=r"field-sweep needs the column\(s\) Field \(T\), "
                                             r"Resistance \(ohm\); have H, dir, Rxy"):
        read_files([f], procedure="field-sweep")
    data = read_files([f], ["Field (T)=H", "Resistance (ohm)=Rxy"], ["Field (T)=Oe"],
                      procedure="field-sweep")
    assert data["Field (T)"].abs().max() == pytest.approx(0.1)
