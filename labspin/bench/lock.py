"""One owner per bench (design.md, "Safety contract"; issue 13 items 4–5).

A run takes one lock file per instrument resource of its bench (so two bench configs that
share one instrument exclude each other) in the lock folder (``$LABSPIN_LOCK_DIR``, default
``~/.local/state/labspin/locks``). Each lock names its holder (procedure, pid, host, start
time) and points at the run's journal of live sources (:mod:`labspin.bench.journal`), kept
beside it. A second run is refused naming the holder; a lock whose process is dead is an
*unclean end* (SIGKILL, a crash, a power cut): it is reported with the sources the journal
says may be live, never silently taken over — ``labspin bench safe BENCH`` takes it over,
ramps every source to its safe state and removes it.

Locks are local to one machine: a holder on another host cannot be checked and counts as
alive.
"""
from __future__ import annotations

import hashlib
import json
import os
import socket
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path


def lock_dir() -> Path:
    """Get the folder that holds the bench locks and journals (made if missing)."""
    env = os.environ.get("LABSPIN_LOCK_DIR")
    d = Path(env) if env else Path.home() / ".local" / "state" / "labspin" / "locks"
    d.mkdir(parents=True, exist_ok=True)
    return d


def _lock_path(resource: str) -> Path:
    key = hashlib.sha256(resource.strip().upper().encode()).hexdigest()[:16]
    return lock_dir() / f"{key}.lock"


def process_identity(pid: int) -> str:
    """Get what tells process ``pid`` apart from a later one given the same number: the
    boot's id and the process's start time in clock ticks since boot (Linux), or '' where
    /proc does not say (then only the pid is compared)."""
    try:
        boot = Path("/proc/sys/kernel/random/boot_id").read_text().strip()
        stat = Path(f"/proc/{pid}/stat").read_text()
        return f"{boot}:{stat.rsplit(')', 1)[1].split()[19]}"
    except (OSError, IndexError):
        return ""


@dataclass
class Holder:
    """Who holds a lock: the procedure, its process and host, its start time (ISO 8601),
    the bench's name, the resource locked, the journal of its live sources and the
    process's identity (:func:`process_identity`)."""
    procedure: str
    pid: int
    host: str
    started: str
    bench: str
    resource: str
    journal: str
    identity: str = ""

    def alive(self) -> bool:
        """Get whether the holder's process still runs (a holder on another host: True).
        A pid reused since — after a reboot (a power cut), or by a later process — is not
        the holder."""
        if self.host != socket.gethostname():
            return True
        try:
            os.kill(self.pid, 0)
        except ProcessLookupError:
            return False
        except PermissionError:
            pass
        return not self.identity or process_identity(self.pid) in ("", self.identity)

    def describe(self) -> str:
        return (f"{self.procedure!r} (pid {self.pid} on {self.host}, started {self.started}, "
                f"bench {self.bench!r})")


class BenchLockError(RuntimeError):
    """A bench cannot be taken: it is held, or a dead run left it (nothing was touched)."""

    def __init__(self, message: str, holder: Holder):
        self.holder = holder
        super().__init__(message)


class BenchBusy(BenchLockError):
    """Another live run holds the bench."""


class UncleanEnd(BenchLockError):
    """A run that held the bench died without bringing its sources to a safe state."""

    def __init__(self, message: str, holder: Holder, sources: list[dict]):
        self.sources = sources
        super().__init__(message, holder)


def read_holder(path: Path) -> Holder | None:
    """Get the holder written in lock file ``path`` (None if it is gone or unreadable)."""
    try:
        return Holder(**json.loads(path.read_text(encoding="utf-8")))
    except (OSError, ValueError, TypeError):
        return None


def holders(resources) -> list[tuple[Path, Holder]]:
    """Get the lock files and holders of those ``resources`` that are locked."""
    out = []
    for res in resources:
        path = _lock_path(res)
        holder = read_holder(path)
        if holder is not None:
            out.append((path, holder))
    return out


def unclean_message(holder: Holder, sources: list[dict], bench_file: str = "BENCH") -> str:
    """Get the report of an unclean end: who died and which sources may still be live."""
    from labspin.bench.journal import describe_sources
    return (f"bench {holder.bench!r} ended uncleanly: the run {holder.describe()} is no "
            f"longer running and did not bring its sources to a safe state; "
            f"{describe_sources(sources)}; run `labspin bench safe {bench_file}` to ramp "
            "every source to its safe state")


class BenchLock:
    """The locks of one run on the resources of a bench, with its journal beside them."""

    def __init__(self, resources, procedure: str, bench: str):
        self.resources = sorted({r.strip() for r in resources})
        stamp = datetime.now().isoformat(timespec="seconds")
        self.journal_path = lock_dir() / f"{socket.gethostname()}-{os.getpid()}-" \
            f"{stamp.replace(':', '')}.journal.json"
        self.holder = dict(procedure=procedure, pid=os.getpid(), host=socket.gethostname(),
                           started=stamp, bench=bench, journal=str(self.journal_path),
                           identity=process_identity(os.getpid()))
        self._held: list[Path] = []

    def acquire(self, bench_file: str = "BENCH", take_over_dead: bool = False) -> "BenchLock":
        """Take every resource's lock; raise BenchBusy naming a live holder, or UncleanEnd
        naming a dead one and its possibly live sources (unless ``take_over_dead``: then the
        dead holder's lock is replaced). Nothing is held when it raises."""
        from labspin.bench.journal import read_sources
        try:
            for res in self.resources:
                path = _lock_path(res)
                tmp = path.with_suffix(f".{os.getpid()}.tmp")
                tmp.write_text(json.dumps({**self.holder, "resource": res}), encoding="utf-8")
                try:
                    while True:
                        try:
                            os.link(tmp, path)          # atomic: fails if the lock exists
                            break
                        except FileExistsError:
                            holder = read_holder(path)
                            if holder is None:          # being written or removed: retry
                                continue
                            if holder.alive():
                                raise BenchBusy(
                                    f"bench {self.holder['bench']!r}: {res} is in use by the "
                                    f"run {holder.describe()}; a second run is refused",
                                    holder) from None
                            if not take_over_dead:
                                sources = read_sources(holder.journal)
                                raise UncleanEnd(unclean_message(holder, sources, bench_file),
                                                 holder, sources) from None
                            path.unlink(missing_ok=True)
                finally:
                    tmp.unlink(missing_ok=True)
                self._held.append(path)
        except BaseException:
            self.release()
            raise
        return self

    def release(self) -> None:
        """Remove this run's locks and its journal (a clean end)."""
        for path in self._held:
            holder = read_holder(path)
            if holder is not None and holder.pid == os.getpid():
                path.unlink(missing_ok=True)
        self._held.clear()
        self.journal_path.unlink(missing_ok=True)

    def __enter__(self) -> "BenchLock":
        return self.acquire()

    def __exit__(self, *exc) -> None:
        self.release()


def lock_for(bench, procedure: str) -> BenchLock | None:
    """Get the (unacquired) lock of a Bench's instrument resources for a run of
    ``procedure``; None for a simulated bench built in this process (its instruments live
    and die with it: nothing outlives the process to own)."""
    if bench.virtual is not None:
        return None
    return BenchLock([c.resource for c in bench.config.instruments.values()], procedure,
                     bench.config.name)
