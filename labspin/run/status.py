"""One adapter for pymeasure's procedure statuses: pymeasure ≤ 0.16 has integer constants on
``Procedure`` (``Procedure.FINISHED`` …), pymeasure's main branch an enum
``ProcedureStatus`` in ``pymeasure.experiment.procedure``; the runner, the API, sequences and
the GUI worker take RUNNING/FINISHED/ABORTED/FAILED and status names from here only."""
from __future__ import annotations

import importlib

from pymeasure.experiment import Procedure

NAMES = ("RUNNING", "FINISHED", "ABORTED", "FAILED")


def procedure_statuses(procedure_class=Procedure, module: str = "pymeasure.experiment.procedure"):
    """Get (RUNNING, FINISHED, ABORTED, FAILED) as this pymeasure spells them: the class's
    constants if it has them, else the members of ``module``'s ``ProcedureStatus`` enum."""
    if all(hasattr(procedure_class, n) for n in NAMES):
        return tuple(getattr(procedure_class, n) for n in NAMES)
    enum = importlib.import_module(module).ProcedureStatus
    return tuple(getattr(enum, n) for n in NAMES)


RUNNING, FINISHED, ABORTED, FAILED = procedure_statuses()
STATUS_NAMES = {FINISHED: "FINISHED", ABORTED: "ABORTED", FAILED: "FAILED"}


def status_name(status) -> str:
    """Get the name written to ``#Status:`` for ``status`` (an int constant or an enum)."""
    name = getattr(status, "name", None)
    return name if isinstance(name, str) else STATUS_NAMES.get(status, str(status))
