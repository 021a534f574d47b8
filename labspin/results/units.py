"""The project's one unit table: SI prefixes, units with their dimension and SI scale, and the
readers of what a person types ("0.01 mA") or what a column is called ("Field (mT)").

Fields are μ0H in tesla (design.md, "Units"): oersted, gauss and A/m convert to T
(1 Oe ↔ 1e-4 T, 1 A/m ↔ μ0 T). Angles convert between deg and rad. dBm, dB and K take no
prefix (dBm is logarithmic: it converts to nothing but itself).
"""
from __future__ import annotations

import math
import re

import numpy as np

from labspin.physics.constants import MU0

SI_PREFIXES: dict[str, float] = {
    "a": 1e-18, "f": 1e-15, "p": 1e-12, "n": 1e-9, "u": 1e-6, "µ": 1e-6, "μ": 1e-6,
    "m": 1e-3, "c": 1e-2, "k": 1e3, "M": 1e6, "G": 1e9, "T": 1e12, "P": 1e15,
}

DISPLAY_PREFIXES: tuple[tuple[float, str], ...] = (
    (1e9, "G"), (1e6, "M"), (1e3, "k"), (1.0, ""), (1e-3, "m"), (1e-6, "µ"),
    (1e-9, "n"), (1e-12, "p"))
"""Prefixes for showing numbers, largest first (one symbol per factor)."""


class Unit(tuple):
    """(dimension, SI scale, takes prefixes)."""

    __slots__ = ()

    def __new__(cls, dimension: str, scale: float, prefixes: bool = True):
        return super().__new__(cls, (dimension, scale, prefixes))

    dimension = property(lambda self: self[0])
    scale = property(lambda self: self[1])
    prefixes = property(lambda self: self[2])


UNITS: dict[str, Unit] = {
    "": Unit("dimensionless", 1.0, False),
    "%": Unit("dimensionless", 0.01, False),
    "A": Unit("current", 1.0),
    "V": Unit("voltage", 1.0),
    "W": Unit("power", 1.0),
    "dBm": Unit("power level", 1.0, False),
    "dB": Unit("ratio (dB)", 1.0, False),
    "T": Unit("magnetic field (μ0H)", 1.0),
    "G": Unit("magnetic field (μ0H)", 1e-4),            # gauss
    "Oe": Unit("magnetic field (μ0H)", 1e-4),
    "A/m": Unit("magnetic field (μ0H)", MU0),
    "Hz": Unit("frequency", 1.0),
    "s": Unit("time", 1.0),
    "ohm": Unit("resistance", 1.0),
    "S": Unit("conductance", 1.0),
    "K": Unit("temperature", 1.0, False),
    "m": Unit("length", 1.0),
    "deg": Unit("angle", math.pi / 180, False),
    "rad": Unit("angle", 1.0),
    "Hz/T": Unit("frequency per field", 1.0),
    "A/m2": Unit("current density", 1.0),
}

_ALIASES = {"Ω": "ohm", "\u2126": "ohm", "Ohm": "ohm", "ohms": "ohm", "Ohms": "ohm", "°": "deg",
            "degree": "deg", "degrees": "deg", "sec": "s", "A/m²": "A/m2", "A/m^2": "A/m2",
            "Gs": "G"}

_NUMBER = r"[+-]?(?:(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?|inf(?:inity)?|nan)"
_QUANTITY = re.compile(rf"^\s*({_NUMBER})\s*([^\s\d+\-].*?)?\s*$", re.IGNORECASE)
_EXAMPLES = {"A": "0.5 mA", "V": "20 mV", "T": "-3 mT", "Hz": "6 GHz", "s": "10 ns",
             "ohm": "50 ohm", "deg": "45 deg", "dBm": "-10 dBm", "K": "300 K", "": "2.5"}


