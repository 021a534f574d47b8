"""Driver keys of the bench config → driver classes, imported only when used.

The table holds import paths, not classes: the bench layer opens drivers without importing
them (drivers import the bench's clock and safety, not the reverse)."""
from __future__ import annotations

import importlib

DRIVERS: dict[str, str] = {
    # dc source/measure
    "keithley2400": "labspin.drivers.keithley:Keithley2400",
    "keithley2450": "labspin.drivers.keithley:Keithley2450",
    "keithley6221": "labspin.drivers.keithley:Keithley6221",
    "keithley2182a": "labspin.drivers.keithley:Keithley2182A",
    # lock-ins
    "sr830": "labspin.drivers.srs:SR830",
    "sr860": "labspin.drivers.srs:SR860",
    "sr865": "labspin.drivers.srs:SR865",
    "sr865a": "labspin.drivers.srs:SR865A",
    # rf sources
    "e8257d": "labspin.drivers.rf_sources:E8257D",
    "n5183b": "labspin.drivers.rf_sources:N5183B",
    "smb100a": "labspin.drivers.rf_sources:SMB100A",
    # spectrum analyzers
    "n9020a": "labspin.drivers.spectrum_analyzers:N9020A",
    "n9030a": "labspin.drivers.spectrum_analyzers:N9030A",
    "fsv": "labspin.drivers.spectrum_analyzers:FSV",
    # magnet supplies and gaussmeters
    "kepco_bop": "labspin.drivers.magnet_supplies:KepcoBOP",
    "danfysik8500": "labspin.drivers.magnet_supplies:Danfysik8500",
    "lakeshore425": "labspin.drivers.gaussmeters:LakeShore425",
    "lakeshore455": "labspin.drivers.gaussmeters:LakeShore455",
    "lakeshore475": "labspin.drivers.gaussmeters:LakeShore475",
    # pulse generators
    "keysight81160a": "labspin.drivers.pulse_generators:Keysight81160A",
    "keysight33500b": "labspin.drivers.pulse_generators:Keysight33500B",
    "psp10070a": "labspin.drivers.pulse_generators:Picosecond10070A",
}

ERROR_STATUS: dict[str, str] = {
    **{k: "scpi" for k in ("keithley2400", "keithley2450", "keithley6221", "keithley2182a",
                           "e8257d", "n5183b", "smb100a", "n9020a", "n9030a", "fsv",
                           "kepco_bop", "keysight81160a", "keysight33500b")},
    **{k: "ieee488" for k in ("sr830", "sr860", "sr865", "sr865a", "lakeshore425",
                              "lakeshore455", "lakeshore475", "psp10070a")},
}
"""How a model reports a rejected command: "scpi" (``*ESR?`` error bits, texts from
``SYSTem:ERRor?``), "ieee488" (``*ESR?`` error bits only); absent (Danfysik 8500): not at all."""


ELECTROMAGNET = "labspin.drivers.electromagnet:Electromagnet"
"""The composite field controller a bench with a ``[magnet]`` table builds."""


def load(ref: str):
    """Get the object an import path ``"module:name"`` names (imports its module)."""
    module, _, name = ref.partition(":")
    return getattr(importlib.import_module(module), name)


def driver_class(key: str) -> type:
    """Get the driver class of a registry key (imports its module)."""
    return load(DRIVERS[key])


def driver_roles(key: str) -> tuple[str, ...]:
    """Get the roles a driver serves (its class's ``roles``)."""
    return tuple(driver_class(key).roles)
