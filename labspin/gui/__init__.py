"""The GUI (``labspin gui``): a launcher listing the procedures and, per procedure, a pymeasure
dock window with its plots, queue, sequencer, bench panel and abort (PyQt6 + pyqtgraph).

:func:`main` runs it from the command line; :func:`render_to_png` draws a procedure's window
to a PNG without a display (``QT_QPA_PLATFORM=offscreen``).
"""
from __future__ import annotations

import sys

from .launcher import Launcher
from .render import application, render_to_png
from .window import GuiOptions, ProcedureWindow

__all__ = ["GuiOptions", "Launcher", "ProcedureWindow", "main", "render_to_png"]


def _check_options(options: GuiOptions, procedure: str | None) -> str | None:
    """Get a message for an option error (before any window opens), or None."""
    from labspin.procedures import PROCEDURES
    if procedure is not None and procedure not in PROCEDURES:
        return f"unknown procedure {procedure!r}; procedures: {', '.join(PROCEDURES)}"
    if options.bench:
        if options.sample or options.set:
            return ("--sample and --set describe a simulated sample; use them with the "
                    "simulated bench, not with --bench")
        from labspin.bench.config import load_bench_config
        try:
            load_bench_config(options.bench)
        except Exception as exc:  # noqa: BLE001 — the config's own message names the problem
            return f"bench config {options.bench}: {exc}"
    elif options.sample or options.set:
        from labspin.sim_backend.samples import load_sample
        try:
            load_sample(options.sample or "inplane_sot_hallbar", list(options.set))
        except Exception as exc:  # noqa: BLE001
            return f"sample: {exc}"
    return None


def main(args) -> int:
    """Run ``labspin gui [PROCEDURE] [--bench FILE] [--sample ..] [--set ..] [--out DIR]
    [--seed N]`` (``args``: the argparse Namespace); get the exit status."""
    options = GuiOptions.from_args(args)
    procedure = getattr(args, "procedure", None)
    error = _check_options(options, procedure)
    if error:
        print(f"labspin gui: {error}", file=sys.stderr)
        return 2
    app = application()
    window = ProcedureWindow(procedure, options) if procedure else Launcher(options)
    window.show()
    return int(app.exec())
