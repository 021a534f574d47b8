"""RF sources for ST-FMR (role ``rf_source``): microwave power with amplitude modulation, and
the LF output that carries the AM rate to the lock-in reference input.

Units at the boundary: frequency in Hz, power in dBm, AM depth in %, LF amplitude in V peak.
``power`` is checked against the limits before it is written, and switching the RF on first
checks the power already set (front panel) against them, then switches on at the safe level
and ramps up to it (never on at full power). ``shutdown()`` ramps the power down
in ``DEFAULT_SLEW`` steps (1 dB, 10 dB/s unless the bench says otherwise) to
``SHUTDOWN_POWER`` (never up), then switches the RF off.

A stuck or unlevelled output fails the run (issue 13 item 3): after the RF goes on and at the
end of every power ramp with the RF on, one message asks the set power, the output switch and
the source's own levelling status (:meth:`_RFSource.check_output`). None of the three models
measures the power it delivers, but each reports when it cannot deliver it:

* E8257D and N5183B: ``STATus:QUEStionable:POWer:CONDition?`` bit 1 "Unleveled" (the output
  leveling loop is unable to set the output power) and bit 0 "Reverse Power Protection
  Tripped" (no output), Keysight Signal Generators Programming Guide (PSG, and the CXG/EXG/MXG
  X-Series guide), "Data Questionable Power Status Group";
* SMB100A: ``OUTPut:PROTection:TRIPped?`` (1: the reverse power protection's relay has opened
  the RF output), R&S SMx "OUTPut Subsystem" (documented in the SMA100B manual; on the SMB100A
  itself, fsc2's ``rs_smb100a`` driver queries ``OUTP:PROT:TRIP?`` and resets with
  ``OUTP:PROT:CLE``, where the unit has the reverse power protection: all but the 12.75 GHz
  models without option SMB-B30, from ``*OPT?``; those check readbacks only). The SMB100A
  shows an unlevelled ALC only in its display's info line (operating manual 1407.0806.32,
  "Automatic Level Control - ALC"): there only the readbacks and the protection are checked.

Model power ranges (``SAFE_LIMITS``) are the settable ranges of the standard configuration
(no step attenuator, no high-power option); the bench's required ``max_rf_power_dBm``
narrows them, and is what protects the sample. A bench with a step attenuator subclasses
and widens the lower end.

* E8257D: −20 to +25 dBm. −20 dBm is the floor without option 1E1 (QCoDeS'
  ``AgilentE8257D``, from Keysight data sheet 5989-0698); the +25 dBm settable top was
  not confirmed from a manual here. Leveled power is lower and depends on the frequency
  option (QCoDeS keeps +10 dBm for options 513–540).
* N5183B (no 1E1): −20 to +19 dBm, as in QCoDeS' ``KeysightN5183B``.
* SMB100A: −145 to +30 dBm. +30 dBm is the top of the qtlab ``RS_SMB100A`` driver's
  range; neither end was confirmed from the data sheet (the manual defers to it). Leveled
  power is lower (the SMB service manual tests levels up to +18 dBm).
"""
from __future__ import annotations

import warnings

from pymeasure.instruments import Instrument, SCPIMixin
from pymeasure.instruments.agilent import Agilent8257D
from pymeasure.instruments.validators import strict_discrete_set, strict_range

from labspin.bench.safety import SlewLimit

from .base import OutputNotFollowingError, SafeSourceMixin

_ON_OFF = {True: 1, False: 0}


def _switch(get_command: str, set_command: str, docs: str):
    """An ON/OFF control written as 1/0 and read back from "1"/"0"."""
    return Instrument.control(get_command, set_command, docs, validator=strict_discrete_set,
                              values=_ON_OFF, map_values=True)


