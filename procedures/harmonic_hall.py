"""harmonic-hall: first- and second-harmonic Hall voltages against an in-plane field, for the
spin-orbit-torque effective fields — of perpendicular magnets from field sweeps along x and y
(Hayashi et al., PRB 89, 144425, 2014), of in-plane magnets from in-plane angle scans at
several field magnitudes (Avci et al., PRB 90, 224427, 2014), with the thermoelectric
(anomalous Nernst) term separated by its field dependence; analysis in
:mod:`.harmonic_hall_analysis`.

Wiring: both lock-ins read the Hall probe, the 1ω one at harmonic 1 (V_ω), the 2ω one at
harmonic 2 (V_2ω). The ac current comes from

* the bench's ``current_source`` when it has one (a Keithley 6221 sine, simulated wiring
  ``harmonic_hall_6221``): I0 = "Current amplitude", exact; both lock-ins on external
  reference from the 6221 (its Trigger Link phase marker, set here at 0°, to their REF IN);
* otherwise the 1ω lock-in's sine output through a series resistor R_series (simulated
  wiring ``harmonic_hall``): the 1ω lock-in on its internal reference, the 2ω one on external
  reference from the 1ω lock-in's sine/TTL out. This drive cannot measure the current, so I0
  is computed: I0 = √2·V_sine/(R_series + R_sample), V_sine the sine output ("Sine
  amplitude", V rms), R_series the bench's (the lock-in's ``series_resistance_ohm`` plus its
  50 Ω output; a bench without one is refused), R_sample the two-terminal resistance of
  the current path (parameter "Sample resistance", measured beforehand; a 10 % error in it
  moves I0 by ≈ 0.3 % for 300 Ω, ≈ 1 % for 1.2 kΩ, with 10 kΩ in series).

Conventions (design.md, physics.md):

* Current I(t) = I0·sin ωt along +x; I0 is the **amplitude** (not rms). Column
  ``Current amplitude (A)``.
* Lock-ins read rms and use the SRS phase convention (reference sin(nωt + θ), θ = PHAS,
  left at the instrument's default 0 — set it to 0 by hand on a real bench): a voltage
  V(t) ⊃ A sin nωt + B cos nωt reads X = A/√2, Y = B/√2. Hence
  ``V1w (V)`` = √2·X₁ω = V_ω = I0·R_xy (amplitude of the part in phase with the current) and
  ``V2w (V)`` = √2·Y₂ω = V_2ω as physics.md defines it, V(t) ⊃ V_2ω cos 2ωt,
  V_2ω = −(I0²/2)·dR_xy/dI. The raw rms readings are kept as ``X1w``, ``Y1w``, ``X2w``, ``Y2w``.
  An overloaded reading (input or output past its range, LIAS?) is taken again at the next
  sensitivity (both lock-ins, both scans: ``LockInSettings._read``), so ``Sensitivity 1w``
  /``2w`` are starting ranges; ``Overload 1w``/``Overload 2w`` are 1 where that lock-in
  still reported an overload after the point's readings — the analysis leaves those out.
* ``Field (T)`` is μ0·H read by the gaussmeter after the lock-ins, signed along the field direction
  ``Field angle (deg)`` (in-plane, from +x: 0° = x, 90° = y).

"Scan" = "field sweeps" (perpendicular magnets): each of ``Field angles`` is swept as a full
loop 0 → +max → −max → +max (``Branch``: +1 field increasing, −1 decreasing). Keep the max field
below the anisotropy field for a fixed m_z branch; above it, the branch chosen on the way back is
set by the field's small out-of-plane tilt (on the simulated bench, with a perfectly in-plane field,
m_z returns to the same branch).

"Scan" = "angle scans" (in-plane magnets): at each magnitude of ``Scan fields`` (rising), the
rotation stage turns back to 0°, the field is set, and the stage turns it through
0 ≤ φ < 360° in steps of ``Angle step`` (``Field (T)`` the measured magnitude, ``Field angle (deg)``
φ from +x, ``Branch`` 0).
The fields must saturate the magnet in plane (well above its in-plane anisotropy field). A
real bench needs a rotation stage the bench can turn; without one the run stops before any
instrument is touched. The simulated bench's default sample is then the in-plane
``inplane_sot_hallbar`` (R_xx ≈ 1.2 kΩ), on the 6221 wiring so that I0 needs no sample
resistance.
"""
from __future__ import annotations

import math

import numpy as np
from pymeasure.experiment import (
    FloatParameter,
    ListParameter,
    Parameter,
)

