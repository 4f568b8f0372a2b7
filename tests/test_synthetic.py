"""Every synthetic problem meets its known optimum at its known minimiser, and nowhere below it."""

import math

import numpy as np
import pytest

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
