"""Running measurements: the one run life cycle (:mod:`labspin.run.runner`: open, check,
run, shutdown, status) that the command line, the Python API (:mod:`labspin.run.api`),
sequences (:mod:`labspin.run.sequence`) and the GUI all call."""
