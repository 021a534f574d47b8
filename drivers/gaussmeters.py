"""Hall gaussmeters (role ``gaussmeter``): Lake Shore 425, 455 DSP and 475 DSP.

``measure_field()`` returns μ0·H in tesla whatever unit the front panel shows: it reads the
unit (``UNIT?``: 1 = G, 2 = T, 3 = Oe, 4 = A/m) with every reading, so a unit changed by hand
never puts a reading 10⁴ off. Conversions: 1 G = 1e-4 T; 1 Oe ↔ μ0·H = 1e-4 T (in air);
1 A/m ↔ μ0·H = μ0 T. Not sources: no limits, no shutdown.
"""
from __future__ import annotations

from pymeasure.instruments import Instrument
from pymeasure.instruments.lakeshore import LakeShore425 as _PymeasureLakeShore425
from pymeasure.instruments.validators import strict_discrete_set

from labspin.physics.constants import MU0

UNITS = {"G": 1, "T": 2, "Oe": 3, "A/m": 4}
"""Lake Shore field units → ``UNIT`` parameter."""
TESLA_PER_UNIT = {"G": 1e-4, "T": 1.0, "Oe": 1e-4, "A/m": MU0}
"""Reading in the displayed unit → μ0·H in tesla."""


class GaussmeterReadingError(ValueError):
    """The gaussmeter returned a field reading that is not a number (overload, no probe)."""


class _FieldInTesla:
    """``measure_field()`` in tesla for Lake Shore gaussmeters (mixed in before Instrument)."""
    roles = ("gaussmeter",)

    def measure_field(self) -> float:
        """Measure the field μ0·H (T), converting from the displayed unit (read each time)."""
        unit = self.unit
        reply = str(self.ask("RDGFIELD?")).strip()
        try:
            value = float(reply)
        except ValueError:
            raise GaussmeterReadingError(f"{self.name}: field reading {reply!r} is not a "
                                         "number (overload or no probe?)") from None
        return value * TESLA_PER_UNIT[unit]

    auto_range_enabled = Instrument.control(
        "AUTO?", "AUTO %d",
        """Control whether the field range follows the reading automatically (bool).""",
        validator=strict_discrete_set,
        values={True: 1, False: 0},
        map_values=True,
    )

    probe_type = Instrument.measurement(
        "TYPE?",
        """Get the probe type code (40 high sensitivity, 41 high stability, 42 ultra-high
        sensitivity, 50–52 the same with a user-programmable cable).""",
        cast=int,
    )


class LakeShore425(_FieldInTesla, _PymeasureLakeShore425):
    """Lake Shore Model 425 gaussmeter (USB) with ``measure_field()`` in tesla.

    pymeasure's driver plus: ``auto_range_enabled`` (``AUTO <0|1>``/``AUTO?``), ``probe_type``
    (``TYPE?``), and ``auto_range()`` sending ``AUTO 1`` as the manual specifies
    (pymeasure sends a bare ``AUTO``). ``range`` is pymeasure's: 35, 350, 3500, 35000 G for
    ``RANGE 1``–``4`` (the HSE probe's ranges; other probes differ). Lake Shore Model 425
    user's manual, chapter 6 (computer interface): UNIT, RDGFIELD?, RANGE, AUTO, RDGMODE,
    TYPE?, ZPROBE.
    """

    def __init__(self, adapter, name="Lake Shore 425 gaussmeter", **kwargs):
        super().__init__(adapter, name=name, **kwargs)

    def auto_range(self) -> None:
        """Turn auto range on (``AUTO 1``)."""
        self.auto_range_enabled = True


def _reading_mode(value, values):
    """Validate (mode, dc resolution, rms mode, peak mode, peak display) for RDGMODE."""
    try:
        value = tuple(int(v) for v in value)
    except (TypeError, ValueError):
        raise ValueError(f"reading mode {value!r} must be 5 integers") from None
    if len(value) != 5 or any(not low <= v <= high for v, (low, high) in zip(value, values)):
        raise ValueError(f"reading mode {value!r} must be 5 integers within {values!r}")
    return value


