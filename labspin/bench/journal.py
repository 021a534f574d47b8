"""The journal of a run's live sources (issue 13 item 5), kept beside its bench lock.

While a run holds a bench it rewrites, atomically, one JSON list: per sourcing instrument
its name, role, resource and the setpoint its driver last wrote per output (with the unit).
After an exit nothing cleaned up (SIGKILL, a crash, a power cut) the journal says which
sources may still be live and at what; a clean end removes it with the lock.
"""
from __future__ import annotations

import json
import logging
import os
from pathlib import Path

log = logging.getLogger(__name__)


def live_sources(bench) -> list[dict]:
    """Get the sourcing instruments of an open ``bench`` with their last written setpoints:
    ``{"name", "role", "resource", "setpoints": {output: [value or None, unit]}}``."""
    from labspin.bench.safety import is_safe_source
    out = []
    for name, inst in bench.instruments.items():
        if not is_safe_source(inst):
            continue
        cfg = bench.config.instruments[name]
        setpoints = {o: [inst.last_setpoint(o), inst.limits_of(o)[2]]
                     for o in inst.SAFE_LIMITS}
        out.append({"name": name, "role": cfg.role, "resource": cfg.resource,
                    "setpoints": setpoints})
    return out


def write_sources(path: str | Path, bench) -> None:
    """Write the journal of ``bench``'s sources to ``path`` (replaced atomically: a kill
    mid-write leaves the previous journal, never half of one)."""
    path = Path(path)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(live_sources(bench)), encoding="utf-8")
    os.replace(tmp, path)


def follow(bench, path: str | Path) -> None:
    """Write the journal of ``bench``'s sources to ``path`` now and again after every
    setpoint a sourcing driver writes (its ``setpoint_listener``), before the write."""
    from labspin.bench.safety import is_safe_source
    write_sources(path, bench)

    def rewrite() -> None:          # never let the journal stop a write or a ramp-down
        try:
            write_sources(path, bench)
        except Exception as exc:  # noqa: BLE001
            log.warning("cannot update the journal %s: %s: %s", path, type(exc).__name__, exc)
    for inst in bench.instruments.values():
        if is_safe_source(inst):
            inst.setpoint_listener = rewrite


def read_sources(path: str | Path) -> list[dict]:
    """Get the sources a journal lists ([] if it is missing or unreadable)."""
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return []
    return data if isinstance(data, list) else []


def describe_sources(sources: list[dict]) -> str:
    """Get one line naming the sources that may be live and their last setpoints."""
    if not sources:
        return "its journal lists no source (killed before any was opened): every source " \
               "of the bench may be live"
    parts = []
    for s in sources:
        written = [f"{o} {v:g} {u}" for o, (v, u) in s.get("setpoints", {}).items()
                   if v is not None]
        last = ", last set " + ", ".join(written) if written else ", nothing written yet"
        parts.append(f"{s['name']} ({s['role']} at {s['resource']}{last})")
    return "sources that may be live: " + "; ".join(parts)
