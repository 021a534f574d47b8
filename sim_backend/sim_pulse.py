"""Simulated pulse generators (Keysight 81160A, Keysight 33500B, Picosecond Pulse Labs
10,070A) wired in series with the sample: a triggered pulse drives a current pulse through
the virtual sample's macrospin (time domain, :meth:`VirtualBench.apply_current_pulse`).

Wiring
    ``drives_sample=True`` (default): the generator's output drives the sample's current
    path; ``probe`` picks the resistance it sees ("mtj" for pillars, "xx" for Hall bars by
    default); ``channel`` (1 or 2) is the channel wired to the sample on two-channel models.

Model of a 50 Ω generator into the sample (documented once, used for every level)
    The generator is an EMF behind Z0 = 50 Ω. A set level V is what the instrument would put
    across its *expected load* Z_L (``OUTPut:LOAD``, 50 Ω by default; INF = open circuit),
    so its EMF is E = V·(Z_L + Z0)/Z_L (E = 2V for Z_L = 50 Ω, E = V for high Z). Into the
    sample, a lumped resistance R at the end of a short line (no reflections, no cable
    loss), the current is I = E/(Z0 + R) — for the default expected load
    I = 2V/(Z0 + R), i.e. V_load = 2V·R/(R + Z0). R is the probe's resistance R(m) just
    before each pulse (it changes only after the pulse switches the sample). The baseline
    between pulses (the low level, or the high level with inverted polarity; the 10,070A's
    offset) drives a dc current I_base = E_base/(Z0 + R) while the output is on; a pulse
    adds I_pulse − I_base for its width with linear edges of the model's transition time
    (capped at half the width). A sine (33500B/81160A ``FUNC SIN``) drives an ac current of
    amplitude E_pk/(Z0 + R) at its frequency plus the offset's dc current.

Triggering
    A trigger (``*TRG``, the VISA trigger) in the model's triggered mode (33500B: burst on,
    triggered, ``TRIG:SOUR BUS``; 81160A: ``ARM:SOUR MAN``; 10,070A: ``trigger GPIB``)
    emits the burst count of pulses one period apart; in another trigger mode it is ignored
    with -211 "Trigger ignored". Virtual time advances by the burst's duration, (n − 1)
    periods plus one width, also with the output off.

Deviations knowingly made
    * The 33500B's frequency mode, trigger slope/count/delay/timer, burst phase, gate
      polarity and sync output are stored and read back only: a burst's pulses are those
      of BURSt:NCYCles, started as described below.
    * A free-running pulse train (33500B burst off or immediate triggers, 81160A ``ARM:SOUR
      IMM``, 10,070A ``trigger INT``) is represented by one pulse each time the output goes
      on, the train starts (trigger mode changed to free-running), or a level, width or
      polarity changes while on — on a bistable sample a train acts
      as its first pulse, up to thermal activation, which is not modelled over the train.
    * At most :data:`MAX_SIMULATED_PULSES` pulses of one burst are simulated (the clock
      advances by the whole burst), and a pulse longer than :data:`MAX_SIMULATED_WIDTH_S`
      is simulated for that long at full amplitude (the macrospin has reached its state
      under the current) while the clock advances by the full width.
    * Only PULS, SIN and DC shapes act on the sample; other shapes apply their offset only
      (square duty cycle, ramp symmetry and the 33500B's arbitrary waveforms are stored
      and read back, see arb_memory). The square duty-cycle limits are fixed (the 81160A's:
      1.5 ns of a 1 kHz period), not recomputed from the frequency.
    * 81160A: burst mode and internal burst period, channel coupling (``TRACe:CHANnel``) are
      stored and read back; a coupled channel does not follow the other.
    * The 33500B identifies itself as "Keysight Technologies" (firmware after 2014), so a
      client that looks for "Agilent Technologies" (pymeasure's suite) does not find it.
    * 10,070A: the command set and ranges follow our driver (the manual was not available):
      smallest pulse 75 mV, duration 100 ps–10.2 ns, rise time 65 ps, reply headers on at
      power-on; errors set *ESR? bits (no error queue). Its ``delay`` only shifts the pulse
      in time.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

from .arb_memory import ArbMemory
from .scpi import Arg, SCPIError, SimInstrument
from .virtual_bench import Z0, VirtualBench

MAX_SIMULATED_PULSES = 20
"""Pulses of one burst simulated in the time domain (each costs ~10–40 ms of wall time on
the mtj pillar); the rest only take their virtual time."""
MAX_SIMULATED_WIDTH_S = 1e-6
"""Longest pulse simulated in the time domain (s)."""
HIGH_Z = 9.9e37
"""The value a Keysight generator answers for an expected load of INFinity."""
KEYSIGHT_FLOAT = "{:+.15E}"
"""Keysight reply format (e.g. +2.500000000000000E+00)."""


def series_current_A(level_V: float, r_ohm: float, load_ohm: float = Z0) -> float:
    """Get the current (A) a 50 Ω generator set to ``level_V`` (V, as into ``load_ohm``)
    drives through a resistance ``r_ohm`` (Ω): E = V·(Z_L + Z0)/Z_L, I = E/(Z0 + R)."""
    emf = level_V if load_ohm >= HIGH_Z else level_V * (load_ohm + Z0) / load_ohm
    return emf / (Z0 + abs(r_ohm))


@dataclass(frozen=True)
class Drive:
    """What one channel applies: levels (V, as set), timing (s), expected load (Ω)."""
    on: bool
    shape: str
    base_V: float
    pulse_V: float
    width_s: float
    rise_s: float
    period_s: float
    load_ohm: float = Z0
    amplitude_Vpp: float = 0.0
    frequency_Hz: float = 0.0


class _PulseTwin(SimInstrument):
    """Physics and triggering shared by the pulse generators (see the module notes).

    ``pulses`` logs every simulated pulse as (time s, current A, width s, rise s).
    """

    def __init__(self, bench: VirtualBench, name: str, *, drives_sample: bool = True,
                 probe: str | None = None, channel: int = 1):
        super().__init__(clock=bench.clock)
        self.bench, self.name, self.drives_sample = bench, name, bool(drives_sample)
        self.probe = probe or ("mtj" if bench.sample.geometry == "pillar" else "xx")
        self.channel = int(channel)
        self.pulses: list[tuple[float, float, float, float]] = []
        bench.instruments[name] = self

    # --- model hooks ---------------------------------------------------------------------
    def drive(self, ch: int) -> Drive:
        """What channel ``ch`` applies now."""
        raise NotImplementedError

    def triggered(self, ch: int) -> bool:
        """Whether channel ``ch`` emits a burst on a bus trigger (*TRG)."""
        raise NotImplementedError

    def free_running(self, ch: int) -> bool:
        """Whether channel ``ch`` pulses by itself while on."""
        raise NotImplementedError

    def burst_count(self, ch: int) -> int:
        """Pulses per trigger on channel ``ch``."""
        return 1

    # --- physics -------------------------------------------------------------------------
    def _r(self) -> float:
        return abs(self.bench.resistance(self.probe))

    def _refresh(self, ch: int = 1, pulse: bool = True) -> None:
        """Apply channel ``ch``'s dc/ac drive to the bench; a free-running pulse train
        gives its representative pulse."""
        if not self.drives_sample or ch != self.channel:
            return
        d = self.drive(ch)
        if not d.on:
            self.bench.set_dc_current(self.name, 0.0)
            self.bench.set_ac_current(self.name, 0.0, 0.0)
            return
        r = self._r()
        if d.shape == "SIN":
            self.bench.set_ac_current(
                self.name, series_current_A(d.amplitude_Vpp / 2, r, d.load_ohm), d.frequency_Hz)
        else:
            self.bench.set_ac_current(self.name, 0.0, 0.0)
        self.bench.set_dc_current(self.name, series_current_A(d.base_V, r, d.load_ohm))
        if pulse and d.shape == "PULS" and self.free_running(ch):
            self._emit(d, 1)

    def _emit(self, d: Drive, count: int) -> None:
        """Drive ``count`` pulses through the sample, one period apart."""
        simulated = min(count, MAX_SIMULATED_PULSES)
        width = min(d.width_s, MAX_SIMULATED_WIDTH_S)
        rise = min(d.rise_s, width / 2)
        for k in range(simulated):
            if k:
                self.clock.sleep(max(d.period_s - d.width_s, 0.0))
            r = self._r()
            amps = (series_current_A(d.pulse_V, r, d.load_ohm)
                    - series_current_A(d.base_V, r, d.load_ohm))
            self.pulses.append((self.clock.now(), amps, d.width_s, rise))
            if amps:
                self.bench.apply_current_pulse(amps, width, rise)     # advances `width`
                self.clock.sleep(d.width_s - width)
            else:
                self.clock.sleep(d.width_s)
        if count > simulated:
            self.clock.sleep((count - simulated) * d.period_s)
        self._refresh(self.channel, pulse=False)       # the baseline current at the new R

    def trigger(self) -> None:
        """*TRG: a burst on the wired channel in the triggered mode, else -211."""
        ch = self.channel
        if not self.triggered(ch):
            self.push_error(-211, "Trigger ignored")
            return
        d, n = self.drive(ch), self.burst_count(ch)
        if self.drives_sample and d.on and d.shape == "PULS":
            self._emit(d, n)
        else:
            self.clock.sleep((n - 1) * d.period_s + d.width_s)

    def _mode_changed(self, ch: int = 1) -> None:
        """After a trigger-mode setting: a train that starts running gives its pulse."""
        if not hasattr(self, "_free"):
            return                                      # still declaring the commands
        running = self.free_running(ch)
        if running and not self._free.get(ch, False):
            self._refresh(ch)
        self._free[ch] = running

    def _remember_modes(self) -> None:
        self._free = {ch: self.free_running(ch) for ch in (1, 2)}

    def on_reset(self) -> None:
        self._remember_modes()
        self._refresh(self.channel, pulse=False)


def _load_gain(load_ohm: float) -> float:
    """The level across an expected load per volt of EMF, ×2 (1 into 50 Ω, 2 into high Z)."""
    return 2.0 if load_ohm >= HIGH_Z else 2.0 * load_ohm / (load_ohm + Z0)


def _ch(suffixes: dict) -> int:
    """The channel from a handler's suffix keywords (1 when absent)."""
    return next(iter(suffixes.values()), 1) if suffixes else 1


