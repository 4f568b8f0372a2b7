"""The engine step and the surrogate's fallback chain."""

import warnings

import numpy as np
import torch
import pytest

import hpo
from hpo import engine, surrogate
from hpo.space import SearchSpace

LINE = SearchSpace({"x": hpo.Float(0.0, 1.0)})


def _data(n=8, seed=0, noise=0.0):
    rng = np.random.default_rng(seed)
    X = LINE.sample_unit(rng.random((n, 1)))
    Y = -((X - 0.3) ** 2) + noise * rng.standard_normal((n, 1))
    return X, Y


def test_initial_design_is_seeded_spread_and_feasible():
    pts = [engine.initial_design(LINE, seed=3, index=i)[0] for i in range(8)]
    assert pts == [engine.initial_design(LINE, seed=3, index=i)[0] for i in range(8)]
    assert pts != [engine.initial_design(LINE, seed=4, index=i)[0] for i in range(8)]
    # a scrambled Sobol sequence puts its first 8 points one in each eighth of [0, 1]
    assert sorted(int(p * 8) for p in pts) == list(range(8))


def test_suggest_finds_the_maximum_of_a_smooth_function():
    X, Y = _data()
    s = engine.suggest(LINE, X, Y, seed=0)
    assert s.acquisition == "ei"
    assert abs(s.x[0] - 0.3) < 0.05


def test_same_inputs_same_suggestion():
    X, Y = _data(noise=0.01)
    a = engine.suggest(LINE, X, Y, seed=5)
    b = engine.suggest(LINE, X, Y, seed=5)
    np.testing.assert_array_equal(a.x, b.x)


def test_pending_point_moves_the_suggestion():
    X, Y = _data()
    first = engine.suggest(LINE, X, Y, seed=0).x
    second = engine.suggest(LINE, X, Y, X_pending=first[None, :], seed=0).x
    assert abs(first[0] - second[0]) > 1e-3


def test_noisy_observations_switch_auto_to_noisy_ei():
    rng = np.random.default_rng(0)
    X = LINE.sample_unit(rng.random((30, 1)))
    Y = -((X - 0.3) ** 2) + 0.2 * rng.standard_normal((30, 1))  # noise sd ~ 3x the signal's range
    assert engine.suggest(LINE, X, Y, seed=0).acquisition == "nei"


def test_suggestions_respect_grids_and_categories():
    space = SearchSpace({"k": hpo.Int(1, 9, step=2), "c": hpo.Categorical(["a", "b", "c"]), "z": hpo.Float(0, 1)})
    rng = np.random.default_rng(1)
    X = space.sample_unit(rng.random((8, 3)))
    Y = -np.array([[abs(space.decode(x)["k"] - 5) + (space.decode(x)["c"] != "b") + space.decode(x)["z"]] for x in X])
    x = engine.suggest(space, X, Y, seed=0).x
    params = space.decode(x)
    space.validate(params)
    np.testing.assert_array_equal(space.encode(params), x)


@pytest.mark.parametrize(
    "kwargs, rule",
    [
        ({"acquisition": "ucb"}, "acquisition"),
        ({"n_startup": 0}, "n_startup >= 1"),
        ({"num_restarts": 0}, "num_restarts >= 1"),
        ({"noise_threshold": 1.5}, "noise_threshold"),
        ({"num_threads": 0}, "num_threads >= 1"),
        ({"min_infeasible_observations": 0}, "min_infeasible_observations >= 1"),
    ],
)
def test_settings_check_themselves(kwargs, rule):
    with pytest.raises(hpo.HPOValueError, match=rule):
        engine.Settings(**kwargs)


def test_a_step_runs_torch_and_blas_on_the_set_threads_and_restores_them(monkeypatch):
    import torch
    from threadpoolctl import threadpool_info, threadpool_limits

    def blas() -> set[int]:
        return {lib["num_threads"] for lib in threadpool_info() if lib["user_api"] == "blas"}

    seen = []
    fit = engine.fit_model

    def watched(*args, **kwargs):
        seen.append((torch.get_num_threads(), blas()))
        return fit(*args, **kwargs)

    monkeypatch.setattr(engine, "fit_model", watched)
    X, Y = _data()
    with threadpool_limits(limits=2, user_api="blas"):  # the caller's setting, restored after the step
        before = torch.get_num_threads()
        engine.suggest(LINE, X, Y, seed=0, settings=engine.Settings(num_threads=1 if before > 1 else 2))
        assert seen == [(1 if before > 1 else 2, {1 if before > 1 else 2})]
        assert torch.get_num_threads() == before and blas() == {2}
        seen.clear()
        engine.suggest(LINE, X, Y, seed=0, settings=engine.Settings(num_threads=None))  # left alone
        assert seen == [(before, {2})]


