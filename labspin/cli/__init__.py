"""The ``labspin`` command line (thin: it calls :mod:`labspin.run` and the analyses)."""
from labspin.cli.main import main

__all__ = ["main"]
