"""Search space: validation, encoding round trips (property-based), Optuna conversion."""

import math

import numpy as np
import optuna.distributions as od
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import hpo
from hpo.space import SearchSpace

FLOATS = st.floats(-1e6, 1e6, allow_nan=False, allow_infinity=False)


@st.composite
def float_params(draw):
    lo = draw(FLOATS)
    hi = draw(st.floats(lo, lo + 1e6, allow_nan=False, allow_infinity=False))
    return hpo.Float(lo, hi), draw(st.floats(lo, hi, allow_nan=False))


@st.composite
def log_float_params(draw):
    lo = draw(st.floats(1e-8, 1e3))
    hi = draw(st.floats(lo, lo * 1e6))
    return hpo.Float(lo, hi, log=True), draw(st.floats(lo, hi))


@st.composite
def int_params(draw):
    log = draw(st.booleans())
    lo = draw(st.integers(1 if log else -10_000, 10_000))
    step = 1 if log else draw(st.integers(1, 7))
    k = draw(st.integers(0, 3000))
    hi = lo + k * step
    return hpo.Int(lo, hi, log=log, step=step), lo + draw(st.integers(0, k)) * step


@st.composite
def cat_params(draw):
    choices = draw(
        st.lists(
            st.one_of(st.none(), st.booleans(), st.integers(-5, 5), st.text(max_size=5), st.floats(-3, 3)),
            min_size=1,
            max_size=6,
            unique_by=lambda c: (type(c), c),
        )
    )
    return hpo.Categorical(choices), draw(st.sampled_from(choices))


@settings(max_examples=200, deadline=None)
@given(st.lists(st.one_of(float_params(), int_params(), cat_params()), min_size=1, max_size=6))
def test_round_trip_is_exact_and_inside_bounds(items):
    space = SearchSpace({f"p{i}": p for i, (p, _) in enumerate(items)})
    params = {f"p{i}": v for i, (_, v) in enumerate(items)}
    x = space.encode(params)
    lo, hi = space.bounds
    assert np.all(lo <= x) and np.all(x <= hi)
    back = space.decode(x)
    for name, p in space.items():
        assert back[name] == params[name]
        assert type(back[name]) is type(params[name]) or isinstance(p, hpo.Float)
    # decoding never leaves the bounds, even from points outside the encoded box
    wild = space.decode(x + 1e3) | space.decode(x - 1e3)
    space.validate(space.decode(x + 1e3))
    space.validate(space.decode(x - 1e3))
    assert set(wild) == set(space)


@settings(max_examples=200, deadline=None)
@given(log_float_params())
def test_log_float_round_trip_to_rounding_of_log(item):
    p, v = item
    space = SearchSpace({"v": p})
    back = space.decode(space.encode({"v": v}))["v"]
    # float64 log is not injective for large values; exp(log v) carries the rounding of log v,
    # a relative error of about |ln v| * 2**-52, plus half an ulp of its own.
    assert p.low <= back <= p.high
    assert abs(back - v) / v <= (abs(math.log(v)) + 2) * 2.0**-51


@settings(max_examples=100, deadline=None)
@given(st.lists(st.one_of(float_params(), int_params(), cat_params()), min_size=1, max_size=5), st.integers(0, 2**31))
def test_sample_unit_is_feasible_and_encodes_back(items, seed):
    space = SearchSpace({f"p{i}": p for i, (p, _) in enumerate(items)})
    U = np.random.default_rng(seed).random((8, len(space)))
    X = space.sample_unit(U)
    for row in X:
        params = space.decode(row)
        space.validate(params)
        np.testing.assert_array_equal(space.encode(params), row)


def test_categorical_distinguishes_types():
    c = hpo.Categorical([1, 1.0, True, "1", None])
    space = SearchSpace({"c": c})
    for v in c.choices:
        back = space.decode(space.encode({"c": v}))["c"]
        assert back == v and type(back) is type(v)


def test_discrete_and_categorical_dims():
    space = SearchSpace(
        {
            "a": hpo.Float(0, 1),
            "b": hpo.Int(0, 10, step=2),
            "c": hpo.Categorical(["x", "y"]),
            "d": hpo.Int(1, 10**6, log=True),
            "e": hpo.Float(0, 1, step=0.25),
        }
    )
    assert space.categorical_dims == {2: [0.0, 1.0]}
    assert space.discrete_dims == {1: [0, 2, 4, 6, 8, 10], 4: [0, 0.25, 0.5, 0.75, 1.0]}
    np.testing.assert_allclose(space.bounds[:, 3], [0.0, math.log(10**6)])


@pytest.mark.parametrize(
    "dist",
    [
        od.FloatDistribution(-1.5, 2.0),
        od.FloatDistribution(1e-5, 1.0, log=True),
        od.FloatDistribution(0.0, 1.0, step=0.1),
        od.IntDistribution(-3, 9),
        od.IntDistribution(1, 1024, log=True),
        od.IntDistribution(0, 12, step=3),
        od.CategoricalDistribution(["a", None, 2, 2.5, False]),
    ],
)
def test_optuna_conversion_round_trips(dist):
    space = SearchSpace.from_optuna({"p": dist})
    assert space.to_optuna() == {"p": dist}
    assert SearchSpace.from_json(space.to_json()) == space


