"""Learning-rate schedules of a small character-level language model as a tuning target.

Everything is built here, offline and seeded:

- a **corpus**: the docstrings of Python's standard library (:func:`docstring_corpus`: the modules
  of :data:`objectives.rag.STDLIB_MODULES` and their public functions and classes, ~250,000
  characters; the exact text follows the interpreter's version), read with a character-level
  tokenizer whose vocabulary is the sorted set of the corpus' characters (:class:`CharTokenizer`,
  ~100 symbols), split by position: the first 90% trains, the last 10% validates;
- a **model**: a GPT-2 causal LM built from a ``transformers`` config (:class:`LMConfig`: 2 layers,
  2 heads, 64 wide, a context of 64 characters; no downloaded weights), initialised once per task
  seed, so every run starts from the same weights;
- **training** on batches of random windows drawn from the task's own ``torch.Generator`` (the same
  batches for every configuration), with AdamW or SGD with momentum 0.9, the gradient clipped to
  a global norm of 1.0 (``max_grad_norm``), the learning rate of step ``t`` (0-based) set by a
  schedule over the full run of ``T`` steps;
- the **validation loss**: mean cross-entropy (nats per character) of next-character prediction
  over a fixed set of evenly spaced validation windows. An untrained model scores about
  ``log(vocabulary size)`` (~4.6), the loss of a uniform guess.

Two ways to tune the schedule:

1. **Parametric** (:data:`SPACE`, :func:`schedule_lr`): linear warmup, then cosine decay, linear
   decay, or a constant rate with a linear cooldown over the last ``COOLDOWN_FRAC`` (20%) of the run;
   ``LRScheduleTask(seed)(params)`` is the full run's validation loss. A run of ``T/5`` steps,
   ``task.train(params, steps=T // 5)``, is the first fifth of the full run (the schedule's
   horizon stays ``T``): the proxy that :func:`tune_with_proxies` searches with, continuing the
   best runs from their checkpoints.
2. **Per stage, on the fly** (:func:`autolrs`, AutoLRS: Jin et al., "AutoLRS: Automatic
   Learning-Rate Schedule by Bayesian Optimization on the Fly", ICLR 2021): the run is cut into
   stages; in each, candidate rates chosen by Bayesian optimisation are each tried for a tenth of
   the stage from the same checkpoint, their loss at the stage's end is forecast
   (:func:`hpo.forecast`), and the stage is trained with the best.

How good a proxy is a tenth? (Measured before the gradient was clipped.) Over 20 random
configurations of :data:`SPACE`, the loss at ``T`` forecast by :func:`hpo.forecast` from the
first ``T/10`` training losses was off by a median 25% (of the smoothed final training loss), no
better than the last value of the short run (24.5%), with a rank correlation of 0.12 against the
final losses: the warmup and the decay after the first tenth decide the final loss.
(Re-measured after :func:`hpo.forecast` weighed its exponential against the curve's level, on 20
other random configurations of the seed-0 task, the final loss the mean of the last 10 training
losses: 22.7%, the last value 18.7%, rank correlation 0.30.) Within an AutoLRS stage, where the
rate is constant, the forecast from a tenth of the stage is measured by :func:`probe_curves` and
:func:`forecast_errors` (``python examples/06_lr_schedule.py --forecast``): 6 rates from 1e-4 to
3e-2, from the initial weights and from checkpoints after 100 and 200 steps of AdamW at 3e-3, the
loss after 100 steps (on 256 fixed training windows) forecast from the first 10 batch losses. The
median relative error is 3.85% over 72 curves of task seeds 0-3 (10.0%, 2.5%, 2.1% from the three
starts) and 3.92% over seeds 4-7 (14.9%, 2.4%, 2.8%); the mean of the last 3 losses errs by 4.0%
and 4.7% (20.5% and 19.1% from the initial weights). Before the gradient was clipped: 4.5% over
the 144 curves (8.1% before the weighing against the level). Earlier, forecasting the validation
loss on every 4th validation window, measured after each probe step, was free of the batches'
noise and erred by 5.1% (12%, 3.1%, 2.7%; 72 curves, the truth a smoothed training loss), yet
chose worse rates (mean regret of the stage's chosen rate 0.096 against 0.052); a raised rate
first lifts the validation loss (seed 0, from step 100 at 1e-2: 2.92, 2.98 after 10 steps, 2.85
after 100), which 10 points of a single exponential cannot follow. The probes forecast their
training losses.

Cost, measured on 2 CPU cores (no GPU; training runs torch on one thread, so the losses do not
depend on the machine's thread count):
a training step of the default task (batch 16 x 64 characters, 110,000 parameters) takes ~18 ms,
so a full run of ``T = 300`` steps of :data:`DEFAULT` takes 5.5 s and a ``T/10`` proxy 0.6 s
(each includes the ~0.05 s validation) with the other core idle; 9 s and 1.0 s with both cores
busy with other work. Building a task (corpus, tokenizer, model) takes ~0.1 s after the imports.
:func:`autolrs` with its defaults spends 480 steps (300 + 3 stages x 6 probes x 10), ~17 s busy.
A run whose loss turns NaN/infinite or blows up (above ``DIVERGED_FACTOR x log(vocabulary
size)``) stops there and reports ``val_loss = nan`` with the reason, never an exception.
"""

from __future__ import annotations

import copy
import functools
import math
import numbers
import os
import time
import warnings
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

import hpo
from objectives._threads import one_thread
from objectives.rag import STDLIB_MODULES, documented

__all__ = [
    "KINDS",
    "OPTIMIZERS",
    "COOLDOWN_FRAC",
    "DIVERGED_FACTOR",
    "schedule_lr",
    "docstring_corpus",
    "CharTokenizer",
    "LMConfig",
    "LRResult",
    "State",
    "Run",
    "SPACE",
    "DEFAULT",
    "LRScheduleTask",
    "Probe",
    "AutoLRSResult",
    "autolrs",
    "tune_with_proxies",
    "describe",
    "ProbeCurve",
    "probe_curves",
    "forecast_errors",
]

KINDS: tuple[str, ...] = ("cosine", "linear", "constant_cooldown")
"""The parametric schedules of :func:`schedule_lr`."""

OPTIMIZERS: tuple[str, ...] = ("adamw", "sgd")
"""AdamW (torch's defaults, weight decay 0.01) and SGD with momentum 0.9."""

COOLDOWN_FRAC = 0.2
"""The share of the run, at its end, over which "constant_cooldown" decays linearly."""

