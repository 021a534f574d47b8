"""GUI tests run without a display: Qt's offscreen platform, set before Qt is imported
(LABSPIN_QT_PLATFORM=xcb runs them on an X server instead: scripts/gui_screenshots.sh)."""
import os

os.environ["QT_QPA_PLATFORM"] = os.environ.get("LABSPIN_QT_PLATFORM", "offscreen")

import pytest


@pytest.fixture
def window(qapp, tmp_path):
    """Get make(name, **options) -> a shown ProcedureWindow writing to tmp_path; every window
    made is closed (a running measurement aborted and its bench made safe) at the end."""
    from labspin.gui.window import GuiOptions, ProcedureWindow
    made = []

    def make(name, **options):
        options.setdefault("out", str(tmp_path))
        w = ProcedureWindow(name, GuiOptions(**options))
        w.show()
        made.append(w)
        return w
    yield make
    for w in made:
        w.ask_before_closing = False               # a test's unfinished run: just abort it
        w.close()
        w.deleteLater()
    qapp.processEvents()
