"""An upper bound on input-pipeline throughput: the machine's memory-copy bandwidth for its bytes.

Every tf.data pipeline here writes each element's bytes at least once into a batch tensor, so no
pipeline can deliver elements faster than the machine can copy their bytes. The NumPy feed that
the report compares pipelines with is not such a bound (it slices from Python, one batch per
call, and tf.data pipelines beat it); this is. The copy is spread over every core (NumPy's copy
releases the GIL), since a pipeline's parallel stages may use them all; each thread writes into
one small target it reuses, as a pipeline's allocator reuses freed batch buffers, so the writes
stay in cache; and the best of several repeats is kept, because a bound should not be lowered
by a moment of interference.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import numpy as np

from tf2bench.errors import UsageError

__all__ = ["CHUNK_BYTES", "CopyBound", "copy_bandwidth"]

# Bytes written per copy call: large enough that NumPy's per-call cost is negligible, small
# enough to stay in a core's L2 cache.
CHUNK_BYTES = 256 << 10


def copy_bandwidth(
    nbytes: int,
    *,
    repeats: int = 50,
    threads: int | None = None,
    clock: Callable[[], float] = time.perf_counter,
) -> float:
    """The best memory-copy bandwidth in bytes/s for `nbytes`, over `threads` threads.

    Args:
        nbytes: bytes copied per repeat (use the bytes of one benchmark round).
        repeats: copies timed; the fastest is kept.
        threads: threads sharing each copy; default every core.
        clock: the timer (injected by tests).

    Returns:
        bytes per second.
    """
    if not isinstance(nbytes, int) or nbytes < 1:
        raise UsageError(f"Received nbytes={nbytes!r}, expected a positive number of bytes")
    threads = threads or os.cpu_count() or 1
    source = np.ones(nbytes, dtype=np.uint8)
    bounds = np.linspace(0, nbytes, threads + 1, dtype=int)
    shares = [source[a:b] for a, b in zip(bounds[:-1], bounds[1:], strict=True)]
    targets = [np.empty(min(CHUNK_BYTES, max(share.size, 1)), np.uint8) for share in shares]

    def copy(index: int) -> None:
        share, target = shares[index], targets[index]
        for offset in range(0, share.size, target.size):
            piece = share[offset : offset + target.size]
            np.copyto(target[: piece.size], piece)

    best = float("inf")
    with ThreadPoolExecutor(threads) as pool:
        for repeat in range(repeats + 1):
            start = clock()
            list(pool.map(copy, range(threads)))
            elapsed = clock() - start
            if repeat:  # the first copy faults the target's pages in: not timed
                best = min(best, elapsed)
    return nbytes / best


class CopyBound:
    """Elements/s at the copy bound for elements of `element_bytes`, measured once on first use.

    Args:
        element_bytes: bytes of one element (image and label).
        elements_per_round: elements of one benchmark round; their bytes are what is copied.
    """

    def __init__(self, element_bytes: int, elements_per_round: int) -> None:
        self.element_bytes = element_bytes
        self.elements_per_round = elements_per_round
        self._per_s: float | None = None

    def per_s(self) -> float:
        if self._per_s is None:
            # NOTE: one thread and all of them, the faster kept: on a busy machine the threads
            # contend for cores and one thread can be the faster; a bound must be the higher.
            nbytes = self.element_bytes * self.elements_per_round
            bandwidth = max(copy_bandwidth(nbytes, threads=1), copy_bandwidth(nbytes))
            self._per_s = bandwidth / self.element_bytes
        return self._per_s

    def hook(self, call: Any, record: Any, name: str) -> dict[str, float]:
        """A harness after-hook: the benchmark's throughput over the copy bound."""
        if record.throughput_per_s is None:
            return {}
        return {"ratio_to_copy_bound": record.throughput_per_s / self.per_s()}
