"""``labspin analyze NAME FILE --plot PNG`` (issue 7, "Analysis output"): for every procedure a
quick simulated run is analyzed through the CLI into a PNG, which must be a real image, and
the figure must show the fit and the key numbers the analysis reported (value ± error, read
back from the figure's text and compared with the JSON within the displayed rounding)."""
import json
import math
import re

import numpy as np
import pandas as pd
import pytest
from matplotlib.image import imread

from labspin.cli.main import main
from labspin.procedures import PROCEDURES
from labspin.procedures import figures as plotting
from labspin.procedures.figures import format_value, split_unit
from labspin.procedures.plots import plot_analysis
from labspin.results.reader import read_table
from labspin.run import api

# small runs (a few seconds each on the simulated bench) that the analyses still fit, and the
# number each procedure is run for: from the registry, so a new procedure is drawn here too
QUICK = {name: entry.quick for name, entry in PROCEDURES.items()}
# further cases: (procedure, parameters, simulated sample, analysis options). Angle scans at
# two fields determine neither ΔR_A nor M_eff: an experimenter brings them from an out-of-plane
# field sweep and ST-FMR (here the sample file's nominal 0.8 Ω and ≈ 0.80 T, with errors)
EXTRA = {"harmonic-hall angle scans": ("harmonic-hall", {
    "scan": "angle scans", "scan_fields": "0.1, 0.3", "angle_step": 60}, "inplane_sot_hallbar",
    ["--option", "dr_ahe_ohm=0.80±0.05", "--option", "mu0_meff_T=0.80±0.02"])}
PREFIX = {"G": 1e9, "M": 1e6, "k": 1e3, "": 1.0, "m": 1e-3, "µ": 1e-6, "n": 1e-9, "p": 1e-12}


@pytest.fixture(scope="module")
def quick_file(tmp_path_factory):
    """Get file(name): the results file of one quick simulated run of the procedure, made
    once per module."""
    out = tmp_path_factory.mktemp("quick")
    cache = {}

    def get(case):
        if case not in cache:
            name, params, sample, _ = EXTRA.get(case, (case, QUICK.get(case), None, []))
            run = api.run(name, params=params, sample=sample, out=out, seed=1)
            assert run.status_name == "FINISHED", run.message
            cache[case] = run.path
        return cache[case]
    return get


def _si(key: str, number: str, unit: str) -> float:
    """Get the SI value of a displayed number with its unit (prefix + the key's unit)."""
    base = split_unit(key)[1]
    assert unit.endswith(base.removeprefix("/")), (key, unit)
    if base.startswith("/"):                       # per unit: '/µA' means the value × 1e6
        return float(number) / PREFIX[unit[1:len(unit) - len(base) + 1]]
    return float(number) * PREFIX[unit[:len(unit) - len(base)] if base else ""]


def _shown(fig) -> dict[str, tuple[float, float | None, float]]:
    """Get {key: (value, error or None, half the last displayed digit)} from the figure's
    key-number texts (gid = the analysis key), in SI units."""
    out = {}
    for t in fig.texts:
        key = t.get_gid()
        if not key:
            continue
        text = t.get_text().rsplit(" = ", 1)[1]
        m = re.fullmatch(r"(-?[0-9.]+(?:e[-+]?\d+)?)(?: ± ([0-9.]+))?(?: (\S+))?", text)
        assert m, text
        number, err, unit = m.group(1), m.group(2), m.group(3) or ""
        if err is not None:        # rounded where the error's second significant digit is
            half = 0.5 * 10.0 ** (math.floor(math.log10(float(err))) - 1)
        else:                      # as printed
            mantissa, _, exponent = number.partition("e")
            decimals = len(mantissa.split(".")[1]) if "." in mantissa else 0
            half = 0.5 * 10.0 ** (int(exponent or 0) - decimals)
        out[key] = (_si(key, number, unit), None if err is None else _si(key, err, unit),
                    half * abs(_si(key, "1", unit)))
    return out


