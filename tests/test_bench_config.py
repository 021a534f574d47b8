"""Bench config validation (messages name the key) and `labspin bench check`."""
import socket
import threading
import tomllib

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from labspin.bench.config import EXAMPLE, ConfigError, load_bench_config, parse_bench_config
from labspin.cli.main import main


def _example() -> dict:
    return tomllib.loads(EXAMPLE.read_text(encoding="utf-8"))


def test_example_config_is_valid():
    bench = load_bench_config(EXAMPLE)
    assert len(bench.instruments) == 10
    assert [i.name for i in bench.by_role("lock_in")] == ["lockin_1w", "lockin_2w"]
    assert bench.magnet.gaussmeter == "gaussmeter"
    assert bench.magnet.calibration.remanence_T == pytest.approx((-0.004, 0.004))
    assert len(bench.sha256) == 64


@pytest.mark.parametrize("edit, message", [
    (lambda d: d["instruments"]["smu"].update(resouce="x"), r"instruments.smu.resouce: unknown key \(did you mean 'resource'\?\)"),
    (lambda d: d["instruments"]["smu"].update(role="lockin"), r"instruments.smu.role: 'lockin' is not a role; roles: source_meter"),
    (lambda d: d["instruments"]["smu"].update(driver="keithly2400"), r"instruments.smu.driver: unknown driver 'keithly2400' \(did you mean 'keithley2400'\?\)"),
    (lambda d: d["instruments"]["smu"].update(driver="sr830"), r"instruments.smu.driver: sr830 cannot serve role 'source_meter' \(it serves lock_in\)"),
    (lambda d: d["instruments"]["smu"].pop("resource"), r"instruments.smu.resource: missing: a VISA resource string"),
    (lambda d: d["limits"].update(max_field_T=-1), r"limits.max_field_T: must be > 0, got -1"),
    (lambda d: d["limits"].update(max_field_T="1 T"), r"limits.max_field_T: must be a finite number, got '1 T'"),
    (lambda d: d["limits"].pop("max_rf_power_dBm"), r"limits.max_rf_power_dBm: missing"),
    (lambda d: d.pop("limits"), r"limits: missing: the bench's safety limits are required"),
    (lambda d: d["magnet"].update(supply="psu"), r"magnet.supply: 'psu' is not an instrument with role magnet_supply; those are: \['magnet_psu'\]"),
    (lambda d: d["magnet"]["calibration"].update(field_up_T=[0, 1, 2, 3, 2, 5, 6]), r"magnet.calibration: calibration field_up_T must increase"),
    (lambda d: d["magnet"].pop("calibration"), r"magnet.calibration: missing"),
    (lambda d: d.update(instrument={}), r"instrument: unknown key \(did you mean 'instruments'\?\)"),
])
def test_bad_configs_name_the_key(edit, message):
    d = _example()
    edit(d)
    with pytest.raises(ConfigError, match=message):
        parse_bench_config(d)


def test_every_problem_is_reported_at_once():
    d = _example()
    d["limits"]["max_field_T"] = 0
    d["instruments"]["rf"]["driver"] = "nope"
    with pytest.raises(ConfigError, match="2 problem") as e:
        parse_bench_config(d)
    assert "limits.max_field_T" in str(e.value) and "instruments.rf.driver" in str(e.value)


_values = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=True),
                    st.text(max_size=8), st.lists(st.integers(), max_size=3),
                    st.dictionaries(st.text(max_size=4), st.integers(), max_size=2))


@settings(max_examples=200, deadline=None)
@given(section=st.sampled_from(["limits", "magnet", "instruments.smu", "magnet.calibration"]),
       key=st.text(min_size=1, max_size=12), value=_values)
def test_garbage_values_give_config_errors_not_crashes(section, key, value):
    d = _example()
    table = d
    for part in section.split("."):
        table = table[part]
    table[key] = value
    try:
        parse_bench_config(d)
    except ConfigError:
        pass


def test_cli_bench_check_reports_problems_without_traceback(tmp_path, capsys):
    bad = tmp_path / "bench.toml"
    bad.write_text(EXAMPLE.read_text().replace('driver = "sr830"', 'driver = "sr831"'))
    assert main(["bench", "check", str(bad), "--no-connect"]) == 2
    err = capsys.readouterr().err
    assert "instruments.lockin_1w.driver: unknown driver 'sr831'" in err
    assert "Traceback" not in err
    (tmp_path / "broken.toml").write_text("[limits\nmax_field_T = ")
    assert main(["bench", "check", str(tmp_path / "broken.toml")]) == 2
    assert "not valid TOML" in capsys.readouterr().err
    assert main(["bench", "check", str(tmp_path / "absent.toml")]) == 2
    assert "cannot read bench config" in capsys.readouterr().err


def test_cli_bench_example_round_trips(tmp_path, capsys):
    assert main(["bench", "example"]) == 0
    f = tmp_path / "b.toml"
    f.write_text(capsys.readouterr().out)
    assert main(["bench", "check", str(f), "--no-connect"]) == 0


class _IdnServer:
    """A loopback SCPI socket answering '*IDN?' with a fixed identity (one client at a time)."""

    def __init__(self, identity: str):
        self.identity = identity
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(4)
        self.sock.settimeout(5.0)
        self.port = self.sock.getsockname()[1]
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self):
        try:
            conn, _ = self.sock.accept()
        except OSError:
            return
        with conn:
            conn.settimeout(5.0)
            buf = b""
            while True:
                try:
                    data = conn.recv(1024)
                except OSError:
                    return
                if not data:
                    return
                buf += data
                while b"\n" in buf:
                    line, buf = buf.split(b"\n", 1)
                    if line.strip().upper() == b"*IDN?":
                        conn.sendall(self.identity.encode() + b"\n")


def test_cli_bench_check_queries_identities_over_loopback(tmp_path, capsys):
    lockin = _IdnServer("Stanford_Research_Systems,SR830,s/n12345,ver1.07")
    rf = _IdnServer("Agilent Technologies, E8257D, MY12345678, C.06.28")
    closed = socket.socket()
    closed.bind(("127.0.0.1", 0))
    dead_port = closed.getsockname()[1]
    closed.close()
    cfg = f"""
[limits]
max_sample_current_A = 1e-3
max_field_T = 0.5
max_field_ramp_T_per_s = 0.05
max_rf_power_dBm = 10
[instruments.lockin]
role = "lock_in"
driver = "sr830"
resource = "TCPIP::127.0.0.1::{lockin.port}::SOCKET"
visa_library = "@py"
timeout_ms = 2000
[instruments.rf]
role = "rf_source"
driver = "e8257d"
resource = "TCPIP::127.0.0.1::{rf.port}::SOCKET"
visa_library = "@py"
timeout_ms = 2000
[instruments.gone]
role = "lock_in"
driver = "sr860"
resource = "TCPIP::127.0.0.1::{dead_port}::SOCKET"
visa_library = "@py"
timeout_ms = 500
"""
    f = tmp_path / "bench.toml"
    f.write_text(cfg)
    assert main(["bench", "check", str(f)]) == 1
    out = capsys.readouterr()
    assert "ok   lockin" in out.out and "SR830,s/n12345" in out.out
    assert "ok   rf" in out.out and "E8257D" in out.out
    assert "FAIL gone" in out.out and str(dead_port) in out.out
    assert "1 of 3 instruments did not answer" in out.err
