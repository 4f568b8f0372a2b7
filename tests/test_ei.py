"""Expected improvement: closed forms, extreme inputs, and the acquisition contract."""

import math

import mpmath
import pytest
import torch
from botorch.acquisition.analytic import _log_ei_helper
from botorch.models import SingleTaskGP
from botorch.utils.testing import MockModel, MockPosterior
from scipy.stats import norm

from acquisitions.ei import LogEI, PendingLogEI, _log_h, log_ei, log_nei, qmc_sampler


def _mock(mean: float, sd: float) -> MockModel:
    return MockModel(
        MockPosterior(
            mean=torch.tensor([[[mean]]], dtype=torch.float64),
            variance=torch.tensor([[[sd**2]]], dtype=torch.float64),
        )
    )


def test_log_ei_closed_form():
    # EI at mean -0.5, sd 1, best 0: z = -0.5, EI = sd * (z * Phi(z) + phi(z))
    # = phi(-0.5) - 0.5 * Phi(-0.5) = 0.352065 - 0.5 * 0.308538 = 0.197797.
    acqf = log_ei(_mock(-0.5, 1.0), best_f=0.0)
    value = acqf(torch.zeros(1, 1, 1, dtype=torch.float64))
    expected = norm.pdf(-0.5) - 0.5 * norm.cdf(-0.5)
    assert expected == pytest.approx(0.19780, abs=1e-5)
    assert value.exp().item() == pytest.approx(expected, rel=1e-10)


@pytest.mark.parametrize("mean, sd, best", [(1.0, 2.0, 0.5), (0.0, 0.1, 0.3), (3.0, 1e-3, 2.0)])
def test_log_ei_matches_formula(mean, sd, best):
    # reference in 50-digit arithmetic: z * Phi(z) + phi(z) cancels badly in float64 for z << 0
    mpmath.mp.dps = 50
    z = (mpmath.mpf(mean) - mpmath.mpf(best)) / mpmath.mpf(sd)
    expected = float(mpmath.mpf(sd) * (z * mpmath.ncdf(z) + mpmath.npdf(z)))
    value = log_ei(_mock(mean, sd), best_f=best)(torch.zeros(1, 1, 1, dtype=torch.float64))
    # BoTorch's log-space helper switches to an erfcx-based branch for z < -1; measured
    # relative error there is 4e-7 at z = -3.
    assert value.exp().item() == pytest.approx(expected, rel=1e-6)


def test_log_ei_is_finite_far_below_the_incumbent():
    # z = -40: EI = phi(z)/z^2 * (1 - 3/z^2 + ...), so log EI = -z^2/2 - log(sqrt(2 pi)) - 2 log|z|
    # - 3/z^2 + O(z^-4) = -808.2986; plain EI underflows to 0 here.
    z = -40.0
    expected = -(z**2) / 2 - 0.5 * math.log(2 * math.pi) - 2 * math.log(-z) - 3 / z**2
    value = log_ei(_mock(z, 1.0), best_f=0.0)(torch.zeros(1, 1, 1, dtype=torch.float64)).item()
    assert value == pytest.approx(expected, abs=1e-3)
    assert norm.pdf(z) + z * norm.cdf(z) <= 1e-300  # what plain EI would return


def _gp(n: int = 8, d: int = 2, seed: int = 0) -> tuple[SingleTaskGP, torch.Tensor, torch.Tensor]:
    g = torch.Generator().manual_seed(seed)
    X = torch.rand(n, d, generator=g, dtype=torch.float64)
    Y = torch.sin(6 * X).sum(-1, keepdim=True)
    model = SingleTaskGP(X, Y)
    model.eval()
    return model, X, Y


