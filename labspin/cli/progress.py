"""The terminal progress bar of ``labspin run`` and ``labspin sequence``."""
from __future__ import annotations

import sys


def progress_printer(clock: str = "bench clock"):
    """Get a progress callback ``show(percent, elapsed_s)`` that draws a bar with the time
    remaining on stderr (``clock`` names the clock elapsed_s is read from), or None when
    stderr is not a terminal."""
    if not sys.stderr.isatty():
        return None
    start = [None]

    def show(percent: float, elapsed: float) -> None:
        start[0] = start[0] or elapsed
        eta = elapsed * (100.0 / percent - 1.0) if percent > 0 else float("nan")
        bar = "#" * int(percent / 4)
        print(f"\r[{bar:25s}] {percent:5.1f} %  remaining ≈ {eta:6.0f} s ({clock})",
              end="", file=sys.stderr, flush=True)
    return show
