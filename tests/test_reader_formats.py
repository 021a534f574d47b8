"""Other labs' files (issue 14 items 1 and 8): formats detected or chosen, headerless tables,
decimal commas, preamble lines kept as the file's constants, a named error for text where a
number is converted, empty and header-only files skipped with a warning. Real files from
../shared/realdata where they exist; small synthetic files of the same shape otherwise."""
import json

import numpy as np
import pytest

from labspin.cli.main import main
from labspin.results.formats import detect_separator, split_table
from labspin.results.reader import EmptyFileError, read_table

LVM_SIMPLE = ("Date: 2024/03/05\n12:41:07 PM\nFrequency(GHz):1.000000E+1\nPower(dBm):10.0\n"
              "Operator: student\n\n")


def _lines(n=12):
    """(field in Oe, V_mix in V) rows of a spin-diode sweep, written as LabVIEW does."""
    field = np.linspace(1000.0, 1400.0, n)
    v = 1e-6 * 20.0 ** 2 / ((field - 1218.21) ** 2 + 20.0 ** 2)
    return field, v


def test_simple_lvm_with_headerless_data(tmp_path):
    """The issue's .lvm: 5 header lines (a date line among them), a blank, headerless
    `field(Oe) V_mix(V)` rows: the date line is not taken for the header, the first data row
    is data, the key:value lines are the file's constants (GHz converted onto Hz)."""
    field, v = _lines()
    f = tmp_path / "sweep.lvm"
    f.write_text(LVM_SIMPLE + "".join(f"{a:.2f}\t{b:.10g}\n" for a, b in zip(field, v)))
    df = read_table(f, names="Field (Oe),Vmix (V)",
                    targets=["Field (T)", "Frequency (Hz)", "Vmix (V)", "Power (dBm)"])
    assert df.attrs["format"] == "lvm"
    assert len(df) == len(field)
    assert df["Field (T)"].to_numpy() == pytest.approx(field * 1e-4, abs=5e-7)  # 0.005 Oe
    assert df["Vmix (V)"].to_numpy() == pytest.approx(v, rel=1e-9)
    assert set(df["Frequency (Hz)"]) == {1e10}
    assert set(df["Power (dBm)"]) == {10.0}
    assert df.attrs["constants"]["Operator"] == "student"
    unnamed = read_table(f)                          # no names: numbered, never a data row
    assert list(unnamed.columns[:2]) == ["column 1", "column 2"]
    assert len(unnamed) == len(field)
    named = tmp_path / "named.lvm"                   # the block's last line names the columns
    named.write_text(LVM_SIMPLE.replace("Operator: student\n", "field(Oe)\tV_mix(V)\n")
                     + "".join(f"{a:.2f}\t{b:.10g}\n" for a, b in zip(field, v)))
    df = read_table(named, targets=["Field (T)"])
    assert list(df.columns[:2]) == ["field(Oe)", "V_mix(V)"] and len(df) == len(field)
    assert df["Field (T)"].to_numpy() == pytest.approx(field * 1e-4, abs=5e-7)


def test_official_lvm_with_decimal_comma(tmp_path):
    """LabVIEW's own layout: header blocks ended by ***End_of_Header***, tab-separated
    key/value lines (Decimal_Separator ','), the channel names row after the last block."""
    field, v = _lines()
    head = ("LabVIEW Measurement\t\nWriter_Version\t2\nSeparator\tTab\nDecimal_Separator\t,\n"
            "Date\t2024/03/05\n***End_of_Header***\t\n\nChannels\t2\nSamples\t12\t12\n"
            "***End_of_Header***\t\nX_Value\tField (Oe)\tVmix (V)\tComment\n")
    rows = "".join(f"{k}\t{a:.2f}\t{b:.6e}\t\n".replace(".", ",")
                   for k, (a, b) in enumerate(zip(field, v)))
    f = tmp_path / "run.lvm"
    f.write_text(head + rows)
    df = read_table(f)
    assert df.attrs["format"] == "lvm"
    assert df["Field (Oe)"].to_numpy() == pytest.approx(field, abs=0.005)
    assert df["Vmix (V)"].to_numpy() == pytest.approx(v, rel=1e-6)
    assert df.attrs["constants"]["Decimal_Separator"] == ","


