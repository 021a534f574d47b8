"""Every registered procedure runs from `labspin run NAME --sim` with its defaults and its
results file is analyzed by `labspin analyze NAME FILE --json` (issues 5 and 6, "Done when")."""
import json

import pytest

from labspin.cli.main import main
from labspin.procedures import PROCEDURES


def test_procedures_lists_every_one(capsys):
    assert main(["procedures"]) == 0
    out = capsys.readouterr().out
    for name in PROCEDURES:
        assert name in out


@pytest.mark.parametrize("name", sorted(PROCEDURES))
def test_procedures_name_lists_every_parameter_with_its_range(name, capsys):
    from labspin.procedures import procedure_class
    assert main(["procedures", name]) == 0
    out = capsys.readouterr().out
    params = procedure_class(name)().parameter_objects()
    for key, p in params.items():
        line = next(row for row in out.splitlines() if row.strip().startswith(key + " "))
        if hasattr(p, "minimum"):
            assert f"[{p.minimum:g}, {p.maximum:g}]" in line


def test_procedures_unknown_name_is_refused_with_the_list(capsys):
    assert main(["procedures", "stmfr"]) == 2
    assert "stfmr" in capsys.readouterr().err


@pytest.mark.parametrize("name", sorted(PROCEDURES))
def test_defaults_run_and_analyze(name, tmp_path, capsys):
    assert main(["run", name, "--sim", "--out", str(tmp_path)]) == 0
    out = capsys.readouterr()
    assert "status: FINISHED" in out.err
    path = out.out.strip().splitlines()[-1]
    assert main(["analyze", name, path, "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    errors = {k: v for k, v in result.items() if k.endswith("_err")}
    assert errors, "an analysis reports one standard error per fitted value"
    for key, err in errors.items():
        assert key[:-4] in result, f"{key} without its value"
        values = err if isinstance(err, list) else [err]
        for v in values:
            assert v is None or (isinstance(v, (int, float)) and (v != v or v >= 0)), (key, v)


def test_sim_serve_offers_every_standard_wiring():
    from labspin.cli.main import SIM_WIRINGS
    from labspin.sim_backend.wirings import WIRINGS
    assert sorted(SIM_WIRINGS) == sorted(WIRINGS)