from labspin.bench.limits import output_limits, sine_drive_resistance_ohm
from labspin.bench.safety import check_limit

from .base import (
    FilmParameters,
    LabspinProcedure,
    LockInSettings,
    SineDrive,
    parse_numbers,
    with_default,
)
from .field_sweep import loop_fields

SQRT2 = math.sqrt(2.0)


def parse_angles(text) -> list[float]:
    """Get the field angles (deg) of a list ("0, 90"); ValueError naming the parameter."""
    return parse_numbers(text, "Field angles", "degrees", example="0, 90")


FIELD_SWEEPS, ANGLE_SCANS = "field sweeps", "angle scans"


def parse_fields(text) -> list[float]:
    """Get the field magnitudes (T, > 0) of a list ("0.05, 0.1"); ValueError naming the
    parameter."""
    return parse_numbers(text, "Scan fields", "T", example="0.05, 0.1, 0.2", positive=True)


def scan_angles(step_deg: float) -> np.ndarray:
    """Get the angles (deg) of one turn, 0 ≤ φ < 360, in steps of ``step_deg``."""
    n = max(1, round(360.0 / step_deg))
    return np.arange(n) * (360.0 / n)


class _SampleOfScan:
    """The simulated sample of a run: the perpendicular Hall bar for field sweeps, the
    in-plane one for angle scans (a plain string on the class)."""

    def __get__(self, obj, cls=None) -> str:
        if obj is not None and getattr(obj, "scan", FIELD_SWEEPS) == ANGLE_SCANS:
            return "inplane_sot_hallbar"
        return "perpendicular_sot_hallbar"


