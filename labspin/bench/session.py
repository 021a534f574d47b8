"""Connecting to the instruments of a bench config (driver classes come from the registry's
import paths: this module imports no driver itself)."""
from __future__ import annotations

from labspin.bench.config import BenchConfig, InstrumentConfig
from labspin.bench.registry import ELECTROMAGNET, ERROR_STATUS, driver_class, load
from labspin.bench.safety import LimitError, SlewLimit, is_safe_source


class InstrumentError(RuntimeError):
    """A command to an instrument failed; names the instrument, its driver and resource,
    and the command (the original exception is the __cause__)."""

    def __init__(self, name: str, cfg: InstrumentConfig, command: str | None, cause):
        self.instrument, self.command = name, command
        what = f"command {command!r}" if command else "a command"
        super().__init__(f"{name} ({cfg.driver} at {cfg.resource}): {what} failed: "
                         f"{type(cause).__name__}: {cause}")


class InstrumentReportedError(RuntimeError):
    """The instrument accepted the bytes but reported an error in its status (a rejected
    command: out of range, unknown header, settings conflict, …)."""


_ESR_ERRORS = 0b0011_1100      # query, device-dependent, execution and command error bits
_ESR_NAMES = ((5, "command error"), (4, "execution error"), (3, "device-dependent error"),
              (2, "query error"))


def _no_error(text: str) -> bool:
    code = text.split(",", 1)[0].strip()
    try:
        return int(float(code)) == 0
    except ValueError:
        return False


def _annotate_errors(name: str, cfg: InstrumentConfig, inst, dialect: str | None = None) -> None:
    """Make every failed write or read of ``inst`` raise InstrumentError naming it and the
    command (for a read: the last command written).

    ``dialect`` ("scpi", "ieee488" or None, see drivers.registry.ERROR_STATUS): after every
    command that expects no reply (unless the driver found the instrument silent: then
    writes go on unchecked, as a blind ramp-down needs), read the status (``*ESR?``, then
    ``SYSTem:ERRor?`` texts on SCPI models) and raise InstrumentError naming the command if
    the instrument rejected it. Entries left from before (power-on, a failed exchange) are
    read and dropped first, so they are never blamed on the next command.
    """
    last: list = [None]
    stale = [True]
    write, read = inst.write, inst.read

    def status_errors() -> list[str]:
        write("*ESR?")
        reply = read().strip()
        try:
            esr = int(float(reply))
        except ValueError:
            raise InstrumentReportedError(f"unreadable *ESR? reply {reply!r}") from None
        if not esr & _ESR_ERRORS:
            return []
        texts = []
        if dialect == "scpi":
            for _ in range(32):               # a queue holds at most a few dozen entries
                write("SYST:ERR?")
                text = read().strip()
                if _no_error(text):
                    break
                texts.append(text)
        return texts or [f"*ESR? = {esr}: " + ", ".join(n for bit, n in _ESR_NAMES
                                                        if esr & (1 << bit))]

    def annotated_write(command, *args, **kwargs):
        last[0] = command
        if dialect and stale[0]:
            try:
                status_errors()
            except Exception:  # noqa: BLE001 — the command itself will show what is wrong
                pass
            stale[0] = False
        try:
            result = write(command, *args, **kwargs)
        except LimitError:              # refused by the driver before anything was sent
            raise
        except Exception as exc:  # noqa: BLE001
            stale[0] = True
            raise InstrumentError(name, cfg, command, exc) from exc
        if dialect and "?" not in str(command) and not getattr(inst, "silent", False):
            try:            # (a silent instrument's writes go on unchecked: a blind ramp)
                errors = status_errors()
            except Exception as exc:  # noqa: BLE001
                stale[0] = True
                raise InstrumentError(name, cfg, command, exc) from exc
            if errors:
                raise InstrumentError(name, cfg, command,
                                      InstrumentReportedError("; ".join(errors)))
        return result

    def annotated_read(*args, **kwargs):
        try:
            return read(*args, **kwargs)
        except Exception as exc:  # noqa: BLE001
            stale[0] = True
            raise InstrumentError(name, cfg, last[0], exc) from exc
    inst.write, inst.read = annotated_write, annotated_read


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
    return _ask_each(bench, lambda inst: str(inst.id).strip())


OUTPUT_SWITCHES = ("source_enabled", "output_enabled")
"""The attributes by which the sourcing drivers report whether their output is on."""


def output_state(inst) -> str:
    """Get 'on' or 'off' from a sourcing driver's output switch (a query), or 'not read' if
    the driver has none."""
    for attr in OUTPUT_SWITCHES:
        if hasattr(type(inst), attr):
            return "on" if getattr(inst, attr) else "off"
    return "not read (the driver reports no output state)"


