"""Tests for labspin.physics.readout: Hall-bar and tunnel-junction magnetoresistance."""
import json
from pathlib import Path

import numpy as np
import pytest

from labspin.physics.readout import (
    HallBar,
    TunnelJunction,
    hall_resistances_scalar,
    mtj_resistance_scalar,
)

REALDATA = Path(__file__).resolve().parents[1].parent / "shared" / "realdata"

HB = HallBar(r0=304.3, dr_amr=-0.053, dr_smr=-0.464, r_xy0=0.12, dr_ahe=-2.855, dr_phe=-0.31)
MTJ = TunnelJunction(r_p=1000.0, r_ap=2500.0, p=(0.0, 0.0, 1.0))


def sph(theta, phi):
    """Unit vector(s) from polar θ and azimuth φ (rad), shape (3, ...)."""
    theta, phi = np.broadcast_arrays(np.asarray(theta, float), np.asarray(phi, float))
    return np.stack([np.sin(theta) * np.cos(phi), np.sin(theta) * np.sin(phi), np.cos(theta)])


def random_m(shape, seed=0):
    v = np.random.default_rng(seed).normal(size=(3,) + tuple(shape))
    return v / np.linalg.norm(v, axis=0)


def fd_grad(f, m, h=1e-5):
    """Central finite-difference Cartesian gradient of f at m (shape (3, ...))."""
    g = np.empty_like(m)
    for i in range(3):
        e = np.zeros_like(m)
        e[i] = h
        g[i] = (f(m + e) - f(m - e)) / (2 * h)
    return g


# --- Hall bar ---------------------------------------------------------------------------

@pytest.mark.parametrize("m, rxx, rxy", [
    ((1, 0, 0), HB.r0 + HB.dr_amr, HB.r_xy0),
    ((-1, 0, 0), HB.r0 + HB.dr_amr, HB.r_xy0),
    ((0, 1, 0), HB.r0 + HB.dr_smr, HB.r_xy0),
    ((0, 0, 1), HB.r0, HB.r_xy0 + HB.dr_ahe),
    ((0, 0, -1), HB.r0, HB.r_xy0 - HB.dr_ahe),
])
def test_hallbar_axes(m, rxx, rxy):
    assert HB.rxx(m) == pytest.approx(rxx, rel=1e-15, abs=1e-13)
    assert HB.rxy(m) == pytest.approx(rxy, rel=1e-15, abs=1e-13)


def test_hallbar_45deg_in_plane():
    s = np.sqrt(0.5)
    assert HB.rxx((s, s, 0)) == pytest.approx(HB.r0 + 0.5 * (HB.dr_amr + HB.dr_smr), abs=1e-12)
    assert HB.rxy((s, s, 0)) == pytest.approx(HB.r_xy0 + HB.dr_phe, abs=1e-14)
    assert HB.rxy((s, -s, 0)) == pytest.approx(HB.r_xy0 - HB.dr_phe, abs=1e-14)
    assert HB.rxy((-s, -s, 0)) == pytest.approx(HB.r_xy0 + HB.dr_phe, abs=1e-14)


def test_planar_hall_sin2phi_and_hayashi_form():
    phi = np.linspace(-np.pi, np.pi, 181)
    # in plane (Avci): R_xy = R_A m_z + R_P sin 2φ_M with m_z = 0
    np.testing.assert_allclose(HB.rxy(sph(np.pi / 2, phi)) - HB.r_xy0,
                               HB.dr_phe * np.sin(2 * phi), atol=1e-14)
    # in-plane R_xx (AMR + SMR) = R0 + ΔR_AMR cos²φ + ΔR_SMR sin²φ
    np.testing.assert_allclose(HB.rxx(sph(np.pi / 2, phi)),
                               HB.r0 + HB.dr_amr * np.cos(phi) ** 2 + HB.dr_smr * np.sin(phi) ** 2,
                               rtol=1e-15, atol=1e-12)
    # tilted (Hayashi): R_xy = ΔR_A cos θ + ΔR_P sin²θ sin 2φ
    th, ph = np.meshgrid(np.linspace(0, np.pi, 37), phi, indexing="ij")
    np.testing.assert_allclose(
        HB.rxy(sph(th, ph)) - HB.r_xy0,
        HB.dr_ahe * np.cos(th) + HB.dr_phe * np.sin(th) ** 2 * np.sin(2 * ph), atol=1e-14)


