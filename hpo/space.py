"""Search spaces: parameter types, validation, and encoding to the model's input space.

Notation used in this module:
    d: number of parameters (one model column each, in the space's order).
    n: number of configurations.

Model encoding (one column per parameter, numpy float64):
    Float            the value itself (``log`` -> natural log of the value).
    Float with step  the value itself; decoding snaps to the grid ``low + k * step``.
    Int              the value itself (``log`` -> natural log); decoding rounds to the grid.
    Categorical      the index of the choice, ``0 .. k-1``.
``SearchSpace.bounds`` gives each column's bounds; the model normalises with them. Linear floats,
integers and categoricals round-trip exactly; log-floats round-trip to a relative error below
``(|ln v| + 2) * 2**-51`` (float64 ``log`` is not injective for large magnitudes, so no float64
encoding on a log scale can do better), and decoding always clips into ``[low, high]``.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Union

import numpy as np
import optuna.distributions as od

from hpo.errors import HPOTypeError, HPOValueError

__all__ = ["Float", "Int", "Categorical", "Param", "SearchSpace", "as_search_space"]

# Above this many grid points a discrete column is optimised by continuous relaxation + rounding.
_MAX_ENUMERATED_VALUES = 256
_CHOICE_TYPES = (type(None), bool, int, float, str)


def _check_real(name: str, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise HPOTypeError(f"`{name}` must be a real number, but got {value!r} ({type(value).__name__}).")
    value = float(value)
    if not math.isfinite(value):
        raise HPOValueError(f"`{name}` must be finite, but got {name}={value}.")
    return value


def _check_int(name: str, value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise HPOTypeError(f"`{name}` must be an integer, but got {value!r} ({type(value).__name__}).")
    return int(value)


@dataclass(frozen=True)
class Float:
    """A real parameter in ``[low, high]``; ``log=True`` searches on a log scale; ``step`` makes a grid."""

    low: float
    high: float
    log: bool = False
    step: float | None = None

    def __post_init__(self) -> None:
        low, high = _check_real("low", self.low), _check_real("high", self.high)
        object.__setattr__(self, "low", low)
        object.__setattr__(self, "high", high)
        if not isinstance(self.log, bool):
            raise HPOTypeError(f"`log` must be a bool, but got {self.log!r}.")
        if not low <= high:
            raise HPOValueError(f"`low <= high` must hold, but got ({low=}, {high=}).")
        if self.log and low <= 0.0:
            raise HPOValueError(f"`low > 0` must hold for a log-scale Float, but got {low=}.")
        if self.step is not None:
            step = _check_real("step", self.step)
            object.__setattr__(self, "step", step)
            if step <= 0.0:
                raise HPOValueError(f"`step > 0` must hold, but got {step=}.")
            if self.log:
                raise HPOValueError(f"`step` and `log=True` cannot be combined, but got {step=}, log=True.")
            n = (high - low) / step
            if abs(n - round(n)) > 1e-8 * max(1.0, n):
                raise HPOValueError(
                    f"`high - low` must be a multiple of `step`, but got ({low=}, {high=}, {step=})."
                )

    def _validate(self, name: str, value: Any) -> float:
        v = _check_real(f"params[{name!r}]", value)
        if not self.low <= v <= self.high:
            raise HPOValueError(f"`low <= {name} <= high` must hold, but got {name}={v} with {self}.")
        return v

    def _encode(self, v: float) -> float:
        return math.log(v) if self.log else v

    def _decode(self, x: float) -> float:
        v = math.exp(x) if self.log else x
        if self.step is not None:
            v = self.low + round((v - self.low) / self.step) * self.step
        return min(max(v, self.low), self.high)

    def _bounds(self) -> tuple[float, float]:
        return (math.log(self.low), math.log(self.high)) if self.log else (self.low, self.high)

    def _grid(self) -> list[float] | None:
        if self.step is None:
            return None
        n = int(round((self.high - self.low) / self.step))
        return [self.low + k * self.step for k in range(n + 1)] if n < _MAX_ENUMERATED_VALUES else None

    def to_optuna(self) -> od.FloatDistribution:
        return od.FloatDistribution(self.low, self.high, log=self.log, step=self.step)


@dataclass(frozen=True)
class Int:
    """An integer parameter in ``[low, high]`` on the grid ``low + k * step``; ``log=True`` for a log scale."""

    low: int
    high: int
    log: bool = False
    step: int = 1

    def __post_init__(self) -> None:
        low, high, step = _check_int("low", self.low), _check_int("high", self.high), _check_int("step", self.step)
        object.__setattr__(self, "low", low)
        object.__setattr__(self, "high", high)
        object.__setattr__(self, "step", step)
        if not isinstance(self.log, bool):
            raise HPOTypeError(f"`log` must be a bool, but got {self.log!r}.")
        if not low <= high:
            raise HPOValueError(f"`low <= high` must hold, but got ({low=}, {high=}).")
        if step < 1:
            raise HPOValueError(f"`step >= 1` must hold, but got {step=}.")
        if self.log and low < 1:
            raise HPOValueError(f"`low >= 1` must hold for a log-scale Int, but got {low=}.")
        if self.log and step != 1:
            raise HPOValueError(f"`step` and `log=True` cannot be combined, but got {step=}, log=True.")
        if (high - low) % step:
            raise HPOValueError(f"`high - low` must be a multiple of `step`, but got ({low=}, {high=}, {step=}).")

    def _validate(self, name: str, value: Any) -> int:
        v = _check_int(f"params[{name!r}]", value)
        if not self.low <= v <= self.high or (v - self.low) % self.step:
            raise HPOValueError(
                f"`{name}` must be on the grid low + k*step within [low, high], but got {name}={v} with {self}."
            )
        return v

    def _encode(self, v: int) -> float:
        return math.log(v) if self.log else float(v)

    def _decode(self, x: float) -> int:
        v = math.exp(x) if self.log else x
        k = round((v - self.low) / self.step)
        return int(min(max(self.low + k * self.step, self.low), self.high))

    def _bounds(self) -> tuple[float, float]:
        return (math.log(self.low), math.log(self.high)) if self.log else (float(self.low), float(self.high))

    def _grid(self) -> list[float] | None:
        n = (self.high - self.low) // self.step + 1
        if n > _MAX_ENUMERATED_VALUES:
            return None
        return [self._encode(self.low + k * self.step) for k in range(n)]

    def to_optuna(self) -> od.IntDistribution:
        return od.IntDistribution(self.low, self.high, log=self.log, step=self.step)


@dataclass(frozen=True)
class Categorical:
    """One of a finite set of choices (``None``, bool, int, float or str), without order."""

    choices: tuple

    def __post_init__(self) -> None:
        choices = self.choices
        if isinstance(choices, (str, bytes)) or not isinstance(choices, Sequence):
            raise HPOTypeError(f"`choices` must be a sequence (list or tuple), but got {choices!r}.")
        choices = tuple(choices)
        if not choices:
            raise HPOValueError("`choices` must not be empty, but got ().")
        for c in choices:
            if not isinstance(c, _CHOICE_TYPES):
                raise HPOTypeError(
                    f"each choice must be None, bool, int, float or str, but got {c!r} ({type(c).__name__})."
                )
            if isinstance(c, float) and math.isnan(c):
                raise HPOValueError(f"a choice must not be NaN, but got choices={choices!r}.")
        keys = [(type(c), c) for c in choices]
        if len(set(keys)) != len(keys):
            raise HPOValueError(f"`choices` must be distinct, but got {choices!r}.")
        object.__setattr__(self, "choices", choices)

    def index(self, value: Any) -> int:
        """Position of ``value`` among the choices (type-aware: ``1``, ``1.0`` and ``True`` differ)."""
        for i, c in enumerate(self.choices):
            if type(c) is type(value) and c == value:
                return i
        for i, c in enumerate(self.choices):  # e.g. numpy scalars read back from a storage
            if not isinstance(value, bool) and not isinstance(c, bool) and c == value:
                return i
        raise HPOValueError(f"value must be one of {self.choices!r}, but got {value!r}.")

    def _validate(self, name: str, value: Any) -> Any:
        try:
            return self.choices[self.index(value)]
        except HPOValueError:
            raise HPOValueError(f"`{name}` must be one of {self.choices!r}, but got {value!r}.") from None

    def _encode(self, v: Any) -> float:
        return float(self.index(v))

    def _decode(self, x: float) -> Any:
        return self.choices[int(min(max(round(x), 0), len(self.choices) - 1))]

    def _bounds(self) -> tuple[float, float]:
        return 0.0, float(len(self.choices) - 1)

    def _grid(self) -> list[float]:
        return [float(i) for i in range(len(self.choices))]

    def to_optuna(self) -> od.CategoricalDistribution:
        return od.CategoricalDistribution(self.choices)


Param = Union[Float, Int, Categorical]


def _from_optuna(dist: od.BaseDistribution) -> Param:
    if isinstance(dist, od.FloatDistribution):
        return Float(dist.low, dist.high, log=dist.log, step=dist.step)
    if isinstance(dist, od.IntDistribution):
        return Int(dist.low, dist.high, log=dist.log, step=dist.step)
    if isinstance(dist, od.CategoricalDistribution):
        return Categorical(tuple(dist.choices))
    raise HPOTypeError(f"unsupported Optuna distribution {dist!r}.")


class SearchSpace(Mapping[str, Param]):
    """An ordered mapping of parameter names to :class:`Float`, :class:`Int` or :class:`Categorical`.

    Example:
        >>> space = SearchSpace({"lr": Float(1e-5, 1e-1, log=True), "layers": Int(1, 8)})
        >>> space.decode(space.encode({"lr": 1e-3, "layers": 4}))["layers"]
        4
    """

    def __init__(self, params: Mapping[str, Param]) -> None:
        if isinstance(params, SearchSpace):
            params = params._params
        if not isinstance(params, Mapping):
            raise HPOTypeError(f"a search space must be a mapping of names to parameters, but got {params!r}.")
        if not params:
            raise HPOValueError("a search space must have at least one parameter, but got {}.")
        checked: dict[str, Param] = {}
        for name, p in params.items():
            if not isinstance(name, str) or not name:
                raise HPOTypeError(f"parameter names must be non-empty strings, but got {name!r}.")
            if isinstance(p, od.BaseDistribution):
                p = _from_optuna(p)
            if not isinstance(p, (Float, Int, Categorical)):
                raise HPOTypeError(
                    f"parameter {name!r} must be hpo.Float, hpo.Int or hpo.Categorical, but got {p!r}."
                )
            checked[name] = p
        self._params = checked
        self._names = tuple(checked)

    # Mapping protocol
    def __getitem__(self, name: str) -> Param:
        return self._params[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self._names)

    def __len__(self) -> int:
        return len(self._names)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, SearchSpace) and list(self._params.items()) == list(other._params.items())

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"SearchSpace({self._params!r})"

    @property
    def names(self) -> tuple[str, ...]:
        return self._names

    # Validation
    def validate(self, params: Mapping[str, Any], *, partial: bool = False) -> dict[str, Any]:
        """Check that ``params`` names exactly this space's parameters (with ``partial``, some of
        them) with values in their domains.

        Returns the values normalised to their canonical Python types, in the space's order.
        """
        if not isinstance(params, Mapping):
            raise HPOTypeError(f"params must be a mapping of names to values, but got {params!r}.")
        unknown = [k for k in params if k not in self._params]
        if unknown:
            raise HPOValueError(f"params must name only parameters of the space {list(self._names)}, but got {unknown}.")
        missing = [k for k in self._names if k not in params]
        if missing and not partial:
            raise HPOValueError(f"params must give every parameter of the space, but {missing} are missing.")
        return {k: p._validate(k, params[k]) for k, p in self._params.items() if k in params}

    # Encoding
    def encode(self, params: Mapping[str, Any]) -> np.ndarray:
        """Encode one configuration: returns a ``d``-dim float64 array (see the module docstring)."""
        values = self.validate(params)
        return np.array([p._encode(values[k]) for k, p in self._params.items()], dtype=np.float64)

    def encode_columns(self, params: Mapping[str, Any]) -> dict[int, float]:
        """Encode some of the parameters: ``{column index: encoded value}`` for those ``params``
        names (e.g. the parameters held fixed while the others are optimised)."""
        values = self.validate(params, partial=True)
        return {i: p._encode(values[k]) for i, (k, p) in enumerate(self._params.items()) if k in values}

    def encode_ranges(self, ranges: Mapping[str, Sequence[Any]]) -> dict[int, tuple[float, float]]:
        """Encode ``(low, high)`` pairs of some parameters: ``{column index: (low, high)}``
        encoded (both ends checked as values of their parameter; the order is kept)."""
        lows = self.encode_columns({k: pair[0] for k, pair in ranges.items()})
        highs = self.encode_columns({k: pair[1] for k, pair in ranges.items()})
        return {j: (lows[j], highs[j]) for j in lows}

    def encode_many(self, configs: Sequence[Mapping[str, Any]]) -> np.ndarray:
        """Encode ``n`` configurations: returns an ``n x d`` float64 array."""
        return np.array([self.encode(c) for c in configs], dtype=np.float64).reshape(len(configs), len(self))

    def decode(self, x: np.ndarray) -> dict[str, Any]:
        """Decode a ``d``-dim array to a configuration; values are snapped to their grids and clipped."""
        x = np.asarray(x, dtype=np.float64)
        if x.shape != (len(self),):
            raise HPOValueError(f"x must have shape ({len(self)},), but got {x.shape}.")
        if not np.all(np.isfinite(x)):
            raise HPOValueError(f"x must be finite, but got {x}.")
        lo, hi = self.bounds
        x = np.clip(x, lo, hi)
        return {k: p._decode(float(xi)) for (k, p), xi in zip(self._params.items(), x)}

    def decode_many(self, X: np.ndarray) -> list[dict[str, Any]]:
        """Decode an ``n x d`` array to ``n`` configurations."""
        return [self.decode(row) for row in np.asarray(X, dtype=np.float64)]

    @property
    def bounds(self) -> np.ndarray:
        """A ``2 x d`` array of the encoded columns' lower and upper bounds."""
        return np.array([p._bounds() for p in self._params.values()], dtype=np.float64).T.reshape(2, len(self))

    @property
    def categorical_dims(self) -> dict[int, list[float]]:
        """Column index -> encoded values, for the categorical parameters."""
        return {i: p._grid() for i, p in enumerate(self._params.values()) if isinstance(p, Categorical)}

    @property
    def discrete_dims(self) -> dict[int, list[float]]:
        """Column index -> encoded grid values, for ordinal parameters with a small enough grid.

        Integer and stepped columns with a larger grid are optimised continuously and rounded.
        """
        out = {}
        for i, p in enumerate(self._params.values()):
            if not isinstance(p, Categorical):
                grid = p._grid()
                if grid is not None:
                    out[i] = grid
        return out

    def round(self, X: np.ndarray) -> np.ndarray:
        """Snap an ``n x d`` array of encoded points onto the feasible encoded values."""
        X = np.asarray(X, dtype=np.float64)
        return np.array([self.encode(self.decode(row)) for row in X]).reshape(X.shape)

    def sample_unit(self, U: np.ndarray) -> np.ndarray:
        """Map ``n x d`` points of the unit cube (e.g. a Sobol design) to encoded, feasible points."""
        U = np.asarray(U, dtype=np.float64)
        lo, hi = self.bounds
        X = lo + U * (hi - lo)
        for i, p in enumerate(self._params.values()):
            if isinstance(p, Categorical):  # equal mass per choice, not half-mass at the ends
                X[:, i] = np.minimum(np.floor(U[:, i] * len(p.choices)), len(p.choices) - 1)
            elif isinstance(p, Int) and not p.log:
                n = (p.high - p.low) // p.step + 1
                X[:, i] = p.low + np.minimum(np.floor(U[:, i] * n), n - 1) * p.step
        return self.round(X)

    def unit_distance(self, X: np.ndarray, P: np.ndarray) -> np.ndarray:
        """For each encoded row of ``X`` (``n x d``), the Euclidean distance to the nearest encoded
        row of ``P`` (``p x d``, ``p >= 1``), every column scaled by its bounds' width: an ``n`` array."""
        lo, hi = self.bounds
        width = np.where(hi > lo, hi - lo, 1.0)
        U, V = (np.asarray(X, dtype=np.float64) - lo) / width, (np.asarray(P, dtype=np.float64) - lo) / width
        return np.sqrt(((U[:, None, :] - V[None, :, :]) ** 2).sum(-1)).min(axis=1)

    # Optuna
    def to_optuna(self) -> dict[str, od.BaseDistribution]:
        """The space as Optuna distributions, by name."""
        return {k: p.to_optuna() for k, p in self._params.items()}

    @classmethod
    def from_optuna(cls, distributions: Mapping[str, od.BaseDistribution]) -> SearchSpace:
        """Build a space from Optuna distributions (float, log, step, int, log-int, categorical)."""
        return cls({k: _from_optuna(d) for k, d in distributions.items()})

    def to_json(self) -> dict[str, str]:
        """A JSON-able description (Optuna's distribution JSON, by name), for storing with a study."""
        return {k: od.distribution_to_json(d) for k, d in self.to_optuna().items()}

    @classmethod
    def from_json(cls, data: Mapping[str, str]) -> SearchSpace:
        return cls.from_optuna({k: od.json_to_distribution(v) for k, v in data.items()})


def as_search_space(space: SearchSpace | Mapping[str, Param]) -> SearchSpace:
    """Accept a :class:`SearchSpace` or a plain dict of parameters."""
    return space if isinstance(space, SearchSpace) else SearchSpace(space)
