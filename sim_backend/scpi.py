"""Simulated instruments that parse their real command set (SCPI and older dialects).

A model subclasses :class:`SimInstrument` and declares its commands as a table::

    self.add_parameter("current", "[SOURce]:CURRent[:LEVel][:IMMediate][:AMPLitude]", float,
                       range=(-1.05, 1.05), default=0.0, fmt="{:+.6E}", output=True)
    self.add_query("MEASure:VOLTage[:DC]", self._measure_voltage, fmt="{:+.6E}")
    self.add_command("DA", self._set_dac, args=(Arg(int, range=(0, 7)), Arg(int)))

Patterns
    Nodes are separated by ``:``. A mnemonic's short form is its leading uppercase part
    ("CURRent" accepts CURR or CURRENT, any case; not CURRE); an all-uppercase mnemonic
    ("RDGFIELD", "DA", "PO") is a plain literal. ``[...]`` marks optional nodes; ``<n>``
    right after a mnemonic captures an optional numeric suffix ("CALCulate<n>"), ``[1|2]``
    one from a fixed set ("TRACe[1|2]", captured under the lowercased mnemonic, "trace").
    An absent suffix is 1 (or the first listed value). Captured suffixes reach the
    handler as keyword arguments. When two patterns match a header the first declared wins.

Messages (a reasonable SCPI subset)
    One message is one line without its terminator. ``;`` separates program message units
    (outside quoted strings). A unit beginning with ``*`` is a common command and leaves the
    path unchanged; one beginning with ``:`` is absolute; any other unit is first tried
    relative to the path of the previous unit's header ("SOUR:FUNC VOLT;VOLT 1" sets
    SOUR:VOLT), then from the root. The header ends at white space or at ``?`` (so
    "OUTP? 1" and "SNAP?1,2" parse); parameters are separated by ``,``. Responses to the
    queries of one message are joined with ``;``. A command error (-1xx) discards the rest
    of the message; an execution error (-2xx) skips only its unit.

Status (IEEE 488.2)
    Errors go to a bounded queue (``error_queue_size``; on overflow the newest entry becomes
    -350) and set their ESR bit: -1xx command error (bit 5), -2xx execution error (bit 4),
    -3xx and positive codes device-dependent error (bit 3), -4xx query error (bit 2).
    PON (bit 7) is set at power-on (construction). The status byte has EAV (bit 2, error
    queue not empty), MAV (bit 4), ESB (bit 5) and MSS (bit 6).

Faults (:meth:`SimInstrument.inject`)
    "timeout": the message runs but its reply is never sent; "garbled": the reply's bytes
    are corrupted (high bit flipped on every other byte, terminator intact); "drop": the
    message is not executed from the matching unit on and the connection is closed;
    "error": the unit is rejected and an error (``code``, default -200) is queued;
    "stuck_output": a write to an ``output=True`` parameter is accepted and its setpoint
    echoed, but the physical output (:meth:`SimInstrument.output`, ``output_log``) stays.
"""
from __future__ import annotations

import re
import threading
from collections import deque
from dataclasses import dataclass
from typing import Any, Callable, Mapping, NamedTuple, Sequence

from labspin.bench.clock import Clock, VirtualClock
from labspin.results.units import factor

MAX_MESSAGE = 1 << 21
"""Longest accepted message (bytes, 2 MiB: a 65 536-point arbitrary waveform in ASCII
floats fits); a longer one is dropped with error -363."""

ERRORS: dict[int, str] = {
    0: "No error",
    -100: "Command error",
    -102: "Syntax error",
    -104: "Data type error",
    -108: "Parameter not allowed",
    -109: "Missing parameter",
    -113: "Undefined header",
    -131: "Invalid suffix",
    -200: "Execution error",
    -221: "Settings conflict",
    -222: "Data out of range",
    -224: "Illegal parameter value",
    -300: "Device-specific error",
    -350: "Queue overflow",
    -363: "Input buffer overrun",
    -410: "Query INTERRUPTED",
    -420: "Query UNTERMINATED",
}
"""Standard SCPI error texts by code."""

# Standard event status register (ESR) bits.
ESR_OPC, ESR_RQC, ESR_QYE, ESR_DDE, ESR_EXE, ESR_CME, ESR_URQ, ESR_PON = (1 << i for i in range(8))
# Status byte (STB) bits.
STB_EAV, STB_MAV, STB_ESB, STB_MSS = 1 << 2, 1 << 4, 1 << 5, 1 << 6

FAULT_KINDS = ("timeout", "garbled", "drop", "error", "stuck_output")


def esr_bit(code: int) -> int:
    """Get the ESR bit that error ``code`` sets (0 for "No error")."""
    if -199 <= code <= -100:
        return ESR_CME
    if -299 <= code <= -200:
        return ESR_EXE
    if -499 <= code <= -400:
        return ESR_QYE
    return 0 if code == 0 else ESR_DDE


