"""Numba kernels: RK4 (T = 0) and stochastic Heun (Stratonovich, T > 0) over an ensemble.

The equation of motion is physics.md's Landau–Lifshitz form with every torque folded into
two vectors per unit current (see :mod:`labspin.physics.macrospin.system`)::

    dm/dt = −γ' [ m×A + m×(m×B) ],   γ' = γ0/(1+α²)
    A = H + H_th + I·P,   B = α(H + H_th) + I·Q
    H = H_ext,i + h_w(t) + I·h_Oe − D·m,   I = I_dc,i + i_w(t)

with D the symmetric anisotropy + demagnetizing tensor (A/m), P = Σ(H_FL − αH_DL)σ and
Q = Σ(H_DL + αH_FL)σ per ampere. The thermal field H_th is one Gaussian sample per step,
used in both predictor and corrector, then |m| is renormalised.

Layout: structure of arrays, spins in the inner loop (vectorized), chunks of spins across
threads. Random numbers depend only on (seed, spin, step), never on the chunking.
"""
import math

import numpy as np
from numba import njit, prange

from labspin.physics.macrospin.rng import normal3

CHUNK = 512
"""Most spins per parallel work item (the inner, vectorized loop); callers cut calls of
fewer spins than threads × CHUNK finer (:func:`~labspin.physics.work_items.item_length`)."""

# columns of the waveform table (one row per time-dependent drive)
W_KIND, W_HX, W_HY, W_HZ, W_I, W_FREQ, W_PHASE, W_T0, W_T1, W_RISE = range(10)
N_WCOLS = 10
KIND_SINE, KIND_TRAPEZOID = 0, 1


@njit(inline="always", error_model="numpy")
def _waves(t, waves):
    """Get the summed time-dependent field (A/m, 3) and current (A) at time t (s)."""
    hx = 0.0
    hy = 0.0
    hz = 0.0
    cur = 0.0
    for w in range(waves.shape[0]):
        t0 = waves[w, W_T0]
        t1 = waves[w, W_T1]
        if t < t0 or t >= t1:
            continue
        if waves[w, W_KIND] == KIND_SINE:
            a = math.sin(2.0 * math.pi * waves[w, W_FREQ] * t + waves[w, W_PHASE])
        else:
            rise = waves[w, W_RISE]
            a = 1.0
            if rise > 0.0:
                a = min(1.0, (t - t0) / rise, (t1 - t) / rise)
        hx += a * waves[w, W_HX]
        hy += a * waves[w, W_HY]
        hz += a * waves[w, W_HZ]
        cur += a * waves[w, W_I]
    return hx, hy, hz, cur


@njit(inline="always", error_model="numpy")
def _rhs(mx, my, mz, hx, hy, hz, cur, sys):
    """Get dm/dt (1/s) for field (hx, hy, hz) without the −D·m term, current ``cur``."""
    (gp, alpha, dxx, dyy, dzz, dxy, dxz, dyz,
     px, py, pz, qx, qy, qz, ox, oy, oz) = sys
    Hx = hx + cur * ox - (dxx * mx + dxy * my + dxz * mz)
    Hy = hy + cur * oy - (dxy * mx + dyy * my + dyz * mz)
    Hz = hz + cur * oz - (dxz * mx + dyz * my + dzz * mz)
    ax = Hx + cur * px
    ay = Hy + cur * py
    az = Hz + cur * pz
    bx = alpha * Hx + cur * qx
    by = alpha * Hy + cur * qy
    bz = alpha * Hz + cur * qz
    # m×A
    cax = my * az - mz * ay
    cay = mz * ax - mx * az
    caz = mx * ay - my * ax
    # m×(m×B) = m (m·B) − B |m|²
    mb = mx * bx + my * by + mz * bz
    mm = mx * mx + my * my + mz * mz
    return (-gp * (cax + mx * mb - bx * mm),
            -gp * (cay + my * mb - by * mm),
            -gp * (caz + mz * mb - bz * mm))


@njit(inline="always", error_model="numpy")
def _rhs_plain(mx, my, mz, hx, hy, hz, cur, sys):
    """Get dm/dt like :func:`_rhs` for a diagonal D and no current-driven terms (P = Q = h_Oe = 0).

    The common case of field sweeps, resonance and thermal runs: about half the arithmetic.
    ``cur`` is accepted and ignored, so both right-hand sides share one signature.
    """
    gp, alpha, dxx, dyy, dzz = sys[0], sys[1], sys[2], sys[3], sys[4]
    Hx = hx - dxx * mx
    Hy = hy - dyy * my
    Hz = hz - dzz * mz
    cax = my * Hz - mz * Hy
    cay = mz * Hx - mx * Hz
    caz = mx * Hy - my * Hx
    mb = alpha * (mx * Hx + my * Hy + mz * Hz)
    amm = alpha * (mx * mx + my * my + mz * mz)
    return (-gp * (cax + mx * mb - Hx * amm),
            -gp * (cay + my * mb - Hy * amm),
            -gp * (caz + mz * mb - Hz * amm))