class LakeShore455(_FieldInTesla, Instrument):
    """Lake Shore Model 455 DSP gaussmeter (GPIB, RS-232) with ``measure_field()`` in tesla.

    Commands (Lake Shore 455/475 user's manuals, chapter 6 remote operation): the 475 manual's
    pages 6-28 (common ``*`` commands) and 6-38 (``RDGMNMX?``…``REL?``, reply format
    ``±nnn.nnnE±nn``) were checked; the rest agrees with the Model 425 manual's command set
    (UNIT, AUTO, TYPE? read there) and with independent 455/475 drivers citing the manuals:
    ``RDGFIELD?`` (field in the displayed unit), ``UNIT n``/``UNIT?`` (1 G, 2 T, 3 Oe, 4 A/m),
    ``RANGE n``/``RANGE?`` (a range index whose full scale depends on the probe, see the
    manual's range table), ``AUTO 0|1``/``AUTO?``, ``RDGMODE <mode>,<dc res>,<rms mode>,<peak
    mode>,<peak disp>``, ``TYPE?``, ``ZPROBE``, ``*IDN?``.
    Serial: 7 data bits, odd parity (Lake Shore's own driver opens these models at 57600 baud);
    terminators CR LF.
    """

    MODES = {"dc": 1, "rms": 2, "peak": 3}
    RMS_FILTERS = {"wide": 1, "narrow": 2, "lowpass": 3}

    def __init__(self, adapter, name="Lake Shore 455 DSP gaussmeter", **kwargs):
        kwargs.setdefault("read_termination", "\r\n")
        kwargs.setdefault("write_termination", "\r\n")
        kwargs.setdefault("asrl", {"baud_rate": 57600, "data_bits": 7, "parity": 1})
        super().__init__(adapter, name, includeSCPI=False, **kwargs)

    id = Instrument.measurement(
        "*IDN?",
        """Get the identification (manufacturer, model, serial number, firmware date).""",
        cast=str,
        maxsplit=0,
    )

    field = Instrument.measurement(
        "RDGFIELD?",
        """Measure the field in the displayed unit (see ``unit``); ``measure_field()`` gives T.""",
    )

    unit = Instrument.control(
        "UNIT?", "UNIT %d",
        """Control the displayed field unit: "G", "T", "Oe" or "A/m" (str).""",
        validator=strict_discrete_set,
        values=UNITS,
        map_values=True,
    )

    range = Instrument.control(
        "RANGE?", "RANGE %d",
        """Control the manual field range index, 1–5 (int; its full scale depends on the
        probe type, see the manual's range table).""",
        validator=strict_discrete_set,
        values=(1, 2, 3, 4, 5),
        cast=int,
    )

    reading_mode = Instrument.control(
        "RDGMODE?", "RDGMODE %d,%d,%d,%d,%d",
        """Control the reading mode (mode 1 dc/2 rms/3 peak, dc resolution 1–3 for 3–5 digits,
        rms mode 1 wide band/2 narrow band/3 low pass, peak mode 1 periodic/2 pulse, peak
        display 1 positive/2 negative/3 both) as a tuple of 5 ints.""",
        validator=_reading_mode,
        values=((1, 3), (1, 3), (1, 3), (1, 2), (1, 3)),
        cast=int,
        get_process_list=tuple,
    )

    def dc_mode(self, digits: int = 5) -> None:
        """Set dc readings with 3, 4 or 5 digits, keeping the rms and peak settings."""
        if digits not in (3, 4, 5):
            raise ValueError(f"digits must be 3, 4 or 5, got {digits!r}")
        old = self.reading_mode
        self.reading_mode = (self.MODES["dc"], digits - 2, *old[2:])

    def rms_mode(self, filter: str = "wide") -> None:
        """Set rms (ac) readings with filter "wide", "narrow" or "lowpass", keeping the rest."""
        if filter not in self.RMS_FILTERS:
            raise ValueError(f"filter must be one of {sorted(self.RMS_FILTERS)}, got {filter!r}")
        old = self.reading_mode
        self.reading_mode = (self.MODES["rms"], old[1], self.RMS_FILTERS[filter], *old[3:])

    def zero_probe(self) -> None:
        """Start the probe zeroing (``ZPROBE``): the probe must sit in a zero-gauss chamber."""
        self.write("ZPROBE")


class LakeShore475(LakeShore455):
    """Lake Shore Model 475 DSP gaussmeter: the 455's command set for the members used here
    (Lake Shore 475 user's manual, chapter 6). Its field-control loop (CMODE, CSETP) and the
    FILT filter commands are not driven: they could not be checked against the manual."""

    def __init__(self, adapter, name="Lake Shore 475 DSP gaussmeter", **kwargs):
        super().__init__(adapter, name=name, **kwargs)
