"""Parameter presets (issue 15, item 6): a window's parameters and bench choice saved as a
TOML file in the sequence file's format and loaded back exactly; the same file is a
one-run sequence for ``labspin sequence``; a preset of another procedure, a grid or a value
out of range is refused with a message and changes nothing."""
import tomllib

import pytest

from labspin.gui.presets import toml_value
from labspin.run.sequence import load_sequence


def test_toml_values_read_back_as_written():
    values = {"a": 0.123456789, "b": -3e-3, "c": 7, "d": True, "e": "source meter",
              "f": 'quote " and \\ backslash', "g": [6, 9.5], "h": float("inf"), "i": 1e-300}
    text = "\n".join(f"{k} = {toml_value(v)}" for k, v in values.items())
    assert tomllib.loads(text) == values


def test_save_then_load_restores_every_parameter_and_the_bench(qtbot, window, tmp_path):
    win = window("field-sweep")
    win.inputs.max_field.setText("123.456789 mT")
    win.inputs.current.setText("-0.01 mA")
    win.inputs.probe.setValue("voltmeter")
    win.inputs.averages.setText("7")
    win.bench_choice.set_values(None, "inplane_sot_hallbar", ["dr_ahe_ohm=-1.7"], 11)
    path = win.save_preset(str(tmp_path / "p.toml"))
    saved = win.make_procedure().parameter_objects()
    data = tomllib.loads(open(path, encoding="utf-8").read())
    assert data["procedure"] == "field-sweep" and data["seed"] == 11
    assert data["sample"] == "inplane_sot_hallbar" and data["set"] == ["dr_ahe_ohm=-1.7"]
    assert data["params"]["max_field"] == pytest.approx(0.123456789, rel=1e-15)
    assert data["params"]["current"] == pytest.approx(-1e-5, rel=1e-15)
    # the same file is a sequence of one run with these parameters
    seq = load_sequence(path)
    assert len(seq.runs()) == 1 and float(seq.runs()[0]["params"]["current"]) == -1e-5

    other = window("field-sweep")
    assert other.load_preset(path)
    loaded = other.make_procedure().parameter_objects()
    assert {k: p.value for k, p in loaded.items()} == {k: p.value for k, p in saved.items()}
    assert other.bench_choice.values() == {"bench": None, "sample": "inplane_sot_hallbar",
                                           "set": ("dr_ahe_ohm=-1.7",), "seed": 11}


def test_refused_presets_change_nothing(qtbot, window, tmp_path):
    win = window("field-sweep")
    before = {k: p.value for k, p in win.make_procedure().parameter_objects().items()}
    cases = {
        "other.toml": ('procedure = "stfmr"\n', "a preset of stfmr, not of field-sweep"),
        "grid.toml": ('procedure = "field-sweep"\n[grid]\ncurrent = [1e-3, 2e-3]\n',
                      "a sequence of 2 runs"),
        "range.toml": ('procedure = "field-sweep"\n[params]\nmax_field = 50\n',
                       "max_field=50: out of range; allowed [0.0001, 10] T"),
        "unit.toml": ('procedure = "field-sweep"\n[params]\ncurrent = "3 mT"\n', "current=3 mT"),
    }
    for name, (text, message) in cases.items():
        (tmp_path / name).write_text(text, encoding="utf-8")
        assert not win.load_preset(str(tmp_path / name))
        assert message in win.refusal.text() and "preset not loaded" in win.refusal.text()
        assert win.refusal_box.windowTitle() == "Preset not loaded"
        now = {k: p.value for k, p in win.make_procedure().parameter_objects().items()}
        assert now == before


def test_a_field_that_does_not_read_is_not_saved(qtbot, window, tmp_path):
    win = window("field-sweep")
    win.inputs.current.setText("0.01 mT")
    assert win.save_preset(str(tmp_path / "p.toml")) is None
    assert not (tmp_path / "p.toml").exists()
    assert "preset not saved" in win.refusal.text() and "Current" in win.refusal.text()
