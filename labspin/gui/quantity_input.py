"""A number field that reads what a person types — sign, exponent, SI prefix and a unit of the
parameter's dimension ("0.01 mA", "-3 mT", "2.5e-6", "6 GHz") — through the one parser that
``--param`` and sequence files use (:func:`labspin.run.values.parse_parameter`), or refuses
visibly: the field is marked and its tooltip names the parameter, its unit and its range.

pymeasure's spin boxes drop a minus sign, swallow letters, read "0.01 mA" for a parameter in A
as 0.01 A and revert an out-of-range value without a word (issue 15); this field never changes
what was typed.
"""
from __future__ import annotations

from pymeasure.display.inputs import Input
from pymeasure.display.Qt import QtWidgets
from pymeasure.experiment import FloatParameter, IntegerParameter

from labspin.run.values import describe_allowed, parse_parameter

INVALID_STYLE = "QLineEdit { border: 2px solid #b00020; }"


class QuantityInput(Input, QtWidgets.QLineEdit):
    """Control a Float/IntegerParameter as text: the value shown with its unit, read on every
    edit; ``error`` is the refusal message of the text as it stands ("" when it reads)."""

    def __init__(self, parameter, parent=None, **kwargs):
        self.error = ""
        super().__init__(parameter=parameter, parent=parent, **kwargs)
        self.textChanged.connect(self._check)

    def set_parameter(self, parameter):
        super().set_parameter(parameter)
        if not parameter.is_set() and parameter.default is not None:
            self.setValue(parameter.default)
        self._help = (f"{parameter.name}: allowed {describe_allowed(parameter)}; type a number "
                      "with an SI prefix and unit if you like (e.g. 0.5 mA, -3 mT, 6 GHz)")
        self._check()

    def setValue(self, value):
        unit = getattr(self._parameter, "units", None) or ""
        if isinstance(self._parameter, IntegerParameter):
            text = f"{int(value)}"
        else:           # short when exact ("0.5"), else every digit (a preset's 0.123456789)
            text = f"{value:g}" if float(f"{value:g}") == value else repr(float(value))
        self.setText(f"{text} {unit}".strip())

    def setSuffix(self, value):
        """The unit is part of the text (pymeasure's Input calls this)."""

    def value(self):
        """Get the typed value in the parameter's unit; ValueError naming the parameter."""
        return parse_parameter(self._parameter, self.text(), name=self._parameter.name)

    def _check(self, *_):
        try:
            self.value()
            self.error = ""
        except ValueError as exc:
            self.error = str(exc)
        self.setStyleSheet(INVALID_STYLE if self.error else "")
        self.setToolTip(self.error or self._help)


def use_quantity_inputs(procedure_class) -> None:
    """Let every Float/IntegerParameter of ``procedure_class`` without a ui_class of its own be
    shown as a :class:`QuantityInput` (pymeasure's InputsWidget honours ``ui_class``)."""
    for name in dir(procedure_class):
        parameter = getattr(procedure_class, name, None)
        if isinstance(parameter, (FloatParameter, IntegerParameter)) and \
                parameter.ui_class is None:
            parameter.ui_class = QuantityInput
