"""Volatile arbitrary-waveform memory of the Keysight 33500B twin, per channel.

``[SOURce[1|2]]:DATA:ARBitrary NAME, v1, v2, …`` (floats −1…+1) and ``DATA:ARBitrary:DAC
NAME, d1, …`` (integers ±32767) load 8 to 65 536 points under NAME (stored upper case, as
the instrument does); ``FUNCtion:ARBitrary NAME`` selects a loaded waveform (a name not in
memory: -224), ``FUNCtion:ARBitrary?`` answers the selection in quotes (after *RST the
built-in ``INT:\\BUILTIN\\EXP_RISE.ARB``); ``DATA:VOLatile:CLEar`` empties the memory and
selects the built-in again; ``DATA:VOLatile:CATalog?`` lists the names; ``DATA:VOLatile:FREE?``
the points left of MEMORY_POINTS. Sample rate (``FUNCtion:ARBitrary:SRATe``, 1 µSa/s to
160 MSa/s), advance mode and filter are stored and read back.

Known deviation: a waveform's shape does not reach the sample (the ARB shape drives only
its offset, as every shape but PULS, SIN and DC — see sim_pulse).
"""
from __future__ import annotations

from typing import Callable

from .scpi import Arg, SCPIError

BUILTIN = "INT:\\BUILTIN\\EXP_RISE.ARB"
"""The arbitrary waveform selected after *RST."""
POINTS_RANGE = (8, 65536)
"""Points per waveform loaded as ASCII (the 33500B's limit for DATA:ARB)."""
MEMORY_POINTS = 1_000_000
"""Volatile memory per channel (points; the 33522B's standard 1 MSa)."""


class ArbMemory:
    """The arbitrary waveforms of one twin: channel -> {name: points}, and the commands."""

    def __init__(self, twin, channel: Callable[[dict], int], src: str = "[SOURce[1|2]]"):
        """Declare the commands on ``twin``; ``channel`` gets the channel from a handler's
        suffix keywords."""
        self.twin, self._ch = twin, channel
        self.waveforms: dict[int, dict[str, tuple[float, ...]]] = {}
        self.selected: dict[int, str] = {}
        twin.add_command(f"{src}:DATA:ARBitrary", self._loader(1.0), args=None)
        twin.add_command(f"{src}:DATA:ARBitrary:DAC", self._loader(32767.0), args=None)
        twin.add_command(f"{src}:DATA:VOLatile:CLEar", self._clear)
        twin.add_query(f"{src}:DATA:VOLatile:CATalog", self._catalog)
        twin.add_query(f"{src}:DATA:VOLatile:FREE", self._free)
        twin.add_command(f"{src}:FUNCtion:ARBitrary", self._select, args=None)
        twin.add_query(f"{src}:FUNCtion:ARBitrary",
                       lambda **kw: f'"{self.selected.get(self._ch(kw), BUILTIN)}"')
        twin.add_parameter("arb_srate", f"{src}:FUNCtion:ARBitrary:SRATe", float,
                           range=(1e-6, 160e6), default=40e3, fmt="{:+.15E}")
        twin.add_parameter("arb_advance", f"{src}:FUNCtion:ARBitrary:ADVance",
                           choices=["TRIGger", "SRATe"], default="SRAT")
        twin.add_parameter("arb_filter", f"{src}:FUNCtion:ARBitrary:FILTer",
                           choices=["NORMal", "STEP", "OFF"], default="STEP")

    def reset(self) -> None:
        """*RST: the built-in waveform selected; the volatile memory keeps its waveforms."""
        self.selected.clear()

    def _loader(self, full_scale: float):
        def load(*tokens: str, **kw) -> None:
            ch = self._ch(kw)
            if len(tokens) < 2:
                raise SCPIError(-109)
            name = tokens[0].strip().strip('"').upper()
            if not name or not name[0].isalpha() or len(name) > 12:
                raise SCPIError(-224, "Illegal parameter value;a name is a letter and up to "
                                "11 letters, digits or underscores")
            n = len(tokens) - 1
            if not POINTS_RANGE[0] <= n <= POINTS_RANGE[1]:
                raise SCPIError(-222, f"Data out of range;{POINTS_RANGE[0]} to "
                                f"{POINTS_RANGE[1]} points")
            kind = float if full_scale == 1.0 else int
            points = tuple(Arg(kind, range=(-full_scale, full_scale)).parse(t) / full_scale
                           for t in tokens[1:])
            memory = self.waveforms.setdefault(ch, {})
            if name not in memory and self._used(ch) + n > MEMORY_POINTS:
                raise SCPIError(-225, "Out of memory")
            memory[name] = points
        return load

    def _used(self, ch: int) -> int:
        return sum(len(p) for p in self.waveforms.get(ch, {}).values())

    def _free(self, **kw) -> str:
        used = self._used(self._ch(kw))
        return f"{MEMORY_POINTS - used},{used}"

    def _clear(self, **kw) -> None:
        ch = self._ch(kw)
        self.waveforms.pop(ch, None)
        self.selected.pop(ch, None)

    def _catalog(self, **kw) -> str:
        names = [BUILTIN, *self.waveforms.get(self._ch(kw), {})]
        return ",".join(f'"{n}"' for n in names)

    def _select(self, *tokens: str, **kw) -> None:
        if len(tokens) != 1:
            raise SCPIError(-109 if not tokens else -108)
        ch, name = self._ch(kw), tokens[0].strip().strip('"').upper()
        if name != BUILTIN and name not in self.waveforms.get(ch, {}):
            raise SCPIError(-224, f"Illegal parameter value;no arbitrary waveform {name} in "
                            "volatile memory")
        self.selected[ch] = name