DIVERGED_FACTOR = 100.0
"""A training loss above this many times ``log(vocabulary size)`` (a uniform guess's loss) stops
the run as diverged. Measured at ``T = 300`` without gradient clipping: runs that passed it went
on to NaN within a few steps (SGD at a constant 1.0: 4.6, 64, 25,781, NaN at step 14), while AdamW's
early spikes at large rates stay below it and recover (peak 34 at 0.3, 347 at 1.0; final losses
~3.4); they finish with their (poor) validation loss rather than as failures. With the default
clipping the rates of :data:`SPACE` stay below it (AdamW at 1.0 peaked at 212)."""


def _check_fraction(name: str, value: Any, high: float, *, closed: bool) -> float:
    real = not isinstance(value, bool) and isinstance(value, numbers.Real)
    if not (real and (0.0 <= value <= high if closed else 0.0 <= value < high)):  # NaN fails both
        bound = "<=" if closed else "<"
        raise hpo.HPOValueError(f"`0 <= {name} {bound} {high:g}` must hold, but got {name}={value!r}.")
    return float(value)


def _check_count(name: str, value: Any, low: int, *, optional: bool = False) -> None:
    """Raise unless ``value`` is an integer ``>= low`` (or None, if ``optional``)."""
    if optional and value is None:
        return
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < low:
        alternative = " or None" if optional else ""
        raise hpo.HPOValueError(f"`{name} >= {low}` must be an integer{alternative}, but got {name}={value!r}.")


def _check_positive(name: str, value: Any, *, optional: bool = False) -> float | None:
    """``value`` as a float; raise unless it is a positive finite real (or None, if ``optional``)."""
    if optional and value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not 0 < value < math.inf:
        alternative = " or None" if optional else ""
        raise hpo.HPOValueError(f"`{name}` must be positive and finite{alternative}, but got {name}={value!r}.")
    return float(value)


def schedule_lr(kind: str, t: float, total: int, *, peak_lr: float, warmup_frac: float, final_frac: float) -> float:
    """The learning rate at step ``t`` of a ``total``-step run.

    Every kind warms up linearly from 0 at ``t = 0`` to ``peak_lr`` at ``W = warmup_frac * total``
    (no warmup when ``warmup_frac = 0``) and ends at ``final_lr = final_frac * peak_lr`` at
    ``t = total``. With ``p = (t - W) / (total - W)`` the progress after the warmup:

    - "cosine": ``final_lr + (peak_lr - final_lr) * (1 + cos(pi p)) / 2``;
    - "linear": ``final_lr + (peak_lr - final_lr) * (1 - p)``;
    - "constant_cooldown": ``peak_lr`` until ``C = (1 - COOLDOWN_FRAC) * total``, then linear from
      ``peak_lr`` to ``final_lr`` over the last ``COOLDOWN_FRAC`` of the run (so the warmup must end
      by ``C``).

    Args:
        kind: One of :data:`KINDS`.
        t: The step, ``0 <= t <= total`` (training uses the 0-based steps ``0 .. total - 1``).
        total: The run's length in steps, at least 1.
        peak_lr: The rate after the warmup, positive.
        warmup_frac: The warmup's share of the run, in ``[0, 1)``.
        final_frac: The final rate as a share of the peak, in ``[0, 1]``.
    """
    if kind not in KINDS:
        raise hpo.HPOValueError(f"`kind` must be one of {list(KINDS)}, but got {kind!r}.")
    _check_count("total", total, 1)
    if isinstance(t, bool) or not isinstance(t, numbers.Real) or not 0 <= t <= total:
        raise hpo.HPOValueError(f"`0 <= t <= total` must hold, but got t={t!r}, total={total}.")
    _check_positive("peak_lr", peak_lr)
    warmup_high = 1.0 - COOLDOWN_FRAC if kind == "constant_cooldown" else 1.0
    warmup_frac = _check_fraction("warmup_frac", warmup_frac, warmup_high, closed=kind == "constant_cooldown")
    final_frac = _check_fraction("final_frac", final_frac, 1.0, closed=True)
    warmup = warmup_frac * total
    if t < warmup:
        return float(peak_lr * t / warmup)
    final_lr = final_frac * peak_lr
    if kind == "constant_cooldown":
        start = (1.0 - COOLDOWN_FRAC) * total
        if t <= start:
            return float(peak_lr)
        return float(peak_lr + (final_lr - peak_lr) * (t - start) / (total - start))
    p = (t - warmup) / (total - warmup)
    shape = 0.5 * (1.0 + math.cos(math.pi * p)) if kind == "cosine" else 1.0 - p
    return float(final_lr + (peak_lr - final_lr) * shape)


def _rates(config: Mapping[str, Any], total: int) -> Callable[[int], float]:
    """The learning rate of each step of a ``total``-step run of ``config``'s schedule (a
    configuration of :data:`SPACE`), given the step's 0-based index."""
    shape = {k: config[k] for k in ("peak_lr", "warmup_frac", "final_frac")}
    return functools.partial(schedule_lr, config["schedule"], total=total, **shape)


def docstring_corpus(modules: Sequence[str] = STDLIB_MODULES) -> str:
    """The docstrings of ``modules`` and of their public functions and classes (alphabetical), each
    block headed ``## name``, blocks separated by blank lines.

    Signatures are left out: the reprs of default values hold memory addresses (and
    ``logging.shutdown``'s default lists the live handlers), and the text must be the same in every
    process for the losses to be.
    """
    return "\n\n".join(f"## {name}\n{doc}" for name, _, _, doc in documented(modules))


class CharTokenizer:
    """A character-level tokenizer: the vocabulary is the sorted set of ``text``'s characters."""

    def __init__(self, text: str) -> None:
        if not text:
            raise hpo.HPOValueError("a tokenizer needs a non-empty text, but got ''.")
        self.chars = "".join(sorted(set(text)))
        self._ids = {c: i for i, c in enumerate(self.chars)}

    def __len__(self) -> int:
        return len(self.chars)

    def encode(self, text: str) -> np.ndarray:
        """The ids of ``text``'s characters: a ``len(text)``-dim int64 array."""
        try:
            return np.fromiter((self._ids[c] for c in text), dtype=np.int64, count=len(text))
        except KeyError as exc:
            raise hpo.HPOValueError(
                f"the text must use the vocabulary's characters, but got {exc.args[0]!r}."
            ) from None

    def decode(self, ids: Sequence[int]) -> str:
        return "".join(self.chars[int(i)] for i in ids)


