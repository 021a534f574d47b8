"""`labspin analyze P --help` (issue 14 item 7): each analysis's columns, header keys and
options, from the declarations beside it (NEEDS, OPTIONS), and the same declarations
refusing a table that lacks a required column before the analysis runs."""
import pytest

from labspin.cli.main import main
from labspin.procedures import PROCEDURES, analysis_declarations, procedure_class


@pytest.mark.parametrize("name", list(PROCEDURES))
def test_every_declared_column_is_one_the_procedure_writes(name):
    """The declarations are the procedure's own columns: each declared column (other than
    a few kept for other programs' files) is in the procedure's DATA_COLUMNS."""
    needs, _ = analysis_declarations(name)
    assert needs is not None, f"{name}: no NEEDS beside its analysis"
    written = set(procedure_class(name).DATA_COLUMNS)
    required = [c.name for c in needs.columns if c.required]
    assert required and set(required) <= written, set(required) - written
    assert {c.name for c in needs.columns} - written <= {"Probe"}


def test_help_lists_columns_alternatives_header_keys_and_options(capsys):
    assert main(["analyze", "stfmr", "--help"]) == 0
    out = capsys.readouterr().out
    needs, options = analysis_declarations("stfmr")
    assert "--constant" in out and "--reshape" in out          # the general options first
    body = out.split("labspin analyze stfmr:")[1]
    need, rest = body.split("optional columns:")
    assert "Frequency (Hz)" in need and "(or Frequency (GHz))" in need
    assert "Field (Oe)" in need
    opt, rest = rest.split("header keys it reads")
    assert "DC current (A)" in opt and "Vmix (V)" not in opt
    assert "Film mu0Ms" in rest
    for o in options:
        assert f"  {o.name} " in rest
    assert main(["analyze", "harmonic-hall", "--help"]) == 0
    hh = capsys.readouterr().out.split("labspin analyze harmonic-hall:")[1]
    assert "V2w (V)" in hh and "current_amplitude_A" in hh and "AHE amplitude" in hh
    assert hh != body


def test_unknown_procedure_help_suggests(capsys):
    assert main(["analyze", "stfrm", "--help"]) == 2
    assert "did you mean 'stfmr'?" in capsys.readouterr().err


def test_a_missing_required_column_is_named_before_the_analysis(tmp_path, capsys):
    f = tmp_path / "v.txt"
    f.write_text("Vmix\tField\n" + "".join(f"{k}e-6\t{k * 10}\n" for k in range(10)))
    assert main(["analyze", "stfmr", str(f), "--column", "Vmix (V)=Vmix",
                 "--column", "Field (mT)=Field"]) == 2
    err = capsys.readouterr().err
    assert "stfmr needs the column(s) Frequency (Hz); have Vmix (V), Field (mT)" in err
    assert "--constant" in err
