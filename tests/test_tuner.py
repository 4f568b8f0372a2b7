"""Tuner: ask/tell, failures, bad input, persistence, reproducibility."""

import json
import math
import subprocess
import sys
import threading

import numpy as np
import optuna
import pytest

import hpo
from hpo.space import SearchSpace

SPACE = {"x": hpo.Float(-2.0, 2.0), "k": hpo.Int(1, 64, log=True), "c": hpo.Categorical(["a", "b", "c"])}


def f(p):
    return (p["x"] - 0.3) ** 2 + (math.log2(p["k"]) - 3) ** 2 * 0.1 + {"a": 0.5, "b": 0.0, "c": 1.0}[p["c"]]


def test_ask_tell_loop_finds_the_optimum_region():
    tuner = hpo.Tuner(SPACE, seed=0)
    for _ in range(20):
        t = tuner.ask()
        tuner.tell(t, f(t.params))
    best = tuner.best_trial
    assert best.params["c"] == "b"  # the categorical's best choice
    assert best.value < 0.1  # optimum 0 at x=0.3, k=8, c='b'; random search's 20-trial median is ~0.5
    assert [t.number for t in tuner.trials] == list(range(20))
    assert all(t.state == "complete" for t in tuner.trials)


def test_ask_n_returns_distinct_running_trials():
    tuner = hpo.Tuner(SPACE, seed=1, n_startup=5)
    for t in tuner.ask(5):
        tuner.tell(t, f(t.params))
    batch = tuner.ask(4)
    assert [t.number for t in batch] == [5, 6, 7, 8]
    xs = [t.params["x"] for t in batch]
    keys = {(round(t.params["x"], 6), t.params["k"], t.params["c"]) for t in batch}
    assert len(keys) == 4
    assert min(abs(a - b) for i, a in enumerate(xs) for b in xs[i + 1 :]) > 1e-4 or len(keys) == 4
    assert all(t.state == "running" for t in tuner.trials[5:])


def test_nan_value_records_failure_with_reason():
    tuner = hpo.Tuner(SPACE, seed=0)
    t = tuner.ask()
    stored = tuner.tell(t, float("nan"))
    assert stored.state == "fail"
    assert "not finite" in stored.reason
    t2 = tuner.ask()
    stored2 = tuner.tell(t2, state="fail", reason="CUDA out of memory")
    assert stored2.state == "fail" and stored2.reason == "CUDA out of memory"
    with pytest.raises(hpo.TrialStateError, match="no best trial"):
        tuner.best_trial


def test_failed_trials_are_imputed_not_resampled():
    # Half the space fails; the model must learn that and stop asking there.
    tuner = hpo.Tuner({"x": hpo.Float(0.0, 1.0)}, seed=3, n_startup=5)
    for _ in range(20):
        t = tuner.ask()
        if t.params["x"] < 0.5:
            tuner.tell(t, state="fail", reason="diverged")
        else:
            tuner.tell(t, (t.params["x"] - 0.6) ** 2)
    late = [t.params["x"] for t in tuner.trials[10:]]
    assert sum(x < 0.5 for x in late) <= 2
    assert abs(tuner.best_trial.params["x"] - 0.6) < 0.05


@pytest.mark.parametrize(
    "call, error, rule",
    [
        (lambda tu, t: tu.tell(t, [1.0, 2.0]), hpo.HPOValueError, "must have 1 value"),
        (lambda tu, t: tu.tell(t, "1.0"), hpo.HPOTypeError, "number"),
        (lambda tu, t: tu.tell(t, None), hpo.HPOValueError, "must be given"),
        (lambda tu, t: tu.tell(t, 1.0, constraints=[float("nan")]), hpo.HPOValueError, "finite"),
        (lambda tu, t: tu.tell(t, 1.0, state="done"), hpo.HPOValueError, "`state` must be one of"),
        (lambda tu, t: tu.tell(999, 1.0), hpo.TrialStateError, "trial 999 is not a trial"),
        (lambda tu, t: tu.tell("0", 1.0), hpo.HPOTypeError, "trial number"),
        (lambda tu, t: tu.ask(0), hpo.HPOValueError, "n >= 1"),
    ],
)
def test_bad_tell_raises_and_changes_nothing(call, error, rule):
    tuner = hpo.Tuner(SPACE, seed=0)
    done = tuner.ask()
    tuner.tell(done, 2.0)
    t = tuner.ask()
    before = tuner.trials
    with pytest.raises(error, match=rule):
        call(tuner, t)
    assert tuner.trials == before
    tuner.tell(t, 1.0)  # the trial is still tellable afterwards
    assert tuner.best_trial.value == 1.0


