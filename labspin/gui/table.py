"""Reading a growing results file incrementally: only the lines added since the last read are
parsed and appended to column buffers (amortised doubling), so a plot update costs the new
points, not the whole file (pymeasure's Results.data re-concatenates the whole frame)."""
from __future__ import annotations

import io
import os

import numpy as np
import pandas as pd

from labspin.results.header import read_header


class _Column:
    """A growing column: floats (text as NaN) and, once text was seen, the raw values."""

    def __init__(self):
        self.num = np.empty(1024)
        self.raw: np.ndarray | None = None

    def append(self, values: pd.Series, start: int) -> None:
        n = start + len(values)
        if n > self.num.size:
            size = max(n, 2 * self.num.size)
            self.num = np.resize(self.num, size)
            if self.raw is not None:
                self.raw = np.resize(self.raw, size)
        self.num[start:n] = pd.to_numeric(values, errors="coerce").to_numpy(float)
        if self.raw is None and values.dtype == object:
            self.raw = np.empty(self.num.size, object)
            self.raw[:start] = self.num[:start]
        if self.raw is not None:
            self.raw[start:n] = values.to_numpy(object)


class LiveTable:
    """The data of a results file (pymeasure format) read as it grows.

    ``update()`` reads the complete lines added since the last call (comment lines such as
    the trailing ``#Status`` are skipped); ``column(name)`` gets floats, ``values(name)`` the
    raw values (text where the column has text). Reading starts once the first data line is
    there, i.e. after the worker has inserted the metadata into the header.
    """

    def __init__(self, path: str, columns: list[str]):
        self.path, self.columns = path, list(columns)
        self.rows = 0
        self._offset: int | None = None     # byte offset of the first unread data line
        self._cols = {c: _Column() for c in self.columns}

    def __len__(self) -> int:
        return self.rows

    def update(self) -> int:
        """Read the new complete lines; get how many rows were added."""
        try:
            size = os.path.getsize(self.path)
        except OSError:
            return 0
        if self._offset is None:
            self._offset = self._data_start()
            if self._offset is None:
                return 0
        if size <= self._offset:
            return 0
        with open(self.path, "rb") as f:
            f.seek(self._offset)
            chunk = f.read(size - self._offset)
        end = chunk.rfind(b"\n")
        if end < 0:
            return 0
        self._offset += end + 1
        lines = [ln for ln in chunk[:end].decode("utf-8").split("\n")
                 if ln.strip() and not ln.startswith("#")]
        if not lines:
            return 0
        df = pd.read_csv(io.StringIO("\n".join(lines)), header=None, names=self.columns,
                         dtype=str, keep_default_na=False)
        for c in self.columns:
            series = df[c]
            numeric = pd.to_numeric(series, errors="coerce")
            text = numeric.isna() & (series != "") & (series.str.lower() != "nan")
            self._cols[c].append(series.astype(object) if text.any() else numeric, self.rows)
        self.rows += len(df)
        return len(df)

    def _data_start(self) -> int | None:
        """Get the offset after the column-name line (the line after the '#' header,
        :func:`labspin.results.header.read_header`) if a data line follows it, else None."""
        skip = len(read_header(self.path).lines) + 1
        with open(self.path, "rb") as f:
            offset = 0
            for k, line in enumerate(f):
                if k >= skip:
                    return offset if line.endswith(b"\n") else None
                offset += len(line)
        return None

    def column(self, name: str) -> np.ndarray:
        """Get a column as floats (text as NaN; an unknown column all NaN)."""
        if name not in self._cols:
            return np.full(self.rows, np.nan)
        return self._cols[name].num[:self.rows]

    def values(self, name: str) -> np.ndarray:
        """Get a column's raw values: the text where it has text, else its floats."""
        col = self._cols.get(name)
        if col is None:
            return np.full(self.rows, np.nan)
        return (col.raw if col.raw is not None else col.num)[:self.rows]


def live_table(results) -> LiveTable:
    """Get the LiveTable of a pymeasure Results (one per results object, shared by its
    plot items), updated."""
    table = getattr(results, "_labspin_table", None)
    if table is None or table.path != results.data_filename:
        table = LiveTable(results.data_filename, results.procedure.DATA_COLUMNS)
        results._labspin_table = table
    table.update()
    return table
