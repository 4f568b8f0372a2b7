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
    "ackley",
    "rosenbrock",
    "styblinski_tang",
    "shekel",
    "michalewicz",
    "int_rosenbrock",
    "categorical",
    "hartmann6_noisy",
    "hartmann6_padded",
    "hparams",
    "PROBLEMS",
    "CONSTRAINED",
    "SUITE",
    "get_problem",
    "ParetoProblem",
    "branin_currin",
    "zdt1",
    "zdt2",
    "zdt3",
    "vehicle_safety",
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


# The broad single-objective suite (:data:`SUITE`). Definitions follow Surjanovic & Bingham's
# Virtual Library of Simulation Experiments unless stated; where a standard box would put the
# optimum at its centre the function is shifted, so that no sampler wins by sampling the centre.

# Ackley's optimum moves from the origin to this point; the box is [-5, 10]^d, so the optimum sits
# at a different, irrational-looking place in every coordinate (never the centre 2.5).
ACKLEY_SHIFT = (1.7, -2.3, 3.1, 0.4, -1.1, 2.6, -3.4, 0.9, 4.2, -0.6)


def _ackley(p: Mapping[str, Any], d: int) -> float:
    z = np.array([p[f"x{i}"] for i in range(d)]) - np.array(ACKLEY_SHIFT[:d])
    return float(
        -20.0 * math.exp(-0.2 * math.sqrt(float(np.mean(z**2))))
        - math.exp(float(np.mean(np.cos(2.0 * math.pi * z))))
        + 20.0
        + math.e
    )


def ackley(d: int = 5) -> Problem:
    """Ackley (a=20, b=0.2, c=2 pi) shifted to :data:`ACKLEY_SHIFT`, on [-5, 10]^d; minimum 0 there.

    At z = x - shift = 0: -20 e^0 - e^1 + 20 + e = 0. Highly multi-modal (a local minimum near
    every integer offset of z) around one funnel.
    """
    if not 1 <= d <= len(ACKLEY_SHIFT):
        raise hpo.HPOValueError(f"`1 <= d <= {len(ACKLEY_SHIFT)}` must hold, but got d={d!r}.")
    space = hpo.SearchSpace({f"x{i}": hpo.Float(-5.0, 10.0) for i in range(d)})
    return Problem(f"ackley{d}", space, lambda p: _ackley(p, d), 0.0)


def _rosenbrock_terms(u: np.ndarray) -> float:
    return float(np.sum(100.0 * (u[1:] - u[:-1] ** 2) ** 2 + (1.0 - u[:-1]) ** 2))


def rosenbrock(d: int = 4) -> Problem:
    """Rosenbrock on [-5, 10]^d (the box's centre is 2.5); minimum 0 at (1, ..., 1): a curved valley."""
    space = hpo.SearchSpace({f"x{i}": hpo.Float(-5.0, 10.0) for i in range(d)})
    return Problem(f"rosenbrock{d}", space, lambda p: _rosenbrock_terms(np.array([p[f"x{i}"] for i in range(d)])), 0.0)


# Styblinski-Tang is separable: each coordinate's term 0.5 (x^4 - 16 x^2 + 5 x) is least at the root
# of 2 x^3 - 16 x + 2.5 = 0 near -2.9035 (bounded Brent to 1e-14), -39.16616570377141 per coordinate.
ST_ARGMIN = -2.9035340286202334
_ST_MIN_PER_DIM = -39.16616570377141


def styblinski_tang(d: int = 8) -> Problem:
    """Styblinski-Tang on [-5, 5]^d; minimum -39.166166 d at x_i = -2.903534 (a corner-ward basin)."""
    space = hpo.SearchSpace({f"x{i}": hpo.Float(-5.0, 5.0) for i in range(d)})

    def fn(p: Mapping[str, Any]) -> float:
        x = np.array([p[f"x{i}"] for i in range(d)])
        return float(0.5 * np.sum(x**4 - 16.0 * x**2 + 5.0 * x))

    return Problem(f"styblinski_tang{d}", space, fn, d * _ST_MIN_PER_DIM)


