"""physics.md check 7 at T > 0: ⟨m·Ĥ⟩ = L(ξ_eff) across the transition, and the demo CLI."""
import numpy as np
import pytest

from labspin.cli.demo import kapitza_sample
from labspin.cli.main import main
from labspin.physics.kapitza import kapitza_map


@pytest.mark.parametrize("duration_s, repeats", [
    (2e-6, 16), pytest.param(8e-6, 32, marks=pytest.mark.slow)])
def test_m_dot_h_follows_langevin_of_xi_eff(duration_s, repeats):
    r = kapitza_map(kapitza_sample(), duration_s=duration_s, repeats=repeats, seed=3)
    # the grid spans the transition: aligned at I = 0, anti-aligned at 2 I_c
    assert np.all(r.m_dot_h[:, 0] > 0.5) and np.all(r.m_dot_h[:, -1] < -0.5)
    t = (r.m_dot_h - r.theory) / r.m_dot_h_err
    # each t is Student-t with ν = repeats − 1: E[t²] = ν/(ν − 2), Var[t²] = 2ν²(ν−1)/((ν−2)²(ν−4))
    nu = repeats - 1
    mean_t2 = nu / (nu - 2)
    sd_mean = np.sqrt(2 * nu ** 2 * (nu - 1) / ((nu - 2) ** 2 * (nu - 4)) / t.size)
    assert np.mean(t ** 2) < mean_t2 + 4 * sd_mean, np.mean(t ** 2)
    assert np.abs(t).max() < 7


def test_demo_cli_writes_png_and_prints_its_path_last(tmp_path, capsys):
    assert main(["demo", "kapitza", "--quick", "--out", str(tmp_path), "--seed", "1"]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    assert lines[-1] == str(tmp_path / "kapitza_map.png")
    assert (tmp_path / "kapitza_map.png").stat().st_size > 10_000
    data = np.genfromtxt(tmp_path / "kapitza_map.csv", delimiter=",", names=True)
    assert data.size == 4 * 21


def test_demo_cli_rejects_bad_temperature(capsys):
    with pytest.raises(SystemExit) as e:
        main(["demo", "kapitza", "--temperature", "-3"])
    assert e.value.code == 2
    assert "--temperature must be > 0 K" in capsys.readouterr().err


def test_demo_on_dask_workers_writes_the_in_process_map(tmp_path, capsys):
    pytest.importorskip("distributed")
    args = ["demo", "kapitza", "--quick", "--seed", "2", "--repeats", "3"]
    assert main(args + ["--out", str(tmp_path / "here")]) == 0
    assert main(args + ["--out", str(tmp_path / "there"), "--workers", "2"]) == 0
    here = (tmp_path / "here" / "kapitza_map.csv").read_bytes()
    assert here == (tmp_path / "there" / "kapitza_map.csv").read_bytes()


def test_demo_cli_rejects_one_repeat(capsys):
    assert main(["demo", "kapitza", "--repeats", "1", "--out", "unused"]) == 2
    assert "repeats must be ≥ 2" in capsys.readouterr().err
