"""Simulated samples: TOML files with design.md's keys, built into the physics core's objects.

A sample file has a ``name``, a ``description``, a ``geometry`` ("hallbar", "pillar" or
"domain_wall") and tables:

- ``[magnet]`` (hallbar, pillar): mu0_ms_T, alpha, thickness_m, width_m, length_m (Hall bar:
  the magnetized region between the voltage probes; pillar: the ellipse axes), ks_J_per_m2
  (interface perpendicular anisotropy), k_perp_J_per_m3 (bulk, along z), k_inplane_J_per_m3
  with easy_axis, demag [Nx, Ny, Nz] (default: thin film, or an ellipse's in-plane factors for a
  pillar), g, temperature_K;
- ``[heavy_metal]`` (SOT, current along +x, all of it in the heavy metal): thickness_m, xi_dl,
  xi_fl, sigma (default −ŷ: design.md's sign, σ along the Oersted field at a magnet on top
  of the heavy metal, so a ξ_DL > 0 sample shows Pt's S/A > 0), oersted (sheet field of a
  heavy metal below the magnet);
- ``[stt]`` (pillar): eta, polarizer, h_fl_ratio;
- ``[readout]``: r0_ohm, dr_amr_ohm, dr_smr_ohm, r_xy0_ohm, dr_ahe_ohm, dr_phe_ohm and
  v_ane_per_A2_V (hallbar; the anomalous Nernst voltage of Joule heating, default 0, see
  :class:`SampleModel`) or r_p_ohm, r_ap_ohm, reference (pillar);
- ``[domain_wall]`` and ``[dw_readout]`` (domain_wall): the fields of
  :class:`labspin.physics.domainwall.DomainWallParams` and
  :class:`labspin.physics.domainwall.TMRReadout`;
- ``[limits]`` (any geometry, optional): what the sample survives, max_current_A,
  max_voltage_V and max_current_density_A_per_m2 (through the current's cross-section,
  :func:`current_cross_section_m2`); the simulated bench built for the sample tightens its
  own 20 mA / 20 V to them. Each built-in sample gives the origin of its numbers in a
  comment.

Every key is checked (:func:`check_keys`): an unknown key or table — a typo such as
``alfa`` — is a SampleError naming the file, the table, the key, the allowed keys and the
closest allowed one, never silently the default.

:func:`apply_overrides` changes a copy: a dotted TOML key (``magnet.alpha=0.01``) or a key of
:meth:`SampleModel.describe` that maps onto one parameter (``alpha``, ``mu0_meff_T``,
``mu0_hdl_per_A_T``, ``dr_ahe_ohm``, …; on a domain-wall sample alpha, mu0_ms_T,
temperature_K and gamma_Hz_per_T). Values are SI; a bad value is reported on the key given.
"""
from __future__ import annotations

import copy
import difflib
import math
import tomllib
from dataclasses import dataclass, field, fields
from importlib import resources
from pathlib import Path

import numpy as np

from labspin.physics.constants import E_CHARGE, HBAR, KB, MU0, MU_B
from labspin.physics.domainwall import DomainWall, DomainWallParams, TMRReadout
from labspin.physics.macrospin.system import (
    SIGMA_SPIN_HALL,
    Macrospin,
    Magnet,
    SpinTorque,
    Uniaxial,
    sheet_oersted_per_A,
)
from labspin.physics.readout import HallBar, TunnelJunction

GEOMETRIES = ("hallbar", "pillar", "domain_wall")
NOMINAL_REL_ERR = {"mu0_ms_T": 0.03, "thickness_m": 0.05, "hm_thickness_m": 0.05,
                   "width_m": 0.02, "length_m": 0.02, "volume_m3": 0.06,
                   "temperature_K": 0.01}
"""Relative standard errors of the sample constants as a lab knows them: M_s from a
magnetometer (3 %, volume and calibration), thicknesses from deposition rates (5 %), bar
width and length from lithography (2 %), the magnet's volume from those three (6 %), the
sample temperature from the stage's thermometer (1 %)."""

