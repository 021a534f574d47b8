"""Physical constants (SI, CODATA 2018) and unit conversions used across labspin."""
import math

MU0 = 1.25663706212e-6
"""Vacuum permeability μ0 (T·m/A)."""
KB = 1.380649e-23
"""Boltzmann constant k_B (J/K)."""
HBAR = 1.054571817e-34
"""Reduced Planck constant ħ (J·s)."""
E_CHARGE = 1.602176634e-19
"""Elementary charge e (C)."""
MU_B = 9.2740100783e-24
"""Bohr magneton μ_B (J/T)."""
GAMMA0 = 2.2128e5
"""Gyromagnetic ratio γ0 = μ0·|γ_e| (m/(A·s)), the design.md default unless a sample sets g."""


def gamma0_from_g(g: float) -> float:
    """Get γ0 = μ0·g·μ_B/ħ (m/(A·s)) for a Landé factor g."""
    return MU0 * g * MU_B / HBAR


def tesla_to_apm(b_T: float):
    """Get H (A/m) from μ0·H (T)."""
    return b_T / MU0


def apm_to_tesla(h_Apm: float):
    """Get μ0·H (T) from H (A/m)."""
    return h_Apm * MU0


TWO_PI = 2.0 * math.pi
