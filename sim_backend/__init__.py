"""Simulated instruments wired to a virtual sample (imported as ``labspin.sim_backend``)."""