_SHEKEL_C = np.array(
    [[4, 1, 8, 6, 3, 2, 5, 8, 6, 7], [4, 1, 8, 6, 7, 9, 3, 1, 2, 3.6], [4, 1, 8, 6, 3, 2, 5, 8, 6, 7],
     [4, 1, 8, 6, 7, 9, 3, 1, 2, 3.6]]
).T  # m x 4: the centres of the m = 10 wells
_SHEKEL_BETA = 0.1 * np.array([1, 2, 2, 4, 4, 6, 3, 7, 5, 5])
# BFGS from (4, 4, 4, 4) with gtol 1e-12 (BoTorch's Shekel quotes -10.536443 at the same point).
SHEKEL_ARGMIN = (4.00074686, 3.99950947, 4.00074686, 3.99950947)


def _shekel(p: Mapping[str, Any]) -> float:
    x = np.array([p[f"x{i}"] for i in range(4)])
    return float(-np.sum(1.0 / (np.sum((x - _SHEKEL_C) ** 2, axis=1) + _SHEKEL_BETA)))


def shekel() -> Problem:
    """Shekel (m = 10) on [0, 10]^4: ten narrow wells on a flat plain; minimum -10.536443 near (4, 4, 4, 4)."""
    space = hpo.SearchSpace({f"x{i}": hpo.Float(0.0, 10.0) for i in range(4)})
    return Problem("shekel10", space, _shekel, -10.536443153483505)


# Michalewicz (m = 10) is separable: -sum_i sin(x_i) sin(i x_i^2 / pi)^20, so its minimum is the
# sum of five 1-D minima (a 200001-point grid on [0, pi] polished by bounded Brent).
MICHALEWICZ_ARGMIN = (2.2029055199529126, 1.5707963266195448, 1.284991570272413, 1.9230584696163617, 1.7204697722211917)


def _michalewicz(p: Mapping[str, Any]) -> float:
    x = np.array([p[f"x{i}"] for i in range(5)])
    i = np.arange(1, 6)
    return float(-np.sum(np.sin(x) * np.sin(i * x**2 / math.pi) ** 20))


def michalewicz() -> Problem:
    """Michalewicz (m = 10) on [0, pi]^5: steep ridges and flat plateaus; minimum -4.687658."""
    space = hpo.SearchSpace({f"x{i}": hpo.Float(0.0, math.pi) for i in range(5)})
    return Problem("michalewicz5", space, _michalewicz, -4.687658179088147)


def _int_rosenbrock(p: Mapping[str, Any]) -> float:
    return _rosenbrock_terms(np.array([p["x0"], p["x1"], p["x2"], p["x3"]], dtype=np.float64) / 5.0)


def int_rosenbrock() -> Problem:
    """Rosenbrock of x / 5 over four integers, two with a step; minimum 0 at (5, 5, 5, 5).

    The grids (31, 16, 11 and 31 values; 169136 points) all contain 5, which is a third of the way
    up each range (not its middle). Full enumeration: the next best points are (4, 3, 2, 1) at 1.04
    and (4, 3, 2, 0) at 3.44, so "nearly right" is far away on the lattice.
    """
    space = hpo.SearchSpace(
        {
            "x0": hpo.Int(-5, 25),
            "x1": hpo.Int(-5, 25, step=2),
            "x2": hpo.Int(-7, 23, step=3),
            "x3": hpo.Int(-5, 25),
        }
    )
    return Problem("int_rosenbrock4", space, _int_rosenbrock, 0.0)


