"""labspin: spintronics experiments — drivers, procedures, analysis and a simulated bench.

The physics core lives in :mod:`labspin.macrospin`; SI units throughout (H in A/m inside the
core, μ0·H in tesla at user-facing boundaries).
"""
from importlib.metadata import PackageNotFoundError
from importlib.metadata import version as _version

try:
    __version__ = _version("labspin")
except PackageNotFoundError:  # running from a source tree that is not installed
    __version__ = "0.0.0+unknown"