def test_symmetries_under_reversal():
    m = random_m((200,), seed=1)
    flip_z = m * np.array([1, 1, -1])[:, None]
    # AHE odd in m_z, PHE and R_xx unchanged
    np.testing.assert_allclose(HB.rxy(m) - HB.rxy(flip_z), 2 * HB.dr_ahe * m[2], atol=1e-13)
    np.testing.assert_allclose(HB.rxx(m), HB.rxx(flip_z), rtol=1e-15)
    # full reversal: R_xx even; R_xy − offset splits into odd (AHE) + even (PHE) parts
    odd = 0.5 * (HB.rxy(m) - HB.rxy(-m))
    even = 0.5 * (HB.rxy(m) + HB.rxy(-m)) - HB.r_xy0
    np.testing.assert_allclose(odd, HB.dr_ahe * m[2], atol=1e-13)
    np.testing.assert_allclose(even, 2 * HB.dr_phe * m[0] * m[1], atol=1e-13)
    np.testing.assert_allclose(HB.rxx(m), HB.rxx(-m), rtol=1e-15)


def test_hallbar_gradients_finite_difference():
    m = random_m((50,), seed=2)
    for f, g in ((HB.rxx, HB.drxx_dm), (HB.rxy, HB.drxy_dm)):
        num = fd_grad(f, m)
        ana = g(m)
        assert ana.shape == m.shape
        np.testing.assert_allclose(ana, num, rtol=1e-6, atol=1e-6 * np.abs(ana).max())


def test_hallbar_broadcasting_and_voltages():
    for shape in ((7,), (4, 5)):
        m = random_m(shape, seed=3)
        flat = m.reshape(3, -1)
        for f in (HB.rxx, HB.rxy):
            out = f(m)
            assert out.shape == shape
            np.testing.assert_allclose(out.ravel(), [f(flat[:, k]) for k in range(flat.shape[1])],
                                       rtol=1e-15)
        for g in (HB.drxx_dm, HB.drxy_dm):
            assert g(m).shape == (3,) + shape
            np.testing.assert_allclose(g(m)[:, 0], g(m[:, 0]), rtol=1e-15)
    m = random_m((4, 5), seed=4)  # (3, T, N)
    cur = np.linspace(-1e-3, 1e-3, 4)[:, None]  # broadcasts over N
    vxx, vxy = HB.voltage(cur, m)
    np.testing.assert_allclose(vxx, cur * HB.rxx(m), rtol=1e-15)
    np.testing.assert_allclose(vxy, cur * HB.rxy(m), rtol=1e-15)
    assert np.shape(HB.rxx((0, 0, 1))) == ()


def test_hallbar_scalar_twin_matches():
    m = random_m((20,), seed=5)
    for k in range(20):
        rxx, rxy = hall_resistances_scalar(m[0, k], m[1, k], m[2, k], HB.r0, HB.dr_amr,
                                           HB.dr_smr, HB.r_xy0, HB.dr_ahe, HB.dr_phe)
        assert rxx == pytest.approx(HB.rxx(m[:, k]), rel=1e-15)
        assert rxy == pytest.approx(HB.rxy(m[:, k]), rel=1e-14, abs=1e-14)


def test_from_cmtj_reproduces_cmtj_formula():
    # cmtj compute_resistance: Rx = Rx0 + AMR mx² + SMR my²,
    # Ry = Ry0 + ½ AHE mz + (w/l)(SMR − AMR) mx my; README 5360 values, w = 30 µm, l = 20 µm
    rx0, ry0, amr, ahe, smr, length, w = 304.3, 0.4, -0.053, -5.71, -0.464, 20e-6, 30e-6
    hb = HallBar.from_cmtj(rx0, ry0, amr, ahe, smr, length, w)
    assert hb.dr_ahe == pytest.approx(-2.855)
    assert (hb.r0, hb.dr_amr, hb.dr_smr) == (rx0, amr, smr)
    m = random_m((100,), seed=6)
    np.testing.assert_allclose(hb.rxx(m), rx0 + amr * m[0] ** 2 + smr * m[1] ** 2, rtol=1e-15)
    np.testing.assert_allclose(hb.rxy(m), ry0 + 0.5 * ahe * m[2] + (w / length) * (smr - amr) * m[0] * m[1],
                               atol=1e-13)


