#!/bin/sh
# The GUI's screenshot tests under a real X server (Xvfb) instead of Qt's offscreen platform:
# every procedure's window with data, in the light and a dark theme, not blank, each curve
# plot showing its run's colour (tests/gui/test_gui_screenshots.py), and the window checks.
#   scripts/gui_screenshots.sh [PYTHON]        (PYTHON defaults to python)
# Needs xvfb-run and the libraries of Qt's xcb platform plugin (Qt >= 6.5: libxcb-cursor0;
# QT_DEBUG_PLUGINS=1 names a missing one).
set -e
cd "$(dirname "$0")/.."
PYTHON=${1:-python}
LABSPIN_QT_PLATFORM=xcb exec xvfb-run -a -s "-screen 0 1366x768x24" \
    "$PYTHON" -m pytest -q -p no:cacheprovider tests/gui/test_gui_screenshots.py \
    tests/gui/test_gui_windows.py