class SCPIError(Exception):
    """A parse or execution error: raise it from a handler to queue ``code``."""

    def __init__(self, code: int, text: str | None = None):
        self.code = code
        self.text = text or ERRORS.get(code, "Device-specific error")
        super().__init__(f'{code},"{self.text}"')


class RawBlock(str):
    """A reply sent as it is, without the termination: a binary transfer that ends with
    EOI (IEEE 488.2 blocks of the SRS lock-ins, their raw TRCB/TRCL dumps); latin-1 text."""


class Reply(NamedTuple):
    """What one message produced: the response text (None without a query) and the fault."""

    text: str | None
    fault: str | None = None


# ---------------------------------------------------------------- patterns

_MNEMONIC = re.compile(r"[A-Za-z*_][A-Za-z0-9_]*")
_SUFFIX_NAMED = re.compile(r"<([A-Za-z_]\w*)>")
_SUFFIX_CHOICES = re.compile(r"\[(\d+(?:\|\d+)*)\]")


def short_form(mnemonic: str) -> str:
    """Get the short form: the leading uppercase part plus trailing digits ("CURRent" -> "CURR")."""
    i = 0
    while i < len(mnemonic) and not mnemonic[i].islower():
        i += 1
    if i == 0:
        return mnemonic
    j = len(mnemonic)
    while j > i and mnemonic[j - 1].isdigit():
        j -= 1
    return mnemonic[:i] + mnemonic[j:]


def _mnemonic_regex(word: str) -> str:
    short = short_form(word)
    if short.upper() == word.upper():
        return re.escape(word)
    return f"(?:{re.escape(word)}|{re.escape(short)})"


def compile_pattern(pattern: str) -> tuple[re.Pattern, tuple[str, ...], tuple[int, ...]]:
    """Compile a command pattern to (regex, suffix names, suffix defaults).

    The regex matches a header written with a leading ``:`` and no ``?``, case-insensitively.
    """
    text = pattern.strip()
    if text.endswith("?"):
        text = text[:-1]
    names: list[str] = []
    defaults: list[int] = []
    pos = 0

    def sequence(depth: int) -> str:
        nonlocal pos
        out: list[str] = []
        while pos < len(text):
            ch = text[pos]
            if ch == ":":
                pos += 1
            elif ch == "[":
                pos += 1
                inner = sequence(depth + 1)
                if pos >= len(text) or text[pos] != "]" or not inner:
                    raise ValueError(f"unbalanced or empty '[' in pattern {pattern!r}")
                pos += 1
                out.append(f"(?:{inner})?")
            elif ch == "]":
                if depth == 0:
                    raise ValueError(f"unbalanced ']' in pattern {pattern!r}")
                break
            else:
                m = _MNEMONIC.match(text, pos)
                if m is None:
                    raise ValueError(f"bad character {ch!r} in pattern {pattern!r}")
                word, pos = m.group(), m.end()
                node = ":" + _mnemonic_regex(word)
                named = _SUFFIX_NAMED.match(text, pos)
                choice = None if named else _SUFFIX_CHOICES.match(text, pos)
                if named or choice:
                    name = named.group(1) if named else re.sub(r"\W", "", word.lower())
                    if name in names or not name.isidentifier():
                        raise ValueError(f"bad or repeated suffix name {name!r} in {pattern!r}")
                    values = choice.group(1).split("|") if choice else ["1"]
                    names.append(name)
                    defaults.append(1 if "1" in values else int(values[0]))
                    digits = "|".join(values) if choice else r"\d+"
                    node += f"(?P<{name}>{digits})?"
                    pos = (named or choice).end()
                out.append(node)
        return "".join(out)

    body = sequence(0)
    if pos != len(text) or not body:
        raise ValueError(f"bad pattern {pattern!r}")
    return re.compile(body, re.IGNORECASE), tuple(names), tuple(defaults)


# ---------------------------------------------------------------- parameters

NRF = re.compile(r"[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?")
"""An SCPI decimal number (NRf): sign, digits, point, exponent; no suffix."""
_NRF_WITH_SUFFIX = re.compile(rf"({NRF.pattern})\s*([A-Za-z]+)")
"""A number with a unit suffix: (number, suffix)."""
_KEYWORDS = {"MIN": "MIN", "MINIMUM": "MIN", "MAX": "MAX", "MAXIMUM": "MAX", "DEF": "DEF",
             "DEFAULT": "DEF"}
_MISSING = object()


def split_top(text: str, sep: str) -> list[str]:
    """Split ``text`` at ``sep`` outside quoted strings; items stripped. Unclosed quote: -102."""
    if '"' not in text and "'" not in text:
        return [item.strip() for item in text.split(sep)]
    items, current, quote = [], [], None
    for ch in text:
        if quote:
            quote = None if ch == quote else quote
        elif ch in "\"'":
            quote = ch
        elif ch == sep:
            items.append("".join(current).strip())
            current = []
            continue
        current.append(ch)
    if quote:
        raise SCPIError(-102)
    items.append("".join(current).strip())
    return items