# Categorical-heavy: the optimiser scales the bowl and, with the normalisation layer, sets an offset
# that rewards one combination (adamw + layer) which no choice's average points to (batch norm has
# the best average offset); the activation moves the bowl's x-centre and adds its own offset; the
# normalisation moves its y-centre. Every centre lies inside [0, 1]^2 and the sin^2 term vanishes at
# it, so the minimum is min(offsets) + min(activation offsets) = 0.1 + 0.0.
_CAT_SCALE = {"sgd": 4.0, "momentum": 3.0, "adam": 1.5, "adamw": 2.0}
_CAT_OFFSET = {
    ("sgd", "none"): 0.8, ("sgd", "batch"): 0.3, ("sgd", "layer"): 0.7,
    ("momentum", "none"): 0.6, ("momentum", "batch"): 0.2, ("momentum", "layer"): 0.5,
    ("adam", "none"): 0.5, ("adam", "batch"): 0.4, ("adam", "layer"): 0.25,
    ("adamw", "none"): 0.45, ("adamw", "batch"): 0.35, ("adamw", "layer"): 0.1,
}  # fmt: skip
_CAT_ACTIVATION = {"relu": (0.3, 0.1), "gelu": (0.7, 0.0), "tanh": (0.5, 0.3)}  # (x-centre, offset)
_CAT_NORM_Y = {"none": 0.2, "batch": 0.6, "layer": 0.35}
CATEGORICAL_ARGMIN = {"x": 0.7, "y": 0.35, "optimizer": "adamw", "activation": "gelu", "norm": "layer"}


def _categorical(p: Mapping[str, Any]) -> float:
    cx, offset = _CAT_ACTIVATION[p["activation"]]
    cy = _CAT_NORM_Y[p["norm"]]
    dx, dy = p["x"] - cx, p["y"] - cy
    bowl = dx**2 + 1.5 * dy**2 + 0.5 * math.sin(5.0 * p["x"]) ** 2 * dy**2
    return _CAT_SCALE[p["optimizer"]] * bowl + _CAT_OFFSET[(p["optimizer"], p["norm"])] + offset


def categorical() -> Problem:
    """Two floats and three categoricals (4 x 3 x 3 = 36 combinations); minimum 0.1 at :data:`CATEGORICAL_ARGMIN`."""
    space = hpo.SearchSpace(
        {
            "x": hpo.Float(0.0, 1.0),
            "y": hpo.Float(0.0, 1.0),
            "optimizer": hpo.Categorical(["sgd", "momentum", "adam", "adamw"]),
            "activation": hpo.Categorical(["relu", "gelu", "tanh"]),
            "norm": hpo.Categorical(["none", "batch", "layer"]),
        }
    )
    return Problem("categorical5", space, _categorical, 0.1)


# Hartmann6's values over the uniform box have standard deviation 0.383 (2e5 random points); the
# noisy variants add 0.02 (about 5% of it: a well-seeded validation metric) and 0.1 (about 25%: a
# short, noisy proxy run; half the gap between the global minimum -3.322 and the local one -3.203).
def hartmann6_noisy(noise_std: float) -> Problem:
    """Hartmann6 observed with Gaussian noise of ``noise_std``; regret is on the noise-free value."""
    return Problem(f"hartmann6_n{round(100 * noise_std):02d}", hartmann6().space, _hartmann6, -3.3223680114155147, noise_std)


def hartmann6_padded(extra: int = 4) -> Problem:
    """Hartmann6 in ``6 + extra`` floats of which only the first six matter; minimum -3.32237.

    Hyperparameter searches often include parameters that barely matter; a model must learn to
    ignore them. (A lengthscale prior that pulls every lengthscale towards the box's width could
    not: median regret 0.50 at 50 trials against ~0.009, see the performance issue's note.)
    """
    space = hpo.SearchSpace({f"x{i}": hpo.Float(0.0, 1.0) for i in range(6 + extra)})
    return Problem(f"hartmann6_d{6 + extra}", space, _hartmann6, -3.3223680114155147)


# A training run's validation loss over (learning rate, weight decay, batch size, dropout), in the
# shape practitioners report: the best learning rate grows with sqrt(batch size); the loss rises
# slowly below it and falls off a cliff (divergence) a decade above it; weight decay and dropout
# both regularise, so their best values move together with the learning rate. Every term is a
# square that vanishes at HPARAMS_ARGMIN, so the minimum is the base loss 0.3.
HPARAMS_ARGMIN = {"lr": 1e-3 * math.sqrt(2.0), "weight_decay": 1e-4, "batch_size": 128, "dropout": 0.1}


