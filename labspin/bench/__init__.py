"""The bench: its config (instruments, roles, limits, magnet), the safety policy (limits,
slew-limited ramps, shutdown of every source), the clock (wall or virtual) and opening a
bench's instruments (:class:`labspin.bench.session.Bench`).

Driver classes are found through :mod:`labspin.bench.registry`'s table of import paths, so
this package imports no driver module itself (drivers import the bench, not the reverse)."""
