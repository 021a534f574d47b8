"""Measurement procedures and their analysis (imported as ``labspin.procedures``).

PROCEDURES is :data:`labspin.procedures.registry.REGISTRY`: command-line name → Entry (class,
analysis, figure, GUI views, campaign configuration), the one place a procedure is registered.
"""
from __future__ import annotations

import importlib

from .registry import REGISTRY as PROCEDURES


def procedure_class(name: str):
    """Get the Procedure class of a command-line name (KeyError if unknown)."""
    return PROCEDURES[name].load("procedure")


def analysis_function(name: str):
    """Get the analysis function (DataFrame → dict of design.md keys) of a procedure."""
    return PROCEDURES[name].load("analysis")


def analysis_declarations(name: str) -> tuple[object, tuple]:
    """Get (NEEDS, OPTIONS) declared beside a procedure's analysis function: the table it
    reads (``labspin.results.needs.Needs``, None if undeclared) and its options."""
    module = importlib.import_module(
        "labspin.procedures." + PROCEDURES[name].analysis.partition(":")[0])
    return getattr(module, "NEEDS", None), tuple(getattr(module, "OPTIONS", ()))