@dataclass(frozen=True)
class _Spec:
    """Command patterns and limits of a Keysight function/pulse generator."""
    shape: str
    shapes: tuple[str, ...]
    frequency: str
    amplitude: str
    offset: str
    high: str
    low: str
    period: tuple[str, ...]
    width: tuple[str, ...]
    transition: tuple[str, ...]
    output: str
    polarity: str
    load: str
    min_vpp: float              # V, into 50 Ω
    frequency_range: tuple[float, float]
    width_range: tuple[float, float]
    period_range: tuple[float, float]
    transition_range: tuple[float, float]
    default_frequency: float
    default_width: float
    default_transition: float
    load_range: tuple[float, float]     # Ω, a numeric expected load
    unit: str                           # the amplitude unit VPP|VRMS|DBM
    square_duty: str                    # square-wave duty cycle (%)
    square_duty_range: tuple[float, float]
    ramp_symmetry: str                  # ramp symmetry (%)
    pulse_hold: tuple[str, ...]         # WIDTh|DCYCle held when the period changes
    pulse_duty: tuple[str, ...]         # pulse duty cycle (%) ↔ width
    apply: str = ""             # the APPLy root; shape mnemonics follow it


CREST_FACTOR = {"SIN": 2 * math.sqrt(2), "SQU": 2.0, "RAMP": 2 * math.sqrt(3),
                "TRI": 2 * math.sqrt(3)}
