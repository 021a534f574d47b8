"""Reading results files of any origin onto a procedure's column names ("Name (unit)", SI).

``labspin analyze PROCEDURE FILE --column "Field (T)=H" --unit "Field (T)=Oe"`` reads a
labspin or pymeasure file, any lab's delimited table or a LabVIEW ``.lvm`` file
(:mod:`labspin.results.formats`), renames column H to "Field (T)" and converts it from
oersted to tesla. The steps, in order: split the file (``--format``, ``--skip-rows``,
``--names``), reshape a wide table (``--reshape``, :mod:`labspin.results.wide`), rename
(``--column``), convert units (``--unit``), add the file's constants (``--constant``, header
lines, the file name; :mod:`labspin.results.constants`), scale (``--scale``). A cell that
is not a number in a column that is converted, scaled or read by the analysis (a number
column with text among its cells) is an error naming the column, the row and the file's
line — never a silent NaN.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from labspin.results.constants import apply_constants, apply_scales, quantity_of
from labspin.results.formats import RawTable, numeric, split_table
from labspin.results.header import parse_header
from labspin.results.units import factor, lookup, split_unit
from labspin.results.wide import reshape as reshape_table


class EmptyFileError(ValueError):
    """A file with no data rows (empty, or a header only)."""


def for_file(items: list[str] | None, path, files: list[str] | None) -> list[str]:
    """Get the items of a repeatable option that apply to the file ``path``: those without a
    ``FILE:`` prefix, and those whose FILE (one of ``files``, as given or by name) is this
    file, without the prefix."""
    here, out = {str(path), Path(path).name}, []
    known = {str(f) for f in files or []} | {Path(f).name for f in files or []}
    for item in items or []:
        head, colon, rest = item.partition(":")
        if colon and head in known:
            if head in here:
                out.append(rest)
        else:
            out.append(item)
    return out


def _frame(raw: RawTable) -> pd.DataFrame:
    """Get the table as a DataFrame: columns whose cells are all numbers (or empty) as
    floats, the others as text."""
    width = len(raw.names)
    rows = [r + [""] * (width - len(r)) if len(r) < width else r[:width] for r in raw.rows]
    table = pd.DataFrame(rows, columns=range(width), dtype=object)
    data, seen = {}, {}
    for j, name in enumerate(raw.names):
        if not name:
            if (table[j] == "").all():
                continue                  # a separator leading every line
            name = f"column {len(data) + 1}"
        seen[name] = seen.get(name, -1) + 1
        name = f"{name}.{seen[name]}" if seen[name] else name   # as pandas does
        cells = table[j]
        values = pd.to_numeric(cells.replace("", np.nan), errors="coerce")
        text = values.isna() & (cells != "") & (cells.str.lower() != "nan")
        data[name] = cells if text.any() else values.astype(float)
    return pd.DataFrame(data)


def refuse_unit_mismatch(columns: list[str], units: list[str]) -> None:
    """Raise ValueError for a ``NEW=OLD`` rename whose two names carry units that differ
    (in dimension or in scale) when no ``NEW=UNIT`` conversion is given: a renamed column
    keeps its meaning (``--column "Field (T)=I (A)"`` would read 1 A as 1 T, ``--column
    "Field (T)=H (Oe)"`` 1 Oe as 1 T). Names without a unit, and units the unit table does
    not know, are left to the reader."""
    converted = {u.partition("=")[0] for u in units or []}
    for item in columns or []:
        new, sep, old = item.partition("=")
        if not sep or new in converted:
            continue
        new_unit, old_unit = split_unit(new)[1], split_unit(old)[1]
        if not new_unit or not old_unit:
            continue
        try:
            (a, ka), (b, kb) = lookup(new_unit), lookup(old_unit)
        except KeyError:
            continue
        if a.dimension != b.dimension:
            hint = (" or, for a magnet current, --field-from-current"
                    if a.dimension.startswith("magnetic field") and b.dimension == "current"
                    else "")
            raise ValueError(f"--column {item!r}: {old!r} is a {b.dimension} ({old_unit}), "
                             f"{new!r} a {a.dimension} ({new_unit}); map a column of the "
                             f"same kind, or convert with --unit \"{new}=UNIT\"{hint}")
        if abs(ka - kb) > 1e-12 * max(abs(ka), abs(kb)):
            raise ValueError(f"--column {item!r}: {old!r} is in {old_unit}, {new!r} in "
                             f"{new_unit}; add --unit \"{new}={old_unit}\" to convert it")


def read_table(path: str | Path, columns: list[str] | None = None,
               units: list[str] | None = None, *, format: str = "auto", skip_rows: int = 0,
               names: list[str] | str | None = None, constants: list[str] | None = None,
               scales: list[str] | None = None, reshape: str | None = None,
               targets: list[str] | None = None, files: list[str] | None = None,
               add_constants: bool = True) -> pd.DataFrame:
    """Read a results file of any origin (see the module docstring).

    columns: NEW=OLD renames; units: COLUMN=UNIT conversions (onto the column's own unit,
    SI when it names none); names: the column names of a headerless table ("A (V),B (Oe)"
    or a list); constants: ``[FILE:]NAME=VALUE`` (:func:`constants.apply_constants`);
    scales: ``COLUMN=FACTOR``, ``COLUMN=rms`` or ``COLUMN=peak``; reshape: a wide layout
    (:func:`wide.reshape`); targets: the analysis's column names, onto which constants and
    columns named with another unit of the same quantity ("Field (Oe)" → "Field (T)") are
    converted; files: all files of the batch (for ``FILE:`` constants); add_constants=False:
    the table as written (no constant columns, given or from the header or the file name).

    ``df.attrs``: "header" (the leading '#' lines), "sample_constants" (labspin's header
    JSON; the simulator's "Sample parameters" are not attached: analyses never read them,
    :func:`labspin.results.header.read_header` gives them for comparison), "constants" (the
    file's key: value lines and
    what the file name says), "descriptions", "format", "file" (its name). EmptyFileError
    for a file without data rows; ValueError naming the option, column or unit that does not fit.
    """
    files = files or [str(path)]
    columns, units, scales = (for_file(x, path, files) for x in (columns, units, scales))
    refuse_unit_mismatch(columns, units)          # before the file is read
    if isinstance(names, str):
        names = [n.strip() for n in names.split(",")]
    raw = split_table(path, format, skip_rows,
                      names if names and not reshape else None)
    if not raw.rows:
        what = "is empty" if not raw.names and not raw.preamble else "has a header but no " \
            "data rows"
        raise EmptyFileError(f"{Path(path).name} {what}")
    df = _frame(raw)
    lines = list(raw.lines)
    if reshape:
        df, lines = reshape_table(df, reshape, names, lines, raw.names)
    header = parse_header("\n".join(s for s in raw.preamble if s.startswith("#")))
    df.attrs.update({"sample_constants": header.sample_constants, "header": header.text,
                     "constants": dict(raw.constants), "descriptions": raw.descriptions,
                     "format": raw.format, "file": Path(path).name})
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
        df[col] = numeric(df[col], col, lines, path) * k
    if targets:
        df = convert_onto(df, targets, lines, path)
        for col in targets:                      # numbers with text among them: refused
            if col in df.columns and df[col].dtype == object and pd.to_numeric(
                    df[col], errors="coerce").notna().any():
                df[col] = numeric(df[col], col, lines, path)
    if add_constants:
        df = apply_constants(df, path, for_file(constants, path, files), targets or [])
    df = apply_scales(df, scales or [], lines, path)
    return df


def join_tables(frames: list[pd.DataFrame], warn=None, names=None) -> pd.DataFrame:
    """Get the tables of several files as one (attrs: the first file's, as the analyses read
    them, and ``file_rows``: [(name, number of rows), …] in order, so that the analyses
    never join a sweep across files; ``names`` default to each frame's ``attrs["file"]``).
    A constant column that only some files gave (a power in some file names, a typo
    in the others) is left out, ``warn`` told which files lack it: its blanks would split
    the other files' sweeps; ``--constant`` gives it for all."""
    added = {c for f in frames for c in f.attrs.get("constant_columns", ())}
    partial = {c: [f.attrs.get("file", "?") for f in frames if c not in f.columns]
               for c in sorted(added)}
    partial = {c: lacking for c, lacking in partial.items() if lacking}
    for column, lacking in partial.items():
        if warn is not None:
            warn(f"{column} is a constant of {len(frames) - len(lacking)} of {len(frames)} "
                 f"files only (not of {', '.join(lacking)}): left out; give it with "
                 f"--constant")
    data = pd.concat([f.drop(columns=[c for c in partial if c in f.columns]) for f in frames],
                     ignore_index=True)
    data.attrs = dict(frames[0].attrs)
    names = names or [f.attrs.get("file", "?") for f in frames]
    data.attrs["file_rows"] = [(str(name), len(f)) for name, f in zip(names, frames)]
    return data


def file_index(df: pd.DataFrame) -> np.ndarray:
    """Get each row's file number (0, 1, … in the order of ``df.attrs["file_rows"]``; all 0
    for one file, or where the counts do not add up to the table's rows)."""
    counts = [int(n) for _, n in df.attrs.get("file_rows") or []]
    if sum(counts) != len(df):
        return np.zeros(len(df), int)
    return np.repeat(np.arange(len(counts)), counts)


def convert_onto(df: pd.DataFrame, targets: list[str], lines=None, path=None) -> pd.DataFrame:
    """Add each missing target column "Name (unit)" from a column of the same name in another
    unit of the same quantity ("Field (Oe)", "Field(G)", "Frequency (GHz)"), else of the
    same quantity word ("Freq(GHz)" for "Frequency (Hz)"); others are left as they are."""
    have = {c: split_unit(str(c)) for c in df.columns}
    for target in targets:
        if target in df.columns:
            continue
        name, unit = split_unit(target)
        same = [c for c, (n, u) in have.items() if u and n.lower() == name.lower()]
        kin = [c for c, (n, u) in have.items() if u and quantity_of(n)
               and quantity_of(n) == quantity_of(name)]            # "Freq(GHz)"
        for column in same + kin:
            u = have[column][1]
            try:
                k = factor(u, unit)
            except (KeyError, ValueError):
                continue
            df[target] = numeric(df[column], str(column), lines, path) * k
            break
    return df
