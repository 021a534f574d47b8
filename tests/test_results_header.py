"""The one results-header reader: a file written by a labspin procedure, and other labs' lines."""
import pytest

from labspin.results.header import parse_header, read_header

HEADER = """#Procedure: <procedures.field_sweep.FieldSweep>
#Parameters:
#\tCurrent: 0.001 A
#\tMax field: 0.05 T
#Metadata:
#\tSample: pma_hall_bar
#\tSample constants: {"thickness_m": 1e-09, "thickness_m_err": 1e-10}
#\tSample parameters: {"mu0_ms_T": 1.2, "alpha": 0.01}
#\tSeed: 7
#Data:
Field (T),Hall resistance (ohm)
0.0,1.0
"""


def test_sections_and_the_two_kinds_of_sample_metadata_stay_apart(tmp_path):
    path = tmp_path / "run.csv"
    path.write_text(HEADER)
    h = read_header(path)
    assert h.parameters == {"Current": "0.001 A", "Max field": "0.05 T"}
    assert h.number("Current") == pytest.approx(1e-3)
    assert h.metadata["Sample"] == "pma_hall_bar" and h.number("Seed") == 7
    assert h.sample_constants == {"thickness_m": 1e-9, "thickness_m_err": 1e-10}
    assert h.sample_parameters == {"mu0_ms_T": 1.2, "alpha": 0.01}
    assert len(h.lines) == 10 and h.text.startswith("#Procedure")
    assert h.number("Sample") is None and h.number("absent") is None


def test_other_labs_key_value_lines_and_bad_json():
    h = parse_header("# frequency: 8 GHz\n# Sample parameters: {broken\n1,2\n")
    assert h.other["frequency"] == "8 GHz" and h.number("frequency") == 8.0
    assert h.sample_parameters == {} and h.parameters == {}


def test_trailer_is_the_key_value_lines_after_the_data(tmp_path):
    """The run's end (End time, Status, Message with a colon in it) as the runner appends
    it; '#' lines of the header are not in it."""
    from labspin.results.header import read_trailer
    f = tmp_path / "run.csv"
    f.write_text("#Procedure: <x>\n#Status: header-only\nA (V),B (V)\n1,2\n3,4\n"
                 "#End time: 2026-12-07T01:00:00\n#Status: FAILED\n#Message: Error: 2 mA\n")
    assert read_trailer(f) == {"End time": "2026-12-07T01:00:00", "Status": "FAILED",
                               "Message": "Error: 2 mA"}