class _RFSource(SafeSourceMixin):
    """What every RF source adds: checked power, ramped shutdown, RF on only within limits.

    Subclasses give the command strings below and ``SAFE_LIMITS["power"]``.
    """
    roles = ("rf_source",)
    DEFAULT_SLEW = {"power": SlewLimit(max_step=1.0, max_rate=10.0)}   # dB, dB/s
    READBACK_RESOLUTION = {"power": 0.01}      # written as %.2f dBm
    SHUTDOWN_POWER = -20.0
    """Power (dBm) that ``shutdown()`` ramps down to before the RF goes off."""

    _POWER_GET = ""
    _POWER_SET = ""          # format with one float (dBm)
    _OUTPUT_GET = ""
    _OUTPUT_SET = ""         # format with 1 or 0
    _STATUS_GET = ""
    """The levelling status query; with the power and output queries it makes the one
    message :meth:`check_output` sends."""
    STATUS_BITS: dict[int, str] = {}
    """Bits of the ``_STATUS_GET`` answer that mean the set power does not leave the output."""

    @property
    def power(self) -> float:
        """Control the RF output power in dBm (float); checked against the limits first."""
        return float(self.ask(self._POWER_GET).strip())

    @power.setter
    def power(self, power_dBm: float) -> None:
        power_dBm = self.check_limit("power", power_dBm)
        self.note_setpoint("power", power_dBm)
        self._write_power(power_dBm)

    def _write_power(self, power_dBm: float) -> None:
        self.write(self._POWER_SET % power_dBm)

    @property
    def output_enabled(self) -> bool:
        """Control whether the RF output is on (bool). Switching on is refused if the set
        power lies outside the limits, and never happens at full power: the RF goes on at
        the safe level (``safe_level``) and is ramped up to the set power; then the output
        is checked (:meth:`check_output`)."""
        return bool(int(float(self.ask(self._OUTPUT_GET).strip())))

    @output_enabled.setter
    def output_enabled(self, enabled: bool) -> None:
        if not enabled:
            self.__dict__["_rf_on"] = False
            self.write(self._OUTPUT_SET % 0)
            return
        target = self.check_limit("power", self.power)      # set here or on the front panel
        floor = self.safe_level("power")
        if target > floor:
            self.note_setpoint("power", floor)
            self._write_power(floor)
        self.__dict__["_rf_on"] = True
        self.write(self._OUTPUT_SET % 1)
        # switching on is the output's first step: the ramp's first step waits its
        # |Δ|/max_rate from here, not from the floor written while the RF was still off
        self.note_step("power", min(target, floor))
        if target > floor:
            self.paced_ramp("power", floor, target, self._write_power)
        self.check_output(target)

    def ramp_to_power(self, power_dBm: float) -> None:
        """Ramp the power from the level last written (the readback before the first write)
        to ``power_dBm`` within the slew limits; with the RF on, then check that the output
        delivers it (:meth:`check_output`)."""
        self.ramp_from_last("power", power_dBm, lambda: self.power, self._write_power)
        if self.__dict__.get("_rf_on"):
            self.check_output()

    def check_output(self, expected_dBm: float | None = None) -> None:
        """Check, in one message, that the RF is on at the power last written (or
        ``expected_dBm``) and that the source levels it (``STATUS_BITS`` of its status
        query clear). Raise OutputNotFollowingError naming the source, the power set and
        what was read otherwise: the data would be taken with RF that is not there."""
        expected = self.last_setpoint("power") if expected_dBm is None else expected_dBm
        status_query = self._status_query()
        # later units rooted (":"), or SCPI would look for them under the first one's path
        query = ";".join([self._POWER_GET] + [":" + q.lstrip(":") for q in
                                              (self._OUTPUT_GET, status_query) if q])
        replies = self.ask(query).strip().split(";")
        want = 3 if status_query else 2
        if len(replies) != want:
            raise OutputNotFollowingError(f"{self.name} (rf_source): {query!r} answered "
                                          f"{';'.join(replies)!r}, not {want} values")
        power, on = float(replies[0]), bool(int(float(replies[1])))
        status = int(float(replies[2])) if status_query else 0
        problems = [f"{self._STATUS_GET} bit {bit} ({meaning})"
                    for bit, meaning in self.STATUS_BITS.items() if status & (1 << bit)]
        if not on:
            problems.append(f"{self._OUTPUT_GET} reads 0 after the RF was switched on")
        tolerance = self.READBACK_RESOLUTION["power"] * (1 + 1e-6)
        if expected is not None and abs(power - expected) > tolerance:
            problems.append(f"{self._POWER_GET} reads {power:g} dBm")
        if not problems:
            return
        set_ = f"{expected:g} dBm set" if expected is not None else "the power set"
        raise OutputNotFollowingError(
            f"{self.name} (rf_source): {'; '.join(problems)}, with {set_} and the RF on "
            f"(read: power {power:g} dBm, output {int(on)}, status {status}): the output "
            "does not deliver its setpoint (stuck or unlevelled output?)")

    def _status_query(self) -> str:
        """Get the levelling status query this unit answers ("" if it has none)."""
        return self._STATUS_GET

    def safe_level(self, name: str) -> float:
        """Get the power (dBm) the RF is ramped down to before it goes off: SHUTDOWN_POWER,
        or the configured lower limit if that is higher."""
        return max(self.SHUTDOWN_POWER, self.limits_of("power")[0])

    def shutdown(self) -> None:
        """Ramp the power down from the level last written to ``SHUTDOWN_POWER`` (or the
        configured lower limit, never up), then switch the RF off, even if the ramp failed
        (its error is re-raised)."""
        try:
            start = self.ramp_start("power", lambda: self.power)
            floor = self.safe_level("power")
            if start > floor:
                self.ramp_output("power", start, floor, self._write_power)
        finally:
            self.__dict__["_rf_on"] = False
            self.write(self._OUTPUT_SET % 0)
            Instrument.shutdown(self)