TOP_KEYS = ("name", "description", "geometry")
"""Top-level keys that are not tables."""
MAGNET_KEYS = ("mu0_ms_T", "alpha", "thickness_m", "width_m", "length_m", "ks_J_per_m2",
               "k_perp_J_per_m3", "k_inplane_J_per_m3", "easy_axis", "demag", "g",
               "temperature_K", "activation_volume_m3")
"""[magnet] keys (activation_volume_m3: the thermally activated volume of the virtual bench's
telegraph hops, see :class:`VirtualBench`)."""
MACROSPIN_TABLES = {
    "magnet": MAGNET_KEYS,
    "heavy_metal": ("thickness_m", "xi_dl", "xi_fl", "sigma", "oersted"),
    "stt": ("eta", "polarizer", "h_fl_ratio"),
}
READOUT_KEYS = {
    "hallbar": ("r0_ohm", "dr_amr_ohm", "dr_smr_ohm", "r_xy0_ohm", "dr_ahe_ohm", "dr_phe_ohm",
                "v_ane_per_A2_V"),
    "pillar": ("r_p_ohm", "r_ap_ohm", "reference"),
}


LIMIT_KEYS = ("max_current_A", "max_voltage_V", "max_current_density_A_per_m2")
"""[limits] keys: what the sample survives (the bench's limits tighten to them): a current,
a voltage across it (a tunnel barrier's breakdown), a current density through the current's
cross-section (:func:`current_cross_section_m2`: a Hall bar's heavy metal, a pillar's
ellipse)."""


def allowed_keys(geometry: str) -> dict[str, tuple[str, ...]]:
    """Get the tables of a sample of this geometry and each table's allowed keys."""
    if geometry == "domain_wall":
        return {"domain_wall": tuple(f.name for f in fields(DomainWallParams)),
                "dw_readout": tuple(f.name for f in fields(TMRReadout)), "limits": LIMIT_KEYS}
    return {**MACROSPIN_TABLES, "readout": READOUT_KEYS[geometry], "limits": LIMIT_KEYS}


class SampleError(ValueError):
    """A malformed sample file or override; the message names the key."""


def _unknown(what: str, key: str, allowed) -> str:
    """Get "unknown WHAT (did you mean 'x'?); allowed: …", the close match by difflib (case
    ignored)."""
    allowed = sorted(allowed)
    lower = {a.lower(): a for a in allowed}
    close = difflib.get_close_matches(key.lower(), list(lower), n=1)
    hint = f" (did you mean {lower[close[0]]!r}?)" if close else ""
    return f"unknown {what}{hint}; allowed: {', '.join(allowed)}"


def check_keys(data: dict, source: str | None = None) -> None:
    """Check every table and key of a sample table against its geometry's allowed keys.

    Raises SampleError naming ``source`` (the file), the table and the key, with the allowed
    keys and the closest one; the geometry itself must be valid (checked first).
    """
    at = f"{source}: " if source else ""
    geometry = data.get("geometry")
    if geometry not in GEOMETRIES:
        raise SampleError(f"{at}geometry: {geometry!r} is not one of {', '.join(GEOMETRIES)}")
    tables = allowed_keys(geometry)
    for name, value in data.items():
        if name in TOP_KEYS:
            continue
        if name not in tables:
            other = [g for g in GEOMETRIES if name in allowed_keys(g)]
            if other:
                raise SampleError(f"{at}[{name}] is a table of a {' or '.join(other)} sample, "
                                  f"not of a {geometry} one; tables of a {geometry}: "
                                  f"{', '.join(tables)}")
            raise SampleError(f"{at}{name}: "
                              f"{_unknown('top-level key', name, (*TOP_KEYS, *tables))} "
                              f"(tables of a {geometry}: {', '.join(tables)})")
        if not isinstance(value, dict):
            raise SampleError(f"{at}{name} must be a table, got {value!r}")
        for key in value:
            if key not in tables[name]:
                raise SampleError(f"{at}{name}.{key}: "
                                  f"{_unknown(f'key in [{name}]', key, tables[name])}")