def test_semicolon_file_with_decimal_commas_and_text(tmp_path):
    """`;` separated, decimal commas (`-7261,48`): read as numbers, not text; --unit on a
    column with text in it names the column, the row and the line (never silent NaN)."""
    f = tmp_path / "loop.csv"
    f.write_text("H (Oe);R (ohm)\n-7261,484099;12,5\n-7000,0;12,6\n" +
                 "".join(f"{x},5;12,{k}\n" for k, x in enumerate(range(-6000, 0, 1000))))
    assert detect_separator(f.read_text().splitlines()) == ";"
    df = read_table(f, units=["H (Oe)=Oe"])
    assert df["H (Oe)"].iloc[0] == pytest.approx(-7261.484099)
    assert df["R (ohm)"].iloc[1] == pytest.approx(12.6)
    f.write_text(f.read_text() + "overload;12,9\n")
    with pytest.raises(ValueError, match=r"column 'Field \(T\)' of loop.csv: row 9, line 10 "
                                         r"is 'overload', not a number"):
        read_table(f, ["Field (T)=H (Oe)"], ["Field (T)=Oe"])
    with pytest.raises(ValueError, match=r"column 'H \(Oe\)' of loop.csv: row 9, line 10"):
        read_table(f, targets=["H (Oe)", "R (ohm)"])      # a column the analysis reads
    assert read_table(f)["H (Oe)"].iloc[8] == "overload"  # a column no one reads stays text


def test_skip_rows_and_names_for_a_cut_header(tmp_path):
    """With the header cut by --skip-rows the first data row stays data."""
    f = tmp_path / "cut.txt"
    f.write_text("instrument dump v2\nfield(Oe) V_mix(V)\n1218.21 0.0000000199562\n" +
                 "".join(f"{1220 + k} {k}e-8\n" for k in range(8)))
    df = read_table(f, skip_rows=2, names=["Field (Oe)", "Vmix (V)"])  # a list, or "A,B"
    assert len(df) == 9 and df["Field (Oe)"].iloc[0] == pytest.approx(1218.21)
    with pytest.raises(ValueError, match="--names: 3 names for 2 columns"):
        read_table(f, skip_rows=2, names="A,B,C")


def test_units_and_description_rows_below_the_names(tmp_path):
    f = tmp_path / "wide.csv"
    f.write_text("Angle,Field,Voltage\ndeg,mT,µV\nstage angle,applied,lock-in X\n" +
                 "".join(f"{k * 10},{50},{k}\n" for k in range(8)))
    df = read_table(f)
    assert list(df.columns) == ["Angle (deg)", "Field (mT)", "Voltage (µV)"]
    assert df.attrs["descriptions"]["Angle (deg)"] == "stage angle"


def test_another_programs_pymeasure_file(tmp_path):
    """An MTJ R–H loop written by another lab's pymeasure procedure: detected as pymeasure;
    its parameter lines are the file's constants; columns mapped with --column/--unit."""
    f = tmp_path / "mtj.csv"
    f.write_text("#Procedure: <__main__.RHLoop>\n#Parameters:\n#\tBias current: 10 µA\n"
                 "#\tFrequency: 8 GHz\n#Data:\nVoltage (V),Current (A),Resistance (ohm),"
                 "Field (Oe)\n" + "".join(f"{k * 1e-4},1e-05,{1000 + k},{k * 10}\n"
                                          for k in range(10)))
    df = read_table(f, ["Field (T)=Field (Oe)"], ["Field (T)=Oe"],
                    targets=["Field (T)", "Resistance (ohm)", "Frequency (Hz)"])
    assert split_table(f).format == "pymeasure"
    assert df["Field (T)"].iloc[-1] == pytest.approx(90 * 1e-4)
    assert df["Frequency (Hz)"].iloc[0] == 8e9
    with pytest.raises(ValueError, match="--format labspin: .* no '#Procedure:' line"):
        read_table(_plain(tmp_path), format="labspin")