def lookup(unit: str) -> tuple[Unit, float]:
    """Get the unit named ``unit`` ("mT", "kΩ", "µV", "Oe") as (base unit, SI factor of one
    ``unit``). KeyError naming the unit when it is not in the table."""
    name = _ALIASES.get(unit.strip(), unit.strip())
    for alias, base in _ALIASES.items():          # kΩ, mOhm: a prefix before an alias
        if len(name) > len(alias) and name.endswith(alias) and name[:-len(alias)] in SI_PREFIXES:
            name = name[:-len(alias)] + base
    if name in UNITS:
        return UNITS[name], UNITS[name].scale
    if len(name) > 1 and name[0] in SI_PREFIXES and name[1:] in UNITS and UNITS[name[1:]].prefixes:
        base = UNITS[name[1:]]
        return base, SI_PREFIXES[name[0]] * base.scale
    raise KeyError(f"unknown unit {unit!r} (units: {', '.join(u for u in UNITS if u)}, "
                   f"with SI prefixes {''.join(dict.fromkeys(SI_PREFIXES))})")


def unit_scale(unit: str) -> tuple[str, float]:
    """Get (dimension, SI factor) of a unit such as 'mT', 'kOe', 'µV', 'kΩ', 'GHz';
    ValueError naming the unit when it is not in the table."""
    try:
        base, scale = lookup(unit)
    except KeyError as e:
        raise ValueError(e.args[0]) from None
    return base.dimension, scale


def factor(from_unit: str, to_unit: str) -> float:
    """Get the number that converts a value in ``from_unit`` to ``to_unit`` (same dimension);
    ValueError naming both units when they are not convertible."""
    try:
        (src, fs), (dst, fd) = lookup(from_unit), lookup(to_unit)
    except KeyError as e:
        raise ValueError(e.args[0]) from None
    if src.dimension != dst.dimension:
        raise ValueError(f"cannot convert {from_unit or 'a plain number'!r} "
                         f"({src.dimension}) to {to_unit or 'a plain number'!r} "
                         f"({dst.dimension})")
    return fs / fd


def convert(values, from_unit: str, to_unit: str):
    """Convert numbers (scalar or numpy array) from ``from_unit`` to ``to_unit``."""
    k = factor(from_unit, to_unit)
    if isinstance(values, (int, float)):
        return values * k
    return np.asarray(values, dtype=float) * k


def parse_quantity(text: str, unit: str, *, name: str = "") -> float:
    """Read what a person typed for a quantity in ``unit``: a number with an optional unit of
    the same dimension and SI prefix ("0.01 mA" → 1e-05 for unit "A", "10 Oe" → 0.001 for "T").
    A bare number is in ``unit``. ValueError naming ``name``, the text, the unit expected and
    an example when the text means no such quantity; a value is never changed silently."""
    example = _EXAMPLES.get(unit, f"1 {unit}")
    label = f"{name}: " if name else ""
    m = _QUANTITY.match(str(text))
    if not m:
        raise ValueError(f"{label}{text!r} is not a number in {unit or 'no unit'} "
                         f"(e.g. {example!r})")
    number, given = float(m.group(1)), m.group(2)
    if not math.isfinite(number):
        raise ValueError(f"{label}{text!r} is not finite (e.g. {example!r})")
    if not given or given == unit:
        return number
    try:
        lookup(unit)
    except KeyError:                      # a unit outside the table ("time constants"):
        raise ValueError(f"{label}{text!r}: expected a number in {unit} "  # only itself
                         f"(e.g. {example!r})") from None
    if given.startswith(","):
        raise ValueError(f"{label}{text!r}: a decimal comma? expected {unit or 'no unit'} "
                         f"with a decimal point (e.g. '{m.group(1)}.{given[1:].strip()}')")
    try:
        return number * factor(given, unit)
    except ValueError as e:
        raise ValueError(f"{label}{text!r}: {e}; expected {unit or 'no unit'} "
                         f"(e.g. {example!r})") from None


_COLUMN = re.compile(r"^(.*?)\s*(?:\(([^()]*)\)|\[([^\[\]]*)\])\s*$")


def split_unit(column: str) -> tuple[str, str]:
    """Split a column name "Field (mT)" or "Field [mT]" into ("Field", "mT"); ("Name", "")
    without a unit."""
    m = _COLUMN.match(column)
    if m is None:
        return column.strip(), ""
    return m.group(1), (m.group(2) if m.group(2) is not None else m.group(3)).strip()
