#!/bin/sh
# The GUI under a real X server (Xvfb) instead of Qt's offscreen platform: every procedure's
# window runs a small measurement on the simulated bench and each plot shows its points
# where they are (tests/gui/test_gui_real_runs.py, which prints what each window shows), at
# 100 % on a 1366×768 screen; then at 150 % scaling on 1600×1000, the windows fit
# (test_gui_fit.py) and three of them run and draw. LABSPIN_XVFB_ALL=1 adds every window
# with data in the light and a dark theme (test_gui_screenshots.py) and the window checks.
#   scripts/gui_screenshots.sh [PYTHON]        (PYTHON defaults to python)
# Needs xvfb-run and the libraries of Qt's xcb platform plugin (Debian: libxcb-cursor0
# libxcb-icccm4 libxcb-keysyms1 libxcb-xinerama0 libxkbcommon-x11-0 …, see .ci/run;
# QT_DEBUG_PLUGINS=1 names a missing one).
set -e
# -P: the installed labspin, not the checkout (as CI's plain `pytest`)
cd "$(dirname "$0")/.."
PYTHON=${1:-python}
export LABSPIN_QT_PLATFORM=xcb
more=""
[ -z "$LABSPIN_XVFB_ALL" ] || more="tests/gui/test_gui_screenshots.py tests/gui/test_gui_windows.py"
# shellcheck disable=SC2086
xvfb-run -a -s "-screen 0 1366x768x24" "$PYTHON" -P -m pytest -q -p no:cacheprovider \
    tests/gui/test_gui_real_runs.py $more
QT_SCALE_FACTOR=1.5 xvfb-run -a -s "-screen 0 1600x1000x24" "$PYTHON" -P -m pytest -q \
    -p no:cacheprovider tests/gui/test_gui_fit.py tests/gui/test_gui_real_runs.py \
    -k "not real_runs or field-sweep or stfmr or current-sweep"
