"""A renamed column keeps its meaning: ``--column "Field (T)=I (A)"`` would read 1 A as 1 T,
and ``--column "Field (T)=H (Oe)"`` 1 Oe as 1 T. Both are refused unless ``--unit`` says how
to convert (or, for a magnet current, ``--field-from-current`` computes the field)."""
from __future__ import annotations

from labspin.results.units import lookup, split_unit


def refuse_unit_mismatch(columns: list[str], units: list[str]) -> None:
    """Raise ValueError for a ``NEW=OLD`` rename whose two names carry units that differ
    (in dimension or in scale) when no ``NEW=UNIT`` conversion is given. Names without a
    unit, and units this table does not know, are left to the reader."""
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
