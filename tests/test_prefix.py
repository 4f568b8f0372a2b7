"""Tests for hpo.prefix: BO on prefixes of resumable runs, the best continued to the full length."""

import math

import pytest

import hpo

SPACE = {"x": hpo.Float(0.0, 1.0)}


class Curves:
    """A resumable "training run" with a closed-form curve, ``value(x, t) = (x - 0.7)^2 + 1/t``
    (the prefix ranks configurations as the full run does), that records every call."""

    def __init__(self, sign: float = 1.0, diverge=lambda x: None, value=None) -> None:
        self.sign, self.diverge, self.value = sign, diverge, value
        self.calls = []  # (x, steps, the step the run continued from, or None from scratch)

    def __call__(self, params, steps, state):
        x = params["x"]
        self.calls.append((x, steps, None if state is None else state["step"]))
        if state is not None:
            assert state["x"] == x and state["step"] < steps  # the run's own state, continued
        at = self.diverge(x)
        if at is not None:
            raise hpo.DivergedError(f"loss is nan at step {at}", step=at)
        value = self.sign * ((x - 0.7) ** 2 + 1.0 / steps) if self.value is None else self.value(x)
        return value, {"x": x, "step": steps}


def config(trial):
    return {"x": trial.params["x"]}


@pytest.mark.parametrize("direction, sign", [("minimize", 1.0), ("maximize", -1.0)])
def test_searches_prefixes_and_continues_the_best_from_their_state_within_the_budget(direction, sign):
    """full = 100, prefix 20, 6 trials, budget 250: 4 configurations searched (4 x 20) and the
    best 2 continued to 100 (2 x 80) cost 240; 3 searched and 3 continued (300) do not fit."""
    train = Curves(sign)
    out = hpo.tune_with_prefixes(SPACE, train, full=100, trials=6, budget=250, seed=0, direction=direction)
    trials = out.tuner.trials
    assert (out.prefix, out.searched, out.continued) == (20, 4, 2)
    assert [t.params["steps"] for t in trials] == [20] * 4 + [100] * 2
    assert [t.steps for t in trials] == [20] * 4 + [80] * 2  # a continuation pays what it adds
    assert out.steps == out.tuner.total_steps == 240
    # The 2 best prefixes (lowest values when minimising, highest when maximising) go on from
    # their own states: 4 runs from scratch, then 2 continued from step 20.
    ranked = sorted(trials[:4], key=lambda t: sign * t.value)
    assert [config(t) for t in trials[4:]] == [config(t) for t in ranked[:2]]
    assert [(steps, start) for _, steps, start in train.calls] == [(20, None)] * 4 + [(100, 20)] * 2
    # The answer is the best full run, its value the closed form at 100 steps.
    best = min(trials[4:], key=lambda t: sign * t.value)
    assert out.params == config(best) and out.tuner.best_trial.number == best.number
    assert out.value == best.value == pytest.approx(sign * ((best.params["x"] - 0.7) ** 2 + 0.01), abs=1e-15)
    # Same seed, same configurations; another seed, others.
    again = hpo.tune_with_prefixes(SPACE, Curves(sign), full=100, trials=6, budget=250, seed=0, direction=direction)
    other = hpo.tune_with_prefixes(SPACE, Curves(sign), full=100, trials=6, budget=250, seed=1, direction=direction)
    assert [t.params for t in again.tuner.trials] == [t.params for t in trials]
    assert [t.params for t in other.tuner.trials] != [t.params for t in trials]


def test_the_default_budget_is_a_third_of_the_trials_full_runs():
    # 25 trials of 300 steps: 2,500 pays 20 searched x 60 and 5 continued x 240 (2,400).
    out = hpo.tune_with_prefixes(SPACE, Curves(), full=300, trials=25, seed=0)
    assert (out.prefix, out.searched, out.continued, out.steps) == (60, 20, 5, 2400)
    # With 2 trials the least budget (one searched, one continued) is used: a full run.
    out = hpo.tune_with_prefixes(SPACE, Curves(), full=100, trials=2, seed=0)
    assert (out.searched, out.continued, out.steps) == (1, 1, 100)


def test_a_branch_the_prefix_value_is_read_after_is_charged_and_budgeted():
    """``branch=5``: each prefix of 15 steps costs 20 with the branch its value was read after;
    budget 250 pays 4 searched (4 x 20) and 2 continued from step 15 (2 x 85), not 3 and 3."""
    train = Curves()
    out = hpo.tune_with_prefixes(SPACE, train, full=100, trials=6, budget=250, prefix=15, branch=5, seed=0)
    trials = out.tuner.trials
    assert (out.searched, out.continued) == (4, 2)
    assert [t.steps for t in trials] == [20] * 4 + [85] * 2 and out.steps == 250
    assert [(steps, start) for _, steps, start in train.calls] == [(15, None)] * 4 + [(100, 15)] * 2
    with pytest.raises(hpo.HPOValueError, match="budget >= 185"):  # 5 x 20 + 85
        hpo.tune_with_prefixes(SPACE, train, full=100, trials=6, budget=184, prefix=15, branch=5)
    with pytest.raises(hpo.HPOValueError, match="branch >= 0"):
        hpo.tune_with_prefixes(SPACE, train, full=100, trials=6, branch=-1)