def _hparams(p: Mapping[str, Any]) -> float:
    u = math.log10(p["lr"]) - 0.5 * math.log10(p["batch_size"] / 64.0) + 3.0  # 0 at the best lr
    v = math.log10(p["weight_decay"]) + 4.0 + 0.5 * u  # 0 at the best weight decay for this lr
    return (
        0.3
        + 0.15 * u**2
        + 20.0 * max(u - 1.0, 0.0) ** 2
        + 0.04 * v**2
        + 0.02 * (math.log2(p["batch_size"]) - 7.0) ** 2
        + 0.5 * (p["dropout"] - 0.1 + 0.05 * v) ** 2
    )


def hparams() -> Problem:
    """A synthetic learning-rate / weight-decay / batch-size (log-int) / dropout surface; minimum 0.3."""
    space = hpo.SearchSpace(
        {
            "lr": hpo.Float(1e-5, 1.0, log=True),
            "weight_decay": hpo.Float(1e-6, 1e-1, log=True),
            "batch_size": hpo.Int(8, 512, log=True),
            "dropout": hpo.Float(0.0, 0.5),
        }
    )
    return Problem("hparams4", space, _hparams, 0.3)


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
    "ackley5": lambda: ackley(5),
    "ackley10": lambda: ackley(10),
    "rosenbrock4": lambda: rosenbrock(4),
    "styblinski_tang8": lambda: styblinski_tang(8),
    "shekel10": shekel,
    "michalewicz5": michalewicz,
    "int_rosenbrock4": int_rosenbrock,
    "categorical5": categorical,
    "hartmann6_n02": lambda: hartmann6_noisy(0.02),
    "hartmann6_n10": lambda: hartmann6_noisy(0.1),
    "hparams4": hparams,
    "hartmann6_d10": hartmann6_padded,
}
# The problems of PROBLEMS with black-box constraints (infeasible has no feasible point at all).
CONSTRAINED = ("gramacy", "gardner1", "gardner2", "vessel", "spring", "infeasible")
# The broad single-objective benchmark (``hpo bench --suite broad``): 14 problems, 2 to 10
# dimensions; continuous (multi-modal, valley, narrow wells, ridges), integer, categorical, mixed
# and log-scale hyperparameter-like spaces; noise-free and noisy.
SUITE = (
    "branin",  # 2 floats
    "hartmann6",  # 6 floats
    "mixed",  # 2 floats, a log-int, a categorical
    "ackley5",  # 5 floats, shifted, multi-modal
    "rosenbrock4",  # 4 floats, a curved valley
    "styblinski_tang8",  # 8 floats
    "shekel10",  # 4 floats, ten narrow wells
    "michalewicz5",  # 5 floats, steep ridges
    "ackley10",  # 10 floats, shifted
    "int_rosenbrock4",  # 4 integers, two stepped
    "categorical5",  # 2 floats, 3 categoricals
    "hartmann6_n02",  # 6 floats, noise 0.02
    "hartmann6_n10",  # 6 floats, noise 0.1
    "hparams4",  # log-floats, a log-int, a float
    "hartmann6_d10",  # 10 floats, four of them irrelevant
)


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


def _zdt(name: str, d: int, h: Callable[[float, float], float], max_hv: float) -> ParetoProblem:
    """A ZDT problem (Zitzler, Deb, Thiele 2000) in d dimensions: f1 = x0, f2 = g h(x0, g) with
    g = 1 + 9 mean(x1..); the front is g = 1 (x1.. = 0); reference point (11, 11)."""
    space = hpo.SearchSpace({f"x{i}": hpo.Float(0.0, 1.0) for i in range(d)})

    def fn(p: Mapping[str, Any]) -> tuple[float, float]:
        x = [p[f"x{i}"] for i in range(d)]
        g = 1.0 + 9.0 * sum(x[1:]) / (d - 1)
        return x[0], g * h(x[0], g)

    return ParetoProblem(name, space, fn, (11.0, 11.0), max_hv)