@dataclass(frozen=True)
class LMConfig:
    """The size of the GPT-2 model: layers, heads, width (divisible by heads) and context."""

    layers: int = 2
    heads: int = 2
    width: int = 64
    context: int = 64

    def __post_init__(self) -> None:
        for name in ("layers", "heads", "width", "context"):
            _check_count(name, getattr(self, name), 1)
        if self.width % self.heads:
            raise hpo.HPOValueError(
                f"`width` must be divisible by `heads`, but got width={self.width}, heads={self.heads}."
            )


@dataclass(frozen=True)
class LRResult:
    """One training run.

    Attributes:
        val_loss: Validation loss at the end (nats per character); NaN if the run diverged.
        train_losses: The training loss of every step taken, in order (a diverged run's last one
            is the NaN/infinite or runaway loss that stopped it).
        steps: Steps taken (``len(train_losses)``).
        seconds: Wall time of training and validation.
        diverged_reason: Why the run stopped early, or None.
    """

    val_loss: float
    train_losses: tuple[float, ...]
    steps: int
    seconds: float
    diverged_reason: str | None = None


@dataclass(frozen=True)
class State:
    """A checkpoint of a :class:`Run`: deep copies of everything the next steps depend on.

    Attributes:
        step: Steps taken so far.
        model: The model's ``state_dict`` (copied tensors).
        optimizer: The optimizer's ``state_dict`` (deep copy; includes each group's last rate).
        generator: The batch generator's state (``torch.Generator.get_state()``, a ByteTensor).
        diverged_reason: The run's divergence reason at the checkpoint, or None.
    """

    step: int
    model: dict[str, Any]
    optimizer: dict[str, Any]
    generator: Any
    diverged_reason: str | None


class Run:
    """A training run in progress: a fresh model with the task's initial weights, its optimizer,
    a batch generator seeded by the task, and the step counter. Made by :meth:`LRScheduleTask.start`.

    Attributes:
        step: Steps taken (each computed one training loss).
        diverged_reason: Why the run stopped, or None while it can go on.
    """

    def __init__(self, task: LRScheduleTask, optimizer: str) -> None:
        import torch

        if optimizer not in OPTIMIZERS:
            raise hpo.HPOValueError(f"`optimizer` must be one of {list(OPTIMIZERS)}, but got {optimizer!r}.")
        self._task = task
        self.model = copy.deepcopy(task._initial_model)
        self.model.train()
        params = self.model.parameters()
        # The rate is set before every step; 0.0 here only satisfies the constructors.
        if optimizer == "adamw":
            self.optimizer = torch.optim.AdamW(params, lr=0.0)
        else:
            self.optimizer = torch.optim.SGD(params, lr=0.0, momentum=0.9)
        self.generator = torch.Generator().manual_seed(task.seed)
        self.step = 0
        self.diverged_reason: str | None = None

    def advance(
        self, lr: Callable[[int], float], n: int, report: Callable[[float, int], None] | None = None
    ) -> list[float]:
        """Take ``n`` training steps (fewer if the run diverges); return their training losses.

        Args:
            lr: The learning rate of each step, given its 0-based index in the run (``self.step``
                before the step).
            n: Steps to take, at least 0.
            report: Called as ``report(loss, step)`` after every step, ``step`` counting from 1 (the
                order of :meth:`hpo.Tuner.report` and Optuna's ``trial.report``, so
                ``functools.partial(tuner.report, trial)`` forwards the curve).
        """
        _check_count("n", n, 0)
        if self.diverged_reason is not None:
            raise hpo.HPOValueError(
                f"the run diverged at step {self.step} ({self.diverged_reason}); restore a checkpoint first."
            )
        with one_thread():
            return self._advance(lr, int(n), report)

    def _advance(self, lr: Callable[[int], float], n: int, report: Callable[[float, int], None] | None) -> list[float]:
        import torch
        import torch.nn.functional as F

        task = self._task
        limit = DIVERGED_FACTOR * math.log(task.vocab_size)
        losses = []
        for _ in range(n):
            rate = float(lr(self.step))
            for group in self.optimizer.param_groups:
                group["lr"] = rate
            windows = task._train_windows(self.generator)  # batch x (context + 1)
            logits = self.model(input_ids=windows[:, :-1]).logits  # batch x context x vocab
            loss = F.cross_entropy(logits.reshape(-1, logits.shape[-1]), windows[:, 1:].reshape(-1))
            value = loss.item()
            self.step += 1
            losses.append(value)
            if not math.isfinite(value):
                self.diverged_reason = f"training loss is {value} at step {self.step} (lr {rate:.3g})"
            elif value > limit:
                self.diverged_reason = (
                    f"training loss {value:.4g} at step {self.step} (lr {rate:.3g}) exceeds "
                    f"{DIVERGED_FACTOR:g} x log(vocabulary size) = {limit:.4g}: diverging"
                )
            if report is not None:
                report(value, self.step)
            if self.diverged_reason is not None:
                break  # the update from a runaway loss is not applied: the weights stay finite
            self.optimizer.zero_grad(set_to_none=True)
            loss.backward()
            if task.max_grad_norm is not None:
                torch.nn.utils.clip_grad_norm_(self.model.parameters(), task.max_grad_norm)
            self.optimizer.step()
        return losses

    def cool(self, rate: float, k: int) -> list[float]:
        """Take ``k`` steps with the rate falling linearly from ``rate`` towards 0 (``rate * (k -
        j) / (k + 1)`` at the ``j``-th, from 0: a linear schedule of ``k + 1`` steps without warmup,
        from its second step), a cooldown; return their training losses."""
        first = self.step - 1
        shape = dict(peak_lr=rate, warmup_frac=0.0, final_frac=0.0)
        return self.advance(lambda t: schedule_lr("linear", t - first, k + 1, **shape), k)

    def val_loss(self) -> float:
        """Mean cross-entropy (nats per character) over the task's fixed validation windows."""
        return self.loss_on(self._task._val_windows)

    def loss_on(self, windows) -> float:
        """Mean cross-entropy (nats per character) of next-character prediction over ``windows``
        (an ``n x (context + 1)`` LongTensor), with the model in evaluation mode."""
        import torch
        import torch.nn.functional as F

        self.model.eval()
        try:
            with one_thread(), torch.no_grad():
                logits = self.model(input_ids=windows[:, :-1]).logits  # n x context x vocab
                loss = F.cross_entropy(logits.reshape(-1, logits.shape[-1]), windows[:, 1:].reshape(-1))
        finally:
            self.model.train()
        return float(loss)

    def checkpoint(self) -> State:
        """The run's state now; :meth:`restore` returns to it any number of times."""
        return State(
            step=self.step,
            model={k: v.detach().clone() for k, v in self.model.state_dict().items()},
            optimizer=copy.deepcopy(self.optimizer.state_dict()),
            generator=self.generator.get_state(),
            diverged_reason=self.diverged_reason,
        )

    def restore(self, state: State) -> None:
        """Return to ``state`` (a checkpoint of a run of the same task and optimizer)."""
        self.model.load_state_dict(state.model)
        # Optimizer.load_state_dict keeps tensors that need no cast, so without a copy the next
        # in-place update would write into the checkpoint.
        self.optimizer.load_state_dict(copy.deepcopy(state.optimizer))
        self.generator.set_state(state.generator)
        self.step = state.step
        self.diverged_reason = state.diverged_reason


