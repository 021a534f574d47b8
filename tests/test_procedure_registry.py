"""One procedure registry (issue 12 item 5): every entry's references load and agree with
the procedure they name, and a new entry reaches the command line, the analysis, the figure
and the GUI views with no other file touched."""
from __future__ import annotations

import inspect

import pytest

from labspin.cli.main import main
from labspin.gui.views import views_for
from labspin.procedures import PROCEDURES, analysis_function, procedure_class
from labspin.procedures.registry import REGISTRY, Entry
from labspin.procedures.views import View


@pytest.mark.parametrize("name", sorted(REGISTRY))
def test_entry_loads_and_matches_its_procedure(name):
    entry = REGISTRY[name]
    cls = entry.load("procedure")
    assert cls.NAME == name and cls.DESCRIPTION
    assert list(inspect.signature(entry.load("analysis")).parameters)[0] == "df"
    assert list(inspect.signature(entry.load("plot")).parameters)[:2] == ["df", "result"]
    for view in entry.views:
        missing = set(view.columns()) - set(cls.DATA_COLUMNS)
        assert not missing, f"{name}: view {view.title!r} reads no data column {missing}"
    assert entry.small and all(hasattr(cls, k) for k in entry.small)
    assert all(hasattr(cls, k) for k in entry.quick)
    assert entry.headline          # test_plots finds it on the figure of the quick run


def test_procedures_is_the_registry():
    assert PROCEDURES is REGISTRY
    assert procedure_class("stfmr") is REGISTRY["stfmr"].load("procedure")
    assert analysis_function("stfmr") is REGISTRY["stfmr"].load("analysis")


def test_one_new_entry_reaches_cli_analysis_figure_and_gui(monkeypatch, capsys):
    view = View("Voltage vs field", "Field (T)", "Voltage (V)")
    monkeypatch.setitem(REGISTRY, "loop-copy", Entry(
        "field_sweep:FieldSweep", "field_sweep_analysis:analyze_loop", "plots:field_sweep",
        views=(view,), small={"max_field": 0.03}))
    assert main(["procedures"]) == 0
    assert "loop-copy" in capsys.readouterr().out
    assert analysis_function("loop-copy") is REGISTRY["field-sweep"].load("analysis")
    assert views_for("loop-copy", ["Field (T)", "Voltage (V)"]) == (view,)


def test_an_entry_without_views_plots_its_first_columns(monkeypatch):
    monkeypatch.setitem(REGISTRY, "no-views", Entry(
        "field_sweep:FieldSweep", "field_sweep_analysis:analyze_loop", "plots:field_sweep"))
    views = views_for("no-views", ["A (V)", "B (V)", "C (V)", "D (V)"])
    assert [(v.x, v.y) for v in views] == [("A (V)", "B (V)"), ("A (V)", "C (V)")]