def test_telling_twice_raises_and_keeps_the_first_value():
    tuner = hpo.Tuner(SPACE, seed=0)
    t = tuner.ask()
    tuner.tell(t, 3.0)
    with pytest.raises(hpo.TrialStateError, match="already finished.*told once"):
        tuner.tell(t, 1.0)
    assert tuner.trials[0].values == (3.0,)


def test_bad_constructor_arguments():
    with pytest.raises(hpo.HPOValueError, match="'minimize' or 'maximize'"):
        hpo.Tuner(SPACE, directions="down")
    with pytest.raises(hpo.HPOValueError, match="acquisition"):
        hpo.Tuner(SPACE, acquisition="magic")
    with pytest.raises(hpo.HPOTypeError):
        hpo.Tuner(SPACE, storage=3)
    with pytest.raises(hpo.HPOValueError, match="seed"):
        hpo.Tuner(SPACE, seed=1.5)


def test_constraints_are_stored_and_best_is_feasible():
    tuner = hpo.Tuner({"x": hpo.Float(0, 1)}, seed=0)
    a, b = tuner.ask(), tuner.ask()
    tuner.tell(a, 0.1, constraints=[0.5, -1.0])
    tuner.tell(b, 0.9, constraints=[0.0, -2.0])
    assert tuner.trials[0].constraints == (0.5, -1.0) and not tuner.trials[0].feasible
    assert tuner.best_trial.number == 1


def test_maximize():
    tuner = hpo.Tuner({"x": hpo.Float(0.0, 1.0)}, directions="maximize", seed=0, n_startup=4)
    tuner.optimize(lambda p: -((p["x"] - 0.7) ** 2), 12, show_progress_bar=False)
    assert abs(tuner.best_trial.params["x"] - 0.7) < 0.05


def test_optimize_records_exceptions_as_failures():
    tuner = hpo.Tuner({"x": hpo.Float(0.0, 1.0)}, seed=0)

    def boom(p):
        raise RuntimeError("loss exploded")

    with pytest.raises(RuntimeError):
        tuner.optimize(boom, 3, show_progress_bar=False)
    assert tuner.trials[0].state == "fail" and "loss exploded" in tuner.trials[0].reason
    with pytest.raises(hpo.TrialStateError):
        tuner.optimize(boom, 2, show_progress_bar=False, catch=(RuntimeError,))
    assert [t.state for t in tuner.trials] == ["fail"] * 3


def test_resume_from_sqlite(tmp_path):
    url = f"sqlite:///{tmp_path / 'study.db'}"
    a = hpo.Tuner(SPACE, storage=url, study_name="s", seed=4)
    for _ in range(6):
        t = a.ask()
        a.tell(t, f(t.params))
    running = a.ask()
    best = a.best_trial
    b = hpo.Tuner(SPACE, storage=url, study_name="s")  # seed comes back from the storage
    assert b.best_trial == best
    assert len(b.trials) == 7
    b.tell(running.number, 0.0)  # a trial asked by the first process is told by the second
    assert b.best_trial.number == running.number
    with pytest.raises(hpo.StorageError, match="different search space"):
        hpo.Tuner({"x": hpo.Float(0, 1)}, storage=url, study_name="s")
    with pytest.raises(hpo.StorageError, match="directions"):
        hpo.Tuner(SPACE, storage=url, study_name="s", directions="maximize")


def test_joining_worker_waits_for_the_creator_to_store_the_space(tmp_path):
    # Optuna creates a study and stores its attributes in separate steps; a worker that loads the study in
    # between must wait for the space (not reject the study as foreign) and then use the creator's seed.
    url = f"sqlite:///{tmp_path / 'study.db'}"
    reference = hpo.Tuner(SPACE, study_name="ref", seed=11)
    storage = optuna.storages.RDBStorage(url)
    study_id = storage.create_new_study([optuna.study.StudyDirection.MINIMIZE], "s")
    storage.set_study_system_attr(study_id, "hpo:seed", 11)
    creator = threading.Timer(1.0, storage.set_study_system_attr, (study_id, "hpo:space", SearchSpace(SPACE).to_json()))
    creator.start()
    joined = hpo.Tuner(SPACE, storage=url, study_name="s")
    creator.join()
    assert joined.ask().params == reference.ask().params  # the creator's seed, so the creator's first point


