"""labspin.run.status: the one adapter for pymeasure's statuses works with pymeasure 0.16's
integer constants and with main's ProcedureStatus enum (faked here)."""
import enum
import sys
import types

from pymeasure.experiment import Procedure

from labspin.run import runner
from labspin.run.status import procedure_statuses, status_name


def test_pymeasure_016_constants():
    assert procedure_statuses() == (Procedure.RUNNING, Procedure.FINISHED, Procedure.ABORTED,
                                    Procedure.FAILED)
    assert [status_name(s) for s in procedure_statuses()[1:]] == ["FINISHED", "ABORTED",
                                                                  "FAILED"]
    assert runner.status_tail(runner.ABORTED, "stop").split("#")[2:] == ["Status: ABORTED\n",
                                                                         "Message: stop\n"]


def test_pymeasure_main_enum(monkeypatch):
    status = enum.IntEnum("ProcedureStatus", "QUEUED RUNNING FAILED ABORTED FINISHED")
    module = types.ModuleType("fake_procedure")
    module.ProcedureStatus = status
    monkeypatch.setitem(sys.modules, "fake_procedure", module)

    class NewProcedure:                       # main's Procedure: no integer constants
        pass
    got = procedure_statuses(NewProcedure, "fake_procedure")
    assert got == (status.RUNNING, status.FINISHED, status.ABORTED, status.FAILED)
    assert [status_name(s) for s in got] == ["RUNNING", "FINISHED", "ABORTED", "FAILED"]