"""Vpp / Vrms of a shape (VOLTage:UNIT VRMS and DBM); others count as a sine."""


class _KeysightTwin(_PulseTwin):
    """Levels (HIGH/LOW ↔ amplitude/offset), timing, output, polarity and expected load of
    a Keysight generator, per channel. Levels are limited to ±5 V into 50 Ω (±10 V into
    high Z): out of range -222; HIGH set below LOW (or LOW above HIGH) takes the other level
    along, the smallest amplitude apart; an offset the amplitude leaves no room for is
    moved to the nearest one allowed, with -222; in DC only the offset counts. A width not
    shorter than the period -221. The amplitude is read and set in VOLTage:UNIT (VPP, VRMS
    or DBM into the expected load, through the shape's crest factor). Pulse HOLD WIDTh keeps
    the width when the period changes, DCYCle the duty cycle. Square duty cycle and ramp
    symmetry are stored and read back (those shapes drive only their offset)."""

    SPEC: _Spec
    N_CHANNELS = 2

    def audited_switches(self):      # each channel's output (pulse levels are not slewed)
        return tuple(f"output[{ch}]" for ch in range(1, self.N_CHANNELS + 1))
    RESCALE_ON_LOAD = False
    """Whether a new expected load rescales the set levels (the EMF is kept) instead of
    refusing levels the new load's window cannot hold."""
    termination = "\n"

    def __init__(self, bench: VirtualBench, name: str = "pulse_generator", **wiring):
        super().__init__(bench, name, **wiring)
        s = self.SPEC
        refresh = lambda value, ch=1: self._refresh(ch)          # noqa: E731
        self.add_parameter("shape", s.shape, choices=list(s.shapes), default="SIN",
                           on_change=refresh)
        self.add_parameter("high", s.high, float, default=0.05, fmt=KEYSIGHT_FLOAT,
                           output=True)
        self.add_parameter("low", s.low, float, default=-0.05, fmt=KEYSIGHT_FLOAT,
                           output=True)
        self.add_command(s.high, lambda v, **kw: self._set_levels(_ch(kw), high=v),
                         args=(Arg(float),))
        self.add_command(s.low, lambda v, **kw: self._set_levels(_ch(kw), low=v),
                         args=(Arg(float),))
        self.add_command(s.amplitude, lambda v, **kw: self._set_amplitude(
            self._vpp(v, _ch(kw)), **kw), args=(Arg(float),))
        self.add_query(s.amplitude, lambda **kw: self._in_unit(
            self._hl(_ch(kw))[0] - self._hl(_ch(kw))[1], _ch(kw)), fmt=KEYSIGHT_FLOAT)
        self.add_command(s.offset, self._set_offset, args=(Arg(float),))
        self.add_query(s.offset, lambda **kw: sum(self._hl(_ch(kw))) / 2, fmt=KEYSIGHT_FLOAT)
        self.add_parameter("output", s.output, bool, default=False, output=True,
                           on_change=refresh)
        self.add_parameter("polarity", s.polarity, choices=["NORMal", "INVerted"],
                           default="NORM", output=True, on_change=refresh)
        self.add_command(s.load, self._set_load, args=None)
        self.add_query(s.load, lambda **kw: self._timing(_ch(kw))["load"], fmt=KEYSIGHT_FLOAT)
        self._timings: dict[int, dict[str, float]] = {}
        for key, patterns, lim in (("width", s.width, s.width_range),
                                   ("period", s.period, s.period_range),
                                   ("transition", s.transition, s.transition_range)):
            for pattern in patterns:
                self.add_command(pattern, self._timing_setter(key),
                                 args=(Arg(float, range=lim),))
                self.add_query(pattern, self._timing_getter(key), fmt=KEYSIGHT_FLOAT)
        self.add_command(s.frequency, self._set_frequency,
                         args=(Arg(float, range=s.frequency_range),))
        self.add_query(s.frequency, lambda **kw: self._timing(_ch(kw))["frequency"],
                       fmt=KEYSIGHT_FLOAT)
        if s.apply:
            for word in s.shapes:
                self.add_command(f"{s.apply}:{word}", self._apply_setter(word), args=None)
        self.add_parameter("amplitude_unit", s.unit, choices=["VPP", "VRMS", "DBM"],
                           default="VPP")
        self.add_parameter("square_duty", s.square_duty, float, range=s.square_duty_range,
                           default=50.0, fmt=KEYSIGHT_FLOAT)
        self.add_parameter("ramp_symmetry", s.ramp_symmetry, float, range=(0.0, 100.0),
                           default=100.0, fmt=KEYSIGHT_FLOAT)
        self.add_parameter("pulse_hold", s.pulse_hold[0], choices=["WIDTh", "DCYCle"],
                           default="WIDT")
        for pattern in s.pulse_hold[1:]:
            self.add_command(pattern, lambda v, **kw: self.set("pulse_hold", v, _ch(kw)),
                             args=(Arg(str, choices=["WIDTh", "DCYCle"]),))
            self.add_query(pattern, lambda **kw: self.get("pulse_hold", _ch(kw)))
        for pattern in s.pulse_duty:
            self.add_command(pattern, self._set_pulse_duty, args=(Arg(float, range=(0, 100)),))
            self.add_query(pattern, lambda **kw: 100.0 * self._timing(_ch(kw))["width"]
                           / self._timing(_ch(kw))["period"], fmt=KEYSIGHT_FLOAT)

    def _apply_setter(self, word: str):
        """APPLy:<shape> [freq (Hz)[, amplitude (Vpp)[, offset (V)]]]; DEF keeps a value."""
        shape = "".join(c for c in word if not c.islower())

        def setter(*tokens: str, **kw) -> None:
            ch = _ch(kw)
            self._check_channel(ch)
            if len(tokens) > 3:
                raise SCPIError(-108)
            values = [None if t.strip().upper() in ("DEF", "DEFAULT") else Arg(float).parse(t)
                      for t in tokens] + [None] * (3 - len(tokens))
            frequency, amplitude, offset = values
            if shape == "DC":                # the offset is checked as a dc level
                self._store(self._params["shape"], (ch,), shape, not self._stuck)
            if frequency is not None and shape not in ("DC", "NOIS"):
                self._set_frequency(frequency, **kw)
            if amplitude is not None and shape != "DC":
                self._set_amplitude(self._vpp(amplitude, ch), **kw)
            if offset is not None:
                self._set_offset(offset, **kw)
            self._store(self._params["shape"], (ch,), shape, not self._stuck)
            self._refresh(ch)
        return setter

    # --- state ---------------------------------------------------------------------------
    def on_reset(self) -> None:
        self._timings.clear()
        super().on_reset()

    def _timing(self, ch: int) -> dict[str, float]:
        s = self.SPEC
        return self._timings.setdefault(ch, {
            "period": 1.0 / s.default_frequency, "frequency": s.default_frequency,
            "width": s.default_width,
            "transition": s.default_transition, "load": Z0})

    def _hl(self, ch: int) -> tuple[float, float]:
        return self.get("high", ch), self.get("low", ch)

    def _level_limit(self, ch: int) -> float:
        load = self._timing(ch)["load"]
        return 10.0 if load >= HIGH_Z else 10.0 * load / (load + Z0)

    # --- handlers ------------------------------------------------------------------------
    def _check_channel(self, ch: int) -> None:
        if ch > self.N_CHANNELS:
            raise SCPIError(-113)

    def _set_levels(self, ch: int, high: float | None = None, low: float | None = None) -> None:
        self._check_channel(ch)
        old_high, old_low = self._hl(ch)
        lim = self._level_limit(ch)
        smallest = self.SPEC.min_vpp * lim / 5.0
        if low is None and high is not None and high - old_low < smallest - 1e-9:
            low = high - smallest            # HIGH below LOW takes LOW along
        if high is None and low is not None and old_high - low < smallest - 1e-9:
            high = low + smallest
        high = old_high if high is None else high
        low = old_low if low is None else low
        dc = self.get("shape", ch) == "DC"
        levels = ((high + low) / 2,) if dc else (low, high)
        if not all(-lim <= v <= lim for v in levels):
            raise SCPIError(-222)
        if not dc and high - low < smallest - 1e-9:
            raise SCPIError(-221, "Settings conflict;high level must exceed low level")
        self._check_limits(ch, *levels)
        apply = not self._stuck
        self._store(self._params["high"], (ch,), high, apply)
        self._store(self._params["low"], (ch,), low, apply)
        self._refresh(ch)

    def _set_amplitude(self, vpp: float, **kw) -> None:
        ch = _ch(kw)
        high, low = self._hl(ch)
        offset = (high + low) / 2
        if not self.SPEC.min_vpp <= vpp <= 2 * self._level_limit(ch):
            raise SCPIError(-222)
        self._set_levels(ch, offset + vpp / 2, offset - vpp / 2)

    def _set_offset(self, offset: float, **kw) -> None:
        ch = _ch(kw)
        high, low = self._hl(ch)
        half = (high - low) / 2
        room = self._level_limit(ch) - (0.0 if self.get("shape", ch) == "DC" else half)
        if abs(offset) > room + 1e-12 and room >= 0:
            # the manual's rule: the offset moves to the largest the amplitude allows
            self._set_levels(ch, math.copysign(room, offset) + half,
                             math.copysign(room, offset) - half)
            raise SCPIError(-222, "Data out of range;offset limited by the amplitude")
        self._set_levels(ch, offset + half, offset - half)

    def _check_limits(self, ch: int, *levels: float) -> None:
        """Hook: a model's user-set level limits (-221 when exceeded)."""

    def _vpp(self, value: float, ch: int) -> float:
        """An amplitude in VOLTage:UNIT -> Vpp."""
        unit = self.get("amplitude_unit", ch)
        crest = CREST_FACTOR.get(self.get("shape", ch), CREST_FACTOR["SIN"])
        if unit == "VRMS":
            return value * crest
        if unit == "DBM":
            load = self._timing(ch)["load"]
            if load >= HIGH_Z:
                raise SCPIError(-221, "Settings conflict;dBm needs a finite expected load")
            return math.sqrt(1e-3 * 10 ** (value / 10) * load) * crest
        return value

    def _in_unit(self, vpp: float, ch: int) -> float:
        """A Vpp amplitude in VOLTage:UNIT."""
        unit = self.get("amplitude_unit", ch)
        crest = CREST_FACTOR.get(self.get("shape", ch), CREST_FACTOR["SIN"])
        load = self._timing(ch)["load"]
        if unit == "VRMS":
            return vpp / crest
        if unit == "DBM" and load < HIGH_Z:
            return 10 * math.log10((vpp / crest) ** 2 / load / 1e-3)
        return vpp

    def _set_pulse_duty(self, percent: float, **kw) -> None:
        """Pulse duty cycle (%): the width becomes that share of the period."""
        t = self._timing(_ch(kw))
        self._timing_setter("width")(percent / 100.0 * t["period"], **kw)

    def _set_load(self, *tokens: str, **kw) -> None:
        ch = _ch(kw)
        if len(tokens) != 1:
            raise SCPIError(-109 if not tokens else -108)
        word = tokens[0].upper()
        if word in ("INF", "INFINITY", "MAX", "MAXIMUM"):
            load = HIGH_Z
        elif word in ("DEF", "DEFAULT"):
            load = Z0
        else:
            load = Arg(float, range=self.SPEC.load_range).parse(tokens[0])
        timing = self._timing(ch)
        old, timing["load"] = timing["load"], load
        if load >= HIGH_Z and self.get("amplitude_unit", ch) == "DBM":
            self.set("amplitude_unit", "VPP", ch)     # no dBm into high Z: back to Vpp
        high, low = self._hl(ch)
        if self.RESCALE_ON_LOAD:          # the EMF is kept: the levels into the new load
            gain = _load_gain(load) / _load_gain(old)
            self._store(self._params["high"], (ch,), high * gain, not self._stuck)
            self._store(self._params["low"], (ch,), low * gain, not self._stuck)
        else:
            lim = self._level_limit(ch)
            if abs(high) > lim or abs(low) > lim:
                timing["load"] = old
                raise SCPIError(-221, "Settings conflict;levels exceed the limits for that load")
        self._refresh(ch)

    def _timing_setter(self, key: str):
        def setter(value: float, **kw) -> None:
            ch = _ch(kw)
            self._check_channel(ch)
            t = self._timing(ch)
            width = value if key == "width" else t["width"]
            period = value if key == "period" else t["period"]
            if key == "period" and self.get("pulse_hold", ch) == "DCYC":
                width = t["width"] * period / t["period"]        # the duty cycle is held
            if width >= period and self.get("shape", ch) == "PULS":   # pulses only (issue 19)
                raise SCPIError(-221, "Settings conflict;pulse width must be shorter than "
                                      "the period")
            t[key], t["width"] = value, width
            if key == "period":
                t["frequency"] = 1.0 / value
            if key in ("width", "transition"):
                self._refresh(ch)
        return setter

    def _timing_getter(self, key: str):
        return lambda **kw: self._timing(_ch(kw))[key]

    def _set_frequency(self, hz: float, **kw) -> None:
        self._timing_setter("period")(1.0 / hz, **kw)
        self._timing(_ch(kw))["frequency"] = hz        # read back as set, not as 1/(1/f)

    # --- physics hooks -------------------------------------------------------------------
    def drive(self, ch: int) -> Drive:
        high, low = self._hl(ch)
        inverted = self.output("polarity", ch) == "INV"
        high_out, low_out = self.output("high", ch), self.output("low", ch)
        t = self._timing(ch)
        shape = self.get("shape", ch)
        if shape == "PULS":
            base, pulse = (high_out, low_out) if inverted else (low_out, high_out)
        else:
            base = pulse = (high_out + low_out) / 2          # the offset
        return Drive(on=bool(self.output("output", ch)), shape=shape, base_V=base,
                     pulse_V=pulse, width_s=t["width"], rise_s=t["transition"],
                     period_s=t["period"], load_ohm=t["load"],
                     amplitude_Vpp=high_out - low_out, frequency_Hz=1.0 / t["period"])


