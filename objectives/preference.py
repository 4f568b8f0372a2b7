"""Preference optimisation of a small transformer: DPO's beta and SPO's softmax exponent as targets.

Everything is built here, offline and seeded:

- a **language**: prompts of ``PROMPT_LEN`` tokens and responses of ``RESPONSE_LEN`` tokens over a
  ``VOCAB``-word vocabulary, with a word-level tokenizer built from it (:class:`Tokenizer`);
- a **hidden ground-truth reward** ``r(x, y) = sum_t A[x[t mod PROMPT_LEN], y_t]`` with a random
  table ``A``; preference pairs are labelled by sampling the Bradley-Terry model
  ``P(y1 > y2) = sigmoid(r(x, y1) - r(x, y2))``;
- a **reference policy**: a GPT-2 causal LM built from a ``transformers`` config (2 layers, 64
  wide, no downloaded weights) trained by supervised fine-tuning on responses from a mediocre
  behaviour policy (``softmax(0.5 A[x, .])`` per position);
- **alignment** from the reference for ``steps`` steps of Adam at learning rate ``lr``, with
  - DPO (Rafailov et al., 2023): ``-log sigmoid(beta * ((log pi(y_w) - log pi_ref(y_w)) -
    (log pi(y_l) - log pi_ref(y_l))))``;
  - SPO (Sharifnassab et al., "Soft Preference Optimization: Aligning Language Models to Expert
    Distributions"): a preference loss without the reference,
    ``-log sigmoid((log pi(y_w) - log pi(y_l)) / alpha)``, whose Bradley-Terry optimum is the
    softmax of the rewards with exponent ``alpha``, ``pi(y|x) ~ exp(alpha r(x, y))``, so a larger
    exponent gives a sharper policy, plus ``SPO_REG`` times a regulariser over the whole output
    distribution: ``KL(pi_ref || pi)`` summed over every position's full next-token
    distribution, on responses sampled from ``pi_ref``. (The paper's parameterisation of the
    exponent could not be checked offline; this one follows its stated result, a softmax of the
    rewards whose sharpness the exponent sets.)

Metrics on held-out prompts (:class:`PreferenceResult`): the ground-truth reward of the policy's
samples, their win rate against the reference's samples, preference ranking accuracy on held-out
pairs (the chosen response is more likely under the policy), and ``KL(policy || reference)``,
exact per position along the policy's samples. A trial of a few hundred steps takes seconds on
2 CPU cores; the data and the reference are built once per :class:`PreferenceTask`.
"""

from __future__ import annotations

import functools
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

import hpo
from objectives._threads import one_thread

__all__ = [
    "VOCAB",
    "PROMPT_LEN",
    "RESPONSE_LEN",
    "SPO_REG",
    "Tokenizer",
    "dpo_loss",
    "spo_preference_loss",
    "ranking_accuracy",
    "PreferenceResult",
    "SPACE",
    "DEFAULT",
    "PreferenceTask",
]

VOCAB = 16
PROMPT_LEN = 3
RESPONSE_LEN = 4
SPO_REG = 0.01
"""Default weight of SPO's KL(reference || policy) regulariser. At 1.0 the regulariser held every
policy within KL 0.03 of the reference whatever the exponent; at 0.01 the exponent spans policies
softer than the reference (reward 1.3 at exponent 0.3, reference 1.7) to sharp ones (4.5 at 4)."""


class Tokenizer:
    """A word-level tokenizer built locally: words ``w0 .. w{VOCAB-1}`` and four special tokens."""

    specials = ("<pad>", "<bos>", "<sep>", "<eos>")

    def __init__(self, n_words: int = VOCAB) -> None:
        self.vocab = {t: i for i, t in enumerate([*self.specials, *(f"w{i}" for i in range(n_words))])}
        self.words = {i: t for t, i in self.vocab.items()}
        self.bos, self.sep = self.vocab["<bos>"], self.vocab["<sep>"]
        self.offset = len(self.specials)

    def __len__(self) -> int:
        return len(self.vocab)

    def encode(self, text: str) -> list[int]:
        try:
            return [self.vocab[w] for w in text.split()]
        except KeyError as exc:
            raise hpo.HPOValueError(f"the text must use the vocabulary's words, but got {exc.args[0]!r}.") from None

    def decode(self, ids) -> str:
        return " ".join(self.words[int(i)] for i in ids)


