"""Simulated magnet supplies (Kepco BOP, Danfysik 8500) and Hall gaussmeters (Lake Shore 425,
455 DSP, 475 DSP), wired to the virtual bench's electromagnet.

Wiring
    Supplies: ``drives_magnet=True`` (default) — the supply's output current is the bench
    magnet's supply current (:meth:`VirtualBench.set_magnet_current`); the coil current
    ``bench.magnet.coil_A`` follows it with L/R in virtual time. Gaussmeters: the probe sits
    in the gap, aligned with the pole axis, and reads ``bench.magnet.field_magnitude_T()``
    (signed, T), the field along the magnet's axis whatever the rotation stage's angle.

Physics of each reading
    Kepco ``MEASure:CURRent?``: the coil current (A) plus Gaussian noise of 10 ppm of the
    rated current. ``MEASure:VOLTage?``: the coil's resistive drop at the programmed (or
    compliance-limited) current, R·I (V) — with a first-order L/R coil the supply's voltage
    R·I_coil + L·dI/dt equals R·I_target — plus 10 ppm of the rated voltage. In current mode
    the coil current is limited to ±V_limit/R by the programmed (compliance) voltage; in
    voltage mode to V/R within ±|CURRent|.
    Danfysik ``AD 8``: |coil current| in counts of 0.01 A (pymeasure's and our driver's
    scaling), no noise beyond the quantisation; ``AD 2``: R·|I| in counts of 0.01 V.
    Gaussmeters: B (T) converted into the displayed unit, plus Gaussian noise of
    σ = 20 ppm of the present range's full scale + 0.2 µT (assumed, of the order of the
    last displayed digit of these 5-digit meters). Autorange picks the smallest range whose
    full scale holds |B| + :data:`AUTORANGE_HEADROOM_SIGMA`·σ (σ of that range), the
    headroom a real autorange keeps below full scale (the manuals give no up-range
    threshold: an assumption); |reading| above the full scale of the present range is an
    overload, answered ``OL``. RMS mode reads a static field's ac part: |noise| only.

Deviations knowingly made
    * Danfysik: an error message (``?<BEL> text``) caused by a command is sent as the reply
      to the *next* query, in place of that query's answer (the real supply sends it at
      once, and a client that does not read it gets out of step); a failed query is answered
      with the error at once. Hardware ramps and sequences (RAMP R, R, WSA, TS, …) are not
      simulated: they are answered with an error. The polarity relay refuses to switch while
      current flows (|I_coil| > ``relay_threshold_A``, 0.1 A by default, or the DAC is
      non-zero with main power on): assumed behaviour, flagged with an error reply and a
      hazard, the relay stays where it was.
    * Kepco: ``DIAG:TST?`` answers 0 and records a hazard instead of swinging the output.
      Power-on is a magnet's saved power-up setup (current mode, compliance voltage at the
      rating, 0 A, output off; ``power_on_mode="VOLT"`` for the factory one); ``*RST`` gives
      the factory state (voltage mode, 0 V, 0 A, output off).
    * Lake Shore: errors (unknown command, bad parameter) set the command/execution error
      bits of ``*ESR?`` (these models have no error queue); the overload reply ``OL`` and
      the range tables of the 455/475 (index 1 = lowest range, as pymeasure maps the 425)
      are assumptions; a bare ``AUTO`` (pymeasure's ``auto_range()``) is taken as
      ``AUTO 1``; ``ZPROBE`` zeroes at once, against the field present (a probe zeroed in
      the gap carries that offset).
    * ``hazards`` (list of (time s, text)) records what would hurt a real magnet: the
      output or main power switched off with more than :data:`OFF_HAZARD_FRACTION` of the
      rated current in the coil (an unramped switch-off; the coil's L/R tail after a ramp
      is below it), main power switched on onto a non-zero setpoint, a polarity switch
      under current.
"""
from __future__ import annotations

from typing import ClassVar

from labspin.physics.constants import MU0

from .scpi import ERRORS, Arg, Reply, SCPIError, SimInstrument
from .virtual_bench import VirtualBench