def unquote(token: str) -> str:
    """Get a string parameter's content: quotes removed, doubled quotes undone."""
    if len(token) >= 2 and token[0] in "\"'" and token[-1] == token[0]:
        q = token[0]
        return token[1:-1].replace(q + q, q)
    return token


class Arg:
    """One parameter of a command: its type and what values it accepts.

    ``type`` is float, int, bool or str. ``range`` is (low, high), inclusive, or a callable
    returning one (for limits that depend on other settings). ``choices`` is a sequence of
    numbers, a sequence of mnemonics (value = the uppercase short form, e.g. "CURRent" ->
    "CURR") or a mapping mnemonic -> value. MIN/MAX pick the range ends and DEF the default.
    ``optional`` (default: whether a default is given) lets the parameter be left out.
    Out of range -> -222; not an allowed choice -> -224; wrong kind of data -> -104;
    a unit suffix ("1mA") -> -131.
    """

    __slots__ = ("type", "range", "choices", "default", "optional", "_enum", "_names")

    def __init__(self, type: type = float, *, range: Any = None, choices: Any = None,
                 default: Any = _MISSING, optional: bool | None = None):
        self.type, self.range, self.choices, self.default = type, range, choices, default
        self.optional = default is not _MISSING if optional is None else optional
        self._enum: dict[str, Any] | None = None
        self._names: dict[Any, str] = {}
        if choices is not None and all(isinstance(c, str) for c in choices):
            items = choices.items() if isinstance(choices, Mapping) else (
                (c, short_form(c).upper()) for c in choices)
            self._enum = {}
            for word, value in items:
                self._enum[word.upper()] = self._enum[short_form(word).upper()] = value
                self._names.setdefault(value, short_form(word).upper())
            self.type = str

    def limits(self) -> tuple[Any, Any] | None:
        """Get (low, high) or None."""
        return self.range() if callable(self.range) else self.range

    def parse(self, token: str) -> Any:
        """Convert one parameter token to a value, or raise SCPIError."""
        if self._enum is not None:
            try:
                return self._enum[token.upper()]
            except KeyError:
                raise SCPIError(-104 if token[:1] in "\"'" else -224) from None
        if self.type is str:
            return unquote(token)
        if self.type is bool:
            word = token.upper()
            if word in ("ON", "1"):
                return True
            if word in ("OFF", "0"):
                return False
            if NRF.fullmatch(token):
                return round(float(token)) != 0
            raise SCPIError(-224)
        keyword = _KEYWORDS.get(token.upper())
        if keyword == "DEF":
            if self.default is _MISSING:
                raise SCPIError(-224)
            return self.default
        if keyword:
            lim = self.limits()
            if lim is None:
                raise SCPIError(-224)
            return self.type(lim[0] if keyword == "MIN" else lim[1])
        if not NRF.fullmatch(token):
            raise SCPIError(-131 if _NRF_WITH_SUFFIX.fullmatch(token) else -104)
        value = float(token)
        if self.type is int:
            value = int(round(value))
        if self.choices is not None and value not in self.choices:
            raise SCPIError(-224)
        lim = self.limits()
        if lim is not None and not lim[0] <= value <= lim[1]:
            raise SCPIError(-222)
        return value

    def format(self, value: Any) -> str:
        """Format a value the way the instrument answers by default."""
        if self._enum is not None:
            return self._names.get(value, str(value))
        if isinstance(value, bool):
            return "1" if value else "0"
        if self.type is str:
            return '"' + str(value).replace('"', '""') + '"'
        return default_format(value)


def default_format(value: Any) -> str:
    """Format a response value: bool 1/0, int NR1, float NR3 ("{:.6E}"), str as is."""
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return f"{value:.6E}"
    return str(value)


# ---------------------------------------------------------------- numbers with unit suffixes

_SCPI_PREFIX = {"n": "N", "u": "U", "m": "M", "k": "K", "M": "MA", "G": "G"}
"""IEEE 488.2 (7.7.3) spelling of the SI prefixes in case-insensitive suffixes: "M" is
milli and "MA" mega, except that "MHZ" and "MOHM" are mega."""


def scpi_suffixes(unit: str, prefixes: str = "", *, name: str | None = None) -> dict[str, float]:
    """Get {SCPI suffix: multiplier to ``unit``} for ``unit`` (a unit of
    :mod:`labspin.results.units`, spelled ``name`` in SCPI, default upper case) with the SI
    ``prefixes`` ("kMG": kilo, mega, giga), the multipliers from the unit table:
    scpi_suffixes("Hz", "kM") → {"HZ": 1, "KHZ": 1e3, "MAHZ": 1e6, "MHZ": 1e6}."""
    base = (name or unit).upper()
    out = {base: factor(unit, unit)}
    for p in prefixes:
        if p == "m" and base in ("HZ", "OHM"):
            raise ValueError(f"SCPI has no milli-{unit}: 'M{base}' means mega")
        out[_SCPI_PREFIX[p] + base] = factor(p + unit, unit)
        if p == "M" and base in ("HZ", "OHM"):
            out["M" + base] = out["MA" + base]
    return out