SPACE = hpo.SearchSpace(
    {
        "schedule": hpo.Categorical(list(KINDS)),
        "optimizer": hpo.Categorical(list(OPTIMIZERS)),
        "peak_lr": hpo.Float(1e-4, 1.0, log=True),
        "warmup_frac": hpo.Float(0.0, 0.3),
        "final_frac": hpo.Float(0.0, 0.5),
    }
)
"""Schedule shape, optimizer, peak rate, warmup share and final rate (a share of the peak). The
rate spans both optimizers' useful ranges. Measured with cosine decay, 10% warmup, final 0.1 (task
seed 0, the gradient clipped at norm 1.0): AdamW is best near 3e-3 (validation loss 2.742; 2.810 at
1e-3, 2.814 at 6e-3, 3.007 at 1e-2, 3.382 at 0.3), SGD near 0.3-0.6 (2.808, 2.802; 2.880 at 0.03,
3.029 at 1.0). With clipping none of these diverges, nor SGD at 0.6 or 1.0 without warmup; without
(``max_grad_norm=None``) SGD at 0.6 without warmup diverged to NaN (a failed trial with its
reason)."""

DEFAULT = {"schedule": "cosine", "optimizer": "adamw", "peak_lr": 3e-3, "warmup_frac": 0.1, "final_frac": 0.1}
"""A common default: AdamW, 10% warmup, cosine decay to a tenth of the peak."""


class LRScheduleTask:
    """Corpus, tokenizer and initial model for one seed; ``task(params)`` is the full run's
    validation loss.

    Args:
        seed: Seeds the initial weights and the training batches.
        steps: ``T``, the full run's length, which is every schedule's horizon.
        batch_size: Windows per training batch.
        model: The model's size.
        n_eval: Validation windows (evenly spaced over the validation text).
        modules: Modules whose docstrings are the corpus (:func:`docstring_corpus`).
        max_grad_norm: Each step's gradient is scaled down to this global norm when it is
            larger (``torch.nn.utils.clip_grad_norm_``; ``transformers``' Trainer and nanoGPT
            clip at 1.0 too), or None not to clip. Without clipping the task is chaotic: the
            default schedule's validation loss over six peak rates within 0.5% of each other
            ranged from 2.753 to 2.926 (standard deviation 2.1% of the mean; 0.09% with
            clipping, from 2.742 to 2.750), so tuning chased noise. Near the edge of stability
            some remains with clipping (AdamW at 7.95e-3, linear, 16% warmup: 2.754, and 2.912
            at a 2% higher rate).
    """

    def __init__(
        self,
        seed: int = 0,
        *,
        steps: int = 300,
        batch_size: int = 16,
        model: LMConfig = LMConfig(),
        n_eval: int = 128,
        modules: Sequence[str] = STDLIB_MODULES,
        max_grad_norm: float | None = 1.0,
    ) -> None:
        import torch
        from transformers import GPT2Config, GPT2LMHeadModel

        for name, value in (("steps", steps), ("batch_size", batch_size), ("n_eval", n_eval)):
            _check_count(name, value, 1)
        self.max_grad_norm = _check_positive("max_grad_norm", max_grad_norm, optional=True)
        if not isinstance(model, LMConfig):
            raise hpo.HPOTypeError(f"`model` must be an LMConfig, but got {model!r}.")
        self.seed = int(seed)
        self.steps = int(steps)
        self.batch_size = int(batch_size)
        self.lm_config = model
        text = docstring_corpus(modules)
        self.tokenizer = CharTokenizer(text)
        ids = torch.as_tensor(self.tokenizer.encode(text))
        cut = int(0.9 * len(ids))
        self._train_ids, val_ids = ids[:cut], ids[cut:]
        span = model.context + 1  # a window holds the inputs and, shifted by one, the targets
        if len(val_ids) < span:
            raise hpo.HPOValueError(
                f"the validation text must hold one window of {span} characters, but has {len(val_ids)}; "
                "use more modules or a shorter context."
            )
        self._offsets = torch.arange(span)
        starts = torch.as_tensor(np.linspace(0, len(val_ids) - span, int(n_eval)).round().astype(np.int64))
        self._val_windows = val_ids[starts[:, None] + self._offsets]  # n_eval x (context + 1)
        config = GPT2Config(
            vocab_size=len(self.tokenizer), n_positions=model.context, n_embd=model.width, n_layer=model.layers,
            n_head=model.heads, resid_pdrop=0.0, embd_pdrop=0.0, attn_pdrop=0.0, bos_token_id=None,
            eos_token_id=None,
        )
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(self.seed)
            self._initial_model = GPT2LMHeadModel(config)

    @property
    def vocab_size(self) -> int:
        return len(self.tokenizer)

    def _train_windows(self, generator, n: int | None = None):
        """``n`` random training windows (default a batch): an ``n x (context + 1)`` LongTensor."""
        import torch

        high = len(self._train_ids) - len(self._offsets) + 1
        starts = torch.randint(0, high, (self.batch_size if n is None else n,), generator=generator)
        return self._train_ids[starts[:, None] + self._offsets]

    def start(self, optimizer: str = "adamw") -> Run:
        """A new run from the task's initial weights and first batch."""
        return Run(self, optimizer)

    def train(
        self,
        config: Mapping[str, Any],
        steps: int | None = None,
        report: Callable[[float, int], None] | None = None,
        *,
        horizon: int | None = None,
        val_every: int | None = None,
    ) -> LRResult:
        """Train a fresh model with ``config``'s schedule over ``horizon`` steps for its first
        ``steps`` steps and measure its validation loss.

        Two proxies of the full run: its first ``steps`` steps (``horizon = T``, the default), or a
        complete shorter run (``horizon = steps``: the schedule compressed into ``steps``). At
        ``T/10`` steps the second ranks schedules more like the full run does, because its rate
        decays as the full run's does (Spearman rank correlation with the full runs' validation
        loss over 14 random configurations: 0.74 against 0.58, measured without clipping; among
        good configurations with clipping, 0.48 / 0.68 against 0.12 / 0.24 on task seeds 0 / 1);
        from ``T/5`` on the first ranks them as well or better (0.70 / 0.79 against 0.66 / 0.79,
        at ``T/2`` 0.96 / 0.80 against 0.61 / 0.67) and can be continued.

        Args:
            config: A configuration of :data:`SPACE`.
            steps: Steps to take, ``1 <= steps <= horizon``; default ``horizon``.
            report: Called as ``report(loss, step)`` after every step (``step`` from 1) with the
                step's training loss, or, with ``val_every``, with the validation loss after every
                ``val_every`` steps; e.g. ``functools.partial(tuner.report, trial)``.
            horizon: The schedule's length, ``1 <= horizon <= T``; default ``T``.
            val_every: Steps between the validation losses passed to ``report`` (at least 1), or
                None to pass the training losses. A tuner's reports are the objective at a step
                (a trial stopped early is an observation of it), and the objective here is the
                validation loss: training losses are measured on each step's own batch, below the
                validation loss and as noisy as a batch.
        """
        p = SPACE.validate(config)
        total = self.steps if horizon is None else horizon
        if isinstance(total, bool) or not isinstance(total, numbers.Integral) or not 1 <= total <= self.steps:
            raise hpo.HPOValueError(f"`1 <= horizon <= {self.steps}` must hold, but got horizon={horizon!r}.")
        n = total if steps is None else steps
        if isinstance(n, bool) or not isinstance(n, numbers.Integral) or not 1 <= n <= total:
            raise hpo.HPOValueError(f"`1 <= steps <= horizon` ({total}) must hold, but got steps={steps!r}.")
        rate = _rates(p, int(total))
        _check_count("val_every", val_every, 1, optional=True)
        start = time.perf_counter()
        run = self.start(p["optimizer"])
        if val_every is None:
            losses = run.advance(rate, int(n), report)
        else:
            losses = []
            while len(losses) < n and run.diverged_reason is None:
                losses += run.advance(rate, min(int(val_every), int(n) - len(losses)))
                if run.diverged_reason is None and report is not None:
                    report(run.val_loss(), run.step)
        val_loss = math.nan if run.diverged_reason is not None else run.val_loss()
        return LRResult(
            val_loss=val_loss,
            train_losses=tuple(losses),
            steps=len(losses),
            seconds=time.perf_counter() - start,
            diverged_reason=run.diverged_reason,
        )

    def __call__(self, params: Mapping[str, Any]) -> float:
        """The full run's validation loss.

        Raises:
            hpo.DivergedError: The run diverged, with the reason; ``Tuner.optimize`` records that
                as a failed trial with the reason and goes on (in Optuna: ``catch=(hpo.DivergedError,)``).
        """
        result = self.train(params)
        if result.diverged_reason is not None:
            raise hpo.DivergedError(result.diverged_reason)
        return result.val_loss