def builtin_names() -> list[str]:
    """Get the names of the built-in samples."""
    folder = resources.files(__package__) / "builtin_samples"
    return sorted(p.name[:-5] for p in folder.iterdir() if p.name.endswith(".toml"))


def load_sample_data(name_or_path: str | Path) -> dict:
    """Get the raw table of a built-in sample (by name) or of a TOML file."""
    p = Path(name_or_path)
    if p.suffix == ".toml" or p.exists():
        try:
            text = p.read_text(encoding="utf-8")
        except OSError as exc:
            raise SampleError(f"cannot read sample file {p}: {exc.strerror}") from None
    else:
        if str(name_or_path) not in builtin_names():
            raise SampleError(f"unknown sample {str(name_or_path)!r}; built-in samples: "
                              f"{', '.join(builtin_names())} (or give a .toml file)")
        text = (resources.files(__package__) / "builtin_samples"
                / f"{name_or_path}.toml").read_text(encoding="utf-8")
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise SampleError(f"{name_or_path}: not valid TOML: {exc}") from None


@dataclass
class SampleModel:
    """A sample built from its table: the macrospin system and readout, or the wall model."""
    name: str
    description: str
    geometry: str
    data: dict
    system: Macrospin | None = None
    readout: HallBar | TunnelJunction | None = None
    wall: DomainWall | None = None
    hm_width_m: float = 0.0
    hm_thickness_m: float = 0.0
    limits: dict = field(default_factory=dict)
    """What the sample survives, from its [limits]: ``max_current_A`` (the tighter of the
    given current and the current density times the cross-section) and ``max_voltage_V``."""
    limit_origins: dict = field(default_factory=dict)
    """Where each of ``limits`` comes from, in words (the [limits] key that set it)."""
    v_ane_per_A2: float = 0.0
    """Hall bar: the anomalous Nernst voltage of the Joule-heating gradient ∇T ∥ ẑ (∝ I²),
    E ∝ ∇T × m: V_xy = c·I²·m_x on the Hall probe, V_xx = −c·(length/width)·I²·m_y on the
    longitudinal one, c = ``readout.v_ane_per_A2_V`` (V/A², default 0)."""

    def describe(self) -> dict:
        """Get design.md's `labspin sim show --json` keys: parameters and derived values."""
        out: dict = {"name": self.name, "geometry": self.geometry,
                     "description": self.description}
        if self.wall is not None:
            p = self.wall.params
            out.update({"alpha": p.alpha, "mu0_ms_T": MU0 * p.Ms,
                        "temperature_K": p.temperature,
                        "gamma_Hz_per_T": p.gamma0 / (2 * math.pi * MU0),
                        "r_p_ohm": 1.0 / self.wall.readout.g_p,
                        "r_ap_ohm": 1.0 / self.wall.readout.g_ap,
                        "sigma_q_m": self.wall.sigma_q(0.0),
                        "read_std_S": self.wall.expected_read_std(0.0)})
            return out
        mg = self.system.magnet
        sigma = self.system.torques[0].sigma if self.system.torques else SIGMA_SPIN_HALL
        h_oe_fl = float(np.dot(self.system.oersted_per_A, sigma))
        out.update({
            "alpha": mg.alpha, "gamma_Hz_per_T": mg.gamma / (2 * math.pi * MU0),
            "mu0_ms_T": MU0 * mg.ms_A_per_m, "mu0_meff_T": MU0 * mg.meff,
            "mu0_hk_T": MU0 * mg.hk_inplane, "temperature_K": mg.temperature_K,
            "volume_m3": mg.volume, "thickness_m": mg.thickness_m,
            "mu0_hdl_per_A_T": MU0 * self.system.h_dl_per_A(sigma),
            "mu0_hfl_per_A_T": MU0 * (self.system.h_fl_per_A(sigma) + h_oe_fl),
            "mu0_hoe_per_A_T": MU0 * h_oe_fl,
            "delta": self.barrier(),
        })
        hm = self.data.get("heavy_metal")
        out["width_m"] = float(self.data["magnet"]["width_m"])
        if hm:
            out["hm_thickness_m"] = self.hm_thickness_m
            out["xi_dl"] = float(hm.get("xi_dl", 0.0))
            out["xi_fl"] = float(hm.get("xi_fl", 0.0))
        out.update(self.readout.to_dict())
        if self.geometry == "hallbar":
            out["v_ane_per_A2_V"] = self.v_ane_per_A2
        return out

    def constants(self) -> dict:
        """Get the ``Sample constants`` of design.md: what an experimenter knows before
        measuring — the film's μ0M_s (magnetometer), thicknesses (deposition), bar width and
        length (lithography), the magnet's volume, the temperature — as {name: [nominal
        value, standard error]}, the errors :data:`NOMINAL_REL_ERR` of the value. Never the
        truths an analysis should find (α, M_eff, H_k, torques, resistances). {} for a
        domain-wall sample."""
        if self.system is None:
            return {}
        m = self.data["magnet"]
        values = {"mu0_ms_T": float(m["mu0_ms_T"]), "thickness_m": float(m["thickness_m"]),
                  "width_m": float(m["width_m"]), "length_m": float(m["length_m"]),
                  "volume_m3": float(self.system.magnet.volume),
                  "temperature_K": float(self.system.magnet.temperature_K)}
        if self.data.get("heavy_metal"):
            values["hm_thickness_m"] = self.hm_thickness_m
        return {k: [v, abs(v) * NOMINAL_REL_ERR[k]] for k, v in values.items()}

    def barrier(self) -> float:
        """Get Δ = K_eff V/(k_B T) of the easy axis (0 at T = 0 or without anisotropy)."""
        mg = self.system.magnet
        if mg.temperature_K <= 0:
            return 0.0
        d = np.linalg.eigvalsh(mg.d_tensor())       # H_int = −D m: energy μ0 Ms/2 m·D·m
        k_eff = 0.5 * MU0 * mg.ms_A_per_m * (d[1] - d[0]) if d.size else 0.0
        return float(k_eff * mg.volume / (KB * mg.temperature_K))


