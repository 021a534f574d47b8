"""field-sweep: an R–H loop with a source meter (dc current, 4-wire) or a lock-in (ac
current, the 1ω in-phase voltage), on the up and down branches, recording the set and the
measured field, the field's direction (along the film normal or in plane at an angle from
+x) and the probe read.

Readout "source meter": the source meter drives the dc "Current" and its own 4-wire sense
(probe "source meter") or the voltmeter (probe "voltmeter") reads V; R = V/I.
Readout "lock-in": an ac current I(t) = I0·sin ωt (I0 = "Current", an amplitude) from the
bench's current source (a 6221 sine; the lock-in on external reference from it, e.g. by the
6221's trigger link; simulated wiring ``lockin_transport``) or, on a bench without a current
source, from the lock-in's own sine output through the bench's series resistor (I0 =
√2·V_sine/(R_series + "Sample resistance"), V_sine rms, R_series the lock-in's
``series_resistance_ohm`` plus its 50 Ω output, as harmonic-hall; wiring
``harmonic_hall``). The lock-in reads its input at 1ω after "Settle time constants"; with
the SRS phase convention (reference in phase with the current, PHAS 0) the part in phase
with the current is V_ω = √2·X, and R = V_ω/I0. "Current (A)" and "Voltage (V)" then hold I0
and V_ω (amplitudes); "Probe" holds "lock-in". Which voltage the lock-in reads is a matter of
the wiring (the Hall probe on both simulated lock-in wirings).

Field direction: "normal" puts the field along the film normal +z (a positive field points
along +z); "in-plane" puts it in the film plane at "Field angle" φ from +x (the current
direction) toward +y, a positive field pointing along (cos φ, sin φ, 0). On the simulated bench
the procedure picks the virtual magnet's axis (:meth:`FieldSweep.sim_magnet`) and turns the
rotation stage to φ; on a real bench the magnet's geometry is physical and the direction and
angle are only recorded. Three longitudinal runs (probe "source meter": R_xx on the
transport wiring) along z, x (φ = 0) and y (φ = 90°), taken above saturation, give the AMR and
SMR amplitudes (``labspin analyze field-sweep Z.csv X.csv Y.csv``; see
:func:`labspin.procedures.field_sweep_analysis.analyze_amr_smr`)."""
from __future__ import annotations

import math

import numpy as np
from pymeasure.experiment import FloatParameter, ListParameter

from labspin.bench.limits import output_limits, sine_drive_resistance_ohm
from labspin.bench.safety import check_limit

from .base import LabspinProcedure, LockInSettings, SineDrive

SQRT2 = math.sqrt(2.0)


def loop_fields(max_field_T: float, step_T: float) -> tuple[np.ndarray, np.ndarray]:
    """Get the fields (T) of a full loop 0 → +max → −max → +max and their branch
    (+1 field increasing, −1 decreasing)."""
    n = max(1, int(round(max_field_T / step_T)))
    up0 = np.linspace(0.0, max_field_T, n + 1)
    down = np.linspace(max_field_T, -max_field_T, 2 * n + 1)[1:]
    up = np.linspace(-max_field_T, max_field_T, 2 * n + 1)[1:]
    fields = np.concatenate([up0, down, up])
    branch = np.concatenate([np.ones(up0.size), -np.ones(down.size), np.ones(up.size)])
    return fields, branch


