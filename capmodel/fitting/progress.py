"""Sampling progress of numpyro's NUTS as plain lines: one each time the slowest chain passes
another tenth of its iterations, with the phase (tuning or sampling), the seconds since the
chains started and an estimate of the seconds left, flushed to a stream (stderr), so that a
log redirected to a file fills while the chains run (issue 11, item 7).

numpyro draws its per-chain tqdm bars from ``numpyro.util.progress_bar_factory`` when several
chains run under one compiled program (our ``chain_method``): :func:`numpyro_progress` puts
:func:`line_progress_factory` in its place for the duration of a run. The updates are
``io_callback`` calls at every ``rate`` iterations inside the compiled loop (about 20 per chain):
no Python call per gradient, and the programs stay in JAX's persistent cache."""

from __future__ import annotations

import contextlib
import sys
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any, TextIO

STEPS = 10  # a line each time the slowest chain passes another tenth of its iterations


class LineProgress:
    """The chains' iteration counts, and the lines they make (thread-safe: numpyro's callbacks
    may come from several threads)."""

    def __init__(self, total: int, chains: int, tune: int, stream: TextIO) -> None:
        self.total, self.chains, self.tune, self.stream = total, chains, tune, stream
        self.done: dict[int, int] = {}
        self.next_chain = 0
        self.printed = 0  # tenths already reported
        self.start: float | None = None
        self.lock = threading.Lock()

    def update(self, increment: int, chain: int) -> int:
        """Add ``increment`` iterations to ``chain`` (-1: a chain's first call, which gets its
        number here, as numpyro's bars do); print a line when the slowest chain has passed a
        new tenth. Returns the chain's number."""
        with self.lock:
            if chain < 0:
                chain = self.next_chain
                self.next_chain += 1
                self.done[chain] = 0
                if self.start is None:
                    self.start = time.perf_counter()
            self.done[chain] = min(self.done.get(chain, 0) + increment, self.total)
            if len(self.done) == self.chains:
                slowest = min(self.done.values())
                tenth = STEPS * slowest // self.total
                if tenth > self.printed:
                    self.printed = tenth
                    self.stream.write(self.line(slowest) + "\n")
                    self.stream.flush()
            return chain

    def line(self, slowest: int) -> str:
        elapsed = time.perf_counter() - (self.start or time.perf_counter())
        phase = "tuning" if slowest <= self.tune else "sampling"
        share = slowest / self.total
        left = elapsed * (1 - share) / share if share > 0 else float("nan")
        counts = " and ".join(f"{self.done[c]:,}" for c in sorted(self.done))
        text = (
            f"  {100 * share:3.0f}% ({phase}; chains at {counts} of {self.total:,} iterations), "
            f"{elapsed:.0f} s"
        )
        return text + (f", about {left:.0f} s left" if share < 1 else "")


def line_progress_factory(tune: int, stream: TextIO) -> Callable[[int, int, int], Any]:
    """A drop-in for ``numpyro.util.progress_bar_factory(num_samples, num_chains,
    progress_rate)`` that reports through :class:`LineProgress`."""

    def factory(num_samples: int, num_chains: int, progress_rate: int) -> Any:
        import jax
        import jax.numpy as jnp
        import numpy as np
        from jax import lax
        from jax.experimental import io_callback

        progress = LineProgress(num_samples, num_chains, tune, stream)
        remainder = num_samples % progress_rate

        def call(increment: int, chain: Any) -> Any:
            # the chain number keeps the carry's integer type (int64 when float64 is on)
            kind = jnp.asarray(chain).dtype
            return io_callback(
                lambda i, c: np.asarray(progress.update(int(i), int(c)), dtype=kind),
                jax.ShapeDtypeStruct((), kind),
                increment,
                chain,
            )

        def advance(iteration: Any, chain: Any) -> Any:
            chain = lax.cond(iteration == 1, lambda: call(0, chain), lambda: chain)
            chain = lax.cond(
                iteration % progress_rate == 0, lambda: call(progress_rate, chain), lambda: chain
            )
            return lax.cond(iteration == num_samples, lambda: call(remainder, chain), lambda: chain)

        def decorate(body: Callable[[Any, Any], Any]) -> Callable[[Any, Any], Any]:
            def wrapped(i: Any, vals: Any) -> Any:
                inner, chain = vals
                return body(i, inner), advance(i + 1, chain)

            return wrapped

        return decorate

    return factory


@contextlib.contextmanager
def numpyro_progress(tune: int, stream: TextIO | None = None) -> Iterator[None]:
    """Within the block, numpyro's multi-chain progress bars are :class:`LineProgress` lines on
    ``stream`` (default stderr)."""
    import numpyro.util

    original = numpyro.util.progress_bar_factory
    numpyro.util.progress_bar_factory = line_progress_factory(tune, stream or sys.stderr)
    try:
        yield
    finally:
        numpyro.util.progress_bar_factory = original