class _KeysightAnalogSource(_RFSource):
    """The PSG/MXG SCPI shared by the E8257D and the N5183B ([:SOURce] subsystem, Keysight
    "SCPI Command Reference" of each: FREQuency, POWer, AM, LFOutput, OUTPut).

    Notes: AM acts only while the modulation master switch ``modulation_enabled``
    (``:OUTPut:MODulation``) is on. The LF output carries the internal AM waveform when its
    source is ``INT`` (see :meth:`configure_am_reference`).
    """
    _POWER_GET = ":SOUR:POW?"
    _POWER_SET = ":SOUR:POW %.2f DBM"
    _OUTPUT_GET = ":OUTP?"
    _OUTPUT_SET = ":OUTP %d"
    _STATUS_GET = ":STAT:QUES:POW:COND?"
    STATUS_BITS = {0: "reverse power protection tripped", 1: "unleveled"}

    frequency = Instrument.control(
        ":SOUR:FREQ?", ":SOUR:FREQ %.3f",
        """Control the CW frequency in Hz (float).""",
        validator=strict_range, values=(100e3, 70e9), dynamic=True)

    am_enabled = _switch(":SOUR:AM:STAT?", ":SOUR:AM:STAT %d",
                         """Control whether amplitude modulation is on (bool).""")

    am_depth = Instrument.control(
        ":SOUR:AM:DEPT?", ":SOUR:AM:DEPT %g",
        """Control the linear AM depth in % (float, 0 to 100).""",
        validator=strict_range, values=(0, 100))

    am_frequency = Instrument.control(
        ":SOUR:AM:INT:FREQ?", ":SOUR:AM:INT:FREQ %g",
        """Control the internal AM rate in Hz (float, 0.5 Hz to 1 MHz).""",
        validator=strict_range, values=(0.5, 1e6))

    am_source = Instrument.setting(
        ":SOUR:AM:SOUR %s",
        """Set the AM source (str: 'internal' or 'external').""",
        validator=strict_discrete_set, values={"internal": "INT", "external": "EXT"},
        map_values=True)

    modulation_enabled = _switch(":OUTP:MOD?", ":OUTP:MOD %d",
                                 """Control the modulation master switch (bool).""")

    lf_output_enabled = _switch(":SOUR:LFO:STAT?", ":SOUR:LFO:STAT %d",
                                """Control whether the LF output is on (bool).""")

    lf_output_amplitude = Instrument.control(
        ":SOUR:LFO:AMPL?", ":SOUR:LFO:AMPL %g VP",
        """Control the LF output amplitude in V peak (float, 0 to 3.5 V).""",
        validator=strict_range, values=(0, 3.5))

    lf_output_source = Instrument.setting(
        ":SOUR:LFO:SOUR %s",
        """Set the LF output source (str: 'internal' = the internal modulation waveform).""",
        validator=strict_discrete_set, values={"internal": "INT", "function": "FUNC"},
        map_values=True)

    def configure_am_reference(self, frequency: float, depth: float = 100.0,
                               lf_amplitude: float = 1.0) -> None:
        """Set internal sine AM at ``frequency`` (Hz) and ``depth`` (%), and put the same
        waveform on the LF output with ``lf_amplitude`` (V peak) as lock-in reference."""
        self.am_source = "internal"
        self.am_frequency = frequency
        self.am_depth = depth
        self.am_enabled = True
        self.modulation_enabled = True
        self.lf_output_source = "internal"
        self.lf_output_amplitude = lf_amplitude
        self.lf_output_enabled = True


