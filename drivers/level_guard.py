"""A limit check on the write path of the level/polarity pulse generators (issue 13).

pymeasure's channel controls format their SCPI command and hand it to the instrument's
``write()``; so do ``apply_*``, the role members and a raw ``write()``. :class:`LevelGuard`
reads every message there before it is sent, keeps a per-channel shadow of the output
levels the driver wrote, and refuses (:class:`LimitError`, nothing sent) a message after
which a level would lie outside the allowed range.

Understood, per ``;``-separated unit, with SCPI's short/long forms (``VOLT``/``VOLTage``),
channel suffixes (``SOUR2:VOLT``, ``:VOLT2:HIGH``), ``:`` roots and the compound-command
path rule (``VOLT:HIGH 1;LOW 0`` sets VOLT:LOW):

* ``[SOURce[n]:]VOLTage[n][:LEVel][:IMMediate][:AMPLitude] <Vpp>``, ``…:OFFSet <V>``,
  ``…:HIGH <V>``, ``…:LOW <V>``: the new levels follow the instrument's rules (amplitude
  and offset move both levels; HIGH keeps LOW and LOW keeps HIGH);
* ``[SOURce[n]:]APPLy[n]:<shape> freq, amplitude (Vpp), offset`` (``DC``: the offset);
* ``OUTPut[n][:STATe] ON|OFF``, tracked: switching on is refused while the levels are
  unknown after an amplitude or offset write made with the output off, or beyond the range.

Refused outright (the shadow could not follow them): a value that is not a number of volts
(``MIN``/``MAX``/``DEF``, dBm or Vrms units, ``VOLTage:UNIT`` other than VPP), current
levels (the 81160A's ``CURRent…``), channel coupling (``VOLTage:COUPle``, the 81160A's
``TRACe:CHANnel``), amplitude or sum modulation and adding channels (``AM:STATe``,
``SUM:STATe``, ``COMBine:FEED``, ``CHANnel:MATH``), an expected load below 50 Ω or a source
impedance other than 50 Ω (``OUTPut:LOAD``, ``OUTPut:IMPedance``: the same level would then
drive more current into a short), and a stored state (``*RCL``, ``MEMory:STATe:RECall``).
An amplitude or offset write with the other unknown (before ``configure_pulse_mode()``) is
refused while the output may be on. Anything else passes unread.

The allowed range is the ``amplitude`` limit in force (V), widened to hold the 0 V
baseline and ±``MIN_AMPLITUDE``, the level a sign change passes through.
"""
from __future__ import annotations

import math
import re
from dataclasses import dataclass, field

from labspin.bench.safety import LimitError

_KEPT = {"high": "low", "low": "high", "amp": "off", "off": "amp"}
"""Which quantity a write of each one leaves unchanged."""

_NUMBER = re.compile(r"^([+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?)\s*([A-Za-z]*)$")
_VOLT_UNITS = {"": 1.0, "V": 1.0, "MV": 1e-3, "UV": 1e-6}
_VPP_UNITS = {**_VOLT_UNITS, "VPP": 1.0, "MVPP": 1e-3, "UVPP": 1e-6}
_OHM_UNITS = {"": 1.0, "OHM": 1.0, "KOHM": 1e3}
_HEADER = re.compile(r"^(\S+)\s*(.*)$", re.S)
_NODE = re.compile(r"^([A-Za-z_]+?)(\d*)$")


def _is(node: str, short: str, long: str) -> bool:
    """Whether mnemonic ``node`` (upper case, suffix removed) is ``short`` or ``long``."""
    return node.startswith(short) and long.startswith(node)


def _number(text: str, units: dict[str, float]) -> float | None:
    """Get the value of ``text`` in the base unit, or None (a keyword, an unknown unit)."""
    m = _NUMBER.match(text.strip())
    if not m or m.group(2).upper() not in units:
        return None
    value = float(m.group(1)) * units[m.group(2).upper()]
    return value if math.isfinite(value) else None


def _levels(known: dict[str, float]) -> tuple[float, float] | None:
    """Get (high, low) in V from two known quantities, or None."""
    h, lo, a, o = (known.get(k) for k in ("high", "low", "amp", "off"))
    if h is not None and lo is not None:
        return h, lo
    if a is not None and o is not None:
        return o + a / 2, o - a / 2
    if a is not None:
        return (h, h - a) if h is not None else (lo + a, lo) if lo is not None else None
    if o is not None:
        return (h, 2 * o - h) if h is not None else (2 * o - lo, lo) if lo is not None \
            else None
    return None