def _keysight_33500b_spec() -> _Spec:
    src = "[SOURce[1|2]]"
    return _Spec(
        shape=f"{src}:FUNCtion",
        shapes=("SINusoid", "SQUare", "TRIangle", "RAMP", "PULSe", "PRBS", "NOISe", "ARB",
                "DC"),
        frequency=f"{src}:FREQuency",
        amplitude=f"{src}:VOLTage[:LEVel][:IMMediate][:AMPLitude]",
        offset=f"{src}:VOLTage[:LEVel][:IMMediate]:OFFSet",
        high=f"{src}:VOLTage[:LEVel][:IMMediate]:HIGH",
        low=f"{src}:VOLTage[:LEVel][:IMMediate]:LOW",
        period=(f"{src}:FUNCtion:PULSe:PERiod",),
        width=(f"{src}:FUNCtion:PULSe:WIDTh",),
        transition=(f"{src}:FUNCtion:PULSe:TRANsition[:BOTH]",),
        output="OUTPut[1|2][:STATe]",
        polarity="OUTPut[1|2]:POLarity",
        load="OUTPut[1|2]:LOAD",
        min_vpp=1e-3,
        frequency_range=(1e-6, 30e6), width_range=(16e-9, 1e6), period_range=(33e-9, 1e6),
        transition_range=(8.4e-9, 1e-6),
        default_frequency=1e3, default_width=100e-6, default_transition=10e-9,
        load_range=(1.0, 10e3), unit=f"{src}:VOLTage:UNIT",
        square_duty=f"{src}:FUNCtion:SQUare:DCYCle", square_duty_range=(0.01, 99.99),
        ramp_symmetry=f"{src}:FUNCtion:RAMP:SYMMetry",
        pulse_hold=(f"{src}:FUNCtion:PULSe:HOLD",), pulse_duty=(f"{src}:FUNCtion:PULSe:DCYCle",),
        apply=f"{src}:APPLy")


