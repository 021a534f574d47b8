"""A procedure's analysis of results files, as ``labspin analyze`` and the GUI's Analysis tab
run it: the files read and joined, the procedure's analysis function, the text report (key
numbers with their errors, warnings) and the notebook figure."""
from __future__ import annotations

import csv
from collections.abc import Mapping, Sequence
from pathlib import Path

import pandas as pd

from labspin.procedures import analysis_function
from labspin.results.reader import read_table

ANALYSIS_ERRORS = (KeyError, ValueError)
"""What an analysis raises for data it cannot fit (the message says why)."""


class UnreadableFile(ValueError):
    """A file that is not a results file one can read: "cannot read FILE: why"."""


def read_files(files: Sequence[str | Path], columns: list[str] | None = None,
               units: list[str] | None = None) -> pd.DataFrame:
    """Get the rows of ``files`` in one table (read_table's renames and conversions); its
    attrs (header, sample parameters) are the first file's: pandas keeps attrs only when every
    file's are equal, and the analyses and plots read them. UnreadableFile names the file
    that cannot be read and why."""
    frames = []
    for f in files:
        try:
            frames.append(read_table(f, columns, units))
        except (OSError, pd.errors.ParserError, UnicodeDecodeError, ValueError,
                csv.Error) as exc:          # csv.Error: no delimiter in an empty file
            raise UnreadableFile(f"cannot read {f}: {exc}") from exc
    data = pd.concat(frames, ignore_index=True)
    data.attrs = dict(frames[0].attrs)
    return data


def analyze(procedure: str, data: pd.DataFrame, options: Mapping[str, str] | None = None
            ) -> dict:
    """Get ``procedure``'s analysis of ``data`` (design.md's keys, ``NAME_err`` errors,
    ``warnings``); KeyError/ValueError say what does not fit."""
    return analysis_function(procedure)(data, **dict(options or {}))


def report_lines(result: Mapping) -> list[str]:
    """Get the text report of an analysis: one line per key, "name  value ± error" (the
    errors beside their values, not on lines of their own)."""
    lines = []
    for k, v in result.items():
        if k.endswith("_err"):
            continue
        err = result.get(k + "_err")
        if isinstance(v, (int, float)) and not isinstance(v, bool):
            plus = f" ± {err:.2g}" if isinstance(err, (int, float)) else ""
            lines.append(f"{k:24s} {v:.6g}{plus}")
        else:
            lines.append(f"{k:24s} {v}")
    return lines


def figure(procedure: str, data: pd.DataFrame, result: dict,
           files: Sequence[str | Path] = ()):
    """Get the notebook figure of the analysis (a matplotlib Figure, no pyplot)."""
    from labspin.procedures.plots import plot_analysis
    return plot_analysis(procedure, data, result, files=files)