OFF_HAZARD_FRACTION = 0.05
"""Coil current, as a fraction of the supply's rating, above which switching the output (or
main power) off is recorded as a hazard."""
FLOAT = "{:.5E}"
"""Kepco reply format for settings and measurements (e.g. 1.00000E+00)."""
AUTORANGE_HEADROOM_SIGMA = 5.0
"""Gaussmeter autorange headroom in reading-noise σ: a range is used when its full scale is at
least |B| + 5σ, so a noisy reading on autorange overloads with probability ≤ Φ(−5) ≈ 3·10⁻⁷
(a field just below a boundary reads on the next range up)."""


class _MagnetSupplyTwin(SimInstrument):
    """Common parts of the supplies: bench wiring and the hazard log."""

    def __init__(self, bench: VirtualBench, name: str, drives_magnet: bool = True):
        super().__init__(clock=bench.clock)
        self.bench, self.name, self.drives_magnet = bench, name, drives_magnet
        self.hazards: list[tuple[float, str]] = []
        bench.instruments[name] = self

    def _hazard(self, text: str) -> None:
        self.hazards.append((self.clock.now(), text))

    def _drive(self, amps: float) -> None:
        if self.drives_magnet:
            self.bench.set_magnet_current(amps)

    @property
    def coil_A(self) -> float:
        """The bench magnet's coil current (A, signed)."""
        return float(self.bench.magnet.coil_A)


# ---------------------------------------------------------------- Kepco BOP

class KepcoBOPTwin(_MagnetSupplyTwin):
    """Kepco BOP bipolar supply with the BIT 4886 interface (SCPI), driving the magnet coil.

    Wiring: ``max_current`` (A) and ``max_voltage`` (V), the model's ratings (BOP 36-12 by
    default); ``coil_ohm``, the magnet coil's resistance (Ω, 1 Ω by default);
    ``power_on_mode`` ("CURR" by default, or "VOLT"): the saved power-up setup of a supply
    kept for a magnet — current mode with the compliance voltage at the rating, 0 A,
    output off.
    Commands: ``[SOURce:]CURRent``, ``[SOURce:]VOLTage`` (±rating, else -222),
    ``OUTPut[:STATe]``, ``[SOURce:]FUNCtion:MODE VOLT|CURR`` (query answers 0|1),
    ``MEASure[:SCALar]:CURRent[:DC]?``, ``MEASure[:SCALar]:VOLTage[:DC]?``, ``DIAG:TST?``,
    ``SYSTem:BEEP``, IEEE 488.2 common commands, ``SYSTem:ERRor?``.
    *RST: the factory state — voltage mode, 0 V, 0 A, output off (a driver must then set
    CURR mode and a compliance voltage before it can drive the magnet).
    """
    AUDIT_SWITCH = "output"

    def audited_levels(self):
        return {"current": ("current", 1.0)}

    def __init__(self, bench: VirtualBench, name: str = "magnet_supply", *,
                 max_current: float = 12.0, max_voltage: float = 36.0, coil_ohm: float = 1.0,
                 power_on_mode: str = "CURR", drives_magnet: bool = True):
        if power_on_mode not in ("CURR", "VOLT"):
            raise ValueError(f"power_on_mode must be 'CURR' or 'VOLT', got {power_on_mode!r}")
        self.max_current, self.max_voltage = float(max_current), float(max_voltage)
        self.coil_ohm = float(coil_ohm)
        self.idn = (f"KEPCO,BIT 4886 {self.max_voltage:g}-{self.max_current:g} 02/12/2018,"
                    "E000000,3.70-3.70")
        self.compliance = False
        super().__init__(bench, name, drives_magnet)

        def apply(*_):                             # on_change(value, *suffix)
            self._apply()

        self.add_parameter("current", "[SOURce]:CURRent[:LEVel][:IMMediate][:AMPLitude]",
                           float, range=(-self.max_current, self.max_current), fmt=FLOAT,
                           output=True, on_change=apply)
        self.add_parameter("voltage", "[SOURce]:VOLTage[:LEVel][:IMMediate][:AMPLitude]",
                           float, range=(-self.max_voltage, self.max_voltage), fmt=FLOAT,
                           output=True, on_change=apply)
        self.add_parameter("output", "OUTPut[:STATe]", bool, default=False, output=True,
                           on_change=apply)
        self.add_parameter("mode", "[SOURce]:FUNCtion:MODE",
                           choices={"VOLTage": "VOLT", "CURRent": "CURR"}, default="VOLT",
                           fmt=lambda v: "1" if v == "CURR" else "0", on_change=apply)
        self.add_query("MEASure[:SCALar]:CURRent[:DC]", self._measure_current, fmt=FLOAT)
        self.add_query("MEASure[:SCALar]:VOLTage[:DC]", self._measure_voltage, fmt=FLOAT)
        self.add_query("DIAGnostic:TST", self._full_self_test)
        self.add_command("SYSTem:BEEP", lambda: None)
        self._on = False
        if power_on_mode == "CURR":
            self.set("mode", "CURR")
            self.set("voltage", self.max_voltage)

    def target_current(self) -> float:
        """The current (A) the output drives into the coil: the programmed current within the
        compliance (current mode) or V/R within the current limit (voltage mode)."""
        if not self.output("output"):
            self.compliance = False
            return 0.0
        r = max(self.coil_ohm, 1e-9)
        if self.get("mode") == "CURR":
            i, limit = self.output("current"), abs(self.output("voltage")) / r
        else:
            i, limit = self.output("voltage") / r, abs(self.output("current"))
        self.compliance = abs(i) > limit
        return max(-limit, min(limit, i))

    def _apply(self) -> None:
        on = bool(self.output("output"))
        if self._on and not on and abs(self.coil_A) > OFF_HAZARD_FRACTION * self.max_current:
            self._hazard(f"output switched off with {self.coil_A:.3g} A in the coil")
        self._on = on
        self._drive(self.target_current())

    def on_reset(self) -> None:
        self._apply()

    def _measure_current(self) -> float:
        return self.coil_A + 1e-5 * self.max_current * float(self.bench.rng.normal())

    def _measure_voltage(self) -> float:
        v = self.coil_ohm * self.target_current()
        return v + 1e-5 * self.max_voltage * float(self.bench.rng.normal())

    def _full_self_test(self) -> str:
        self._hazard("DIAG:TST? requested: the real supply swings its output to the maximum")
        return "0"


