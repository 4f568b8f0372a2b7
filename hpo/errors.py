"""One exception family for hpo.

Every user mistake raises a subclass of both :class:`HPOError` and the matching builtin
(``ValueError`` or ``TypeError``), so ``except ValueError`` in user code keeps working while
``except hpo.HPOError`` catches everything hpo raises on purpose.
"""

from __future__ import annotations

import numbers
from typing import Any

__all__ = [
    "HPOError",
    "HPOValueError",
    "HPOTypeError",
    "TrialStateError",
    "StorageError",
    "DivergedError",
    "HPOWarning",
    "check_int",
]


class HPOError(Exception):
    """Base class of every error hpo raises on purpose."""


class HPOValueError(HPOError, ValueError):
    """A value breaks a rule: out of bounds, NaN where a number is needed, wrong count."""


class HPOTypeError(HPOError, TypeError):
    """A value has the wrong type."""


class TrialStateError(HPOValueError):
    """A trial is unknown, or is not in a state that allows the request (e.g. telling twice)."""


class StorageError(HPOError):
    """The storage cannot be opened or read, or holds a study that does not match."""


class DivergedError(HPOError):
    """A training curve has NaN/inf losses or diverges; ``reason`` says which and where, and
    ``step``, if known, the training steps the run took in all before it stopped. A tuner records
    it as a failed trial with that reason (see :mod:`hpo.proxy` and :mod:`hpo.prefix`)."""

    def __init__(self, reason: str, step: int | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.step = step


class HPOWarning(UserWarning):
    """A soft problem hpo handled, e.g. a fallback taken while fitting the model."""


def check_int(name: str, value: Any, low: int) -> int:
    """``value`` as an ``int``, if it is an integer (not a bool) ``>= low``; else an
    :class:`HPOValueError` naming the rule and the value (the one check of counts, steps and
    budgets across hpo)."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < low:
        raise HPOValueError(f"`{name} >= {low}` must hold (an integer), but got {name}={value!r}.")
    return int(value)
