"""Every synthetic problem meets its known optimum at its known minimiser, and nowhere below it."""

import itertools
import math

import numpy as np
import pytest
from scipy.optimize import minimize

import hpo

from objectives import synthetic

ARGMIN = {
    "branin": [{"x1": -math.pi, "x2": 12.275}, {"x1": math.pi, "x2": 2.275}, {"x1": 9.42478, "x2": 2.475}],
    "hartmann6": [{f"x{i}": v for i, v in enumerate(synthetic.H6_ARGMIN)}],
    "mixed": [{"x": 0.5, "y": -0.3, "n": 50, "kind": "a"}],
    "gramacy": [{"x1": 0.19512269, "x2": 0.40466536}],
    "gardner1": [{"x1": 1.5 * math.pi, "x2": 0.0}],
    "gardner2": [{"x1": 1.5 * math.pi, "x2": math.asin(0.95)}],
    "vessel": [{"x1": 0.8125, "x2": 0.4375, "x3": 42.09844559585492, "x4": 176.63659584243942}],
    "spring": [{"x1": 0.05168906, "x2": 0.35671769, "x3": 11.28896893}],
    "ackley5": [{f"x{i}": v for i, v in enumerate(synthetic.ACKLEY_SHIFT[:5])}],
    "ackley10": [{f"x{i}": v for i, v in enumerate(synthetic.ACKLEY_SHIFT)}],
    "rosenbrock4": [{f"x{i}": 1.0 for i in range(4)}],
    "styblinski_tang8": [{f"x{i}": synthetic.ST_ARGMIN for i in range(8)}],
    "shekel10": [{f"x{i}": v for i, v in enumerate(synthetic.SHEKEL_ARGMIN)}],
    "michalewicz5": [{f"x{i}": v for i, v in enumerate(synthetic.MICHALEWICZ_ARGMIN)}],
    "int_rosenbrock4": [{"x0": 5, "x1": 5, "x2": 5, "x3": 5}],
    "categorical5": [synthetic.CATEGORICAL_ARGMIN],
    "hartmann6_n02": [{f"x{i}": v for i, v in enumerate(synthetic.H6_ARGMIN)}],
    "hartmann6_n10": [{f"x{i}": v for i, v in enumerate(synthetic.H6_ARGMIN)}],
    "hparams4": [synthetic.HPARAMS_ARGMIN],
    # the four extra columns are irrelevant: any values of them are an argmin
    "hartmann6_d10": [
        {**{f"x{i}": v for i, v in enumerate(synthetic.H6_ARGMIN)}, **{f"x{i}": z for i in range(6, 10)}}
        for z in (0.0, 0.37, 1.0)
    ],
}


def _feasible(problem, p, tol=0.0):
    return problem.constraints is None or max(problem.constraints(p)) <= tol


@pytest.mark.parametrize("name", sorted(set(synthetic.PROBLEMS) - {"infeasible"}))
def test_known_optimum(name):
    problem = synthetic.get_problem(name)
    for x in ARGMIN[name]:
        assert problem.fn(x) == pytest.approx(problem.optimum, rel=1e-6, abs=1e-5)
        assert _feasible(problem, x, tol=1e-6)
    rng = np.random.default_rng(0)
    U = rng.random((20000, len(problem.space)))
    points = [p for p in problem.space.decode_many(problem.space.sample_unit(U)) if _feasible(problem, p)]
    assert len(points) >= 20  # the check below has something to check
    assert min(problem.fn(p) for p in points) >= problem.optimum - 1e-9


def test_constrained_names_exactly_the_problems_with_constraints():
    with_constraints = {name for name, make in synthetic.PROBLEMS.items() if make().constraints is not None}
    assert set(synthetic.CONSTRAINED) == with_constraints


def test_infeasible_problem_violates_its_constraint_everywhere():
    problem = synthetic.get_problem("infeasible")
    assert problem.optimum is None
    rng = np.random.default_rng(0)
    points = problem.space.decode_many(problem.space.sample_unit(rng.random((20000, 2))))
    worst_case = min(problem.constraints(p)[0] for p in points)
    # 0.75 + 0.5 sin(x1) + 0.02 x2 >= 0.25 on x2 >= 0, approached where sin(x1) = -1 and x2 = 0.
    assert 0.25 <= worst_case < 0.3


def test_gp_sample_optimum_is_feasible_and_below_every_feasible_sample():
    problem = synthetic.get_problem("gp3")
    rng = np.random.default_rng(1)
    points = problem.space.decode_many(problem.space.sample_unit(rng.random((5000, 2))))
    feasible = [p for p in points if _feasible(problem, p)]
    assert 0.2 < len(feasible) / len(points) < 0.4  # the constraint is shifted to 30% feasible
    assert min(problem.fn(p) for p in feasible) >= problem.optimum - 1e-9