# ---------------------------------------------------------------- Danfysik 8500

_DANFYSIK_QUERIES = {"PO", "S1", "S1H", "S2", "PRINT", "R1", "R2", "R3"}
"""Danfysik mnemonics that are queries when sent without a parameter."""
_DANFYSIK_TEXTS = {-102: "SYNTAX ERROR", -104: "ILLEGAL PARAMETER", -108: "TOO MANY PARAMETERS",
                   -109: "MISSING PARAMETER", -113: "ILLEGAL COMMAND",
                   -222: "PARAMETER OUT OF RANGE", -224: "ILLEGAL PARAMETER"}
"""Error texts of the ``?<BEL>`` replies for the generic parse errors (assumed wording)."""


class Danfysik8500Twin(_MagnetSupplyTwin):
    """Danfysik System 8500: unipolar supply with a polarity-reversal relay, its own dialect
    (no ``?``: ``DA 0`` reads what ``DA 0,<ppm>`` sets), CR-terminated.

    Wiring: ``full_scale_A`` (A, the current of ``DA 0,1000000``; 160 A by default),
    ``relay_threshold_A`` (A, |coil current| above which the relay refuses to switch),
    ``coil_ohm`` (Ω, for ``AD 2``).
    Commands: ``DA 0,<ppm>`` / ``DA 0`` (reply ``0,<ppm>``), ``AD 8`` (|I| in 0.01 A
    counts), ``AD 2`` (voltage, 0.01 V counts), ``PO`` (+|-) / ``PO +`` / ``PO -``, ``N`` /
    ``F`` main power, ``S1`` (24 status characters ``!``/``.``) and ``S1H`` (the same as 6
    hex digits, bit 23 = main power off, 22 polarity normal, 21 reversed, 1 not ready),
    ``PRINT`` (identification), ``ERRT``, ``UNLOCK``, ``LOC``, ``REM``, ``RS``, ``R1``–``R3``
    / ``W1``–``W3 <n>`` slew settings, ``STOP``, ``RAMPSET C``, ``CSS n``, ``RAMP S``.
    Messages may be separated by CR inside one transport message (the supply terminates
    at CR; a socket client's LF then only ends the transport line). Replies end with CR LF,
    so CR- and LF-terminated reads both work. Errors are answered ``?<BEL> <text>`` (see
    the module notes) and recorded in ``errors``.
    """
    AUDIT_SWITCH = "power"

    def audited_levels(self):        # the DAC magnitude (the relay switches only at 0 A)
        return {"current_ppm": ("current", self.full_scale_A / 1e6)}

    termination = "\r\n"
    ieee488 = False
    scpi = False
    idn = "DANFYSIK SYSTEM 8500 LABSPIN SIMULATED SW 1.0"

    def __init__(self, bench: VirtualBench, name: str = "magnet_supply", *,
                 full_scale_A: float = 160.0, relay_threshold_A: float = 0.1,
                 coil_ohm: float = 1.0, drives_magnet: bool = True):
        self.full_scale_A = float(full_scale_A)
        self.relay_threshold_A = float(relay_threshold_A)
        self.coil_ohm = float(coil_ohm)
        self._pending_error: str | None = None
        self._error_count = 0
        self._last_error = ""
        super().__init__(bench, name, drives_magnet)
        # the DAC: a parameter (for output_log and "stuck_output") with the dialect's
        # two-argument set and one-argument read-back
        self.add_parameter("current_ppm", "DA", int, range=(0, 1_000_000), default=0,
                           output=True)
        channel = Arg(int, choices=(0,))
        self.add_command("DA", self._set_dac, args=(channel, Arg(int, range=(0, 1_000_000))))
        self.add_query("DA", lambda ch: f"0,{self.get('current_ppm')}", args=(channel,))
        self.add_query("AD", self._adc, args=(Arg(int, range=(0, 15)),))
        sign = {"+": 1, "-": -1}
        self.add_parameter("polarity", "PO", choices=sign, default=1, output=True)
        self.add_command("PO", self._set_polarity, args=(Arg(choices=sign),))
        self.add_parameter("power", "N", bool, default=False, output=True)
        self.add_command("N", lambda: self._set_power(True))
        self.add_command("F", lambda: self._set_power(False))
        self.add_query("S1", lambda: "".join("!" if b else "." for b in self._status_bits()))
        self.add_query("S1H", self._status_hex)
        self.add_query("S2", lambda: "")
        self.add_query("PRINT", lambda: self.idn)
        self.slew = {1: 100, 2: 100, 3: 100}
        self.add_query("R[1|2|3]", lambda r: str(self.slew[r]))
        self.add_command("W[1|2|3]", lambda v, w: self.slew.__setitem__(w, v),
                         args=(Arg(int, range=(0, 1_000_000)),))
        for word in ("ERRT", "UNLOCK", "LOC", "REM", "RS", "STOP"):
            self.add_command(word, lambda: None)
        self.add_command("CSS", lambda stack: None, args=(Arg(int, range=(0, 15)),))
        self.add_command("RAMPSET", self._rampset, args=None)
        self.add_query("RAMP", lambda what: "", args=(Arg(choices={"S": "S"}),))
        for word in ("RAMP", "R", "WSA", "TS", "SYNC", "SLOW", "FAST", "MULT"):
            self.add_command(word, self._not_simulated, args=None)

    # --- the dialect ---------------------------------------------------------------------
    @staticmethod
    def is_query(unit: str) -> bool:
        """Whether one Danfysik command (no terminator) expects a reply."""
        head, _, rest = unit.strip().partition(" ")
        head, rest = head.upper(), rest.strip()
        if head in _DANFYSIK_QUERIES:
            return not rest
        if head in ("DA", "AD"):
            return bool(rest) and "," not in rest
        return head == "RAMP" and rest.upper() == "S"

    def respond(self, message: str) -> Reply:
        """Run CR-separated Danfysik commands; replies joined by CR (see module notes)."""
        replies: list[str] = []
        fault = None
        for unit in message.split("\r"):
            unit = unit.strip()
            if not unit:
                continue
            query = self.is_query(unit)
            head, _, rest = unit.partition(" ")
            count = self._error_count
            reply = super().respond(f"{head}? {rest}" if query else unit)
            if reply.fault == "drop":
                return reply
            fault = fault or reply.fault
            if self._error_count > count:
                error = f"?\x07 {self._last_error}"
                if query:
                    replies.append(error)
                else:
                    self._pending_error = error
            elif query:
                if self._pending_error is not None:
                    replies.append(self._pending_error)
                    self._pending_error = None
                else:
                    replies.append(reply.text or "")
        return Reply("\r".join(replies) if replies else None, fault)

    def push_error(self, code: int, text: str | None = None) -> None:
        """Record an error (``errors``) and remember its text for the ``?<BEL>`` reply.

        -410 Query INTERRUPTED is not recorded: a serial instrument has no such notion (the
        transport discards a reply's unread CR LF tail when a CR-terminated client reads).
        """
        if code == -410:
            return
        if text is None or text == ERRORS.get(code):
            text = _DANFYSIK_TEXTS.get(code, text)
        super().push_error(code, text)
        self._error_count += 1
        self._last_error = (text or ERRORS.get(code, "Device-specific error")).upper()

    # --- handlers ------------------------------------------------------------------------
    def _set_dac(self, channel: int, ppm: int) -> None:
        self._store(self._params["current_ppm"], (), ppm, apply=not self._stuck)
        self._apply()

    def _adc(self, channel: int) -> str:
        amps = abs(self.coil_A)
        if channel == 8:
            return str(round(amps / 0.01))
        if channel == 2:
            return str(round(self.coil_ohm * amps / 0.01))
        return "0"

    def _set_polarity(self, sign: int) -> None:
        if sign == self.output("polarity"):
            self._store(self._params["polarity"], (), sign, apply=not self._stuck)
            return
        flowing = abs(self.coil_A) > self.relay_threshold_A
        if flowing or (self.output("power") and self.output("current_ppm") != 0):
            self._hazard(f"polarity switch to {'+' if sign > 0 else '-'} requested with "
                         f"{self.coil_A:.3g} A in the coil and DAC "
                         f"{self.output('current_ppm')} ppm: refused")
            raise SCPIError(-221, "POLARITY SWITCH REFUSED, CURRENT NOT ZERO")
        self._store(self._params["polarity"], (), sign, apply=not self._stuck)
        self._apply()

    def _set_power(self, on: bool) -> None:
        was = bool(self.output("power"))
        if on and not was and self.output("current_ppm") != 0:
            self._hazard(f"main power on onto a setpoint of {self.setpoint_A():.3g} A")
        if was and not on and abs(self.coil_A) > OFF_HAZARD_FRACTION * self.full_scale_A:
            self._hazard(f"main power off with {self.coil_A:.3g} A in the coil")
        param = self._params["power"]
        self._store(param, (), on, apply=not (on and self._stuck))
        self._apply()

    def _rampset(self, *tokens: str) -> None:
        if [t.upper() for t in tokens] != ["C"]:
            self._not_simulated()

    def _not_simulated(self, *tokens: str) -> None:
        raise SCPIError(-200, "RAMPS AND SEQUENCES NOT SIMULATED")

    # --- state ---------------------------------------------------------------------------
    def setpoint_A(self) -> float:
        """The signed current (A) the DAC and relay program (applied values)."""
        return (self.output("polarity") * self.output("current_ppm") * self.full_scale_A
                / 1e6)

    def _apply(self) -> None:
        self._drive(self.setpoint_A() if self.output("power") else 0.0)

    def on_reset(self) -> None:
        self._apply()

    def _status_bits(self) -> list[bool]:
        power = bool(self.output("power"))
        bits = [False] * 24
        bits[0] = not power                              # main power off
        bits[1] = self.output("polarity") > 0            # polarity normal
        bits[2] = self.output("polarity") < 0            # polarity reversed
        bits[22] = not power                             # MPS not ready
        return bits

    def _status_hex(self) -> str:
        value = 0
        for i, bit in enumerate(self._status_bits()):
            if bit:
                value |= 1 << (23 - i)
        return f"{value:06X}"


