"""Number fields read what a person types, through the parser --param uses, or refuse
visibly and keep the run from being queued (issue 15 item 2). Typed with real key clicks."""
import pytest
from pymeasure.display.Qt import QtCore

from labspin.bench.session import Bench
from labspin.gui.quantity_input import QuantityInput


def _type(qtbot, field, text):
    field.clear()
    qtbot.keyClicks(field, text)


@pytest.mark.parametrize("name, text, value", [
    ("current", "0.01 mA", 1e-5),          # the case: was stored as 0.01 A (10 mA)
    ("current", "-5e-4", -5e-4),           # the minus sign kept
    ("max_field", "30 mT", 0.03),
    ("max_field", "300 Oe", 0.03),
    ("frequency", "1.33 kHz", 1330.0)])
def test_typed_quantities_reach_the_procedure_as_meant(qtbot, window, name, text, value):
    win = window("field-sweep")
    field = getattr(win.inputs, name)
    assert isinstance(field, QuantityInput)
    _type(qtbot, field, text)
    assert field.error == "" and field.styleSheet() == ""
    assert getattr(win.make_procedure(), name) == pytest.approx(value, rel=1e-12)


@pytest.mark.parametrize("name, text, says", [
    ("current", "-0.001 T", "cannot convert 'T'"),
    ("current", "5", "out of range"),         # 5 A against [-1, 1] A: refused, not reverted
    ("current", "1 mA x", "unknown unit"),
    ("max_field", "abc", "not a number")])
def test_what_reads_as_no_value_is_marked_and_never_queued(qtbot, window, monkeypatch,
                                                          name, text, says):
    opened = []
    monkeypatch.setattr(Bench, "open", lambda self: opened.append(self) or self)
    win = window("field-sweep")
    field = getattr(win.inputs, name)
    _type(qtbot, field, text)
    assert says in field.error and field.styleSheet() != ""
    assert field.toolTip() == field.error
    label = field._parameter.name
    assert f"parameter {label}=" in field.error and "allowed" in field.error
    qtbot.mouseClick(win.queue_button, QtCore.Qt.MouseButton.LeftButton)
    assert opened == [] and len(win.manager.experiments.queue) == 0
    assert field.error in win.refusal.text()


def test_integer_fields_refuse_fractions_and_show_values_with_units(qtbot, window):
    win = window("field-sweep")
    assert win.inputs.current.text() == "0.001 A"
    integers = [getattr(win.inputs, n) for n in win.inputs._inputs
                if type(getattr(win.inputs, n)._parameter).__name__ == "IntegerParameter"]
    if not integers:
        pytest.skip("field-sweep has no integer parameter")
    field = integers[0]
    _type(qtbot, field, "2.5")
    assert "not an integer" in field.error
