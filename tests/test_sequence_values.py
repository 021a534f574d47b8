"""Sequence files are data (issue 13 item 8): pymeasure's sequencer expressions are parsed
against a whitelist (numbers, lists, arange/linspace/logspace/range with literal arguments),
never evaluated; the sandbox escape pymeasure's ``eval`` lets through is refused by
``labspin sequence --check`` and by a run, before any bench is opened."""
import numpy as np
import pytest
from pymeasure.experiment.sequencer import SequenceHandler

from labspin.bench.session import Bench
from labspin.cli.main import main
from labspin.run.sequence_values import MAX_POINTS, SequenceValueError, sequence_values

ESCAPE = "().__class__.__base__.__subclasses__()"


def _file(tmp_path, sequencer: str):
    path = tmp_path / "seq.toml"
    path.write_text(f'procedure = "tmr-statistics"\nseed = 4\nsequencer = """\n{sequencer}"""'
                    '\n\n[params]\nreads = 100\n', encoding="utf-8")
    return path


@pytest.mark.parametrize("text, expected", [
    ("[-1, 1]", [-1, 1]),
    ("(5e-6, 1e-5, -2.5e-3)", [5e-6, 1e-5, -2.5e-3]),
    ("3", [3]),
    ("-1e-3 * 2", [-2e-3]),
    ("linspace(5e-6, 1e-5, 2)", np.linspace(5e-6, 1e-5, 2)),
    ("linspace(0, 1, num=5, endpoint=False)", np.linspace(0, 1, 5, endpoint=False)),
    ("arange(-1e-3, 1e-3, 5e-4)", np.arange(-1e-3, 1e-3, 5e-4)),
    ("logspace(-6, -3, 4)", np.logspace(-6, -3, 4)),
    ("range(2, 8, 3)", [2, 5]),
])
def test_whitelisted_expressions_give_numpys_values(text, expected):
    assert np.array_equal(sequence_values(text), np.asarray(expected, dtype=float))


@pytest.mark.parametrize("text, says", [
    (ESCAPE, "is not allowed"),
    ("[c for c in ().__class__.__base__.__subclasses__()]", "is not a number"),
    ("__import__('os').system('true')", "is not allowed"),
    ("linspace(0, 1, 3).__class__", "is not a number"),
    ("np.linspace(0, 1, 3)", "np.linspace() is not allowed"),
    ("sin(1)", "sin() is not allowed"),
    ("[pi]", "'pi' is not a number"),
    ("'abc'", "is not a number"),
    ("10 ** 10 ** 10", "is not a number"),
    ("lambda: 0", "is not a number"),
    ("linspace(0, 1, **{'num': 3})", "** arguments"),
    ("arange(0, 1, 1e-12)", f"at most {MAX_POINTS}"),
    ("linspace(0, 1, 10**7)", "is not a number"),
    ("linspace(0, 1, 10000000)", f"at most {MAX_POINTS}"),
    ("arange(0, 1, 0)", "step must not be 0"),
    ("[1, 2", "not an expression"),
    ("[]", "gives no values"),
    ("1 / 0", "division by zero"),
])
def test_anything_else_is_refused_naming_the_expression(text, says):
    with pytest.raises(SequenceValueError) as err:
        sequence_values(text)
    assert says in str(err.value) and repr(text) in str(err.value)


def test_pymeasures_own_eval_lets_the_escape_through():
    """Why the whitelist exists: with __builtins__ removed, eval still reaches every class."""
    count = SequenceHandler.eval_string(f"[{ESCAPE}.__len__()]", log_enabled=False)
    assert count[0] == len(object.__subclasses__())             # every class is reachable
    with pytest.raises(SequenceValueError):
        sequence_values(f"[{ESCAPE}.__len__()]")


@pytest.mark.parametrize("check", [True, False])
def test_the_escape_in_a_sequence_file_is_refused_before_any_touch(check, tmp_path, capsys,
                                                                   monkeypatch):
    opened = []
    monkeypatch.setattr(Bench, "open", lambda self: opened.append(self) or self)
    path = _file(tmp_path, f'- "Bias current", "{ESCAPE}"\n')
    out = tmp_path / "out"
    assert main(["sequence", str(path), "--out", str(out)] + ["--check"] * check) == 2
    err = capsys.readouterr().err
    assert "sequencer" in err and "Bias current" in err and "__subclasses__() is not allowed" in err
    assert opened == [] and not out.exists()


def test_a_whitelisted_sequencer_file_still_checks(tmp_path, capsys):
    path = _file(tmp_path, '- "Gate voltages (V)", "[-1, 1]"\n'
                           '-- "Bias current", "linspace(5e-6, 1e-5, 3)"\n')
    assert main(["sequence", str(path), "--check"]) == 0
    assert "6 runs, 0 finished earlier, 6 to run" in capsys.readouterr().err