@dataclass(frozen=True)
class Probe:
    """One candidate rate of an AutoLRS stage, tried for ``probe_steps`` (a tenth of the stage).

    Attributes:
        lr: The rate, constant over the probe.
        mean, std: The probe's score, lower is better (NaN if the probe failed): the forecast
            training loss at the stage's end and its standard deviation, or with a cooldown the
            validation loss after it and 0.
        reason: Why the probe failed (it diverged), or None.
    """

    lr: float
    mean: float
    std: float
    reason: str | None = None


@dataclass(frozen=True)
class AutoLRSResult:
    """An AutoLRS run.

    Attributes:
        rates: The rate chosen for each stage trained (fewer than ``stages`` if the run diverged
            or reached its target early).
        val_loss: Validation loss at the end; NaN if the run diverged.
        search_steps: Training thrown away: the probes not chosen (a chosen probe's steps are
            the run's), and the cooldowns and cooldown branches that do not end the run.
        probes: Per stage, the candidates in the order tried.
        train_losses: The training loss of every step of the run itself (not the probes), its
            final cooldown included.
        val_curve: ``(train_steps so far, validation loss)`` after every ``val_every`` steps of
            the run itself and at the end of every stage; with a cooldown, the loss at the end of
            each check's cooldown branch and the steps the run would have then.
        reached_at: The run's own training steps when its validation loss first reached
            ``target``, or None (no target, or not reached).
        seconds: Wall time.
        diverged_reason: Why the run stopped early, or None.
    """

    rates: tuple[float, ...]
    val_loss: float
    search_steps: int
    probes: tuple[tuple[Probe, ...], ...]
    train_losses: tuple[float, ...]
    val_curve: tuple[tuple[int, float], ...]
    reached_at: int | None
    seconds: float
    diverged_reason: str | None = None

    @property
    def train_steps(self) -> int:
        """Steps of the run itself."""
        return len(self.train_losses)

    @property
    def steps(self) -> int:
        """Training steps spent, the probes' included."""
        return self.train_steps + self.search_steps


@dataclass
class _Trained:
    """A probe's training, kept while it is the stage's best so that the stage continues it
    rather than training it again (the same rate, batches and steps give the same run).

    Attributes:
        lr: The probe's rate.
        steps: Its steps (``probe_steps``).
        losses: Its training losses.
        marks: The run's state after ``b`` steps of the stage, for each validation check ``b``
            within the probe and for ``b = steps``.
        cooled: The cooldown branch that scored it, if it ended at a validation check (that
            check's branch): its training losses, the state after it and the validation loss.
    """

    lr: float
    steps: int
    losses: list[float]
    marks: dict[int, State]
    cooled: tuple[list[float], State, float] | None


def _seed(*parts: int) -> int:
    return int(np.random.SeedSequence(list(parts)).generate_state(1)[0])


