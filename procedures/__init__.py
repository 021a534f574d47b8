"""Measurement procedures and their analysis (imported as ``labspin.procedures``)."""
