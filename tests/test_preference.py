"""The preference target: DPO and SPO losses, SPO's softness, metrics, determinism."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

import hpo
from objectives.preference import (
    DEFAULT,
    SPACE,
    PreferenceTask,
    Tokenizer,
    dpo_loss,
    ranking_accuracy,
    spo_preference_loss,
)


def test_dpo_loss_closed_form():
    t = lambda v: torch.tensor([v], dtype=torch.float64)  # noqa: E731
    # margin = 0.5 * ((-1 + 1.5) - (-2 + 1.5)) = 0.5; loss = log(1 + exp(-0.5)).
    loss = dpo_loss(t(-1.0), t(-2.0), t(-1.5), t(-1.5), beta=0.5)
    assert float(loss) == pytest.approx(math.log1p(math.exp(-0.5)), rel=1e-12)
    # Equal log-ratios: log 2 whatever beta is.
    assert float(dpo_loss(t(-3.0), t(-1.0), t(-3.0), t(-1.0), beta=7.0)) == pytest.approx(math.log(2.0))


def _tabular_spo_optimum(rewards: torch.Tensor, alpha: float, reg: float) -> torch.Tensor:
    """Minimise SPO's expected loss over a tabular policy: pairs drawn from the reference (uniform),
    labelled by Bradley-Terry, plus reg * KL(reference || policy). Returns the policy."""
    k = len(rewards)
    ref = torch.full((k,), 1.0 / k, dtype=torch.float64)
    logits = torch.zeros(k, dtype=torch.float64, requires_grad=True)
    p_win = torch.sigmoid(rewards[:, None] - rewards[None, :])  # P(i beats j)
    optimizer = torch.optim.LBFGS([logits], lr=1.0, max_iter=500, tolerance_grad=1e-12, tolerance_change=1e-14)

    def closure():
        optimizer.zero_grad()
        logp = torch.log_softmax(logits, dim=0)
        li, lj = logp[:, None].expand(k, k), logp[None, :].expand(k, k)
        pref = (ref[:, None] * ref[None, :] * p_win * spo_preference_loss(li, lj, alpha)).sum()
        loss = pref + reg * (ref * (ref.log() - logp)).sum()
        loss.backward()
        return loss

    optimizer.step(closure)
    return torch.softmax(logits.detach(), dim=0)


def test_spo_optimum_is_the_softmax_of_scaled_rewards_and_sharpens_with_the_exponent():
    rewards = torch.tensor([0.0, 0.5, 1.0, 2.0, -1.0], dtype=torch.float64)
    entropies = []
    for alpha in (0.25, 0.5, 1.0, 2.0, 4.0):
        policy = _tabular_spo_optimum(rewards, alpha, reg=1e-6)
        target = torch.softmax(alpha * rewards, dim=0)
        assert float((policy * (policy / target).log()).sum()) < 1e-4  # pi* = softmax(alpha r)
        entropies.append(float(-(policy * policy.log()).sum()))
    assert all(a > b for a, b in zip(entropies, entropies[1:]))  # entropy falls as alpha grows
    # With a strong regulariser the optimum stays closer to the (uniform) reference: higher entropy.
    strong = _tabular_spo_optimum(rewards, 2.0, reg=1.0)
    assert float(-(strong * strong.log()).sum()) > entropies[3]


def test_ranking_accuracy_hand_built():
    chosen = [-1.0, -2.0, -3.0, -1.0]
    rejected = [-2.0, -1.0, -3.0, -5.0]
    assert ranking_accuracy(chosen, rejected) == pytest.approx((1 + 0 + 0.5 + 1) / 4)


def test_tokenizer_round_trip_and_errors():
    tok = Tokenizer()
    ids = tok.encode("<bos> w0 w15 <sep> w3")
    assert tok.decode(ids) == "<bos> w0 w15 <sep> w3" and len(tok) == 20
    with pytest.raises(hpo.HPOValueError, match="vocabulary"):
        tok.encode("w99")


@pytest.fixture(scope="module")
def small_task():
    return PreferenceTask(seed=3, n_pairs=256, n_eval=64, sft_steps=30)


def test_reward_is_the_hidden_table(small_task):
    prompts = np.array([[1, 2, 3]])
    responses = np.array([[4, 5, 6, 7]])
    t = small_task.table
    assert small_task.reward(prompts, responses)[0] == pytest.approx(t[1, 4] + t[2, 5] + t[3, 6] + t[1, 7])


def test_objective_is_deterministic_for_a_seed(small_task):
    params = {"method": "spo", "strength": 2.0, "lr": 3e-3, "steps": 10}
    a, b = small_task(params), small_task(params)
    assert (a.reward, a.win_rate, a.ranking_accuracy, a.kl) == (b.reward, b.win_rate, b.ranking_accuracy, b.kl)
    assert 0.0 <= a.win_rate <= 1.0 and 0.0 <= a.ranking_accuracy <= 1.0 and a.kl >= 0.0
    # The KL estimate of the reference against itself is 0.
    prompts = small_task.eval_prompts
    assert small_task.kl(small_task.reference, prompts, small_task.reference_samples) == pytest.approx(0.0, abs=1e-9)


def test_dpo_moves_towards_the_preferred_responses(small_task):
    after = small_task({**DEFAULT, "lr": 1e-2, "steps": 40})
    assert after.reward > small_task.reference_reward and after.win_rate > 0.5 and after.kl > 0.05


def test_space_rejects_bad_params(small_task):
    with pytest.raises(hpo.HPOValueError):
        small_task({**DEFAULT, "method": "ppo"})
    assert set(SPACE.names) == {"method", "strength", "lr", "steps"}
