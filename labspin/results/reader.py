"""Reading results files that did not come from labspin: column renaming and unit
conversion onto a procedure's column names ("Name (unit)", SI).

``labspin analyze PROCEDURE FILE --column "Field (T)=H" --unit "Field (T)=Oe"`` reads any
CSV or tab-separated file (comment lines starting with '#' are skipped, a pymeasure header
included), renames column H to "Field (T)" and converts it from oersted to tesla.
"""
from __future__ import annotations

from pathlib import Path

import pandas as pd

from labspin.results.header import read_header
from labspin.results.units import factor, lookup, split_unit


def read_table(path: str | Path, columns: list[str] | None = None,
               units: list[str] | None = None) -> pd.DataFrame:
    """Read a results file of any origin; apply NEW=OLD renames and COLUMN=UNIT conversions.

    The "Sample parameters" JSON of a labspin header, when present, goes to
    ``df.attrs["sample_parameters"]`` and the header's text to ``df.attrs["header"]``
    (analyses take film and procedure parameters from them).
    Raises ValueError naming the column or unit that does not fit.
    """
    df = pd.read_csv(path, comment="#", sep=None, engine="python")
    header = read_header(path)
    df.attrs["sample_parameters"] = header.sample_parameters
    df.attrs["sample_constants"] = header.sample_constants
    df.attrs["header"] = header.text
    for item in columns or []:
        new, sep, old = item.partition("=")
        if not sep or old not in df.columns:
            raise ValueError(f"--column {item!r}: expected NEW=OLD with OLD one of "
                             f"{', '.join(map(str, df.columns))}")
        df = df.rename(columns={old: new})
    for item in units or []:
        col, sep, unit = item.partition("=")
        if not sep or col not in df.columns:
            raise ValueError(f"--unit {item!r}: expected COLUMN=UNIT with COLUMN one of "
                             f"{', '.join(map(str, df.columns))}")
        try:
            target = split_unit(col)[1]       # the column's own unit; SI when it names none
            k = factor(unit, target) if target else lookup(unit)[1]
        except (KeyError, ValueError) as e:
            raise ValueError(f"--unit {item!r}: {e.args[0]}") from None
        df[col] = pd.to_numeric(df[col], errors="coerce") * k
    return df


def header_sample_parameters(path: str | Path) -> dict:
    """Get the "Sample parameters" JSON of a labspin results header ({} if none)."""
    return read_header(path).sample_parameters


def header_lines(path: str | Path) -> list[str]:
    """Get the leading '#' lines of a results file (without the newline)."""
    return read_header(path).lines
