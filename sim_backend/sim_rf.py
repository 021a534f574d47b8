"""Simulated RF sources: Keysight/Agilent E8257D PSG, Keysight N5183B MXG, R&S SMB100A.

Each twin parses its model's SCPI (as labspin's drivers in ``drivers/rf_sources.py`` and
pymeasure's stock :class:`~pymeasure.instruments.agilent.Agilent8257D` send it): CW frequency,
power, RF on/off, amplitude modulation (state, depth, rate, source), the modulation master
switch, and the LF output (state, amplitude, source/frequency) that carries the AM rate to a
lock-in's reference input. Numbers may carry their SCPI unit suffix ("5 GHz", "-10 dBm",
"2.0vp", "30 PCT"); a wrong suffix is -131. A value outside the model's range is -222 and
leaves the setting unchanged (the real PSG clips with a message; the twin keeps the state).

Wiring (``drives_sample=True``, through the bias tee): while the RF output is on the twin
calls ``bench.set_rf(name, f_Hz, power_dBm, am_depth, am_frequency_Hz)`` with the depth as a
fraction (0–1) when AM acts (AM on, modulation master on, internal source), else depth 0;
RF off calls ``bench.set_rf(name, f, None)``. While the LF output is on (amplitude > 0) it
publishes ``bench.set_reference(name, f_LF)``, the internal AM rate (LF source INT) or the
LF function generator's frequency (FUNC); off withdraws it. Every sourcing setpoint (frequency,
power, RF on, AM state/depth/rate, modulation switch, LF state/amplitude/frequency) is an
``output=True`` parameter, so ``output_log`` records each step of a power ramp and a
"stuck_output" fault keeps the bench at the old value.

Model ranges (standard instruments, no step attenuator; the same numbers as the drivers'
``SAFE_LIMITS``): E8257D 100 kHz–70 GHz, −20…+25 dBm; N5183B 9 kHz–40 GHz, −20…+19 dBm;
SMB100A 9 kHz–40 GHz, −145…+30 dBm. AM depth 0–100 %, AM rate 0.5 Hz–1 MHz (Keysight),
LF generator 0.1 Hz–1 MHz (R&S); LF amplitude 0–3.5 V peak (Keysight), 0–3 V (R&S).

Reset (*RST, also ``:SYSTem:PRESet``): RF off, AM off, LF output off, modulation master on;
Keysight: frequency = the top of the modelled option (67 GHz E8257D-567, 40 GHz N5183B-540),
power −20 dBm, AM depth 30 %, AM rate 400 Hz, LF amplitude 1 V (assumed, not confirmed from a
manual); R&S: 1 GHz, −30 dBm, AM depth 30 %, LF generator 1 kHz, 1 V.

Levelling (ALC) and the faults that break it: ``POW?`` answers the power *set*, ``OUTP?`` the
switch *set*, as on the real instruments (neither measures what is delivered). What reaches
the sample is the delivered power: the applied level (``output("power")``) capped by what the
ALC can level (:meth:`_RFSourceTwin.unlevel`, a failing output amplifier or a bad cable),
nothing while the applied switch is off or the reverse power protection has tripped
(:meth:`SMB100ATwin.trip_protection`). An injected ``stuck_output`` on "power" (or on every
output) keeps the applied level where it was. Whenever the RF is set on but the delivered
power is not the set power (beyond ``ALC_TOLERANCE_DB``), the ALC is unlevelled and the
Keysight twins report it as the real PSG/MXG do (Keysight Signal Generators Programming
Guide, "Data Questionable Power Status Group", ``STATus:QUEStionable:POWer:CONDition?``
bit 1 "Unleveled: the output leveling loop is unable to set the output power", summarised
in bit 3 of ``STATus:QUEStionable:CONDition?``; bit 0, reverse power protection, stays 0).
The R&S SMB100A reports its level-control state only in the display's info line (operating
manual 1407.0806.32, "Automatic Level Control - ALC"); its twin reports a tripped reverse
power protection on ``OUTPut:PROTection:TRIPped?`` (R&S SMx OUTPut subsystem; reset with
``OUTPut:PROTection:CLEar``), so a level the ALC cannot reach is not visible remotely there.

Known deviations: frequency/power sweeps and list mode (``:FREQ:MODE SWE``, ``:SWE:...``,
``:LIST:...``) are stored and answered but never executed (the output stays at CW); pulse
modulation, FM/PM and external AM inputs do nothing at the sample; AM shapes other than sine
are stored but the bench always sees sinusoidal AM; the ALC levels at once (no settling time,
no power search) and its limit does not depend on frequency; the status registers answer
their CONDition parts only (no EVENt latches or transition filters); carrier phase (PHASe)
and the reference oscillator's AUTO source are stored only;
the PSG's DIAG:CPU:INFO:OPT:DET? answers the *OPT? list (the real one adds each option's
revision and description).
"""
from __future__ import annotations