def _table(data: dict, name: str) -> dict:
    t = data.get(name, {})
    if not isinstance(t, dict):
        raise SampleError(f"{name} must be a table")
    return t


def _num(t: dict, key: str, prefix: str, default=None, positive=False) -> float:
    if key not in t:
        if default is None:
            raise SampleError(f"{prefix}.{key}: missing (a number, SI)")
        return default
    v = t[key]
    if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v):
        raise SampleError(f"{prefix}.{key}: must be a finite number, got {v!r}")
    if positive and v <= 0:
        raise SampleError(f"{prefix}.{key}: must be > 0, got {v!r}")
    return float(v)


def _vec(t: dict, key: str, prefix: str, default) -> tuple[float, float, float]:
    v = t.get(key, default)
    try:
        a = np.asarray(v, dtype=float)
        assert a.shape == (3,) and np.all(np.isfinite(a))
    except (ValueError, TypeError, AssertionError):
        raise SampleError(f"{prefix}.{key}: must be a list of 3 numbers, got {v!r}") from None
    return tuple(float(x) for x in a)


def build_sample(data: dict, name: str | None = None, source: str | None = None) -> SampleModel:
    """Build a SampleModel from a sample table; SampleError names the bad key (and
    ``source``, the file or sample it came from, when given)."""
    check_keys(data, source)
    geometry = data["geometry"]
    sm = SampleModel(str(data.get("name", name or "sample")), str(data.get("description", "")),
                     geometry, data)
    try:
        if geometry == "domain_wall":
            sm.wall = _build_wall(data)
            sm.limits = _build_limits(data, geometry, sm.limit_origins)  # never read before
            return sm
        sm.system, sm.hm_width_m, sm.hm_thickness_m = _build_system(data, geometry)
        sm.readout = _build_readout(data, geometry)
        if geometry == "hallbar":
            sm.v_ane_per_A2 = _num(_table(data, "readout"), "v_ane_per_A2_V", "readout", 0.0)
        sm.limits = _build_limits(data, geometry, sm.limit_origins)
    except (ValueError, TypeError) as exc:          # SampleError included
        raise SampleError(f"{source}: {exc}" if source else str(exc)) from None
    return sm


