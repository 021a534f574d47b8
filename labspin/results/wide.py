"""Wide tables reshaped into one long table (``labspin analyze --reshape SPEC``).

SPEC is one of

- ``pairs[:NAME[=V1,V2,…]]`` — column pairs (x, y), one pair per block (a spin-diode export:
  field and voltage per frequency). Each pair becomes rows with its block constant NAME
  ("Frequency (GHz)"): the values given, else the number in the pair's first header
  ("2pf_1.0_GHz" → 1.0, a unit written there converted to NAME's).
- ``groups=N[:NAME[=V1,…]]`` — blocks of N columns (angle, field, voltage, phase × 12), with
  NAME as for pairs; without NAME the blocks are numbered in a ``Block`` column.
- ``trials[:NAME]`` — a first column x and one column per trial of the same quantity
  (``current,trial1,trial2,trial3``): rows (x, value) with the trial's number in NAME
  (default ``Trial``).

The long table's columns are named by ``--names`` (as many names as a block has columns:
2 for pairs and trials, N for groups), else by the first block's headers (a trial's value
column by its header without the trial number). Rows whose block cells are all empty (columns
of different lengths) are dropped.
"""
from __future__ import annotations

import re

import numpy as np
import pandas as pd

from labspin.results.units import factor, split_unit

_HEADER_NUMBER = re.compile(r"([+-]?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?)\s*_?\s*([A-Za-zµΩ°/]+)?")


def parse_spec(spec: str) -> tuple[str, int, str | None, list[float] | None]:
    """Get (kind, block width, NAME, values) of a --reshape SPEC; ValueError naming it."""
    head, _, rest = spec.partition(":")
    kind, _, n = head.strip().partition("=")
    name, eq, values = rest.partition("=")
    usage = ("expected pairs[:NAME[=V1,V2,…]], groups=N[:NAME[=V1,…]] or trials[:NAME], "
             "e.g. \"pairs:Frequency (GHz)\"")
    if kind not in ("pairs", "groups", "trials") or (kind == "groups") != bool(n):
        raise ValueError(f"--reshape {spec!r}: {usage}")
    width = 2
    if kind == "groups":
        try:
            width = int(n)
        except ValueError:
            raise ValueError(f"--reshape {spec!r}: N must be a whole number ≥ 1") from None
        if width < 1:
            raise ValueError(f"--reshape {spec!r}: N must be a whole number ≥ 1")
    given = None
    if eq:
        try:
            given = [float(v) for v in values.split(",")]
        except ValueError:
            raise ValueError(f"--reshape {spec!r}: the block values must be numbers "
                             f"separated by commas") from None
    return kind, width, name.strip() or None, given


def _block_value(header: str, name: str, block: int) -> float:
    """Get the number in a block's first header, converted to NAME's unit."""
    unit = split_unit(name)[1]
    for m in _HEADER_NUMBER.finditer(header):
        written = (m.group(2) or "").strip("_")
        try:
            return float(m.group(1)) * (factor(written, unit) if written and unit else 1.0)
        except ValueError:
            continue
    raise ValueError(f"--reshape: block {block + 1}'s header {header!r} has no number for "
                     f"{name!r}; give the values: \"…:{name}=V1,V2,…\"")


def reshape(df: pd.DataFrame, spec: str, names: list[str] | None, lines: list[int],
            headers: list[str]) -> tuple[pd.DataFrame, list[int]]:
    """Get the long table of the wide table ``df`` (``headers``: its column names as written,
    duplicates included) and the file line of each of its rows."""
    kind, width, name, given = parse_spec(spec)
    ncol = df.shape[1]
    if kind == "trials":
        if ncol < 2:
            raise ValueError(f"--reshape {spec!r}: needs a first column and trial columns, "
                             f"have {ncol} column(s)")
        blocks = [[0, j] for j in range(1, ncol)]
        name = name or "Trial"
    else:
        if ncol % width:
            raise ValueError(f"--reshape {spec!r}: {ncol} columns are not blocks of {width}")
        blocks = [list(range(j, j + width)) for j in range(0, ncol, width)]
    if given is not None and len(given) != len(blocks):
        raise ValueError(f"--reshape {spec!r}: {len(given)} values for {len(blocks)} blocks")
    cols = names or ([headers[0], re.sub(r"[\s_-]*\d+$", "", headers[1]) or headers[1]]
                     if kind == "trials" else [headers[j] for j in blocks[0]])
    if len(cols) != len(blocks[0]):
        raise ValueError(f"--names: {len(cols)} names for blocks of {len(blocks[0])} columns")
    parts, out_lines = [], []
    line_array = np.asarray(lines)
    for b, block in enumerate(blocks):
        part = pd.DataFrame({c: df.iloc[:, j].to_numpy() for c, j in zip(cols, block)})
        filled = np.zeros(len(part), bool)
        for j in (block[1:] if kind == "trials" else block):
            cells = df.iloc[:, j]
            filled |= (cells.notna() & (cells.astype(str).str.strip() != "")).to_numpy()
        part = part[filled]
        if kind == "trials":
            part[name] = b + 1
        elif name:
            part[name] = given[b] if given is not None else _block_value(headers[block[0]],
                                                                          name, b)
        else:
            part["Block"] = b + 1
        parts.append(part)
        out_lines.extend(line_array[filled].tolist())
    return pd.concat(parts, ignore_index=True), out_lines