class HarmonicHall(LabspinProcedure, FilmParameters, LockInSettings, SineDrive):
    """Measure V_ω and V_2ω of the Hall probe, with an ac current from the bench's current
    source (6221 sine) or else the 1ω lock-in's sine output, against an in-plane field swept
    along each of the given in-plane angles (field sweeps) or turned through 360° at each of
    the given magnitudes (angle scans)."""
    NAME = "harmonic-hall"
    DESCRIPTION = ("Harmonic Hall (1ω and 2ω lock-ins, ac current from a 6221 or the "
                   "lock-in's sine output): "
                   "field sweeps along x and y (perpendicular magnets) or in-plane angle "
                   "scans (in-plane magnets)")
    WIRING = "harmonic_hall"
    CURRENT_SOURCE_WIRING = "harmonic_hall_6221"
    SAMPLE = _SampleOfScan()
    SIM_MAGNET = {"axis": "inplane", "angle_deg": 0.0}

    scan = ListParameter("Scan", choices=[FIELD_SWEEPS, ANGLE_SCANS], default=FIELD_SWEEPS)
    scan_fields = Parameter("Scan fields", default="0.05, 0.1, 0.2, 0.3, 0.4")
    """Angle scans: comma-separated field magnitudes (T)."""
    angle_step = FloatParameter("Angle step", units="deg", default=15.0, minimum=0.5,
                                maximum=90.0)

    max_field = FloatParameter("Max field", units="T", default=0.08, minimum=1e-4,
                               maximum=10.0)
    field_step = FloatParameter("Field step", units="T", default=0.004, minimum=1e-6,
                                maximum=1.0)
    field_angles = Parameter("Field angles", default="0, 90")
    ac_current = FloatParameter("Current amplitude", units="A", default=1e-3, minimum=1e-9,
                                maximum=0.105)
    """Current-source drive: the 6221 sine's amplitude I0 (A, peak)."""
    sine_amplitude = FloatParameter("Sine amplitude", units="V", default=5.0, minimum=0.004,
                                    maximum=5.0)
    """Sine-output drive (no current source): the 1ω lock-in's sine output (V rms)."""
    time_constant = with_default(LockInSettings.time_constant, 0.3)
    sensitivity_1w = FloatParameter("Sensitivity 1w", units="V", default=0.01, minimum=2e-9,
                                    maximum=1.0)
    sensitivity_2w = FloatParameter("Sensitivity 2w", units="V", default=1e-5, minimum=2e-9,
                                    maximum=1.0)
    # film parameters for the analysis (torque efficiencies); 0 = not given (the analysis
    # falls back on the sample metadata, or leaves xi_dl/xi_fl out)
    ahe_resistance = FloatParameter("AHE amplitude", units="ohm", default=0.0, minimum=-1e6,
                                    maximum=1e6)
    phe_resistance = FloatParameter("PHE amplitude", units="ohm", default=0.0, minimum=-1e6,
                                    maximum=1e6)
    film_meff = FloatParameter("Film mu0Meff", units="T", default=0.0, minimum=-10.0,
                               maximum=10.0)
    """Angle scans: μ0·M_eff for the damping-like denominator H + M_eff (0 = not given: the
    sample metadata's, else fitted)."""

    DATA_COLUMNS = ["Field set (T)", "Field (T)", "Field angle (deg)", "Branch",
                    "Current amplitude (A)", "X1w (V)", "Y1w (V)", "X2w (V)", "Y2w (V)",
                    "V1w (V)", "V2w (V)", "Overload 1w", "Overload 2w"]

    LOCKIN_1W, LOCKIN_2W = "lockin_1w", "lockin_2w"

    # ------------------------------------------------------------------ planning
    def sim_wiring(self) -> str:
        """Get the simulated wiring for ``--sim``: the 6221 one ("harmonic_hall_6221") for
        angle scans (the in-plane bar, whose R_xx is far from the "Sample resistance"
        default), the lock-in sine-output one ("harmonic_hall") for field sweeps."""
        return self.CURRENT_SOURCE_WIRING if self.scan == ANGLE_SCANS else self.WIRING

    @staticmethod
    def drive(config) -> str:
        """Get how the bench drives the ac current: "current source" (it has a
        current_source) or "sine out" (the 1ω lock-in's sine output)."""
        return "current source" if config.by_role("current_source") else "sine out"

    def current_amplitude(self, config=None) -> float:
        """Get I0 (A, amplitude) on the bench of ``config`` (default: the bench of the run):
        "Current amplitude" with a current source, else √2·V_sine/(R_series + R_sample),
        R_series the 1ω lock-in's output impedance plus the bench's series_resistance_ohm."""
        if config is None:
            if self.bench is None:
                raise ValueError("harmonic-hall: I0 depends on the bench (its current source, "
                                 "or the 1ω lock-in's series resistor); give its config")
            config = self.bench.config
        if self.drive(config) == "current source":
            return abs(self.ac_current)
        out = config.instruments[self._lockin_names(config)[0]]
        return SQRT2 * self.sine_amplitude / (sine_drive_resistance_ohm(config, out)
                                              + self.sample_resistance)

    def _lockin_names(self, config) -> tuple[str, str]:
        names = [i.name for i in config.by_role("lock_in")]
        if self.LOCKIN_1W in names and self.LOCKIN_2W in names:
            return self.LOCKIN_1W, self.LOCKIN_2W
        if len(names) < 2:
            raise ValueError("harmonic-hall needs two lock-ins (1ω and 2ω, on the current "
                             "source's reference or the 1ω one driving the sample); the bench "
                             f"has {len(names)}")
        return names[0], names[1]

    def check(self, config) -> None:
        lim = config.limits
        if self.scan == ANGLE_SCANS:
            check_limit("parameter 'Scan fields'", max(parse_fields(self.scan_fields)), 0.0,
                        config.settable_field_T, "T")
        else:
            check_limit("parameter 'Max field'", self.max_field, 0.0, config.settable_field_T, "T")
            if self.field_step > self.max_field:
                raise ValueError(f"parameter 'Field step' = {self.field_step:g} T must be ≤ "
                                 f"'Max field' = {self.max_field:g} T")
            parse_angles(self.field_angles)
        if self.drive(config) == "current source":
            check_limit("parameter 'Current amplitude' (the current source's sine)",
                        abs(self.ac_current), 0.0, lim.max_sample_current_A, "A")
        else:
            # the bench's limit on the 1ω lock-in's sine: its peak within the sample's
            # voltage, and its current into a shorted sample behind the output's 50 Ω and
            # the bench's series resistor (never the 'Series resistance' typed here)
            out = config.instruments[self._lockin_names(config)[0]]
            sine_drive_resistance_ohm(config, out)      # refused without a series resistor
            output_limits(config, out)["sine_amplitude"].check("parameter 'Sine amplitude'",
                                                               self.sine_amplitude)
        if config.magnet is None:
            raise ValueError("harmonic-hall needs a [magnet] in the bench config")
        self._lockin_names(config)

    def estimate(self) -> tuple[int, float]:
        per_point = self.settle * self.time_constant + 0.05 * self.averages + 0.05
        if self.scan == ANGLE_SCANS:
            fields = parse_fields(self.scan_fields)
            n = len(fields) * scan_angles(self.angle_step).size
            return n, n * (per_point + 0.5) + 4 * max(fields) / 0.05 * len(fields)
        fields, _ = loop_fields(self.max_field, self.field_step)
        n = fields.size * len(parse_angles(self.field_angles))
        per_point = self.settle * self.time_constant + 0.05 * self.averages + 0.05
        return n, n * per_point + 4 * self.max_field / 0.05 * len(parse_angles(self.field_angles))

    # ------------------------------------------------------------------ run
    def startup(self) -> None:
        if self.scan == ANGLE_SCANS and not self.bench.set_field_angle(0.0):
            raise ValueError("parameter 'Scan' = 'angle scans' needs a rotation stage the "
                             "bench can turn; this bench has none (use 'field sweeps' at "
                             "angles set by hand)")
        n1, n2 = self._lockin_names(self.bench.config)
        l1, l2 = self.bench.role("lock_in", n1), self.bench.role("lock_in", n2)
        source = self.drive(self.bench.config) == "current source"
        if source:
            l1.reference_source = "external"
        else:
            l1.reference_source = "internal"
            l1.frequency = self.frequency
        l1.harmonic = 1
        l2.reference_source = "external"
        l2.harmonic = 2
        self.set_up_lockin(l1, self.sensitivity_1w)
        self.set_up_lockin(l2, self.sensitivity_2w)
        if source:
            cs = self.bench.role("current_source")
            cs.compliance_voltage = min(10.0, self.bench.config.limits.max_sample_voltage_V)
            cs.waveform_use_phasemarker = True       # reference pulse at the sine's 0°
            cs.waveform_phasemarker_phase = 0.0
            cs.start_sine(abs(self.ac_current), self.frequency)   # peaks limit-checked
        else:
            l1.sine_amplitude = self.sine_amplitude  # ramped by the driver, limit-checked

    def _point(self, l1, l2, b_set, angle, branch, i0, magnitude=False) -> None:
        """Settle and read both lock-ins, then the field (its magnitude for angle scans): read
        after the lock-ins, it is the field their readings saw, not the one the magnet's
        settle returned before the coil current had relaxed (on the simulated bench a
        reading ~24 µT behind, which the V_ω quartic turned into a 3 % low H_K)."""
        self.settle_lockin()
        x1, y1 = self._read(l1)              # overloaded: the next range, read again
        x2, y2 = self._read(l2)
        measured = float(self.bench.magnet.measure_field())
        measured = abs(measured) if magnitude else measured
        over1, over2 = int(bool(l1.overloaded)), int(bool(l2.overloaded))
        self.emit("results", {
            "Field set (T)": b_set, "Field (T)": measured, "Field angle (deg)": angle,
            "Branch": branch, "Current amplitude (A)": i0,
            "X1w (V)": x1, "Y1w (V)": y1, "X2w (V)": x2, "Y2w (V)": y2,
            "V1w (V)": SQRT2 * x1, "V2w (V)": SQRT2 * y2,
            "Overload 1w": over1, "Overload 2w": over2})

    def _angle_scans(self, l1, l2, i0) -> None:
        fields = parse_fields(self.scan_fields)
        angles = scan_angles(self.angle_step)
        total, k = len(fields) * angles.size, 0
        for b in fields:
            if self.should_stop():
                return
            self.bench.set_field_angle(float(angles[0]))    # turn back, then step the field
            self.bench.magnet.set_field(float(b))
            for angle in angles:
                if self.should_stop():
                    return
                self.bench.set_field_angle(float(angle))
                self._point(l1, l2, float(b), float(angle), 0, i0, magnitude=True)
                k += 1
                self.emit("progress", 100.0 * k / total)

    def execute(self) -> None:
        n1, n2 = self._lockin_names(self.bench.config)
        l1, l2 = self.bench.role("lock_in", n1), self.bench.role("lock_in", n2)
        i0 = self.current_amplitude()
        if self.scan == ANGLE_SCANS:
            self._angle_scans(l1, l2, i0)
            return
        fields, branch = loop_fields(self.max_field, self.field_step)
        angles = parse_angles(self.field_angles)
        total, k = fields.size * len(angles), 0
        for angle in angles:
            if self.should_stop():
                return
            self.bench.magnet.set_field(0.0)        # turn the stage at zero field
            self.bench.set_field_angle(angle)
            for b, br in zip(fields, branch):
                if self.should_stop():
                    return
                self.bench.magnet.set_field(float(b))
                self._point(l1, l2, float(b), angle, br, i0)
                k += 1
                self.emit("progress", 100.0 * k / total)