def _ask_each(bench: BenchConfig, ask, only=lambda cfg: True) -> dict[str, tuple[bool, str]]:
    """Open each instrument (of those ``only`` accepts) and get name → (ok, ask(inst) or the
    error message); every instrument is asked whatever another did."""
    out = {}
    for name, cfg in bench.instruments.items():
        if not only(cfg):
            continue
        inst = None
        try:
            inst = open_instrument(cfg)
            out[name] = (True, ask(inst))
        except Exception as exc:  # noqa: BLE001 — report every instrument, whatever failed
            out[name] = (False, f"{type(exc).__name__}: {exc}".strip())
        finally:
            if inst is not None:
                try:
                    inst.adapter.close()
                except Exception:  # noqa: BLE001
                    pass
    return out


def output_states(bench: BenchConfig) -> dict[str, tuple[bool, str]]:
    """Read each source's output state (queries only): name → (ok, 'on'/'off' or error)."""
    return _ask_each(bench, output_state, is_source)


class Bench:
    """The opened instruments of a bench config, found by role, with the bench's safety
    limits applied to each source before anything is written, and the electromagnet.

    ``clock``: the wall clock on a real bench, the virtual bench's clock on a simulated one.
    ``rotation_stage``: what turns the in-plane field angle, an object with
    ``move_to(angle_deg)``, or None where the angle is set by hand.
    ``virtual``: whatever made a simulated bench (its VirtualBench), for tests and metadata;
    nothing here depends on it.
    """

    def __init__(self, config: BenchConfig, clock=None, *, rotation_stage=None, virtual=None):
        from labspin.bench.clock import REAL_CLOCK
        self.config = config
        self.clock = clock or REAL_CLOCK
        self.rotation_stage = rotation_stage
        self.virtual = virtual
        self.instruments: dict = {}
        self.magnet = None
        self._opened: list[str] = []
        self.open_failures: list[str] = []

    def open(self, keep_going: bool = False) -> "Bench":
        """Open every instrument, apply the limits, build the electromagnet. ``keep_going``
        (``labspin bench safe``): an instrument that cannot be opened is listed in
        ``open_failures`` and the others are still opened, instead of raising."""
        Electromagnet = load(ELECTROMAGNET)
        for name, cfg in self.config.instruments.items():
            takes_clock = is_safe_source(driver_class(cfg.driver))
            try:
                inst = open_instrument(cfg, **({"clock": self.clock} if takes_clock else {}))
            except Exception as exc:  # noqa: BLE001 — name the instrument that failed
                error = RuntimeError(f"cannot open {name} ({cfg.driver} at {cfg.resource}): "
                                     f"{type(exc).__name__}: {exc}")
                if not keep_going:
                    raise error from exc
                self.open_failures.append(str(error))
                continue
            _annotate_errors(name, cfg, inst, ERROR_STATUS.get(cfg.driver))
            if is_safe_source(inst):
                self._apply_limits(inst, cfg)
            self.instruments[name] = inst
            self._opened.append(name)
        m = self.config.magnet
        if m is not None and m.supply in self.instruments:
            lim = self.config.limits
            self._narrow_supply_slew(self.instruments[m.supply], m, lim)
            self.magnet = Electromagnet(
                self.instruments[m.supply], m.calibration,
                self.instruments.get(m.gaussmeter) if m.gaussmeter else None,
                max_field_T=lim.max_field_T, max_ramp_rate_T_per_s=lim.max_field_ramp_T_per_s,
                max_step_T=m.max_step_T, tolerance_T=m.tolerance_T,
                settle_timeout_s=m.settle_timeout_s, settle_delay_s=m.settle_delay_s,
                clock=self.clock)
            self._check_magnet_reach(lim.max_field_T)
        return self

    def _check_magnet_reach(self, max_field_T: float) -> None:
        """Raise LimitError, before any output is written, if the bench's max_field_T is
        reached by no branch of the calibration, either polarity, within the table and the
        supply's current: the supply's current limit would then not come from max_field_T
        (the bench would promise a field its magnet cannot make)."""
        from labspin.bench.safety import LimitError
        cal, i = self.magnet.calibration, self.magnet.current_limit_A
        made = max(abs(cal.field(s * i, b)) for b in ("up", "down") for s in (1, -1))
        if made < max_field_T * (1 - 1e-9):
            raise LimitError(f"bench limit max_field_T = {max_field_T:g} T is beyond the "
                             f"magnet's reach: the calibration (measured to "
                             f"{cal.current_A[0]:g}…{cal.current_A[-1]:g} A) and the supply "
                             f"(±{float(self.magnet.supply.max_current):g} A) make at most "
                             f"±{made:g} T; lower max_field_T")

    def _narrow_supply_slew(self, supply, m, lim) -> None:
        """Hold the magnet supply's own ramps (its shutdown, procedures that drive it
        directly) to the configured field step and ramp rate as well."""
        if not is_safe_source(supply) or "current" not in supply.SAFE_LIMITS:
            return
        k = m.calibration.slope()
        own = supply.slew_of("current")
        supply.configure_safety(slew={"current": SlewLimit(
            min(own.max_step, m.max_step_T / k),
            min(own.max_rate, lim.max_field_ramp_T_per_s / k))})

    def _apply_limits(self, inst, cfg: InstrumentConfig) -> None:
        """Narrow the source's limits to the bench's (:func:`labspin.bench.limits.output_limits`:
        the sample's, the worst case of a shorted sample, the magnet's max_field_T) and its
        sample-current ramp rate."""
        from labspin.bench.limits import output_limits, sine_peak_limit
        lim = self.config.limits
        if cfg.role in ("source_meter", "current_source") and "current" in inst.SAFE_LIMITS:
            own = inst.slew_of("current")           # the configured sample-current ramp rate
            inst.configure_safety(slew={"current": SlewLimit(
                own.max_step, min(own.max_rate, lim.max_current_ramp_A_per_s))})
        limits = output_limits(self.config, cfg, inst)
        inst.configure_safety(limits={k: (v.low, v.high) for k, v in limits.items()},
                              origins={k: v.origin for k, v in limits.items()},
                              clock=self.clock)
        if cfg.role == "lock_in" and hasattr(inst, "configure_sine_peak"):
            peak = sine_peak_limit(self.config, cfg)
            inst.configure_sine_peak(min(peak.high, inst.SINE_PEAK_V), peak.origin)

    def role(self, role: str, name: str | None = None):
        """Get the instrument named ``name``, or the first that serves ``role``.

        Raises LookupError naming the role and what the bench has."""
        if name is not None:
            if name not in self.instruments:
                raise LookupError(f"the bench has no instrument {name!r}; it has "
                                  f"{', '.join(self.instruments)}")
            return self.instruments[name]
        for n, cfg in self.config.instruments.items():
            if cfg.role == role and n in self.instruments:
                return self.instruments[n]
        raise LookupError(f"the bench has no {role}; it has "
                          + ", ".join(f"{n} ({c.role})"
                                      for n, c in self.config.instruments.items()))

    def set_field_angle(self, degrees: float) -> bool:
        """Turn the field to an in-plane angle (deg from +x) with the bench's rotation stage;
        without one the angle is set by hand and only recorded. Get whether it turned."""
        if self.rotation_stage is None:
            return False
        self.rotation_stage.move_to(float(degrees))
        return True

    def identities(self) -> dict[str, str]:
        """Get each open instrument's identity (or the error reading it)."""
        out = {}
        for name, inst in self.instruments.items():
            try:
                out[name] = str(inst.id).strip()
            except Exception as exc:  # noqa: BLE001 — metadata must not stop a run
                out[name] = f"unavailable ({type(exc).__name__}: {exc})"
        return out

    def shutdown(self) -> list[str]:
        """Bring every source to its safe state, the magnet first, each attempted even if
        another fails; get one message per failure naming the instrument."""
        from labspin.bench.safety import shutdown_each

        def in_step(name: str, shutdown):         # no reply read one behind (issue 13)
            inst = self.instruments.get(name)
            return lambda: (getattr(inst, "resync", lambda: True)(), shutdown())
        actions, driver_of = {}, {}
        if self.magnet is not None:
            supply = self.config.magnet.supply
            label = f"magnet ({supply})"
            actions[label] = in_step(supply, self.magnet.shutdown)
            driver_of[label] = self.instruments.get(supply)
        skip = {self.config.magnet.supply} if self.config.magnet is not None else set()
        for name in reversed(self._opened):
            if name not in skip and is_source(self.config.instruments[name]):
                actions[name] = in_step(name, self.instruments[name].shutdown)
                driver_of[name] = self.instruments[name]
        out = []
        for label, exc in shutdown_each(actions).items():
            report = getattr(driver_of[label], "shutdown_report", None)
            out.append(f"{label}: " + (report(exc) if report is not None
                                       else f"shutdown failed: {type(exc).__name__}: {exc}"))
        return out

    def close(self) -> None:
        """Close every adapter (after shutdown)."""
        for inst in self.instruments.values():
            try:
                inst.adapter.close()
            except Exception:  # noqa: BLE001
                pass


def is_source(cfg: InstrumentConfig) -> bool:
    """Get whether an instrument's role sources something (all but the meters)."""
    return cfg.role not in ("gaussmeter", "voltmeter", "spectrum_analyzer")
