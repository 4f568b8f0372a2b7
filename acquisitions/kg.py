"""Knowledge gradient: the expected gain in the best posterior mean from observing X.

    KG(X) = E_y[ max_x' mu_{n+1}(x' | X, y) ] - max_x' mu_n(x')

(Frazier, "A Tutorial on Bayesian Optimization", 2018, section 4.2). It is computed in BoTorch's
one-shot form (Balandat et al., 2020): the inner maximisers, one per fantasy, are optimised jointly
with X, so :func:`optimize_acqf` handles KG like any q-batch acquisition. ``current_value`` (the
second term) is subtracted, so values are the real expected gain, not a shifted surrogate.

The multi-fidelity, cost-aware form is the same class plus three arguments: a cost model, a
``project`` map that moves a design to the target fidelity (the value is always judged there),
and the fidelity columns. BoTorch's ``qMultiFidelityKnowledgeGradient`` already splits them
this way.

:class:`OneShotKnowledgeGradient` is that class with the fantasies in closed form. With the inner
value the posterior mean, conditioning on a fantasy observation ``y_j`` at the design ``X`` (with
the pending points) only moves the mean:

    mu_{n+1}(x'_j) = mu_n(x'_j) + Sigma(x'_j, X) (Sigma(X, X) + noise I)^-1 (y_j - mu_n(X)),

so one joint posterior of the design and the inner maximisers gives every fantasy's value, where
BoTorch builds a fantasy GP per evaluation (``fantasize`` / ``condition_on_observations``: ~35 ms
an evaluation at 22 observations and 32 fantasies, most of a multi-fidelity ask's 3-4 s). The
``y_j`` are drawn by the same sampler from the same posterior as BoTorch's ``fantasize`` draws
them, so the values agree with BoTorch's to rounding (tested).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

import torch
from botorch.acquisition import PosteriorMean
from botorch.acquisition.cost_aware import InverseCostWeightedUtility
from botorch.acquisition.knowledge_gradient import _split_fantasy_points, qMultiFidelityKnowledgeGradient
from botorch.acquisition.utils import project_to_target_fidelity
from botorch.models.deterministic import DeterministicModel
from botorch.models.model import Model
from botorch.optim import optimize_acqf
from botorch.posteriors.gpytorch import GPyTorchPosterior
from botorch.sampling import SobolQMCNormalSampler
from botorch.utils.transforms import match_batch_shape, t_batch_mode_transform
from gpytorch.distributions import MultivariateNormal
from linear_operator.operators import DenseLinearOperator
from linear_operator.utils.cholesky import psd_safe_cholesky

__all__ = ["OneShotKnowledgeGradient", "current_best_mean", "knowledge_gradient"]


def current_best_mean(
    model: Model,
    bounds: torch.Tensor,
    *,
    fixed_features: Mapping[int, float] | None = None,
    num_restarts: int = 10,
    raw_samples: int = 512,
) -> torch.Tensor:
    """``max_x mu_n(x)`` over the box ``bounds`` (a ``2 x d``-dim Tensor), a 0-dim Tensor.

    ``fixed_features`` pins columns, e.g. the fidelity columns at their target values.
    """
    _, value = optimize_acqf(
        PosteriorMean(model),
        bounds=bounds,
        q=1,
        num_restarts=num_restarts,
        raw_samples=raw_samples,
        fixed_features=dict(fixed_features) if fixed_features else None,
    )
    return value.detach().reshape(())


class OneShotKnowledgeGradient(qMultiFidelityKnowledgeGradient):
    """One-shot (multi-fidelity, cost-aware) knowledge gradient with closed-form fantasies.

    BoTorch's ``qMultiFidelityKnowledgeGradient`` (so BoTorch's optimisers treat it as a one-shot
    KG: ``optimize_acqf`` starts it from ``gen_one_shot_kg_initial_conditions``) with ``forward``
    computed from one joint posterior instead of a fantasy model (see the module's docstring).
    The plain KG is the case without ``cost_aware_utility`` and with the identity ``project``.
    The inner value is the posterior mean (no ``objective``, ``posterior_transform`` or
    ``valfunc_cls``); ``expand`` is the identity.

    Args:
        model: Any single-output model whose ``posterior(X, observation_noise=True)`` is the
            joint posterior with the observation noise on its diagonal (a ``SingleTaskGP``, or
            the engine's ``LeanGP`` of one, which does not build fantasy models at all).
        **kwargs: As ``qMultiFidelityKnowledgeGradient``'s.
    """

    def __init__(self, model: Model, **kwargs) -> None:
        for name in ("objective", "posterior_transform", "inner_sampler", "expand", "valfunc_cls", "valfunc_argfac"):
            if kwargs.get(name) is not None:
                raise ValueError(f"OneShotKnowledgeGradient's inner value is the posterior mean; `{name}` is not supported.")
        super().__init__(model, **kwargs)

    @t_batch_mode_transform()
    def forward(self, X: torch.Tensor) -> torch.Tensor:
        """The KG of each t-batch's design, judged at its inner maximisers.

        Args:
            X: A ``b x (q + num_fantasies) x d``-dim Tensor: the ``q`` design points, then one
                inner maximiser per fantasy.

        Returns:
            A ``b``-dim Tensor: the gain in the best posterior mean (at the target fidelities),
            per unit of cost with a cost-aware utility, averaged over the fantasies.
        """
        X_actual, X_fantasies = _split_fantasy_points(X=X, n_f=self.num_fantasies)  # F x b x 1 x d
        X_eval = X_actual if self.X_pending is None else torch.cat(
            [X_actual, match_batch_shape(self.X_pending, X_actual)], dim=-2
        )  # b x q' x d
        q = X_eval.shape[-2]
        inner = self.project(X_fantasies).squeeze(-2).movedim(0, -2)  # b x F x d
        posterior = self.model.posterior(torch.cat([X_eval, inner], dim=-2), observation_noise=True)
        mean = posterior.mean.squeeze(-1)  # b x (q' + F)
        cov = posterior.distribution.lazy_covariance_matrix.to_dense()  # b x (q' + F) x (q' + F)
        mean_q, cov_qq = mean[..., :q], cov[..., :q, :q]  # the observation's: noise on the diagonal
        # the fantasy observations, drawn as fantasize() draws them: F x b x q' x 1
        y = self.sampler(GPyTorchPosterior(MultivariateNormal(mean_q, DenseLinearOperator(cov_qq))))
        L = psd_safe_cholesky(cov_qq)  # b x q' x q'
        step = torch.cholesky_solve((y.squeeze(-1) - mean_q).unsqueeze(-1), L).squeeze(-1)  # F x b x q'
        # fantasy j's mean at its own inner point; the noise is on the diagonal only, so
        # cov[..., q:, :q] is the latent cross-covariance
        cross = cov[..., q:, :q]  # b x F x q'
        values = mean[..., q:].movedim(-1, 0) + torch.einsum("bjq,jbq->jb", cross, step)  # F x b
        if self.current_value is not None:
            values = values - self.current_value
        if self.cost_aware_utility is not None:
            values = self.cost_aware_utility(X=X_actual, deltas=values, sampler=self.cost_sampler)
        return values.mean(dim=0)


def knowledge_gradient(
    model: Model,
    *,
    current_value: torch.Tensor,
    num_fantasies: int = 64,
    X_pending: torch.Tensor | None = None,
    seed: int = 0,
    cost_model: DeterministicModel | None = None,
    target_fidelities: Mapping[int, float] | None = None,
) -> OneShotKnowledgeGradient:
    """One-shot (multi-fidelity, cost-aware) knowledge gradient.

    Args:
        model: A fitted single-output model ("larger is better").
        current_value: ``max_x mu_n(x)`` (see :func:`current_best_mean`), subtracted from the
            fantasy maxima. For multi-fidelity use, the maximum at the target fidelities.
        num_fantasies: Quasi-MC fantasy samples of the observation at X.
        X_pending: A ``p x d``-dim Tensor of points being evaluated, or None.
        seed: Seed of the fantasy base samples.
        cost_model: Cost of evaluating a design, a model mapping ``batch x q x d`` to
            ``batch x q x 1`` (e.g. BoTorch's ``AffineFidelityCostModel``). With it, the gain is
            divided by the cost (``InverseCostWeightedUtility``): gain per unit of cost.
        target_fidelities: Column -> target value of the fidelity columns; required with
            ``cost_model``. The inner maximisation is judged at these fidelities.

    Returns:
        An acquisition whose ``forward`` takes ``batch x (q + num_fantasies) x d`` (the design
        and the inner maximisers) and returns ``batch`` values; ``evaluate(X, bounds)`` gives the
        KG of a ``batch x q x d`` design by solving the inner problem (BoTorch's, with fantasy
        models: it needs a model that can ``fantasize``, such as a ``SingleTaskGP``).
    """
    sampler = SobolQMCNormalSampler(sample_shape=torch.Size([num_fantasies]), seed=seed)
    if cost_model is None:
        if target_fidelities is not None:
            raise ValueError("`target_fidelities` is given without `cost_model`; give both or neither.")
        return OneShotKnowledgeGradient(
            model, num_fantasies=num_fantasies, sampler=sampler, current_value=current_value, X_pending=X_pending
        )
    if not target_fidelities:
        raise ValueError(f"`target_fidelities` must name the fidelity columns, but got {target_fidelities!r}.")
    targets = dict(target_fidelities)
    project: Callable[[torch.Tensor], torch.Tensor] = lambda X: project_to_target_fidelity(  # noqa: E731
        X=X, target_fidelities=targets, d=X.shape[-1]
    )
    return OneShotKnowledgeGradient(
        model,
        num_fantasies=num_fantasies,
        sampler=sampler,
        current_value=current_value,
        cost_aware_utility=InverseCostWeightedUtility(cost_model=cost_model),
        project=project,
        X_pending=X_pending,
    )