FREQ_UNITS = scpi_suffixes("Hz", "kMG")
"""Frequency suffixes (SCPI: "MHZ" is megahertz)."""
POWER_UNITS = scpi_suffixes("dBm")
VOLT_UNITS = {**scpi_suffixes("V", "mu"), **scpi_suffixes("V", "m", name="VP")}
"""Voltage suffixes; "VP" (volts peak) is Keysight's LF-output unit."""
TIME_UNITS = scpi_suffixes("s", "mun")
PCT_UNITS = scpi_suffixes("%", name="PCT")


class UnitArg(Arg):
    """An :class:`Arg` whose number may carry a unit suffix from ``units`` (suffix ->
    multiplier to the base unit, case-insensitive): "1.5 GHz" -> 1.5e9. Unknown suffix: -131.
    """

    __slots__ = ("units",)

    def __init__(self, type: type = float, *, units: Mapping[str, float], **kwargs: Any):
        super().__init__(type, **kwargs)
        self.units = {k.upper(): float(v) for k, v in units.items()}

    def parse(self, token: str) -> Any:
        m = _NRF_WITH_SUFFIX.fullmatch(token.strip())
        if m is not None and not NRF.fullmatch(token.strip()):
            mult = self.units.get(m.group(2).upper())
            if mult is None:
                raise SCPIError(-131)
            token = repr(float(m.group(1)) * mult)
        return super().parse(token)


def with_units(instrument: SimInstrument, name: str, units: Mapping[str, float]) -> None:
    """Let the parameter ``name`` of ``instrument`` accept unit suffixes on its set form."""
    param = instrument.parameters()[name]
    old = param.arg
    arg = UnitArg(old.type, units=units, range=old.range, default=old.default, optional=False)
    param.arg = arg
    param.command.setter.args = (arg,)


def nr3(value: float, digits: int = 8) -> str:
    """Format like Keysight's NR3 answers: "+1.00000000E+009" (sign, 3-digit exponent)."""
    mant, exp = f"{float(value):+.{digits}E}".split("E")
    return f"{mant}E{int(exp):+04d}"


def rs_number(value: float) -> str:
    """Format like R&S answers: the shortest plain number ("1000000000", "-30", "0.5")."""
    v = float(value)
    return str(int(v)) if v.is_integer() and abs(v) < 1e15 else f"{v:.15g}"


def _as_arg(spec: Any) -> Arg:
    return spec if isinstance(spec, Arg) else Arg(spec)


def _formatter(fmt: str | Callable[[Any], str] | None, fallback: Callable[[Any], str]):
    if fmt is None:
        return fallback
    if callable(fmt):
        return fmt
    return fmt.format


class _Handler:
    """A command or query body: parses the tokens and calls ``fn(*values, **suffixes)``."""

    __slots__ = ("fn", "args", "fmt")

    def __init__(self, fn: Callable, args: Sequence | None, fmt: Callable[[Any], str]):
        self.fn, self.fmt = fn, fmt
        self.args = None if args is None else tuple(_as_arg(a) for a in args)

    def __call__(self, tokens: list[str], suffixes: dict[str, int]) -> Any:
        if self.args is None:
            return self.fn(*tokens, **suffixes)
        if len(tokens) > len(self.args):
            raise SCPIError(-108)
        values = []
        for i, arg in enumerate(self.args):
            if i < len(tokens) and tokens[i]:
                values.append(arg.parse(tokens[i]))
            elif arg.optional:
                values.append(None if arg.default is _MISSING else arg.default)
            else:
                raise SCPIError(-109)
        return self.fn(*values, **suffixes)


class _Command:
    """One pattern with its optional set and query handlers."""

    __slots__ = ("pattern", "regex", "names", "defaults", "setter", "getter", "param")

    def __init__(self, pattern: str):
        self.pattern = pattern
        self.regex, self.names, self.defaults = compile_pattern(pattern)
        self.setter: _Handler | None = None
        self.getter: _Handler | None = None
        self.param: Parameter | None = None

    def suffixes(self, match: re.Match) -> tuple[int, ...]:
        return tuple(int(match.group(n)) if match.group(n) else d
                     for n, d in zip(self.names, self.defaults))


