"""Output warping: monotone per column, reusable on new points, safe near the float limits."""

from __future__ import annotations

import numpy as np
import pytest

from hpo.surrogate import OutputWarp, warp_outputs


def test_warp_is_standardised_and_monotone_per_column():
    rng = np.random.default_rng(0)
    Y = np.column_stack([rng.lognormal(size=40), -rng.exponential(size=40) ** 3])
    W = warp_outputs(Y)
    np.testing.assert_allclose(W.mean(axis=0), 0.0, atol=1e-12)
    np.testing.assert_allclose(W.std(axis=0), 1.0, rtol=1e-12)
    for j in range(2):
        order = np.argsort(Y[:, j])
        assert np.all(np.diff(W[order, j]) > 0)  # the order of configurations is kept
    # The fitted map sends new points (e.g. a reference point) to the same scale, in order.
    warp = OutputWarp.fit(Y)
    np.testing.assert_allclose(warp(Y), W)
    grid = np.linspace(Y.min(axis=0) - 1, Y.max(axis=0) + 1, 50)
    assert np.all(np.diff(warp(grid), axis=0) > 0)


def test_constant_columns_and_float_limits():
    Y = np.array([[1.0, 1.7e308], [1.0, -1.7e308], [1.0, 0.0], [1.0, 1.0]])
    W = warp_outputs(Y)
    assert np.all(np.isfinite(W))
    np.testing.assert_array_equal(W[:, 0], 0.0)
    # 0 and 1 are the same number next to 1.7e308 (float64 has 16 digits): ties, not an overflow.
    assert W[0, 1] > W[3, 1] >= W[2, 1] > W[1, 1]


@pytest.mark.parametrize("n", [1, 2])
def test_too_few_rows_are_only_standardised(n):
    Y = np.arange(n, dtype=float).reshape(-1, 1) * 3.0
    W = OutputWarp.fit(Y)(Y)
    assert np.all(np.isfinite(W)) and np.isnan(OutputWarp.fit(Y).lam).all()
