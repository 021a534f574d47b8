"""The virtual bench: simulated instruments wired to one virtual sample, on one virtual clock.

Sources tell the bench what they drive (:meth:`VirtualBench.set_dc_current`,
:meth:`set_ac_current`, :meth:`set_rf`, :meth:`apply_current_pulse`,
:meth:`VirtualMagnet.set_current`); meters ask it what they read (:meth:`dc_voltage`,
:meth:`harmonics`, :meth:`mixing_voltage`, :meth:`field_T`, …). The physics comes from the
core: a stateful magnetization that follows quasi-static torque balance from its present
state (so a loop shows coercivity and a switching pulse leaves it switched), the linear
response for rf rectification, and the stochastic LLG for thermal averages of low-barrier
magnets. Time is the bench clock's: waits advance it and the magnet and sample follow.

Sign conventions (design.md): current along +x; fields μ0·H in tesla at this boundary; the
sample's voltage probes are "xx" (longitudinal) and "xy" (Hall) for Hall bars and "mtj" for
pillars.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from labspin.bench.clock import VirtualClock
from labspin.physics.constants import KB, MU0
from labspin.physics.macrospin import trials
from labspin.physics.macrospin.ensemble import Ensemble
from labspin.physics.macrospin.equilibrium import equilibrium, linear_response
from labspin.physics.readout import HallBar

from .registry import Registry
from .samples import SampleModel

Z0 = 50.0
"""Characteristic impedance of the rf path (Ω)."""


@dataclass
class VirtualMagnet:
    """An iron-yoke electromagnet: supply current → field along ``axis`` (and the rotation
    stage's in-plane angle), with remanence and an inductive lag.

    Hysteresis is a backlash (play) operator: B = k·x, where x follows the coil current I
    within ±b, b = B_r/k. Sweeping up gives B = k·I − B_r, sweeping down B = k·I + B_r, the
    remanence at I = 0 is ±B_r, and a small reversal travels a flat minor loop instead of
    jumping between branches. The coil current follows the supply's setpoint with time
    constant L/R (s).
    """
    tesla_per_A: float = 0.04
    remanence_T: float = 0.003
    l_over_r_s: float = 0.2
    axis: str = "inplane"          # "inplane" (rotation stage sets the angle) or "z"
    angle_deg: float = 0.0
    setpoint_A: float = 0.0
    coil_A: float = 0.0
    play_A: float | None = None    # the backlash state x (A); None: start on the up branch

    def __post_init__(self):
        if self.play_A is None:
            self.play_A = self.coil_A - self._b

    @property
    def _b(self) -> float:
        return self.remanence_T / self.tesla_per_A

    def advance(self, dt: float) -> None:
        """Let the coil current relax toward the setpoint for dt (s)."""
        if dt <= 0 or self.coil_A == self.setpoint_A:
            return
        new = self.setpoint_A + (self.coil_A - self.setpoint_A) * math.exp(-dt / self.l_over_r_s)
        if abs(new - self.setpoint_A) < 1e-9:
            new = self.setpoint_A
        self.coil_A = new
        b = self._b
        self.play_A = min(max(self.play_A, new - b), new + b)

    def field_magnitude_T(self) -> float:
        """Get the signed field along the magnet's axis (T)."""
        return self.tesla_per_A * self.play_A

    def field_vector_T(self) -> np.ndarray:
        """Get the field vector at the sample (T)."""
        b = self.field_magnitude_T()
        if self.axis == "z":
            return np.array([0.0, 0.0, b])
        a = math.radians(self.angle_deg)
        return np.array([b * math.cos(a), b * math.sin(a), 0.0])


class RotationStage:
    """The virtual magnet's rotation stage, as a bench offers it to procedures
    (:attr:`labspin.bench.session.Bench.rotation_stage`): ``move_to(deg)`` turns the
    in-plane field to ``deg`` from +x. It turns at once (no motor time is simulated)."""

    def __init__(self, bench: VirtualBench):
        self._bench = bench

    def move_to(self, angle_deg: float) -> None:
        """Turn the field to ``angle_deg`` (degrees from +x, in the sample plane)."""
        self._bench.set_field_angle(angle_deg)

    @property
    def angle_deg(self) -> float:
        """The present angle (degrees from +x)."""
        return self._bench.magnet.angle_deg


@dataclass(frozen=True)
class RFDrive:
    """An rf drive: carrier frequency (Hz), power (dBm), AM depth (0–1) and rate (Hz)."""
    frequency_Hz: float
    power_dBm: float
    am_depth: float = 0.0
    am_frequency_Hz: float = 0.0


@dataclass
class Drives:
    """What the sources apply to the sample at present."""
    dc_A: dict = field(default_factory=dict)          # source → dc current (A)
    ac: dict = field(default_factory=dict)            # source → (amplitude A, frequency Hz)
    rf: dict = field(default_factory=dict)            # source → RFDrive
    references: dict = field(default_factory=dict)    # source → reference frequency (Hz)
    field_mod: dict = field(default_factory=dict)     # source → (peak field T, frequency Hz)

    def dc_total(self) -> float:
        return float(sum(self.dc_A.values()))


class VirtualBench:
    """One virtual sample, its magnet, and the instruments wired to them.

    seed: measurement noise and stochastic dynamics are reproducible for a given seed.
    Low-barrier magnets (Δ < ``thermal_delta``, e.g. the Kapitza sample) are read through
    thermal averages of the stochastic LLG; others through the T = 0 torque balance, with
    thermally activated hops between the easy-axis wells at Brown's rates (physics.md
    check 4) over every interval the clock advances — so loops have a sweep-rate-dependent
    coercivity below the anisotropy field.
    """

    def __init__(self, sample: SampleModel, *, seed: int = 0, clock: VirtualClock | None = None,
                 magnet: VirtualMagnet | None = None, thermal_delta: float = 8.0,
                 m0=None, activation_delta: float = 60.0):
        self.sample = sample
        self.system = sample.system
        self.clock = clock or VirtualClock()
        self.rng = np.random.default_rng(seed)
        self.seed = seed
        self.drives = Drives()
        self.instruments: dict = {}
        self.resources = Registry()
        """The twins by VISA resource name, reached with ``visa_library=self.visa_library``."""
        self.rotation_stage = RotationStage(self)
        self.wall = sample.wall
        self.gate_V: dict = {}
        self.wall_site = 0
        self._wall_read: tuple[float, float] | None = None    # (time, q) of the last read
        if self.wall is not None:
            self.magnet = magnet or VirtualMagnet()
            self.thermal = False
            self._activation = None
            self.m = np.array([0.0, 0.0, 1.0])
            self._stale = False
            self._stream = 0
            self._thermal_cache = {}
            self.clock.on_advance(self._advance)
            return
        # a perpendicular magnet's loop is taken with the field along the normal; give an
        # in-plane VirtualMagnet explicitly for in-plane fields (harmonic Hall, ST-FMR)
        axis = "z" if sample.system.magnet.meff < 0 else "inplane"
        self.magnet = magnet or VirtualMagnet(axis=axis)
        self.thermal = (sample.system.magnet.temperature_K > 0
                        and sample.barrier() < thermal_delta)
        mg = sample.system.magnet
        if m0 is None:
            m0 = (0.0, 0.0, 1.0) if mg.meff < 0 else (1.0, 0.0, 0.0)
        self.m = np.asarray(m0, float) / np.linalg.norm(m0)
        self._stale = True
        self._stream = 0
        self._thermal_cache: dict = {}
        self._activation = None if self.thermal else self._activation_model(activation_delta)
        self.clock.on_advance(self._advance)

    def _activation_model(self, default_delta: float):
        """Get (easy axis, H_K in A/m, Δ at zero field, τ_N in s) for thermally activated
        reversal, or None when the sample has no easy axis or is at T = 0.

        A magnet larger than its activation volume reverses by nucleation: the barrier is
        that of ``magnet.activation_volume_m3`` if the sample sets it, else of the volume
        that gives Δ = ``default_delta`` (a modelling choice, documented in the sample).
        """
        from labspin.physics.telegraph import neel_time
        mg = self.system.magnet
        if mg.temperature_K <= 0:
            return None
        w, v = np.linalg.eigh(mg.d_tensor())
        hk = float(w[1] - w[0])
        if hk <= 0:
            return None
        k_eff = 0.5 * MU0 * mg.ms_A_per_m * hk
        v_act = self.sample.data.get("magnet", {}).get("activation_volume_m3")
        if v_act is None:
            v_act = min(mg.volume, default_delta * KB * mg.temperature_K / k_eff)
        delta = k_eff * v_act / (KB * mg.temperature_K)
        tau = neel_time(mg.ms_A_per_m, v_act, mg.alpha, mg.temperature_K, mg.gamma)
        return v[:, 0], hk, delta, tau

    def _thermal_switch(self, dt: float) -> None:
        """Let the state hop to the other well with the Brown escape rate over dt (s)."""
        from labspin.physics.telegraph import mean_first_passage_time
        axis, hk, delta, tau = self._activation
        h = float(np.dot(self._h(), axis)) / hk
        torques = self.system.torques
        h_s = 0.0
        if torques:
            i = self.drives.dc_total()
            h_s = sum(t.h_dl_per_A * i * float(np.dot(t.sigma, axis)) for t in torques) / (
                self.system.magnet.alpha * hk)
        if abs(h + h_s) >= 1.0:
            # no barrier: one well, the torque balance switches it already (so the state
            # need not be brought up to date here: no branch can be lost)
            return
        m = self.state()
        s = 1.0 if float(np.dot(m, axis)) >= 0 else -1.0
        dwell = mean_first_passage_time(delta, h, h_s, tau_n=tau, from_state=int(s))
        if self.rng.random() < -math.expm1(-dt / dwell):
            flipped = self.m - 2.0 * float(np.dot(self.m, axis)) * axis
            eq = equilibrium(self.system, self._h(), self.drives.dc_total(), m0=flipped)
            self.m = eq.m[:, 0]
            self._stale = False

    # --- time -------------------------------------------------------------------------------
    def _advance(self, t_old: float, t_new: float) -> None:
        before = self.magnet.coil_A
        self.magnet.advance(t_new - t_old)
        if self.magnet.coil_A != before:
            self._stale = True
        if self._activation is not None:
            self._thermal_switch(t_new - t_old)

    # --- what sources set -------------------------------------------------------------------
    def set_dc_current(self, source: str, amps: float) -> None:
        """Set the dc current (A) that ``source`` drives through the sample (+x)."""
        if self.drives.dc_A.get(source, 0.0) == amps:
            return
        if amps:
            self.drives.dc_A[source] = float(amps)
        else:
            self.drives.dc_A.pop(source, None)
        self._stale = True
        if self.wall is not None:
            self._dw_dc_step()

    def set_ac_current(self, source: str, amplitude_A: float, frequency_Hz: float) -> None:
        """Set an ac current I(t) = A·sin(2πft) from ``source`` (A = 0 removes it)."""
        if amplitude_A:
            self.drives.ac[source] = (float(amplitude_A), float(frequency_Hz))
        else:
            self.drives.ac.pop(source, None)

    def set_rf(self, source: str, frequency_Hz: float, power_dBm: float | None,
               am_depth: float = 0.0, am_frequency_Hz: float = 0.0) -> None:
        """Set the rf drive of ``source`` (power None: rf off); AM depth 0–1 at a rate (Hz):
        the carrier amplitude is (1 + d·sin 2πf_AM t)·A, so the power follows its square."""
        if power_dBm is None:
            self.drives.rf.pop(source, None)
        else:
            self.drives.rf[source] = RFDrive(float(frequency_Hz), float(power_dBm),
                                             float(am_depth), float(am_frequency_Hz))

    def set_reference(self, source: str, frequency_Hz: float | None) -> None:
        """Publish (or with None withdraw) a reference output, e.g. an rf source's LF out or
        a lock-in's sine out, that a lock-in on external reference locks to."""
        if frequency_Hz is None:
            self.drives.references.pop(source, None)
        else:
            self.drives.references[source] = float(frequency_Hz)

    def set_field_modulation(self, source: str, amplitude_T: float, frequency_Hz: float) -> None:
        """Set a modulation b(t) = b_m·sin(2πft) of the field along itself from ``source``
        (modulation coils; b_m = 0 removes it), read by the FMR diode model
        (:mod:`labspin.sim_backend.sample_fmr`)."""
        if amplitude_T:
            self.drives.field_mod[source] = (float(amplitude_T), float(frequency_Hz))
        else:
            self.drives.field_mod.pop(source, None)

    def reference_frequency(self, source: str) -> float | None:
        """Get the frequency (Hz) of ``source``'s reference output, None if it has none."""
        return self.drives.references.get(source)

    def set_magnet_current(self, amps: float) -> None:
        """Set the magnet supply's output current (A); the coil follows with L/R."""
        self.magnet.setpoint_A = float(amps)

    @property
    def visa_library(self) -> str:
        """The pyvisa library string of this bench's twins ("bench-3@labspin")."""
        return self.resources.visa_library

    def set_field_angle(self, deg: float) -> None:
        """Turn the rotation stage (in-plane field angle from +x, degrees)."""
        self.magnet.angle_deg = float(deg)
        self._stale = True

    # --- sample state -------------------------------------------------------------------------
    def field_T(self) -> np.ndarray:
        """Get the field vector at the sample (T)."""
        return self.magnet.field_vector_T()

    def _h(self) -> np.ndarray:
        return self.field_T() / MU0

    def state(self, current_A: float | None = None) -> np.ndarray:
        """Get m under the present field and dc current (or ``current_A``), continuing from
        the present state (hysteresis); low-barrier magnets give the thermal average ⟨m⟩."""
        i = self.drives.dc_total() if current_A is None else current_A
        if self.thermal:
            return self.thermal_average(i)
        if current_A is None and not self._stale:
            return self.m
        m = self._tracked_equilibrium(i, self.m)
        if current_A is None:
            self.m = m
            self._stale = False
        return m

    def _tracked_equilibrium(self, current_A: float, m0: np.ndarray,
                             max_turn_rad: float = 0.5) -> np.ndarray:
        """Get the state m relaxes to from m0 (T = 0 torque balance): Newton from m0 when it
        lands on a stable fixed point within ``max_turn_rad`` of m0 (a small change of
        field or current moves the fixed point a little, and relaxing would end there
        too), else relaxation from m0 (a vanished branch: switching, or a large step)."""
        eq = equilibrium(self.system, self._h(), current_A, m0=m0, max_relax_periods=0)
        m = eq.m[:, 0]
        if eq.converged[0] and eq.stable[0] and float(np.dot(m, m0)) > math.cos(max_turn_rad):
            return m
        return equilibrium(self.system, self._h(), current_A, m0=m0).m[:, 0]

    def thermal_average(self, current_A: float, n: int = 64, n_tau: float = 40.0) -> np.ndarray:
        """Get ⟨m⟩ over n members × n_tau Néel times of the stochastic LLG (T > 0), cached
        per (field, current): the stationary average depends on nothing else."""
        return self.thermal_moments(current_A, n, n_tau)[0]

    def thermal_moments(self, current_A: float, n: int = 64,
                        n_tau: float = 40.0) -> tuple[np.ndarray, np.ndarray]:
        """Get (⟨m⟩ (3,), ⟨m⊗m⟩ (3, 3)) of the same stochastic-LLG average as
        :meth:`thermal_average` (one run gives both; cached per field and current)."""
        key = (tuple(np.round(self.field_T(), 12)), round(float(current_A), 15), n, n_tau)
        cached = self._thermal_cache.get(key)
        if cached is None:
            cached = self._thermal_average(current_A, n, n_tau)
            self._thermal_cache[key] = cached
        return cached

    def _thermal_average(self, current_A: float, n: int,
                         n_tau: float) -> tuple[np.ndarray, np.ndarray]:
        from labspin.physics.telegraph import neel_time
        mg = self.system.magnet
        tau = neel_time(mg.ms_A_per_m, mg.volume, mg.alpha, mg.temperature_K, mg.gamma)
        h = self._h()
        # the isotropic part of D (e.g. a sphere's Ms/3) is parallel to m and exerts no
        # torque: only the spread of D's eigenvalues sets the precession rate
        d = np.linalg.eigvalsh(mg.d_tensor())
        hscale = np.linalg.norm(h) + float(d[-1] - d[0]) + 1.0
        dt = min(5e-12, 0.05 / (mg.gamma * hscale))
        self._stream += 1
        ens = Ensemble(self.system, n=n, h_ext_Apm=h, current_A=current_A, m0=self.m,
                       seed=self.seed * 1_000_003 + self._stream)
        run = ens.run(n_tau * tau, dt, average_from_s=0.25 * n_tau * tau)
        return run.mean_m.mean(axis=1), run.mean_mm.mean(axis=2)

    # --- readings -----------------------------------------------------------------------------
    def resistance(self, probe: str, m: np.ndarray | None = None) -> float:
        """Get the resistance (Ω) seen by ``probe`` ("xx", "xy" or "mtj") in state m (default:
        the present state).

        A low-barrier (thermal) Hall bar without an explicit m reads the time average ⟨R⟩,
        exact from ⟨m⟩ and ⟨m⊗m⟩ because R_xx and R_xy are quadratic in m: ⟨R_xx⟩ = r0 +
        ΔR_AMR⟨m_x²⟩ + ΔR_SMR⟨m_y²⟩, so the longitudinal readout carries the width of the
        distribution (a dc reading integrates over ≫ the Néel time). A thermal pillar reads
        R(⟨m⟩) (its TMR is not quadratic in m)."""
        if self.wall is not None:
            if probe != "mtj":
                raise ValueError(f"a domain-wall MTJ has the probe 'mtj', not {probe!r}")
            return float(self.wall.readout.resistance(self.wall_position()))
        ro = self.sample.readout
        if m is None and self.thermal and isinstance(ro, HallBar) and probe in ("xx", "xy"):
            m1, mm = self.thermal_moments(self.drives.dc_total())
            if probe == "xx":
                return float(ro.r0 + ro.dr_amr * mm[0, 0] + ro.dr_smr * mm[1, 1])
            return float(ro.r_xy0 + ro.dr_ahe * m1[2] + 2.0 * ro.dr_phe * mm[0, 1])
        m = self.state() if m is None else m
        if isinstance(ro, HallBar):
            if probe == "xx":
                return float(ro.rxx(m))
            if probe == "xy":
                return float(ro.rxy(m))
            raise ValueError(f"a Hall bar has probes 'xx' and 'xy', not {probe!r}")
        if probe != "mtj":
            raise ValueError(f"a pillar has the probe 'mtj', not {probe!r}")
        return float(ro.resistance(m))

    # --- the domain-wall Gaussian source ---------------------------------------------------
    def set_gate_voltage(self, source: str, volts: float) -> None:
        """Set the gate voltage (V) that ``source`` applies to the wall's VCMA gate."""
        self.gate_V[source] = float(volts)

    def set_wall_site(self, site: int) -> None:
        """Pin the wall at notch ``site`` (a current pulse between sites in a real device)."""
        if not 0 <= site < self.wall.params.n_sites:
            raise ValueError(f"site must be in 0..{self.wall.params.n_sites - 1}, got {site}")
        self.wall_site = int(site)
        self._wall_read = None

    def wall_position(self) -> float:
        """Get the wall position q (m) now: a draw from the stationary Gaussian N(q_site,
        k_BT/k(V_g)) (physics.md, exact), conditioned on the previous read through the
        model's normalized autocorrelation when the reads are close in time (for reads
        closer than the ring-down time this treats q alone as Markov: an approximation)."""
        gate = sum(self.gate_V.values())
        mu = self.wall.site_position(self.wall_site)
        sigma = self.wall.sigma_q(gate)
        now = self.clock.now()
        if self._wall_read is not None and self._wall_read[0] == now:
            return self._wall_read[1]
        rho = 0.0
        if self._wall_read is not None:
            dt = now - self._wall_read[0]
            if dt < 20 * self.wall.decorrelation_time(gate):
                rho = float(np.clip(self.wall.q_autocorrelation(dt, gate), -1.0, 1.0))
        prev = self._wall_read[1] - mu if self._wall_read is not None else 0.0
        q = mu + rho * prev + math.sqrt(1 - rho * rho) * sigma * float(self.rng.normal())
        self._wall_read = (now, q)
        return q

    def johnson_noise_V(self, probe: str, bandwidth_Hz: float) -> float:
        """Get the rms Johnson noise √(4k_BTRΔf) (V) of the probe's resistance."""
        t = (self.wall.params.temperature if self.wall is not None
             else max(self.system.magnet.temperature_K, 0.0))
        r = abs(self.resistance(probe)) if probe != "xy" else abs(self.resistance("xx"))
        return math.sqrt(4 * KB * t * r * bandwidth_Hz)

    def thermoelectric_V(self, probe: str, current_A: float, m: np.ndarray) -> float:
        """Get the anomalous Nernst voltage (V) of the Joule-heating gradient ∇T ∥ ẑ at a
        current (A) in state m: E ∝ ∇T × m ∝ I²·(ẑ × m), so c·I²·m_x on the Hall probe "xy"
        and −c·(length/width)·I²·m_y on "xx", c = the sample's ``readout.v_ane_per_A2_V``
        (0 by default, and for pillars). Quasi-static: the gradient follows I(t)², so an ac
        current I0·sin ωt gives V_2ω = −c·I0²·m_x/2 on the Hall probe (physics.md's V_2ω)."""
        c = self.sample.v_ane_per_A2
        if not c or self.wall is not None or not isinstance(self.sample.readout, HallBar):
            return 0.0
        if probe == "xy":
            return float(c * current_A ** 2 * m[0])
        if probe == "xx":
            mag = self.sample.data["magnet"]
            return float(-c * mag["length_m"] / mag["width_m"] * current_A ** 2 * m[1])
        return 0.0

    def dc_voltage(self, probe: str, integration_s: float = 0.02,
                   noise_floor_V: float = 0.0) -> float:
        """Get one dc voltage reading (V): I_dc·R(m) (+ the anomalous Nernst voltage of
        :meth:`thermoelectric_V`) plus Johnson and instrument noise for an integration time
        (s) (bandwidth 1/(2·t))."""
        i = self.drives.dc_total()
        v = i * self.resistance(probe)
        if self.sample.v_ane_per_A2 and i:
            v += self.thermoelectric_V(probe, i, self.state())
        sigma = math.hypot(self.johnson_noise_V(probe, 1.0 / (2.0 * integration_s)),
                           noise_floor_V)
        return v + sigma * float(self.rng.normal())

    def harmonics(self, probe: str, amplitude_A: float, n_max: int = 3,
                  n_phase: int = 32) -> np.ndarray:
        """Get complex phasors c_n (V), n = 0..n_max, of the quasi-static response
        V(t) = I(t)·R(m(I(t))) (+ the anomalous Nernst voltage of :meth:`thermoelectric_V`)
        to I(t) = I_dc + A·sin ωt: V(t) = Σ Re[c_n e^{inωt}].

        The sine component of harmonic n is −Im c_n, the cosine component Re c_n;
        physics.md's V_2ω (V ⊃ V_2ω cos 2ωt) is Re c_2.
        """
        theta = 2 * np.pi * np.arange(n_phase) / n_phase
        i_dc = self.drives.dc_total()
        base = self.state()
        v = np.empty(n_phase)
        states: dict = {}           # sin θ = sin(π − θ): each current once
        for k, th in enumerate(theta):
            s = math.sin(th)
            key = round(s, 12)
            if key not in states:
                i = i_dc + amplitude_A * s
                m = base if self.thermal else self._nearby_equilibrium(i, base)
                states[key] = i * self.resistance(probe, m) + self.thermoelectric_V(probe, i, m)
            v[k] = states[key]
        c = np.fft.rfft(v) / n_phase
        c[1:] *= 2.0
        return c[: n_max + 1]

    def _nearby_equilibrium(self, current_A: float, m0: np.ndarray,
                            h_Apm: np.ndarray | None = None) -> np.ndarray:
        """Get the fixed point near m0 at a current (A) and the present field (or ``h_Apm``):
        Newton from m0 (the ac drive tilts m by far less than a radian), relaxing from m0
        only if that finds no stable point."""
        h = self._h() if h_Apm is None else h_Apm
        eq = equilibrium(self.system, h, current_A, m0=m0, max_relax_periods=0)
        if not (eq.converged[0] and eq.stable[0]):
            eq = equilibrium(self.system, h, current_A, m0=m0)
        return eq.m[:, 0]

    def rf_current_A(self, power_dBm: float, probe: str = "xx") -> float:
        """Get the rf current amplitude (A) in the sample for a source power (dBm).

        Model: a matched 50 Ω source into the sample as a lumped load R at the end of the
        line: the incident wave's amplitude V_i = √(2·Z0·P) gives I = 2V_i/(Z0 + R)
        (impedance mismatch); cable losses are not modelled.
        """
        p = 1e-3 * 10 ** (power_dBm / 10.0)
        v_inc = math.sqrt(2 * Z0 * p)
        return 2 * v_inc / (Z0 + abs(self.resistance(probe)))

    def mixing_voltage(self, probe: str, frequency_Hz: float, i_rf_A: float) -> float:
        """Get the rectified dc voltage (V) of an rf current I_rf·cos ωt: ½ I_rf² Re[∇R·χ_I]
        from the linear response about the present state (physics.md, ST-FMR)."""
        m = self.state()
        chi = linear_response(self.system, m[:, None], frequency_Hz, self._h()[:, None],
                              self.drives.dc_total(), drive="current")[:, 0]
        ro = self.sample.readout
        if isinstance(ro, HallBar):
            grad = ro.drxx_dm(m) if probe == "xx" else ro.drxy_dm(m)
        else:
            grad = ro.dresistance_dm(m)
        return float(0.5 * i_rf_A ** 2 * np.real(np.dot(grad, chi)))

    def apply_current_pulse(self, amplitude_A: float, width_s: float, rise_s: float = 0.0,
                            dt_s: float = 1e-12) -> None:
        """Drive a current pulse through the sample (time domain, the sample's T), then let
        it relax: a switching pulse leaves the state switched. The magnet meets the pulse
        in thermal equilibrium in its present well (:meth:`pulse_trials`).

        On a domain-wall sample the pulse drives the wall's 1D (q, φ) model instead
        (:meth:`_dw_pulse`): above the depinning threshold it carries the wall to a
        neighbouring notch, along the electron flow (I > 0 → toward lower site index)."""
        if self.wall is not None:
            self._dw_pulse(amplitude_A, width_s)
            return
        m = self.pulse_trials(amplitude_A, width_s, rise_s, n=1, dt_s=dt_s,
                              seed=self.seed * 1_000_003 + self._next_stream())
        self.m = m[:, 0].copy()
        self._stale = True
        self.clock.sleep(width_s)

    THERMALIZE_RELAXATIONS = trials.THERMALIZE_RELAXATIONS
    THERMALIZE_MAX_S = trials.THERMALIZE_MAX_S

    def thermalization_time(self, m: np.ndarray | None = None) -> float:
        """Get the time (s) the stochastic LLG runs at the holding drive (present field and
        dc current) before a pulse, from the fixed point ``m`` (default: the present
        state): :func:`labspin.physics.macrospin.trials.thermalization_time`, cached."""
        if self.system.magnet.temperature_K <= 0:
            return 0.0
        m = self.state() if m is None else m
        i = self.drives.dc_total()
        key = ("relax", tuple(np.round(self.field_T(), 12)), round(float(i), 15),
               tuple(np.round(m, 6)))
        t = self._thermal_cache.get(key)
        if t is None:
            t = trials.thermalization_time(self.system, m, self._h(), i,
                                           relaxations=self.THERMALIZE_RELAXATIONS,
                                           max_s=self.THERMALIZE_MAX_S)
            self._thermal_cache[key] = t
        return t

    def pulse_trials(self, amplitude_A: float, width_s: float, rise_s: float = 0.0, *,
                     n: int = 1, seed: int = 0, dt_s: float = 1e-12) -> np.ndarray:
        """Get m (3, n) of n independent trials of a current pulse (A, along +x) on top of the
        present dc current, each after the pulse and 2 ns of relaxation; the bench's state is
        only brought up to date (:meth:`state`), not changed. Each trial starts in thermal
        equilibrium in the present well (:func:`labspin.physics.macrospin.trials.pulse_trials`:
        :meth:`thermalization_time` at the holding drive from the fixed point, then the
        trapezoidal pulse, full width ``width_s``, linear edges ``rise_s`` inside it).
        Reversals during the thermalization (Brown's rate × a few ns) are left to
        the bench's hops between pulses and not prevented here."""
        i = self.drives.dc_total()
        # a low-barrier (thermal) bench keeps no relaxed state: start from the fixed point
        # that m relaxes to
        m0 = self._tracked_equilibrium(i, self.m) if self.thermal else self.state()
        return trials.pulse_trials(self.system, m0, amplitude_A, width_s, rise_s, n=n,
                                   thermalize_s=self.thermalization_time(m0),
                                   h_ext_Apm=self._h(), current_A=i, seed=seed,
                                   dt_s=dt_s).copy()

    def _next_stream(self) -> int:
        self._stream += 1
        return self._stream

    # --- domain-wall moves by current ----------------------------------------------------
    # Sign convention: the bench's current I flows along +x (design.md) through the wall's
    # strip, cross section S = width·t_F (DomainWallParams); the electrons flow along −x, and
    # spin transfer moves the wall along the electron flow (DomainWall.stt_velocity: u > 0
    # for electrons toward +x). So I > 0 moves the wall toward −x, i.e. to a LOWER site index;
    # I < 0 to a higher one. Moves clamp at the end sites (0 and n_sites − 1).

    def dw_drift_velocity(self, current_A: float) -> float:
        """Get the STT drift u (m/s) of a current (A, +x) through the wall's strip:
        u = stt_velocity(J_e) with the electron-flow density J_e = −I/(width·t_F)."""
        p = self.wall.params
        return self.wall.stt_velocity(-float(current_A) / (p.width * p.t_F))

    def dw_depinning_current_A(self, gate_V: float | None = None) -> float:
        """Get the quasi-static depinning current |I_dep| (A) of the wall in its notch.

        A pinned steady state of the 1D model (domainwall.py's rate equations with q̇ = φ̇ = 0)
        under a drift u needs f_φ = u, i.e. sin 2φ = −u/u_W — possible only for |u| ≤ u_W
        (Walker; walker_velocity) — and a pinning force k·x = β·G·u/Δ (the non-adiabatic
        force), at most k·ℓ at the notch edge (ℓ the notch half-length). So the wall depins
        when |u| > u_dep = min(u_W, k·ℓ·Δ/(β·G)), I_dep = u_dep·S / (u per unit J_e).
        (dw_gaussian_source: u_W ≈ 28 m/s ≪ k·ℓ·Δ/(βG) ≈ 960 m/s → I_dep ≈ 0.19 mA.)
        This is the threshold of a slowly rising current (a source meter's µs edges ≫ the
        wall's ≈ 25 ns ring-down); a ns pulse's step can overshoot φ and depin somewhat lower,
        which :meth:`_dw_pulse` gets from the dynamics themselves."""
        w = self.wall
        g = sum(self.gate_V.values()) if gate_V is None else float(gate_V)
        u_w = w.walker_velocity(g)
        u_f = w.stiffness(g) * w.params.notch_half_length * w.wall_width(g) / (
            max(w.params.beta, 1e-300) * w.gyro)
        return min(u_w, u_f) / abs(self.dw_drift_velocity(1.0))

    def _dw_land(self, site: int) -> None:
        site = int(min(max(site, 0), self.wall.params.n_sites - 1))
        if site != self.wall_site:
            self.set_wall_site(site)

    def _dw_dc_step(self) -> None:
        """Source-meter "move pulses" (edge triggered): when |total dc current| rises above
        :meth:`dw_depinning_current_A` the wall moves ONE site along the electron flow; it
        must fall back below before the next move. Modelling simplification: a dc current
        held above the threshold would in a real strip keep driving the wall (to the end of
        the track); here each on-then-off source-meter step (all last ≫ 1 µs) stands in for
        one calibrated move pulse (DomainWall.move), as the lead specified."""
        i = self.drives.dc_total()
        above = abs(i) > self.dw_depinning_current_A()
        armed = getattr(self, "_dw_dc_above", False)
        self._dw_dc_above = above
        if above and not armed:
            self._dw_land(self.wall_site - (1 if i > 0 else -1))

    def _dw_pulse(self, amplitude_A: float, width_s: float) -> None:
        """Drive the wall's 1D (q, φ) model (DomainWall.simulate, one wall at the sample's
        temperature, started from the Boltzmann state in its notch, under the present gate)
        with a rectangular STT pulse u = dw_drift_velocity(I_dc + amplitude) for width_s (s;
        the rise is not modelled), then 10 decorrelation times to settle; the wall lands in
        the notch nearest its final position (clamped to the end sites). Long or strong
        pulses may carry it over several notches, as the dynamics say."""
        from labspin.physics.domainwall import Pulse as WallPulse
        w = self.wall
        gate = sum(self.gate_V.values())
        u = self.dw_drift_velocity(self.drives.dc_total() + float(amplitude_A))
        settle = 10.0 * w.decorrelation_time(gate)
        tr = w.simulate(1, float(width_s) + settle, gate_V=gate, site=self.wall_site,
                        seed=self.seed * 1_000_003 + self._next_stream(),
                        pulse=WallPulse(u=u, duration=float(width_s)), record_every=0)
        self._dw_land(int(w.nearest_site(tr.q_final[0])))
        self.clock.sleep(width_s)