def dpo_loss(logp_w, logp_l, ref_w, ref_l, beta: float):
    """DPO's loss per pair from sequence log-probabilities under the policy and the reference."""
    import torch.nn.functional as F

    return -F.logsigmoid(beta * ((logp_w - ref_w) - (logp_l - ref_l)))


def spo_preference_loss(logp_w, logp_l, alpha: float):
    """SPO's preference loss per pair: ``-log P(y_w > y_l)`` with ``P = sigmoid((log pi(y_w) -
    log pi(y_l)) / alpha)``; its Bradley-Terry optimum is ``pi ~ exp(alpha r)``."""
    import torch.nn.functional as F

    return -F.logsigmoid((logp_w - logp_l) / alpha)


def ranking_accuracy(logp_chosen, logp_rejected) -> float:
    """Share of pairs whose chosen response has the higher log-likelihood (ties count half)."""
    chosen, rejected = np.asarray(logp_chosen, dtype=float), np.asarray(logp_rejected, dtype=float)
    return float(np.mean((chosen > rejected) + 0.5 * (chosen == rejected)))


@dataclass(frozen=True)
class PreferenceResult:
    """Held-out measurements of one aligned policy (rewards in the hidden reward's units)."""

    reward: float
    win_rate: float
    ranking_accuracy: float
    kl: float
    reference_reward: float
    steps: int
    seconds: float


SPACE = hpo.SearchSpace(
    {
        "method": hpo.Categorical(["dpo", "spo"]),
        "strength": hpo.Float(0.01, 10.0, log=True),  # DPO's beta or SPO's softmax exponent
        "lr": hpo.Float(1e-4, 3e-2, log=True),
        "steps": hpo.Int(10, 300, log=True),
    }
)
"""Method, its strength (beta or exponent), learning rate and training steps (the proxy's length)."""

DEFAULT = {"method": "dpo", "strength": 0.1, "lr": 1e-3, "steps": 100}
"""The common default: DPO with beta = 0.1."""