def test_several_objectives_pick_hypervolume_acquisitions():
    X, _ = _data(n=10)
    Y = np.hstack([-((X - 0.3) ** 2), -((X - 0.7) ** 2)])  # the front is x in [0.3, 0.7]
    s = engine.suggest(LINE, X, Y, seed=0)
    assert s.acquisition == "ehvi" and 0.25 < s.x[0] < 0.75
    five = np.hstack([-((X - c) ** 2) for c in (0.1, 0.3, 0.5, 0.7, 0.9)])
    assert engine.suggest(LINE, X, five, seed=0).acquisition == "parego"
    with pytest.raises(hpo.HPOValueError, match="ref_point"):
        engine.suggest(LINE, X, Y, ref_point=np.array([0.0]))
    with pytest.raises(hpo.HPOValueError, match="with 1 objective"):
        engine.suggest(LINE, X, Y[:, :1], settings=engine.Settings(acquisition="ehvi"))


def test_noisy_objectives_pick_nehvi_for_two_and_the_posterior_mean_front_beyond():
    rng = np.random.default_rng(4)
    X = LINE.sample_unit(rng.random((16, 1)))
    three = np.hstack([-((X - c) ** 2) for c in (0.3, 0.5, 0.7)])  # the front is x in [0.3, 0.7]
    noisy = three + 0.05 * rng.standard_normal(three.shape)  # ~40% of each column's spread
    two = engine.suggest(LINE, X, noisy[:, :2], seed=0)
    assert two.acquisition == "nehvi" and 0.25 < two.x[0] < 0.55
    s = engine.suggest(LINE, X, noisy, seed=0)
    assert s.acquisition == "mean-ehvi" and 0.25 < s.x[0] < 0.75
    # without noise the observed front is used
    assert engine.suggest(LINE, X, three, seed=0).acquisition == "ehvi"


def test_bad_history_is_rejected():
    with pytest.raises(hpo.HPOValueError, match="finite"):
        engine.suggest(LINE, np.array([[0.5]]), np.array([[np.nan]]))
    with pytest.raises(hpo.HPOValueError, match="n x 1"):
        engine.suggest(LINE, np.zeros((2, 3)), np.zeros((2, 1)))


def test_fit_failure_walks_the_fallback_chain_and_warns_once(monkeypatch):
    def broken(*args, **kwargs):
        raise RuntimeError("Cholesky failed")

    monkeypatch.setattr(surrogate, "_lean_fit", broken)
    X, Y = _data()
    cache = surrogate.SurrogateCache()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        s1 = engine.suggest(LINE, X, Y, seed=0, cache=cache)
        s2 = engine.suggest(LINE, X, Y, seed=1, cache=cache)
    msgs = [str(w.message) for w in caught if issubclass(w.category, hpo.HPOWarning)]
    assert len(msgs) == 1
    assert "Cholesky failed" in msgs[0] and "prior-mode hyperparameters" in msgs[0]
    # with prior-mode hyperparameters the model still steers towards the maximum at 0.3
    for s in (s1, s2):
        assert 0.0 <= s.x[0] <= 1.0
        assert abs(s.x[0] - 0.3) < 0.2


def test_a_linear_objective_fits_without_warning_and_interpolates():
    """Exactly linear data can make the kernel matrix singular at the 1e-8 noise floor; the
    chain's third step (floor 1e-6) must fit it, silently, and still interpolate the line."""
    import torch

    X = torch.linspace(0, 1, 8, dtype=torch.float64).unsqueeze(-1)
    Y = torch.cat([X, 1 - X], dim=-1)
    with warnings.catch_warnings():
        warnings.simplefilter("error", hpo.HPOWarning)
        model = surrogate.fit_model(X, Y, bounds=torch.tensor([[0.0], [1.0]], dtype=torch.float64))
    with torch.no_grad():
        mean = model.posterior(torch.tensor([[0.37]], dtype=torch.float64)).mean
    torch.testing.assert_close(mean, torch.tensor([[0.37, 0.63]], dtype=torch.float64), atol=1e-2, rtol=0)


@pytest.mark.parametrize("acquisition", ["ei", "nei", "kg"])
def test_no_suggestion_at_a_pending_point(acquisition):
    """Asked again with its own suggestion pending, the engine moves at least MIN_DISTANCE away."""
    from hpo.engine import MIN_DISTANCE, Settings, suggest
    from objectives.synthetic import get_problem

    problem = get_problem("branin")
    rng = np.random.default_rng(0)
    X = problem.space.sample_unit(rng.random((8, 2)))
    Y = -np.array([problem.fn(problem.space.decode(x)) for x in X])
    settings = Settings(acquisition=acquisition)
    first = suggest(problem.space, X, Y, settings=settings, seed=1).x
    second = suggest(problem.space, X, Y, X_pending=first[None, :], settings=settings, seed=1).x
    width = problem.space.bounds[1] - problem.space.bounds[0]
    assert np.linalg.norm((second - first) / width) >= MIN_DISTANCE


