"""field-sweep keeps only keys that mean something (issue 18): an MR ratio of a loop read
on a Hall probe is not output; a loop without a Hall probe keeps it."""
import numpy as np
import pandas as pd

from labspin.procedures.field_sweep_analysis import analyze_field_sweep


def _loop(probe: str | None) -> pd.DataFrame:
    """A square loop ±0.1 T, switching at ∓20 mT, levels 1000 ± 2.5 Ω, 1 mΩ noise."""
    up0 = np.linspace(0.0, 0.1, 21)
    down = np.linspace(0.1, -0.1, 81)
    up = np.linspace(-0.1, 0.1, 81)
    field = np.concatenate([up0, down, up])
    branch = np.concatenate([np.ones(21), -np.ones(81), np.ones(81)])
    level = np.concatenate([np.ones(21), np.where(down > -0.02, 1, -1),
                            np.where(up < 0.02, -1, 1)])
    r = 1000 + 2.5 * level + 1e-3 * np.random.default_rng(0).standard_normal(field.size)
    df = pd.DataFrame({"Field (T)": field, "Branch": branch, "Resistance (ohm)": r})
    if probe:
        df["Probe"] = probe
    return df


def test_a_hall_loop_has_no_mr_ratio():
    hall = analyze_field_sweep(_loop("voltmeter"))
    assert "mr_ratio" not in hall and "mr_ratio_err" not in hall
    assert abs(hall["dr_ahe_ohm"] - 2.5) < 5 * hall["dr_ahe_ohm_err"] + 1e-3
    assert abs(hall["mu0_hc_T"] - 0.02) < 3e-3
    plain = analyze_field_sweep(_loop(None))
    assert abs(plain["mr_ratio"] - 5.0 / 997.5) < 1e-4


def test_each_readout_keeps_only_its_own_amplitude():
    """A junction's or R_xx loop has an MR ratio and no ΔR_AHE; a Hall loop the reverse; a
    file that does not say (another lab's, no Probe column) gets both and a warning naming
    --option readout, and the option decides."""
    import pytest

    plain = analyze_field_sweep(_loop(None))
    assert {"mr_ratio", "dr_ahe_ohm"} <= set(plain)
    assert any("readout=hall or readout=longitudinal" in w for w in plain["warnings"])
    longitudinal = analyze_field_sweep(_loop(None), readout="longitudinal")
    assert "dr_ahe_ohm" not in longitudinal and "warnings" not in longitudinal
    assert longitudinal["mr_ratio"] == plain["mr_ratio"]
    hall = analyze_field_sweep(_loop(None), readout="hall")
    assert "mr_ratio" not in hall and hall["dr_ahe_ohm"] == plain["dr_ahe_ohm"]
    own = analyze_field_sweep(_loop("source meter"))      # labspin's R_xx probe
    assert "dr_ahe_ohm" not in own and "mr_ratio" in own and "warnings" not in own
    with pytest.raises(ValueError, match="readout: 'xx'; expected one of auto, hall"):
        analyze_field_sweep(_loop(None), readout="xx")
    with pytest.raises(ValueError, match="unknown option"):
        analyze_field_sweep(_loop(None), redout="hall")