class Parameter:
    """A settable and queryable setting; values are kept per suffix tuple."""

    __slots__ = ("name", "arg", "default", "fmt", "output", "on_change", "values", "command")

    def __init__(self, name: str, arg: Arg, default: Any, fmt, output: bool, on_change):
        self.name, self.arg, self.default, self.output = name, arg, default, output
        self.fmt = _formatter(fmt, arg.format)
        self.on_change = on_change
        self.values: dict[tuple[int, ...], Any] = {}
        self.command: _Command | None = None

    def key(self, suffix: Sequence[int]) -> tuple[int, ...]:
        """Complete a suffix tuple with the pattern's defaults."""
        defaults = self.command.defaults if self.command else ()
        return tuple(suffix) + defaults[len(suffix):]

    def output_name(self, key: tuple[int, ...]) -> str:
        """Name in ``output_log``: "current", or "current[2]" for suffixed patterns."""
        return f"{self.name}[{','.join(map(str, key))}]" if key else self.name


@dataclass
class Fault:
    """An injected fault: ``remaining`` triggers left (None: until cleared)."""

    kind: str
    command: _Command | None
    query: bool | None
    remaining: int | None
    code: int = -200
    text: str | None = None


def garble(data: bytes, keep_tail: int = 0) -> bytes:
    """Flip the high bit of every other byte, leaving the last ``keep_tail`` bytes intact."""
    body = bytearray(data[:len(data) - keep_tail] if keep_tail else data)
    for i in range(0, len(body), 2):
        body[i] ^= 0x80
    return bytes(body) + (data[len(data) - keep_tail:] if keep_tail else b"")


# ---------------------------------------------------------------- instrument

_UNIT = re.compile(r"\s*([^\s?]*)(\?)?(.*)\Z", re.DOTALL)
_HEADER_OK = re.compile(r"[*:\w]+", re.ASCII)
_NO_HIT = object()