class _TwoPeaks(torch.nn.Module):
    """An acquisition on [0, 1] with a higher peak at 0.3 and a lower one at 0.8."""

    def forward(self, X):
        x = X[..., 0, 0]
        return torch.exp(-(((x - 0.3) / 0.1) ** 2)) + 0.5 * torch.exp(-(((x - 0.8) / 0.1) ** 2))


class _NarrowPeakAmongCliffs(torch.nn.Module):
    """A log acquisition on [0, 1]^2 as a closed-form log-EHVI looks late in a run: a narrow peak
    at (0.7, 0.7) (log-value 0 there), a gentle slope elsewhere, and a strip x0 < 0.2 where it
    falls to -1e4 (points whose improvement is all but impossible)."""

    def forward(self, X):
        x = X[..., 0, :]
        peak = -(((x - 0.7) / 0.05) ** 2).sum(-1)
        return torch.where(x[..., 0] < 0.2, -1e4 * (1.0 - x[..., 1]), torch.maximum(peak, -30.0 + 5.0 * x[..., 1]))


@pytest.mark.parametrize("seed", range(5))
def test_starts_of_a_floored_log_acquisition_include_the_best_raw_points(seed):
    """With a floor, half of the starts are the best raw points, whatever the cliffs do to the
    values' spread; BoTorch's choice alone (no floor) starts near the peak far less often."""
    settings = engine.Settings(num_restarts=10, raw_samples=512)
    bounds = torch.tensor([[0.0, 0.0], [1.0, 1.0]], dtype=torch.float64)
    acqf = _NarrowPeakAmongCliffs()
    near = {}
    for floor in (None, 40.0):
        with torch.random.fork_rng():
            torch.manual_seed(seed)
            starts = engine._starts(acqf, bounds, settings, floor)
        assert starts.shape == (10, 1, 2)
        near[floor] = int(((starts[:, 0] - 0.7).norm(dim=-1) < 0.1).sum())
    assert near[40.0] >= 5 and near[40.0] > near[None]
    # Fewer raw points than restarts: each raw point starts once.
    with torch.random.fork_rng():
        torch.manual_seed(seed)
        few = engine._starts(acqf, bounds, engine.Settings(num_restarts=10, raw_samples=7), 40.0)
    assert few.shape == (7, 1, 2) and len(torch.unique(few.reshape(7, 2), dim=0)) == 7


class _Ridge(torch.nn.Module):
    """An acquisition on (a, b, k) in [0, 1]^2 x {p, q} whose best ``a`` moves with ``b``:
    ``-(a - 0.2 - 0.6 b)^2 - 0.5 (b - 0.9)^2 - 0.3 [k = p]``, largest at (0.74, 0.9, q)."""

    def forward(self, X):
        a, b = X[..., 0, 0], X[..., 0, 1]
        value = -((a - 0.2 - 0.6 * b) ** 2) - 0.5 * (b - 0.9) ** 2
        return value if X.shape[-1] == 2 else value - 0.3 * (X[..., 0, 2] < 0.5).to(X.dtype)


RIDGE = SearchSpace({"a": hpo.Float(0.0, 1.0), "b": hpo.Float(0.0, 1.0), "k": hpo.Categorical(["p", "q"])})


@pytest.mark.parametrize("limits, expected", [
    ({}, (0.74, 0.9, 1.0)),
    ({1: (0.25, 0.25)}, (0.35, 0.25)),  # without the categorical column: the continuous branch
    ({1: (0.25, 0.25)}, (0.35, 0.25, 1.0)),  # a = 0.2 + 0.6 b on the slice b = 0.25
    ({2: (0.0, 0.0)}, (0.74, 0.9, 0.0)),  # the worse category held
    ({0: (0.1, 0.1), 2: (0.0, 0.0)}, (0.1, 0.78 / 1.72, 0.0)),  # d/db = 0.78 - 1.72 b on a = 0.1
    ({1: (0.0, 0.3)}, (0.38, 0.3, 1.0)),  # b kept below 0.3: the best is at its edge
    ({1: (0.0, 0.3)}, (0.38, 0.3)),
    ({0: (0.0, 0.5)}, (0.5, 1.26 / 1.72, 1.0)),  # a kept below 0.5: d/db = 1.26 - 1.72 b on a = 0.5
])
def test_limited_columns_stay_within_and_the_rest_maximise_the_acquisition_there(limits, expected):
    """``_optimize(limits=...)`` returns the maximiser over the box the limits leave, also when
    the best observed point (an incumbent start) lies outside it."""
    settings = engine.Settings(num_restarts=8, raw_samples=256)
    incumbents = torch.tensor([[0.74, 0.9, 1.0]], dtype=torch.float64)
    with torch.random.fork_rng():
        torch.manual_seed(0)
        space = RIDGE if len(expected) == 3 else SearchSpace({k: RIDGE[k] for k in ("a", "b")})
        x = engine._optimize(_Ridge(), space, settings, incumbents=incumbents[:, : len(expected)], limits=limits, seed=0)
    assert x.shape == (1, len(expected))
    for j, (low, high) in limits.items():
        assert low <= float(x[0, j]) <= high
    np.testing.assert_allclose(x[0].numpy(), expected, atol=2e-3)


