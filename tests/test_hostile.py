"""Hostile input, property-based: every bad value gets a clear hpo error or is handled; the model
never crashes; what is stored stays readable and unchanged."""

from __future__ import annotations

import math

import numpy as np
import optuna
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import hpo

ANYTHING = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(10**30), max_value=10**30),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=20),
    st.binary(max_size=8),
    st.lists(st.floats(allow_nan=True), max_size=3),
    st.dictionaries(st.text(max_size=3), st.integers(), max_size=2),
)
SETTINGS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


@SETTINGS
@given(low=ANYTHING, high=ANYTHING, log=ANYTHING)
def test_float_bounds_are_valid_or_rejected_clearly(low, high, log):
    try:
        p = hpo.Float(low, high, log=log)
    except hpo.HPOError as exc:
        assert str(exc)  # a message naming the rule
        return
    assert math.isfinite(p.low) and math.isfinite(p.high) and p.low <= p.high
    assert not p.log or p.low > 0


@SETTINGS
@given(low=ANYTHING, high=ANYTHING, step=ANYTHING)
def test_int_bounds_are_valid_or_rejected_clearly(low, high, step):
    try:
        p = hpo.Int(low, high, step=step)
    except hpo.HPOError:
        return
    assert p.low <= p.high and p.step >= 1


@SETTINGS
@given(choices=ANYTHING)
def test_categorical_choices_are_valid_or_rejected_clearly(choices):
    try:
        p = hpo.Categorical(choices)
    except hpo.HPOError:
        return
    assert len(p.choices) >= 1


@pytest.fixture(scope="module")
def stored(tmp_path_factory):
    """A SQLite study with unicode and very long names and a few told trials."""
    url = f"sqlite:///{tmp_path_factory.mktemp('hostile') / 'h.db'}"
    long_name = "λ_" + "x" * 300
    space = {long_name: hpo.Float(-1.0, 1.0), "größe 📏": hpo.Int(1, 9), "opt": hpo.Categorical(["ä", "b", None])}
    tuner = hpo.Tuner(space, storage=url, study_name="ünïcode " + "s" * 200, seed=0)
    for i in range(4):
        t = tuner.ask()
        tuner.tell(t, float(i))
    return tuner, [(t.number, t.params, t.values) for t in tuner.trials]


@SETTINGS
@given(values=ANYTHING, constraints=st.one_of(st.none(), ANYTHING))
def test_tell_bad_values_is_an_error_or_a_failure_and_nothing_stored_changes(stored, values, constraints):
    tuner, before = stored
    trial = tuner.ask()
    try:
        told = tuner.tell(trial, values, constraints=constraints)
    except hpo.HPOError as exc:
        assert str(exc)
        tuner.tell(trial, state="fail", reason="rejected input")  # the trial is still open: close it
    else:
        vals = told.values
        if told.state == "complete":
            assert vals is not None and all(math.isfinite(v) for v in vals)
        else:
            assert told.state == "fail" and told.reason
    now = {t.number: (t.number, t.params, t.values) for t in tuner.trials}
    assert [now[n] for n, _, _ in before] == before  # earlier trials are exactly as stored
    reopened = hpo.Tuner(tuner.space, storage=tuner.study._storage, study_name=tuner.study_name)
    assert len(reopened.trials) == len(tuner.trials)


@SETTINGS
@given(number=ANYTHING)
def test_tell_unknown_or_bad_trial_numbers(stored, number):
    tuner, _ = stored
    with pytest.raises(hpo.HPOError):
        tuner.tell(number, 1.0)


def test_telling_twice_is_rejected_and_keeps_the_first_value(stored):
    tuner, _ = stored
    t = tuner.ask()
    tuner.tell(t, 0.5)
    with pytest.raises(hpo.TrialStateError, match="told once"):
        tuner.tell(t, 0.25)
    assert tuner.trials[t.number].value == 0.5


@settings(max_examples=12, deadline=None)
@given(
    scale=st.sampled_from([1e-300, 1e-12, 1.0, 1e12, 1e300]),
    shape=st.sampled_from(["constant", "duplicates", "spiky", "tiny-range"]),
    seed=st.integers(0, 3),
)
def test_the_model_never_crashes_on_degenerate_data(scale, shape, seed):
    """Constant, duplicated, huge, tiny and spiky observations: ask() keeps returning valid points."""
    space = {"x": hpo.Float(0.0, 1.0), "n": hpo.Int(1, 4), "c": hpo.Categorical(["a", "b"])}
    tuner = hpo.Tuner(space, seed=seed, n_startup=3)
    rng = np.random.default_rng(seed)
    first = None
    for i in range(9):
        if shape == "duplicates" and first is not None and i % 2:
            tuner.study.enqueue_trial(first)  # the same configuration again
        t = tuner.ask()
        first = first or t.params
        value = {
            "constant": scale,
            "duplicates": scale * (1.0 if t.params == first else rng.random()),
            "spiky": scale * (1e6 if i == 5 else rng.random()),
            "tiny-range": scale * (1.0 + 1e-15 * rng.random()),
        }[shape]
        told = tuner.tell(t, value)
        assert told.state == ("complete" if math.isfinite(value) else "fail")
        assert 0.0 <= t.params["x"] <= 1.0 and t.params["n"] in {1, 2, 3, 4} and t.params["c"] in {"a", "b"}
    assert len(tuner.trials) == 9


def test_foreign_and_corrupt_databases_give_clear_errors(tmp_path, monkeypatch):
    junk = tmp_path / "junk.db"
    junk.write_bytes(b"\x00garbage" * 100)
    with pytest.raises(hpo.StorageError, match="cannot open storage"):
        hpo.Tuner({"x": hpo.Float(0, 1)}, storage=f"sqlite:///{junk}")
    # A study made by plain Optuna is not silently adopted.
    url = f"sqlite:///{tmp_path / 'optuna.db'}"
    optuna.create_study(storage=url, study_name="plain")
    # An empty study may be one another worker is creating: the Tuner waits for its space first.
    monkeypatch.setattr(hpo.tuner, "_CREATION_WAIT", 0.5)
    with pytest.raises(hpo.StorageError, match="not created by hpo.Tuner"):
        hpo.Tuner({"x": hpo.Float(0, 1)}, storage=url, study_name="plain")


def test_passwords_in_storage_urls_are_never_shown(capsys):
    url = "postgresql://alice:s3cr3t-pw@127.0.0.1:1/nowhere"
    with pytest.raises(hpo.StorageError) as info:
        hpo.Tuner({"x": hpo.Float(0, 1)}, storage=url)
    assert "s3cr3t-pw" not in str(info.value)
    assert "s3cr3t-pw" not in capsys.readouterr().err


@pytest.mark.parametrize(
    "values", [[1.7e308, 1.7e308, 0.0, 1.0], [-1e30, 1e30, 3.0, 1e-300, 5.0], [-1.7e308, 1.7e308, 1.0]]
)
def test_values_near_the_float_limit_do_not_overflow_the_model(values):
    tuner = hpo.Tuner({"x": hpo.Float(0.0, 1.0)}, seed=0, n_startup=2)
    for i, v in enumerate(values):
        t = tuner.ask()
        tuner.tell(t, v, constraints=[v if i % 2 else -1.0])
    assert 0.0 <= tuner.ask().params["x"] <= 1.0
