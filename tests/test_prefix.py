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
    with pytest.raises(hpo.HPOValueError, match="`start` configurations must differ, but {'x': 0.5} is given twice"):
        hpo.tune_with_prefixes(SPACE, Curves(), full=100, trials=4, start=[{"x": 0.5}, {"x": 0.5}])


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


class StopAt:
    """``train`` stopped by Ctrl-C at its ``call``-th call (1-based); otherwise ``Curves``."""

    def __init__(self, call: int) -> None:
        self.call, self.curves = call, Curves()

    def __call__(self, params, steps, state):
        if len(self.curves.calls) + 1 == self.call:
            self.curves.calls.append("stop")
            raise KeyboardInterrupt
        return self.curves(params, steps, state)


def _tune(tmp_path, name, train, **kwargs):
    kwargs = {"full": 100, "trials": 10, "seed": 0, **kwargs}
    return hpo.tune_with_prefixes(
        SPACE, train, storage=f"sqlite:///{tmp_path / 'studies.db'}", study_name=name,
        checkpoints=tmp_path / name, **kwargs,
    )


def _told(out):
    """The parts that ended with a result (a resume runs the stopped ones again)."""
    return [(t.params, t.state, t.value, t.steps) for t in out.tuner.trials if not (t.reason or "").startswith("stopped")]


@pytest.mark.parametrize("call", [3, 7, 9])  # a Sobol prefix, a prefix the GP chose, a continuation
def test_a_stopped_tuning_resumes_from_its_checkpoints_to_the_uninterrupted_answer(tmp_path, call):
    """10 trials of 100 steps: 8 prefixes of 20 (5 Sobol points, then the GP's) and 2
    continued. Stopped at any call, the same call again resumes: the parts told before are
    replayed, the stopped one is failed, charged and run again, and a continuation goes on from
    its prefix's state file, not from scratch."""
    reference = _tune(tmp_path, "reference", Curves())
    assert (reference.searched, reference.continued) == (8, 2)
    stopped = StopAt(call)
    with pytest.raises(KeyboardInterrupt):
        _tune(tmp_path, "stopped", stopped)
    assert stopped.curves.calls[-1] == "stop" and len(stopped.curves.calls) == call
    resumed_train = Curves()
    out = _tune(tmp_path, "stopped", resumed_train)
    # The same parts, the same answer, its state the full run's.
    assert _told(out) == _told(reference)
    assert (out.params, out.value, out.state) == (reference.params, reference.value, reference.state)
    assert out.state == {"x": out.params["x"], "step": 100}
    (failed,) = [t for t in out.tuner.trials if t not in reference.tuner.trials and t.state == "fail"]
    assert failed.reason == "stopped: train raised KeyboardInterrupt()"
    length = 20 if call <= 8 else 80
    assert failed.steps == length and out.steps == reference.steps + length
    # The resumed process ran the stopped part and what followed, and nothing told before.
    assert len(resumed_train.calls) == 10 - (call - 1)
    if call > 8:  # a continuation: from the prefix's file, at step 20
        assert [(steps, start) for _, steps, start in resumed_train.calls] == [(100, 20)] * (11 - call)
    # Left on disk: the full runs' states, by trial number.
    full = sorted(t.number for t in out.tuner.trials if t.params["steps"] == 100 and t.state == "complete")
    assert sorted(int(p.stem) for p in (tmp_path / "stopped").iterdir()) == full


def test_resuming_a_finished_tuning_trains_nothing_and_gives_its_answer(tmp_path):
    first = _tune(tmp_path, "s", Curves(), trials=6, budget=250)
    train = Curves()
    again = _tune(tmp_path, "s", train, trials=6, budget=250, seed=None)  # None: the study's seed
    assert train.calls == [] and again.tuner.trials == first.tuner.trials
    assert (again.params, again.value, again.steps) == (first.params, first.value, first.steps)
    assert again.state == first.state == {"x": first.params["x"], "step": 100}  # read from its file


def test_a_killed_process_leaves_a_running_part_that_a_resume_fails_and_runs_again(tmp_path):
    import subprocess
    import sys
    import textwrap

    script = textwrap.dedent(f"""
        import os, hpo
        calls = []
        def train(params, steps, state):
            calls.append(steps)
            if len(calls) == 4:
                os._exit(3)  # killed: nothing is told, the part stays running
            return (params["x"] - 0.7) ** 2 + 1.0 / steps, {{"x": params["x"], "step": steps}}
        hpo.tune_with_prefixes({{"x": hpo.Float(0.0, 1.0)}}, train, full=100, trials=6, budget=250, seed=0,
                               storage="sqlite:///{tmp_path / 'studies.db'}", study_name="s",
                               checkpoints="{tmp_path / 's'}")
    """)
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=300)
    assert done.returncode == 3, done.stderr
    reference = _tune(tmp_path, "reference", Curves(), trials=6, budget=250)
    out = _tune(tmp_path, "s", Curves(), trials=6, budget=250)
    stale = out.tuner.trials[3]
    assert (stale.state, stale.steps) == ("fail", 20)
    assert stale.reason == "stopped: found running on resume: its process ended before the part did"
    assert _told(out) == _told(reference) and (out.params, out.value) == (reference.params, reference.value)