from typing import Any

from .scpi import (
    FREQ_UNITS,
    PCT_UNITS,
    POWER_UNITS,
    TIME_UNITS,
    VOLT_UNITS,
    SimInstrument,
    nr3,
    rs_number,
    with_units,
)
from .virtual_bench import VirtualBench

# ---------------------------------------------------------------- common base


class _RFSourceTwin(SimInstrument):
    """What the three twins share: bench wiring and the sync of outputs to the bench.

    Subclasses declare the parameters "frequency", "power", "rf_on", "am_on", "am_depth",
    "am_source", "mod_on", "lf_on", "lf_amplitude" and implement :meth:`_am_rate` and
    :meth:`_lf_frequency`.
    """
    AUDIT_SWITCH = "rf_on"

    def audited_levels(self):
        return {"power": ("power", 1.0)}

    FREQ_RANGE: tuple[float, float] = (9e3, 40e9)
    POWER_RANGE: tuple[float, float] = (-20.0, 19.0)
    ALC_TOLERANCE_DB = 0.005
    """Delivered power further than this (dB) from the set power is unlevelled (the power is
    set in 0.01 dB steps)."""

    def __init__(self, bench: VirtualBench, name: str, *, drives_sample: bool = True):
        super().__init__(clock=bench.clock)
        self.bench = bench
        self.name = name
        self.drives_sample = bool(drives_sample)
        self.leveled_max_dBm: float | None = None
        self.protection_tripped = False
        bench.instruments[name] = self
        self._declare()
        self.add_command("SYSTem:PRESet", self.reset)
        self.output_listeners.append(lambda t, oname, value: self._sync())
        self._sync()

    def _declare(self) -> None:
        raise NotImplementedError

    def _resync(self, *_: Any) -> None:
        self._sync()

    def on_reset(self) -> None:
        self._sync()

    # what the bench sees

    def _am_rate(self) -> float:
        raise NotImplementedError

    def _lf_frequency(self) -> float:
        raise NotImplementedError

    def unlevel(self, max_power_dBm: float | None) -> None:
        """Inject an unlevelled output: from now on the ALC delivers at most
        ``max_power_dBm`` (dBm), whatever is set (a failing output amplifier, a bad cable);
        None heals it. ``POW?`` still answers the set power, as a real source does."""
        with self.lock:
            self.leveled_max_dBm = None if max_power_dBm is None else float(max_power_dBm)
            self._sync()

    def delivered_power_dBm(self) -> float | None:
        """Get the power (dBm) that leaves the RF output, None when nothing does."""
        if not self.output("rf_on") or self.protection_tripped:
            return None
        power = float(self.output("power"))
        return power if self.leveled_max_dBm is None else min(power, self.leveled_max_dBm)

    def unleveled(self) -> bool:
        """Whether the RF is set on and the ALC cannot deliver the set power."""
        if not self.get("rf_on"):
            return False
        delivered = self.delivered_power_dBm()
        return (delivered is None
                or abs(delivered - float(self.get("power"))) > self.ALC_TOLERANCE_DB)

    def am_active(self) -> bool:
        """Whether AM acts on the RF output: AM on, master switch on, internal source."""
        return bool(self.output("am_on") and self.output("mod_on")
                    and str(self.get("am_source")).startswith("INT"))

    def _sync(self) -> None:
        """Push the applied outputs to the bench (RF drive and LF reference)."""
        if not hasattr(self, "bench"):
            return
        f = float(self.output("frequency"))
        if self.drives_sample:
            delivered = self.delivered_power_dBm()
            if delivered is not None:
                am = self.am_active()
                depth = float(self.output("am_depth")) / 100.0 if am else 0.0
                self.bench.set_rf(self.name, f, delivered,
                                  am_depth=depth, am_frequency_Hz=self._am_rate() if am else 0.0)
            else:
                self.bench.set_rf(self.name, f, None)
        lf_on = self.output("lf_on") and float(self.output("lf_amplitude")) > 0.0
        self.bench.set_reference(self.name, self._lf_frequency() if lf_on else None)