def test_mc_log_ei_agrees_with_analytic():
    model, X, Y = _gp()
    pending = torch.tensor([[0.9, 0.9]], dtype=torch.float64)
    test_X = torch.rand(5, 1, 2, generator=torch.Generator().manual_seed(1), dtype=torch.float64)
    analytic = log_ei(model, best_f=Y.max())(test_X).exp()
    # A pending point with a low posterior mean adds almost no joint improvement, so where EI is
    # not negligible the quasi-MC joint form (4096 samples) agrees with the closed form.
    mc = log_ei(model, best_f=Y.max(), X_pending=pending, mc_samples=4096, seed=0)(test_X).exp()
    big = analytic > 1e-3
    assert big.sum() >= 2
    torch.testing.assert_close(mc[big], analytic[big], rtol=0.03, atol=0.0)


BUILDERS = {
    "ei": lambda model, X, Y: log_ei(model, best_f=Y.max()),
    "ei-pending": lambda model, X, Y: log_ei(model, best_f=Y.max(), X_pending=X[:2]),
    "nei": lambda model, X, Y: log_nei(model, X_baseline=X),
    "nei-pending": lambda model, X, Y: log_nei(model, X_baseline=X, X_pending=X[:2]),
}


@pytest.mark.parametrize("name", sorted(BUILDERS))
def test_acquisition_contract(name):
    """Every acquisition gives finite values and gradients with shape ``X.shape[:-2]``."""
    model, X, Y = _gp()
    acqf = BUILDERS[name](model, X, Y)
    test_X = torch.rand(4, 3, 1, 2, dtype=torch.float64, generator=torch.Generator().manual_seed(2))
    test_X.requires_grad_(True)
    values = acqf(test_X)
    assert values.shape == test_X.shape[:-2]
    assert torch.isfinite(values).all()
    values.sum().backward()
    assert torch.isfinite(test_X.grad).all()


def test_noisy_ei_is_deterministic_for_a_seed():
    model, X, _ = _gp()
    test_X = torch.rand(6, 1, 2, dtype=torch.float64, generator=torch.Generator().manual_seed(3))
    a = log_nei(model, X_baseline=X, seed=5)(test_X)
    b = log_nei(model, X_baseline=X, seed=5)(test_X)
    torch.testing.assert_close(a, b, rtol=0, atol=0)


class _Smooth(torch.nn.Module):
    """A stand-in model with a fast marginal posterior: mean = s * sum(sin(3x)), variance =
    (0.05 + |x|^2) * s^2, and their gradients in closed form."""

    def __init__(self, scale: float) -> None:
        super().__init__()
        self.scale = scale

    def mean_and_variance_grad(self, X, grad=True):
        mean, var = self.scale * torch.sin(3 * X).sum(-1), (0.05 + (X * X).sum(-1)) * self.scale**2
        if not grad:
            return mean, var, None, None
        return mean, var, 3 * self.scale * torch.cos(3 * X), 2 * X * self.scale**2


@pytest.mark.parametrize("scale, best", [(1.0, 0.5), (1.0, 40.0), (1e-3, 0.0), (50.0, -200.0)])
def test_lean_log_ei_equals_the_helper_and_its_autograd(scale, best):
    # best = 40 puts u near -40..-180 (deep in the log-space branch); best = -200 far above.
    g = torch.Generator().manual_seed(0)
    X = torch.rand(16, 1, 3, generator=g, dtype=torch.float64) * 2 - 1
    model = _Smooth(scale)
    a, b = X.clone().requires_grad_(True), X.clone().requires_grad_(True)
    value = LogEI(model, best_f=best)(a)
    mean = scale * torch.sin(3 * b.squeeze(-2)).sum(-1)
    sigma = ((0.05 + (b.squeeze(-2) ** 2).sum(-1)) * scale**2).sqrt()
    reference = _log_ei_helper((mean - best) / sigma) + sigma.log()
    assert value.shape == (16,)
    torch.testing.assert_close(value, reference, rtol=1e-12, atol=1e-12)
    (grad,) = torch.autograd.grad(value.sum(), a)
    (expected,) = torch.autograd.grad(reference.sum(), b)
    torch.testing.assert_close(grad, expected, rtol=1e-9, atol=1e-12)
    assert torch.isfinite(grad).all()
    # without autograd: the values alone, and value_and_grad's gradient (the optimiser's path)
    torch.testing.assert_close(LogEI(model, best_f=best)(X), reference.detach(), rtol=1e-12, atol=1e-12)
    _, direct = LogEI(model, best_f=best).value_and_grad(X.squeeze(-2))
    torch.testing.assert_close(direct, expected.squeeze(-2), rtol=1e-9, atol=1e-12)