@pytest.mark.parametrize("case", sorted(QUICK) + sorted(EXTRA))
def test_analyze_plot_draws_the_fit_and_the_key_numbers(case, quick_file, tmp_path, capsys,
                                                         monkeypatch):
    path = quick_file(case)
    name, *_, options = EXTRA.get(case, (case, []))
    png = tmp_path / "figure.png"
    figures = []
    save = plotting.save_figure
    monkeypatch.setattr(plotting, "save_figure", lambda fig, p: figures.append(fig) or save(fig, p))
    assert main(["analyze", name, str(path), "--json", "--plot", str(png), *options]) == 0
    std = capsys.readouterr()
    result = json.loads(std.out)
    assert f"plot: {png}" in std.err
    data = png.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 20_000
    img = imread(png)
    assert img.shape[0] >= 400 and img.shape[1] >= 800
    assert np.std(img[..., :3]) > 0.05                        # something drawn, not blank

    fig, = figures                                   # the figure the CLI drew
    assert fig._suptitle.get_text().startswith(name)
    assert path.name in " ".join(t.get_text() for t in fig.texts)
    assert any(a.get_gid() == "fit" for ax in fig.axes for a in ax.get_children()), \
        "the fitted curve is drawn"
    shown = _shown(fig)
    assert len(shown) >= 2, shown
    for key, (value, err, half) in shown.items():
        assert value == pytest.approx(result[key], abs=half * 1.0001 + 1e-300), key
        if err is not None:
            # the error is shown to two significant digits
            assert err == pytest.approx(result[key + "_err"], rel=0.051, abs=half * 1.0001), key
    # the headline number of the procedure is on the figure
    assert PROCEDURES[name].headline in shown


def test_amr_and_smr_from_three_directions_are_plotted(tmp_path, capsys):
    """The field-sweep figure of saturated R_xx along z, x and y: the AMR/SMR model levels."""
    files = []
    for direction, angle in (("normal", 0), ("in-plane", 0), ("in-plane", 90)):
        run = api.run("field-sweep", out=tmp_path, params={
            "max_field": 0.4, "field_step": 0.1, "probe": "source meter",
            "field_direction": direction, "field_angle": angle})
        files.append(str(run.path))
    png = tmp_path / "amr.png"
    assert main(["analyze", "field-sweep", *files, "--json", "--plot", str(png)]) == 0
    result = json.loads(capsys.readouterr().out)
    fig = plot_analysis("field-sweep",
                        pd.concat([read_table(f) for f in files], ignore_index=True), result)
    shown = _shown(fig)
    for key in ("r0_ohm", "dr_amr_ohm", "dr_smr_ohm"):
        value, _, half = shown[key]
        assert value == pytest.approx(result[key], abs=half * 1.0001)
    levels = sorted(ln.get_ydata()[0] for ax in fig.axes for ln in ax.get_lines()
                    if ln.get_gid() == "fit")
    expected = sorted([result["r0_ohm"], result["r0_ohm"] + result["dr_amr_ohm"],
                       result["r0_ohm"] + result["dr_smr_ohm"]])
    assert levels == pytest.approx(expected, rel=1e-12)


def test_a_plot_that_cannot_be_written_fails_after_the_numbers(quick_file, tmp_path, capsys):
    path = quick_file("magnet-calibration")
    png = tmp_path / "no_such_folder" / "cal.png"
    assert main(["analyze", "magnet-calibration", str(path), "--json", "--plot", str(png)]) == 1
    std = capsys.readouterr()
    assert "tesla_per_A" in json.loads(std.out)
    assert "cannot draw" in std.err and str(png) in std.err


