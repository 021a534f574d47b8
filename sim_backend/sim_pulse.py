"""Simulated pulse generators (Keysight 81160A, Keysight 33500B, Picosecond Pulse Labs
10,070A) wired in series with the sample: a triggered pulse drives a current pulse through
the virtual sample's macrospin (time domain, :meth:`VirtualBench.apply_current_pulse`).

Wiring
    ``drives_sample=True`` (default): the generator's output drives the sample's current
    path; ``probe`` picks the resistance it sees ("mtj" for pillars, "xx" for Hall bars by
    default); ``channel`` (1 or 2) is the channel wired to the sample on two-channel models.

One module per model (``sim_pulse_33500b``, ``sim_pulse_81160a``, ``sim_pulse_10070a``); the
drive model and triggering below in ``sim_pulse_common``, the SCPI the two Keysight models
share in ``sim_pulse_keysight``.

Model of a 50 Ω generator into the sample (documented once, used for every level)
    The generator is an EMF behind Z0 = 50 Ω. A set level V is what the instrument would put
    across its *expected load* Z_L (``OUTPut:LOAD``, 50 Ω by default; INF = open circuit),
    so its EMF is E = V·(Z_L + Z0)/Z_L (E = 2V for Z_L = 50 Ω, E = V for high Z). Into the
    sample, a lumped resistance R at the end of a short line (no reflections, no cable
    loss), the current is I = E/(Z0 + R) — for the default expected load
    I = 2V/(Z0 + R), i.e. V_load = 2V·R/(R + Z0). R is the probe's resistance R(m) (plus
    the wiring's ``series_ohm``, a resistor in the line) just before each pulse (it changes
    only after the pulse switches the sample). The baseline
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

from .sim_pulse_10070a import Picosecond10070ATwin
from .sim_pulse_33500b import Keysight33500BTwin
from .sim_pulse_81160a import Keysight81160ATwin
from .sim_pulse_common import (
    HIGH_Z,
    MAX_SIMULATED_PULSES,
    MAX_SIMULATED_WIDTH_S,
    Drive,
    series_current_A,
)

TWINS = {
    "keysight81160a": Keysight81160ATwin,
    "keysight33500b": Keysight33500BTwin,
    "psp10070a": Picosecond10070ATwin,
}
"""Driver registry key → twin class."""

__all__ = ["HIGH_Z", "MAX_SIMULATED_PULSES", "MAX_SIMULATED_WIDTH_S", "TWINS", "Drive",
           "Keysight33500BTwin", "Keysight81160ATwin", "Picosecond10070ATwin",
           "series_current_A"]
