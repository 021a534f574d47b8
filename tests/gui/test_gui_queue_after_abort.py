"""Queue after an Abort (issue 15, item 5): the Abort pauses the queue; a run queued when no
other waits starts at once (the queue resumes with it), runs that wait say so in their queue
row and in the status bar until Resume runs them."""
from pymeasure.experiment import Procedure
from test_gui_runs import LONG, SMALL, _queue

from labspin.gui.window import WAITS_FOR_RESUME


def _abort_running(qtbot, win, exp):
    qtbot.waitUntil(lambda: exp.procedure.status == Procedure.RUNNING, timeout=30_000)
    win.abort_button.click()                    # the button, as a person aborts
    qtbot.waitUntil(lambda: not win.manager.is_running(), timeout=60_000)
    assert exp.procedure.status == Procedure.ABORTED


def test_queue_after_abort_with_nothing_waiting_runs_at_once(qtbot, window):
    win = window("field-sweep")
    _abort_running(qtbot, win, _queue(win, **LONG))
    assert win.queue_paused() and win.abort_button.text() == "Resume"
    exp = _queue(win, **SMALL)
    assert win.manager.is_running() or exp.procedure.status != Procedure.QUEUED
    assert not win.queue_paused() and win.queue_note.text() == ""
    qtbot.waitUntil(lambda: exp.procedure.status == Procedure.FINISHED
                    and not win.manager.is_running(), timeout=60_000)
    assert win.abort_button.text() == "Abort"


def test_runs_waiting_after_an_abort_say_they_wait_for_resume(qtbot, window):
    win = window("field-sweep")
    first = _queue(win, **LONG)
    second = _queue(win, **SMALL)                # waits behind the running one
    _abort_running(qtbot, win, first)
    assert win.queue_paused() and second.procedure.status == Procedure.QUEUED
    assert second.browser_item.text(3) == WAITS_FOR_RESUME
    note = win.queue_note.text()
    assert "Abort" in note and "1 run(s) wait" in note and "Resume" in note, note
    third = _queue(win, **SMALL)                 # joins the waiting run, does not jump it
    assert not win.manager.is_running() and third.procedure.status == Procedure.QUEUED
    assert third.browser_item.text(3) == WAITS_FOR_RESUME and "2 run(s)" in \
        win.queue_note.text()
    assert win.abort_button.isEnabled() and win.abort_button.text() == "Resume"
    win.abort_button.click()                     # Resume
    assert win.queue_note.text() == "" and third.browser_item.text(3) == "Queued"
    qtbot.waitUntil(lambda: third.procedure.status == Procedure.FINISHED
                    and not win.manager.is_running(), timeout=60_000)
    assert second.procedure.status == Procedure.FINISHED
    assert [e.browser_item.text(3) for e in (first, second, third)] == \
        ["Aborted", "Finished", "Finished"]
