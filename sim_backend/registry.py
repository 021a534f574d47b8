"""In-process registry of simulated instruments: VISA resource name -> SimInstrument.

The ``@labspin`` pyvisa backend lists and opens what is registered here. Names are stored
in pyvisa's canonical form ("GPIB::24" -> "GPIB0::24::INSTR"), so any spelling a client
uses reaches the same instrument.
"""
from __future__ import annotations

import threading
from contextlib import contextmanager
from typing import TYPE_CHECKING, Iterator, Mapping

from pyvisa import rname

if TYPE_CHECKING:
    from .scpi import SimInstrument


def normalize(name: str) -> str:
    """Get the canonical VISA resource name; ValueError if pyvisa cannot parse it."""
    try:
        return str(rname.parse_resource_name(name))
    except rname.InvalidResourceName as err:
        raise ValueError(f"not a VISA resource name: {name!r} ({err})") from None


class Registry:
    """A thread-safe map of resource names to simulated instruments."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._items: dict[str, SimInstrument] = {}

    def register(self, name: str, instrument: SimInstrument, *, replace: bool = False) -> str:
        """Register ``instrument`` under ``name``; get the canonical name.

        ValueError when the name is taken by another instrument and ``replace`` is False.
        """
        key = normalize(name)
        with self._lock:
            current = self._items.get(key)
            if current is not None and current is not instrument and not replace:
                raise ValueError(f"{key} is already registered")
            self._items[key] = instrument
        return key

    def unregister(self, name: str) -> SimInstrument | None:
        """Remove ``name``; get the instrument it held (None if none)."""
        with self._lock:
            return self._items.pop(normalize(name), None)

    def get(self, name: str) -> SimInstrument | None:
        """Get the instrument registered under any spelling of ``name``, or None."""
        try:
            key = normalize(name)
        except ValueError:
            return None
        with self._lock:
            return self._items.get(key)

    def resources(self) -> tuple[str, ...]:
        """Get the canonical names, sorted."""
        with self._lock:
            return tuple(sorted(self._items))

    def clear(self) -> None:
        """Remove everything."""
        with self._lock:
            self._items.clear()

    @contextmanager
    def registered(self, instruments: Mapping[str, SimInstrument]) -> Iterator[dict[str, str]]:
        """Register ``instruments`` for a with-block; yields given name -> canonical name."""
        names: dict[str, str] = {}
        try:
            for name, instrument in instruments.items():
                names[name] = self.register(name, instrument)
            yield names
        finally:
            for key in names.values():
                self.unregister(key)


REGISTRY = Registry()
"""The process-wide registry the ``@labspin`` backend reads."""

register = REGISTRY.register
unregister = REGISTRY.unregister
get = REGISTRY.get
resources = REGISTRY.resources
clear = REGISTRY.clear
registered = REGISTRY.registered
