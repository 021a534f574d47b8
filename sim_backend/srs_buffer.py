"""Data buffers of the SRS lock-in twins: the SR830's data storage (SR830 manual ch. 5,
"Data Storage Commands") and the SR86x's data capture (SR860 manual ch. 4, "Data Capture").

A buffer takes readings at its sample rate (virtual time) while running, one-shot (stops
when full) or in a loop (the oldest point is overwritten). The lock-in fills it up to an
instant before every change of its input (the filter's input is constant in between) and
before every buffer query, so each stored point is the filter's output at its own sample
time plus that reading's noise.

Known deviations: the SR830 loop mode answers SPTS? 16383 once the buffer has wrapped (the
manual's value) but TRCA/TRCB/TRCL index the points oldest first; the SR86x's maximum
capture rate is modelled as 1.25 MHz/2^n with the least n that keeps it at most 1/(8τ)…
1.25 MHz/2^20 (an approximation of the manual's time-constant rule); capture triggers
(TRIG/SAMP start modes) start at once on the next trigger command only.
"""
from __future__ import annotations

import math
import struct
from collections.abc import Callable, Sequence

import numpy as np

from .scpi import Arg, RawBlock, SCPIError

SR830_RATES = tuple(62.5e-3 * 2 ** i for i in range(14))
"""SRAT 0…13: 62.5 mHz … 512 Hz; SRAT 14 is "on trigger"."""
SR830_TRIGGERED = 14
SR830_POINTS = 16383
"""Points per channel of the SR830's buffer."""
SR86X_RATE_TOP = 1.25e6
"""The SR86x's fastest capture rate (Hz)."""
SR86X_CONFIGS = (("x",), ("x", "y"), ("r", "theta"), ("x", "y", "r", "theta"))
"""CAPTURECFG 0…3: the quantities stored per sample (float32 each)."""


class SampleBuffer:
    """Readings taken at ``rate`` Hz from ``start()`` on: ``fill(t, reading_at)`` stores those
    due up to time ``t`` (s); ``reading_at(t)`` gives one sample (a tuple of floats)."""

    def __init__(self, capacity: int):
        self.capacity = capacity
        self.points: list[tuple[float, ...]] = []
        self.wrapped = False
        self.running = False
        self.loop = True
        self.rate: float | None = 1.0          # None: a point per trigger
        self._t_next = 0.0

    def start(self, now: float) -> None:
        if not self.running:
            self.running = True
            self._t_next = now

    def pause(self) -> None:
        self.running = False

    def clear(self) -> None:
        self.points, self.wrapped, self.running = [], False, False

    def fill(self, until: float, reading_at: Callable[[float], tuple[float, ...]]) -> None:
        """Store every reading due at or before ``until`` (s)."""
        if not self.running or self.rate is None:
            return
        period = 1.0 / self.rate
        due = math.floor((until - self._t_next) / period + 1e-9) + 1
        if due <= 0:
            return
        skip = max(0, due - self.capacity) if self.loop else 0
        if skip:                      # a loop overwritten whole: only the newest are kept
            self.points, self.wrapped = [], True
        free = due if self.loop else self.capacity - len(self.points)
        for k in range(skip, min(due, skip + free)):
            self.store(reading_at(self._t_next + k * period))
        self._t_next += due * period

    def store(self, point: tuple[float, ...]) -> None:
        """Store one point (a trigger's, or a due reading)."""
        if len(self.points) >= self.capacity:
            if not self.loop:
                self.running = False
                return
            self.points.pop(0)
            self.wrapped = True
        self.points.append(point)
        if not self.loop and len(self.points) >= self.capacity:
            self.running = False

    def window(self, start: int, count: int) -> list[tuple[float, ...]]:
        """Points start … start+count−1; an empty or out-of-range window is error −222."""
        if start < 0 or count < 1 or start + count > len(self.points):
            raise SCPIError(-222, f"Data out of range;{len(self.points)} points stored")
        return self.points[start:start + count]


def sr830_nonnormalized(values: Sequence[float]) -> bytes:
    """TRCL? format: per point a little-endian int16 mantissa m and int16 exponent e with
    value = m·2^(e−124), m normalized to 15 bits."""
    out = bytearray()
    for v in values:
        if v == 0 or not math.isfinite(v):
            out += struct.pack("<hh", 0, 0)
            continue
        frac, exp = math.frexp(v)          # v = frac·2^exp, 0.5 ≤ |frac| < 1
        mantissa = int(round(frac * 2 ** 14))
        out += struct.pack("<hh", mantissa, exp - 14 + 124)
    return bytes(out)