class Keysight33500BTwin(_KeysightTwin):
    """Keysight 33500B Trueform waveform generator (33522B, two channels), SCPI.

    Commands ([SOURce[1|2]:] optional): FUNCtion, FREQuency, VOLTage[:AMPLitude] (Vpp),
    VOLTage:OFFSet, VOLTage:HIGH/LOW, FUNCtion:PULSe:WIDTh/PERiod/TRANsition[:BOTH],
    BURSt:STATe/MODE/NCYCles/INTernal:PERiod, OUTPut[1|2][:STATe], OUTPut[1|2]:POLarity
    NORM|INV, OUTPut[1|2]:LOAD <Ω>|INF (1 Ω–10 kΩ; the set levels follow, the EMF is
    kept), TRIGger[1|2]:SOURce IMM|EXT|TIM|BUS, VOLTage:UNIT, FUNCtion:SQUare:DCYCle,
    FUNCtion:RAMP:SYMMetry, FUNCtion:PULSe:HOLD/DCYCle, PHASe, the arbitrary-waveform
    memory (DATA:ARBitrary[:DAC], DATA:VOLatile:*, FUNCtion:ARBitrary[:SRATe|:ADVance|
    :FILTer]), FREQuency:MODE, TRIGger[1|2]:SLOPe/COUNt/DELay/TIMer, BURSt:PHASe,
    BURSt:GATE:POLarity, OUTPut:SYNC[:SOURce] (stored and read back), *TRG, SYSTem:ERRor?.
    *RST: SIN, 1 kHz, 100 mVpp, 0 V offset, pulse width
    100 µs, edges 10 ns, load 50 Ω, burst off (triggered, 1 cycle), trigger source IMM,
    outputs off, Vpp, square 50 %, ramp symmetry 100 %, hold width, arb EXP_RISE at 40 kSa/s,
    frequency mode CW, trigger slope POS, count 1, delay 0, timer 1 s, burst phase 0, gate
    polarity NORM, sync on from CH1.
    Limits: 1 mVpp–10 Vpp and ±5 V levels into 50 Ω, width 16 ns–1 Ms, period 33 ns–1 Ms,
    edges 8.4 ns–1 µs.
    """

    idn = "Keysight Technologies,33522B,MY00000000,4.00-3.15-2.00-58-00"
    SPEC = _keysight_33500b_spec()
    RESCALE_ON_LOAD = True

    def __init__(self, bench: VirtualBench, name: str = "pulse_generator", **wiring):
        super().__init__(bench, name, **wiring)
        src = "[SOURce[1|2]]"
        self.arb = ArbMemory(self, _ch, src)
        mode = lambda value, ch=1: self._mode_changed(ch)       # noqa: E731
        self.add_parameter("burst_state", f"{src}:BURSt:STATe", bool, default=False,
                           on_change=mode)
        self.add_parameter("burst_mode", f"{src}:BURSt:MODE", choices=["TRIGgered", "GATed"],
                           default="TRIG", on_change=mode)
        self.add_parameter("burst_ncycles", f"{src}:BURSt:NCYCles", int,
                           range=(1, 100_000_000), default=1)
        self.add_parameter("burst_period", f"{src}:BURSt:INTernal:PERiod", float,
                           range=(1e-6, 8000.0), default=10e-3, fmt=KEYSIGHT_FLOAT)
        # Waveform phase (degrees, -360..360): stored and read back; the bench's drive has
        # no phase reference, so it does not change what the sample sees.
        self.add_parameter("phase", f"{src}:PHASe[:ADJust]", float, range=(-360.0, 360.0),
                           default=0.0, fmt=KEYSIGHT_FLOAT)
        self.add_parameter("trigger_source", "TRIGger[1|2]:SOURce",
                           choices=["IMMediate", "EXTernal", "TIMer", "BUS"], default="IMM",
                           on_change=mode)
        # Stored and read back (what QCoDeS's Keysight33xxx snapshot reads); a timer or
        # external trigger's timing, count, delay and slope do not reach the sample (see
        # Known deviations): the burst's pulses are those of BURSt:NCYCles.
        self.add_parameter("frequency_mode", f"{src}:FREQuency:MODE",
                           choices=["CW", "LIST", "SWEep", "FIXed"], default="CW")
        self.add_parameter("trigger_slope", "TRIGger[1|2]:SLOPe",
                           choices=["POSitive", "NEGative"], default="POS")
        self.add_parameter("trigger_count", "TRIGger[1|2]:COUNt", int, range=(1, 1_000_000),
                           default=1)
        self.add_parameter("trigger_delay", "TRIGger[1|2]:DELay", float, range=(0.0, 1000.0),
                           default=0.0, fmt=KEYSIGHT_FLOAT)
        self.add_parameter("trigger_timer", "TRIGger[1|2]:TIMer", float, range=(1e-6, 8000.0),
                           default=1.0, fmt=KEYSIGHT_FLOAT)
        self.add_parameter("burst_phase", f"{src}:BURSt:PHASe", float, range=(-360.0, 360.0),
                           default=0.0, fmt=KEYSIGHT_FLOAT)
        self.add_parameter("burst_gate_polarity", f"{src}:BURSt:GATE:POLarity",
                           choices=["NORMal", "INVerted"], default="NORM")
        self.add_parameter("sync_output", "OUTPut:SYNC[:STATe]", bool, default=True)
        self.add_parameter("sync_source", "OUTPut:SYNC:SOURce", choices=["CH1", "CH2"],
                           default="CH1")
        self.add_command("SYSTem:BEEP", lambda: None)
        self._remember_modes()

    def on_reset(self) -> None:
        if hasattr(self, "arb"):
            self.arb.reset()
        super().on_reset()

    def triggered(self, ch: int) -> bool:
        return (self.get("burst_state", ch) and self.get("burst_mode", ch) == "TRIG"
                and self.get("trigger_source", ch) == "BUS")

    def free_running(self, ch: int) -> bool:
        return not self.get("burst_state", ch) or (
            self.get("burst_mode", ch) == "TRIG"
            and self.get("trigger_source", ch) in ("IMM", "TIM"))

    def burst_count(self, ch: int) -> int:
        return int(self.get("burst_ncycles", ch))


