"""Instrument drivers (imported as ``labspin.drivers``): source meters, lock-ins, RF sources,
spectrum analyzers, magnet supplies, gaussmeters and pulse generators."""
