"""The physics: the macrospin core (:mod:`labspin.physics.macrospin`: LLG kernels,
ensembles, equilibrium, linear response), readout (AMR/SMR/AHE/PHE/TMR), telegraph noise,
the domain-wall random source, thermally activated switching and the Kapitza state.

Imports no other labspin package (a test keeps it so): the simulator and the analysis both
build on it."""
