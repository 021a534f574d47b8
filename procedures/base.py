"""What every labspin procedure adds to pymeasure's Procedure: the bench it runs on, the
metadata every results file carries, limits checked before anything is written, and a
shutdown that never raises (design.md's safety contract)."""
from __future__ import annotations

import logging

from pymeasure.experiment import Metadata, Procedure

log = logging.getLogger(__name__)


class LabspinProcedure(Procedure):
    """Base of labspin's procedures.

    Subclasses set NAME (the command-line name), DESCRIPTION (one line), WIRING and SAMPLE
    (the standard simulated bench and sample for ``--sim``), and implement ``check`` (raise
    ValueError or LimitError before any write), ``estimate`` and ``execute``. The runner sets
    ``bench`` (a :class:`labspin.bench.Bench`) before ``startup``.
    """
    NAME = ""
    DESCRIPTION = ""
    WIRING = "transport"
    SAMPLE = "inplane_sot_hallbar"
    SIM_MAGNET: dict = {}
    """Keywords of the simulated bench's VirtualMagnet for ``--sim`` (e.g. {"axis": "z"});
    empty: the sample's default (normal for perpendicular magnets, in-plane otherwise)."""

    sample_name = Metadata("Sample", default="")
    sample_parameters = Metadata("Sample parameters", default="")
    seed = Metadata("Seed", default="")
    instruments = Metadata("Instruments", default="")
    bench_config_sha256 = Metadata("Bench config sha256", default="")
    labspin_version = Metadata("labspin version", default="")
    versions = Metadata("Versions", default="")
    start_time = Metadata("Start time", default="")

    bench = None

    def sim_magnet(self) -> dict:
        """Get the VirtualMagnet keywords for ``--sim`` from this run's parameters (default:
        the class's SIM_MAGNET); e.g. a field direction parameter picks the magnet's axis."""
        return dict(self.SIM_MAGNET)

    def sim_wiring(self) -> str:
        """Get the simulated bench's wiring for ``--sim`` from this run's parameters
        (default: the class's WIRING); e.g. a lock-in readout picks a lock-in wiring."""
        return self.WIRING

    def check(self, config) -> None:
        """Raise ValueError or LimitError, naming the parameter and its allowed range, if
        this run would exceed the limits of the bench config (a
        :class:`labspin.bench_config.BenchConfig`); nothing has been opened or written yet."""

    def estimate(self) -> tuple[int, float]:
        """Get (number of points, estimated duration in s) for the summary and progress."""
        return 0, 0.0

    def sleep(self, seconds: float) -> None:
        """Wait through the bench clock (virtual on the simulated bench)."""
        self.bench.clock.sleep(seconds)

    def shutdown(self) -> None:
        """Bring every source to its safe state; log failures, never raise (a raise here
        hangs pymeasure 0.16's worker with the status still 'running')."""
        if self.bench is None:
            return
        try:
            for message in self.bench.shutdown():
                log.error(message)
        except BaseException as exc:  # noqa: BLE001
            log.error("shutdown failed: %s", exc)