class PreferenceTask:
    """Data, reward and reference policy for one seed; ``task(params) -> PreferenceResult``.

    Args:
        seed: Seeds the reward table, the data, the reference's training and every sample.
        n_pairs: Training preference pairs.
        n_eval: Held-out prompts (and held-out pairs).
        sft_steps: Supervised fine-tuning steps of the reference.
        spo_reg: Weight of SPO's regulariser.
    """

    def __init__(
        self, seed: int = 0, *, n_pairs: int = 2048, n_eval: int = 512, sft_steps: int = 200, spo_reg: float = SPO_REG
    ) -> None:
        import torch

        self.seed = int(seed)
        self.spo_reg = float(spo_reg)
        self.tokenizer = Tokenizer()
        rng = np.random.default_rng([self.seed, 1])
        self.table = rng.normal(size=(VOCAB, VOCAB))  # A[prompt word, response word]
        self._torch = torch
        self.generator = torch.Generator().manual_seed(self.seed)
        with one_thread():
            with torch.random.fork_rng(devices=[]):
                torch.manual_seed(self.seed)
                self.reference = self._new_model()
            self._sft(sft_steps, rng)
            train_prompts = rng.integers(0, VOCAB, size=(n_pairs, PROMPT_LEN))
            self.train_pairs = self._pairs(train_prompts, rng)
            self.eval_prompts = rng.integers(0, VOCAB, size=(n_eval, PROMPT_LEN))
            self.eval_pairs = self._pairs(self.eval_prompts, rng)
            self.reference_samples = self._sample(self.reference, self.eval_prompts, seed=[self.seed, 99])
            self._reference_rewards = self.reward(self.eval_prompts, self.reference_samples)
            self.reference_reward = float(self._reference_rewards.mean())

    # -- the pieces --------------------------------------------------------------------------
    def _new_model(self):
        from transformers import GPT2Config, GPT2LMHeadModel

        config = GPT2Config(
            vocab_size=len(self.tokenizer), n_positions=2 + PROMPT_LEN + RESPONSE_LEN, n_embd=64, n_layer=2,
            n_head=4, resid_pdrop=0.0, embd_pdrop=0.0, attn_pdrop=0.0, bos_token_id=self.tokenizer.bos,
            eos_token_id=self.tokenizer.sep,
        )
        return GPT2LMHeadModel(config)

    def reward(self, prompts: np.ndarray, responses: np.ndarray) -> np.ndarray:
        """The hidden reward of each (prompt, response) row: ``n`` values."""
        cols = np.arange(RESPONSE_LEN) % PROMPT_LEN
        return self.table[prompts[:, cols], responses].sum(axis=1)

    def _ids(self, prompts: np.ndarray, responses: np.ndarray):
        torch = self._torch
        n = len(prompts)
        off = self.tokenizer.offset
        ids = np.concatenate(
            [np.full((n, 1), self.tokenizer.bos), prompts + off, np.full((n, 1), self.tokenizer.sep), responses + off],
            axis=1,
        )
        return torch.as_tensor(ids, dtype=torch.long)

    def _token_logits(self, model, prompts, responses):
        """Logits over the words at each response position: ``n x RESPONSE_LEN x VOCAB``."""
        ids = self._ids(prompts, responses)
        logits = model(ids).logits[:, 1 + PROMPT_LEN : 1 + PROMPT_LEN + RESPONSE_LEN, :]
        return logits[..., self.tokenizer.offset :]  # only words are valid responses

    def logprob(self, model, prompts, responses):
        """Sequence log-probabilities of the responses: an ``n``-dim Tensor."""
        torch = self._torch
        logp = torch.log_softmax(self._token_logits(model, prompts, responses), dim=-1)
        picked = logp.gather(-1, torch.as_tensor(responses, dtype=torch.long).unsqueeze(-1)).squeeze(-1)
        return picked.sum(dim=-1)

    def _sample(self, model, prompts, *, seed) -> np.ndarray:
        torch = self._torch
        gen = torch.Generator().manual_seed(int(np.random.SeedSequence(seed).generate_state(1)[0]))
        responses = np.zeros((len(prompts), RESPONSE_LEN), dtype=np.int64)
        with torch.no_grad():
            for t in range(RESPONSE_LEN):
                probs = torch.softmax(self._token_logits(model, prompts, responses)[:, t, :], dim=-1)
                responses[:, t] = torch.multinomial(probs, 1, generator=gen).squeeze(-1).numpy()
        return responses

    def _sft(self, steps: int, rng: np.random.Generator) -> None:
        torch = self._torch
        prompts = rng.integers(0, VOCAB, size=(4096, PROMPT_LEN))
        logits = 0.5 * self.table[prompts[:, np.arange(RESPONSE_LEN) % PROMPT_LEN]]  # behaviour policy
        probs = np.exp(logits - logits.max(-1, keepdims=True))
        probs /= probs.sum(-1, keepdims=True)
        u = rng.random(probs.shape[:2] + (1,))
        responses = (probs.cumsum(-1) < u).sum(-1).clip(0, VOCAB - 1)
        optimizer = torch.optim.Adam(self.reference.parameters(), lr=3e-3)
        for step in range(steps):
            idx = rng.integers(0, len(prompts), size=128)
            loss = -self.logprob(self.reference, prompts[idx], responses[idx]).mean()
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
        self.reference.eval()
        for p in self.reference.parameters():
            p.requires_grad_(False)

    def _pairs(self, prompts: np.ndarray, rng: np.random.Generator) -> dict[str, np.ndarray]:
        a = self._sample(self.reference, prompts, seed=[self.seed, int(rng.integers(2**31))])
        b = self._sample(self.reference, prompts, seed=[self.seed, int(rng.integers(2**31))])
        p_a = 1.0 / (1.0 + np.exp(-(self.reward(prompts, a) - self.reward(prompts, b))))
        a_wins = rng.random(len(prompts)) < p_a
        chosen = np.where(a_wins[:, None], a, b)
        rejected = np.where(a_wins[:, None], b, a)
        return {"prompts": prompts, "chosen": chosen, "rejected": rejected}

    def kl(self, policy, prompts, responses) -> float:
        """``KL(policy || reference)``: per position, exact over the vocabulary, summed along the
        given (policy-sampled) responses, averaged over rows."""
        torch = self._torch
        with torch.no_grad():
            lp = torch.log_softmax(self._token_logits(policy, prompts, responses), dim=-1)
            lr = torch.log_softmax(self._token_logits(self.reference, prompts, responses), dim=-1)
            return float((lp.exp() * (lp - lr)).sum(-1).sum(-1).mean())

    # -- one trial ---------------------------------------------------------------------------
    def __call__(self, params: Mapping[str, Any]) -> PreferenceResult:
        return self.evaluate(params)

    def evaluate(self, params: Mapping[str, Any]) -> PreferenceResult:
        """Align a copy of the reference with ``params`` and measure it on held-out prompts."""
        with one_thread():
            return self._evaluate(params)

    def _evaluate(self, params: Mapping[str, Any]) -> PreferenceResult:
        torch = self._torch
        p = SPACE.validate(params)
        start = time.perf_counter()
        policy = self._new_model()
        policy.load_state_dict(self.reference.state_dict())
        policy.train()
        optimizer = torch.optim.Adam(policy.parameters(), lr=p["lr"])
        rng = np.random.default_rng([self.seed, 2])  # the same batches for every configuration
        pairs = self.train_pairs
        for step in range(p["steps"]):
            idx = rng.integers(0, len(pairs["prompts"]), size=64)
            x, w, l_ = pairs["prompts"][idx], pairs["chosen"][idx], pairs["rejected"][idx]
            logp_w, logp_l = self.logprob(policy, x, w), self.logprob(policy, x, l_)
            if p["method"] == "dpo":
                with torch.no_grad():
                    ref_w, ref_l = self.logprob(self.reference, x, w), self.logprob(self.reference, x, l_)
                loss = dpo_loss(logp_w, logp_l, ref_w, ref_l, p["strength"]).mean()
            else:
                y_ref = self._sample(self.reference, x, seed=[self.seed, 3, step])
                lq = torch.log_softmax(self._token_logits(policy, x, y_ref), dim=-1)
                with torch.no_grad():
                    lr_ = torch.log_softmax(self._token_logits(self.reference, x, y_ref), dim=-1)
                reg = (lr_.exp() * (lr_ - lq)).sum(-1).sum(-1).mean()  # KL(reference || policy)
                loss = spo_preference_loss(logp_w, logp_l, p["strength"]).mean() + self.spo_reg * reg
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
        policy.eval()
        with torch.no_grad():
            samples = self._sample(policy, self.eval_prompts, seed=[self.seed, 98])
            rewards = self.reward(self.eval_prompts, samples)
            ref_rewards = self._reference_rewards
            ep = self.eval_pairs
            accuracy = ranking_accuracy(
                self.logprob(policy, ep["prompts"], ep["chosen"]).numpy(),
                self.logprob(policy, ep["prompts"], ep["rejected"]).numpy(),
            )
            kl = self.kl(policy, self.eval_prompts, samples)
        return PreferenceResult(
            reward=float(rewards.mean()),
            win_rate=float(np.mean((rewards > ref_rewards) + 0.5 * (rewards == ref_rewards))),
            ranking_accuracy=accuracy,
            kl=kl,
            reference_reward=self.reference_reward,
            steps=int(p["steps"]),
            seconds=time.perf_counter() - start,
        )


@functools.lru_cache(maxsize=4)
def task(seed: int = 0) -> PreferenceTask:
    """The :class:`PreferenceTask` of ``seed``, built once per process."""
    return PreferenceTask(seed)