# ---------------------------------------------------------------- Lake Shore gaussmeters

UNIT_PER_TESLA = {1: 1e4, 2: 1.0, 3: 1e4, 4: 1.0 / MU0}
"""Displayed value per tesla of μ0·H: 1 G, 2 T, 3 Oe (in air), 4 A/m."""


class _LakeShoreTwin(SimInstrument):
    """Common Lake Shore gaussmeter command set; subclasses give ranges and RDGMODE."""

    scpi = False
    termination = "\r\n"
    RANGES_G: ClassVar[dict[int, tuple[float, ...]]] = {}
    """Full scale (G) of RANGE 1, 2, … per probe type (40 HSE, 41 HST, 42 UHS)."""
    RDGMODE_LIMITS: tuple[tuple[int, int], ...] = ()
    RDGMODE_DEFAULT: tuple[int, ...] = ()
    NOISE_REL = 2e-5
    """Noise σ as a fraction of the present range's full scale."""
    NOISE_FLOOR_T = 2e-7
    """Noise σ floor (T)."""

    def __init__(self, bench: VirtualBench, name: str = "gaussmeter", *,
                 probe_type: int = 40):
        if probe_type % 10 not in (0, 1, 2) or probe_type // 10 not in (4, 5):
            raise ValueError(f"probe_type must be 40–42 or 50–52, got {probe_type!r}")
        super().__init__(clock=bench.clock)
        self.bench, self.name, self.probe_type = bench, name, int(probe_type)
        self.ranges_T = tuple(g * 1e-4 for g in self.RANGES_G[40 + probe_type % 10])
        self.zero_offset_T = 0.0
        self._min_max: list[float] | None = None
        bench.instruments[name] = self
        n = len(self.ranges_T)
        self.add_parameter("unit", "UNIT", int, choices=(1, 2, 3, 4), default=1)
        self.add_parameter("range", "RANGE", int, range=(1, n), default=n,
                           on_change=lambda *_: self.set("auto", False))
        self.add_query("RANGE", lambda: self.present_range())
        self.add_parameter("auto", "AUTO", bool, default=True)
        self.add_command("AUTO", lambda on: self.set("auto", on), args=(Arg(bool, default=True),))
        self.add_query("TYPE", lambda: f"{self.probe_type:02d}")
        self.add_query("RDGFIELD", self._read_field)
        k = len(self.RDGMODE_LIMITS)
        self.add_command("RDGMODE", self._set_mode,
                         args=tuple(Arg(int, range=lim) for lim in self.RDGMODE_LIMITS))
        self.add_query("RDGMODE", lambda: ",".join(str(v) for v in self.reading_mode))
        self.add_command("ZPROBE", self._zero_probe)
        self.add_query("RDGMNMX", self._min_max_reply)
        self.reading_mode = tuple(self.RDGMODE_DEFAULT)
        assert len(self.reading_mode) == k

    # --- settings ------------------------------------------------------------------------
    def on_reset(self) -> None:
        self.reading_mode = tuple(self.RDGMODE_DEFAULT)
        self._min_max = None

    def _set_mode(self, *values: int) -> None:
        self.reading_mode = tuple(values)

    def present_range(self) -> int:
        """The RANGE index in use: the manual one, or the autorange choice for the field (the
        smallest range whose full scale holds |B| + AUTORANGE_HEADROOM_SIGMA·σ of that
        range; the highest range when none does)."""
        if not self.get("auto"):
            return self.get("range")
        b = abs(self.true_field_T())
        for i, fs in enumerate(self.ranges_T, start=1):
            if b + AUTORANGE_HEADROOM_SIGMA * self.range_noise_T(i) <= fs:
                return i
        return len(self.ranges_T)

    def _zero_probe(self) -> None:
        self.zero_offset_T += self.true_field_T()

    # --- readings ------------------------------------------------------------------------
    def true_field_T(self) -> float:
        """The field (T) at the probe, less the zero offset, without noise."""
        return float(self.bench.magnet.field_magnitude_T()) - self.zero_offset_T

    def range_noise_T(self, index: int) -> float:
        """The reading noise σ (T) on RANGE ``index`` (1 = the lowest)."""
        return self.NOISE_REL * self.ranges_T[index - 1] + self.NOISE_FLOOR_T

    def noise_T(self) -> float:
        """The reading noise σ (T) on the present range."""
        return self.range_noise_T(self.present_range())

    def _is_rms(self) -> bool:
        return self.reading_mode[0] == 2

    def reading_T(self) -> float | None:
        """One reading (T) as the display shows it, None on overload."""
        index = self.present_range()
        full_scale = self.ranges_T[index - 1]
        noise = self.range_noise_T(index) * float(self.bench.rng.normal())
        value = abs(noise) if self._is_rms() else self.true_field_T() + noise
        if abs(value) > full_scale:
            return None
        if self._min_max is None:
            self._min_max = [value, value]
        else:
            self._min_max = [min(self._min_max[0], value), max(self._min_max[1], value)]
        return value

    def _display(self, tesla: float) -> str:
        return f"{tesla * UNIT_PER_TESLA[self.get('unit')]:+.5E}"

    def _read_field(self) -> str:
        value = self.reading_T()
        return "OL" if value is None else self._display(value)

    def _min_max_reply(self) -> str:
        low, high = self._min_max or (0.0, 0.0)
        return f"{self._display(low)},{self._display(high)}"