def is_plain(sys) -> bool:
    """Whether the folded constants allow :func:`_rhs_plain`: D diagonal, P = Q = h_Oe = 0."""
    return all(v == 0.0 for v in sys[5:17])


@njit(inline="always", error_model="numpy")
def _normalize(x, y, z):
    inv = 1.0 / math.sqrt(x * x + y * y + z * z)
    return x * inv, y * inv, z * inv


@njit(inline="always", error_model="numpy")
def _local(sys):
    """Get a copy of the folded constants held in registers.

    Reading them from the argument tuple inside the loop is a memory load that LLVM cannot
    prove independent of the stores to m, which blocks vectorization.
    """
    (a0, a1, a2, a3, a4, a5, a6, a7, a8, a9, a10, a11, a12, a13, a14, a15, a16) = sys
    return (a0, a1, a2, a3, a4, a5, a6, a7, a8, a9, a10, a11, a12, a13, a14, a15, a16)


@njit(fastmath=True, error_model="numpy")
def _noise_chunk(nx, ny, nz, key, i0, gstep, sigma_th):
    """Fill the thermal-field buffers (A/m) of one chunk for global step ``gstep``.

    A loop of its own: fused with the torque arithmetic, LLVM declines to vectorize.
    """
    for i in range(nx.size):
        a, b, c = normal3(key, i0 + i, gstep)
        nx[i] = sigma_th * a
        ny[i] = sigma_th * b
        nz[i] = sigma_th * c


def _make_heun_chunk(rhs):
    """Make the stochastic Heun chunk step for right-hand side ``rhs``."""

    @njit(fastmath=True, error_model="numpy")
    def heun_chunk(mx, my, mz, hx, hy, hz, idc, nx, ny, nz, w0, w1, sys, dt):
        """One stochastic Heun step for one chunk; (nx, ny, nz) its thermal field (A/m)."""
        wx0, wy0, wz0, wi0 = w0
        wx1, wy1, wz1, wi1 = w1
        sys = _local(sys)
        for i in range(mx.size):
            x = mx[i]
            y = my[i]
            z = mz[i]
            tx = hx[i] + nx[i]
            ty = hy[i] + ny[i]
            tz = hz[i] + nz[i]
            k1x, k1y, k1z = rhs(x, y, z, tx + wx0, ty + wy0, tz + wz0, idc[i] + wi0, sys)
            k2x, k2y, k2z = rhs(x + dt * k1x, y + dt * k1y, z + dt * k1z,
                                tx + wx1, ty + wy1, tz + wz1, idc[i] + wi1, sys)
            x, y, z = _normalize(x + 0.5 * dt * (k1x + k2x),
                                 y + 0.5 * dt * (k1y + k2y),
                                 z + 0.5 * dt * (k1z + k2z))
            mx[i] = x
            my[i] = y
            mz[i] = z
    return heun_chunk


def _make_rk4_chunk(rhs):
    """Make the classical RK4 chunk step for right-hand side ``rhs``."""

    @njit(fastmath=True, error_model="numpy")
    def rk4_chunk(mx, my, mz, hx, hy, hz, idc, w0, wh, w1, sys, dt):
        """One classical RK4 step for the spins of one chunk (1D slices)."""
        wx0, wy0, wz0, wi0 = w0
        wxh, wyh, wzh, wih = wh
        wx1, wy1, wz1, wi1 = w1
        h2 = 0.5 * dt
        d6 = dt / 6.0
        sys = _local(sys)
        for i in range(mx.size):
            x = mx[i]
            y = my[i]
            z = mz[i]
            k1x, k1y, k1z = rhs(x, y, z, hx[i] + wx0, hy[i] + wy0, hz[i] + wz0,
                                idc[i] + wi0, sys)
            k2x, k2y, k2z = rhs(x + h2 * k1x, y + h2 * k1y, z + h2 * k1z,
                                hx[i] + wxh, hy[i] + wyh, hz[i] + wzh, idc[i] + wih, sys)
            k3x, k3y, k3z = rhs(x + h2 * k2x, y + h2 * k2y, z + h2 * k2z,
                                hx[i] + wxh, hy[i] + wyh, hz[i] + wzh, idc[i] + wih, sys)
            k4x, k4y, k4z = rhs(x + dt * k3x, y + dt * k3y, z + dt * k3z,
                                hx[i] + wx1, hy[i] + wy1, hz[i] + wz1, idc[i] + wi1, sys)
            x, y, z = _normalize(x + d6 * (k1x + 2.0 * k2x + 2.0 * k3x + k4x),
                                 y + d6 * (k1y + 2.0 * k2y + 2.0 * k3y + k4y),
                                 z + d6 * (k1z + 2.0 * k2z + 2.0 * k3z + k4z))
            mx[i] = x
            my[i] = y
            mz[i] = z
    return rk4_chunk