def test_a_resume_must_match_the_study_and_keep_its_files(tmp_path):
    with pytest.raises(KeyboardInterrupt):
        _tune(tmp_path, "s", StopAt(6), trials=6, budget=250)
    db = f"sqlite:///{tmp_path / 'studies.db'}"

    def stored():
        return hpo.Tuner({**SPACE, "steps": hpo.Int(20, 100)}, fidelity="steps", storage=db, study_name="s").trials

    before = stored()
    with pytest.raises(hpo.HPOValueError, match="the study's `trials`, 6, but got trials=8"):
        _tune(tmp_path, "s", Curves(), trials=8, budget=250)
    with pytest.raises(hpo.HPOValueError, match="the study's `seed`, 0, but got seed=1"):
        _tune(tmp_path, "s", Curves(), trials=6, budget=250, seed=1)
    with pytest.raises(hpo.HPOValueError, match="give `checkpoints`"):
        hpo.tune_with_prefixes(SPACE, Curves(), full=100, trials=6, budget=250, storage=db, study_name="s")
    with pytest.raises(hpo.HPOValueError, match="must be a folder of this study's own"):
        hpo.tune_with_prefixes(SPACE, Curves(), full=100, trials=6, checkpoints=tmp_path / "s")  # a new study
    assert stored() == before
    # The second continuation was stopped; its prefix's state is missing, then unreadable: an
    # error naming the file, and nothing stored is lost or added.
    second = sorted(before[:4], key=lambda t: t.value)[1]
    assert before[5].params == {**second.params, "steps": 100} and before[5].reason.startswith("stopped: ")
    path = tmp_path / "s" / f"{second.number}.pkl"
    saved = path.read_bytes()
    path.unlink()
    with pytest.raises(hpo.StorageError, match=f"trial {second.number}.*{path}.*missing"):
        _tune(tmp_path, "s", Curves(), trials=6, budget=250)
    path.write_bytes(b"not a pickle")
    with pytest.raises(hpo.StorageError, match=f"{path}.*cannot be read"):
        _tune(tmp_path, "s", Curves(), trials=6, budget=250)
    assert stored() == before
    path.write_bytes(saved)
    train = Curves()
    out = _tune(tmp_path, "s", train, trials=6, budget=250)
    assert [(x, steps, start) for x, steps, start in train.calls] == [(second.params["x"], 100, 20)]
    assert out.state == {"x": out.params["x"], "step": 100}


def test_with_checkpoints_a_state_must_pickle_and_a_failed_run_leaves_no_file(tmp_path):
    def unpicklable(params, steps, state):
        return (params["x"] - 0.7) ** 2, lambda: None

    with pytest.raises(hpo.HPOTypeError, match="state must pickle, but function does not"):
        hpo.tune_with_prefixes(SPACE, unpicklable, full=100, trials=4, checkpoints=tmp_path / "a")
    assert list((tmp_path / "a").iterdir()) == []
    nan = Curves(value=lambda x: math.nan if x > 0.5 else x)
    out = hpo.tune_with_prefixes(SPACE, nan, full=100, trials=6, budget=250, checkpoints=tmp_path / "b")
    failed = [t for t in out.tuner.trials if t.state == "fail"]
    assert failed and sorted(int(p.stem) for p in (tmp_path / "b").iterdir()) == [
        t.number for t in out.tuner.trials if t.params["steps"] == 100 and t.state == "complete"
    ]


