"""The one unit table of labspin and the parser of quantities that people type.

Every unit has a dimension (named by its SI unit) and a scale to that SI unit: "mT" is
("T", 1e-3), "Oe" is ("T", 1e-4) because fields are given as μ0H, "deg" is ("rad", π/180).
Results files, analyses, figure labels, the GUI and the CLI all take units from here.
"""
from __future__ import annotations

import math
import re

import numpy as np

from labspin.physics.constants import MU0

# SI prefix symbol → factor ("u", "µ" (micro sign) and "μ" (Greek mu) all mean 1e-6)
SI_PREFIXES: dict[str, float] = {
    "P": 1e15, "T": 1e12, "G": 1e9, "M": 1e6, "k": 1e3, "": 1.0, "m": 1e-3,
    "u": 1e-6, "µ": 1e-6, "μ": 1e-6, "n": 1e-9, "p": 1e-12, "f": 1e-15,
}
# prefixes for showing numbers, largest first (one symbol per factor)
DISPLAY_PREFIXES: tuple[tuple[float, str], ...] = (
    (1e9, "G"), (1e6, "M"), (1e3, "k"), (1.0, ""), (1e-3, "m"), (1e-6, "µ"),
    (1e-9, "n"), (1e-12, "p"))

# unit → (dimension as its SI unit, factor to that SI unit, takes SI prefixes)
UNITS: dict[str, tuple[str, float, bool]] = {
    "T": ("T", 1.0, True), "G": ("T", 1e-4, True), "Oe": ("T", 1e-4, True),
    "A/m": ("T", MU0, True),                       # a field H given in A/m, as μ0H in T
    "A": ("A", 1.0, True), "V": ("V", 1.0, True), "W": ("W", 1.0, True),
    "Hz": ("Hz", 1.0, True), "s": ("s", 1.0, True), "m": ("m", 1.0, True),
    "ohm": ("ohm", 1.0, True), "S": ("S", 1.0, True), "K": ("K", 1.0, True),
    "rad": ("rad", 1.0, True), "deg": ("rad", math.pi / 180, False),
    "dBm": ("dBm", 1.0, False), "": ("", 1.0, False),
}
_ALIASES = {"\u03a9": "ohm", "\u2126": "ohm", "Ohm": "ohm", "ohms": "ohm", "°": "deg",
            "degree": "deg", "degrees": "deg"}
_EXAMPLES = {"A": "0.01 mA", "V": "2.5 mV", "T": "-3 mT", "Hz": "6 GHz", "s": "10 us",
             "ohm": "50 ohm", "K": "300 K", "dBm": "10 dBm", "deg": "45 deg", "rad": "0.5 rad",
             "W": "1 mW", "m": "10 nm", "": "2.5e-6"}
_NUMBER = re.compile(r"\s*([+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?)\s*(.*?)\s*$")


def unit_scale(unit: str) -> tuple[str, float]:
    """Get (dimension, factor to SI) of a unit such as 'mT', 'kOe', 'µV', 'kΩ', 'GHz'.

    Raises ValueError naming the unit when it is not in the table.
    """
    u = unit.strip()
    for old, new in _ALIASES.items():
        if u.endswith(old):
            u = u[: -len(old)] + new
            break
    if u in UNITS:
        dim, factor, _ = UNITS[u]
        return dim, factor
    for prefix, p_factor in SI_PREFIXES.items():
        if prefix and u.startswith(prefix) and u[len(prefix):] in UNITS:
            dim, factor, prefixable = UNITS[u[len(prefix):]]
            if prefixable:
                return dim, p_factor * factor
    raise ValueError(f"unknown unit {unit!r}; known units: "
                     f"{', '.join(repr(k) for k in UNITS if k)} with SI prefixes "
                     f"({', '.join(p for p in SI_PREFIXES if p)}) where they apply")


def convert(values, from_unit: str, to_unit: str):
    """Convert numbers (scalar or array) from one unit to another of the same dimension.

    ``convert(10, "Oe", "T")`` → 0.001; raises ValueError naming both units otherwise.
    """
    from_dim, from_factor = unit_scale(from_unit)
    to_dim, to_factor = unit_scale(to_unit)
    if from_dim != to_dim:
        raise ValueError(f"cannot convert {from_unit!r} (dimension {from_dim or 'none'}) to "
                         f"{to_unit!r} (dimension {to_dim or 'none'})")
    factor = from_factor / to_factor
    if np.ndim(values) == 0:
        return float(values) * factor
    return np.asarray(values, dtype=float) * factor


def parse_quantity(text: str, unit: str, *, name: str = "") -> float:
    """Read a typed quantity in `unit`: '0.01 mA' → 1e-05 for 'A', '10 Oe' → 0.001 for 'T'.

    A bare number is taken in `unit` itself. Raises ValueError naming `name`, the text,
    the expected unit and an example; a value is never changed silently.
    """
    what = f"{name}: " if name else ""
    example = _EXAMPLES.get(unit, f"1 {unit}")
    m = _NUMBER.fullmatch(str(text))
    if m is None:
        raise ValueError(f"{what}cannot read {text!r} as a quantity in {unit or 'no unit'}; "
                         f"type a number with an optional unit, e.g. {example!r}")
    number, given = float(m.group(1)), m.group(2)
    if not math.isfinite(number):
        raise ValueError(f"{what}{text!r} is not a finite number")
    if not given:
        return number
    try:
        return convert(number, given, unit)
    except ValueError as e:
        raise ValueError(f"{what}{text!r} is not a quantity in {unit or 'no unit'} ({e}); "
                         f"e.g. {example!r}") from None


def split_unit(column: str) -> tuple[str, str]:
    """Split a column name into name and unit: 'Field (mT)' → ('Field', 'mT')."""
    m = re.fullmatch(r"\s*(.*?)\s*[(\[]\s*([^()\[\]]*?)\s*[)\]]\s*", column)
    if m is None:
        return column.strip(), ""
    return m.group(1), m.group(2)
