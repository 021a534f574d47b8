"""What the local workers' forkserver loads once, so that a forked worker's first run does
not (:data:`labspin.run.distributed.PRELOAD` names this module last).

Imports only, and pint's unit registry, which pymeasure builds lazily on first use (≈ 0.6 s
of CPU): nothing here starts a thread or runs a numba kernel, since a process forked after
GNU OpenMP started its threads cannot use them.
"""
from pymeasure.units import ureg

import labspin.bench.session  # noqa: F401 — imported for the forked workers
import labspin.procedures.base  # noqa: F401
import labspin.run.runner  # noqa: F401
from labspin.sim_backend.wirings import twin_classes

twin_classes()                      # imports every simulated instrument's module
ureg.Quantity(1.0, "V")             # parses pint's unit definitions