_heun_chunk = _make_heun_chunk(_rhs)
_heun_chunk_plain = _make_heun_chunk(_rhs_plain)
_rk4_chunk = _make_rk4_chunk(_rhs)
_rk4_chunk_plain = _make_rk4_chunk(_rhs_plain)


@njit(fastmath=True, error_model="numpy")
def _accumulate_chunk(acc, lo, mx, my, mz):
    """Add m and the six components of m⊗m of one chunk to the running sums ``acc``."""
    a0, a1, a2, a3, a4, a5, a6, a7, a8 = (acc[0, lo:lo + mx.size], acc[1, lo:lo + mx.size],
                                          acc[2, lo:lo + mx.size], acc[3, lo:lo + mx.size],
                                          acc[4, lo:lo + mx.size], acc[5, lo:lo + mx.size],
                                          acc[6, lo:lo + mx.size], acc[7, lo:lo + mx.size],
                                          acc[8, lo:lo + mx.size])
    for i in range(mx.size):
        x = mx[i]
        y = my[i]
        z = mz[i]
        a0[i] += x
        a1[i] += y
        a2[i] += z
        a3[i] += x * x
        a4[i] += y * y
        a5[i] += z * z
        a6[i] += x * y
        a7[i] += x * z
        a8[i] += y * z


@njit(parallel=True, fastmath=True, cache=True, error_model="numpy")
def integrate(m, hext, idc, sys, waves, t0, dt, n_steps, step0, key, sigma_th, stochastic,
              plain, rec_every, rec, acc_from, acc, item=CHUNK):
    """Advance the ensemble ``m`` (3, N) in place by ``n_steps`` steps of ``dt`` (s).

    hext (3, N) static field (A/m); idc (N,) dc current (A); sys: the 17 folded constants;
    waves (n, 10) waveform table; t0 (s) time at the start; step0 the global index of the
    first step (random-number counter); sigma_th the thermal field std (A/m); stochastic:
    stochastic Heun with that noise, else classical RK4; plain: use the reduced right-hand
    side (only when :func:`is_plain` holds for ``sys``).
    rec (n_rec, 3, N) receives m after every ``rec_every``-th step (rec_every ≤ 0: off);
    acc (9, N) accumulates m and m⊗m after every step with index ≥ ``acc_from``.
    item: spins per parallel work item (the numbers do not depend on it).
    Returns the number of accumulated steps.
    """
    n = m.shape[1]
    n_chunks = (n + item - 1) // item
    n_acc = max(0, n_steps - max(acc_from, 0))
    for c in prange(n_chunks):
        lo = c * item
        hi = min(n, lo + item)
        # 1D slices: LLVM cannot prove that rows of a 2D array do not overlap and would not
        # vectorize a loop over m[0, i], m[1, i], ...
        mx, my, mz = m[0, lo:hi], m[1, lo:hi], m[2, lo:hi]
        hx, hy, hz = hext[0, lo:hi], hext[1, lo:hi], hext[2, lo:hi]
        ic = idc[lo:hi]
        nx = np.empty(hi - lo)
        ny = np.empty(hi - lo)
        nz = np.empty(hi - lo)
        for s in range(n_steps):
            t = t0 + s * dt
            w0 = _waves(t, waves)
            w1 = _waves(t + dt, waves)
            if stochastic:
                _noise_chunk(nx, ny, nz, key, lo, step0 + s, sigma_th)
                if plain:
                    _heun_chunk_plain(mx, my, mz, hx, hy, hz, ic, nx, ny, nz, w0, w1, sys, dt)
                else:
                    _heun_chunk(mx, my, mz, hx, hy, hz, ic, nx, ny, nz, w0, w1, sys, dt)
            else:
                wh = _waves(t + 0.5 * dt, waves)
                if plain:
                    _rk4_chunk_plain(mx, my, mz, hx, hy, hz, ic, w0, wh, w1, sys, dt)
                else:
                    _rk4_chunk(mx, my, mz, hx, hy, hz, ic, w0, wh, w1, sys, dt)
            if s >= acc_from:
                _accumulate_chunk(acc, lo, mx, my, mz)
            if rec_every > 0 and (s + 1) % rec_every == 0:
                r = (s + 1) // rec_every - 1
                rec[r, 0, lo:hi] = mx
                rec[r, 1, lo:hi] = my
                rec[r, 2, lo:hi] = mz
    return n_acc


@njit(fastmath=False, cache=True, error_model="numpy")
def rhs_array(m, hext, cur, sys):
    """Get dm/dt (3, N) (1/s) for states m (3, N), static fields (3, N) and currents (N,).

    The same right-hand side the integrators use, for the equilibrium and linear-response
    solvers. No renormalisation, no time-dependent drives.
    """
    out = np.empty_like(m)
    for i in range(m.shape[1]):
        a, b, c = _rhs(m[0, i], m[1, i], m[2, i], hext[0, i], hext[1, i], hext[2, i], cur[i], sys)
        out[0, i] = a
        out[1, i] = b
        out[2, i] = c
    return out