def test_realdata_ahe_swing_matches_reference():
    """The measured 1ω Hall loop spans 2·|dr_ahe|·I0 with dr_ahe = ΔR_AHE/2 from the README."""
    path = REALDATA / "cmtj_TaCoFeB_5360" / "harmonic_hall" / "5360_1f_hx_hy.csv"
    if not path.exists():
        pytest.skip("shared/realdata not available")
    d = np.genfromtxt(path, delimiter=",", names=True)
    v = d["Hx_1f_voltage"][np.isfinite(d["Hx_1f_voltage"])]
    hb = HallBar.from_cmtj(304.3, 0.0, -0.053, -5.71, -0.464, 20e-6, 30e-6)
    i0 = 2.68e-3
    swing = hb.vxy(i0, (0, 0, 1)) - hb.vxy(i0, (0, 0, -1))
    assert abs(v.max() - v.min()) == pytest.approx(abs(swing), rel=0.02)


def test_hallbar_to_dict_roundtrip():
    d = HB.to_dict()
    assert {"r0_ohm", "dr_amr_ohm", "dr_smr_ohm", "dr_ahe_ohm", "dr_phe_ohm"} <= set(d)
    assert d["dr_smr_ohm"] == HB.dr_smr and d["dr_ahe_ohm"] == HB.dr_ahe
    assert HallBar.from_dict(json.loads(json.dumps(d))) == HB


def test_bad_shape_raises():
    with pytest.raises(ValueError):
        HB.rxx(np.zeros((2, 5)))
    with pytest.raises(ValueError):
        MTJ.resistance(1.0)


# --- tunnel junction --------------------------------------------------------------------

def test_mtj_parallel_antiparallel_and_90deg():
    g_p, g_ap = 1 / MTJ.r_p, 1 / MTJ.r_ap
    assert MTJ.resistance((0, 0, 1)) == pytest.approx(MTJ.r_p, rel=1e-15)
    assert MTJ.resistance((0, 0, -1)) == pytest.approx(MTJ.r_ap, rel=1e-15)
    r90 = MTJ.resistance((1, 0, 0))
    assert r90 == pytest.approx(2 / (g_p + g_ap), rel=1e-15)
    assert r90 < 0.5 * (MTJ.r_p + MTJ.r_ap)  # conductance law, not resistance-linear
    assert MTJ.tmr_ratio == pytest.approx(1.5)
    # general angle: G(θ) = (G_P + G_AP)/2 + (G_P − G_AP)/2 cos θ
    th = np.linspace(0, np.pi, 91)
    np.testing.assert_allclose(
        1 / MTJ.resistance(sph(th, 0.3)), 0.5 * (g_p + g_ap) + 0.5 * (g_p - g_ap) * np.cos(th),
        rtol=1e-14)


def test_mtj_monotonic_and_reference_direction():
    th = np.linspace(0, np.pi, 361)
    r = MTJ.resistance(sph(th, 1.1))
    assert np.all(np.diff(r) > 0)
    # in-plane reference, not normalised on input
    mtj = TunnelJunction(r_p=500.0, r_ap=800.0, p=(2.0, 0.0, 0.0))
    assert mtj.p == (1.0, 0.0, 0.0)
    assert mtj.resistance((1, 0, 0)) == pytest.approx(500.0)
    assert mtj.resistance((-1, 0, 0)) == pytest.approx(800.0)
    assert mtj.resistance((0, 0, 1)) == pytest.approx(2 / (1 / 500 + 1 / 800))
    with pytest.raises(ValueError):
        TunnelJunction(r_p=500.0, r_ap=800.0, p=(0, 0, 0))
    with pytest.raises(ValueError):
        TunnelJunction(r_p=-1.0, r_ap=800.0)


def test_mtj_gradient_finite_difference():
    m = random_m((50,), seed=7)
    mtj = TunnelJunction(r_p=1000.0, r_ap=2500.0, p=(1.0, 2.0, -0.5))
    ana = mtj.dresistance_dm(m)
    num = fd_grad(mtj.resistance, m)
    assert ana.shape == m.shape
    np.testing.assert_allclose(ana, num, rtol=1e-6, atol=1e-6 * np.abs(ana).max())
    # with bias dependence, at fixed bias
    mtjb = TunnelJunction(r_p=1000.0, r_ap=2500.0, p=(0, 1, 0), v_half=0.4)
    ana = mtjb.dresistance_dm(m, bias_V=0.3)
    num = fd_grad(lambda x: mtjb.resistance(x, bias_V=0.3), m)
    np.testing.assert_allclose(ana, num, rtol=1e-6, atol=1e-6 * np.abs(ana).max())


