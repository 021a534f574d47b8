"""tmr-statistics: repeated resistance reads of a magnetic tunnel junction at a fixed bias.

Two modes (parameter ``mode``):

* ``gaussian`` — the domain-wall Gaussian random source (physics.md): at each gate voltage of
  a list, ``reads`` reads at a fixed dc bias current, ``interval`` apart (s). The gate is the
  source meter named "gate" (voltage mode, no current); the reading one is named "smu".
  Analysis: histogram, Gaussian fit, normality test and the width against gate voltage (in
  the model the width *rises as the gate voltage falls*: VCMA lowers K_eff and the pinning
  stiffness for V_g < 0).
  With ``sites`` (e.g. "0, 1, 2, 3") the wall is first pushed to the site-0 end of the
  track by ``reset_pulses`` move pulses, then visits the listed pinning sites in order and
  the gate voltages are read at each site: mean and width mapped against pinning position and
  gate voltage. A move is a source-meter current pulse of the reading SMU: ramp to
  ∓``move_current`` (gate at 0 V), hold ``move_hold`` (s), ramp back to the bias. **Sign
  convention:** the current flows along +x (design.md) and spin transfer moves the wall
  along the electron flow (−x), so I > 0 moves it toward site 0 (lower index) and I < 0
  toward higher sites; a move to a higher site uses −move_current. ``move_current`` must
  exceed the sample's depinning current (≈ 0.19 mA on dw_gaussian_source at 0 V gate) and the
  read bias must stay well below it.
* ``telegraph`` — a time trace of ``reads`` reads ``interval`` apart on a bistable MTJ with a
  low barrier; analysis: dwell times in P (low R) and AP (high R) with the censoring-safe
  estimator of labspin.physics.telegraph. The gate, if the bench has one, is left off.

Columns: "Site" is the pinning site the wall was sent to (NaN without ``sites``);
"Time (s)" is the bench clock at each read (from the first read); "Resistance (ohm)"
= V/I of the source meter (its measured voltage over the set bias current).
"""
from __future__ import annotations

from pymeasure.experiment import FloatParameter, IntegerParameter, ListParameter, Parameter

from labspin.bench.safety import check_limit

from .base import LabspinProcedure, parse_numbers

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
    sites = Parameter("Sites", default="")
    move_current = FloatParameter("Move pulse amplitude", units="A", default=0.5e-3,
                                  minimum=0.0, maximum=1e-1)
    move_hold = FloatParameter("Move pulse duration", units="s", default=1e-3, minimum=1e-6,
                               maximum=10.0)
    reset_pulses = IntegerParameter("Reset pulses", default=8, minimum=0, maximum=1000)

    DATA_COLUMNS = ["Site", "Gate voltage (V)", "Read", "Time (s)", "Field (T)", "Current (A)",
                    "Voltage (V)", "Resistance (ohm)"]

    def _gates(self) -> list[float]:
        if self.mode == "telegraph":
            return [0.0]
        return parse_numbers(self.gate_voltages, "Gate voltages (V)")

    def _sites(self) -> list[int]:
        """Get the pinning sites to visit ([] : read where the wall is, no moves)."""
        if self.mode != "gaussian" or not str(self.sites or "").strip():
            return []
        vals = parse_numbers(self.sites, "Sites")
        if any(v < 0 or v != int(v) for v in vals):
            raise ValueError(f"parameter 'Sites' = {self.sites!r}: allowed non-negative "
                             "integers (pinning-site indices)")
        return [int(v) for v in vals]

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
        if not names - {"gate"}:      # the gate source meter never doubles as the reader
            raise ValueError("tmr-statistics needs a source_meter to read the MTJ besides the "
                             "gate; the bench has " + (", ".join(sorted(names)) or "none"))
        if self.mode == "gaussian" and "gate" not in names:
            raise ValueError("mode 'gaussian' needs a source_meter named 'gate' (the VCMA "
                             "gate); the bench has " + ", ".join(sorted(names)))
        if self._sites():
            if not abs(self.bias_current) < self.move_current:
                raise ValueError(f"parameter 'Move pulse amplitude' = {self.move_current:g} A "
                                 f"must exceed |Bias current| = {abs(self.bias_current):g} A")
            check_limit("parameter 'Move pulse amplitude'", self.move_current, 0.0,
                        lim.max_sample_current_A, "A")
        if self.field:
            if config.magnet is None:
                raise ValueError("parameter 'Field' is set but the bench has no [magnet]")
            check_limit("parameter 'Field'", abs(self.field), 0.0, config.settable_field_T, "T")

    def estimate(self) -> tuple[int, float]:
        sites = self._sites()
        n = len(self._gates()) * self.reads * max(1, len(sites))
        moves = (self.reset_pulses + sum(abs(b - a) for a, b in zip([0] + sites, sites))
                 if sites else 0)
        return n, n * (self._interval() + 0.034) + moves * (self.move_hold + 0.1)

    def _smu(self):
        names = [n for n, c in self.bench.config.instruments.items()
                 if c.role == "source_meter" and n != "gate"]
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

    def _move(self, steps: int) -> None:
        """Send ``steps`` source-meter move pulses (> 0: toward higher sites, I < 0), gate at
        0 V, returning to the read bias after each."""
        smu, gate = self._smu(), self._gate()
        if gate is not None:
            gate.ramp_to_voltage(0.0)
        amps = -self.move_current if steps > 0 else self.move_current
        for _ in range(abs(steps)):
            if self.should_stop():
                return
            smu.ramp_to_current(amps)
            self.sleep(self.move_hold)
            smu.ramp_to_current(self.bias_current)

    def execute(self) -> None:
        smu, gate = self._smu(), self._gate()
        gates, dt = self._gates(), self._interval()
        sites = self._sites()
        total = len(gates) * self.reads * max(1, len(sites))
        self._t0 = None
        k = 0
        here = None
        if sites:
            self._move(-self.reset_pulses)         # push the wall to the site-0 end
            here = 0
        for site in (sites or [None]):
            if site is not None:
                self._move(site - here)
                here = site
            for vg in gates:
                if self.should_stop():
                    return
                if gate is not None and self.mode == "gaussian":
                    gate.ramp_to_voltage(vg)
                k = self._reads(smu, site, vg, dt, total, k)
                if k < 0:
                    return

    def _reads(self, smu, site, vg, dt, total, k) -> int:
        """Take ``reads`` reads at one (site, gate voltage); get the running count (−1:
        stopped)."""
        for j in range(self.reads):
            if self.should_stop():
                return -1
            if dt > 0:
                self.sleep(dt)
            v = smu.measure_voltage()
            now = self.bench.clock.now()
            if self._t0 is None:
                self._t0 = now
            self.emit("results", {
                "Site": float("nan") if site is None else site,
                "Gate voltage (V)": vg, "Read": j, "Time (s)": now - self._t0,
                "Field (T)": self._field_measured, "Current (A)": self.bias_current,
                "Voltage (V)": v, "Resistance (ohm)": v / self.bias_current})
            k += 1
            if k % max(1, total // 100) == 0 or k == total:
                self.emit("progress", 100.0 * k / total)
        return k
