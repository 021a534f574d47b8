"""A magnet's calibration: supply current (A) ↔ field (μ0·H, T) on separate up and down
branches (an iron-yoke magnet has hysteresis and remanence, so the current that gives +0.1 T
coming from below differs from the one coming from above). Part of the bench config
(``[magnet.calibration]``); the electromagnet driver and the calibration analysis use it."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from labspin.bench.safety import check_limit

BRANCHES = ("up", "down")


def _strictly_increasing(name: str, a: np.ndarray) -> None:
    if np.any(np.diff(a) <= 0):
        raise ValueError(f"{name} must increase strictly with current (a monotonic branch)")


@dataclass(frozen=True)
class MagnetCalibration:
    """Field (T) against supply current (A) on the up branch (current increasing) and the
    down branch (current decreasing), on a common current grid."""
    current_A: np.ndarray
    field_up_T: np.ndarray
    field_down_T: np.ndarray

    def __post_init__(self):
        arrays = {}
        for name in ("current_A", "field_up_T", "field_down_T"):
            a = np.asarray(getattr(self, name), dtype=float)
            if a.ndim != 1 or a.size < 2 or not np.all(np.isfinite(a)):
                raise ValueError(f"calibration {name} must be a list of ≥ 2 finite numbers")
            arrays[name] = a
        sizes = {a.size for a in arrays.values()}
        if len(sizes) != 1:
            raise ValueError("calibration current_A, field_up_T and field_down_T must have "
                             f"the same length, got {[a.size for a in arrays.values()]}")
        _strictly_increasing("calibration current_A", arrays["current_A"])
        _strictly_increasing("calibration field_up_T", arrays["field_up_T"])
        _strictly_increasing("calibration field_down_T", arrays["field_down_T"])
        for name, a in arrays.items():
            object.__setattr__(self, name, a)

    @classmethod
    def linear(cls, tesla_per_A: float, max_current_A: float,
               remanence_T: float = 0.0) -> "MagnetCalibration":
        """Make a calibration B = k·I ± B_r (up branch −B_r, down branch +B_r)."""
        if not tesla_per_A > 0 or not max_current_A > 0 or remanence_T < 0:
            raise ValueError("linear calibration needs tesla_per_A > 0, max_current_A > 0 "
                             "and remanence_T ≥ 0")
        i = np.linspace(-max_current_A, max_current_A, 3)
        return cls(i, tesla_per_A * i - remanence_T, tesla_per_A * i + remanence_T)

    def field(self, current_A: float, branch: str) -> float:
        """Get the calibrated field (T) at a current (A) on a branch ("up" or "down")."""
        return float(np.interp(current_A, self.current_A, self._branch(branch)))

    def current(self, field_T: float, branch: str) -> float:
        """Get the current (A) that gives field_T on a branch; LimitError outside the table."""
        b = self._branch(branch)
        check_limit(f"field on the {branch} branch of the calibration", field_T, b[0], b[-1], "T")
        return float(np.interp(field_T, b, self.current_A))

    def slope(self) -> float:
        """Get the largest |dB/dI| (T/A) of either branch."""
        return float(max(np.max(np.diff(b) / np.diff(self.current_A))
                         for b in (self.field_up_T, self.field_down_T)))

    def current_limit(self, max_field_T: float) -> float:
        """Get the smallest |I| (A) at which any branch, either polarity, reaches
        ±max_field_T (T), or the table's smaller |current| end if none reaches it within the
        table: below it the field stays within ±max_field_T on every branch. ValueError if a
        branch is beyond max_field_T already at zero current (the remanence)."""
        b = float(max_field_T)
        if not b > 0 or max(abs(f) for f in self.remanence_T) >= b:
            raise ValueError(f"max_field_T = {b:g} T must exceed the magnet's remanence "
                             f"{max(abs(f) for f in self.remanence_T):g} T")
        limit = min(abs(self.current_A[0]), abs(self.current_A[-1]))
        for branch in BRANCHES:
            f = self._branch(branch)
            for target in (b, -b):
                if f[0] <= target <= f[-1]:
                    limit = min(limit, abs(float(np.interp(target, f, self.current_A))))
        return limit

    def reach_T(self, current_limit_A: float) -> float:
        """Get the largest |B| (T) that both branches make, either polarity, within
        ±current_limit_A."""
        i = float(current_limit_A)
        return min(self.field(i, "up"), self.field(i, "down"),
                   -self.field(-i, "up"), -self.field(-i, "down"))

    @property
    def remanence_T(self) -> tuple[float, float]:
        """Get the field at zero current on the (up, down) branches (T)."""
        return self.field(0.0, "up"), self.field(0.0, "down")

    def _branch(self, branch: str) -> np.ndarray:
        if branch not in BRANCHES:
            raise ValueError(f"branch must be 'up' or 'down', got {branch!r}")
        return self.field_up_T if branch == "up" else self.field_down_T

    def to_dict(self) -> dict:
        """Get the calibration as the bench config's [magnet.calibration] table."""
        return {"current_A": self.current_A.tolist(), "field_up_T": self.field_up_T.tolist(),
                "field_down_T": self.field_down_T.tolist()}
