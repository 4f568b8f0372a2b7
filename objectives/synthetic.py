"""Benchmark functions with known optima, as hpo problems.

Every problem is minimised, declares its search space with hpo's public types, and knows its
optimum, so regret is exact. ``noise_std > 0`` adds Gaussian observation noise from a generator
the caller passes; regret is always measured on the noise-free value. Constrained problems give
``constraints(params) -> tuple`` of values, feasible where every value is ``<= 0``, and their
``optimum`` is the best feasible value (None for a problem with no feasible point).

Multi-objective problems (:class:`ParetoProblem`) minimise every objective and know the
hypervolume of their true Pareto front above a fixed reference point, so the hypervolume gap is
exact.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

import hpo

__all__ = [
    "Problem",
    "branin",
    "hartmann6",
    "mixed",
    "gramacy",
    "gardner1",
    "gardner2",
    "pressure_vessel",
    "spring",
    "infeasible_branin",
    "gp_sample",
    "PROBLEMS",
    "CONSTRAINED",
    "get_problem",
    "ParetoProblem",
    "branin_currin",
    "zdt1",
    "dtlz2",
    "PARETO",
    "get_pareto_problem",
]


@dataclass(frozen=True)
class Problem:
    """A minimisation problem with a known optimum.

    Attributes:
        name: Short identifier.
        space: Its search space.
        fn: The noise-free objective, ``fn(params) -> float``.
        optimum: The minimum of ``fn`` over the space.
        noise_std: Standard deviation of the observation noise.
    """

    name: str
    space: hpo.SearchSpace
    fn: Callable[[Mapping[str, Any]], float]
    optimum: float | None
    noise_std: float = 0.0
    constraints: Callable[[Mapping[str, Any]], tuple[float, ...]] | None = None

    def __call__(self, params: Mapping[str, Any], rng: np.random.Generator | None = None) -> float:
        """An observation: the value plus noise (drawn from ``rng``) when ``noise_std > 0``."""
        value = float(self.fn(params))
        if self.noise_std > 0.0:
            if rng is None:
                raise hpo.HPOValueError(f"problem {self.name!r} is noisy: pass `rng` to draw its noise.")
            value += self.noise_std * float(rng.standard_normal())
        return value


def _branin(p: Mapping[str, Any]) -> float:
    x1, x2 = p["x1"], p["x2"]
    b, c, t = 5.1 / (4 * math.pi**2), 5 / math.pi, 1 / (8 * math.pi)
    return (x2 - b * x1**2 + c * x1 - 6) ** 2 + 10 * (1 - t) * math.cos(x1) + 10


# Hartmann (1972) constants, as tabulated by Surjanovic & Bingham's Virtual Library.
_H6_ALPHA = np.array([1.0, 1.2, 3.0, 3.2])
_H6_A = np.array(
    [[10, 3, 17, 3.5, 1.7, 8], [0.05, 10, 17, 0.1, 8, 14], [3, 3.5, 1.7, 10, 17, 8], [17, 8, 0.05, 10, 0.1, 14]]
)
_H6_P = 1e-4 * np.array(
    [
        [1312, 1696, 5569, 124, 8283, 5886],
        [2329, 4135, 8307, 3736, 1004, 9991],
        [2348, 1451, 3522, 2883, 3047, 6650],
        [4047, 8828, 8732, 5743, 1091, 381],
    ]
)
H6_ARGMIN = (0.20169, 0.150011, 0.476874, 0.275332, 0.311652, 0.6573)


def _hartmann6(p: Mapping[str, Any]) -> float:
    x = np.array([p[f"x{i}"] for i in range(6)])
    return float(-np.sum(_H6_ALPHA * np.exp(-np.sum(_H6_A * (x - _H6_P) ** 2, axis=1))))


# Mixed: the categorical moves the continuous optimum and adds an offset; the log-int has its
# best value at the integer nearest 10**1.7 on a log scale.
_MIXED_CENTRE = {"a": (0.5, -0.3, 0.0), "b": (-0.5, 0.6, 0.1), "c": (0.0, 0.0, 0.2)}


def _mixed(p: Mapping[str, Any]) -> float:
    cx, cy, offset = _MIXED_CENTRE[p["kind"]]
    return (
        (p["x"] - cx) ** 2
        + 2.0 * (p["y"] - cy) ** 2
        + (math.log10(p["n"]) - 1.7) ** 2
        + 0.3 * math.sin(3.0 * p["x"]) ** 2 * (p["y"] - cy) ** 2
        + offset
    )


_MIXED_OPT = min((math.log10(n) - 1.7) ** 2 for n in range(1, 1001))


def branin() -> Problem:
    """Branin-Hoo on [-5, 10] x [0, 15]; three global minima of 0.397887."""
    space = hpo.SearchSpace({"x1": hpo.Float(-5.0, 10.0), "x2": hpo.Float(0.0, 15.0)})
    return Problem("branin", space, _branin, 0.39788735772973816)


def hartmann6() -> Problem:
    """Hartmann 6-D on [0, 1]^6; minimum -3.32237."""
    space = hpo.SearchSpace({f"x{i}": hpo.Float(0.0, 1.0) for i in range(6)})
    return Problem("hartmann6", space, _hartmann6, -3.3223680114155147)


def mixed() -> Problem:
    """Two floats, a log-int in [1, 1000] and a 3-way categorical; minimum at kind='a', n=50."""
    space = hpo.SearchSpace(
        {
            "x": hpo.Float(-2.0, 2.0),
            "y": hpo.Float(-2.0, 2.0),
            "n": hpo.Int(1, 1000, log=True),
            "kind": hpo.Categorical(["a", "b", "c"]),
        }
    )
    return Problem("mixed", space, _mixed, _MIXED_OPT)


# Constrained problems. Definitions and optima: Gramacy et al. (2016), Gardner et al. (2014),
# Coello Coello (2002) via BoTorch's test functions (botorch.test_functions.synthetic).


def _gramacy(p: Mapping[str, Any]) -> float:
    return p["x1"] + p["x2"]


def _gramacy_c(p: Mapping[str, Any]) -> tuple[float, ...]:
    x1, x2 = p["x1"], p["x2"]
    return (
        1.5 - x1 - 2 * x2 - 0.5 * math.sin(2 * math.pi * (x1**2 - 2 * x2)),
        x1**2 + x2**2 - 1.5,
    )


def gramacy() -> Problem:
    """min x1 + x2 on [0, 1]^2 under two constraints; optimum 0.599788 at (0.195123, 0.404665).

    BoTorch quotes 0.5998 from Gramacy et al. (2016); 0.5997880520 is the best of 200 SLSQP starts.
    """
    space = hpo.SearchSpace({"x1": hpo.Float(0.0, 1.0), "x2": hpo.Float(0.0, 1.0)})
    return Problem("gramacy", space, _gramacy, 0.5997880520, constraints=_gramacy_c)


def _gardner1(p: Mapping[str, Any]) -> float:
    return math.cos(2 * p["x1"]) * math.cos(p["x2"]) + math.sin(p["x1"])


def _gardner1_c(p: Mapping[str, Any]) -> tuple[float, ...]:
    return (math.cos(p["x1"]) * math.cos(p["x2"]) - math.sin(p["x1"]) * math.sin(p["x2"]) - 0.5,)


def gardner1() -> Problem:
    """min cos(2 x1) cos(x2) + sin(x1) s.t. cos(x1 + x2) <= 0.5 on [0, 6]^2.

    Optimum -2 at (3 pi / 2, 0): cos(3 pi) cos 0 + sin(3 pi / 2) = -2, and cos(3 pi / 2) = 0.
    """
    space = hpo.SearchSpace({"x1": hpo.Float(0.0, 6.0), "x2": hpo.Float(0.0, 6.0)})
    return Problem("gardner1", space, _gardner1, -2.0, constraints=_gardner1_c)


def _gardner2(p: Mapping[str, Any]) -> float:
    return math.sin(p["x1"]) + p["x2"]


def _gardner2_c(p: Mapping[str, Any]) -> tuple[float, ...]:
    return (math.sin(p["x1"]) * math.sin(p["x2"]) + 0.95,)


def gardner2() -> Problem:
    """min sin(x1) + x2 s.t. sin(x1) sin(x2) <= -0.95 on [0, 6]^2.

    Optimum at x1 = 3 pi / 2 (sin = -1), where the constraint is sin(x2) >= 0.95, so the smallest
    x2 is arcsin(0.95): optimum -1 + arcsin(0.95) = 0.2532359.
    """
    space = hpo.SearchSpace({"x1": hpo.Float(0.0, 6.0), "x2": hpo.Float(0.0, 6.0)})
    return Problem("gardner2", space, _gardner2, -1.0 + math.asin(0.95), constraints=_gardner2_c)


def _vessel(p: Mapping[str, Any]) -> float:
    x1, x2, x3, x4 = p["x1"], p["x2"], p["x3"], p["x4"]
    return 0.6224 * x1 * x3 * x4 + 1.7781 * x2 * x3**2 + 3.1661 * x1**2 * x4 + 19.84 * x1**2 * x3


def _vessel_c(p: Mapping[str, Any]) -> tuple[float, ...]:
    x1, x2, x3, x4 = p["x1"], p["x2"], p["x3"], p["x4"]
    return (
        -x1 + 0.0193 * x3,
        -x2 + 0.00954 * x3,
        -math.pi * x3**2 * x4 - (4 / 3) * math.pi * x3**3 + 1296000.0,
        x4 - 240.0,
    )


def pressure_vessel() -> Problem:
    """Pressure vessel design: shell and head thickness in steps of 1/16 inch.

    Optimum 6059.714335 at (0.8125, 0.4375, 42.098446, 176.636596): SLSQP over (x3, x4) for every
    grid pair (x1, x2) near it. The literature's 6059.946341 (BoTorch's value) is slightly above.
    """
    space = hpo.SearchSpace(
        {
            "x1": hpo.Float(0.0, 10.0, step=0.0625),
            "x2": hpo.Float(0.0, 10.0, step=0.0625),
            "x3": hpo.Float(10.0, 50.0),
            "x4": hpo.Float(150.0, 200.0),
        }
    )
    return Problem("vessel", space, _vessel, 6059.714335, constraints=_vessel_c)


def _spring(p: Mapping[str, Any]) -> float:
    return p["x1"] ** 2 * p["x2"] * (p["x3"] + 2)


def _spring_c(p: Mapping[str, Any]) -> tuple[float, ...]:
    x1, x2, x3 = p["x1"], p["x2"], p["x3"]
    c = (
        1 - x2**3 * x3 / (71785 * x1**4),
        (4 * x2**2 - x1 * x2) / (12566 * x1**3 * (x2 - x1)) + 1 / (5108 * x1**2) - 1 if x2 != x1 else 100.0,
        1 - 140.45 * x1 / (x3 * x2**2),
        (x1 + x2) / 1.5 - 1,
    )
    return tuple(min(v, 100.0) for v in c)  # BoTorch clamps the slack at 100 likewise


def spring() -> Problem:
    """Tension/compression spring: wire and coil diameters, active coils.

    Optimum 0.0126652328 at (0.0516891, 0.3567177, 11.288969): the best of 400 SLSQP starts.
    The literature's 0.012681 (Coello Coello 2002, BoTorch's value) is slightly above.
    """
    space = hpo.SearchSpace({"x1": hpo.Float(0.01, 1.0), "x2": hpo.Float(0.01, 1.0), "x3": hpo.Float(0.01, 20.0)})
    return Problem("spring", space, _spring, 0.0126652328, constraints=_spring_c)


def _infeasible_c(p: Mapping[str, Any]) -> tuple[float, ...]:
    # Positive everywhere: its smallest value is 0.25 (at x1 = -pi/2 + 2 pi k, x2 = 0).
    return (0.75 + 0.5 * math.sin(p["x1"]) + 0.02 * p["x2"],)


def infeasible_branin() -> Problem:
    """Branin under a constraint violated everywhere (by at least 0.25): no feasible point."""
    return Problem("infeasible", branin().space, _branin, None, constraints=_infeasible_c)


def gp_sample(seed: int, *, lengthscale: float = 0.2, n_features: int = 512) -> Problem:
    """Objective and constraint drawn from a GP on [0, 1]^2 (as in the CONFIG paper's experiments).

    Both are random-Fourier-feature paths of an RBF-kernel GP (unit variance, ``lengthscale``).
    The constraint is shifted so that 30% of the square is feasible. The optimum is found on a
    401 x 401 grid and its 20 best feasible points are polished by SLSQP (the paths are smooth
    and cheap).
    """
    rng = np.random.default_rng([seed, 2023])

    def path() -> Callable[[np.ndarray], np.ndarray]:
        W = rng.standard_normal((n_features, 2)) / lengthscale
        b = rng.uniform(0, 2 * math.pi, n_features)
        a = rng.standard_normal(n_features) * math.sqrt(2.0 / n_features)
        return lambda X: np.cos(np.atleast_2d(X) @ W.T + b) @ a

    f, g = path(), path()
    t = np.linspace(0.0, 1.0, 401)
    grid = np.stack(np.meshgrid(t, t, indexing="ij"), -1).reshape(-1, 2)
    shift = float(np.quantile(g(grid), 0.3))
    fg, gg = f(grid), g(grid) - shift
    from scipy.optimize import minimize

    # Polish the 20 best feasible grid points (the paths are multi-modal) with SLSQP.
    order = np.argsort(np.where(gg <= 0, fg, np.inf))[:20]
    optimum = float(fg[order[0]])
    for start in grid[order]:
        res = minimize(
            lambda x: float(f(x)[0]),
            start,
            method="SLSQP",
            bounds=[(0, 1), (0, 1)],
            constraints=[{"type": "ineq", "fun": lambda x: -(float(g(x)[0]) - shift)}],
            options={"ftol": 1e-12, "maxiter": 200},
        )
        if res.success and float(g(res.x)[0]) - shift <= 0:
            optimum = min(optimum, float(res.fun))
    space = hpo.SearchSpace({"x1": hpo.Float(0.0, 1.0), "x2": hpo.Float(0.0, 1.0)})
    return Problem(
        f"gp{seed}",
        space,
        lambda p: float(f(np.array([p["x1"], p["x2"]]))[0]),
        optimum,
        constraints=lambda p: (float(g(np.array([p["x1"], p["x2"]]))[0]) - shift,),
    )


PROBLEMS: dict[str, Callable[[], Problem]] = {
    "branin": branin,
    "hartmann6": hartmann6,
    "mixed": mixed,
    "gramacy": gramacy,
    "gardner1": gardner1,
    "gardner2": gardner2,
    "vessel": pressure_vessel,
    "spring": spring,
    "infeasible": infeasible_branin,
}
CONSTRAINED = ("gramacy", "gardner1", "gardner2", "vessel", "spring")


def get_problem(name: str) -> Problem:
    """A problem by name; ``gp<k>`` is :func:`gp_sample` with seed k."""
    if name.startswith("gp") and name[2:].isdigit():
        return gp_sample(int(name[2:]))
    if name not in PROBLEMS:
        raise hpo.HPOValueError(f"problem must be one of {sorted(PROBLEMS)}, but got {name!r}.")
    return PROBLEMS[name]()


@dataclass(frozen=True)
class ParetoProblem:
    """A multi-objective minimisation problem with a known Pareto front.

    Attributes:
        name: Short identifier.
        space: Its search space.
        fn: The objectives, ``fn(params) -> tuple`` of m floats, each minimised.
        ref_point: The m worst values the hypervolume is measured from.
        max_hv: The hypervolume of the true Pareto front above ``ref_point``.
    """

    name: str
    space: hpo.SearchSpace
    fn: Callable[[Mapping[str, Any]], tuple[float, ...]]
    ref_point: tuple[float, ...]
    max_hv: float

    @property
    def n_objectives(self) -> int:
        return len(self.ref_point)


def _currin(x1: float, x2: float) -> float:
    factor = 1.0 - math.exp(-1.0 / (2.0 * x2)) if x2 > 0 else 1.0
    return factor * (2300 * x1**3 + 1900 * x1**2 + 2092 * x1 + 60) / (100 * x1**3 + 500 * x1**2 + 4 * x1 + 20)


def _branin_currin(p: Mapping[str, Any]) -> tuple[float, float]:
    x1, x2 = p["x1"], p["x2"]
    return _branin({"x1": 15.0 * x1 - 5.0, "x2": 15.0 * x2}), _currin(x1, x2)


def branin_currin() -> ParetoProblem:
    """Branin (rescaled to [0, 1]^2) against Currin's exponential (Belakaria et al. 2019).

    Reference point (18, 6) and the front's hypervolume 59.36011874867746 are BoTorch's
    (``botorch.test_functions.multi_objective.BraninCurrin``).
    """
    space = hpo.SearchSpace({"x1": hpo.Float(0.0, 1.0), "x2": hpo.Float(0.0, 1.0)})
    return ParetoProblem("branin_currin", space, _branin_currin, (18.0, 6.0), 59.36011874867746)


def zdt1(d: int = 6) -> ParetoProblem:
    """ZDT1 (Zitzler, Deb, Thiele 2000) in d dimensions: f1 = x0, f2 = g (1 - sqrt(x0 / g)).

    The front is g = 1 (x1.. = 0): f2 = 1 - sqrt(f1) on [0, 1]. Above (11, 11) it dominates
    121 - integral_0^1 (1 - sqrt(f)) df = 121 - 1/3.
    """
    space = hpo.SearchSpace({f"x{i}": hpo.Float(0.0, 1.0) for i in range(d)})

    def fn(p: Mapping[str, Any]) -> tuple[float, float]:
        x = [p[f"x{i}"] for i in range(d)]
        g = 1.0 + 9.0 * sum(x[1:]) / (d - 1)
        return x[0], g * (1.0 - math.sqrt(x[0] / g))

    return ParetoProblem("zdt1", space, fn, (11.0, 11.0), 121.0 - 1.0 / 3.0)


def dtlz2(m: int = 2, d: int = 6) -> ParetoProblem:
    """DTLZ2 (Deb et al. 2005) with m objectives in d dimensions.

    The front is the part of the unit sphere in the positive orthant (g = 0: x_{m-1}.. = 0.5).
    Above (1.1, ..., 1.1) it dominates 1.1^m minus the orthant's share of the unit ball:
    pi / 4 for m = 2, pi / 6 for m = 3.
    """
    if m not in (2, 3):
        raise hpo.HPOValueError(f"dtlz2 knows its front's hypervolume for m in (2, 3), but got m={m!r}.")
    space = hpo.SearchSpace({f"x{i}": hpo.Float(0.0, 1.0) for i in range(d)})

    def fn(p: Mapping[str, Any]) -> tuple[float, ...]:
        x = [p[f"x{i}"] for i in range(d)]
        g = sum((v - 0.5) ** 2 for v in x[m - 1 :])
        angles = [v * math.pi / 2 for v in x[: m - 1]]
        values = []
        for i in range(m):
            v = 1.0 + g
            for a in angles[: m - 1 - i]:
                v *= math.cos(a)
            if i > 0:
                v *= math.sin(angles[m - 1 - i])
            values.append(v)
        return tuple(values)

    ball = math.pi / 4 if m == 2 else math.pi / 6
    return ParetoProblem(f"dtlz2_{m}", space, fn, (1.1,) * m, 1.1**m - ball)


PARETO: dict[str, Callable[[], ParetoProblem]] = {
    "branin_currin": branin_currin,
    "zdt1": zdt1,
    "dtlz2_2": lambda: dtlz2(2),
    "dtlz2_3": lambda: dtlz2(3),
}


def get_pareto_problem(name: str) -> ParetoProblem:
    """A multi-objective problem by name (a key of :data:`PARETO`)."""
    if name not in PARETO:
        raise hpo.HPOValueError(f"multi-objective problem must be one of {sorted(PARETO)}, but got {name!r}.")
    return PARETO[name]()
