"""Groups of a run stay distinguishable however many there are (issue 15, item 8; kapitza-map
has a group per field): two groups of one run differ in CIELAB lightness by at least
MIN_DELTA_L (what every eye, colour-blind or not, sees) or in line style and marker, and
every shade keeps its distance from the plot's background."""
import numpy as np
import pytest
from test_gui_plots_draw import _curves, _write

from labspin.gui.theme import (
    LIGHTNESS_ON_DARK,
    LIGHTNESS_ON_LIGHT,
    MIN_DELTA_L,
    OKABE_ITO_ON_DARK,
    OKABE_ITO_ON_LIGHT,
    delta_e,
    group_looks,
    lab,
)
from labspin.procedures import procedure_class

ROUNDING = 0.6
"""L* lost to 8-bit colour channels (one step of 255 moves L* by at most ~0.4)."""


def test_lab_of_reference_colours():
    """sRGB white, black and pure red in CIELAB (D65): 100/0/0, 0/0/0, 53.2/80.1/67.2."""
    np.testing.assert_allclose(lab("#ffffff"), (100, 0, 0), atol=0.05)
    np.testing.assert_allclose(lab("#000000"), (0, 0, 0), atol=0.05)
    np.testing.assert_allclose(lab("#ff0000"), (53.24, 80.09, 67.20), atol=0.05)


@pytest.mark.parametrize("dark", [False, True])
@pytest.mark.parametrize("count", [1, 2, 3, 5, 8, 13, 20])
def test_two_groups_differ_in_lightness_or_in_style(qapp, dark, count):
    lo, hi = LIGHTNESS_ON_DARK if dark else LIGHTNESS_ON_LIGHT
    for colour in OKABE_ITO_ON_DARK if dark else OKABE_ITO_ON_LIGHT:
        looks = group_looks(colour, count, dark)
        assert len(looks) == count
        if count == 1:
            assert looks[0].color.name() == colour.lower()     # the run's own colour
            continue
        for i, a in enumerate(looks):
            assert lo - ROUNDING <= lab(a.color)[0] <= hi + ROUNDING, (colour, a.color.name())
            for b in looks[i + 1:]:
                if (a.dash, a.symbol) != (b.dash, b.symbol):
                    continue
                d_l = abs(lab(a.color)[0] - lab(b.color)[0])
                assert d_l >= MIN_DELTA_L - ROUNDING, (colour, a.color.name(), b.color.name())
                assert delta_e(a.color, b.color) >= d_l
        # within one style the shades are ordered in lightness (the groups' order)
        first = [lab(look.color)[0] for look in looks
                 if (look.dash, look.symbol) == (looks[0].dash, looks[0].symbol)]
        assert np.all(np.diff(first) > 0) if dark else np.all(np.diff(first) < 0)


def test_eight_field_groups_of_kapitza_map_are_drawn_distinguishable(qapp, window, tmp_path):
    """A loaded kapitza-map file with 8 field groups: the curves of its groups are drawn in
    pens that differ pairwise in lightness (≥ MIN_DELTA_L) or in dash and marker."""
    name = "kapitza-map"
    columns = procedure_class(name).DATA_COLUMNS
    fields = np.repeat(np.linspace(-0.02, 0.02, 8), 5)
    currents = np.tile(np.linspace(1e-6, 2e-5, 5), 8)
    cols = {c: np.zeros(fields.size) for c in columns}
    cols["Field set (T)"], cols["Current (A)"] = fields, currents
    cols["Hall resistance (ohm)"] = 1e4 * fields * currents / 2e-5
    path = tmp_path / "eight.csv"
    _write(path, name, cols)
    win = window(name)
    exp = win.load_results(path, analyze=False)
    grouped = [item for item in exp.curve_list if item is not None and item.view.shade_by
               == "Field set (T)"]
    assert grouped
    for item in grouped:
        curves = _curves(item)
        assert len(curves) == 8
        pens = [(c.opts["pen"].color(), c.opts["pen"].style(), c.opts["symbol"])
                for c in curves]
        for i, (ca, da, sa) in enumerate(pens):
            for cb, db, sb in pens[i + 1:]:
                assert (da, sa) != (db, sb) or \
                    abs(lab(ca)[0] - lab(cb)[0]) >= MIN_DELTA_L - ROUNDING