def _keysight_81160a_spec() -> _Spec:
    return _Spec(
        shape="[SOURce]:FUNCtion[1|2][:SHAPe]",
        shapes=("SINusoid", "SQUare", "RAMP", "PULSe", "NOISe", "DC", "USER"),
        frequency="[SOURce]:FREQuency[1|2][:CW]",
        amplitude="[SOURce]:VOLTage[1|2][:LEVel][:IMMediate][:AMPLitude]",
        offset="[SOURce]:VOLTage[1|2][:LEVel][:IMMediate]:OFFSet",
        high="[SOURce]:VOLTage[1|2][:LEVel][:IMMediate]:HIGH",
        low="[SOURce]:VOLTage[1|2][:LEVel][:IMMediate]:LOW",
        period=("[SOURce]:PULSe:PERiod[1|2]", "[SOURce]:FUNCtion[1|2]:PULSe:PERiod"),
        width=("[SOURce]:PULSe:WIDTh[1|2]", "[SOURce]:FUNCtion[1|2]:PULSe:WIDTh"),
        transition=("[SOURce]:PULSe:TRANsition[1|2][:LEADing]",
                    "[SOURce]:FUNCtion[1|2]:PULSe:TRANsition"),
        output="OUTPut[1|2][:STATe]",
        polarity="OUTPut[1|2]:POLarity",
        load="OUTPut[1|2]:LOAD",
        min_vpp=0.05,
        frequency_range=(1e-6, 500e6), width_range=(1.5e-9, 1e6), period_range=(2e-9, 1e6),
        transition_range=(1e-9, 1e3),
        default_frequency=1e6, default_width=100e-9, default_transition=1e-9,
        load_range=(0.3, 1e6), unit="[SOURce]:VOLTage[1|2]:UNIT",
        square_duty="[SOURce]:FUNCtion[1|2]:SQUare:DCYCle",
        square_duty_range=(1.5e-4, 100 - 1.5e-4),     # 1.5 ns of a 1 kHz period
        ramp_symmetry="[SOURce]:FUNCtion[1|2]:RAMP:SYMMetry",
        pulse_hold=("[SOURce]:PULSe:HOLD[1|2]", "[SOURce]:FUNCtion[1|2]:PULSe:HOLD"),
        pulse_duty=("[SOURce]:PULSe:DCYCle[1|2]", "[SOURce]:FUNCtion[1|2]:PULSe:DCYCle"),
        apply="APPLy[1|2]")


