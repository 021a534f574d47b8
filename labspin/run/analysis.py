"""A procedure's analysis of results files, as ``labspin analyze`` and the GUI's Analysis tab
run it: the files read and joined, the procedure's analysis function, the text report (key
numbers with their errors, warnings) and the notebook figure."""
from __future__ import annotations

import csv
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

import pandas as pd

from labspin.procedures import analysis_function
from labspin.results.field_from_current import CurrentToField, apply_field_from_current
from labspin.results.reader import EmptyFileError, for_file, join_tables, read_table

ANALYSIS_ERRORS = (KeyError, ValueError)
"""What an analysis raises for data it cannot fit (the message says why)."""


class UnreadableFile(ValueError):
    """A file that is not a results file one can read: "cannot read FILE: why"."""


class MissingColumns(UnreadableFile):
    """Files read, but without a column the procedure's analysis needs (its ``NEEDS``): the
    message names the missing columns, those there are, and how to map them."""


def read_files(files: Sequence[str | Path], columns: list[str] | None = None,
               units: list[str] | None = None, *, procedure: str | None = None,
               format: str = "auto", skip_rows: int = 0, names: list[str] | None = None,
               constants: list[str] | None = None, scales: list[str] | None = None,
               reshape: str | None = None, field_from_current: CurrentToField | None = None,
               warn: Callable[[str], None] | None = None) -> pd.DataFrame:
    """Get the rows of ``files`` in one table, read onto ``procedure``'s analysis columns
    (read_table's formats, renames, conversions, constants, scales and reshapes; ``names``
    entries may be "FILE:A,B" for one file; ``field_from_current``: 'Field (T)' computed from
    each file's 'Magnet current (A)'). Its attrs (header, sample parameters) are the
    first file's: pandas keeps attrs only when every file's are equal, and the analyses and
    plots read them; ``attrs["file_rows"]`` is [(file, rows), …], so that sweeps are never
    merged across files. An empty or header-only file is skipped, ``warn`` told which and why.
    UnreadableFile names the file that cannot be read and why (or that none holds data);
    MissingColumns (one) the columns of ``procedure``'s NEEDS that none of them has."""
    from labspin.procedures import analysis_declarations
    needs = analysis_declarations(procedure)[0] if procedure else None
    frames = []
    for f in files:
        one_names = (for_file(names or [], f, files) or [None])[-1]
        try:
            frame = read_table(
                f, columns, units, format=format, skip_rows=skip_rows, names=one_names,
                constants=constants, scales=scales, reshape=reshape,
                targets=needs.targets if needs else None, files=files)
            frames.append((f, frame if field_from_current is None
                              else apply_field_from_current(frame, field_from_current)))
        except EmptyFileError as exc:
            if warn is not None:
                warn(f"skipping {f}: {exc}")
        except (OSError, pd.errors.ParserError, UnicodeDecodeError, ValueError,
                csv.Error) as exc:          # csv.Error: no delimiter in an empty file
            raise UnreadableFile(f"cannot read {f}: {exc}") from exc
    if not frames:
        raise UnreadableFile(f"no data in {', '.join(map(str, files))}")
    data = join_tables([f for _, f in frames], warn, [name for name, _ in frames])
    missing = needs.missing(data.columns) if needs else []
    if missing:
        maps = " ".join(f'--column "{m}=NAME"' for m in missing)
        raise MissingColumns(
            f"{procedure} needs the column(s) {', '.join(missing)}; have "
            f"{', '.join(map(str, data.columns))}. Map yours with {maps} (and --unit), name "
            f"a headerless table with --names, give a file's constant with --constant; "
            f"`labspin analyze {procedure} --help` lists them")
    return data


def analyze(procedure: str, data: pd.DataFrame, options: Mapping[str, str] | None = None
            ) -> dict:
    """Get ``procedure``'s analysis of ``data`` (design.md's keys, ``NAME_err`` errors,
    ``warnings``); KeyError/ValueError say what does not fit."""
    return analysis_function(procedure)(data, **dict(options or {}))


def report_lines(result: Mapping) -> list[str]:
    """Get the text report of an analysis (``procedures.report.format_result``: each value
    with its error beside it, record lists as tables, priors, warnings), as lines."""
    from labspin.procedures.report import format_result
    return format_result(dict(result)).splitlines()


def figure(procedure: str, data: pd.DataFrame, result: dict,
           files: Sequence[str | Path] = ()):
    """Get the notebook figure of the analysis (a matplotlib Figure, no pyplot)."""
    from labspin.procedures.plots import plot_analysis
    return plot_analysis(procedure, data, result, files=files)
