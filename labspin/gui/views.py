"""The views of a procedure's window: its registry entry's, or a default for a procedure
without any (:mod:`labspin.procedures.registry`; :class:`View` is plain data, no Qt)."""
from __future__ import annotations

from labspin.procedures.registry import REGISTRY
from labspin.procedures.views import View


def views_for(name: str, data_columns: list[str]) -> tuple[View, ...]:
    """Get the views of procedure ``name``: its registry entry's, or (for a procedure without
    any) its first data column against each of the next two."""
    entry = REGISTRY.get(name)
    if entry is not None and entry.views:
        return entry.views
    x = data_columns[0]
    return tuple(View(f"{y} vs {x}", x, y) for y in data_columns[1:3])