class Keysight81160ATwin(_KeysightTwin):
    """Keysight 81160A pulse function arbitrary noise generator (two channels), SCPI with
    the channel on the node (``:VOLT2:HIGH``, ``:PULS:WIDT2``, ``:OUTP2``).

    Commands: :FUNCtion[1|2], :FREQuency[1|2], :VOLTage[1|2][:AMPLitude]/:OFFSet/:HIGH/:LOW,
    :PULSe:WIDTh[1|2], :PULSe:PERiod[1|2], :PULSe:TRANsition[1|2] (also pymeasure's
    :FUNC<n>:PULS:TRAN), :OUTPut[1|2][:STATe]/:POLarity/:LOAD, :ARM:SOURce[1|2]
    IMM|INT2|EXT|MAN, :TRIGger[1|2]:COUNt (pulses per trigger; :BURSt[1|2]:NCYCles is the
    same count, :BURSt[1|2]:STATe/MODE/INTernal:PERiod are kept), :OUTPut[1|2]:LOAD
    (0.3 Ω–1 MΩ), :VOLTage[1|2]:UNIT, :VOLTage[1|2]:LIMit:STATe/HIGH/LOW (with the state
    on, levels outside the limits: -221), :FUNCtion[1|2]:SQUare:DCYCle / :RAMP:SYMMetry,
    :PULSe:HOLD[1|2] / :DCYCle[1|2] (also as :FUNC:PULS:…, pymeasure's spelling),
    :TRACe:CHANnel[1|2], *TRG, SYSTem:ERRor?. *RST: SIN, 1 MHz, 100 mVpp, pulse width
    100 ns, transitions 1 ns, ARM:SOUR IMM, count 1, outputs off, limits off (±5 V).
    Limits: 50 mVpp–10 Vpp and ±5 V levels into 50 Ω, width ≥ 1.5 ns, period ≥ 2 ns.
    """

    idn = "Agilent Technologies,81160A,MY00000000,2.2.0.0-2.2"
    SPEC = _keysight_81160a_spec()

    def __init__(self, bench: VirtualBench, name: str = "pulse_generator", **wiring):
        super().__init__(bench, name, **wiring)
        self.add_parameter("arm_source", "ARM:SOURce[1|2]",
                           choices=["IMMediate", "INTernal2", "EXTernal", "MANual"],
                           default="IMM", on_change=lambda value, ch=1: self._mode_changed(ch))
        self.add_parameter("count", "TRIGger[1|2]:COUNt", int, range=(1, 2_147_483_647),
                           default=1)
        self.add_command("[SOURce]:BURSt[1|2]:NCYCles",
                         lambda n, **kw: self.set("count", n, _ch(kw)),
                         args=(Arg(int, range=(1, 2_147_483_647)),))
        self.add_query("[SOURce]:BURSt[1|2]:NCYCles", lambda **kw: self.get("count", _ch(kw)))
        self.add_parameter("burst_state", "[SOURce]:BURSt[1|2]:STATe", bool, default=False)
        # stored and read back: the triggering that reaches the sample is ARM:SOURce's
        self.add_parameter("burst_mode", "[SOURce]:BURSt[1|2]:MODE",
                           choices=["TRIGgered", "GATed"], default="TRIG")
        self.add_parameter("burst_period", "[SOURce]:BURSt[1|2]:INTernal:PERiod", float,
                           range=(3.03e-9, 1e6), default=1e-6, fmt=KEYSIGHT_FLOAT)
        self.add_parameter("coupling", "TRACe:CHANnel[1|2]", bool, default=False)
        self.add_parameter("limit_state", "[SOURce]:VOLTage[1|2]:LIMit:STATe", bool,
                           default=False)
        self.add_parameter("limit_high", "[SOURce]:VOLTage[1|2]:LIMit[:HIGH]", float,
                           range=(-9.99, 10.0), default=5.0, fmt=KEYSIGHT_FLOAT)
        self.add_parameter("limit_low", "[SOURce]:VOLTage[1|2]:LIMit:LOW", float,
                           range=(-10.0, 9.99), default=-5.0, fmt=KEYSIGHT_FLOAT)
        self._remember_modes()

    def _check_limits(self, ch: int, *levels: float) -> None:
        """With VOLTage:LIMit:STATe on, levels outside LIMit:LOW…HIGH are refused."""
        if self.get("limit_state", ch) and not all(
                self.get("limit_low", ch) <= v <= self.get("limit_high", ch) for v in levels):
            raise SCPIError(-221, "Settings conflict;level outside the voltage limits")

    def triggered(self, ch: int) -> bool:
        return self.get("arm_source", ch) == "MAN"

    def free_running(self, ch: int) -> bool:
        return self.get("arm_source", ch) in ("IMM", "INT2")

    def burst_count(self, ch: int) -> int:
        return int(self.get("count", ch))


