"""Measurement procedures and their analysis (imported as ``labspin.procedures``).

PROCEDURES is :data:`labspin.procedures.registry.REGISTRY`: command-line name → Entry (class,
analysis, figure, GUI views, campaign configuration), the one place a procedure is registered.
"""
from __future__ import annotations

import importlib

from .registry import ANALYSES
from .registry import REGISTRY as PROCEDURES


def procedure_class(name: str):
    """Get the Procedure class of a command-line name (KeyError if unknown)."""
    return PROCEDURES[name].load("procedure")


def analysis_function(name: str):
    """Get the analysis function (DataFrame → dict of design.md keys) of a procedure."""
    module, _, function = _analysis_ref(name).partition(":")
    return getattr(importlib.import_module(f"labspin.procedures.{module}"), function)


def analysis_declarations(name: str) -> tuple[object, tuple]:
    """Get (NEEDS, OPTIONS) declared beside a procedure's analysis function: the table it
    reads (``labspin.results.needs.Needs``, None if undeclared) and its options."""
    module = importlib.import_module("labspin.procedures." + _analysis_ref(name).partition(":")[0])
    return getattr(module, "NEEDS", None), tuple(getattr(module, "OPTIONS", ()))


def _analysis_ref(name: str) -> str:
    """Get "module:function" of the analysis ``labspin analyze NAME`` runs (KeyError if none)."""
    return ANALYSES[name] if name in ANALYSES else PROCEDURES[name].analysis
