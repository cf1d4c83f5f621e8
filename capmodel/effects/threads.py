"""One BLAS thread while computing effects.

The effect computations are many small matrix products; a multithreaded BLAS on a busy machine
(e.g. next to a running fit) makes each of them up to 100x slower, and takes cores the user
needs. Every public effect function runs under :func:`single_blas_thread`.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from threadpoolctl import threadpool_limits


def single_blas_thread[F: Callable[..., Any]](fn: F) -> F:
    """Decorator: run ``fn`` with BLAS limited to one thread."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        with threadpool_limits(limits=1, user_api="blas"):
            return fn(*args, **kwargs)

    return wrapper  # type: ignore[return-value]
