"""labspin: spintronics experiments — drivers, procedures, analysis and a simulated bench.

One subpackage per concern (design.md, "Layout"): :mod:`labspin.physics` (the macrospin
core, readout, telegraph, domain wall, switching, Kapitza), :mod:`labspin.bench` (bench
config, limits, clock, opening a bench), :mod:`labspin.run` (the run life cycle, sequences),
:mod:`labspin.results` (the results files), :mod:`labspin.cli` and :mod:`labspin.gui`;
``labspin.drivers``, ``labspin.procedures`` and ``labspin.sim_backend`` are the repository's
top-level ``drivers/``, ``procedures/`` and ``sim_backend/``. SI units throughout (H in A/m
inside the core, μ0·H in tesla at user-facing boundaries).
"""
from importlib.metadata import PackageNotFoundError
from importlib.metadata import version as _version
from pathlib import Path as _Path

try:
    __version__ = _version("labspin")
except PackageNotFoundError:  # running from a source tree that is not installed
    __version__ = "0.0.0+unknown"


def _source_tree_subpackages() -> None:
    """In a checkout (this file beside the repository's drivers/, procedures/ and
    sim_backend/, as when Python is started in the repository root and finds this folder
    before the installed package), let ``labspin.drivers`` & co. resolve to those folders, as
    the installed package maps them (pyproject's ``package-dir``). An installed labspin has
    them inside itself and is left as it is."""
    here = _Path(__file__).resolve().parent
    root = here.parent
    if (here / "drivers").exists() or not (root / "pyproject.toml").exists():
        return
    if all((root / name / "__init__.py").exists()
           for name in ("drivers", "procedures", "sim_backend")):
        __path__.append(str(root))  # noqa: F821 — the package's own __path__


_source_tree_subpackages()