# ---------------------------------------------------------------- Keysight PSG / MXG


class _KeysightSourceTwin(_RFSourceTwin):
    """PSG/MXG SCPI ([:SOURce] subsystem; Keysight SCPI command references of each model)."""

    PRESET_FREQ = 40e9
    termination = "\n"

    def _declare(self) -> None:
        fmt = nr3
        on = self._resync
        p = self.add_parameter
        p("frequency", "[SOURce]:FREQuency[:CW]", float, range=self.FREQ_RANGE,
          default=self.PRESET_FREQ, fmt=lambda v: nr3(v, 12), output=True)
        with_units(self, "frequency", FREQ_UNITS)
        self._alias("[SOURce]:FREQuency:FIXed", "frequency")
        p("power", "[SOURce]:POWer[:LEVel][:IMMediate][:AMPLitude]", float,
          range=self.POWER_RANGE, default=-20.0, fmt=fmt, output=True)
        with_units(self, "power", POWER_UNITS)
        p("rf_on", "OUTPut[:STATe]", bool, default=False, output=True)
        p("mod_on", "OUTPut:MODulation[:STATe]", bool, default=True, output=True)
        # amplitude modulation (path 1)
        p("am_on", "[SOURce]:AM:STATe", bool, default=False, output=True)
        p("am_depth", "[SOURce]:AM[:DEPTh][:LINear]", float, range=(0.0, 100.0),
          default=30.0, fmt=fmt, output=True)
        with_units(self, "am_depth", PCT_UNITS)
        p("am_source", "[SOURce]:AM:SOURce", str,
          choices={"INTernal": "INT", "INTernal1": "INT", "INT1": "INT", "INTernal2": "INT2",
                   "EXTernal": "EXT", "EXTernal1": "EXT", "EXT1": "EXT", "EXTernal2": "EXT2"},
          default="INT", on_change=on)
        p("am_rate", "[SOURce]:AM:INTernal:FREQuency", float, range=(0.5, 1e6),
          default=400.0, fmt=fmt, output=True)
        with_units(self, "am_rate", FREQ_UNITS)
        p("am_shape", "[SOURce]:AM:INTernal:FUNCtion:SHAPe", str,
          choices=["SINE", "TRIangle", "SQUare", "RAMP", "NOISe", "DUAL", "SWEPt"])
        p("am_type", "[SOURce]:AM:TYPE", str, choices=["LINear", "EXPonential"])
        # LF output
        p("lf_on", "[SOURce]:LFOutput:STATe", bool, default=False, output=True)
        p("lf_amplitude", "[SOURce]:LFOutput:AMPLitude", float, range=(0.0, 3.5),
          default=1.0, fmt=fmt, output=True)
        with_units(self, "lf_amplitude", VOLT_UNITS)
        p("lf_source", "[SOURce]:LFOutput:SOURce", str,
          choices={"INTernal": "INT", "INTernal1": "INT", "INTernal2": "INT2",
                   "FUNCtion": "FUNC", "FUNCtion1": "FUNC", "FUNCtion2": "FUNC2"},
          default="INT", on_change=on)
        p("lf_function_frequency", "[SOURce]:LFOutput:FUNCtion:FREQuency", float,
          range=(0.5, 1e6), default=400.0, fmt=fmt, output=True)
        with_units(self, "lf_function_frequency", FREQ_UNITS)
        # pulse modulation (stored only)
        p("pulm_on", "[SOURce]:PULM:STATe", bool, default=False)
        p("pulm_source", "[SOURce]:PULM:SOURce", str,
          choices=["INTernal", "EXTernal", "SCALar"], default="INT")
        p("pulm_internal", "[SOURce]:PULM:SOURce:INTernal", str,
          choices=["SQUare", "FRUN", "TRIGgered", "DOUBlet", "GATEd"], default="SQU")
        p("pulm_rate", "[SOURce]:PULM:INTernal:FREQuency", float, range=(0.1, 10e6),
          default=1e3, fmt=fmt)
        with_units(self, "pulm_rate", FREQ_UNITS)
        # sweeps (stored, never executed)
        p("freq_mode", "[SOURce]:FREQuency:MODE", str, choices=["CW", "FIXed", "SWEep", "LIST"])
        low, high = self.FREQ_RANGE
        for name, pattern, default in (("freq_start", "[SOURce]:FREQuency:STARt", low),
                                       ("freq_stop", "[SOURce]:FREQuency:STOP", high),
                                       ("freq_center", "[SOURce]:FREQuency:CENTer",
                                        (low + high) / 2)):
            p(name, pattern, float, range=self.FREQ_RANGE, default=default, fmt=fmt)
            with_units(self, name, FREQ_UNITS)
        p("freq_span", "[SOURce]:FREQuency:SPAN", float, range=(0.0, self.FREQ_RANGE[1]),
          fmt=fmt)
        with_units(self, "freq_span", FREQ_UNITS)
        for name, pattern in (("power_start", "[SOURce]:POWer:STARt"),
                              ("power_stop", "[SOURce]:POWer:STOP")):
            p(name, pattern, float, range=self.POWER_RANGE, default=self.POWER_RANGE[0], fmt=fmt)
            with_units(self, name, POWER_UNITS)
        p("power_mode", "[SOURce]:POWer:MODE", str, choices=["FIXed", "SWEep", "LIST"])
        p("dwell", "[SOURce]:SWEep:DWELl<n>", float, range=(1e-3, 60.0), default=2e-3, fmt=fmt)
        with_units(self, "dwell", TIME_UNITS)
        p("sweep_points", "[SOURce]:SWEep:POINts", int, range=(2, 65535), default=101)
        p("sweep_generation", "[SOURce]:SWEep:GENeration", str, choices=["STEPped", "ANALog"])
        p("sweep_mode", "[SOURce]:SWEep:MODE", str, choices=["AUTO", "MANual"])
        p("sweep_continuous", "[SOURce]:SWEep:CONTinuous[:STATe]", bool)
        p("list_retrace", "[SOURce]:LIST:RETRace", bool, default=True)
        self.add_command("[SOURce]:TSWeep", lambda: None)
        # phase adjustment of the carrier (radians) and the reference oscillator's
        # automatic source: stored and answered (no phase reference reaches the bench)
        p("phase", "[SOURce]:PHASe[:ADJust]", float, range=(-3.14159, 3.14159), default=0.0,
          fmt=fmt)
        p("rosc_auto", "[SOURce]:ROSCillator:SOURce:AUTO", bool, default=True)
        # the ALC's state (Programming Guide, "Data Questionable Power Status Group")
        self.add_query("STATus:QUEStionable:POWer:CONDition", self._questionable_power)
        self.add_query("STATus:QUEStionable:CONDition",
                       lambda: self.QUES_POWER_SUMMARY if self._questionable_power() else 0)

    UNLEVELED_BIT = 1
    """STATus:QUEStionable:POWer bit 1: "the output leveling loop is unable to set the output
    power" (bit 0, reverse power protection tripped, is never set by this twin)."""
    QUES_POWER_SUMMARY = 1 << 3
    """STATus:QUEStionable bit 3: summary of the QUEStionable:POWer register."""

    def _questionable_power(self) -> int:
        return (1 << self.UNLEVELED_BIT) if self.unleveled() else 0

    def _alias(self, pattern: str, name: str) -> None:
        """Answer ``pattern`` / ``pattern?`` like the parameter ``name``."""
        cmd = self.parameters()[name].command
        self.add_command(pattern, lambda *tokens: cmd.setter(list(tokens), {}), args=None)
        self.add_query(pattern, lambda *tokens: cmd.getter(list(tokens), {}), args=None)

    def _am_rate(self) -> float:
        return float(self.output("am_rate"))

    def _lf_frequency(self) -> float:
        if str(self.get("lf_source")).startswith("FUNC"):
            return float(self.output("lf_function_frequency"))
        return float(self.output("am_rate"))


