"""Keithley 2182A nanovoltmeter (role ``voltmeter``)."""
from __future__ import annotations

from pymeasure.instruments.keithley import keithley2182 as _pm2182

from .keithley_common import reading


class Keithley2182A(_pm2182.Keithley2182):
    """Keithley 2182/2182A nanovoltmeter, role ``voltmeter``.

    pymeasure's driver, kept as is (NPLC: ``voltage_nplc``; ranges per channel:
    ``ch_1.voltage_range``, ``ch_1.voltage_range_auto_enabled``, …), plus the role member
    :meth:`measure_voltage`. Commands: Model 2182/2182A User's Manual, ``:READ?`` (one reading
    of the active channel and function; the *RST default is channel 1, DC volts) and
    ``:SENSe:VOLTage:NPLCycles``. pymeasure's default read termination (CR) is kept; pass
    ``read_termination=...`` to change it.
    """
    roles = ("voltmeter",)

    def __init__(self, adapter, name="Keithley 2182A Nanovoltmeter", **kwargs):
        super().__init__(adapter, name, **kwargs)

    def measure_voltage(self) -> float:
        """Measure the voltage (V) once on the active channel (NaN on overflow); the active
        channel must be set to DC volts (``channel_function = 'voltage'``, the *RST default)."""
        return reading(self.values(":READ?")[0])