class Picosecond10070ATwin(_PulseTwin):
    """Picosecond Pulse Labs Model 10,070A pulse generator: GPIB, lowercase long-form
    commands with 4-letter short forms, replies with or without a header.

    Commands: amplitude (±7.5 V, |A| ≥ 75 mV), duration (100 ps–10.2 ns), delay (0–63 ns),
    offset (±5 V), period (10 µs–1 s) ↔ frequency (1 Hz–100 kHz), trigger
    INT|EXT|MAN|GPIB, level (trigger level, ±5 V), enable / disable / enable? (YES|NO) /
    disable?, header ON|OFF, *TRG, IEEE 488.2 common commands (errors: *ESR? bits).
    *RST: amplitude 75 mV, duration 1 ns, offset 0 V, delay 0, period 1 ms, trigger INT,
    disabled, header ON.
    """
    AUDIT_SWITCH = "enabled"

    def audited_levels(self):        # the dc baseline (pulse levels are not slew-limited)
        return {"offset": ("offset", 1.0)}

    idn = "PICOSECOND PULSE LABS,10070A,000000,1.0"
    scpi = False
    termination = "\n"
    RISE_S = 65e-12
    """Transition time (s) of the pulse edges (assumed)."""
    MIN_AMPLITUDE = 0.075

    def __init__(self, bench: VirtualBench, name: str = "pulse_generator", **wiring):
        super().__init__(bench, name, **wiring)
        refresh = lambda *_: self._refresh(self.channel)        # noqa: E731
        num = lambda header: lambda v: self._reply(header, f"{v:.3E}")   # noqa: E731
        self.add_parameter("header", "HEADer", bool, default=True)
        self.add_parameter("amplitude", "AMPLitude", float, range=(-7.5, 7.5), default=0.075,
                           fmt=num("AMPLITUDE"), output=True)
        self.add_command("AMPLitude", self._set_amplitude, args=(Arg(float, range=(-7.5, 7.5)),))
        self.add_parameter("duration", "DURAtion", float, range=(100e-12, 10.2e-9),
                           default=1e-9, fmt=num("DURATION"), on_change=refresh)
        self.add_parameter("delay", "DELAy", float, range=(0.0, 63e-9), default=0.0,
                           fmt=num("DELAY"))
        self.add_parameter("offset", "OFFSet", float, range=(-5.0, 5.0), default=0.0,
                           fmt=num("OFFSET"), output=True, on_change=refresh)
        self.add_parameter("level", "LEVEl", float, range=(-5.0, 5.0), default=0.0,
                           fmt=num("LEVEL"))
        self.add_parameter("period", "PERIod", float, range=(10e-6, 1.0), default=1e-3,
                           fmt=num("PERIOD"))
        self.add_command("FREQuency", lambda hz: self.set("period", 1.0 / hz),
                         args=(Arg(float, range=(1.0, 100e3)),))
        self.add_query("FREQuency", lambda: self._reply("FREQUENCY",
                                                        f"{1.0 / self.get('period'):.3E}"))
        self.add_parameter("trigger", "TRIGger",
                           choices=["INTernal", "EXTernal", "MANual", "GPIB"], default="INT",
                           fmt=lambda v: self._reply("TRIGGER", v),
                           on_change=lambda *_: self._mode_changed(self.channel))
        self.add_parameter("enabled", "ENABle", bool, default=False, output=True,
                           fmt=lambda v: self._reply("ENABLE", "YES" if v else "NO"))
        self.add_command("ENABle", lambda: self._enable(True))
        self.add_command("DISAble", lambda: self._enable(False))
        self.add_query("DISAble", lambda: self._reply(
            "DISABLE", "NO" if self.get("enabled") else "YES"))
        self._remember_modes()

    def _reply(self, header: str, text: str) -> str:
        return f"{header} {text}" if self.get("header") else text

    def _set_amplitude(self, volts: float) -> None:
        if abs(volts) < self.MIN_AMPLITUDE:
            raise SCPIError(-222)
        self._store(self._params["amplitude"], (), volts, apply=not self._stuck)
        self._refresh(self.channel)

    def _enable(self, on: bool) -> None:
        self._store(self._params["enabled"], (), on, apply=not self._stuck)
        self._refresh(self.channel)

    def drive(self, ch: int) -> Drive:
        offset = self.output("offset")
        return Drive(on=bool(self.output("enabled")), shape="PULS", base_V=offset,
                     pulse_V=offset + self.output("amplitude"), width_s=self.get("duration"),
                     rise_s=self.RISE_S, period_s=self.get("period"))

    def triggered(self, ch: int) -> bool:
        return self.get("trigger") == "GPIB"

    def free_running(self, ch: int) -> bool:
        return self.get("trigger") == "INT"

    def trigger(self) -> None:
        """*TRG: one pulse after ``delay`` (trigger GPIB), else -211."""
        if self.triggered(self.channel):
            self.clock.sleep(self.get("delay"))
        super().trigger()


TWINS = {
    "keysight81160a": Keysight81160ATwin,
    "keysight33500b": Keysight33500BTwin,
    "psp10070a": Picosecond10070ATwin,
}
"""Driver registry key → twin class."""
