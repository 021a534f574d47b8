"""A file's constants (one value for the whole file: the frequency of an ST-FMR sweep, the rf
power, the dc current) and per-column scale factors.

Where a constant comes from, first found wins: ``--constant "[FILE:]NAME=VALUE"`` (FILE the
path as given or its name: only that file), a column of the file itself, a header line
named as the column (``# Frequency: 8 GHz``, LabVIEW's ``Frequency(GHz):1.000000E+1``), the
file name.

File-name patterns (a number, then the unit, between ``_``, ``-``, ``.``, blanks or the ends):
``8.00GHz``, ``500MHz``, ``13.5G`` (frequency; a bare ``G`` is GHz), ``10dBm``, ``-5.5dbm``
(rf power), ``4.50mA``, ``-20uA``, ``1A`` (dc current). A ``-`` is a minus sign at the start or
after another separator (``_-5dBm``), a separator after a letter (``P-3dBm`` is +3 dBm).

Each constant lands on the analysis's column of that quantity (its ``targets``: the
frequency on "Frequency (Hz)", the power on "Power (dBm)", a current on the "current"
column, e.g. "DC current (A)"), converted through the unit table; a NAME that is none of the
targets' quantities is added as given ("Sample temperature (K)").

Scales (``--scale COLUMN=FACTOR|rms|peak``): FACTOR multiplies the column (a ×100
pre-amplifier is ``=0.01``); ``rms`` declares a column of rms readings (a lock-in's R, X
and Y) and converts it to the amplitude labspin's columns hold (×√2; design.md: I0 and V_ω are
amplitudes); ``peak`` declares amplitudes already (no change).
"""
from __future__ import annotations

import math
import re
from pathlib import Path

import pandas as pd

from labspin.results.formats import numeric
from labspin.results.units import factor, parse_quantity, split_unit

_EDGE_L, _EDGE_R = r"(?:^|(?<=[_\-\s.]))", r"(?=$|[_\-\s]|\.(?!\d))"
_NUM = r"([+-]?\d+(?:\.\d*)?|[+-]?\.\d+)"
FILE_NAME_PATTERNS: tuple[tuple[str, re.Pattern, str], ...] = (
    ("frequency", re.compile(_EDGE_L + _NUM + r"\s*(GHz|MHz|kHz|G)" + _EDGE_R), "Hz"),
    ("power", re.compile(_EDGE_L + _NUM + r"\s*(dBm)" + _EDGE_R, re.IGNORECASE), "dBm"),
    ("current", re.compile(_EDGE_L + _NUM + r"\s*(mA|uA|µA|nA|A)" + _EDGE_R), "A"),
)
"""(quantity, pattern, SI unit) of the constants a file name may carry."""

_QUANTITY_WORDS = {"frequency": ("frequency", "freq"), "power": ("power",),
                   "current": ("current",)}
_DEFAULT_TARGETS = {"frequency": "Frequency (Hz)", "power": "Power (dBm)",
                    "current": "DC current (A)"}


def file_name_constants(path: str | Path) -> dict[str, float]:
    """Get {quantity: SI value} from a file's name (the patterns above)."""
    out = {}
    stem = Path(path).name
    for quantity, pattern, si in FILE_NAME_PATTERNS:
        m = pattern.search(stem)
        if m:
            unit = "GHz" if m.group(2) == "G" else m.group(2)
            unit = "dBm" if quantity == "power" else unit
            out[quantity] = float(m.group(1)) * factor(unit, si)
    return out


def quantity_of(name: str) -> str | None:
    """Get the quantity ("frequency", "power", "current") a column name is about, or None."""
    words = split_unit(name)[0].lower()
    for quantity, keys in _QUANTITY_WORDS.items():
        if any(re.search(rf"\b{k}", words) for k in keys):
            return quantity
    return None