class E8257DTwin(_KeysightSourceTwin):
    """Keysight/Agilent E8257D PSG analog signal generator (option 567, no 1E1)."""

    def _declare(self) -> None:
        super()._declare()
        self.add_query("DIAGnostic:CPU:INFOrmation:OPTions:DETail", lambda: self.options)
    idn = "Agilent Technologies, E8257D, US47290123, C.06.28"
    options = "567,UNT"
    """*OPT?: 567 (to 67 GHz), UNT (AM/FM/ΦM, LF output); no 1E1 step attenuator."""
    FREQ_RANGE = (100e3, 70e9)
    POWER_RANGE = (-20.0, 25.0)
    PRESET_FREQ = 67e9


class N5183BTwin(_KeysightSourceTwin):
    """Keysight N5183B MXG X-series microwave analog signal generator (option 540, no 1E1)."""
    idn = "Keysight Technologies, N5183B, MY57280123, B.01.86"
    options = "540,UNT,UNW"
    """*OPT?: 540 (9 kHz–40 GHz), UNT (AM/FM/ΦM, LF output), UNW (narrow pulse modulation,
    stored only); no 1E1."""
    FREQ_RANGE = (9e3, 40e9)
    POWER_RANGE = (-20.0, 19.0)
    PRESET_FREQ = 40e9


