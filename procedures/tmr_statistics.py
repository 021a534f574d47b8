"""tmr-statistics: repeated resistance reads of a magnetic tunnel junction at a fixed bias.

Two modes (parameter ``mode``):

* ``gaussian`` — the domain-wall Gaussian random source (physics.md): at each gate voltage of
  a list, ``reads`` reads at a fixed dc bias current, ``interval`` apart (s). The gate is the
  source meter named "gate" (voltage mode, no current); the reading one is named "smu".
  Analysis: histogram, Gaussian fit, normality test and the width against gate voltage (in
  the model the width *rises as the gate voltage falls*: VCMA lowers K_eff and the pinning
  stiffness for V_g < 0).
* ``telegraph`` — a time trace of ``reads`` reads ``interval`` apart on a bistable MTJ with a
  low barrier; analysis: dwell times in P (low R) and AP (high R) with the censoring-safe
  estimator of labspin.telegraph. The gate, if the bench has one, is left off.

Columns: "Time (s)" is the bench clock at each read (from the first read); "Resistance (ohm)"
= V/I of the source meter (its measured voltage over the set bias current).
"""
from __future__ import annotations

from pymeasure.experiment import FloatParameter, IntegerParameter, ListParameter, Parameter

from labspin.drivers.safety import check_limit

from .base import LabspinProcedure
from .switching_probability import parse_list

MODES = ("gaussian", "telegraph")
DEFAULT_INTERVAL_S = {"gaussian": 1e-3, "telegraph": 0.0}
"""Wait between reads when ``interval`` is 0 (auto): a read of the source meter itself
takes its integration time (≈ 33 ms at 1 NPLC with autozero), which sets the telegraph
sampling; the Gaussian source decorrelates in ns, any wait gives independent reads."""
MAX_GATE_V = 5.0
"""Largest |gate voltage| (V) the procedure applies (thin-oxide VCMA gates break down)."""


class TmrStatistics(LabspinProcedure):
    """Repeated reads at a fixed bias: the Gaussian source's distribution against gate
    voltage, or a telegraph trace of a low-barrier MTJ."""
    NAME = "tmr-statistics"
    DESCRIPTION = "Repeated MTJ reads: Gaussian-source statistics vs gate, or telegraph dwells"
    WIRING = "gaussian_source"
    SAMPLE = "dw_gaussian_source"

    mode = ListParameter("Mode", choices=list(MODES), default="gaussian")
    bias_current = FloatParameter("Bias current", units="A", default=10e-6, minimum=-1e-2,
                                  maximum=1e-2)
    gate_voltages = Parameter("Gate voltages (V)", default="-1,0,1")
    reads = IntegerParameter("Reads per gate voltage", default=400, minimum=10,
                             maximum=10_000_000)
    interval = FloatParameter("Interval", units="s", default=0.0, minimum=0.0, maximum=3600.0)
    field = FloatParameter("Field", units="T", default=0.0, minimum=-10.0, maximum=10.0)

    DATA_COLUMNS = ["Gate voltage (V)", "Read", "Time (s)", "Field (T)", "Current (A)",
                    "Voltage (V)", "Resistance (ohm)"]

    def _gates(self) -> list[float]:
        if self.mode == "telegraph":
            return [0.0]
        return parse_list(self.gate_voltages, "Gate voltages (V)")

    def _interval(self) -> float:
        return self.interval if self.interval > 0 else DEFAULT_INTERVAL_S[self.mode]

    def check(self, config) -> None:
        lim = config.limits
        if self.mode not in MODES:
            raise ValueError(f"parameter 'Mode' = {self.mode!r}; allowed {', '.join(MODES)}")
        if self.bias_current == 0:
            raise ValueError("parameter 'Bias current' must be non-zero (R = V/I)")
        check_limit("parameter 'Bias current'", abs(self.bias_current), 0.0,
                    lim.max_sample_current_A, "A")
        gates = self._gates()
        check_limit("parameter 'Gate voltages (V)'", max(abs(g) for g in gates), 0.0,
                    min(MAX_GATE_V, lim.max_sample_voltage_V), "V")
        names = {n for n, c in config.instruments.items() if c.role == "source_meter"}
        if not names:
            raise ValueError("tmr-statistics needs a source_meter to read")
        if self.mode == "gaussian" and "gate" not in names:
            raise ValueError("mode 'gaussian' needs a source_meter named 'gate' (the VCMA "
                             "gate); the bench has " + ", ".join(sorted(names)))
        if self.field:
            if config.magnet is None:
                raise ValueError("parameter 'Field' is set but the bench has no [magnet]")
            check_limit("parameter 'Field'", abs(self.field), 0.0, lim.max_field_T, "T")

    def estimate(self) -> tuple[int, float]:
        n = len(self._gates()) * self.reads
        return n, n * (self._interval() + 0.034)

    def _smu(self):
        names = [n for n, c in self.bench.config.instruments.items() if c.role == "source_meter"]
        return self.bench.role("source_meter", name="smu" if "smu" in names else names[0])

    def _gate(self):
        if "gate" in self.bench.config.instruments:
            return self.bench.role("source_meter", name="gate")
        return None

    def startup(self) -> None:
        lim = self.bench.config.limits
        self._field_measured = float(self.field)
        if self.bench.magnet is not None:
            self._field_measured = float(self.bench.magnet.set_field(float(self.field)))
        gate = self._gate()
        if gate is not None and self.mode == "gaussian":
            gate.source_mode = "voltage"
            gate.compliance_current = 1e-6
            gate.source_enabled = True
        smu = self._smu()
        smu.source_mode = "current"
        smu.compliance_voltage = min(2.0, lim.max_sample_voltage_V)
        smu.source_enabled = True
        smu.ramp_to_current(self.bias_current)

    def execute(self) -> None:
        smu, gate = self._smu(), self._gate()
        gates, dt = self._gates(), self._interval()
        total = len(gates) * self.reads
        t0 = None
        k = 0
        for vg in gates:
            if gate is not None and self.mode == "gaussian":
                gate.ramp_to_voltage(vg)
            for j in range(self.reads):
                if self.should_stop():
                    return
                if dt > 0:
                    self.sleep(dt)
                v = smu.measure_voltage()
                now = self.bench.clock.now()
                t0 = now if t0 is None else t0
                self.emit("results", {
                    "Gate voltage (V)": vg, "Read": j, "Time (s)": now - t0,
                    "Field (T)": self._field_measured, "Current (A)": self.bias_current,
                    "Voltage (V)": v, "Resistance (ohm)": v / self.bias_current})
                k += 1
                if k % max(1, total // 100) == 0 or k == total:
                    self.emit("progress", 100.0 * k / total)
