"""Counter-based Gaussian random numbers for the numba kernels.

Each normal deviate is a pure function of ``(seed, spin index, step, slot)``, so an ensemble
run gives the same numbers whatever the number of threads or the chunking of the spins.

- Uniform bits: the SplitMix64 output function applied to a counter (Steele, Lea & Flood,
  OOPSLA 2014; the generator behind Java's ``SplittableRandom``; passes BigCrush). Counters
  of distinct ``(spin, step, slot)`` are distinct, so every draw is a distinct element of the
  SplitMix64 sequence started at a seed-derived offset.
- Normals: Box–Muller with branch-free polynomial ``log``, ``sin`` and ``cos`` so that LLVM
  can vectorize the whole spin loop (numba's PyPI build has no vector math library).
  Absolute error of the polynomials < 1e-9, far below any statistical resolution.
"""
import math

import numpy as np
from llvmlite import ir
from numba import njit, types
from numba.extending import intrinsic

_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_M1 = np.uint64(0xBF58476D1CE4E5B9)
_M2 = np.uint64(0x94D049BB133111EB)
_S30 = np.uint64(30)
_S27 = np.uint64(27)
_S31 = np.uint64(31)
_S11 = np.uint64(11)
_S32 = np.uint64(32)
_MASK32 = np.uint64(0xFFFFFFFF)
_LN2 = math.log(2.0)
_TWO_PI = 2.0 * math.pi
_INV_2_53 = 1.0 / 9007199254740992.0


@intrinsic
def _bits_of(typingctx, x):
    """Reinterpret a float64 as int64 (a bitcast the vectorizer understands)."""
    if x != types.float64:
        return None

    def codegen(context, builder, signature, args):
        return builder.bitcast(args[0], ir.IntType(64))
    return types.int64(types.float64), codegen


@intrinsic
def _float_of(typingctx, x):
    """Reinterpret an int64 as float64."""
    if x != types.int64:
        return None

    def codegen(context, builder, signature, args):
        return builder.bitcast(args[0], ir.DoubleType())
    return types.float64(types.int64), codegen


@njit(inline="always", error_model="numpy")
def splitmix64(counter):
    """Get the SplitMix64 output for a uint64 counter (uint64)."""
    z = counter * _GOLDEN
    z = (z ^ (z >> _S30)) * _M1
    z = (z ^ (z >> _S27)) * _M2
    return z ^ (z >> _S31)


def seed_key(seed: int) -> np.uint64:
    """Get the 64-bit stream key for an integer seed (different seeds → unrelated streams)."""
    x = np.uint64(int(seed) & 0xFFFFFFFFFFFFFFFF)
    # one SplitMix64 round on the seed itself, done in Python integers to avoid overflow warnings
    z = (int(x) + 0x9E3779B97F4A7C15) & 0xFFFFFFFFFFFFFFFF
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & 0xFFFFFFFFFFFFFFFF
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & 0xFFFFFFFFFFFFFFFF
    return np.uint64(z ^ (z >> 31))


MAX_MEMBERS = 1 << 27
"""Members (spins) one stream holds: the counter layout's 27 spin bits."""


def member_key(seed: int, member0: int = 0) -> np.uint64:
    """Get the key that makes spin 0 of a kernel call draw what spin ``member0`` of stream
    ``seed`` draws (spin i then draws member0 + i's numbers): the counter is linear in the
    spin index, so the offset folds into the key (mod 2⁶⁴)."""
    if not 0 <= member0 < MAX_MEMBERS:
        raise ValueError(f"member0 must be in [0, {MAX_MEMBERS}), got {member0}")
    return np.uint64((int(seed_key(seed)) + (int(member0) << 37)) & 0xFFFFFFFFFFFFFFFF)


def derived_seed(seed: int, *indices: int) -> int:
    """Get a 64-bit seed for the sub-stream ``indices`` of ``seed`` (e.g. one grid point of a
    map): a SplitMix64 round per index, so sub-streams are unrelated and do not depend on
    which other sub-streams exist."""
    z = int(seed) & 0xFFFFFFFFFFFFFFFF
    for k in indices:
        z = int(seed_key(z ^ ((int(k) * 0xD1B54A32D192ED03) & 0xFFFFFFFFFFFFFFFF)))
    return z


