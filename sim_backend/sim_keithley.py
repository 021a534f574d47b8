"""Simulated Keithley dc instruments wired to a :class:`VirtualBench`: the 2400 and 2450
SourceMeters, the 6221 ac/dc current source (dc, waveforms, delta mode with an attached 2182A)
and the 2182A nanovoltmeter.

One module per model (``sim_keithley_2400``, ``sim_keithley_2450``, ``sim_keithley_6221``,
``sim_keithley_2182a``), what they share in ``sim_keithley_common``. Each twin parses its
model's command set as our drivers (``labspin.drivers.keithley``) and pymeasure's stock
classes send it, with the model's *RST defaults, ranges, response formats, status registers
and error queue. Construct one as ``Twin(bench, name, **wiring)``; it registers
itself in ``bench.instruments[name]`` and runs on ``bench.clock``.

Wiring keywords
    2400 / 2450: ``probe`` ("xx" default; what the sense leads read in 4-wire mode),
    ``drives_sample`` (True: the force leads are in the sample's current path, along +x),
    ``lead_ohm`` (lead + contact resistance seen in 2-wire mode, Ω, default 0).
    6221: ``drives_sample`` (True), ``nanovoltmeter`` (name of the attached 2182A twin in
    ``bench.instruments``, resolved when needed; None: no RS-232/Trigger Link partner).
    2182A: ``probe`` (channel 1, "xx" default), ``probe2`` (channel 2, None: unconnected),
    ``thermal_emf_V`` (a constant thermoelectric offset in series with channel 1, V, default 0:
    delta mode cancels it, a plain dc reading does not), ``termination`` (reply terminator, CR
    by default: the read termination of pymeasure's and our 2182A driver; see below).

Physics of the readings (SI units throughout)
    * The sample's current path is probe "xx" of a Hall bar or "mtj" of a pillar; a source in
      it calls ``bench.set_dc_current(name, I)`` with the current it actually drives.
    * Current-source compliance: the force voltage is I·(|R_path| + lead_ohm); beyond the
      voltage limit the current is reduced to V_limit/(|R_path| + lead_ohm) and the model's
      compliance flag is set (2400: status-word bit 3, measurement event bit 14,
      ``:SENS:VOLT:PROT:TRIP?``; 2450: ``:SOUR:CURR:VLIM:TRIP?``; 6221: measurement condition
      bit 3 and the delta COMPliance element).
    * Voltage-source mode regulates the sensed voltage: I = (V − I_others·R_s)/(R_s + lead)
      with R_s = R(probe) in 4-wire mode and R(path) in 2-wire mode (lead only in 2-wire); beyond
      the current limit I is clamped and the compliance flag set.
    * A SourceMeter reading of V is ``bench.dc_voltage(sense probe, t_int·n_filter)`` (I·R(m)
      plus Johnson noise of the integration bandwidth) plus the meter's own noise, σ_V =
      2 ppm of the range/√(NPLC·n_filter); I = the driven current + σ_I (2 ppm of the current
      range/√(NPLC·n_filter)); R = V/I. Autorange picks the smallest range holding the value; a
      fixed range overflows beyond 105 % (+9.9E37).
    * 2182A: ``bench.dc_voltage(probe, t_int·n_filter)`` (+ thermal EMF on channel 1) plus
      the meter's floor σ_floor (rms, NPLC 5, filter off) of the range autorange picks: 10 mV:
      3 nV, 100 mV: 10 nV, 1 V: 80 nV, 10 V: 0.8 µV, 100 V: 8 µV, scaled by √(5/NPLC)/√n_filter.
      Overrange beyond 120 % of the range → +9.9E37. TEMPerature reads the sample temperature.
    * Integration time t_int = NPLC/line frequency (60 Hz); a reading takes the source delay
      (SMUs) or trigger delay plus n_filter·t_int, doubled with autozero (SMU) or front autozero
      (2182A) on. Readings advance ``bench.clock``; they never sleep in real time.
    * 6221 delta: alternating +HIGH/LOW with DELay + one 2182A conversion per step; delta
      reading n = (−1)^n (A_n − 2A_{n+1} + A_{n+2})/4 (the 6221's three-point algorithm), which
      is (V(+I) − V(−I))/2 for a steady sample and cancels the thermal EMF and its linear
      drift. The readings are computed as virtual time passes (clock listener and on every
      delta query), so a client that reads early sees a partial buffer, as on the instrument.
    * 6221 waveforms: while running, the bench gets the dc offset and the fundamental of the
      waveform (sine: its amplitude; square/ramp/arbitrary: the first Fourier component) via
      ``set_ac_current``, and the wave frequency as this source's reference output.

Deviations from the real instruments (knowingly)
    ASCII data only (``FORM:DATA`` other than ASCii → -224); arm/trigger sources other than
    BUS run immediately (no trigger link); sweeps (``SOUR:…:MODE SWE|LIST``), limit tests,
    math and the 2450's user buffers (defbuffer1/2 only) are absent; the 2450's user delays
    (SOUR/SENS:<function>:DELay:USER<n>, for trigger models) are stored and answered only,
    its SYST:LFR? is the bench's mains frequency; source ranges are stored
    and reported but do not limit the level (the model's full range applies); compliance is
    judged on the force voltage also in 4-wire mode (the 2400 limits the sensed one there);
    2400 CONFigure resets only the function's autorange, the trigger counts/delays/sources
    and buffer feed; a 6221 waveform in compliance is scaled, not clipped; the 6221
    publishes its wave frequency as a reference output whether or not the phase marker is
    on; ARM (wave or delta) turns the 6221 output on and an abort leaves it on at the dc
    level (not checked against a manual); 6221 current autorange is on after *RST and
    delta delays down to 0 s are accepted; the UNITs element is accepted and left out;
    the 2182A's digital filter is off after *RST; the 2182A answers with CR (over GPIB its
    replies end with LF+EOI, where any read termination works; a socket has no EOI, so the
    twin ends replies the way its usual clients read them, pymeasure's and ours);
    *OPC? with an infinite delta count answers at once. Cost: every reading solves the
    sample's state 1–3 times through the bench (≈1–3 ms on the Hall bars; a thermal-average
    sample such as the Kapitza magnet takes seconds per solve).
"""
from __future__ import annotations

from .sim_keithley_2182a import Keithley2182ATwin
from .sim_keithley_2400 import Keithley2400Twin
from .sim_keithley_2450 import Keithley2450Twin
from .sim_keithley_6221 import Keithley6221Twin
from .sim_keithley_common import NOT_MEASURED, OVERFLOW

TWINS = {
    "keithley2400": Keithley2400Twin,
    "keithley2450": Keithley2450Twin,
    "keithley6221": Keithley6221Twin,
    "keithley2182a": Keithley2182ATwin,
}
"""Driver registry key (drivers/registry.py) → twin class."""

__all__ = ["NOT_MEASURED", "OVERFLOW", "TWINS", "Keithley2182ATwin", "Keithley2400Twin",
           "Keithley2450Twin", "Keithley6221Twin"]
