"""`labspin run P --help` lists P's parameters; mistyped names get a did-you-mean; a
non-integer --param is refused naming the parameter and its range — all before any bench."""
import pytest

from labspin.cli.main import main


def test_run_procedure_help_lists_parameters_with_units_and_ranges(capsys):
    assert main(["run", "field-sweep", "--help"]) == 0
    out = capsys.readouterr().out
    assert "--param NAME=VALUE" in out
    assert "max_field              Max field = 0.2 T   ([0.0001, 10] T)" in out
    assert "probe                  Probe = voltmeter   (one of source meter, voltmeter)" in out


@pytest.mark.parametrize("argv, said", [
    (["run", "field-swep", "--help"], "did you mean 'field-sweep'?"),
    (["run", "field-swep"], "did you mean 'field-sweep'?"),
    (["run", "field-sweep", "--param", "max_fild=0.1"], "did you mean 'max_field'?"),
    (["run", "field-sweep", "--param", "averages=abc"],
     "averages=abc: not an integer"),
    (["run", "field-sweep", "--param", "current=-5"], "current=-5: out of range; allowed [-1, 1] A"),
])
def test_user_errors_exit_2_with_the_truth(argv, said, capsys, tmp_path):
    assert main(argv + ["--out", str(tmp_path)] if "--help" not in argv else argv) == 2
    assert said in capsys.readouterr().err
    assert not list(tmp_path.iterdir())                  # refused before any results file