def current_cross_section_m2(data: dict, geometry: str) -> float:
    """Get the cross-section (m²) the sample's current flows through: a pillar's ellipse
    π·width·length/4 (current along z); a Hall bar's heavy metal, width × its thickness
    (current along x, all of it in the heavy metal), or the magnet's width × thickness
    without one."""
    m = _table(data, "magnet")
    w = _num(m, "width_m", "magnet", positive=True)
    if geometry != "hallbar":
        return math.pi * w * _num(m, "length_m", "magnet", positive=True) / 4.0
    hm = data.get("heavy_metal")
    if isinstance(hm, dict) and "thickness_m" in hm:
        return w * _num(hm, "thickness_m", "heavy_metal", positive=True)
    return w * _num(m, "thickness_m", "magnet", positive=True)


def _build_limits(data: dict, geometry: str, origins: dict | None = None) -> dict[str, float]:
    """Get the sample's limits from its [limits] table (empty without one); ``origins``
    (if given) gets, for each, the key that set it in words."""
    lim = data.get("limits") or {}
    why = origins if origins is not None else {}
    out = {k: _num(lim, k, "limits", positive=True) for k in ("max_current_A", "max_voltage_V")
           if k in lim}
    why.update({k: f"[limits] {k} = {v:g} {k[-1]}" for k, v in out.items()})
    if "max_current_density_A_per_m2" in lim:
        if geometry == "domain_wall":
            raise SampleError("limits.max_current_density_A_per_m2: a domain-wall sample has "
                              "no cross-section here; give max_current_A")
        j = _num(lim, "max_current_density_A_per_m2", "limits", positive=True)
        area = current_cross_section_m2(data, geometry)
        if j * area < out.get("max_current_A", math.inf):
            out["max_current_A"] = j * area
            why["max_current_A"] = (f"[limits] max_current_density_A_per_m2 = {j:g} A/m² "
                                    f"through its {area:.4g} m² cross-section")
    return out


def _build_system(data: dict, geometry: str):
    m = _table(data, "magnet")
    ms = _num(m, "mu0_ms_T", "magnet", positive=True) / MU0
    t = _num(m, "thickness_m", "magnet", positive=True)
    w = _num(m, "width_m", "magnet", positive=True)
    length = _num(m, "length_m", "magnet", positive=True)
    area = w * length if geometry == "hallbar" else math.pi * w * length / 4.0
    anis = []
    kp = _num(m, "k_perp_J_per_m3", "magnet", 0.0)
    if kp:
        anis.append(Uniaxial(kp, (0.0, 0.0, 1.0)))
    ki = _num(m, "k_inplane_J_per_m3", "magnet", 0.0)
    if ki:
        anis.append(Uniaxial(ki, _vec(m, "easy_axis", "magnet", (1.0, 0.0, 0.0))))
    demag = _vec(m, "demag", "magnet", (0.0, 0.0, 1.0))
    g = m.get("g")
    magnet = Magnet(ms_A_per_m=ms, alpha=_num(m, "alpha", "magnet", positive=True),
                    thickness_m=t, area_m2=area, anisotropies=tuple(anis),
                    ks_J_per_m2=_num(m, "ks_J_per_m2", "magnet", 0.0), demag=demag,
                    g=None if g is None else _num(m, "g", "magnet", positive=True),
                    temperature_K=_num(m, "temperature_K", "magnet", 300.0))
    torques, oersted = [], (0.0, 0.0, 0.0)
    hm = data.get("heavy_metal")
    d = 0.0
    if hm:
        d = _num(hm, "thickness_m", "heavy_metal", positive=True)
        torques.append(SpinTorque.sot(magnet, _num(hm, "xi_dl", "heavy_metal", 0.0), d, w,
                                      xi_fl=_num(hm, "xi_fl", "heavy_metal", 0.0),
                                      sigma=_vec(hm, "sigma", "heavy_metal", SIGMA_SPIN_HALL)))
        if not isinstance(hm.get("oersted", True), bool):
            raise SampleError(f"heavy_metal.oersted: must be true or false, got "
                              f"{hm['oersted']!r}")
        if hm.get("oersted", True):
            oersted = sheet_oersted_per_A(w, below=True)
    stt = data.get("stt")
    if stt:
        torques.append(SpinTorque.stt(magnet, _num(stt, "eta", "stt", positive=True),
                                      _vec(stt, "polarizer", "stt", (0.0, 0.0, 1.0)), area,
                                      h_fl_ratio=_num(stt, "h_fl_ratio", "stt", 0.0)))
    return Macrospin(magnet, tuple(torques), oersted), w, d


