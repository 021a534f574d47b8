"""Results files as xarray Datasets and netCDF4/HDF5 files (``labspin export FILE… --netcdf
OUT``; optional extra ``export``: xarray and h5netcdf).

Each results file becomes one Dataset: every column a variable named without its unit
("Field (T)" → ``Field``, units in the ``units`` attribute, the column's name in
``long_name``) along a ``point`` dimension in measured order; the set-point columns
("… set (unit)") are coordinates along it. ``grid=["Field set", "Current set"]`` makes those
columns dimensions instead when every combination was measured once (a map). The header goes
to attributes: procedure, parameters (``parameter: Name``), metadata (bench hash, versions,
seed, sample), ``Sample constants`` and ``Sample parameters`` (JSON text, kept apart), the
end time and status lines, and the whole header text. Several files go into one netCDF file,
one group per file (``xarray.open_dataset(OUT, group=NAME)``).
"""
from __future__ import annotations

import json
import re
from pathlib import Path

from labspin.results.header import read_header, read_trailer
from labspin.results.reader import read_table
from labspin.results.units import split_unit


def _xarray():
    try:
        import xarray
    except ImportError:
        raise RuntimeError("labspin export --netcdf needs xarray and h5netcdf: "
                           "pip install 'labspin[export]'") from None
    return xarray


def variable_name(column: str) -> str:
    """Get a netCDF variable name of a column: "Field set (T)" → "Field_set"."""
    name = split_unit(column)[0]
    return re.sub(r"[^0-9A-Za-z_]+", "_", name).strip("_") or "column"


def to_dataset(path: str | Path, grid: list[str] | None = None):
    """Get the results file at ``path`` as an xarray Dataset (see the module docstring).
    ValueError naming the column when a ``grid`` column is missing or not a full grid."""
    xr = _xarray()
    path = Path(path)
    header = read_header(path)
    df = read_table(path, add_constants=False)
    names = {c: variable_name(str(c)) for c in df.columns}
    if len(set(names.values())) != len(names):
        names = {c: f"{n}_{k}" for k, (c, n) in enumerate(names.items())}
    data_vars, coords = {}, {}
    for column, name in names.items():
        unit = split_unit(str(column))[1]
        attrs = {"long_name": str(column), **({"units": unit} if unit else {})}
        target = coords if re.search(r"\bset\b", split_unit(str(column))[0]) else data_vars
        target[name] = ("point", df[column].to_numpy(), attrs)
    ds = xr.Dataset(data_vars, coords={"point": range(len(df)), **coords})
    if grid:
        wanted = [variable_name(g) for g in grid]
        missing = [g for g, w in zip(grid, wanted) if w not in ds.variables]
        if missing:
            raise ValueError(f"--grid {', '.join(missing)}: not a column of {path.name}; "
                             f"columns: {', '.join(map(str, df.columns))}")
        keys = df[[c for c, n in names.items() if n in wanted]]
        if keys.duplicated().any():
            raise ValueError(f"--grid {', '.join(grid)}: {path.name} measured some "
                             f"combinations more than once (a loop, not a grid): keep the "
                             f"'point' dimension")
        ds = ds.set_coords(wanted).swap_dims({"point": wanted[0]}) if len(wanted) == 1 \
            else ds.set_index(point=wanted).unstack("point")
    ds.attrs.update({
        "source_file": path.name,
        "procedure": header.other.get("Procedure", ""),
        "header": header.text,
        "sample_constants": json.dumps(header.sample_constants),
        "sample_parameters": json.dumps(header.sample_parameters),
        **{f"parameter: {k}": v for k, v in header.parameters.items()},
        **{k: v for k, v in header.metadata.items()
           if k not in ("Sample constants", "Sample parameters")},
        **read_trailer(path)})
    return ds


def export_netcdf(paths: list[str | Path], out: str | Path,
                  grid: list[str] | None = None) -> list[str]:
    """Write the results files ``paths`` to the netCDF4/HDF5 file ``out`` (h5netcdf), one
    group per file named by its stem; get the group names."""
    _xarray()
    out = Path(out)
    if out.exists():
        out.unlink()
    groups = []
    for path in paths:
        ds = to_dataset(path, grid)
        group = variable_name(Path(path).stem)
        while group in groups:
            group += "_"
        ds.to_netcdf(out, mode="a" if groups else "w", group=group, engine="h5netcdf")
        groups.append(group)
    return groups