def test_lean_log_ei_checks_its_inputs():
    with pytest.raises(TypeError, match="mean_and_variance_grad"):
        LogEI(_mock(0.0, 1.0), best_f=0.0)
    with pytest.raises(ValueError, match="q = 2"):
        LogEI(_Smooth(1.0), best_f=0.0)(torch.zeros(1, 2, 3, dtype=torch.float64))


def test_pending_log_ei_is_botorchs_joint_qlogei_up_to_its_sampling_error():
    # The same estimand as BoTorch's qLogEI over [x, P] with other base samples (drawn pending
    # points first): the two agree as both converge (QMC; measured against the largest EI, since
    # where the improvement is a rare event either estimate is off by its whole size at 128
    # samples), and the gradient is the value's.
    from botorch.acquisition.logei import qLogExpectedImprovement

    from hpo.surrogate import LeanGP, fit_model

    g = torch.Generator().manual_seed(2)
    X = torch.rand(15, 2, generator=g, dtype=torch.float64)
    Y = (torch.sin(6 * X[:, 0]) * torch.cos(4 * X[:, 1])).unsqueeze(-1)
    model = LeanGP(fit_model(X, Y, bounds=torch.tensor([[0.0, 0.0], [1.0, 1.0]], dtype=torch.float64)))
    P = torch.rand(3, 2, generator=g, dtype=torch.float64)
    points = torch.rand(40, 1, 2, generator=g, dtype=torch.float64)
    errors = []
    for samples in (128, 4096):
        ours = PendingLogEI(model, Y.max(), P, mc_samples=samples, seed=3)(points)
        sampler = qmc_sampler(samples, 3)
        theirs = qLogExpectedImprovement(model=model, best_f=Y.max(), sampler=sampler, X_pending=P)(points)
        assert theirs.max() - theirs.min() > 1.0
        errors.append(float((ours.exp() - theirs.exp()).abs().max() / theirs.exp().max()))
    assert errors[0] < 0.05 and errors[1] < 0.002 and errors[1] < errors[0] / 10
    acqf = PendingLogEI(model, Y.max(), P, seed=3)
    assert isinstance(log_ei(model, best_f=Y.max(), X_pending=P, seed=3), PendingLogEI)
    x = points.clone().requires_grad_(True)
    (grad,) = torch.autograd.grad(acqf(x).sum(), x)
    for j in range(2):
        step = torch.zeros(2, dtype=torch.float64)
        step[j] = 1e-6
        numeric = (acqf(points + step) - acqf(points - step)) / 2e-6
        torch.testing.assert_close(grad[:, 0, j], numeric, rtol=1e-5, atol=1e-5)


def test_log_h_on_numpy_equals_botorchs_helper_over_its_whole_range():
    """``_log_h`` is BoTorch's ``_log_ei_helper`` on numpy arrays: every branch (above -1, the
    erfcx branch below it, the leading term beyond -1e6), to a few ulps."""
    u = torch.cat([
        -torch.logspace(-3, 100, 400, dtype=torch.float64),
        torch.linspace(-40.0, 40.0, 801, dtype=torch.float64),
        torch.logspace(-3, 100, 400, dtype=torch.float64),
        torch.tensor([-1.0, -1e6, 0.0], dtype=torch.float64),
    ])
    ours = torch.from_numpy(_log_h(u.numpy()))
    torch.testing.assert_close(ours, _log_ei_helper(u), rtol=1e-12, atol=1e-12)
    assert torch.isfinite(ours).all()
