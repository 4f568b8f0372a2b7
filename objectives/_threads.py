"""One torch thread for the training targets' own computations."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

__all__ = ["one_thread"]


@contextlib.contextmanager
def one_thread() -> Iterator[None]:
    """torch computes on one thread inside the block; the caller's setting is restored after.

    The targets' models are tiny, where a second thread gains little and costs much when the other
    core is busy: a full learning-rate-schedule run took 35-70 s on 2 threads against 6 s on one
    with another process on the second core, and the preference demo 4m55s against ~1 min (both
    measured on this project's 2-core machine); on idle cores one thread cost 18 ms a step against
    14 ms. One thread also makes the losses independent of the thread count (two threads give other
    values in the last bits, which training amplifies).
    """
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(before)