class SimInstrument:
    """Base of simulated instruments: command table, status, error queue, faults, logs.

    Class attributes a model sets: ``idn`` (the *IDN? answer), ``options`` (the *OPT? answer;
    IEEE 488.2's "0" for no reportable option), ``termination`` (appended to
    every response), ``ieee488`` (install the common * commands), ``scpi`` (install
    SYSTem:ERRor and friends), ``error_queue_size``, ``log_size``.

    ``log`` holds (time (s), message) for every received message; ``output_log`` holds
    (time (s), output name, value) whenever an ``output=True`` parameter's applied value
    changes; times come from ``clock.now()`` (a fresh VirtualClock when none is given). Both
    keep at most ``log_size`` entries, the newest (``output_log`` drops its older half when
    full), so a long-running served twin has bounded memory.
    All entry points are serialised by ``lock``.
    """

    idn = "LABSPIN,SIMULATED,0,0.1"
    options = "0"
    termination = "\n"
    encoding = "ascii"
    ieee488 = True
    scpi = True
    error_queue_size = 10
    log_size = 100_000

    def __init__(self, clock: Clock | None = None):
        self.clock: Clock = clock if clock is not None else VirtualClock()
        self.lock = threading.RLock()
        self.log: deque[tuple[float, str]] = deque(maxlen=self.log_size)
        self.output_log: list[tuple[float, str, Any]] = []
        self.output_listeners: list[Callable[[float, str, Any], None]] = []
        self.outputs: dict[str, Any] = {}
        self.errors: deque[tuple[int, str]] = deque()
        self.esr, self.ese, self.sre = ESR_PON, 0, 0
        self.faults: list[Fault] = []
        self._commands: list[_Command] = []
        self._by_pattern: dict[str, _Command] = {}
        self._params: dict[str, Parameter] = {}
        self._cache: dict[tuple[str, bool], Any] = {}
        self._mav = False
        if self.ieee488:
            self._install_common()
        if self.scpi:
            self._install_scpi()

    # -- declaring commands

    def _command(self, pattern: str) -> _Command:
        key = pattern.strip().rstrip("?")
        cmd = self._by_pattern.get(key)
        if cmd is None:
            cmd = self._by_pattern[key] = _Command(key)
            self._commands.append(cmd)
            self._cache.clear()
        return cmd

    def add_command(self, pattern: str, handler: Callable, args: Sequence | None = ()) -> None:
        """Declare a command: ``handler(*values, **suffixes)``.

        ``args`` lists an :class:`Arg` (or a bare type) per parameter; None passes the raw
        parameter strings instead (for variable argument lists).
        """
        if pattern.strip().endswith("?"):
            raise ValueError(f"command pattern {pattern!r} ends with '?': use add_query")
        self._command(pattern).setter = _Handler(handler, args, default_format)

    def add_query(self, pattern: str, handler: Callable, args: Sequence | None = (),
                  fmt: str | Callable[[Any], str] | None = None) -> None:
        """Declare a query: ``handler(*values, **suffixes)`` returns the answer.

        A str answer is sent as is; any other value goes through ``fmt`` (a format string
        such as "{:+.6E}" or a callable), else :func:`default_format`.
        """
        formatter = _formatter(fmt, default_format)
        self._command(pattern).getter = _Handler(handler, args, formatter)

    def add_parameter(self, name: str, pattern: str, type: type = float, *, range: Any = None,
                      choices: Any = None, default: Any = None,
                      fmt: str | Callable[[Any], str] | None = None, output: bool = False,
                      readonly: bool = False,
                      on_change: Callable[..., None] | None = None) -> Parameter:
        """Declare a setting answered by ``PATTERN?`` and set by ``PATTERN value``.

        ``type``, ``range`` and ``choices`` as for :class:`Arg`; ``default`` is the power-on
        and *RST value (None: 0, False, "" or the first choice). ``output=True`` marks a
        physical output (logged in ``output_log``, subject to "stuck_output").
        ``on_change(value, *suffix)`` runs after a remote set. ``PATTERN? MIN|MAX|DEF``
        answers the limits. ``readonly`` declares the query only.
        """
        if name in self._params:
            raise ValueError(f"parameter {name!r} declared twice")
        if default is None:
            if choices is not None:
                first = next(iter(choices))
                default = choices[first] if isinstance(choices, Mapping) else (
                    short_form(first).upper() if isinstance(first, str) else first)
            else:
                default = {float: 0.0, int: 0, bool: False, str: ""}.get(type)
        arg = Arg(type, range=range, choices=choices, default=default, optional=False)
        param = Parameter(name, arg, default, fmt, output, on_change)
        cmd = self._command(pattern)
        if cmd.param is not None:
            raise ValueError(f"pattern {pattern!r} already holds parameter {cmd.param.name!r}")
        cmd.param, param.command = param, cmd
        self._params[name] = param
        if output and not cmd.names:
            self.outputs[name] = default

        def query(*tokens: str, **suffixes: int) -> str:
            if not tokens:
                return param.fmt(param.values.get(tuple(suffixes.values()), default))
            keyword = _KEYWORDS.get(tokens[0].upper())
            if len(tokens) > 1 or keyword is None or arg.type not in (int, float):
                raise SCPIError(-108)
            return param.fmt(arg.parse(tokens[0]))

        def command(value: Any, **suffixes: int) -> None:
            key = tuple(suffixes.values())
            self._store(param, key, value, apply=not self._stuck)
            if on_change is not None:
                on_change(value, *key)

        cmd.getter = _Handler(query, None, default_format)
        if not readonly:
            cmd.setter = _Handler(command, (arg,), default_format)
        return param

    # -- values and outputs

    def get(self, name: str, *suffix: int) -> Any:
        """Get a parameter's current setpoint."""
        param = self._params[name]
        return param.values.get(param.key(suffix), param.default)

    def set(self, name: str, value: Any, *suffix: int) -> None:
        """Set a parameter directly (no validation, no error queue), logging outputs."""
        param = self._params[name]
        with self.lock:
            self._store(param, param.key(suffix), value, apply=True)

    def output(self, name: str, *suffix: int) -> Any:
        """Get the value a physical output actually applies (differs when stuck)."""
        param = self._params[name]
        return self.outputs.get(param.output_name(param.key(suffix)), param.default)

    def parameters(self) -> dict[str, Parameter]:
        """Get the declared parameters by name."""
        return dict(self._params)

    def _store(self, param: Parameter, key: tuple[int, ...], value: Any, apply: bool) -> None:
        param.values[key] = value
        if param.output and apply:
            self._apply_output(param.output_name(key), value, param.default)

    def _apply_output(self, oname: str, value: Any, default: Any) -> None:
        old = self.outputs.get(oname, default)
        self.outputs[oname] = value
        if old != value:
            t = self.clock.now()
            self.output_log.append((t, oname, value))
            if len(self.output_log) > self.log_size:      # bounded, newest kept
                del self.output_log[:len(self.output_log) - self.log_size // 2]
            for listener in self.output_listeners:
                listener(t, oname, value)

    # -- status

    def push_error(self, code: int, text: str | None = None) -> None:
        """Queue an error and set its ESR bit; a full queue turns its newest entry into -350."""
        with self.lock:
            self.esr |= esr_bit(code)
            if len(self.errors) >= self.error_queue_size:
                self.errors[-1] = (-350, ERRORS[-350])
                self.esr |= esr_bit(-350)
            else:
                self.errors.append((code, text or ERRORS.get(code, "Device-specific error")))

    def next_error(self) -> str:
        """Pop the oldest error as '<code>,"<text>"' ('0,"No error"' when empty)."""
        with self.lock:
            code, text = self.errors.popleft() if self.errors else (0, ERRORS[0])
        return f'{code},"{text}"'

    def status_byte(self, mav: bool = False) -> int:
        """Get the IEEE 488.2 status byte; ``mav``: a response is waiting to be read."""
        stb = (STB_EAV if self.errors else 0) | (STB_MAV if mav else 0)
        if self.esr & self.ese:
            stb |= STB_ESB
        if stb & self.sre & ~STB_MSS:
            stb |= STB_MSS
        return stb

    def clear_status(self) -> None:
        """*CLS: clear ESR and the error queue."""
        with self.lock:
            self.esr = 0
            self.errors.clear()

    def reset(self) -> None:
        """*RST: every parameter back to its default (outputs logged), then :meth:`on_reset`."""
        with self.lock:
            for param in self._params.values():
                keys = set(param.values)
                param.values.clear()
                if param.output:
                    for key in keys | ({()} if not param.command.names else set()):
                        self._apply_output(param.output_name(key), param.default, param.default)
            self.on_reset()

    def on_reset(self) -> None:
        """Hook: model-specific *RST actions."""

    reply_latency_s = 0.0
    """Wall-clock delay (s) before a served reply is sent (``labspin sim serve --latency``):
    a slow GPIB or LAN instrument, so that a client's time-out can race its reply."""

    AUDIT_SWITCH: str | None = None
    """The output that switches a source on and off (for sim_backend.audit)."""

    def audited_switches(self) -> tuple[str, ...]:
        """Hook for sim_backend.audit: the outputs that switch this source on and off, as
        ``output_log`` names them ("output", "output[2]"); default (AUDIT_SWITCH,)."""
        return (self.AUDIT_SWITCH,) if self.AUDIT_SWITCH else ()

    def output_named(self, output: str) -> Any:
        """Get what an output applies by its ``output_log`` name ("output[2]")."""
        name, _, suffix = output.partition("[")
        return self.output(name, *(int(i) for i in suffix.rstrip("]").split(",") if i))

    def audited_levels(self) -> dict[str, tuple[str, float]]:
        """Hook for sim_backend.audit: the sourced level outputs, each → (the driver's name
        of it, factor from this twin's value to the driver's unit). None by default."""
        return {}

    def trigger(self) -> None:
        """Hook: *TRG and the VISA assert_trigger."""

    def device_clear(self) -> None:
        """Hook: device clear (VISA viClear); the error queue is kept."""

    # -- faults

    def inject(self, kind: str, on: str | None = None, count: int | None = 1, *,
               code: int = -200, text: str | None = None) -> Fault:
        """Inject a fault (kinds in the module docstring) for ``count`` triggers (None: until
        :meth:`clear_faults`).

        ``on`` selects the command: None (any), a parameter name (its set and query), a
        header ending in "?" (that query, in any spelling that reaches it) or a header
        without (that command).
        """
        if kind not in FAULT_KINDS:
            raise ValueError(f"unknown fault kind {kind!r}; expected one of {FAULT_KINDS}")
        if count is not None and count < 1:
            raise ValueError("count must be >= 1 or None")
        command, query = None, None
        with self.lock:
            if on is not None and on in self._params:
                command = self._params[on].command
            elif on is not None:
                header = on.strip()
                query = header.endswith("?")
                header = header.rstrip("?")
                hit = self._resolve(header if header.startswith(":") else ":" + header, query)
                if hit is None:
                    raise ValueError(f"{on!r} matches no command of {type(self).__name__}")
                command = hit[0]
            fault = Fault(kind, command, query, count, code, text)
            self.faults.append(fault)
        return fault

    def clear_faults(self) -> None:
        """Remove every injected fault."""
        with self.lock:
            self.faults.clear()

    def _take_fault(self, cmd: _Command, query: bool) -> Fault | None:
        for fault in self.faults:
            if fault.command is not None and fault.command is not cmd:
                continue
            if fault.query is not None and fault.query != query:
                continue
            if fault.kind in ("timeout", "garbled") and not query:
                continue
            if fault.kind == "stuck_output" and (query or cmd.param is None
                                                 or not cmd.param.output):
                continue
            if fault.remaining is not None:
                fault.remaining -= 1
                if fault.remaining <= 0:
                    self.faults.remove(fault)
            return fault
        return None

    # -- parsing and dispatch

    def _resolve(self, header: str, query: bool) -> tuple[_Command, tuple[int, ...]] | None:
        key = (header.upper(), query)
        hit = self._cache.get(key, _NO_HIT)
        if hit is not _NO_HIT:
            return hit
        hit = None
        for cmd in self._commands:
            if (cmd.getter if query else cmd.setter) is None:
                continue
            m = cmd.regex.fullmatch(header)
            if m is not None:
                hit = (cmd, cmd.suffixes(m))
                break
        if len(self._cache) > 4096:
            self._cache.clear()
        self._cache[key] = hit
        return hit

    _stuck = False

    def respond(self, message: str) -> Reply:
        """Process one message (no terminator) and get its reply and any triggered fault."""
        with self.lock:
            self.log.append((self.clock.now(), message))
            responses: list[str] = []
            fault_kind: str | None = None
            path = ""
            try:
                units = split_top(message, ";")
            except SCPIError as err:
                self.push_error(err.code, err.text)
                return Reply(None)
            for unit in units:
                if not unit:
                    continue
                header, mark, rest = _UNIT.match(unit).groups()
                query = mark is not None
                if not header or not _HEADER_OK.fullmatch(header):
                    self.push_error(-102)
                    break
                if header[0] == "*":
                    candidates = (":" + header,)
                elif header[0] == ":":
                    candidates = (header,)
                elif path:
                    candidates = (f"{path}:{header}", ":" + header)
                else:
                    candidates = (":" + header,)
                hit = None
                for candidate in candidates:
                    hit = self._resolve(candidate, query)
                    if hit is not None:
                        break
                if hit is None:
                    self.push_error(-113)
                    break
                if header[0] != "*":
                    path = candidate.rpartition(":")[0]
                cmd, suffix = hit
                fault = self._take_fault(cmd, query) if self.faults else None
                if fault is not None:
                    if fault.kind == "drop":
                        return Reply(None, "drop")
                    if fault.kind == "error":
                        self.push_error(fault.code, fault.text)
                        continue
                    if fault.kind in ("timeout", "garbled") and fault_kind != "timeout":
                        fault_kind = fault.kind
                handler = cmd.getter if query else cmd.setter
                self._stuck = fault is not None and fault.kind == "stuck_output"
                self._mav = bool(responses)
                try:
                    tokens = split_top(rest, ",") if rest.strip() else []
                    value = handler(tokens, dict(zip(cmd.names, suffix)))
                except SCPIError as err:
                    self.push_error(err.code, err.text)
                    if -199 <= err.code <= -100:
                        break
                    continue
                finally:
                    self._stuck = False
                if query:
                    responses.append(value if isinstance(value, str) else handler.fmt(value))
            if len(responses) == 1 and isinstance(responses[0], RawBlock):
                return Reply(responses[0], fault_kind)
            return Reply(";".join(responses) if responses else None, fault_kind)

    def handle(self, message: str) -> str | None:
        """Process one message and get the response text, None without a reply.

        An injected "timeout" gives None, "garbled" the corrupted text (latin-1), "drop"
        raises ConnectionResetError.
        """
        reply = self.respond(message)
        if reply.fault == "drop":
            raise ConnectionResetError(f"{type(self).__name__}: connection dropped (injected)")
        if reply.fault == "timeout" or reply.text is None:
            return None
        if reply.fault == "garbled":
            return garble(reply.text.encode("latin-1", "replace")).decode("latin-1")
        return reply.text

    def reply_bytes(self, reply: Reply) -> bytes | None:
        """Encode a reply for the wire with ``termination``; None when nothing is sent."""
        if reply.text is None or reply.fault in ("timeout", "drop"):
            return None
        if isinstance(reply.text, RawBlock):
            return reply.text.encode("latin-1")
        data = (reply.text + self.termination).encode(self.encoding, "replace")
        if reply.fault == "garbled":
            data = garble(data, len(self.termination))
        return data

    # -- common commands

    def _install_common(self) -> None:
        byte = Arg(int, range=(0, 255))
        self.add_query("*IDN", lambda: self.idn)
        self.add_command("*RST", self.reset)
        self.add_command("*CLS", self.clear_status)
        self.add_command("*OPC", self._set_opc)
        self.add_query("*OPC", lambda: "1")
        self.add_command("*WAI", lambda: None)
        self.add_command("*TRG", self.trigger)
        self.add_query("*TST", lambda: "0")
        self.add_query("*OPT", lambda: self.options)
        self.add_query("*ESR", self._read_esr)
        self.add_command("*ESE", self._set_ese, args=(byte,))
        self.add_query("*ESE", lambda: self.ese)
        self.add_command("*SRE", self._set_sre, args=(byte,))
        self.add_query("*SRE", lambda: self.sre)
        self.add_query("*STB", lambda: self.status_byte(self._mav))

    def _set_opc(self) -> None:
        self.esr |= ESR_OPC

    def _read_esr(self) -> int:
        value, self.esr = self.esr, 0
        return value

    def _set_ese(self, value: int) -> None:
        self.ese = value

    def _set_sre(self, value: int) -> None:
        self.sre = value & ~STB_MSS

    def _install_scpi(self) -> None:
        self.add_query("SYSTem:ERRor[:NEXT]", self.next_error)
        self.add_query("STATus:QUEue[:NEXT]", self.next_error)
        self.add_query("SYSTem:ERRor:ALL", self._all_errors)
        self.add_query("SYSTem:ERRor:COUNt", lambda: len(self.errors))
        self.add_query("SYSTem:VERSion", lambda: "1999.0")

    def _all_errors(self) -> str:
        items = [self.next_error() for _ in range(len(self.errors))]
        return ",".join(items) if items else self.next_error()