class E8257D(_KeysightAnalogSource, Agilent8257D):
    """Keysight/Agilent E8257D PSG analog signal generator as an ``rf_source``.

    Extends pymeasure's :class:`~pymeasure.instruments.agilent.Agilent8257D` (sweeps, pulse
    modulation, … stay available) with the role members in SI units, checked power and a
    ramped shutdown. ``frequency`` and ``power`` replace pymeasure's with the same SCPI
    (``:SOUR:FREQ``, ``:SOUR:POW``) and a limit check; ``enable()`` and the sweep
    ``start_power``/``stop_power`` are checked too. Power limits: standard instrument
    (no 1E1 step attenuator), see the module docstring.

    Reference: Keysight E8257D/67D, E8663D PSG Signal Generators SCPI Command Reference.
    """
    SAFE_LIMITS = {"power": (-20.0, 25.0, "dBm")}
    frequency_values = (100e3, 70e9)

    def __init__(self, adapter, name="Keysight E8257D PSG signal generator", **kwargs):
        with warnings.catch_warnings():
            # pymeasure marks Agilent8257D "SCPI unknown"; the PSG is a SCPI instrument.
            warnings.filterwarnings("ignore", message="It is not known whether this device",
                                    category=FutureWarning)
            super().__init__(adapter, name, **kwargs)

    def enable(self) -> None:
        """Switch the RF on, only if the set power is within the limits."""
        self.output_enabled = True

    def disable(self) -> None:
        """Switch the RF off."""
        self.output_enabled = False

    @property
    def start_power(self) -> float:
        """Control the power sweep start in dBm (float); checked against the limits."""
        return float(self.ask(":SOUR:POW:STAR?").strip())

    @start_power.setter
    def start_power(self, power_dBm: float) -> None:
        self.write(":SOUR:POW:STAR %e dBm" % self.check_limit("power", power_dBm))

    @property
    def stop_power(self) -> float:
        """Control the power sweep stop in dBm (float); checked against the limits."""
        return float(self.ask(":SOUR:POW:STOP?").strip())

    @stop_power.setter
    def stop_power(self, power_dBm: float) -> None:
        self.write(":SOUR:POW:STOP %e dBm" % self.check_limit("power", power_dBm))


class N5183B(_KeysightAnalogSource, SCPIMixin, Instrument):
    """Keysight N5183B MXG X-series microwave analog signal generator as an ``rf_source``.

    Same PSG-family SCPI as the E8257D (shared base). Power limits: standard instrument
    without 1E1 (−20 to +19 dBm, as QCoDeS' KeysightN5183B); frequency 9 kHz to 40 GHz
    (option 540; lower options reject the top of the range themselves).

    Reference: Keysight X-Series Signal Generators SCPI Command Reference (N5183B).
    """
    SAFE_LIMITS = {"power": (-20.0, 19.0, "dBm")}
    frequency_values = (9e3, 40e9)

    def __init__(self, adapter, name="Keysight N5183B MXG signal generator", **kwargs):
        super().__init__(adapter, name, **kwargs)


