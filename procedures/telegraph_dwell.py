"""telegraph-dwell: telegraph time traces of a low-barrier MTJ against field and bias current.

For each field of a list (outer loop) and each bias current of a list (inner loop), the
magnet is set (closed loop on the gaussmeter) and left to settle for ``settle_time`` (s, the
coil's L/R lag), the field is read once, and the source meter (named "smu" if there are
several) then takes ``reads`` resistance reads ``interval`` apart (s; 0: back to back, a read
at 1 NPLC with autozero takes ≈ 34 ms, which then sets the sampling of the trace).

On the simulated bench, give the sample a low barrier: ``labspin run telegraph-dwell --sim
--set mu0_meff_T=-0.10`` (mtj_pillar with Δ ≈ 19: dwells of 0.2–0.6 s, well sampled at 34 ms);
the built-in mtj_pillar (Δ ≈ 45) does not switch on any practical time scale.

Columns
-------
"Field set (T)": the field asked for (μ0·H along the magnet's axis, +z for a perpendicular
  MTJ); "Field (T)": the field read by the gaussmeter (or the calibration without one)
  after settling, before the trace.
"Bias current (A)": the dc current through the MTJ (positive: the source meter's HI into the
  free layer; with the polarizer along +z, positive current favours P in the simulated
  sample, i.e. the damping-like torque h_s > 0 drives m toward +z = P).
"Trace": index of the (field, bias) trace; "Read": index of the read within the trace.
"Time (s)": the bench clock at each read, from the first read of the run (bench clock:
  virtual on the simulated bench).
"Voltage (V)", "Resistance (ohm)" = V/I (the measured voltage over the set bias current).
"State": +1 for P (low R), −1 for AP (high R), split at ``threshold`` (ohm); with threshold
  0 (auto), midway between the lowest and highest resistance read so far in this trace,
  and 0 (not yet known) until the two differ by more than 10 % (both levels seen).
  The analysis re-derives the states from the resistances anyway.
"""
from __future__ import annotations

from pymeasure.experiment import FloatParameter, IntegerParameter, Parameter

from labspin.bench.safety import check_limit

from .base import LabspinProcedure, parse_numbers

READ_TIME_S = 0.034
"""Approximate duration (s) of one source-meter read at 1 NPLC with autozero (estimate)."""
LEVEL_SEPARATION = 0.10
"""Relative spread of the reads above which the auto threshold takes both levels as seen."""


class TelegraphDwell(LabspinProcedure):
    """Telegraph traces of a bistable MTJ at each (field, bias current): the dwell times in
    P and AP and their dependence on field and spin-transfer torque."""
    NAME = "telegraph-dwell"
    DESCRIPTION = "Telegraph traces of a low-barrier MTJ vs field and bias: P/AP dwell times"
    WIRING = "transport"
    SAMPLE = "mtj_pillar_low_barrier"
    SIM_MAGNET = {"axis": "z"}

    fields = Parameter("Fields (T)", default="-0.001,0,0.001")
    bias_currents = Parameter("Bias currents (A)", default="-5e-8,5e-8")
    reads = IntegerParameter("Reads per trace", default=3000, minimum=10,
                             maximum=10_000_000)
    interval = FloatParameter("Interval", units="s", default=0.0, minimum=0.0, maximum=3600.0)
    settle_time = FloatParameter("Settle time", units="s", default=2.0, minimum=0.0,
                                 maximum=3600.0)
    threshold = FloatParameter("Threshold", units="ohm", default=0.0, minimum=0.0,
                               maximum=1e12)

    DATA_COLUMNS = ["Field set (T)", "Field (T)", "Bias current (A)", "Trace", "Read",
                    "Time (s)", "Voltage (V)", "Resistance (ohm)", "State"]

    def _fields(self) -> list[float]:
        return parse_numbers(self.fields, "Fields (T)")

    def _biases(self) -> list[float]:
        return parse_numbers(self.bias_currents, "Bias currents (A)")

    def check(self, config) -> None:
        lim = config.limits
        biases = self._biases()
        if any(i == 0 for i in biases):
            raise ValueError("parameter 'Bias currents (A)' must not contain 0 (R = V/I)")
        check_limit("parameter 'Bias currents (A)'", max(abs(i) for i in biases), 0.0,
                    lim.max_sample_current_A, "A")
        fields = self._fields()
        if config.magnet is None:
            raise ValueError("telegraph-dwell needs a [magnet] in the bench config")
        check_limit("parameter 'Fields (T)'", max(abs(b) for b in fields), 0.0,
                    config.settable_field_T, "T")
        if not config.by_role("source_meter"):
            raise ValueError("telegraph-dwell needs a source_meter to read the MTJ")

    def estimate(self) -> tuple[int, float]:
        nf, nb = len(self._fields()), len(self._biases())
        n = nf * nb * self.reads
        return n, n * (self.interval + READ_TIME_S) + nf * (self.settle_time + 1.0)

    def _smu(self):
        names = [n for n, c in self.bench.config.instruments.items() if c.role == "source_meter"]
        return self.bench.role("source_meter", name="smu" if "smu" in names else names[0])

    def startup(self) -> None:
        smu = self._smu()
        smu.source_mode = "current"
        smu.compliance_voltage = min(2.0, self.bench.config.limits.max_sample_voltage_V)
        smu.source_enabled = True

    def execute(self) -> None:
        smu, magnet = self._smu(), self.bench.magnet
        fields, biases = self._fields(), self._biases()
        total = len(fields) * len(biases) * self.reads
        k, trace, t0 = 0, 0, None
        for b_set in fields:
            if self.should_stop():
                return
            magnet.set_field(float(b_set))
            for i_bias in biases:
                if self.should_stop():
                    return
                smu.ramp_to_current(i_bias)
                # the coil lags its supply (L/R): wait, then read the field once
                self.sleep(self.settle_time)
                b_meas = float(magnet.measure_field())
                r_lo, r_hi = float("inf"), float("-inf")
                for j in range(self.reads):
                    if self.should_stop():
                        return
                    if self.interval > 0:
                        self.sleep(self.interval)
                    v = float(smu.measure_voltage())
                    now = self.bench.clock.now()
                    t0 = now if t0 is None else t0
                    r = v / i_bias
                    r_lo, r_hi = min(r_lo, r), max(r_hi, r)
                    if self.threshold > 0:
                        state = 1 if r < self.threshold else -1
                    elif r_hi - r_lo > LEVEL_SEPARATION * abs(r_lo):
                        state = 1 if r < 0.5 * (r_lo + r_hi) else -1
                    else:
                        state = 0
                    self.emit("results", {
                        "Field set (T)": b_set, "Field (T)": b_meas,
                        "Bias current (A)": i_bias, "Trace": trace, "Read": j,
                        "Time (s)": now - t0, "Voltage (V)": v, "Resistance (ohm)": r,
                        "State": state})
                    k += 1
                    if k % max(1, total // 100) == 0 or k == total:
                        self.emit("progress", 100.0 * k / total)
                trace += 1