def test_column_limits_are_checked_and_narrowed_to_their_grid():
    space = SearchSpace({"x": hpo.Float(0.0, 1.0), "n": hpo.Int(10, 100, step=10), "c": hpo.Categorical(["a", "b"])})
    assert engine.column_limits(space, {0: (0.2, 0.2), 1: (25.0, 71.0), 2: (1.0, 1.0)}) == {
        0: (0.2, 0.2), 1: (30.0, 70.0), 2: (1.0, 1.0)
    }
    X, Y = np.array([[0.1], [0.5], [0.9]]), np.array([[0.0], [1.0], [0.0]])
    with pytest.raises(hpo.HPOValueError, match=r"columns 0..0 .* column 3"):
        engine.suggest(LINE, X, Y, limits={3: (0.0, 0.0)})
    with pytest.raises(hpo.HPOValueError, match=r"column 0 must be low <= high within \[0.0, 1.0\], but got \(0.5, 2.0\)"):
        engine.suggest(LINE, X, Y, limits={0: (0.5, 2.0)})
    with pytest.raises(hpo.HPOValueError, match=r"low <= high .* but got \(0.6, 0.4\)"):
        engine.column_limits(space, {0: (0.6, 0.4)})
    with pytest.raises(hpo.HPOValueError, match="a value of its grid"):
        engine.column_limits(space, {1: (41.0, 49.0)})
    with pytest.raises(hpo.HPOValueError, match="categorical column 2 at one choice"):
        engine.column_limits(space, {2: (0.0, 1.0)})


@pytest.mark.parametrize("seed", [0, 1, 2])
@pytest.mark.parametrize("avoid, expected", [(None, 0.3), ([[0.3]], 0.8), ([[0.3], [0.8]], 0.3)])
def test_a_noise_free_step_takes_the_best_optimum_that_repeats_no_observation(avoid, expected, seed):
    """With observations to avoid, the best restart farther than _DUPLICATE from all of them wins
    (0.8 when 0.3 is observed); when every optimum repeats one, the best (0.3)."""
    avoid = None if avoid is None else torch.tensor(avoid, dtype=torch.float64)
    settings = engine.Settings(num_restarts=8, raw_samples=256)
    with torch.random.fork_rng():
        torch.manual_seed(seed)  # the random starts, as in a step (engine._model_step)
        x = engine._optimize(_TwoPeaks(), LINE, settings, avoid=avoid, seed=seed)
    assert abs(float(x[0, 0]) - expected) < 1e-3


@pytest.mark.parametrize("fixed", [None, {1: 0.4}])
def test_closed_form_candidates_equal_botorchs_from_the_same_starts(fixed):
    """The acquisition optimiser's closed-form path (no autograd) runs BoTorch's batched L-BFGS-B
    from the same starts to the same optima and values, with columns held as BoTorch holds them."""
    rng = np.random.default_rng(4)
    X = torch.as_tensor(rng.random((15, 3)))
    Y = -((X - torch.tensor([0.3, 0.6, 0.5], dtype=torch.float64)) ** 2).sum(-1, keepdim=True) + 0.1 * torch.sin(9 * X[:, :1])
    bounds = torch.tensor([[0.0] * 3, [1.0] * 3], dtype=torch.float64)
    model = surrogate.fit_model(X, Y, bounds=bounds)
    acqf = engine.log_ei(surrogate.LeanGP(model), best_f=Y.max())
    starts = torch.as_tensor(rng.random((6, 1, 3)))
    kwargs = dict(lower_bounds=bounds[0], upper_bounds=bounds[1], options={"maxiter": 200}, fixed_features=fixed)
    ours, our_values = engine._gen_closed_form(starts, acqf, **kwargs)
    theirs, their_values = engine.gen_candidates_scipy(starts, acqf, **kwargs)
    torch.testing.assert_close(ours, theirs, rtol=0, atol=1e-6)
    torch.testing.assert_close(our_values, their_values, rtol=1e-9, atol=1e-9)
    held = starts.clone()
    if fixed:
        held[..., 1] = 0.4
        assert torch.all(ours[..., 1] == 0.4)
    assert torch.all((ours >= 0) & (ours <= 1)) and torch.all(our_values >= acqf(held) - 1e-12)
