"""What the Keysight function/pulse generators (33500B, 81160A) share: the SCPI of levels
(HIGH/LOW ↔ amplitude/offset, VOLTage:UNIT), timing, output, polarity and expected load per
channel (:class:`KeysightTwin`), written once from each model's command patterns and limits
(:class:`KeysightSpec`).

Wiring keywords, the 50 Ω drive model, triggering and the known deviations of the pulse
generator twins: :mod:`labspin.sim_backend.sim_pulse`.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

from .scpi import Arg, SCPIError
from .sim_pulse_common import HIGH_Z, Drive, PulseTwin
from .virtual_bench import Z0, VirtualBench

KEYSIGHT_FLOAT = "{:+.15E}"
"""Keysight reply format (e.g. +2.500000000000000E+00)."""


def load_gain(load_ohm: float) -> float:
    """The level across an expected load per volt of EMF, ×2 (1 into 50 Ω, 2 into high Z)."""
    return 2.0 if load_ohm >= HIGH_Z else 2.0 * load_ohm / (load_ohm + Z0)


def channel_of(suffixes: dict) -> int:
    """The channel from a handler's suffix keywords (1 when absent)."""
    return next(iter(suffixes.values()), 1) if suffixes else 1


@dataclass(frozen=True)
class KeysightSpec:
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



class KeysightTwin(PulseTwin):
    """Levels (HIGH/LOW ↔ amplitude/offset), timing, output, polarity and expected load of
    a Keysight generator, per channel. Levels are limited to ±5 V into 50 Ω (±10 V into
    high Z): out of range -222; HIGH set below LOW (or LOW above HIGH) takes the other level
    along, the smallest amplitude apart; an offset the amplitude leaves no room for is
    moved to the nearest one allowed, with -222; in DC only the offset counts. A width not
    shorter than the period -221. The amplitude is read and set in VOLTage:UNIT (VPP, VRMS
    or DBM into the expected load, through the shape's crest factor). Pulse HOLD WIDTh keeps
    the width when the period changes, DCYCle the duty cycle. Square duty cycle and ramp
    symmetry are stored and read back (those shapes drive only their offset)."""

    SPEC: KeysightSpec
    N_CHANNELS = 2
    RESCALE_ON_LOAD = False
    """Whether a new expected load rescales the set levels (the EMF is kept) instead of
    refusing levels the new load's window cannot hold."""

    def audited_switches(self):      # each channel's output (pulse levels are not slewed)
        return tuple(f"output[{ch}]" for ch in range(1, self.N_CHANNELS + 1))

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
        self.add_command(s.high, lambda v, **kw: self._set_levels(channel_of(kw), high=v),
                         args=(Arg(float),))
        self.add_command(s.low, lambda v, **kw: self._set_levels(channel_of(kw), low=v),
                         args=(Arg(float),))
        self.add_command(s.amplitude, lambda v, **kw: self._set_amplitude(
            self._vpp(v, channel_of(kw)), **kw), args=(Arg(float),))
        self.add_query(s.amplitude, lambda **kw: self._in_unit(
            self._hl(channel_of(kw))[0] - self._hl(channel_of(kw))[1], channel_of(kw)),
            fmt=KEYSIGHT_FLOAT)
        self.add_command(s.offset, self._set_offset, args=(Arg(float),))
        self.add_query(s.offset, lambda **kw: sum(self._hl(channel_of(kw))) / 2, fmt=KEYSIGHT_FLOAT)
        self.add_parameter("output", s.output, bool, default=False, output=True,
                           on_change=refresh)
        self.add_parameter("polarity", s.polarity, choices=["NORMal", "INVerted"],
                           default="NORM", output=True, on_change=refresh)
        self.add_command(s.load, self._set_load, args=None)
        self.add_query(s.load, lambda **kw: self._timing(channel_of(kw))["load"],
                       fmt=KEYSIGHT_FLOAT)
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
        self.add_query(s.frequency, lambda **kw: self._timing(channel_of(kw))["frequency"],
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
            self.add_command(pattern, lambda v, **kw: self.set("pulse_hold", v, channel_of(kw)),
                             args=(Arg(str, choices=["WIDTh", "DCYCle"]),))
            self.add_query(pattern, lambda **kw: self.get("pulse_hold", channel_of(kw)))
        for pattern in s.pulse_duty:
            self.add_command(pattern, self._set_pulse_duty, args=(Arg(float, range=(0, 100)),))
            self.add_query(pattern, lambda **kw: 100.0 * self._timing(channel_of(kw))["width"]
                           / self._timing(channel_of(kw))["period"], fmt=KEYSIGHT_FLOAT)

    def _apply_setter(self, word: str):
        """APPLy:<shape> [freq (Hz)[, amplitude (Vpp)[, offset (V)]]]; DEF keeps a value."""
        shape = "".join(c for c in word if not c.islower())

        def setter(*tokens: str, **kw) -> None:
            ch = channel_of(kw)
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
        ch = channel_of(kw)
        high, low = self._hl(ch)
        offset = (high + low) / 2
        if not self.SPEC.min_vpp <= vpp <= 2 * self._level_limit(ch):
            raise SCPIError(-222)
        self._set_levels(ch, offset + vpp / 2, offset - vpp / 2)

    def _set_offset(self, offset: float, **kw) -> None:
        ch = channel_of(kw)
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
        t = self._timing(channel_of(kw))
        self._timing_setter("width")(percent / 100.0 * t["period"], **kw)

    def _set_load(self, *tokens: str, **kw) -> None:
        ch = channel_of(kw)
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
            gain = load_gain(load) / load_gain(old)
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
            ch = channel_of(kw)
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
        return lambda **kw: self._timing(channel_of(kw))[key]

    def _set_frequency(self, hz: float, **kw) -> None:
        self._timing_setter("period")(1.0 / hz, **kw)
        self._timing(channel_of(kw))["frequency"] = hz        # read back as set, not as 1/(1/f)

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