def autolrs(
    task: LRScheduleTask,
    *,
    stages: int = 3,
    tau: int = 100,
    n_candidates: int = 6,
    seed: int = 0,
    lr_low: float = 1e-4,
    lr_high: float = 3e-2,
    optimizer: str = "adamw",
    target: float | None = None,
    val_every: int | None = None,
    probe_steps: int | None = None,
    cooldown: int = 0,
) -> AutoLRSResult:
    """A piecewise-constant schedule found on the fly (AutoLRS, Jin et al., ICLR 2021).

    The run of ``stages * tau`` steps is cut into stages of ``tau`` steps. In each stage, from
    one checkpoint, ``n_candidates`` constant rates chosen by an :class:`hpo.Tuner` over
    ``[lr_low, lr_high]`` (log scale) are each trained for ``probe_steps`` (``tau // 10``) steps;
    each probe's training-loss curve is forecast to the stage's end (:func:`hpo.forecast`, horizon
    ``tau``), and the forecast mean is told to the tuner (a diverged probe is told as failed, with
    its reason). The stage is trained with the rate of the best forecast, continuing that
    probe. Probes of a stage see the same batches as the stage itself.

    That stage objective is greedy: the loss at the stage's end favours the rate that disturbs
    least, and the rates sink (short-horizon bias). With ``cooldown = k > 0`` each probe looks
    past its stage instead: after its ``probe_steps`` its rate falls linearly to 0 over ``k``
    steps and the validation loss then is its score, the loss the run would end at if it were
    cooled there, which rewards the progress a rate makes rather than the noise it leaves. The
    run ends the same way: every validation check is a ``k``-step cooldown branch from the run
    (restored unless it is the run's end), and the run's last check, or the first at or below
    ``target``, is kept, so the run ends cooled with ``k`` more steps of its own. Measured on this
    task (README; seeds 0-11, ``tau = 100``, ``k = 30``, a check every 50 steps; a 20-trial tuned
    cosine's loss, reached after its 300 steps): with probes a stage long, 280-380 steps of the
    run (median 330; search 2,100-2,810 steps); with probes of a tenth, median 355 but one seed
    not in 630 (its short probes rewarded rates of 5.5e-3-1.9e-2); AutoLRS's
    objective 420 steps to over 1,500 (median ~1,070; search 250-750).

    Training steps spent: ``stages * tau + cooldown`` of the run itself; of the search,
    ``stages * (n_candidates * (probe_steps + cooldown) - probe_steps)`` (each stage continues its
    chosen probe from the probe's own state rather than training it again: the same rate and
    batches give the same run, so its steps are the run's) and ``cooldown`` for every check but the
    kept one, except a check where a chosen probe ended (its cooldown was that check's branch);
    fewer if a stage diverges, which ends the run with ``val_loss = nan`` and the reason, or the
    run reaches ``target``. If every probe of a stage diverges, the stage uses
    ``lr_low`` and an :class:`hpo.HPOWarning` says so.

    With a ``target`` validation loss, the run stops as soon as a validation check (every
    ``val_every`` steps of the run and at each stage's end) reaches it; ``reached_at`` is then its
    own training steps, the measure of AutoLRS's speed-up over a tuned fixed schedule. Validation
    reads no training batch, so the checks do not change the run.

    Args:
        task: The task (its data, initial weights and batch seed).
        stages: Number of stages, at least 1.
        tau: Steps per stage; at least 50 with the default ``probe_steps``, so that a probe yields
            the forecast's minimum of 5 losses.
        n_candidates: Probes per stage, at least 1.
        seed: Seeds each stage's tuner.
        lr_low, lr_high: The candidates' range, ``0 < lr_low < lr_high``.
        optimizer: One of :data:`OPTIMIZERS`.
        target: A validation loss at which to stop, or None.
        val_every: Steps of the run between validation checks (at least 1), or None for the
            stages' ends only.
        probe_steps: Steps of each probe at its rate, ``1 <= probe_steps <= tau`` (at least 5
            without a cooldown, for the forecast); default ``tau // 10``, AutoLRS's ``tau'``.
        cooldown: 0 for AutoLRS's stage objective, or the steps ``k`` of the cooldown that probes
            and checks end with (see above).
    """
    for name, value, low in (("stages", stages, 1), ("tau", tau, 1), ("n_candidates", n_candidates, 1)):
        _check_count(name, value, low)
    _check_count("cooldown", cooldown, 0)
    if probe_steps is None:
        if tau < 50:
            raise hpo.HPOValueError(
                f"`tau >= 50` must hold with the default probe_steps = tau // 10 (a forecast needs 5 losses), "
                f"but got tau={tau}."
            )
        probe_steps = int(tau) // 10
    else:
        _check_count("probe_steps", probe_steps, 1 if cooldown else 5)  # a forecast needs 5 losses
        if probe_steps > tau:
            raise hpo.HPOValueError(f"`probe_steps <= tau` must hold, but got ({probe_steps=}, {tau=}).")
    if not 0 < lr_low < lr_high < math.inf:
        raise hpo.HPOValueError(f"`0 < lr_low < lr_high` must hold, but got ({lr_low=}, {lr_high=}).")
    _check_count("val_every", val_every, 1, optional=True)
    if target is not None and not (isinstance(target, numbers.Real) and math.isfinite(target)):
        raise hpo.HPOValueError(f"`target` must be a finite validation loss or None, but got target={target!r}.")
    chunk = int(tau) if val_every is None else min(int(val_every), int(tau))
    k = int(cooldown)
    # The stage's validation checks (steps into it): after every `chunk` steps and at its end.
    checks = sorted({min(b, int(tau)) for b in range(chunk, int(tau) + chunk, chunk)})
    start = time.perf_counter()
    run = task.start(optimizer)

    def score(probe: _Trained) -> tuple[float, float]:
        if k:
            tail = run.cool(probe.lr, k)
            if run.diverged_reason is not None:
                raise hpo.DivergedError(run.diverged_reason)
            value = run.val_loss()
            if probe.steps in checks:  # the stage's check there would be this very branch
                probe.cooled = (tail, run.checkpoint(), value)
            return value, 0.0
        fc = hpo.forecast(probe.losses, horizon=tau, floor=0.0)  # a cross-entropy is >= 0
        return fc.mean, fc.std

    rates: list[float] = []
    all_probes: list[tuple[Probe, ...]] = []
    losses: list[float] = []
    val_curve: list[tuple[int, float]] = []
    spent, reached_at = 0, None
    for stage in range(int(stages)):
        state = run.checkpoint()
        tuner = hpo.Tuner({"lr": hpo.Float(lr_low, lr_high, log=True)}, seed=_seed(seed, stage))
        probes: list[Probe] = []
        chosen: _Trained | None = None
        best = math.inf
        for _ in range(int(n_candidates)):
            trial = tuner.ask()
            rate = trial.params["lr"]
            run.restore(state)
            trained = _Trained(rate, int(probe_steps), [], {}, None)
            for b in [b for b in checks if b < probe_steps] + [int(probe_steps)]:
                trained.losses += run.advance(lambda t: rate, b - len(trained.losses))
                if run.diverged_reason is not None:
                    break
                trained.marks[b] = run.checkpoint()
            reason = run.diverged_reason
            if reason is None:
                try:
                    mean, std = score(trained)
                except hpo.DivergedError as exc:
                    reason = exc.reason
            spent += run.step - state.step
            if reason is not None:
                probes.append(Probe(rate, math.nan, math.nan, reason))
                tuner.tell(trial, state="fail", reason=reason)
                continue
            probes.append(Probe(rate, mean, std))
            tuner.tell(trial, mean)
            if chosen is None or mean < best:
                chosen, best = trained, mean  # the best so far (the first of equals), to be continued
        all_probes.append(tuple(probes))
        if chosen is not None:
            rate = chosen.lr
            spent -= chosen.steps  # the stage continues its probe: those steps are the run's own
        else:
            rate = float(lr_low)
            warnings.warn(
                f"every probe of stage {stage} diverged (rates {[p.lr for p in probes]}); "
                f"the stage uses lr_low={rate:g}.",
                hpo.HPOWarning,
                stacklevel=2,
            )
            run.restore(state)
        rates.append(rate)
        at = 0  # steps of the stage done
        for b in checks:
            if chosen is not None and at < chosen.steps:  # the chosen probe's training, not repeated
                upto = min(b, chosen.steps)
                run.restore(chosen.marks[upto])
                losses += chosen.losses[at:upto]
                at = upto
            losses += run.advance(lambda t: rate, b - at)
            at = b
            if run.diverged_reason is not None:
                break
            last = stage == int(stages) - 1 and b == int(tau)
            if k:  # the check is a cooldown branch: the loss the run would end at, k steps on
                # Where the chosen probe ended (the run is at its state), its scoring branch is this one.
                reuse = chosen is not None and chosen.cooled is not None and b == chosen.steps
                if reuse:
                    tail, after, value = chosen.cooled
                else:
                    here = run.checkpoint()
                    tail = run.cool(rate, k)
                    value = math.nan if run.diverged_reason is not None else run.val_loss()
                if not (last or (target is not None and value <= target)):  # a branch, thrown away
                    if not reuse:  # a reused branch was counted with its probe
                        spent += len(tail)
                        run.restore(here)
                    if math.isfinite(value):
                        val_curve.append((len(losses) + k, value))
                    continue
                if reuse:  # the run's end after all: no longer search
                    spent -= len(tail)
                    run.restore(after)
                losses += tail  # the run's end: the cooldown is its own
                if run.diverged_reason is not None:
                    break
            else:
                value = run.val_loss()
            val_curve.append((len(losses), value))
            if target is not None and val_curve[-1][1] <= target:
                reached_at = len(losses)
                break
        if run.diverged_reason is not None or reached_at is not None:
            break
    return AutoLRSResult(
        rates=tuple(rates),
        val_loss=math.nan if run.diverged_reason is not None else val_curve[-1][1],
        search_steps=spent,
        probes=tuple(all_probes),
        train_losses=tuple(losses),
        val_curve=tuple(val_curve),
        reached_at=reached_at,
        seconds=time.perf_counter() - start,
        diverged_reason=run.diverged_reason,
    )