def test_mtj_broadcasting():
    for shape in ((9,), (3, 8)):
        m = random_m(shape, seed=8)
        r = MTJ.resistance(m)
        assert r.shape == shape
        flat = m.reshape(3, -1)
        np.testing.assert_allclose(r.ravel(), [MTJ.resistance(flat[:, k]) for k in range(flat.shape[1])],
                                   rtol=1e-15)
        assert MTJ.dresistance_dm(m).shape == (3,) + shape
        cur = np.full(shape, 2e-4)
        np.testing.assert_allclose(MTJ.voltage(cur, m), cur * r, rtol=1e-15)
    for k in range(9):
        c = float(MTJ.cos_theta(m.reshape(3, -1)[:, k]))
        assert mtj_resistance_scalar(c, MTJ.r_p, MTJ.r_ap) == pytest.approx(
            MTJ.resistance(m.reshape(3, -1)[:, k]), rel=1e-14)


def test_bias_dependence_halves_tmr_at_v_half():
    mtj = TunnelJunction(r_p=1000.0, r_ap=2500.0, v_half=0.5)
    assert mtj.tmr(0.0) == pytest.approx(1.5)
    assert mtj.tmr(0.5) == pytest.approx(0.75)
    assert mtj.tmr(-0.5) == pytest.approx(0.75)
    ap, p = (0, 0, -1), (0, 0, 1)
    assert mtj.resistance(ap, bias_V=0.5) == pytest.approx(1000.0 * 1.75)
    assert mtj.resistance(p, bias_V=0.5) == pytest.approx(1000.0)  # R_P bias independent
    v = np.array([0.0, 0.1, 0.5, 1.0, 3.0])
    tmr_meas = mtj.resistance(ap, bias_V=v) / mtj.resistance(p, bias_V=v) - 1
    np.testing.assert_allclose(tmr_meas, 1.5 / (1 + (v / 0.5) ** 2), rtol=1e-14)
    assert np.all(np.diff(tmr_meas) < 0)
    # no bias dependence by default
    assert MTJ.tmr(10.0) == pytest.approx(MTJ.tmr_ratio)
    assert MTJ.resistance(ap, bias_V=10.0) == pytest.approx(MTJ.r_ap)


@pytest.mark.parametrize("r_ap", [2500.0, 700.0])  # normal and inverse TMR
def test_bias_voltage_is_self_consistent(r_ap):
    mtj = TunnelJunction(r_p=1000.0, r_ap=r_ap, p=(1, 0, 0), v_half=0.4)
    m = random_m((6, 7), seed=9)
    cur = np.linspace(-1e-3, 1e-3, 7)  # broadcasts over the last axis
    v = mtj.voltage(cur, m)
    assert v.shape == (6, 7)
    np.testing.assert_allclose(v, cur * mtj.resistance(m, bias_V=v), rtol=1e-12, atol=1e-18)
    np.testing.assert_allclose(mtj.current(v, m), np.broadcast_to(cur, v.shape), rtol=1e-12,
                               atol=1e-18)
    # odd in current; small current → zero-bias resistance
    np.testing.assert_allclose(mtj.voltage(-cur, m), -v, rtol=1e-13, atol=1e-18)
    np.testing.assert_allclose(mtj.voltage(1e-9, m), 1e-9 * mtj.resistance(m), rtol=1e-9)
    # antiparallel state at 1 mA: V = I·r_p·(1 + TMR(V)), between I·r_p and I·r_ap
    vap = float(mtj.voltage(1e-3, (-1, 0, 0)))
    tmr0 = mtj.tmr_ratio
    assert vap == pytest.approx(1e-3 * 1000 * (1 + tmr0 / (1 + (vap / 0.4) ** 2)), rel=1e-13)
    assert min(1.0, r_ap * 1e-3) < vap < max(1.0, r_ap * 1e-3)


def test_mtj_to_dict_roundtrip():
    mtj = TunnelJunction(r_p=1000.0, r_ap=2500.0, p=(0, 1, 0), v_half=0.4)
    d = mtj.to_dict()
    assert d["r_p_ohm"] == 1000.0 and d["r_ap_ohm"] == 2500.0
    assert d["tmr_ratio"] == pytest.approx(1.5)
    assert TunnelJunction.from_dict(json.loads(json.dumps(d))) == mtj
    assert "v_half_V" not in MTJ.to_dict()
    assert TunnelJunction.from_dict(MTJ.to_dict()) == MTJ