def test_corrupt_storage_gives_a_clear_error(tmp_path):
    path = tmp_path / "junk.db"
    path.write_bytes(b"this is not a database" * 100)
    with pytest.raises(hpo.StorageError, match="cannot open storage"):
        hpo.Tuner(SPACE, storage=f"sqlite:///{path}")
    assert path.read_bytes() == b"this is not a database" * 100


def test_password_is_not_shown_in_storage_errors():
    with pytest.raises(hpo.StorageError) as info:
        hpo.Tuner(SPACE, storage="postgresql://user:s3cret@127.0.0.1:1/db")
    assert "s3cret" not in str(info.value)


def _suggestions(seed: int, n: int = 14) -> list:
    tuner = hpo.Tuner(SPACE, seed=seed, n_startup=6)
    out = []
    for _ in range(n):
        t = tuner.ask()
        out.append(t.params)
        tuner.tell(t, f(t.params))
    return out


def test_same_seed_same_suggestions_also_in_a_new_process():
    here = _suggestions(7)
    assert here == _suggestions(7)
    assert here != _suggestions(8)
    code = (
        "import json, sys; sys.path.insert(0, 'tests'); import test_tuner as m; "
        "print(json.dumps(m._suggestions(7)))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert json.loads(out.stdout.strip().splitlines()[-1]) == json.loads(json.dumps(here))


def test_global_random_state_is_untouched():
    import torch

    torch.manual_seed(123)
    np.random.seed(123)
    expected_t, expected_n = torch.rand(3), np.random.rand(3)
    torch.manual_seed(123)
    np.random.seed(123)
    _suggestions(0, n=8)
    torch.testing.assert_close(torch.rand(3), expected_t)
    np.testing.assert_array_equal(np.random.rand(3), expected_n)


SLOW_OBJECTIVE = '''
import os, time
import hpo

space = {"x": hpo.Float(-2.0, 2.0), "y": hpo.Float(-2.0, 2.0)}
COUNTER = os.path.join(os.path.dirname(__file__), "calls")


def fn(params):
    calls = int(open(COUNTER).read()) if os.path.exists(COUNTER) else 0
    with open(COUNTER, "w") as f:
        f.write(str(calls + 1))
    if calls == 4:
        time.sleep(600)  # the fifth trial hangs until the worker is killed
    return (params["x"] - 0.5) ** 2 + (params["y"] + 0.25) ** 2
'''


def test_a_process_killed_right_after_asking_leaves_a_trial_that_goes_stale(tmp_path):
    """Its first heartbeat is recorded before ``ask`` returns: a trial that never beat would
    never be stale (Optuna's rule) and would stay running for good."""
    import time

    url = f"sqlite:///{tmp_path / 'dead.db'}"
    script = (
        "import os, hpo\n"
        f"tuner = hpo.Tuner({{'x': hpo.Float(0.0, 1.0)}}, storage={url!r}, study_name='s', heartbeat=60)\n"
        "tuner.ask()\n"
        "os._exit(0)\n"
    )
    subprocess.run([sys.executable, "-c", script], check=True, timeout=300)
    time.sleep(4.5)  # past the grace period of 3 heartbeats of 1 s (SQLite's clock counts whole seconds)
    tuner = hpo.Tuner({"x": hpo.Float(0.0, 1.0)}, storage=url, study_name="s", heartbeat=1)
    tuner.ask()
    dead = tuner.trials[0]
    assert dead.state == "fail" and dead.reason.startswith("stale: no heartbeat for over 3 s")


def test_killed_worker_trial_is_failed_as_stale_and_retried(tmp_path):
    import signal
    import time

    (tmp_path / "slow_objective.py").write_text(SLOW_OBJECTIVE)
    url = f"sqlite:///{tmp_path / 'crash.db'}"
    worker = subprocess.Popen(
        [sys.executable, "-m", "hpo.cli", "worker", url, "--study", "crash", "--objective", "slow_objective:fn",
         "--space", "slow_objective:space", "--trials", "10", "--heartbeat", "1", "--retries", "1"],
        cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    try:
        deadline = time.time() + 300
        while time.time() < deadline:
            calls = tmp_path / "calls"
            if calls.exists() and calls.read_text() == "5":
                break
            assert worker.poll() is None, worker.communicate()
            time.sleep(0.2)
        time.sleep(1.5)  # a heartbeat or two of the hanging trial
        worker.send_signal(signal.SIGKILL)
        worker.wait(timeout=30)
    finally:
        if worker.poll() is None:
            worker.kill()
    import importlib.util

    spec = importlib.util.spec_from_file_location("slow_objective", tmp_path / "slow_objective.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)

    before = hpo.Tuner(module.space, storage=url, study_name="crash")  # no heartbeat: nothing is failed
    trials = before.trials
    assert [t.state for t in trials] == ["complete"] * 4 + ["running"]
    told = {t.number: t.values for t in trials[:4]}
    best = before.best_trial
    hung = trials[4]
    time.sleep(3.5)  # past the grace period of 3 heartbeats
    resumed = hpo.Tuner(module.space, storage=url, study_name="crash", heartbeat=1, retries=1)
    retry = resumed.ask()
    after = {t.number: t for t in resumed.trials}
    assert after[4].state == "fail" and after[4].reason.startswith("stale: no heartbeat")
    assert retry.number == 5 and retry.params == hung.params  # the stale trial's parameters, retried
    assert after[5].reason is None  # the retry is running: no reason of the stale trial's
    X, Y, _, pending = resumed._sampler._history(resumed.study, resumed._space, resumed.study.trials)
    encoded = resumed._space.encode(hung.params)
    assert len(X) == 4 and not np.isclose(X, encoded).all(axis=1).any()  # no failure row where it is retried
    assert np.allclose(pending, [encoded])
    assert {n: after[n].values for n in told} == told  # nothing told before the kill is lost
    assert resumed.best_trial == best
    resumed.tell(retry, (retry.params["x"] - 0.5) ** 2 + (retry.params["y"] + 0.25) ** 2)
    assert resumed.trials[5].state == "complete"


def test_heartbeat_needs_a_storage_url():
    with pytest.raises(hpo.HPOValueError, match="storage URL"):
        hpo.Tuner({"x": hpo.Float(0, 1)}, heartbeat=1)
    with pytest.raises(hpo.HPOValueError, match="whole number of seconds"):
        hpo.Tuner({"x": hpo.Float(0, 1)}, storage="sqlite:///:memory:", heartbeat=0)
    with pytest.raises(hpo.HPOValueError, match="retries >= 0"):
        hpo.Tuner({"x": hpo.Float(0, 1)}, retries=-1)


def test_enqueued_configurations_are_asked_first_in_order_and_checked():
    tuner = hpo.Tuner({"x": hpo.Float(0.0, 1.0), "k": hpo.Categorical(["a", "b"])}, seed=0)
    tuner.enqueue({"x": 0.25, "k": "b"})
    tuner.enqueue({"x": 0.75, "k": "a"})
    first, second = tuner.ask(), tuner.ask()
    assert first.params == {"x": 0.25, "k": "b"} and second.params == {"x": 0.75, "k": "a"}
    tuner.tell(first, 1.0)
    tuner.tell(second, 0.5)
    with pytest.raises(hpo.HPOValueError, match="x"):
        tuner.enqueue({"x": 2.0, "k": "a"})
    with pytest.raises(hpo.HPOValueError, match="at least one parameter"):
        tuner.enqueue({})
    with pytest.raises(hpo.HPOValueError, match="only parameters of the space"):
        tuner.enqueue({"y": 0.5})
    third = tuner.ask()  # the bad calls queued nothing: the sampler chooses
    assert third.params not in (first.params, second.params) and 0.0 <= third.params["x"] <= 1.0
    assert [t.number for t in tuner.trials] == [0, 1, 2]


def test_a_partly_enqueued_trial_holds_the_given_values_and_chooses_the_rest(monkeypatch):
    """In the design, the queued parameters are held and the others are the design's point (as
    without the queue); after it, the model step optimises the others with the queued ones held
    (engine test: the choice is the acquisition's maximiser on that slice)."""
    space = {"x": hpo.Float(0.0, 1.0), "y": hpo.Float(0.0, 1.0), "k": hpo.Categorical(["a", "b"])}
    plain, held = hpo.Tuner(space, seed=3, n_startup=5), hpo.Tuner(space, seed=3, n_startup=5)
    held.enqueue({"y": 0.2, "k": "b"})
    a, b = plain.ask(), held.ask()
    assert b.params == {"x": a.params["x"], "y": 0.2, "k": "b"}
    held.tell(b, 0.0)
    for _ in range(5):
        trial = held.ask()
        held.tell(trial, (trial.params["x"] - trial.params["y"]) ** 2)
    seen = []

    def spy(*args, **kwargs):
        seen.append(kwargs["limits"])
        return suggest(*args, **kwargs)

    suggest = hpo.optuna.suggest
    monkeypatch.setattr(hpo.optuna, "suggest", spy)
    held.enqueue({"y": 0.2, "k": "b"})
    trial = held.ask()
    assert seen == [{1: (0.2, 0.2), 2: (1.0, 1.0)}] and trial.params["y"] == 0.2 and trial.params["k"] == "b"
    assert held._sampler.last_acquisition == "ei"
    # Ranges: within them in the design (the design's point clipped) and after it.
    ranged = hpo.Tuner({"x": hpo.Float(0.0, 1.0), "n": hpo.Int(10, 100, step=10)}, seed=3, n_startup=3)
    for i in range(6):
        ranged.enqueue(within={"n": (10, 30), "x": (0.25, 0.5)})
        trial = ranged.ask()
        assert 10 <= trial.params["n"] <= 30 and 0.25 <= trial.params["x"] <= 0.5
        ranged.tell(trial, (trial.params["x"] - 0.3) ** 2 + trial.params["n"] / 100)
    assert ranged.study.trials[-1].user_attrs == {"hpo:within": {"n": [10, 30], "x": [0.25, 0.5]}}


def test_enqueue_ranges_are_checked_naming_the_rule():
    tuner = hpo.Tuner({"x": hpo.Float(0.0, 1.0), "g": hpo.Float(0.0, 1.0, step=0.25), "k": hpo.Categorical(["a", "b"])})
    with pytest.raises(hpo.HPOValueError, match="parameters of the space .* but got 'z'"):
        tuner.enqueue(within={"z": (0, 1)})
    with pytest.raises(hpo.HPOValueError, match="numeric parameters; hold the categorical 'k'"):
        tuner.enqueue(within={"k": ("a", "b")})
    with pytest.raises(hpo.HPOValueError, match="both held in `params` and ranged"):
        tuner.enqueue({"x": 0.5}, within={"x": (0.1, 0.9)})
    with pytest.raises(hpo.HPOTypeError, match=r"\(low, high\) pair"):
        tuner.enqueue(within={"x": 0.5})
    with pytest.raises(hpo.HPOValueError, match=r"low <= high, but got \(0.9, 0.1\)"):
        tuner.enqueue(within={"x": (0.9, 0.1)})
    with pytest.raises(hpo.HPOValueError, match="x=1.5"):
        tuner.enqueue(within={"x": (0.5, 1.5)})
    with pytest.raises(hpo.HPOValueError, match="a value of its grid"):
        tuner.enqueue(within={"g": (0.3, 0.45)})
    with pytest.raises(hpo.HPOValueError, match="at least one parameter"):
        tuner.enqueue()
    assert tuner.trials == []  # nothing was queued: no trial exists


def test_an_enqueued_trial_costs_no_model_fit(monkeypatch):
    tuner = hpo.Tuner({"x": hpo.Float(0.0, 1.0)}, seed=0, n_startup=1)
    tuner.tell(tuner.ask(), 0.3)
    tuner.tell(tuner.ask(), 0.1)  # the model is in use from here on

    def no_fit(*args, **kwargs):
        raise AssertionError("an enqueued trial fitted the model")

    monkeypatch.setattr(hpo.optuna, "suggest", no_fit)
    tuner.enqueue({"x": 0.5})
    assert tuner.ask().params == {"x": 0.5}
    with pytest.raises(AssertionError, match="fitted the model"):
        tuner.ask()  # a trial the sampler chooses does fit it