def tune_with_proxies(
    task: LRScheduleTask,
    *,
    trials: int,
    seed: int = 0,
    storage: str | None = None,
    study_name: str | None = None,
    log: Callable[[str], None] | None = None,
    budget: int | None = None,
    start: Sequence[Mapping[str, Any]] = (),
    prefix: int | None = None,
    cooldown: int = 0,
    checkpoints: str | os.PathLike | None = None,
    heartbeat: int | None = None,
) -> hpo.PrefixTuning:
    """Tune the schedule with short training proxies: :func:`hpo.tune_with_prefixes` over
    :data:`SPACE`, Bayesian optimisation on the first part of each full run (``prefix`` steps,
    default ``T // 5``, of the configuration's own schedule over ``T``), then the best of those
    runs continued from their checkpoints to ``T``. ``trials``, ``budget`` (default a third of the
    trials' full runs), ``start`` (e.g. ``[DEFAULT]``, the schedule in use, run in full first),
    ``seed``, ``storage`` and ``study_name`` are as there; the objective is the validation loss,
    the study's fidelity ``steps``, and a run that diverges is a failed trial with the reason.
    ``log`` gets one line per run part. A run's state is its :class:`State` after each part (the
    answer's, ``result.state``, is its trained model: restore it into ``task.start(optimizer)``);
    with ``checkpoints`` (a folder) and ``storage``, a stopped tuning is resumed by calling again
    with the same arguments, and with ``heartbeat`` several processes run it together.

    With ``cooldown = k > 0`` a prefix's value is read after a **cooldown branch** (``k`` steps
    with the rate falling linearly from the schedule's rate there to 0; the run then continues
    from before the branch; the branch's steps are charged to the prefix and budgeted): the loss
    the run would end at if it were cooled there, which a constant rate with a late cooldown needs
    to be seen at its worth. Measured (README): prefixes of ``3T/20`` read after ``T/20`` steps,
    at the same cost, were better than plain prefixes on 7 of the 8 seeds whose misses suggested
    it but on 4 of 8 fresh ones (mean gap to full-run tuning +0.75% against +0.52% there), so
    the default stays the plain prefix.

    Why prefixes (measured on this task with the gradient clipped, 24 configurations x task seeds
    0 and 1, among those ending below 3.0): the loss after ``k`` steps of the full schedule ranks
    the full runs at Spearman 0.12 / 0.24 for ``k = T/10`` (the unigram plateau, left fastest by
    whatever skips the warmup), 0.70 / 0.79 at ``T/5``; a compressed run of ``k`` steps (the
    schedule squeezed into it; it cannot be continued) at 0.48 / 0.68 for ``k = T/10``, 0.66 /
    0.79 at ``T/5``. Why fewer searched and more finished than successive halving over 25
    searched (6 to ``T/2``, 3 to ``T``), which this replaced: among good runs the loss midway ranks
    by how far a schedule has annealed, so the rung misled, and the search's last trials exploit
    the prefix's own optimum, crowding the best prefixes with runs that end worse. The README's
    proxy section has the measurements.
    """

    T = task.steps
    _check_count("cooldown", cooldown, 0)
    k = int(cooldown)

    def train(params: dict[str, Any], steps: int, state: State | None) -> tuple[float, State]:
        run = task.start(params["optimizer"])
        if state is not None:
            run.restore(state)
        rate = _rates(params, T)
        run.advance(rate, steps - run.step)
        if run.diverged_reason is not None:
            raise hpo.DivergedError(run.diverged_reason, step=run.step)
        here = run.checkpoint()  # what a continuation starts from (and checkpoints pickle)
        if steps == T or not k:
            return run.val_loss(), here
        run.cool(rate(run.step - 1), k)  # the prefix's value is read after a cooldown branch
        return (math.nan if run.diverged_reason is not None else run.val_loss()), here  # NaN: a failed trial

    def line(trial: hpo.Trial) -> None:
        value = f"{trial.value:.4f}" if trial.value is not None else "-"
        log(f"  proxy trial {trial.number:>2}: {trial.state:<8} {trial.params['steps']:>4} steps (+{trial.steps:>3})  "
            f"{describe(trial.params)} -> {value}" + (f"  ({trial.reason})" if trial.state == "fail" else ""))

    return hpo.tune_with_prefixes(
        SPACE, train, full=T, trials=trials, prefix=prefix, budget=budget, start=start, seed=seed, storage=storage,
        study_name=study_name, checkpoints=checkpoints, heartbeat=heartbeat, callback=None if log is None else line,
        branch=k,
    )