def _build_readout(data: dict, geometry: str):
    r = _table(data, "readout")
    if geometry == "hallbar":
        return HallBar(r0=_num(r, "r0_ohm", "readout", positive=True),
                       dr_amr=_num(r, "dr_amr_ohm", "readout", 0.0),
                       dr_smr=_num(r, "dr_smr_ohm", "readout", 0.0),
                       r_xy0=_num(r, "r_xy0_ohm", "readout", 0.0),
                       dr_ahe=_num(r, "dr_ahe_ohm", "readout", 0.0),
                       dr_phe=_num(r, "dr_phe_ohm", "readout", 0.0))
    return TunnelJunction(r_p=_num(r, "r_p_ohm", "readout", positive=True),
                          r_ap=_num(r, "r_ap_ohm", "readout", positive=True),
                          p=_vec(r, "reference", "readout", (0.0, 0.0, 1.0)))


def _build_wall(data: dict) -> DomainWall:
    def make(cls, table_name):        # keys checked by check_keys; values finite numbers
        t = _table(data, table_name)
        values = {}
        for f in fields(cls):
            if f.name in t:
                values[f.name] = _num(t, f.name, table_name)
                if f.type in (int, "int"):
                    if values[f.name] != int(values[f.name]):
                        raise SampleError(f"{table_name}.{f.name}: must be an integer, got "
                                          f"{t[f.name]!r}")
                    values[f.name] = int(values[f.name])
        return cls(**values)
    params = make(DomainWallParams, "domain_wall")
    ro = _table(data, "dw_readout")
    readout = make(TMRReadout, "dw_readout") if ro else TMRReadout(width=params.width)
    return DomainWall(params, readout)


# derived keys of describe() that map onto one parameter: key → (dotted key, value function)
def _solve_ks(sm: SampleModel, v: float) -> float:
    mg = sm.system.magnet
    hk_other = mg.hk_perp - mg.ks_J_per_m2 / mg.thickness_m * 2 / (MU0 * mg.ms_A_per_m)
    hk_needed = mg.ms_A_per_m * (mg.demag[2] - mg.demag[0]) - v / MU0
    return (hk_needed - hk_other) * MU0 * mg.ms_A_per_m * mg.thickness_m / 2


def _xi_per_A(sm: SampleModel) -> float:
    mg = sm.system.magnet
    return HBAR / (2 * E_CHARGE * MU0 * mg.ms_A_per_m * mg.thickness_m * sm.hm_width_m
                   * sm.hm_thickness_m)


def _needs_hm(sm: SampleModel):
    if not sm.data.get("heavy_metal"):
        raise SampleError(f"sample {sm.name} has no [heavy_metal]: set the torque there")


def _solve_xi_dl(sm, v):
    _needs_hm(sm)
    return v / MU0 / _xi_per_A(sm)


def _solve_xi_fl(sm, v):
    _needs_hm(sm)
    return (v / MU0 - sm.describe()["mu0_hoe_per_A_T"] / MU0) / _xi_per_A(sm)


def _hm_value(sm, v):
    _needs_hm(sm)
    return v


def _g_from_gamma(sm, v):
    return 2 * math.pi * v * MU0 * HBAR / (MU0 * MU_B)