def test_noise_needs_an_explicit_generator():
    p = synthetic.Problem("noisy", synthetic.branin().space, synthetic.branin().fn, 0.397887, noise_std=0.5)
    with pytest.raises(ValueError, match="rng"):
        p({"x1": 0.0, "x2": 0.0})
    a = p({"x1": 0.0, "x2": 0.0}, np.random.default_rng(1))
    b = p({"x1": 0.0, "x2": 0.0}, np.random.default_rng(1))
    assert a == b != p.fn({"x1": 0.0, "x2": 0.0})


def test_suite_is_broad():
    problems = [synthetic.get_problem(n) for n in synthetic.SUITE]
    assert len(problems) >= 10 and len(set(synthetic.SUITE)) == len(synthetic.SUITE)
    dims = [len(p.space) for p in problems]
    assert min(dims) == 2 and max(dims) == 10
    kinds = [{type(param) for param in p.space.values()} for p in problems]
    assert {hpo.Float} in kinds and {hpo.Int} in kinds  # continuous-only and integer-only spaces
    assert any(hpo.Categorical in k and len(k) == 2 for k in kinds)  # floats + categoricals
    assert any(len(k) == 3 for k in kinds)  # float, int and categorical together (mixed)
    assert any(getattr(param, "log", False) and isinstance(param, hpo.Int) for p in problems for param in p.space.values())
    assert sorted({p.noise_std for p in problems}) == [0.0, 0.02, 0.1]
    assert all(p.optimum is not None and p.constraints is None for p in problems)


def test_int_rosenbrock_optimum_by_enumeration():
    problem = synthetic.get_problem("int_rosenbrock4")
    grids = [np.arange(p.low, p.high + 1, p.step) for p in problem.space.values()]
    assert [len(g) for g in grids] == [31, 16, 11, 31]
    values = sorted(problem.fn(dict(zip(problem.space, x))) for x in itertools.product(*grids))
    # every one of the 169136 lattice points; the second best is (4, 3, 2, 1): with u = x / 5,
    # 100 (0.6 - 0.64)^2 + 100 (0.4 - 0.36)^2 + 100 (0.2 - 0.16)^2 + 0.04 + 0.16 + 0.36 = 1.04
    assert values[0] == problem.optimum == 0.0
    assert values[1] == pytest.approx(1.04)


def test_categorical_optimum_over_every_combination():
    problem = synthetic.get_problem("categorical5")
    names = ("optimizer", "activation", "norm")
    best = {}
    for combo in itertools.product(*(problem.space[n].choices for n in names)):
        cats = dict(zip(names, combo))

        def f(xy, cats=cats):
            return problem.fn({"x": xy[0], "y": xy[1], **cats})

        grid = np.linspace(0.0, 1.0, 11)
        starts = sorted(itertools.product(grid, grid), key=f)[:3]
        best[combo] = min(minimize(f, s, method="L-BFGS-B", bounds=[(0, 1), (0, 1)]).fun for s in starts)
    assert len(best) == 36
    winner = min(best, key=best.get)
    assert winner == tuple(synthetic.CATEGORICAL_ARGMIN[n] for n in names)
    assert best[winner] == pytest.approx(problem.optimum, abs=1e-9)
    # the winner is no single choice's best on average: batch norm has the lower mean offset
    by_norm = {n: np.mean([v for k, v in best.items() if k[2] == n]) for n in ("batch", "layer")}
    assert by_norm["batch"] < by_norm["layer"]
    assert sorted(best.values())[1] >= problem.optimum + 0.09  # the runner-up is clearly worse


@pytest.mark.parametrize("name", ["styblinski_tang8", "michalewicz5"])
def test_separable_optimum_on_every_coordinate(name):
    # Both functions are sums of one-coordinate terms, so the argmin is optimal iff moving any
    # single coordinate along a dense line through it never goes below the optimum.
    problem = synthetic.get_problem(name)
    (argmin,) = ARGMIN[name]
    for k, param in problem.space.items():
        for t in np.linspace(param.low, param.high, 4001):
            assert problem.fn({**argmin, k: t}) >= problem.optimum - 1e-9


@pytest.mark.parametrize(
    "name", ["ackley5", "ackley10", "rosenbrock4", "shekel10", "michalewicz5", "styblinski_tang8", "hparams4"]
)
def test_local_search_from_the_best_random_points_finds_nothing_lower(name):
    # L-BFGS-B in the encoded space (log scale where the parameter has one) over the float
    # columns, any others fixed, from the 8 best of 3000 random points.
    problem = synthetic.get_problem(name)
    space = problem.space
    cols = [i for i, p in enumerate(space.values()) if isinstance(p, hpo.Float)]
    rng = np.random.default_rng(1)
    X = space.sample_unit(rng.random((3000, len(space))))
    values = np.array([problem.fn(p) for p in space.decode_many(X)])
    for x in X[np.argsort(values)[:8]]:

        def f(z, x=x):
            x = x.copy()
            x[cols] = z
            return problem.fn(space.decode(x))

        res = minimize(f, x[cols], method="L-BFGS-B", bounds=space.bounds[:, cols].T)
        assert problem.optimum - 1e-9 <= res.fun <= f(x[cols])