def _target(name: str, targets: list[str]) -> str:
    """Get the column a constant named ``name`` fills: the target (``targets``, else the
    frequency/power/current defaults) of the same name or, failing that, of the same quantity
    with a convertible unit; else ``name`` itself."""
    base, unit = split_unit(name)
    pool = list(targets) or list(_DEFAULT_TARGETS.values())
    for t in pool:
        if split_unit(t)[0].lower() == base.lower():
            return t
    quantity = quantity_of(name)
    for t in pool:
        if quantity and quantity_of(t) == quantity:
            try:
                factor(unit or split_unit(t)[1], split_unit(t)[1])
            except ValueError:
                continue
            return t
    return name


def _value(name: str, text: str, target: str, label: str) -> float:
    """Read ``text`` (in the unit of ``name``, or with its own unit) in ``target``'s unit."""
    unit = split_unit(target)[1]
    given = split_unit(name)[1]
    text = text.strip()
    m = re.fullmatch(r"\s*([+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?)\s*", text)
    if m and given and given != unit:
        try:
            return float(m.group(1)) * factor(given, unit)
        except ValueError as e:
            raise ValueError(f"{label}: {e}") from None
    return parse_quantity(text, unit, name=label)


def apply_constants(df: pd.DataFrame, path, items: list[str],
                    targets: list[str]) -> pd.DataFrame:
    """Add the file's constants as columns (see the module docstring): ``items`` the
    ``NAME=VALUE`` that apply to this file; ValueError naming the item that does not read."""
    given: dict[str, float] = {}
    for item in items:
        name, sep, value = item.partition("=")
        if not sep or not name.strip():
            raise ValueError(f"--constant {item!r}: expected [FILE:]NAME=VALUE, e.g. "
                             f"\"Frequency (GHz)=8\" or \"{Path(path).name}:Frequency (GHz)=8\"")
        target = _target(name.strip(), targets)
        given[target] = _value(name.strip(), value, target, f"--constant {item!r}")
    found: dict[str, float] = {}
    pool = list(targets) or list(_DEFAULT_TARGETS.values())
    for key, text in df.attrs.get("constants", {}).items():
        target = _target(key, targets)              # a header line: the same name only
        if target not in pool or split_unit(target)[0].lower() != split_unit(key)[0].lower():
            continue
        try:
            found.setdefault(target, _value(key, text, target, f"header line {key!r}"))
        except ValueError:
            continue                                   # a header line that is not one
    by_quantity = {quantity_of(t): t for t in (targets or _DEFAULT_TARGETS.values())}
    for quantity, value in file_name_constants(path).items():
        if quantity in by_quantity:
            found.setdefault(by_quantity[quantity], value)
    added = []
    for target, value in {**found, **given}.items():
        if target not in df.columns or target in given:
            df[target] = value
            added.append(target)
    df.attrs["constant_columns"] = added
    df.attrs["constants"] = {**df.attrs.get("constants", {}), **{
        t: v for t, v in {**found, **given}.items()}}
    return df


def apply_scales(df: pd.DataFrame, items: list[str], lines=None, path=None) -> pd.DataFrame:
    """Apply ``COLUMN=FACTOR``, ``COLUMN=rms`` (×√2, to amplitude) or ``COLUMN=peak``."""
    for item in items:
        col, sep, value = item.partition("=")
        if not sep or col not in df.columns:
            raise ValueError(f"--scale {item!r}: expected COLUMN=FACTOR, COLUMN=rms or "
                             f"COLUMN=peak with COLUMN one of "
                             f"{', '.join(map(str, df.columns))}" + (
                                 "; a column that only some files have takes their name, "
                                 "FILE:COLUMN=FACTOR" if path is not None else ""))
        value = value.strip().lower()
        if value == "rms":
            k = math.sqrt(2.0)
        elif value in ("peak", "amplitude"):
            k = 1.0
        else:
            try:
                k = float(value)
            except ValueError:
                raise ValueError(f"--scale {item!r}: {value!r} is not a number, rms or "
                                 f"peak") from None
            if not math.isfinite(k) or k == 0:
                raise ValueError(f"--scale {item!r}: the factor must be finite and not 0")
        df[col] = numeric(df[col], col, lines, path) * k
    return df