def describe(params: Mapping[str, Any]) -> str:
    """One line for a configuration of :data:`SPACE`."""
    return (f"{params['schedule']:<17} {params['optimizer']:<5} lr {params['peak_lr']:.2e} "
            f"warmup {params['warmup_frac']:.2f} final {params['final_frac']:.2f}")


@dataclass(frozen=True)
class ProbeCurve:
    """A constant-rate training curve from a checkpoint, as an AutoLRS probe sees it, run to the
    stage's end: the data of the forecast benchmark (:func:`probe_curves`).

    Attributes:
        seed: The task's seed.
        start: Steps of AdamW at the warm rate before the curve (0: the initial weights).
        lr: The curve's constant rate.
        losses: The training loss of each step (each on its own batch), ``tau`` of them, or fewer
            if the run diverged.
        final: The expected training loss after the ``tau`` steps: the loss over a fixed set of
            training windows (NaN if the run diverged). A batch's loss is as noisy as the
            curve's points, so the truth a forecast aims at is measured on many windows.
    """

    seed: int
    start: int
    lr: float
    losses: tuple[float, ...]
    final: float


def probe_curves(
    tasks: Sequence[LRScheduleTask],
    *,
    starts: Sequence[int] = (0, 100, 200),
    rates: Sequence[float] = tuple(np.geomspace(1e-4, 3e-2, 6)),
    tau: int = 100,
    warm_lr: float = 3e-3,
    n_windows: int = 256,
) -> list[ProbeCurve]:
    """Curves for measuring forecasts where AutoLRS makes them: for each task, a run of AdamW at
    ``warm_lr`` is checkpointed at each of ``starts``; from each checkpoint each rate is trained
    for ``tau`` steps, the optimizer's state restored with the weights, as a probe is. ``final``
    is measured on ``n_windows`` training windows drawn once per task from their own generator.
    Costs ``len(tasks) * (max(starts) + len(starts) * len(rates) * tau)`` training steps (2,000
    per default task with the defaults, ~45 s on one core)."""
    import torch

    if isinstance(tasks, LRScheduleTask) or not all(isinstance(t, LRScheduleTask) for t in tasks):
        raise hpo.HPOTypeError(f"`tasks` must be a sequence of LRScheduleTask, but got {tasks!r}.")
    _check_count("tau", tau, 50)  # a probe of a tenth yields the forecast's minimum of 5 losses
    _check_count("n_windows", n_windows, 1)
    if any(isinstance(s, bool) or not isinstance(s, numbers.Integral) or s < 0 for s in starts):
        raise hpo.HPOValueError(f"`starts` must be non-negative step counts, but got {list(starts)!r}.")
    if not all(isinstance(r, numbers.Real) and 0 < r < math.inf for r in rates):
        raise hpo.HPOValueError(f"`rates` must be positive and finite, but got {list(rates)!r}.")
    curves = []
    for task in tasks:
        windows = task._train_windows(torch.Generator().manual_seed(_seed(task.seed, 1)), int(n_windows))
        run = task.start("adamw")
        for start in sorted(int(s) for s in starts):
            run.advance(lambda t: warm_lr, start - run.step)
            state = run.checkpoint()
            for rate in rates:
                run.restore(state)
                losses = run.advance(lambda t, r=float(rate): r, int(tau))
                final = math.nan if run.diverged_reason is not None else run.loss_on(windows)
                curves.append(ProbeCurve(task.seed, start, float(rate), tuple(losses), final))
            run.restore(state)
    return curves


def forecast_errors(
    curves: Sequence[ProbeCurve], forecaster: Callable[[Sequence[float], int], float] | None = None
) -> list[float]:
    """The relative error ``|forecast - final| / final`` of each curve's loss at its end forecast
    from its first tenth, as an AutoLRS probe does; NaN for a curve that diverged (in its tenth:
    the forecaster raised :class:`hpo.DivergedError`, or later: ``final`` is NaN).

    Args:
        curves: From :func:`probe_curves`.
        forecaster: ``forecaster(losses, horizon)`` -> the forecast loss; default the probes' own
            (:func:`hpo.forecast` with a floor of 0, its mean).
    """
    if forecaster is None:
        def forecaster(losses: Sequence[float], horizon: int) -> float:
            return hpo.forecast(losses, horizon=horizon, floor=0.0).mean
    errors = []
    for c in curves:
        if not math.isfinite(c.final):
            errors.append(math.nan)
            continue
        tau = len(c.losses)
        try:
            predicted = forecaster(c.losses[: tau // 10], tau)
        except hpo.DivergedError:
            predicted = math.nan
        errors.append(abs(predicted - c.final) / c.final)
    return errors