def _plain(tmp_path):
    f = tmp_path / "plain.csv"
    f.write_text("a,b\n" + "".join(f"{k},{k}\n" for k in range(6)))
    return f


def test_empty_and_header_only_files_are_skipped_with_a_warning(tmp_path, capsys):
    from test_columns import _foreign_loop
    good = tmp_path / "loop.txt"
    _foreign_loop(good)
    empty, head = tmp_path / "empty.txt", tmp_path / "head.txt"
    empty.write_text("")
    head.write_text("H\tdir\tRxy\n")
    with pytest.raises(EmptyFileError, match="head.txt has a header but no data rows"):
        read_table(head)
    args = ["--json", "--column", "Field (T)=H", "--column", "Branch=dir",
            "--column", "Resistance (ohm)=Rxy", "--unit", "Field (T)=Oe"]
    assert main(["analyze", "field-sweep", str(empty), str(good), str(head), *args]) == 0
    out = capsys.readouterr()
    assert json.loads(out.out)["dr_ahe_ohm"] == pytest.approx(2.5)
    assert f"skipping {empty}: empty.txt is empty" in out.err
    assert f"skipping {head}: head.txt has a header but no data rows" in out.err
    assert "Traceback" not in out.err
    assert main(["analyze", "field-sweep", str(empty), *args]) == 2
    assert "no data in" in capsys.readouterr().err


# --- real files -------------------------------------------------------------------------
def test_real_magnet_calibration_names_from_its_comment_line(realdata):
    """OpenFMR's .xy: blank-separated, the only header a '#' line; ±1.50 T at ±30 A."""
    df = read_table(realdata / "openfmr_magnet_calibration" / "DXWD-80_20mm.xy")
    assert list(df.columns) == ["current (A)", "field (T)"]
    assert len(df) == 61
    assert df["field (T)"].iloc[0] == pytest.approx(-1.50117712)


def test_real_headerless_permalloy_map_with_names(realdata):
    """gofhilman's map: no header, a tab leading every line, 5 columns, 1801 × 40 rows."""
    df = read_table(realdata / "py_bbfmr_gofhilman" / "5_Py10nm28Kb.txt",
                    names="Magnet current (A),Field (Oe),Frequency (Hz),Signal,"
                          "Temperature (K)", targets=["Field (T)", "Frequency (Hz)"])
    assert len(df) == 1801 * 40
    assert df["Frequency (Hz)"].nunique() == 40
    assert df["Field (T)"].iloc[0] == pytest.approx(-0.1562)


def test_real_yig_file_constants_from_its_name(realdata):
    """Frohock's files: tab-separated with padded names and CRLF; frequency in the name
    (13.5G) agrees with the Freq(GHz) column, which the reader converts onto Frequency (Hz)."""
    from labspin.results.constants import file_name_constants
    for f in sorted((realdata / "yig_fmr_frohock").glob("test1_*")):
        df = read_table(f, targets=["Field (T)", "Frequency (Hz)"])
        assert list(df.columns[:3]) == ["Field(G)", "Xchannel", "Ychannel"]
        assert df["Frequency (Hz)"].to_numpy() == pytest.approx(df["Freq(GHz)"] * 1e9)
        assert file_name_constants(f)["frequency"] == pytest.approx(df["Frequency (Hz)"][0])
        assert df["Field (T)"].to_numpy() == pytest.approx(df["Field(G)"].to_numpy() * 1e-4)