DERIVED = {
    "alpha": ("magnet.alpha", lambda sm, v: v),
    "mu0_ms_T": ("magnet.mu0_ms_T", lambda sm, v: v),
    "temperature_K": ("magnet.temperature_K", lambda sm, v: v),
    "gamma_Hz_per_T": ("magnet.g", _g_from_gamma),
    "mu0_meff_T": ("magnet.ks_J_per_m2", _solve_ks),
    "mu0_hk_T": ("magnet.k_inplane_J_per_m3",
                 lambda sm, v: v * sm.system.magnet.ms_A_per_m / 2),
    "xi_dl": ("heavy_metal.xi_dl", _hm_value),
    "xi_fl": ("heavy_metal.xi_fl", _hm_value),
    "mu0_hdl_per_A_T": ("heavy_metal.xi_dl", _solve_xi_dl),
    "mu0_hfl_per_A_T": ("heavy_metal.xi_fl", _solve_xi_fl),
    **{k: (f"readout.{k}", lambda sm, v: v) for k in
       ("r0_ohm", "dr_amr_ohm", "dr_smr_ohm", "r_xy0_ohm", "dr_ahe_ohm", "dr_phe_ohm",
        "r_p_ohm", "r_ap_ohm", "v_ane_per_A2_V")},
}
"""Keys of :meth:`SampleModel.describe` (hallbar, pillar) → (dotted key, value function)."""
DERIVED_WALL = {
    "alpha": ("domain_wall.alpha", lambda sm, v: v),
    "mu0_ms_T": ("domain_wall.Ms", lambda sm, v: v / MU0),
    "temperature_K": ("domain_wall.temperature", lambda sm, v: v),
    "gamma_Hz_per_T": ("domain_wall.gamma0", lambda sm, v: 2 * math.pi * MU0 * v),
}
"""The same for a domain-wall sample."""
DERIVED_LOWER = {"alpha": (0.0, False), "mu0_ms_T": (0.0, False), "gamma_Hz_per_T": (0.0, False),
                 "temperature_K": (0.0, True), "r0_ohm": (0.0, False), "r_p_ohm": (0.0, False),
                 "r_ap_ohm": (0.0, False)}
"""Lower bound (value, inclusive) of a derived key; the others take any finite number."""


def _allowed_value(key: str) -> str:
    """Get the allowed values of a derived key in words."""
    if key not in DERIVED_LOWER:
        return "a finite number (SI)"
    low, inclusive = DERIVED_LOWER[key]
    return f"a finite number {'≥' if inclusive else '>'} {low:g} (SI)"


def _parse_value(text: str):
    try:
        return tomllib.loads(f"v = {text}")["v"]
    except tomllib.TOMLDecodeError:
        return text


def _finite(value) -> bool:
    """Whether a parsed value holds no NaN or infinity (in lists too)."""
    if isinstance(value, float):
        return math.isfinite(value)
    if isinstance(value, list):
        return all(_finite(v) for v in value)
    return True


def _derived(sm: SampleModel, key: str, value, text: str) -> tuple[str, float]:
    """Get (dotted key, value) of a derived --set key, checked and named as the user gave it."""
    table = DERIVED_WALL if sm.geometry == "domain_wall" else DERIVED
    if key not in table:
        raise SampleError(f"--set {key}: not a key of {sm.name} (a {sm.geometry} sample); "
                          f"its keys: {', '.join(sorted(table))}, or a dotted TOML key "
                          f"({', '.join(f'{t}.KEY' for t in allowed_keys(sm.geometry))})")
    dotted, fn = table[key]
    leaf_table, _, leaf = dotted.partition(".")
    if leaf_table == "readout" and leaf not in READOUT_KEYS[sm.geometry]:
        raise SampleError(f"--set {key}: not a key of {sm.name} (a {sm.geometry} sample); its "
                          f"readout keys: {', '.join(READOUT_KEYS[sm.geometry])}")
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise SampleError(f"--set {key}: must be a number, got {text!r}; allowed: "
                          f"{_allowed_value(key)}")
    if not _finite(value):
        raise SampleError(f"--set {key}: must be {_allowed_value(key)}, got {text!r}")
    low, inclusive = DERIVED_LOWER.get(key, (-math.inf, False))
    if value < low or (value == low and not inclusive):
        raise SampleError(f"--set {key}: must be {_allowed_value(key)}, got {text!r}")
    try:
        mapped = float(fn(sm, float(value)))
    except SampleError as exc:
        raise SampleError(f"--set {key}: {exc}") from None
    if not math.isfinite(mapped):
        raise SampleError(f"--set {key}={text}: gives {dotted} = {mapped}; {key} must give a "
                          f"finite {dotted}")
    return dotted, mapped