def raw_block(data: bytes) -> RawBlock:
    """Bytes sent as they are, no header and no termination (the SR830's TRCB/TRCL)."""
    return RawBlock(data.decode("latin-1"))


def ieee_block(values: np.ndarray, dtype: str) -> RawBlock:
    """An IEEE 488.2 definite-length block of ``values`` as ``dtype`` (e.g. "<f4"), sent
    without termination (the SR86x's CAPTUREGET?)."""
    data = np.asarray(values, dtype=dtype).tobytes()
    size = str(len(data))
    return RawBlock(f"#{len(size)}{size}" + data.decode("latin-1"))


def sr86x_rate_max(tau_s: float) -> float:
    """Largest capture rate 1.25 MHz/2^n (n ≤ 20) at most 1/(8τ), or 1.25 MHz (Hz)."""
    for n in range(21):
        rate = SR86X_RATE_TOP / 2 ** n
        if rate <= max(1.0 / (8 * tau_s), SR86X_RATE_TOP / 2 ** 20):
            return rate
    return SR86X_RATE_TOP / 2 ** 20


class SR830Storage:
    """The SR830's data storage commands, mixed into its twin (manual ch. 5)."""

    def _declare_storage(self) -> None:
        p = self._param
        p("sample_rate", "SRAT", int, range=(0, SR830_TRIGGERED), default=4,
          hook=lambda v: self._storage_settings())
        p("scan_mode", "SEND", int, range=(0, 1), default=1,
          hook=lambda v: self._storage_settings())
        p("trigger_starts", "TSTR", int, range=(0, 1), default=0)
        self.add_command("STRT", self._storage_start)
        self.add_command("PAUS", lambda: self._buffer_now().pause())
        self.add_command("REST", self._storage_reset)
        self.add_command("TRIG", self._storage_trigger)
        self.add_query("SPTS", self._storage_count)
        window = (Arg(int, range=(1, 2)), Arg(int, range=(0, SR830_POINTS - 1)),
                  Arg(int, range=(1, SR830_POINTS)))
        self.add_query("TRCA", self._trace_ascii, args=window)
        self.add_query("TRCB", self._trace_float, args=window)
        self.add_query("TRCL", self._trace_nonnormalized, args=window)
        self._new_storage()

    def _storage_settings(self) -> None:
        rate = int(self.get("sample_rate"))
        self._buffer.rate = None if rate == SR830_TRIGGERED else SR830_RATES[rate]
        self._buffer.loop = int(self.get("scan_mode")) == 1

    def _storage_reset(self) -> None:
        """REST (and *RST): an empty buffer, stopped, no trigger armed."""
        self._sync()
        self._new_storage()

    def _new_storage(self) -> None:
        self._buffer = SampleBuffer(SR830_POINTS)
        self._storage_armed = False
        self._storage_settings()

    def _storage_start(self) -> None:
        """STRT: start or resume; with TSTR 1 the next TRIG starts the scan."""
        buffer = self._buffer_now()
        if int(self.get("trigger_starts")) and not buffer.points:
            self._storage_armed = True
        else:
            buffer.start(self.clock.now())

    def _storage_trigger(self) -> None:
        buffer = self._buffer_now()
        if self._storage_armed:
            self._storage_armed = False
            buffer.start(self.clock.now())
        elif buffer.running and buffer.rate is None:
            buffer.store(self._buffer_point(self.snapshot()))

    def _storage_count(self) -> int:
        buffer = self._buffer_now()
        return SR830_POINTS if buffer.wrapped else len(buffer.points)

    def _buffer_point(self, s: dict[str, float]) -> tuple[float, ...]:
        return (self._display_value(s, 1), self._display_value(s, 2))

    def _trace(self, ch: int, start: int, count: int) -> list[float]:
        return [point[ch - 1] for point in self._buffer_now().window(start, count)]

    def _trace_ascii(self, ch: int, start: int, count: int) -> str:
        """TRCA?: the points in ASCII, each followed by a comma (manual)."""
        return "".join(f"{v:.6e}," for v in self._trace(ch, start, count))

    def _trace_float(self, ch: int, start: int, count: int) -> RawBlock:
        """TRCB?: 4-byte IEEE floats, little-endian, no header or terminator."""
        return raw_block(np.asarray(self._trace(ch, start, count), "<f4").tobytes())

    def _trace_nonnormalized(self, ch: int, start: int, count: int) -> RawBlock:
        return raw_block(sr830_nonnormalized(self._trace(ch, start, count)))