@dataclass
class _Channel:
    known: dict[str, float] = field(default_factory=dict)
    """Up to two of high, low (V), amp (Vpp), off (V): what the driver last wrote."""
    output: bool | None = None
    """The output state last written (None: never written)."""
    unverified: bool = False
    """An amplitude or offset was written with the output off and the levels unknown."""

    def set(self, key: str, value: float) -> None:
        kept = _KEPT[key]
        full = _levels(self.known)
        if full is not None:
            h, lo = full
            self.known = {key: value, kept: {"high": h, "low": lo, "off": (h + lo) / 2,
                                             "amp": h - lo}[kept]}
        else:
            self.known = {key: value, **({kept: self.known[kept]} if kept in self.known
                                         else {})}


class _Refused(Exception):
    """Internal: why a unit is refused (turned into a LimitError naming the message)."""


class LevelGuard:
    """Shadow of the levels of ``channels`` and the check of each message against them."""

    def __init__(self, channels=(1, 2)):
        self.channels = {n: _Channel() for n in channels}

    def check(self, message: str, allowed: tuple[float, float], what: str) -> dict:
        """Get the channels' state after ``message`` if every level stays within
        ``allowed`` = (low, high) V, else raise LimitError naming ``what`` (the instrument
        and its limit), the message, the level and the range. Nothing is changed here:
        pass the result to :meth:`commit`."""
        state = {n: _Channel(dict(c.known), c.output, c.unverified)
                 for n, c in self.channels.items()}
        prefix: list[str] = []
        for unit in message.split(";"):
            unit = unit.strip()
            if not unit:
                continue
            try:
                prefix = self._unit(unit, prefix, state, allowed)
            except _Refused as why:
                lo, hi = allowed
                raise LimitError(f"{what}: {message!r} refused, {why}; allowed range "
                                 f"[{lo:g}, {hi:g}] V") from None
        return state

    def commit(self, state: dict) -> None:
        """Take the state :meth:`check` returned as the shadow (the message was sent)."""
        self.channels = state

    # ---- one program message unit ----------------------------------------------------

    def _unit(self, unit: str, prefix: list[str], state: dict, allowed) -> list[str]:
        header, args = _HEADER.match(unit).groups()
        if header.startswith("*"):
            common = header.upper()
            if common.startswith("*RCL"):
                raise _Refused("a recalled state's levels are unknown")
            if common == "*RST":            # default levels, outputs off
                for n in state:
                    state[n] = _Channel(output=False)
            return prefix
        nodes = header.strip(":").split(":")
        nodes = nodes if header.startswith(":") else prefix + nodes
        new_prefix = nodes[:-1]
        if header.endswith("?"):
            return new_prefix
        parsed = []
        for node in nodes:
            m = _NODE.match(node)
            if not m:
                return new_prefix           # not a level command we know of
            parsed.append((m.group(1).upper(), m.group(2)))
        self._setting(parsed, args.strip(), state, allowed)
        return new_prefix

    def _setting(self, nodes, args: str, state: dict, allowed) -> None:
        suffix = ""
        if nodes and _is(nodes[0][0], "SOUR", "SOURCE"):
            suffix = nodes[0][1]
            nodes = nodes[1:]
        if not nodes:
            return
        (root, root_suffix), rest = nodes[0], [n for n, _ in nodes[1:]]
        channel = root_suffix or suffix or "1"
        if _is(root, "VOLT", "VOLTAGE") or _is(root, "CURR", "CURRENT"):
            while rest and (_is(rest[0], "LEV", "LEVEL") or _is(rest[0], "IMM", "IMMEDIATE")):
                rest = rest[1:]
            key = ("amp" if not rest or (len(rest) == 1 and _is(rest[0], "AMPL", "AMPLITUDE"))
                   else next((k for k, (s, lg) in {"off": ("OFFS", "OFFSET"),
                                                   "high": ("HIGH", "HIGH"),
                                                   "low": ("LOW", "LOW")}.items()
                              if len(rest) == 1 and _is(rest[0], s, lg)), None))
            if key is not None and _is(root, "CURR", "CURRENT"):
                raise _Refused("current levels are not followed (set voltage levels)")
            if key is not None:
                value = _number(args, _VPP_UNITS if key == "amp" else _VOLT_UNITS)
                if value is None:
                    raise _Refused(f"the value {args!r} is not a number of volts")
                self._apply(state, channel, {key: value}, allowed)
            elif rest and _is(rest[0], "UNIT", "UNIT") and args.upper() != "VPP":
                raise _Refused("the amplitude unit must stay VPP")
            elif rest and _is(rest[0], "COUP", "COUPLE") and args.upper() not in ("0", "OFF"):
                raise _Refused("coupled channels are not followed")
        elif _is(root, "APPL", "APPLY"):
            self._apply_shape(state, channel, rest, args, allowed)
        elif _is(root, "OUTP", "OUTPUT"):
            self._output(state, channel, rest, args, allowed)
        elif _is(root, "TRAC", "TRACE") and rest and _is(rest[0], "CHAN", "CHANNEL") \
                and args.upper() not in ("0", "OFF"):
            raise _Refused("coupled channels are not followed")
        elif _is(root, "MEM", "MEMORY") and any(_is(r, "REC", "RECALL") for r in rest):
            raise _Refused("a recalled state's levels are unknown")
        elif (_is(root, "AM", "AM") or _is(root, "SUM", "SUM")) \
                and (not rest or _is(rest[0], "STAT", "STATE")) \
                and args.upper() not in ("0", "OFF"):
            raise _Refused("amplitude and sum modulation can drive the output beyond its "
                           "levels")
        elif ((_is(root, "COMB", "COMBINE") and rest and _is(rest[0], "FEED", "FEED")
               and args.upper() not in ("NONE", '"NONE"'))
              or (_is(root, "CHAN", "CHANNEL") and rest and _is(rest[0], "MATH", "MATH")
                  and args.upper() != "OFF")):
            raise _Refused("a channel added to another drives it beyond its levels")

    def _apply_shape(self, state, channel, rest, args, allowed) -> None:
        values = [a.strip() for a in args.split(",")] if args else []
        if rest and rest[0] == "DC":
            offset = _number(values[2], _VOLT_UNITS) if len(values) == 3 else None
            if offset is None:
                raise _Refused("the DC level must be given in volts")
            self._apply(state, channel, {"high": offset, "low": offset}, allowed)
            self._channel(state, channel).output = True
            return
        amp = _number(values[1], _VPP_UNITS) if len(values) == 3 else None
        offset = _number(values[2], _VOLT_UNITS) if len(values) == 3 else None
        if amp is None or offset is None:
            raise _Refused("amplitude and offset must both be given in volts")
        self._apply(state, channel, {"amp": amp, "off": offset}, allowed)
        self._channel(state, channel).output = True        # APPLy switches the output on

    def _output(self, state, channel, rest, args, allowed) -> None:
        word = args.upper()
        if not rest or (len(rest) == 1 and _is(rest[0], "STAT", "STATE")):
            if word not in ("ON", "OFF", "1", "0"):
                raise _Refused(f"the output state {args!r} is not ON/OFF")
            ch = self._channel(state, channel)
            if word in ("ON", "1"):
                if ch.unverified:
                    raise _Refused(f"channel {channel} levels are unknown (an amplitude or "
                                   "offset was set with the other unknown): set VOLT:HIGH "
                                   "and VOLT:LOW first")
                self._check_levels(ch, channel, allowed)
            ch.output = word in ("ON", "1")
        elif _is(rest[0], "LOAD", "LOAD") or (_is(rest[0], "IMP", "IMPEDANCE")
                                              and len(rest) > 1
                                              and _is(rest[1], "EXT", "EXTERNAL")):
            load = _number(args, _OHM_UNITS)
            if word not in ("INF", "INFINITY") and (load is None or load < 50.0):
                raise _Refused("the expected load must stay ≥ 50 Ω or INF")
        elif _is(rest[0], "IMP", "IMPEDANCE"):
            if _number(args, _OHM_UNITS) != 50.0:
                raise _Refused("the source impedance must stay 50 Ω")

    def _channel(self, state, channel: str) -> _Channel:
        ch = state.get(int(channel))
        if ch is None:
            raise _Refused(f"there is no channel {channel}")
        return ch

    def _apply(self, state, channel: str, values: dict[str, float], allowed) -> None:
        ch = self._channel(state, channel)
        for key, value in values.items():
            ch.set(key, value)
        full = _levels(ch.known)
        if full is None and not set(values) <= {"high", "low"}:
            if ch.output is not False:
                raise _Refused(f"channel {channel}'s levels would be unknown with the output "
                               "possibly on (configure_pulse_mode() first)")
            ch.unverified = True
        elif full is not None:
            ch.unverified = False
        self._check_levels(ch, channel, allowed)

    @staticmethod
    def _check_levels(ch: _Channel, channel: str, allowed) -> None:
        lo, hi = allowed
        full = _levels(ch.known)
        levels = list(full) if full is not None else \
            [ch.known[k] for k in ("high", "low", "off") if k in ch.known]
        if "amp" in ch.known and full is None and ch.known["amp"] > hi - lo:
            raise _Refused(f"channel {channel} amplitude {ch.known['amp']:g} Vpp exceeds "
                           "the range's span")
        for v in levels:
            if not lo <= v <= hi:
                text = (f"high {full[0]:g} V, low {full[1]:g} V" if full is not None
                        else f"{v:g} V")
                raise _Refused(f"channel {channel} level would be {text}")
