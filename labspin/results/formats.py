"""Recognising the layout of a results file and splitting it into preamble, column names and
data cells (strings): labspin and pymeasure files, delimited column files of any lab, and
LabVIEW measurement files (``.lvm``).

Formats (``labspin analyze --format``):

- ``labspin`` / ``pymeasure``: pymeasure's Results format, ``#Procedure:``/``#Parameters:``/
  ``#Metadata:`` lines, then a header row and comma-separated data (``labspin`` when the
  procedure is one of labspin's).
- ``columns``: any delimited table (tab, ``;``, ``,`` or blanks; decimal commas in ``;``,
  tab- or blank-separated files). Leading lines before the table — ``#`` lines, ``key: value``
  lines, free text — are the preamble; the table starts at the first run of rows with a number
  and the table's field count. The non-numeric rows just above it are the header: the
  column names, then optionally a row of units (``V``, ``(Oe)``, ``[deg]``: appended as
  "Name (unit)") and description rows (kept apart). A headerless table takes its names from
  ``--names``, else from a ``#`` line just above it with as many fields (``#  current (A)
  field (T)``), else "column 1", "column 2", ….
- ``lvm``: LabVIEW measurement files — the official kind (``LabVIEW Measurement``,
  ``***End_of_Header***`` blocks of tab-separated ``key<TAB>value`` lines, the channel-names
  row after the last block, ``Decimal_Separator``) and the simple kind some VIs write: header
  lines up to the first blank line (``Frequency(GHz):1.000000E+1``), then the table with or
  without a names row.

``auto`` picks ``labspin``/``pymeasure`` for a ``#Procedure:`` line, ``lvm`` for a ``.lvm``
name, a ``LabVIEW Measurement`` line, an ``***End_of_Header***`` marker or a block of
``key: value`` lines ended by a blank line, else ``columns``.
"""
from __future__ import annotations

import csv
import re
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

FORMATS = ("auto", "labspin", "pymeasure", "columns", "lvm")

_DECIMAL_COMMA = re.compile(r"^[+-]?\d*,\d+(?:[eE][+-]?\d+)?$")
_KEY_VALUE = re.compile(r"^#?\s*([A-Za-z_][^:=\t]*?)\s*[:=]\s*(\S.*?)\s*$")
_END_OF_HEADER = "***End_of_Header***"
_RUN = 5
"""Rows in a row, each with a number and the table's field count, that start the table."""


@dataclass
class RawTable:
    """A file split into its parts; cells are stripped strings ("" where empty)."""
    names: list[str]
    rows: list[list[str]]
    lines: list[int]                      # 1-based line number of each row in the file
    format: str
    preamble: list[str] = field(default_factory=list)
    constants: dict[str, str] = field(default_factory=dict)   # key: value lines, as text
    descriptions: dict[str, str] = field(default_factory=dict)
    headerless: bool = False
    decimal_comma: bool = False


def is_number(cell: str) -> bool:
    """Whether the cell reads as a float (nan and inf included)."""
    try:
        float(cell)
    except ValueError:
        return False
    return True


def numeric(values, column: str, lines=None, path=None) -> np.ndarray:
    """Get a column's cells as floats (empty cells → NaN); ValueError naming the column, the
    row and the file's line of the first cell that is text."""
    s = pd.Series(values)
    if pd.api.types.is_numeric_dtype(s):
        return s.to_numpy(float)
    out = pd.to_numeric(s.replace("", np.nan), errors="coerce").to_numpy(float)
    bad = np.flatnonzero(np.isnan(out) & s.notna().to_numpy()
                         & (s.astype(str).str.strip() != "").to_numpy()
                         & ~s.astype(str).str.strip().str.lower().isin(["nan"]).to_numpy())
    if bad.size:
        k = int(bad[0])
        where = f", line {lines[k]}" if lines is not None and k < len(lines) else ""
        name = f" of {Path(path).name}" if path else ""
        raise ValueError(f"column {column!r}{name}: row {k + 1}{where} is {s.iloc[k]!r}, "
                         f"not a number ({bad.size} such cells)")
    return out


def read_text(path: str | Path) -> str:
    """Get a file's text: UTF-8 (a BOM dropped), else Latin-1 (LabVIEW on Windows)."""
    data = Path(path).read_bytes()
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return data.decode("latin-1")