class SR86xCapture:
    """The SR86x's data capture commands, mixed into its twin (manual ch. 4)."""

    def _declare_capture(self) -> None:
        p = self._param
        p("capture_length", "CAPTURELEN", int, range=(1, 4096), default=256)
        p("capture_config", "CAPTURECFG", int, range=(0, 3), default=0)
        p("capture_rate", "CAPTURERATE", int, range=(0, 20), default=0)
        self.add_query("CAPTURERATE", lambda: f"{self._capture_rate():.7e}")
        self.add_query("CAPTURERATEMAX", lambda: f"{sr86x_rate_max(self._tau()):.7e}")
        self.add_command("CAPTURESTART", self._capture_start, args=None)
        self.add_command("CAPTURESTOP", lambda: self._buffer_now().pause())
        self.add_command("TRIG", self._capture_trigger)
        self.add_query("CAPTURESTAT", self._capture_status)
        self.add_query("CAPTUREBYTES", self._capture_bytes)
        self.add_query("CAPTUREPROG", self._capture_progress)
        self.add_query("CAPTUREGET", self._capture_get, args=(Arg(int, range=(0, 4095)),
                                                              Arg(int, range=(1, 64))))
        self._capture_armed = False

    def _capture_rate(self) -> float:
        return sr86x_rate_max(self._tau()) / 2 ** int(self.get("capture_rate"))

    def _capture_quantities(self) -> tuple[str, ...]:
        return SR86X_CONFIGS[int(self.get("capture_config"))]

    def _capture_start(self, *tokens: str) -> None:
        """CAPTURESTART ONE|CONT, IMM|TRIG|SAMP: a fresh buffer of CAPTURELEN kB."""
        if len(tokens) != 2:
            raise SCPIError(-109 if len(tokens) < 2 else -108)
        mode, trigger = (t.strip().upper() for t in tokens)
        if mode not in ("ONE", "CONT", "0", "1") or trigger not in ("IMM", "TRIG", "SAMP",
                                                                    "0", "1", "2"):
            raise SCPIError(-224)
        self._sync()
        per_point = 4 * len(self._capture_quantities())
        buffer = self._buffer = SampleBuffer(int(self.get("capture_length")) * 1024 // per_point)
        buffer.loop = mode in ("CONT", "1")
        buffer.rate = self._capture_rate()
        if trigger in ("IMM", "0"):
            buffer.start(self.clock.now())
        else:
            self._capture_armed = True

    def _capture_trigger(self) -> None:
        if self._capture_armed:
            self._capture_armed = False
            self._buffer_now().start(self.clock.now())

    def _capture_status(self) -> int:
        """CAPTURESTAT?: bit 0 armed for a trigger, bit 1 acquiring, bit 2 wrapped."""
        buffer = self._buffer_now()
        return (int(self._capture_armed) | (2 if buffer.running else 0)
                | (4 if buffer.wrapped else 0))

    def _capture_bytes(self) -> int:
        buffer = self._buffer_now()
        return len(buffer.points) * 4 * len(self._capture_quantities())

    def _capture_progress(self) -> int:
        """CAPTUREPROG?: kB captured, rounded up to 2 kB; the length once wrapped."""
        buffer = self._buffer_now()
        if buffer.wrapped:
            return int(self.get("capture_length"))
        return 2 * math.ceil(self._capture_bytes() / 2048)

    def _capture_get(self, offset_kb: int, size_kb: int) -> RawBlock:
        """CAPTUREGET? i, j: j kB from kB i of the buffer as little-endian float32."""
        flat = np.asarray(self._buffer_now().points, "<f4").ravel()
        per_kb = 1024 // 4
        if (offset_kb + size_kb) * per_kb > max(flat.size, per_kb * 2 * math.ceil(
                flat.size / (2 * per_kb))):
            raise SCPIError(-222, "Data out of range;beyond the captured data")
        chunk = flat[offset_kb * per_kb:(offset_kb + size_kb) * per_kb]
        chunk = np.pad(chunk, (0, size_kb * per_kb - chunk.size))
        return ieee_block(chunk, "<f4")

    def _buffer_point(self, s: dict[str, float]) -> tuple[float, ...]:
        return tuple(s[q] for q in self._capture_quantities())