def test_starts_run_in_full_first_and_a_diverging_run_is_a_failed_trial_with_its_reason():
    # x >= 0.9 diverges at step 7: the start's prefix is a failed trial with the reason and the
    # 7 steps it took, never continued, and the search goes on; x = 0.5 is run in full.
    train = Curves(diverge=lambda x: 7 if x >= 0.9 else None)
    out = hpo.tune_with_prefixes(SPACE, train, full=100, trials=5, start=[{"x": 0.95}, {"x": 0.5}], seed=0)
    trials = out.tuner.trials
    assert (trials[0].state, trials[0].reason, trials[0].steps) == ("fail", "loss is nan at step 7", 7)
    assert [t.params for t in trials[1:3]] == [{"x": 0.5, "steps": 20}, {"x": 0.5, "steps": 100}]
    assert out.start_values == (None, trials[2].value) and trials[2].value == pytest.approx(0.04 + 0.01)
    assert all(t.params["x"] != 0.95 for t in trials[1:])
    assert out.value <= trials[2].value  # at least as good as each start
    with pytest.raises(hpo.HPOValueError, match="x"):
        hpo.tune_with_prefixes(SPACE, Curves(), full=100, trials=3, start=[{"x": 1.5}])


def test_a_run_whose_value_is_not_finite_fails_and_is_not_continued():
    train = Curves(value=lambda x: math.nan if x < 0.5 else (x - 0.7) ** 2)
    out = hpo.tune_with_prefixes(SPACE, train, full=100, trials=6, budget=250, seed=0)
    failed = [t for t in out.tuner.trials if t.state == "fail"]
    assert failed and all(t.params["x"] < 0.5 and t.params["steps"] == 20 and "not finite" in t.reason for t in failed)
    assert all(t.params["x"] >= 0.5 for t in out.tuner.trials if t.params["steps"] == 100)


def test_every_run_failing_is_an_error_naming_it():
    with pytest.raises(hpo.TrialStateError, match="every run failed"):
        hpo.tune_with_prefixes(SPACE, Curves(diverge=lambda x: 3), full=100, trials=4, seed=0)


def test_bad_arguments_are_refused_before_any_training():
    train = Curves()
    for kwargs, error, match in [
        (dict(full=1), hpo.HPOValueError, "full >= 2"),
        (dict(full=100.0), hpo.HPOValueError, "full >= 2"),
        (dict(prefix=0), hpo.HPOValueError, "1 <= prefix < full"),
        (dict(prefix=100), hpo.HPOValueError, "1 <= prefix < full"),
        (dict(prefix=True), hpo.HPOValueError, "1 <= prefix < full"),
        (dict(trials=0), hpo.HPOValueError, "trials >= 1"),
        (dict(trials=2, start=[{"x": 0.1}]), hpo.HPOValueError, "trials >= len\\(start\\) \\+ 2"),
        (dict(trials=6, budget=179), hpo.HPOValueError, "budget >= 180"),  # 5 x 20 + 80
        (dict(direction="max"), hpo.HPOValueError, "direction"),
        (dict(fidelity="x"), hpo.HPOValueError, "fidelity"),
    ]:
        with pytest.raises(error, match=match):
            hpo.tune_with_prefixes(SPACE, train, **{"full": 100, "trials": 4, **kwargs})
    with pytest.raises(hpo.HPOTypeError, match="callable"):
        hpo.tune_with_prefixes(SPACE, "train", full=100, trials=4)
    assert train.calls == []


@pytest.mark.parametrize(
    "train, error, match",
    [
        (lambda params, steps, state: 0.5, hpo.HPOTypeError, "a \\(value, state\\) pair"),
        (lambda params, steps, state: ("low", None), hpo.HPOTypeError, "values"),
        (Curves(diverge=lambda x: 50), hpo.HPOValueError, "0 <= step <= 20.*step=50"),
        (lambda params, steps, state: 1 / 0, ZeroDivisionError, "division"),
    ],
)
def test_a_train_function_breaking_its_contract_fails_its_trial_and_raises(tmp_path, train, error, match):
    storage = f"sqlite:///{tmp_path / 'study.db'}"
    with pytest.raises(error, match=match):
        hpo.tune_with_prefixes(SPACE, train, full=100, trials=4, seed=0, storage=storage, study_name="s")
    # The study keeps the trial, failed with the reason: nothing is left running or lost.
    def stored():
        return hpo.Tuner({**SPACE, "steps": hpo.Int(20, 100)}, fidelity="steps", storage=storage, study_name="s").trials

    (trial,) = stored()
    assert trial.state == "fail" and trial.reason and trial.params["steps"] == 20
    # A search cannot be resumed (the runs' states were the caller's): the study is left as it is.
    with pytest.raises(hpo.HPOValueError, match="'s' already holds 1 trials"):
        hpo.tune_with_prefixes(SPACE, Curves(), full=100, trials=4, seed=0, storage=storage, study_name="s")
    assert stored() == [trial]


def test_a_diverged_run_without_its_step_is_charged_the_steps_asked_for():
    train = Curves()

    def diverging(params, steps, state):
        if params["x"] > 0.5:
            raise hpo.DivergedError("loss exploded")
        return train(params, steps, state)

    out = hpo.tune_with_prefixes(SPACE, diverging, full=100, trials=6, budget=250, seed=0)
    failed = [t for t in out.tuner.trials if t.state == "fail"]
    assert failed and all(t.steps == 20 and t.reason == "loss exploded" for t in failed)