# ---------------------------------------------------------------- R&S SMB100A


class SMB100ATwin(_RFSourceTwin):
    """Rohde & Schwarz SMB100A (operating manual 1407.0806.32: SOURce, OUTPut subsystems).

    The internal LF generator (``[SOURce]:LFOutput:FREQuency``) is both the AM source and the
    signal on the LF output, so the AM rate and the reference frequency are one setting.
    """
    idn = "Rohde&Schwarz,SMB100A,1406.6000k03/101234,3.1.19.15-3.50.124.73"
    options = "SMB-B140"
    """*OPT?: B140 (9 kHz–40 GHz), whose reverse power protection is standard."""
    FREQ_RANGE = (9e3, 40e9)
    POWER_RANGE = (-145.0, 30.0)

    def _declare(self) -> None:
        fmt = rs_number
        on = self._resync
        p = self.add_parameter
        p("frequency", "[SOURce]:FREQuency[:CW]", float, range=self.FREQ_RANGE, default=1e9,
          fmt=fmt, output=True)
        with_units(self, "frequency", FREQ_UNITS)
        cmd = self.parameters()["frequency"].command
        self.add_command("[SOURce]:FREQuency:FIXed",
                         lambda *t: cmd.setter(list(t), {}), args=None)
        self.add_query("[SOURce]:FREQuency:FIXed", lambda *t: cmd.getter(list(t), {}), args=None)
        p("power", "[SOURce]:POWer[:LEVel][:IMMediate][:AMPLitude]", float,
          range=self.POWER_RANGE, default=-30.0, fmt=fmt, output=True)
        with_units(self, "power", POWER_UNITS)
        p("rf_on", "OUTPut[:STATe]", bool, default=False, output=True)
        p("mod_on", "[SOURce]:MODulation[:ALL][:STATe]", bool, default=True, output=True)
        p("am_on", "[SOURce]:AM:STATe", bool, default=False, output=True)
        p("am_depth", "[SOURce]:AM[:DEPTh]", float, range=(0.0, 100.0), default=30.0,
          fmt=fmt, output=True)
        with_units(self, "am_depth", PCT_UNITS)
        p("am_source", "[SOURce]:AM:SOURce", str,
          choices={"INTernal": "INT", "EXTernal": "EXT"}, default="INT", on_change=on)
        p("lf_frequency", "[SOURce]:LFOutput:FREQuency", float, range=(0.1, 1e6),
          default=1e3, fmt=fmt, output=True)
        with_units(self, "lf_frequency", FREQ_UNITS)
        p("lf_on", "[SOURce]:LFOutput[:STATe]", bool, default=False, output=True)
        p("lf_amplitude", "[SOURce]:LFOutput:VOLTage", float, range=(0.0, 3.0), default=1.0,
          fmt=fmt, output=True)
        with_units(self, "lf_amplitude", VOLT_UNITS)
        self.add_query("OUTPut:PROTection:TRIPped", lambda: int(self.protection_tripped))
        self.add_command("OUTPut:PROTection:CLEar", self._clear_protection)

    def trip_protection(self) -> None:
        """Inject a tripped reverse power protection: the relay opens, nothing leaves the RF
        output (``OUTP?`` still answers the switch set) until ``OUTP:PROT:CLE``."""
        with self.lock:
            self.protection_tripped = True
            self._sync()

    def _clear_protection(self) -> None:
        self.protection_tripped = False
        self._sync()

    def _am_rate(self) -> float:
        return float(self.output("lf_frequency"))

    def _lf_frequency(self) -> float:
        return float(self.output("lf_frequency"))


TWINS = {"e8257d": E8257DTwin, "n5183b": N5183BTwin, "smb100a": SMB100ATwin}
"""Driver registry key -> twin class."""

__all__ = ["E8257DTwin", "N5183BTwin", "SMB100ATwin", "TWINS"]