def detect_format(path: str | Path, lines: list[str]) -> str:
    """Get the format of a file from its name and lines (see the module docstring)."""
    head = [s for s in lines[:200] if s.strip()]
    if head and head[0].startswith("#Procedure"):
        return "labspin" if "labspin" in head[0] else "pymeasure"
    if Path(path).suffix.lower() == ".lvm" or (head and head[0].startswith("LabVIEW")) \
            or any(s.startswith(_END_OF_HEADER) for s in head):
        return "lvm"
    if _simple_lvm_header(lines) is not None:
        return "lvm"
    return "columns"


def _simple_lvm_header(lines: list[str]) -> int | None:
    """Get the index of the blank line that ends a LabVIEW-style block of header lines with
    at least one ``key: value`` line and no table row, or None."""
    for k, line in enumerate(lines[:100]):
        if not line.strip():
            block = lines[:k]
            if block and any(_KEY_VALUE.match(s) and not s.startswith("#") for s in block) \
                    and not any(_numeric_count(_split(s, None)) > 1 for s in block):
                return k
            return None
    return None


def _split(line: str, sep: str | None) -> list[str]:
    if sep is None:
        return line.split()
    return [c.strip() for c in next(csv.reader([line], delimiter=sep))]


def _numeric_count(cells: list[str]) -> int:
    return sum(1 for c in cells if c and (is_number(c) or _DECIMAL_COMMA.match(c)))


def detect_separator(lines: list[str]) -> str | None:
    """Get the separator of table lines: tab, ';' or ',' when every line has it the same
    number of times (ignoring trailing empty cells); None for runs of blanks."""
    sample = [s for s in lines if s.strip()][-200:]
    for sep in ("\t", ";", ","):
        counts = {s.count(sep) for s in sample}
        if sample and 0 not in counts and len(counts) == 1:
            return sep
    for sep in ("\t", ";", ","):                       # ragged tables: most lines have it
        if sample and sum(sep in s for s in sample) >= 0.9 * len(sample):
            return sep
    return None


def _key_values(lines: list[str], sep: str | None = None) -> dict[str, str]:
    """Get the ``key: value``, ``key:value``, ``key=value`` (and LVM ``key<TAB>value``)
    lines of a preamble."""
    out: dict[str, str] = {}
    for line in lines:
        m = _KEY_VALUE.match(line)
        if m:
            out[m.group(1).strip()] = m.group(2)
        elif sep == "\t" and line.count("\t") >= 1:
            key, _, value = line.partition("\t")
            if key.strip() and value.strip() and not is_number(key.strip()):
                out[key.strip()] = value.strip().split("\t")[0]
    return out


def _is_unit_row(cells: list[str]) -> bool:
    from labspin.results.units import lookup
    filled = [c.strip("()[] ") for c in cells if c.strip("()[] ")]
    if not filled:
        return False
    for c in filled:
        try:
            lookup(c)
        except KeyError:
            return False
    return True


def split_table(path: str | Path, fmt: str = "auto", skip_rows: int = 0,
                names: list[str] | None = None) -> RawTable:
    """Split the file at ``path`` into a :class:`RawTable` (format ``fmt``, the first
    ``skip_rows`` lines dropped, ``names`` for a headerless table). ValueError naming the
    file when the format does not fit or the file has no table."""
    if fmt not in FORMATS:
        raise ValueError(f"--format {fmt!r}: expected one of {', '.join(FORMATS)}")
    if skip_rows < 0:
        raise ValueError(f"--skip-rows {skip_rows}: must be ≥ 0")
    lines = read_text(path).splitlines()[skip_rows:]
    found = detect_format(path, lines)
    if fmt == "auto":
        fmt = found
    elif fmt in ("labspin", "pymeasure") and found not in ("labspin", "pymeasure"):
        raise ValueError(f"--format {fmt}: {Path(path).name} has no '#Procedure:' line "
                         f"(it looks like --format {found})")
    start, preamble, constants, decimal = 0, [], {}, False
    if fmt == "lvm":
        ends = [k for k, s in enumerate(lines) if s.startswith(_END_OF_HEADER)]
        if ends:
            start = ends[-1] + 1
            constants = _key_values(lines[:start], "\t")
            decimal = constants.get("Decimal_Separator", ".") == ","
        else:
            blank = _simple_lvm_header(lines)
            start = blank + 1 if blank is not None else 0
            constants = _key_values(lines[:start])
        preamble = [s for s in lines[:start] if s.strip()]
    table = _table(lines, start, names, decimal)
    table.format = fmt
    table.preamble = preamble + table.preamble
    table.constants = {**constants, **table.constants}
    for k, _ in enumerate(table.lines):
        table.lines[k] += skip_rows
    return table


