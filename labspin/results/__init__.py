"""Results files: reading them (header, columns, units, sample constants and sample
parameters kept apart). Used by every analysis, the command line and the GUI; imports none
of labspin.run, labspin.cli or labspin.gui."""