class SMB100A(_RFSource, SCPIMixin, Instrument):
    """Rohde & Schwarz SMB100A RF and microwave signal generator as an ``rf_source``.

    The internal LF generator (``SOUR:LFO:FREQ``) is both the AM source (``AM:SOUR INT``)
    and the signal on the LF output, so ``am_frequency`` and the LF output frequency are one
    setting. AM acts only while the modulation master switch is on (R&S default after *RST).

    Reference: R&S SMB100A Operating Manual 1407.0806.32, "SOURce Subsystem" (POWer, AM,
    LFOutput) and "OUTPut Subsystem". Power limits: see the module docstring.
    """
    SAFE_LIMITS = {"power": (-145.0, 30.0, "dBm")}

    _POWER_GET = "SOUR:POW?"
    _POWER_SET = "SOUR:POW %.2f DBM"
    _OUTPUT_GET = "OUTP?"
    _OUTPUT_SET = "OUTP %d"
    _STATUS_GET = "OUTP:PROT:TRIP?"
    STATUS_BITS = {0: "reverse power protection tripped"}

    frequency = Instrument.control(
        "SOUR:FREQ?", "SOUR:FREQ %.3f",
        """Control the CW frequency in Hz (float, 9 kHz to 40 GHz by option).""",
        validator=strict_range, values=(9e3, 40e9))

    am_enabled = _switch("SOUR:AM:STAT?", "SOUR:AM:STAT %d",
                         """Control whether amplitude modulation is on (bool).""")

    am_depth = Instrument.control(
        "SOUR:AM:DEPT?", "SOUR:AM:DEPT %g",
        """Control the AM depth in % (float, 0 to 100).""",
        validator=strict_range, values=(0, 100))

    am_frequency = Instrument.control(
        "SOUR:LFO:FREQ?", "SOUR:LFO:FREQ %g",
        """Control the LF generator frequency in Hz, the internal AM rate (float, 0.1 Hz to
        1 MHz).""",
        validator=strict_range, values=(0.1, 1e6))

    am_source = Instrument.setting(
        "SOUR:AM:SOUR %s",
        """Set the AM source (str: 'internal' LF generator or 'external').""",
        validator=strict_discrete_set, values={"internal": "INT", "external": "EXT"},
        map_values=True)

    lf_output_enabled = _switch("SOUR:LFO:STAT?", "SOUR:LFO:STAT %d",
                                """Control whether the LF output is on (bool).""")

    lf_output_amplitude = Instrument.control(
        "SOUR:LFO:VOLT?", "SOUR:LFO:VOLT %g",
        """Control the LF output voltage in V peak (float, 0 to 3 V).""",
        validator=strict_range, values=(0, 3))

    def __init__(self, adapter, name="Rohde & Schwarz SMB100A signal generator", **kwargs):
        super().__init__(adapter, name, **kwargs)

    @property
    def has_reverse_power_protection(self) -> bool:
        """Get whether this unit has the reverse power protection that ``OUTP:PROT:TRIP?``
        reports (bool; asked once, from ``*OPT?``). Every SMB100A has it except the
        12.75 GHz models (SMB-B112, SMB-B112L), which need option SMB-B30 (as fsc2's
        ``rs_smb100a`` driver reads it); a unit without it would not answer the query."""
        if "_protection" not in self.__dict__:
            options = {o.strip().upper() for o in self.ask("*OPT?").split(",")}
            low_band = bool(options & {"SMB-B112", "SMB-B112L", "B112", "B112L"})
            self.__dict__["_protection"] = not low_band or bool(options & {"SMB-B30", "B30"})
        return self.__dict__["_protection"]

    def _status_query(self) -> str:
        return self._STATUS_GET if self.has_reverse_power_protection else ""

    def configure_am_reference(self, frequency: float, depth: float = 100.0,
                               lf_amplitude: float = 1.0) -> None:
        """Set AM from the internal LF generator at ``frequency`` (Hz) and ``depth`` (%), and
        switch the LF output on with ``lf_amplitude`` (V peak) as lock-in reference."""
        self.am_source = "internal"
        self.am_frequency = frequency
        self.am_depth = depth
        self.am_enabled = True
        self.lf_output_amplitude = lf_amplitude
        self.lf_output_enabled = True