class LakeShore425Twin(_LakeShoreTwin):
    """Lake Shore Model 425 gaussmeter: RANGE 1–4 (HSE probe: 35, 350, 3500, 35000 G as
    pymeasure maps them), RDGMODE <mode 1 dc|2 rms>,<filter 0|1>,<band 1 wide|2 narrow>,
    RDGMX? and MXRST; plus the common set (UNIT, AUTO, TYPE?, RDGFIELD?, ZPROBE,
    RDGMNMX?, IEEE 488.2 * commands)."""

    idn = "LSCI,MODEL425,LSA0000,1.0"
    RANGES_G: ClassVar[dict[int, tuple[float, ...]]] = {
        40: (35.0, 350.0, 3500.0, 35000.0), 41: (350.0, 3500.0, 35000.0, 350000.0),
        42: (0.35, 3.5, 35.0, 350.0)}
    RDGMODE_LIMITS = ((1, 2), (0, 1), (1, 2))
    RDGMODE_DEFAULT = (1, 0, 1)

    def __init__(self, bench: VirtualBench, name: str = "gaussmeter", **wiring):
        super().__init__(bench, name, **wiring)
        self.add_query("RDGMX", lambda: self._display(self._min_max[1] if self._min_max
                                                      else 0.0))
        self.add_command("MXRST", self._reset_min_max)

    def _reset_min_max(self) -> None:
        self._min_max = None


