"""Connecting to the instruments of a bench config."""
from __future__ import annotations

from .bench_config import BenchConfig, InstrumentConfig
from .drivers.registry import driver_class


def open_instrument(cfg: InstrumentConfig, **extra):
    """Open one instrument with its driver; raw sockets get '\\n' terminations by default.

    Raises the driver's or VISA's exception; callers name the instrument in their message.
    """
    kwargs = dict(cfg.options)
    kwargs.setdefault("timeout", cfg.timeout_ms)
    if cfg.resource.upper().endswith("::SOCKET"):
        kwargs.setdefault("read_termination", "\n")
        kwargs.setdefault("write_termination", "\n")
    if cfg.visa_library:
        kwargs["visa_library"] = cfg.visa_library
    kwargs.update(extra)
    return driver_class(cfg.driver)(cfg.resource, **kwargs)


def identify(bench: BenchConfig) -> dict[str, tuple[bool, str]]:
    """Query each instrument's identity: name → (ok, identity or error message)."""
    out = {}
    for name, cfg in bench.instruments.items():
        inst = None
        try:
            inst = open_instrument(cfg)
            out[name] = (True, str(inst.id).strip())
        except Exception as exc:  # noqa: BLE001 — report every instrument, whatever failed
            out[name] = (False, f"{type(exc).__name__}: {exc}".strip())
        finally:
            if inst is not None:
                try:
                    inst.adapter.close()
                except Exception:  # noqa: BLE001
                    pass
    return out
