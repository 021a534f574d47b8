"""Registries of simulated instruments: VISA resource name -> SimInstrument, one per bench.

Each :class:`Registry` has an id of its own and the VISA library string that reaches it,
``"bench-<n>@labspin"`` (:attr:`Registry.visa_library`): every :class:`VirtualBench` owns
one, so any number of simulated benches live in one process, each under the conventional
addresses of its instruments. The ``@labspin`` backend finds a registry by its id
(:func:`lookup`) while it exists; the table holds registries weakly, so a bench nobody uses
any more is collected. Names are stored in pyvisa's canonical form ("GPIB::24" ->
"GPIB0::24::INSTR"), so any spelling a client uses reaches the same instrument.
"""
from __future__ import annotations

import itertools
import re
import threading
import weakref
from contextlib import contextmanager
from typing import TYPE_CHECKING, Iterator, Mapping

from pyvisa import rname

if TYPE_CHECKING:
    from .scpi import SimInstrument

BENCH_ID = re.compile(r"bench-\d+")
"""How a registry's id looks in a VISA library string ("bench-3@labspin")."""

_IDS = itertools.count(1)
_BY_ID: weakref.WeakValueDictionary[str, Registry] = weakref.WeakValueDictionary()
_BY_ID_LOCK = threading.Lock()


def normalize(name: str) -> str:
    """Get the canonical VISA resource name; ValueError if pyvisa cannot parse it."""
    try:
        return str(rname.parse_resource_name(name))
    except rname.InvalidResourceName as err:
        raise ValueError(f"not a VISA resource name: {name!r} ({err})") from None


class Registry:
    """A thread-safe map of resource names to simulated instruments, reachable through its
    own VISA library string."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._items: dict[str, SimInstrument] = {}
        with _BY_ID_LOCK:
            self.id = f"bench-{next(_IDS)}"
            _BY_ID[self.id] = self

    @property
    def visa_library(self) -> str:
        """The pyvisa library string that reaches these instruments ("bench-3@labspin")."""
        return f"{self.id}@labspin"

    def register(self, name: str, instrument: SimInstrument, *, replace: bool = False) -> str:
        """Register ``instrument`` under ``name``; get the canonical name.

        ValueError when the name is taken by another instrument and ``replace`` is False.
        """
        key = normalize(name)
        with self._lock:
            current = self._items.get(key)
            if current is not None and current is not instrument and not replace:
                raise ValueError(f"{key} is already registered on {self.id}")
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

    def items(self) -> list[tuple[str, SimInstrument]]:
        """Get (canonical name, instrument) pairs, sorted by name."""
        with self._lock:
            return sorted(self._items.items())

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


def lookup(bench_id: str) -> Registry | None:
    """Get the registry of ``bench_id`` ("bench-3") while it exists, else None."""
    with _BY_ID_LOCK:
        return _BY_ID.get(bench_id)