@njit(inline="always", error_model="numpy")
def counter_of(key, spin, step):
    """Get the counter (uint64) of spin ``spin`` at step ``step``; two draws per (spin, step).

    Layout: bits 0 (slot), 1..36 (step, up to 6.9e10 steps), 37..63 (spin, up to 1.3e8 spins),
    offset by the seed key. Distinct (spin, step, slot) give distinct counters.
    """
    return key + (np.uint64(spin) << np.uint64(37)) + (np.uint64(step) << np.uint64(1))


@njit(inline="always", error_model="numpy")
def _log_unit(u):
    """Get ln(u) for u in (0, 1] (float64), branch-free: exponent split + atanh series."""
    bits = _bits_of(u)
    # reduce mantissa to [sqrt(1/2), sqrt(2)): shift by the bits of 1/sqrt(2)
    k = ((bits - np.int64(0x3FE6A09E667F3BCD)) >> np.int64(52))
    mbits = bits - (k << np.int64(52))
    x = _float_of(mbits)
    s = (x - 1.0) / (x + 1.0)
    s2 = s * s
    p = 1.0 / 11.0
    p = p * s2 + 1.0 / 9.0
    p = p * s2 + 1.0 / 7.0
    p = p * s2 + 1.0 / 5.0
    p = p * s2 + 1.0 / 3.0
    p = p * s2 + 1.0
    return 2.0 * s * p + np.float64(k) * _LN2


@njit(inline="always", error_model="numpy")
def _sincos_turn(t):
    """Get (sin 2πt, cos 2πt) for t in [0, 1), branch-free (quadrant reduction + Taylor)."""
    q = np.floor(4.0 * t + 0.5)            # nearest quarter turn, 0..4
    x = (t - 0.25 * q) * _TWO_PI           # |x| <= π/4
    x2 = x * x
    s = x * (1.0 + x2 * (-1.0 / 6.0 + x2 * (1.0 / 120.0 + x2 * (-1.0 / 5040.0
             + x2 * (1.0 / 362880.0 + x2 * (-1.0 / 39916800.0))))))
    c = 1.0 + x2 * (-0.5 + x2 * (1.0 / 24.0 + x2 * (-1.0 / 720.0 + x2 * (1.0 / 40320.0
             + x2 * (-1.0 / 3628800.0 + x2 * (1.0 / 479001600.0))))))
    qi = np.int64(q) & np.int64(3)
    # rotate (s, c) by qi quarter turns; conditional expressions compile to selects
    odd = (qi & np.int64(1)) == np.int64(1)
    s1 = c if odd else s
    c1 = -s if odd else c
    neg = qi >= np.int64(2)
    return (-s1 if neg else s1), (-c1 if neg else c1)


@njit(inline="always", error_model="numpy")
def _unit_pair(z):
    """Get two uniforms from 64 random bits: u1 in (0, 1] (for the log), u2 in [0, 1)."""
    u1 = (np.float64(z >> _S32) + 1.0) * (1.0 / 4294967296.0)
    u2 = np.float64(z & _MASK32) * (1.0 / 4294967296.0)
    return u1, u2


@njit(inline="always", error_model="numpy")
def normal2(key, spin, step):
    """Get two independent standard normal deviates for (spin, step) of stream ``key``.

    One Box–Muller pair on the first SplitMix64 draw of the counter (the same draw that
    gives the first two deviates of :func:`normal3`).
    """
    u1, u2 = _unit_pair(splitmix64(counter_of(key, spin, step)))
    r = math.sqrt(-2.0 * _log_unit(u1))
    s, c = _sincos_turn(u2)
    return r * c, r * s


@njit(inline="always", error_model="numpy")
def normal3(key, spin, step):
    """Get three independent standard normal deviates for (spin, step) of stream ``key``.

    Two Box–Muller transforms on 32-bit uniforms (the counter's two draws); the fourth
    deviate is not computed. The 32-bit resolution truncates the tails at |z| = 6.66
    (probability 2.7e-11).
    """
    a, b = normal2(key, spin, step)
    u3, u4 = _unit_pair(splitmix64(counter_of(key, spin, step) + np.uint64(1)))
    r2 = math.sqrt(-2.0 * _log_unit(u3))
    s2, c2 = _sincos_turn(u4)
    return a, b, r2 * c2


@njit(cache=True, error_model="numpy")
def normals(key, spin, n_steps):
    """Get an (n_steps, 3) array of the deviates spin ``spin`` receives (for tests)."""
    out = np.empty((n_steps, 3))
    for k in range(n_steps):
        a, b, c = normal3(key, spin, k)
        out[k, 0] = a
        out[k, 1] = b
        out[k, 2] = c
    return out