def apply_overrides(data: dict, overrides: list[str]) -> dict:
    """Get a copy of a sample table with KEY=VALUE overrides applied (see module doc).

    Each key is checked as it is applied (an unknown or misspelt key, a non-finite value is
    a SampleError naming the key as given); the sample is validated once all are applied, so
    overrides that are only consistent together (a smaller site pitch with smaller notches)
    are accepted. If it is invalid, the error names the override that breaks it alone, or
    all of them when only their combination does.
    """
    out = copy.deepcopy(data)
    sm_valid = build_sample(out)
    applied: list[tuple[str, str, str, object]] = []
    for item in overrides:
        key, sep, text = item.partition("=")
        key, text = key.strip(), text.strip()
        if not sep or not key:
            raise SampleError(f"--set {item!r}: expected KEY=VALUE, e.g. alpha=0.01")
        value = _parse_value(text)
        try:
            sm = sm_valid = build_sample(out)
        except SampleError:
            sm = sm_valid          # an override that needs a later one: map with the last valid
        if "." in key:
            dotted = key
            if not _finite(value):
                raise SampleError(f"--set {key}: must be a finite number, got {text!r}")
            tables = allowed_keys(sm.geometry)
            head, _, leaf = key.partition(".")
            if head not in tables:
                raise SampleError(f"--set {key}: {_unknown(f'table [{head}]', head, tables)}")
            if leaf not in tables[head]:
                raise SampleError(f"--set {key}: "
                                  f"{_unknown(f'key in [{head}]', leaf, tables[head])}")
        elif key in DERIVED or key in DERIVED_WALL:
            dotted, value = _derived(sm, key, value, text)
        else:
            keys = DERIVED_WALL if sm.geometry == "domain_wall" else DERIVED
            close = difflib.get_close_matches(key, list(keys), n=1)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            raise SampleError(f"--set {key}: not a sample key{hint}; use a dotted TOML key "
                              f"(e.g. {next(iter(allowed_keys(sm.geometry)))}.KEY) or one of "
                              f"{', '.join(sorted(keys))}")
        table = out
        parts = dotted.split(".")
        for p in parts[:-1]:
            table = table.setdefault(p, {})
        table[parts[-1]] = value
        applied.append((key, text, dotted, value))
    try:
        build_sample(out)
    except SampleError as exc:
        raise _name_the_culprit(data, applied, exc) from None
    return out


def _name_the_culprit(data: dict, applied: list[tuple[str, str, str, object]],
                      exc: SampleError) -> SampleError:
    """Get the error of overrides that make an invalid sample, naming the one that does it
    alone (as the user gave it, with its allowed values), else all of them."""
    for key, text, dotted, value in applied:
        alone = copy.deepcopy(data)
        table = alone
        for p in dotted.split(".")[:-1]:
            table = table.setdefault(p, {})
        table[dotted.split(".")[-1]] = value
        try:
            build_sample(alone)
        except SampleError as own:
            allowed = "" if key == dotted else f" ({key} must be {_allowed_value(key)})"
            return SampleError(f"--set {key}={text}: {own}{allowed}")
    given = ", ".join(f"{k}={t}" for k, t, _, _ in applied)
    return SampleError(f"--set {given}: together they give an invalid sample: {exc}")


def load_sample(name_or_path: str | Path, overrides: list[str] | None = None) -> SampleModel:
    """Load a built-in sample or TOML file, apply --set overrides, and build it; a SampleError
    on the file's own content names the file."""
    data = load_sample_data(name_or_path)
    p = Path(str(name_or_path))
    source = f"sample file {p}" if p.suffix == ".toml" or p.exists() \
        else f"built-in sample {name_or_path}"
    sm = build_sample(data, name=p.stem, source=source)
    if overrides:
        sm = build_sample(apply_overrides(data, overrides), name=p.stem)
    return sm