@pytest.mark.parametrize("value, err, unit, text", [
    (0.0849, 0.00204, "T", "84.9 ± 2.0 mT"),
    (9e-6, 2.04e-3, "T", "0.0 ± 2.0 mT"),                 # the error sets the scale
    (-2.8549990, 1.3e-6, "Ω", "-2.8549990 ± 0.0000013 Ω"),
    (3614724.0, 1079175.0, "/A", "3.6 ± 1.1 /µA"),
    (391.0, 66.0, "/T", "391 ± 66 /T"),
    (2.73e13, 2.4e10, "Hz/A", "27300 ± 24 GHz/A"),
    (0.0079602, 2.1e-5, "", "0.007960 ± 0.000021"),
    (2205.0, 31.0, "T/A", "2205 ± 31 T/A"),
    (0.6204, None, "", "0.6204"),
    (1.5e-9, float("nan"), "s", "1.5 ns"),
    (float("nan"), 1.0, "A", "n/a"),
])
def test_values_are_rounded_to_their_error(value, err, unit, text):
    assert format_value(value, err, unit) == text


def test_a_number_rounds_to_the_second_digit_of_its_error():
    for value, err in ((1.23456, 0.0123), (98765.4, 432.1), (-5.5e-7, 3.3e-9)):
        number, shown_err = format_value(value, err, "").split(" ± ")
        assert float(shown_err) == pytest.approx(float(f"{err:.2g}"), rel=1e-9)
        half = 0.5 * 10.0 ** (math.floor(math.log10(err)) - 1)
        assert abs(float(number) - value) <= half * (1 + 1e-9)


def _assert_same_result(got, expected, rel: float, where: str = "result") -> None:
    """Assert two analysis results (nested dicts/lists of JSON values: the per-polarity and
    per-line records) are equal, numbers within rel (None = null for non-finite)."""
    if isinstance(expected, dict):
        assert isinstance(got, dict) and set(got) == set(expected), where
        for key in expected:
            _assert_same_result(got[key], expected[key], rel, f"{where}[{key!r}]")
    elif isinstance(expected, list):
        assert isinstance(got, list) and len(got) == len(expected), where
        for i, (g, e) in enumerate(zip(got, expected)):
            _assert_same_result(g, e, rel, f"{where}[{i}]")
    elif isinstance(expected, float) and math.isfinite(expected) and not isinstance(got, bool):
        assert got == pytest.approx(expected, rel=rel, abs=1e-300), where
    elif isinstance(expected, float):                    # non-finite: JSON wrote null
        assert got is None, where
    else:
        assert got == expected, where


def test_several_files_are_analyzed_and_drawn_with_the_first_files_header(
        quick_file, tmp_path, capsys, monkeypatch):
    """pandas drops the header attrs when concatenating files whose headers differ; the
    analysis (ST-FMR's magnet and field angle from the header) and the figure's title use
    the first file's."""
    from labspin.procedures.stfmr_analysis import analyze_stfmr
    first = quick_file("stfmr")
    second = api.run("stfmr", out=tmp_path, seed=2, params={
        "frequencies": "10", "dc_currents": "-0.002, 0.002", "field_points": 21}).path
    figures = []
    monkeypatch.setattr(plotting, "save_figure", lambda fig, p: figures.append(fig))
    assert main(["analyze", "stfmr", str(first), str(second), "--json",
                 "--plot", str(tmp_path / "two.png")]) == 0
    result = json.loads(capsys.readouterr().out)
    frames = [read_table(first), read_table(second)]
    table = pd.concat(frames, ignore_index=True)
    assert not table.attrs                                  # what pandas does
    table.attrs = dict(frames[0].attrs)
    # labspin analyze tells the analysis where each file starts: sweeps never merge across files
    table.attrs["file_rows"] = [(str(f), len(fr)) for f, fr in zip((first, second), frames)]
    _assert_same_result(result, analyze_stfmr(table), rel=1e-12)
    assert figures[0]._suptitle.get_text() == "stfmr — sample inplane_sot_hallbar"