@pytest.mark.parametrize(
    "make, rule",
    [
        (lambda: hpo.Float(1.0, 0.0), "low <= high"),
        (lambda: hpo.Float(0.0, 1.0, log=True), "low > 0"),
        (lambda: hpo.Float(float("nan"), 1.0), "finite"),
        (lambda: hpo.Float(0.0, float("inf")), "finite"),
        (lambda: hpo.Float(0.0, 1.0, step=0.3), "multiple of `step`"),
        (lambda: hpo.Float(0.0, 1.0, step=-0.1), "step > 0"),
        (lambda: hpo.Int(5, 1), "low <= high"),
        (lambda: hpo.Int(0, 10, log=True), "low >= 1"),
        (lambda: hpo.Int(0, 10, step=3), "multiple of `step`"),
        (lambda: hpo.Int(0, 10, step=0), "step >= 1"),
        (lambda: hpo.Int(1, 10, log=True, step=2), "cannot be combined"),
        (lambda: hpo.Categorical([]), "must not be empty"),
        (lambda: hpo.Categorical(["a", "a"]), "distinct"),
        (lambda: hpo.Categorical([float("nan")]), "NaN"),
        (lambda: SearchSpace({}), "at least one parameter"),
    ],
)
def test_bad_bounds_raise_value_error_naming_the_rule(make, rule):
    with pytest.raises(hpo.HPOValueError, match=rule):
        make()


@pytest.mark.parametrize(
    "make",
    [
        lambda: hpo.Float("0", 1.0),
        lambda: hpo.Float(True, 1.0),
        lambda: hpo.Int(0.5, 2),
        lambda: hpo.Categorical("abc"),
        lambda: hpo.Categorical([[1, 2]]),
        lambda: SearchSpace({"x": (0, 1)}),
        lambda: SearchSpace([("x", hpo.Float(0, 1))]),
    ],
)
def test_wrong_types_raise_type_error(make):
    with pytest.raises(hpo.HPOTypeError):
        make()


def test_validate_rejects_unknown_missing_and_out_of_domain():
    space = SearchSpace({"x": hpo.Float(0, 1), "k": hpo.Int(1, 5), "c": hpo.Categorical(["a", "b"])})
    with pytest.raises(hpo.HPOValueError, match=r"only parameters of the space.*\['z'\]"):
        space.encode({"x": 0.5, "k": 1, "c": "a", "z": 1})
    with pytest.raises(hpo.HPOValueError, match=r"\['k'\] are missing"):
        space.encode({"x": 0.5, "c": "a"})
    with pytest.raises(hpo.HPOValueError, match="x=1.5"):
        space.encode({"x": 1.5, "k": 1, "c": "a"})
    with pytest.raises(hpo.HPOValueError, match="finite"):
        space.encode({"x": float("nan"), "k": 1, "c": "a"})
    with pytest.raises(hpo.HPOTypeError, match="integer"):
        space.encode({"x": 0.5, "k": 1.5, "c": "a"})
    with pytest.raises(hpo.HPOValueError, match="one of"):
        space.encode({"x": 0.5, "k": 1, "c": "q"})


def test_encode_columns_encodes_some_parameters_by_column_and_checks_them():
    space = SearchSpace({"x": hpo.Float(0, 1), "lr": hpo.Float(1e-4, 1.0, log=True), "c": hpo.Categorical(["a", "b"])})
    full = space.encode({"x": 0.25, "lr": 1e-2, "c": "b"})
    assert space.encode_columns({"c": "b", "lr": 1e-2}) == {1: full[1], 2: full[2]} == {1: math.log(1e-2), 2: 1.0}
    assert space.encode_columns({}) == {}
    assert space.encode_ranges({"lr": (1e-3, 1e-1), "x": (0.5, 0.5)}) == {0: (0.5, 0.5), 1: (math.log(1e-3), math.log(1e-1))}
    with pytest.raises(hpo.HPOValueError, match=r"\['z'\]"):
        space.encode_columns({"z": 1})
    with pytest.raises(hpo.HPOValueError, match="lr=2"):
        space.encode_columns({"lr": 2.0})


def test_unit_distance_scales_every_column_by_its_width():
    space = hpo.SearchSpace({"a": hpo.Float(0.0, 10.0), "b": hpo.Float(-1.0, 1.0)})
    X = np.array([[5.0, 0.0], [0.0, -1.0]])
    P = np.array([[5.0, 1.0], [10.0, 1.0]])
    # Row 0: nearest (5, 1): (0, 0.5) in the unit cube -> 0.5. Row 1: (0.5, 1) and (1, 1) -> sqrt(1.25).
    np.testing.assert_allclose(space.unit_distance(X, P), [0.5, np.sqrt(1.25)])