class FieldSweep(LabspinProcedure, LockInSettings, SineDrive):
    """Measure R against field: a source meter drives a dc current and reads its probe, or a
    lock-in reads the 1ω in-phase voltage of an ac current; the field runs a full loop
    through the electromagnet."""
    NAME = "field-sweep"
    DESCRIPTION = ("R–H loop with a source meter (dc current, 4-wire) or a lock-in (ac "
                   "current, 1ω): up and down branches")
    WIRING = "transport"
    SAMPLE = "perpendicular_sot_hallbar"

    max_field = FloatParameter("Max field", units="T", default=0.2, minimum=1e-4, maximum=10.0)
    field_step = FloatParameter("Field step", units="T", default=0.005, minimum=1e-6,
                                maximum=1.0)
    current = FloatParameter("Current", units="A", default=1e-3, minimum=-1.0, maximum=1.0)
    probe = ListParameter("Probe", choices=["source meter", "voltmeter"],
                          default="voltmeter")
    """Source-meter readout only: the source meter's own sense or the voltmeter."""
    readout = ListParameter("Readout", choices=["source meter", "lock-in"],
                            default="source meter")
    sensitivity = FloatParameter("Sensitivity", units="V", default=0.01, minimum=2e-9,
                                 maximum=1.0)
    delay = FloatParameter("Delay per point", units="s", default=0.1, minimum=0.0,
                           maximum=3600.0)
    field_direction = ListParameter("Field direction", choices=["normal", "in-plane"],
                                    default="normal")
    field_angle = FloatParameter("Field angle", units="deg", default=0.0, minimum=-360.0,
                                 maximum=360.0)
    """In-plane angle φ of the field from +x toward +y (deg); used when "Field direction" is
    "in-plane", recorded always."""

    DATA_COLUMNS = ["Field set (T)", "Field (T)", "Branch", "Current (A)", "Voltage (V)",
                    "Resistance (ohm)", "Field polar angle (deg)", "Field angle (deg)",
                    "Probe"]
    """"Field polar angle (deg)": the field's angle from the film normal +z (0: "normal", 90:
    "in-plane"); "Field angle (deg)": the parameter "Field angle" (in-plane φ from +x);
    "Probe": the parameter "Probe" ("source meter" or "voltmeter", text), or "lock-in" for the
    lock-in readout; "Current (A)" and "Voltage (V)" are I0 and V_ω (amplitudes) there."""

    LOCK_IN_WIRING = "lockin_transport"

    def sim_wiring(self) -> str:
        """Get the simulated wiring for ``--sim``: "transport" (source meter and voltmeter)
        or, for the lock-in readout, "lockin_transport" (6221 sine, lock-in on the Hall
        probe)."""
        return self.LOCK_IN_WIRING if self.readout == "lock-in" else self.WIRING

    def _lockin_drive(self, config) -> str:
        """Get how the lock-in readout drives the current: "current source" or "sine out"."""
        return "current source" if config.by_role("current_source") else "sine out"

    def _drive_resistance_ohm(self, config) -> float:
        """Get R_series + R_sample (Ω) of the lock-in's sine drive: the bench's series
        resistor with the output's 50 Ω (ValueError naming the key without one), and the
        "Sample resistance"."""
        lockin = config.by_role("lock_in")[0]
        return sine_drive_resistance_ohm(config, lockin) + self.sample_resistance

    def sine_voltage(self, config=None) -> float:
        """Get the lock-in sine output (V rms) that drives I0 = "Current" through the bench's
        series resistor and the sample (``config``, default the run's bench):
        I0·(R_series + R_sample)/√2."""
        config = config if config is not None else self.bench.config
        return abs(self.current) * self._drive_resistance_ohm(config) / SQRT2

    def sim_magnet(self) -> dict:
        """Get the simulated magnet for ``--sim``: along z for "normal", in plane at the
        field angle for "in-plane"."""
        if self.field_direction == "in-plane":
            return {"axis": "inplane", "angle_deg": float(self.field_angle)}
        return {"axis": "z"}

    def check(self, config) -> None:
        lim = config.limits
        check_limit("parameter 'Max field'", self.max_field, 0.0, config.settable_field_T, "T")
        check_limit("parameter 'Current'", abs(self.current), 0.0, lim.max_sample_current_A,
                    "A")
        if self.current == 0:
            raise ValueError("parameter 'Current' = 0 A: the resistance V/I needs a current "
                             "≠ 0 (allowed: 0 < |Current| ≤ "
                             f"{lim.max_sample_current_A:g} A)")
        if config.magnet is None:
            raise ValueError("field-sweep needs a [magnet] in the bench config")
        if self.readout == "lock-in":
            self._check_lockin(config)
            return
        if not config.by_role("source_meter"):
            raise ValueError("parameter 'Readout' = 'source meter' but the bench has no "
                             "source_meter; choose 'lock-in' (a lock_in, with a current_source "
                             "or its own sine output) or use a bench with a source meter")
        if self.probe == "voltmeter" and not config.by_role("voltmeter"):
            raise ValueError("parameter 'Probe' = 'voltmeter' but the bench has no voltmeter; "
                             "choose 'source meter'")

    def _check_lockin(self, config) -> None:
        if not config.by_role("lock_in"):
            raise ValueError("parameter 'Readout' = 'lock-in' needs a lock_in on the bench (and "
                             "a current_source for the ac current, or the lock-in's sine output "
                             "through a series resistor); the bench has none; choose 'source "
                             "meter'")
        if self._lockin_drive(config) == "sine out":
            # the bench's limit on the sine output (the sample's voltage, and the current
            # into a shorted sample behind its 50 Ω and the bench's series resistor)
            lockin = config.by_role("lock_in")[0]
            output_limits(config, lockin)["sine_amplitude"].check(
                "parameter 'Current' (sine output V_sine = I0·(R_series + R_sample)/√2)",
                self.sine_voltage(config))

    def estimate(self) -> tuple[int, float]:
        fields, _ = loop_fields(self.max_field, self.field_step)
        ramp = 4 * self.max_field / 0.05
        per_read = 0.05 if self.readout == "source meter" else 0.05 + \
            self.settle * self.time_constant / self.averages
        return fields.size, fields.size * (self.delay + per_read * self.averages) + ramp

    def _lockin(self):
        return self.bench.role("lock_in")

    def _current_amplitude(self) -> float:
        """Get I0 (A): the current source's amplitude, or the current of the sine output as
        the lock-in reports it set (its resolution rounds the request: 1 mV on an SR830)."""
        if self._drive == "current source":
            return abs(self.current)
        v_sine = float(self._lockin().sine_amplitude)
        return SQRT2 * v_sine / self._drive_resistance_ohm(self.bench.config)

    def startup(self) -> None:
        if self.readout == "lock-in":
            self._startup_lockin()
            return
        smu = self.bench.role("source_meter")
        smu.source_mode = "current"
        smu.compliance_voltage = min(10.0, self.bench.config.limits.max_sample_voltage_V)
        smu.source_enabled = True
        smu.ramp_to_current(self.current)

    def _startup_lockin(self) -> None:
        """Set the lock-in (1ω, reference from the current source or internal) and start the
        ac current (current source sine, or the lock-in's sine output, ramped)."""
        self._drive = self._lockin_drive(self.bench.config)
        li = self._lockin()
        li.harmonic = 1
        self.set_up_lockin(li, self.sensitivity)
        if self._drive == "current source":
            li.reference_source = "external"
            self.bench.role("current_source").start_sine(abs(self.current), self.frequency)
        else:
            li.reference_source = "internal"
            li.frequency = self.frequency
            li.sine_amplitude = self.sine_voltage()      # ramped by the driver, limit-checked

    def _read_lockin(self) -> float:
        """Get V_ω = √2·X (V, amplitude of the part in phase with the current); an
        overloaded reading is taken again at the next sensitivity (``LockInSettings._read``)."""
        self.settle_lockin()
        return SQRT2 * self._read(self._lockin())[0]

    def execute(self) -> None:
        lockin = self.readout == "lock-in"
        if lockin:
            current = self._current_amplitude()
            read = self._read_lockin
        else:
            smu = self.bench.role("source_meter")
            meter = self.bench.role("voltmeter") if self.probe == "voltmeter" else smu
            current = self.current

            def read():
                return float(np.mean([meter.measure_voltage() for _ in range(self.averages)]))
        fields, branch = loop_fields(self.max_field, self.field_step)
        inplane = self.field_direction == "in-plane"
        if inplane:
            self.bench.set_field_angle(float(self.field_angle))   # recorded only on a real bench
        polar = 90.0 if inplane else 0.0
        for k, (b, br) in enumerate(zip(fields, branch, strict=True)):
            if self.should_stop():
                return
            self.bench.magnet.set_field(float(b))
            self.sleep(self.delay)
            v = read()
            # the field the reading saw: read after it, the coil current having relaxed
            # toward its setpoint since the magnet's settle returned
            measured = float(self.bench.magnet.measure_field())
            self.emit("results", {"Field set (T)": b, "Field (T)": measured, "Branch": br,
                                  "Current (A)": current, "Voltage (V)": v,
                                  "Resistance (ohm)": v / current,
                                  "Field polar angle (deg)": polar,
                                  "Field angle (deg)": float(self.field_angle),
                                  "Probe": "lock-in" if lockin else self.probe})
            self.emit("progress", 100.0 * (k + 1) / fields.size)