def zdt1(d: int = 6) -> ParetoProblem:
    """ZDT1: h = 1 - sqrt(f1 / g). The front f2 = 1 - sqrt(f1) on [0, 1] dominates, above
    (11, 11), 121 - integral_0^1 (1 - sqrt(f)) df = 121 - 1/3."""
    return _zdt("zdt1", d, lambda f1, g: 1.0 - math.sqrt(f1 / g), 121.0 - 1.0 / 3.0)


def zdt2(d: int = 6) -> ParetoProblem:
    """ZDT2: h = 1 - (f1 / g)^2. The front f2 = 1 - f1^2 on [0, 1] (concave) dominates, above
    (11, 11), 121 - integral_0^1 (1 - f^2) df = 121 - 2/3."""
    return _zdt("zdt2", d, lambda f1, g: 1.0 - (f1 / g) ** 2, 121.0 - 2.0 / 3.0)


def zdt3(d: int = 6) -> ParetoProblem:
    """ZDT3: h = 1 - sqrt(f1 / g) - (f1 / g) sin(10 pi f1). The front is the non-dominated part of
    g = 1: five disconnected pieces. The front's hypervolume above (11, 11), 128.77811613069076,
    is BoTorch's (``botorch.test_functions.multi_objective.ZDT3``, whose f2 leaves out the factor
    g; the front is the same)."""
    return _zdt(
        "zdt3", d, lambda f1, g: 1.0 - math.sqrt(f1 / g) - f1 / g * math.sin(10.0 * math.pi * f1), 128.77811613069076
    )


def _vehicle_safety(p: Mapping[str, Any]) -> tuple[float, float, float]:
    x1, x2, x3, x4, x5 = (p[f"x{i}"] for i in range(1, 6))
    mass = 1640.2823 + 2.3573285 * x1 + 2.3220035 * x2 + 4.5688768 * x3 + 7.7213633 * x4 + 4.4559504 * x5
    acceleration = (
        6.5856 + 1.15 * x1 - 1.0427 * x2 + 0.9738 * x3 + 0.8364 * x4 - 0.3695 * x1 * x4 + 0.0861 * x1 * x5
        + 0.3628 * x2 * x4 - 0.1106 * x1**2 - 0.3437 * x3**2 + 0.1764 * x4**2
    )
    intrusion = (
        -0.0551 + 0.0181 * x1 + 0.1024 * x2 + 0.0421 * x3 - 0.0073 * x1 * x2 + 0.024 * x2 * x3
        - 0.0118 * x2 * x4 - 0.0204 * x3 * x4 - 0.008 * x3 * x5 - 0.0241 * x2**2 + 0.0109 * x4**2
    )
    return mass, acceleration, intrusion


def vehicle_safety() -> ParetoProblem:
    """Vehicle crash safety (Liao et al. 2008): mass, collision acceleration and toe-board
    intrusion of a car's frontal structure, from five member thicknesses in [1, 3].

    Three objectives with a front of no closed form; reference point and the front's hypervolume
    246.81607081187002 are BoTorch's (``botorch.test_functions.multi_objective.VehicleSafety``).
    """
    space = hpo.SearchSpace({f"x{i}": hpo.Float(1.0, 3.0) for i in range(1, 6)})
    return ParetoProblem(
        "vehicle_safety", space, _vehicle_safety, (1864.72022, 11.81993945, 0.2903999384), 246.81607081187002
    )


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
    "zdt2": zdt2,
    "zdt3": zdt3,
    "dtlz2_2": lambda: dtlz2(2),
    "dtlz2_3": lambda: dtlz2(3),
    "vehicle_safety": vehicle_safety,
}


def get_pareto_problem(name: str) -> ParetoProblem:
    """A multi-objective problem by name (a key of :data:`PARETO`)."""
    if name not in PARETO:
        raise hpo.HPOValueError(f"multi-objective problem must be one of {sorted(PARETO)}, but got {name!r}.")
    return PARETO[name]()
