"""The macrospin physics core: one magnet (or an ensemble of independent copies) under fields,
spin-orbit and spin-transfer torques, at zero or finite temperature.

It serves the simulated bench and the analysis alike; SI units (H in A/m).
"""
from labspin.physics.macrospin.analytic import (
                       auto_oscillation,
                       boltzmann_average,
                       inplane_magnetization_angle,
                       kapitza_stability_h_dl,
                       kapitza_xi_eff,
                       kittel_inplane,
                       kittel_normal,
                       kittel_perpendicular,
                       langevin,
                       langevin_second_moment,
                       uniaxial_mz2,
)
from labspin.physics.macrospin.ensemble import Ensemble, Run
from labspin.physics.macrospin.equilibrium import (
    Equilibrium,
    absorbed_power_W,
    equilibrium,
    linear_response,
)
from labspin.physics.macrospin.phase_map import PhaseMap, phase_map
from labspin.physics.macrospin.system import (
                       SIGMA_SPIN_HALL,
                       Macrospin,
                       Magnet,
                       SpinTorque,
                       Uniaxial,
                       Wave,
                       pulse,
                       sheet_oersted_per_A,
                       sine,
                       step,
)

__all__ = [
    "Ensemble", "Equilibrium", "Macrospin", "Magnet", "PhaseMap", "Run", "SpinTorque",
    "Uniaxial", "Wave", "absorbed_power_W", "auto_oscillation", "boltzmann_average",
    "equilibrium",
    "inplane_magnetization_angle",
    "kapitza_stability_h_dl", "kapitza_xi_eff", "kittel_inplane", "kittel_normal",
    "kittel_perpendicular", "langevin", "langevin_second_moment", "linear_response",
    "phase_map", "pulse", "SIGMA_SPIN_HALL", "sheet_oersted_per_A", "sine", "step",
    "uniaxial_mz2",
]