def _table(lines: list[str], start: int, names: list[str] | None,
           decimal: bool) -> RawTable:
    """Find the table in ``lines[start:]``: its separator, first data row, header rows."""
    body = [(k, s) for k, s in enumerate(lines) if k >= start and s.strip()
            and not s.startswith("#")]
    sep = detect_separator([s for _, s in body[len(body) // 2:]] or [s for _, s in body])
    if sep is None:
        cells = [s.split() for _, s in body]
    else:
        cells = [[c.strip() for c in row]
                 for row in csv.reader([s for _, s in body], delimiter=sep)]
    split = [(k, c) for (k, _), c in zip(body, cells)]
    width = Counter(len(c) for _, c in split[len(split) // 2:]).most_common(1)
    width = width[0][0] if width else 0
    first = None
    for i in range(len(split)):
        run = split[i:i + _RUN]
        if all(len(c) == width and _numeric_count(c) for _, c in run):
            first = i
            break
    if first is None:
        return RawTable(names=list(names or []), rows=[], lines=[], format="",
                        preamble=[s for s in lines[start:] if s.strip()],
                        constants=_key_values(lines[start:]))
    header_rows = []
    i = first - 1
    while i >= 0 and len(split[i][1]) == width and not _numeric_count(split[i][1]) \
            and len(header_rows) < 3:
        header_rows.insert(0, split[i])
        i -= 1
    data_start_line = split[first][0]
    above = lines[start:header_rows[0][0] if header_rows else data_start_line]
    table = RawTable(names=[], rows=[c for _, c in split[first:]],
                     lines=[k + 1 for k, _ in split[first:]], format="",
                     preamble=[s for s in above if s.strip()], constants=_key_values(above))
    rows = table.rows
    if not decimal and sep != ",":
        decimal = any(_DECIMAL_COMMA.match(c) for row in rows[:50] for c in row)
    if decimal:
        table.rows = rows = [[c.replace(",", ".") for c in row] for row in rows]
    table.decimal_comma = decimal
    if header_rows:
        table.names = list(header_rows[0][1])
        for _, cells in header_rows[1:]:
            if _is_unit_row(cells):
                table.names = [f"{n} ({u.strip('()[] ')})" if u.strip("()[] ") else n
                               for n, u in zip(table.names, cells)]
            else:
                table.descriptions.update({n: d for n, d in zip(table.names, cells) if d})
    else:
        table.headerless = True
        table.names = _headerless_names(lines, start, data_start_line, sep, width)
    if names:
        empty = [j for j in range(width) if not table.names[j]
                 and not any(len(r) > j and r[j] for r in table.rows)]
        if len(names) == width - len(empty) and empty:   # a leading tab on every line
            names = iter(names)
            names = ["" if j in empty else next(names) for j in range(width)]
        if len(names) != width:
            raise ValueError(f"--names: {len(names)} names for {width - len(empty)} "
                             f"columns")
        table.names = list(names)
    return table


def _headerless_names(lines, start, data_line, sep, width) -> list[str]:
    """Names of a headerless table: the line just above the data — a '#' line, or the last
    line of a LabVIEW header block — when it has ``width`` fields and no number (split by the
    separator, or by runs of two or more blanks), else empty."""
    for k in range(data_line - 1, -1, -1):
        s = lines[k]
        if not s.strip():
            continue
        if s.startswith("#"):
            text = s.lstrip("#").strip()
        elif k < start and ":" not in s and _END_OF_HEADER not in s:
            text = s.strip()
        else:
            break
        cells = _split(text, sep) if sep else re.split(r"\s{2,}", text)
        if len(cells) == width and not _numeric_count(cells):
            return [c.strip() for c in cells]
        break
    return [""] * width
