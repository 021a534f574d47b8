"""A numba-cuda kernel for the macrospin ensemble: stochastic Heun (T > 0) and RK4 (T = 0).

One thread per member, m held in registers over all ``n_steps``; only the running sums of m
and m⊗m and the recorded samples (m every k-th step, written to a device array) leave the
device, once, at the end. The right-hand side, the
waveform table and the counter-based normals are :mod:`.kernel`'s and :mod:`.rng`'s own
functions compiled as device functions, so a member draws exactly the CPU kernel's random
numbers and the GPU reproduces the CPU to rounding (FMA contraction and fastmath reorder the
arithmetic on both sides; they are not bit-identical). float64 throughout.

Optional: needs ``numba-cuda`` (``pip install 'labspin[gpu]'``) and a CUDA device, or
NUMBA_ENABLE_CUDASIM=1 (the simulator, for tests: it checks correctness, not speed).
:func:`available` says whether it runs.
"""
from __future__ import annotations

import numpy as np

from labspin.physics.macrospin import kernel
from labspin.physics.macrospin.rng import normal3

try:  # a module global: the CUDA simulator swaps ``cuda`` in the kernel's globals
    from numba import cuda
except ImportError:
    cuda = None

_KERNEL = None


def available() -> bool:
    """Whether numba-cuda is installed and a CUDA device (or the simulator) is there."""
    if cuda is None:
        return False
    try:
        return bool(cuda.is_available())
    except Exception:  # noqa: BLE001 — a broken driver means no device
        return False


def device_name() -> str | None:
    """Get the CUDA device's name, or None."""
    if not available():
        return None
    name = cuda.get_current_device().name
    return name.decode() if isinstance(name, bytes) else str(name)


def _build():
    from numba import config
    rhs, waves_at, normalize = kernel._rhs, kernel._waves, kernel._normalize
    if config.ENABLE_CUDASIM:   # the simulator's arrays are Python objects: the Python body
        waves_at = kernel._waves.py_func

    @cuda.jit
    def integrate_gpu(m, hext, idc, sys, waves, t0, dt, n_steps, step0, key, sigma_th,
                      stochastic, rec_every, rec, acc_from, acc):
        i = cuda.grid(1)
        if i >= m.shape[1]:
            return
        s_ = (sys[0], sys[1], sys[2], sys[3], sys[4], sys[5], sys[6], sys[7], sys[8], sys[9],
              sys[10], sys[11], sys[12], sys[13], sys[14], sys[15], sys[16])
        x = m[0, i]
        y = m[1, i]
        z = m[2, i]
        hx = hext[0, i]
        hy = hext[1, i]
        hz = hext[2, i]
        ic = idc[i]
        a0 = a1 = a2 = a3 = a4 = a5 = a6 = a7 = a8 = 0.0
        for s in range(n_steps):
            t = t0 + s * dt
            wx0, wy0, wz0, wi0 = waves_at(t, waves)
            wx1, wy1, wz1, wi1 = waves_at(t + dt, waves)
            if stochastic:
                na, nb, nc = normal3(key, i, step0 + s)
                tx = hx + sigma_th * na
                ty = hy + sigma_th * nb
                tz = hz + sigma_th * nc
                k1x, k1y, k1z = rhs(x, y, z, tx + wx0, ty + wy0, tz + wz0, ic + wi0, s_)
                k2x, k2y, k2z = rhs(x + dt * k1x, y + dt * k1y, z + dt * k1z,
                                    tx + wx1, ty + wy1, tz + wz1, ic + wi1, s_)
                x, y, z = normalize(x + 0.5 * dt * (k1x + k2x), y + 0.5 * dt * (k1y + k2y),
                                    z + 0.5 * dt * (k1z + k2z))
            else:
                wxh, wyh, wzh, wih = waves_at(t + 0.5 * dt, waves)
                h2 = 0.5 * dt
                k1x, k1y, k1z = rhs(x, y, z, hx + wx0, hy + wy0, hz + wz0, ic + wi0, s_)
                k2x, k2y, k2z = rhs(x + h2 * k1x, y + h2 * k1y, z + h2 * k1z,
                                    hx + wxh, hy + wyh, hz + wzh, ic + wih, s_)
                k3x, k3y, k3z = rhs(x + h2 * k2x, y + h2 * k2y, z + h2 * k2z,
                                    hx + wxh, hy + wyh, hz + wzh, ic + wih, s_)
                k4x, k4y, k4z = rhs(x + dt * k3x, y + dt * k3y, z + dt * k3z,
                                    hx + wx1, hy + wy1, hz + wz1, ic + wi1, s_)
                d6 = dt / 6.0
                x, y, z = normalize(x + d6 * (k1x + 2.0 * k2x + 2.0 * k3x + k4x),
                                    y + d6 * (k1y + 2.0 * k2y + 2.0 * k3y + k4y),
                                    z + d6 * (k1z + 2.0 * k2z + 2.0 * k3z + k4z))
            if s >= acc_from:
                a0 += x
                a1 += y
                a2 += z
                a3 += x * x
                a4 += y * y
                a5 += z * z
                a6 += x * y
                a7 += x * z
                a8 += y * z
            if rec_every > 0 and (s + 1) % rec_every == 0:
                r = (s + 1) // rec_every - 1
                rec[r, 0, i] = x
                rec[r, 1, i] = y
                rec[r, 2, i] = z
        m[0, i] = x
        m[1, i] = y
        m[2, i] = z
        acc[0, i] += a0
        acc[1, i] += a1
        acc[2, i] += a2
        acc[3, i] += a3
        acc[4, i] += a4
        acc[5, i] += a5
        acc[6, i] += a6
        acc[7, i] += a7
        acc[8, i] += a8

    return integrate_gpu


THREADS_PER_BLOCK = 128


def integrate(m, hext, idc, sys, waves, t0, dt, n_steps, step0, key, sigma_th, stochastic,
              rec_every, rec, acc_from, acc) -> int:
    """Advance ``m`` (3, N) in place on the GPU: :func:`kernel.integrate`'s arguments
    without ``plain`` (``rec`` (n_rec, 3, N) receives m after every ``rec_every``-th step,
    recorded on the device); returns the number of accumulated steps."""
    global _KERNEL
    if cuda is None:
        raise RuntimeError("the GPU kernel needs numba-cuda: pip install 'labspin[gpu]'")
    if _KERNEL is None:
        _KERNEL = _build()
    n = m.shape[1]
    d_m, d_acc = cuda.to_device(np.ascontiguousarray(m)), cuda.to_device(acc)
    d_rec = cuda.device_array(rec.shape, np.float64)
    blocks = (n + THREADS_PER_BLOCK - 1) // THREADS_PER_BLOCK
    _KERNEL[blocks, THREADS_PER_BLOCK](
        d_m, cuda.to_device(np.ascontiguousarray(hext)), cuda.to_device(idc),
        cuda.to_device(np.asarray(sys, np.float64)), cuda.to_device(waves), float(t0),
        float(dt), int(n_steps), int(step0), np.uint64(key), float(sigma_th),
        bool(stochastic), int(rec_every), d_rec, int(acc_from), d_acc)
    m[...] = d_m.copy_to_host()
    acc[...] = d_acc.copy_to_host()
    if rec.size:
        rec[...] = d_rec.copy_to_host()
    return max(0, int(n_steps) - max(int(acc_from), 0))