def test_a_continuation_another_process_took_first_is_dropped_untrained_and_its_result_counts(tmp_path, monkeypatch):
    """Another process (a second handle on the study) takes the first continuation a moment
    before this one claims it: this one's part is failed as stopped, untrained, charged nothing;
    it continues the second-best instead, waits for the other's part, and reads its state file."""
    import pickle

    from hpo.tuner import Tuner

    url = f"sqlite:///{tmp_path / 'studies.db'}"
    exact = Tuner._ask_exactly
    other = {}

    def racing(self, params, user_attrs=None):
        if params["steps"] == 100 and not other:  # the other process claims the same continuation first
            handle = Tuner({**SPACE, "steps": hpo.Int(20, 100)}, fidelity="steps", storage=url, study_name="s",
                           heartbeat=1)
            other["handle"], other["trial"] = handle, exact(handle, params, user_attrs)
        elif params["steps"] == 100 and "done" not in other:  # ... and finishes it while this one works
            x = other["trial"].params["x"]
            with open(tmp_path / "s" / f"{other['trial'].number}.pkl", "wb") as f:
                pickle.dump({"x": x, "step": 100}, f)
            other["done"] = other["handle"].tell(other["trial"], (x - 0.7) ** 2 + 0.01, steps=80)
        return exact(self, params, user_attrs)

    monkeypatch.setattr(Tuner, "_ask_exactly", racing)
    train = Curves()
    out = _tune(tmp_path, "s", train, trials=6, budget=250, heartbeat=1)
    trials = out.tuner.trials
    prefixes = sorted(trials[:4], key=lambda t: t.value)
    theirs, lost, mine = trials[4:7]
    assert theirs.number == other["trial"].number and config(theirs) == config(prefixes[0])
    assert (config(lost), lost.state, lost.steps) == (config(prefixes[0]), "fail", 0)
    assert lost.reason == "stopped: another process took the same work first"
    assert config(mine) == config(prefixes[1]) and mine.state == "complete"
    assert [(steps, start) for _, steps, start in train.calls] == [(20, None)] * 4 + [(100, 20)]  # not theirs
    best = min((theirs, mine), key=lambda t: t.value)
    assert (out.params, out.value, out.steps) == (config(best), best.value, 4 * 20 + 2 * 80)
    assert out.state == {"x": best.params["x"], "step": 100}


def test_a_start_stopped_in_its_full_run_goes_on_from_its_prefix_on_resume(tmp_path):
    reference = _tune(tmp_path, "reference", Curves(), trials=6, budget=330, start=[{"x": 0.5}])
    with pytest.raises(KeyboardInterrupt):
        _tune(tmp_path, "s", StopAt(2), trials=6, budget=330, start=[{"x": 0.5}])  # call 2: the start's full part
    train = Curves()
    out = _tune(tmp_path, "s", train, trials=6, budget=330, start=[{"x": 0.5}])
    assert train.calls[0] == (0.5, 100, 20)  # from the start's prefix file, first
    assert _told(out) == _told(reference) and out.start_values == reference.start_values
    assert (out.params, out.value, out.state) == (reference.params, reference.value, reference.state)


def test_a_prefix_another_process_asked_at_the_same_moment_is_trained_once(tmp_path, monkeypatch):
    """Two processes' searches with one seed can ask the same point at once: the other process
    claims this one's third prefix a moment before it does. This one's part is failed as stopped,
    untrained; its search takes the other's value for that point and asks a new one, so the budget
    of searched prefixes holds distinct configurations, each trained once."""
    import threading

    from hpo.tuner import Tuner

    url = f"sqlite:///{tmp_path / 'studies.db'}"
    exact = Tuner._ask_exactly
    other, prefixes = {}, []

    def racing(self, params, user_attrs=None):
        if params["steps"] == 20:
            prefixes.append(params)
        if len(prefixes) == 3 and not other:  # the other process claims the same point first
            handle = Tuner({**SPACE, "steps": hpo.Int(20, 100)}, fidelity="steps", storage=url, study_name="s",
                           heartbeat=1)
            other["trial"] = exact(handle, params, user_attrs)  # ... and finishes it a second later
            other["timer"] = threading.Timer(1.0, handle.tell, (other["trial"], 2.0), {"steps": 20})  # (never continued)
            other["timer"].start()
        return exact(self, params, user_attrs)

    monkeypatch.setattr(Tuner, "_ask_exactly", racing)
    train = Curves()
    out = _tune(tmp_path, "s", train, trials=6, budget=250, heartbeat=1)
    other["timer"].join()
    trials = out.tuner.trials
    theirs, lost = trials[2:4]
    assert theirs.number == other["trial"].number and config(lost) == config(theirs)
    assert (lost.state, lost.steps, lost.reason) == ("fail", 0, "stopped: another process took the same work first")
    searched = [t for t in trials if t.params["steps"] == 20 and t.state == "complete"]
    assert len(searched) == 4 and len({t.params["x"] for t in searched}) == 4
    assert [x for x, steps, _ in train.calls if steps == 20] == [t.params["x"] for t in searched if t is not theirs]
    assert len(train.calls) == 3 + 2  # its own three prefixes and two continuations
