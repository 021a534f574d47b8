"""The 50 Ω drive model and the triggering the simulated pulse generators share: what a
channel applies (:class:`Drive`), the current it drives through the sample
(:func:`series_current_A`) and :class:`PulseTwin`, which turns drives and triggers into dc,
ac and pulsed currents on the :class:`VirtualBench`.

Wiring keywords, the 50 Ω drive model, triggering and the known deviations of the pulse
generator twins: :mod:`labspin.sim_backend.sim_pulse`.
"""
from __future__ import annotations

from dataclasses import dataclass

from .scpi import SimInstrument
from .virtual_bench import Z0, VirtualBench

MAX_SIMULATED_PULSES = 20
"""Pulses of one burst simulated in the time domain (each costs ~10–40 ms of wall time on
the mtj pillar); the rest only take their virtual time."""
MAX_SIMULATED_WIDTH_S = 1e-6
"""Longest pulse simulated in the time domain (s)."""
HIGH_Z = 9.9e37
"""The value a Keysight generator answers for an expected load of INFinity."""

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



class PulseTwin(SimInstrument):
    """Physics and triggering shared by the pulse generators (see the module notes).

    ``pulses`` logs every simulated pulse as (time s, current A, width s, rise s).
    """

    def __init__(self, bench: VirtualBench, name: str, *, drives_sample: bool = True,
                 probe: str | None = None, channel: int = 1, series_ohm: float = 0.0):
        super().__init__(clock=bench.clock)
        if not series_ohm >= 0:
            raise ValueError(f"series_ohm must be ≥ 0, got {series_ohm!r}")
        self.bench, self.name, self.drives_sample = bench, name, bool(drives_sample)
        self.series_ohm = float(series_ohm)
        """A resistor (Ω) between the output (its 50 Ω) and the sample."""
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
        """Get the resistance (Ω) beyond the output's 50 Ω: the series resistor and the
        probe's R(m)."""
        return self.series_ohm + abs(self.bench.resistance(self.probe))

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
