"""How a parallel kernel cuts N independent members (spins, walls) into work items.

numba's ``prange`` hands each thread one contiguous block of the iterations, so the items
must be a multiple of the thread count to keep every thread busy to the end: a call of 512
members cut into one item of 512 leaves every thread but one idle. :func:`item_length` gives
the length of the items, at most ``longest`` members (the vectorized inner loop's working
set), a whole number of 64-byte cache lines of float64 so that two threads never write into
one line. Results do not depend on it: each member's random numbers are keyed by its index.
"""
LINE = 8
"""float64 members per 64-byte cache line."""


def item_length(n: int, threads: int, longest: int) -> int:
    """Get the members per work item for ``n`` members on ``threads`` threads: items of at
    most ``longest`` (rounded up to a multiple of :data:`LINE`), their number a multiple of
    ``threads`` where ``n`` allows, so that the threads finish together."""
    threads = max(1, threads)
    per_thread = (n + threads - 1) // threads
    items = threads * max(1, (per_thread + longest - 1) // longest)
    length = (n + items - 1) // items
    return max(LINE, (length + LINE - 1) // LINE * LINE)