class LakeShore455Twin(_LakeShoreTwin):
    """Lake Shore Model 455 DSP gaussmeter: RANGE 1–5 (HSE probe: 3.5 G … 35 kG, index 1 the
    lowest — assumed), RDGMODE <mode 1 dc|2 rms|3 peak>,<dc resolution 1–3>,<rms filter
    1–3>,<peak mode 1–2>,<peak display 1–3>, MNMXRST; plus the common set."""

    idn = "LSCI,MODEL455,LSA0000,01012020"
    RANGES_G: ClassVar[dict[int, tuple[float, ...]]] = {
        40: (3.5, 35.0, 350.0, 3500.0, 35000.0), 41: (35.0, 350.0, 3500.0, 35000.0, 350000.0),
        42: (0.035, 0.35, 3.5, 35.0, 350.0)}
    RDGMODE_LIMITS = ((1, 3), (1, 3), (1, 3), (1, 2), (1, 3))
    RDGMODE_DEFAULT = (1, 3, 1, 1, 1)

    def __init__(self, bench: VirtualBench, name: str = "gaussmeter", **wiring):
        super().__init__(bench, name, **wiring)
        self.add_command("MNMXRST", self._reset_min_max)

    def _reset_min_max(self) -> None:
        self._min_max = None


class LakeShore475Twin(LakeShore455Twin):
    """Lake Shore Model 475 DSP gaussmeter: the 455's command set (its field-control loop
    CMODE/CSETP is not simulated)."""

    idn = "LSCI,MODEL475,LSA0000,01012020"


TWINS = {
    "kepco_bop": KepcoBOPTwin,
    "danfysik8500": Danfysik8500Twin,
    "lakeshore425": LakeShore425Twin,
    "lakeshore455": LakeShore455Twin,
    "lakeshore475": LakeShore475Twin,
}
"""Driver registry key → twin class."""
