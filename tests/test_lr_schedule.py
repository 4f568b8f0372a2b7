"""The learning-rate schedule target: schedule formulas, checkpoints, determinism, divergence, AutoLRS."""

from __future__ import annotations

import functools
import math

import pytest
import torch

import hpo
from objectives.lr_schedule import (
    DEFAULT,
    KINDS,
    SPACE,
    CharTokenizer,
    LMConfig,
    LRScheduleTask,
    autolrs,
    forecast_errors,
    probe_curves,
    schedule_lr,
    tune_with_proxies,
)


def tiny_task(**options) -> LRScheduleTask:
    # A tiny model (1 layer, 32 wide, 8 windows of 32 characters): 100 steps take ~0.4 s.
    tiny = LMConfig(layers=1, heads=2, width=32, context=32)
    return LRScheduleTask(0, steps=100, batch_size=8, model=tiny, n_eval=32, **options)


@pytest.fixture(scope="module")
def task() -> LRScheduleTask:
    return tiny_task()


def test_schedule_values_by_hand():
    lr = functools.partial(schedule_lr, total=100, peak_lr=0.01, warmup_frac=0.1, final_frac=0.2)
    # Warmup W = 10 steps; final rate 0.2 * 0.01 = 0.002; at t = 50 the progress after the warmup
    # is p = (50 - 10) / (100 - 10) = 4/9.
    for kind in KINDS:
        assert lr(kind, 0) == 0.0  # the warmup starts at 0
        assert lr(kind, 5) == pytest.approx(0.005, rel=1e-12)  # half way up the warmup
        assert lr(kind, 10) == pytest.approx(0.01, rel=1e-12)  # the peak at t = W
        assert lr(kind, 100) == pytest.approx(0.002, rel=1e-12)  # the final rate at t = total
    # cosine: 0.002 + 0.008 * (1 + cos(4 pi / 9)) / 2 = 0.002 + 0.004 * (1 + 0.17364818) = 0.0066945927
    assert lr("cosine", 50) == pytest.approx(0.0066945927, rel=1e-8)
    # linear: 0.002 + 0.008 * (1 - 4/9) = 0.002 + 0.0044444444 = 0.0064444444
    assert lr("linear", 50) == pytest.approx(0.0064444444, rel=1e-8)
    # constant_cooldown: the peak until C = 0.8 * 100 = 80, then linear to 0.002 at 100, so half
    # way through the cooldown (t = 90) it is (0.01 + 0.002) / 2 = 0.006.
    assert lr("constant_cooldown", 50) == pytest.approx(0.01, rel=1e-12)
    assert lr("constant_cooldown", 80) == pytest.approx(0.01, rel=1e-12)
    assert lr("constant_cooldown", 90) == pytest.approx(0.006, rel=1e-12)
    # No warmup: the peak at t = 0.
    assert schedule_lr("cosine", 0, 100, peak_lr=0.01, warmup_frac=0.0, final_frac=0.0) == 0.01


def test_schedule_rejects_bad_arguments():
    ok = {"peak_lr": 0.01, "warmup_frac": 0.1, "final_frac": 0.1}
    with pytest.raises(hpo.HPOValueError, match="kind"):
        schedule_lr("step", 0, 100, **ok)
    with pytest.raises(hpo.HPOValueError, match="t <= total"):
        schedule_lr("cosine", 101, 100, **ok)
    # constant_cooldown's warmup must end before the cooldown (the last 20%).
    with pytest.raises(hpo.HPOValueError, match="warmup_frac <= 0.8"):
        schedule_lr("constant_cooldown", 0, 100, peak_lr=0.01, warmup_frac=0.9, final_frac=0.1)


def test_tokenizer_round_trip():
    tok = CharTokenizer("hello world")
    assert tok.chars == " dehlorw" and len(tok) == 8
    assert tok.decode(tok.encode("world hello")) == "world hello"
    with pytest.raises(hpo.HPOValueError, match="vocabulary"):
        tok.encode("x")


def _optimizer_tensors(run) -> list[torch.Tensor]:
    state = run.optimizer.state_dict()["state"]
    return [v for i in sorted(state) for _, v in sorted(state[i].items()) if isinstance(v, torch.Tensor)]


@pytest.mark.parametrize("optimizer", ["adamw", "sgd"])
def test_restoring_a_checkpoint_reruns_bitwise_identically(task, optimizer):
    run = task.start(optimizer)
    rate = lambda t: 3e-3 * (1 + t % 3)  # noqa: E731 - a rate that changes each step
    run.advance(rate, 5)
    state = run.checkpoint()
    first = run.advance(rate, 7)
    params = [p.detach().clone() for p in run.model.parameters()]
    opt = [t.clone() for t in _optimizer_tensors(run)]
    assert len(opt) >= len(params)  # momentum (and Adam's second moment) for every parameter
    # Twice: a restore must leave the checkpoint intact for the next one.
    for _ in range(2):
        run.restore(state)
        assert run.step == 5
        assert run.advance(rate, 7) == first
        assert all(torch.equal(a, b) for a, b in zip(params, run.model.parameters(), strict=True))
        assert all(torch.equal(a, b) for a, b in zip(opt, _optimizer_tensors(run), strict=True))


def test_training_is_deterministic_learns_and_touches_no_global_state(task):
    initial = task.start().val_loss()
    # GPT-2's small initial weights predict nearly uniformly: the loss of a uniform guess, log V.
    assert initial == pytest.approx(math.log(task.vocab_size), abs=0.1)
    config = DEFAULT  # AdamW at 3e-3, cosine, 10% warmup
    rng, threads = torch.random.get_rng_state(), torch.get_num_threads()
    reported = []
    full = task.train(config, report=lambda loss, step: reported.append((step, loss)))
    assert torch.equal(rng, torch.random.get_rng_state()) and threads == torch.get_num_threads()
    assert full.steps == 100 and reported == list(enumerate(full.train_losses, start=1))
    assert full.diverged_reason is None
    assert full.val_loss < math.log(task.vocab_size) - 1.0  # measured 3.39 against log 99 = 4.60
    again = task.train(config)
    assert again.val_loss == full.val_loss and again.train_losses == full.train_losses
    # A short run is the first tenth of the full one: the schedule's horizon stays T.
    short = task.train(config, steps=10)
    assert short.train_losses == full.train_losses[:10]


def test_validation_reports_are_the_objective_and_leave_the_run_alone(task):
    plain = task.train(DEFAULT, steps=25)
    reported = []
    checked = task.train(DEFAULT, steps=25, val_every=10, report=lambda loss, step: reported.append((step, loss)))
    # Validation reads no batch: the same run, with its validation loss after 10, 20 and 25 steps.
    assert checked.train_losses == plain.train_losses and checked.val_loss == plain.val_loss
    assert [s for s, _ in reported] == [10, 20, 25] and reported[-1][1] == checked.val_loss
    run = task.start("adamw")  # by hand: the validation loss after the first 10 steps
    shape = {k: DEFAULT[k] for k in ("peak_lr", "warmup_frac", "final_frac")}
    run.advance(lambda t: schedule_lr("cosine", t, task.steps, **shape), 10)
    assert reported[0][1] == run.val_loss()
    with pytest.raises(hpo.HPOValueError, match="val_every >= 1"):
        task.train(DEFAULT, steps=5, val_every=0)


@pytest.mark.parametrize("cooldown, prefix", [(0, 20), (5, 15)])
def test_proxy_tuning_searches_prefixes_and_continues_the_best_within_the_budget(task, cooldown, prefix):
    """T = 100, 6 trials, budget 250. By default a prefix is the first 20 steps (T // 5), read as
    they are; with ``cooldown=5, prefix=15`` its value is read after a 5-step cooldown branch,
    charged to it, so it costs 20 steps too. 4 configurations searched (4 x 20) and the best 2
    continued to 100 (2 x 80 or 2 x 85) fit; 3 searched and 3 continued do not."""
    T = task.steps
    out = tune_with_proxies(task, trials=6, seed=0, budget=250, cooldown=cooldown, prefix=prefix if cooldown else None)
    trials = out.tuner.trials
    assert out.prefix == prefix and (out.searched, out.continued) == (4, 2)
    assert [t.params["steps"] for t in trials] == [prefix] * 4 + [T] * 2
    # A prefix pays its steps and its branch; a continuation what it adds.
    assert [t.steps for t in trials] == [20] * 4 + [T - prefix] * 2
    assert out.steps == out.tuner.total_steps == 4 * 20 + 2 * (T - prefix) <= 250

    def config(t):
        return {k: v for k, v in t.params.items() if k != "steps"}

    # The best prefixes go on to T, from their checkpoints (before any branch).
    first = sorted(trials[:4], key=lambda t: t.value)
    assert [config(t) for t in trials[4:]] == [config(t) for t in first[:2]]
    # A run continued from its checkpoint is the configuration's full run; the best is the answer.
    best = min(trials[4:], key=lambda t: t.value)
    assert out.params == config(best) and out.value == best.value == task(out.params)
    # Its prefix's value: the loss after that many steps of the full run's own schedule, then
    # `cooldown` steps with the rate falling linearly from the schedule's last rate to 0.
    at_prefix = next(t for t in trials[:4] if config(t) == out.params)
    shape = {k: out.params[k] for k in ("peak_lr", "warmup_frac", "final_frac")}
    run = task.start(out.params["optimizer"])
    run.advance(lambda t: schedule_lr(out.params["schedule"], t, T, **shape), prefix)
    last = schedule_lr(out.params["schedule"], prefix - 1, T, **shape)
    run.advance(lambda t: last * (1 - (t - prefix + 1) / (cooldown + 1)), cooldown)
    assert at_prefix.value == pytest.approx(run.val_loss(), abs=1e-6)
    if not cooldown:
        assert at_prefix.value == task.train(out.params, steps=prefix).val_loss
    assert out.tuner.best_trial.number == best.number  # the study's best is its best full run
    with pytest.raises(hpo.HPOValueError, match="cooldown >= 0"):
        tune_with_proxies(task, trials=6, cooldown=-1)


def test_proxy_tuning_rejects_a_budget_or_prefix_it_cannot_use(task):
    # The least budget: 5 configurations searched (5 x 20) and one continued to T (80).
    with pytest.raises(hpo.HPOValueError, match="budget >= 180"):
        tune_with_proxies(task, trials=6, budget=179)
    for prefix in [0, 100, 150, 20.5, True, (20, 50)]:
        with pytest.raises(hpo.HPOValueError, match="prefix"):
            tune_with_proxies(task, trials=2, prefix=prefix)
    for trials, start in [(1, [DEFAULT, DEFAULT]), (2, [DEFAULT])]:
        with pytest.raises(hpo.HPOValueError, match="trials >= len\\(start\\) \\+ 2"):
            tune_with_proxies(task, trials=trials, start=start)
    # The default budget is a third of the trials' full runs, or the least if that is more.
    out = tune_with_proxies(task, trials=2, seed=0)
    assert out.steps == 20 + 80 and (out.searched, out.continued) == (1, 1)


def test_proxy_tuning_starts_from_given_configurations_in_full(task):
    """``start`` runs the schedule in use in full as trial 0 (its prefix at r0 teaches the
    search), so the answer is at least as good; a bad configuration is refused before any
    training."""
    T = task.steps
    out = tune_with_proxies(task, trials=3, seed=1, start=[DEFAULT])
    trials = out.tuner.trials
    assert trials[0].params == {**DEFAULT, "steps": 20} and trials[1].params == {**DEFAULT, "steps": T}
    assert out.start_values == (trials[1].value,) == (task(DEFAULT),)
    assert out.value <= task(DEFAULT)
    with pytest.raises(hpo.HPOValueError, match="peak_lr"):
        tune_with_proxies(task, trials=2, start=[{**DEFAULT, "peak_lr": 5.0}])


def test_proxy_tuning_drops_a_diverging_run_with_its_reason():
    """Without clipping, SGD at 1.0 without warmup diverges within 20 steps: its prefix is a
    failed trial with the reason, never continued; the search goes on."""
    unclipped = tiny_task(max_grad_norm=None)
    wild = {"schedule": "constant_cooldown", "optimizer": "sgd", "peak_lr": 1.0, "warmup_frac": 0.0, "final_frac": 0.5}
    assert unclipped.train(wild, steps=20).diverged_reason is not None
    out = tune_with_proxies(unclipped, trials=3, seed=0, start=[wild], budget=3 * 20 + 80 + 80)
    trials = out.tuner.trials
    assert trials[0].state == "fail" and "at step" in trials[0].reason and trials[0].steps < 20
    assert all(t.params["peak_lr"] != 1.0 for t in trials[1:]) and out.start_values == (None,)
    assert math.isfinite(out.value) and out.value == unclipped(out.params)


def test_a_compressed_run_is_the_schedule_over_its_own_length(task):
    config = {"schedule": "cosine", "optimizer": "adamw", "peak_lr": 3e-3, "warmup_frac": 0.1, "final_frac": 0.1}
    short = task.train(config, steps=30, horizon=30)
    run = task.start("adamw")  # by hand: the cosine schedule of a 30-step run
    shape = {"peak_lr": 3e-3, "warmup_frac": 0.1, "final_frac": 0.1}
    assert list(short.train_losses) == run.advance(lambda t: schedule_lr("cosine", t, 30, **shape), 30)
    assert short.val_loss == run.val_loss()
    assert short.train_losses != task.train(config, steps=30).train_losses  # not the first 30 of T
    with pytest.raises(hpo.HPOValueError, match="steps <= horizon"):
        task.train(config, steps=40, horizon=30)
    with pytest.raises(hpo.HPOValueError, match="horizon"):
        task.train(config, horizon=task.steps + 1)


def test_gradient_clipping_bounds_each_step_to_the_global_norm(task):
    # SGD's first step moves the weights by lr x the (clipped) gradient: its momentum buffer
    # starts as the gradient itself. The tiny task's first gradient has norm 1.17 (measured).
    def first_step(max_grad_norm):
        clipped = tiny_task(max_grad_norm=max_grad_norm)
        run = clipped.start("sgd")
        before = [p.detach().clone() for p in run.model.parameters()]
        windows = clipped._train_windows(torch.Generator().manual_seed(0))  # the run's first batch
        logits = run.model(input_ids=windows[:, :-1]).logits
        loss = torch.nn.functional.cross_entropy(logits.reshape(-1, logits.shape[-1]), windows[:, 1:].reshape(-1))
        grad_norm = torch.linalg.vector_norm(torch.stack(
            [torch.linalg.vector_norm(g) for g in torch.autograd.grad(loss, list(run.model.parameters()))]))
        run.advance(lambda t: 0.5, 1)
        moved = torch.linalg.vector_norm(torch.stack(
            [torch.linalg.vector_norm(p.detach() - b) for p, b in zip(run.model.parameters(), before)]))
        return float(moved), float(grad_norm)

    moved, grad_norm = first_step(0.01)
    assert grad_norm > 0.01 and moved == pytest.approx(0.5 * 0.01, rel=1e-4)
    moved, grad_norm = first_step(None)  # unclipped: the whole gradient
    assert moved == pytest.approx(0.5 * grad_norm, rel=1e-4)
    assert first_step(1e6) == pytest.approx(first_step(None), rel=1e-6)  # a bound above the norm: no change
    for bad in (0.0, -1.0, math.inf, math.nan, "1", True):
        with pytest.raises(hpo.HPOValueError, match="max_grad_norm"):
            tiny_task(max_grad_norm=bad)


def test_a_diverging_config_returns_nan_with_its_reason(task):
    # Without clipping, SGD at rate 1.0 without warmup: the loss passes 100 log V at step ~13
    # (measured); with the default clipping the same run ends at 3.00 (the default task, T = 300).
    config = {
        "schedule": "constant_cooldown", "optimizer": "sgd", "peak_lr": 1.0, "warmup_frac": 0.0, "final_frac": 0.5,
    }
    assert SPACE.validate(config) == config
    unclipped = tiny_task(max_grad_norm=None)
    result = unclipped.train(config)
    assert math.isnan(result.val_loss) and result.steps < 100 and len(result.train_losses) == result.steps
    assert f"at step {result.steps} " in result.diverged_reason  # the loss and the step that stopped it
    with pytest.raises(hpo.DivergedError, match=f"at step {result.steps} "):
        unclipped(config)
    # A run that diverged refuses to go on until a checkpoint is restored.
    run = task.start("sgd")
    state = run.checkpoint()
    losses = run.advance(lambda t: 1e3, 50)
    assert len(losses) < 50 and run.diverged_reason is not None
    with pytest.raises(hpo.HPOValueError, match="restore a checkpoint"):
        run.advance(lambda t: 1e-3, 1)
    run.restore(state)
    assert run.diverged_reason is None and len(run.advance(lambda t: 1e-3, 3)) == 3


def test_autolrs_picks_one_rate_per_stage_and_counts_its_steps(task):
    stages, tau, n_candidates = 2, 50, 3
    result = autolrs(task, stages=stages, tau=tau, n_candidates=n_candidates, seed=0, lr_low=1e-3, lr_high=3e-2)
    assert result.diverged_reason is None and math.isfinite(result.val_loss)
    assert len(result.rates) == stages and all(1e-3 <= r <= 3e-2 for r in result.rates)
    # Each stage: tau steps of the run itself, the first tau // 10 = 5 of them the chosen probe's
    # (continued, not trained again), plus the other n_candidates - 1 probes of 5 steps.
    assert result.steps == stages * tau + stages * (n_candidates - 1) * (tau // 10) == 120
    assert (result.train_steps, result.search_steps) == (stages * tau, stages * (n_candidates - 1) * (tau // 10))
    # Continuing the probe is exact: the run is a fresh run through the chosen rates.
    assert result.train_losses == tuple(_replay(task, [(rate, tau) for rate in result.rates])[0])
    assert [s for s, _ in result.val_curve] == [tau, 2 * tau] and result.val_curve[-1][1] == result.val_loss
    assert result.reached_at is None
    for rate, probes in zip(result.rates, result.probes, strict=True):
        assert len(probes) == n_candidates
        finite = [p for p in probes if p.reason is None]
        assert rate == min(finite, key=lambda p: p.mean).lr  # the best forecast wins
    with pytest.raises(hpo.HPOValueError, match="tau >= 50"):
        autolrs(task, stages=1, tau=40)


def test_autolrs_validation_checks_leave_the_run_alone_and_stop_it_at_the_target(task):
    kwargs = dict(stages=2, tau=50, n_candidates=2, seed=1, lr_low=1e-3, lr_high=3e-2)
    plain = autolrs(task, **kwargs)
    checked = autolrs(task, **kwargs, val_every=20)
    # Checks after 20, 40, 50 steps of each stage; validation draws no batch, so the run is the same.
    assert [s for s, _ in checked.val_curve] == [20, 40, 50, 70, 90, 100]
    assert checked.train_losses == plain.train_losses and checked.val_loss == plain.val_loss
    # The first check below the target stops the run there: its own steps are counted apart
    # from the probes' search steps.
    target = checked.val_curve[2][1] + 1e-12
    reached = autolrs(task, **kwargs, val_every=20, target=target)
    first = next(s for s, v in checked.val_curve if v <= target)
    assert reached.reached_at == reached.train_steps == first <= 50
    assert reached.search_steps == 5 and reached.steps == first + 5 and len(reached.rates) == 1
    with pytest.raises(hpo.HPOValueError, match="val_every >= 1"):
        autolrs(task, stages=1, tau=50, val_every=0)
    with pytest.raises(hpo.HPOValueError, match="target"):
        autolrs(task, stages=1, tau=50, target=math.nan)


def _replay(task, pieces, cooldown=0):
    """A fresh run through constant-rate ``pieces`` ``[(rate, steps), ...]``, then ``cooldown``
    steps from the last rate linearly towards 0: (training losses, validation loss)."""
    run = task.start("adamw")
    losses = []
    for rate, steps in pieces:
        losses += run.advance(lambda t, rate=rate: rate, steps)
    last, first = pieces[-1][0], run.step
    losses += run.advance(lambda t: last * (1 - (t - first + 1) / (cooldown + 1)), cooldown)
    return losses, run.val_loss()


def test_autolrs_with_a_cooldown_scores_probes_past_the_stage_and_ends_the_run_cooled(task):
    kwargs = dict(stages=2, tau=20, n_candidates=3, seed=0, lr_low=1e-3, lr_high=3e-2, probe_steps=20, cooldown=5)
    result = autolrs(task, **kwargs)
    first, second = result.rates
    # Each probe's score is the validation loss after its 20 steps and a 5-step cooldown
    # (rates r * 5/6, ..., r * 1/6), from the stage's checkpoint; the best score wins.
    for probe in result.probes[0]:
        assert probe.mean == _replay(task, [(probe.lr, 20)], cooldown=5)[1] and probe.std == 0.0
    for probe in result.probes[1]:
        assert probe.mean == _replay(task, [(first, 20), (probe.lr, 20)], cooldown=5)[1]
    for rate, probes in zip(result.rates, result.probes, strict=True):
        assert rate == min(probes, key=lambda p: p.mean).lr
    # The run is the two stages and its own final cooldown. Each stage is its chosen probe,
    # continued rather than trained again, and the check at its end is the probe's own cooldown
    # branch: after stage 0 thrown away (search steps) and the run restored, after stage 1 kept.
    losses, val = _replay(task, [(first, 20), (second, 20)], cooldown=5)
    assert result.train_losses == tuple(losses) and result.val_loss == val
    assert result.val_curve == ((25, _replay(task, [(first, 20)], cooldown=5)[1]), (45, val))
    assert (result.train_steps, result.search_steps) == (2 * 20 + 5, 2 * (3 * (20 + 5) - 20) - 5)
    # Checks inside a stage branch from the chosen probe's states there: the same run, and the
    # values of fresh runs cooled at steps 10 and 30; each such branch costs 5 search steps.
    checked = autolrs(task, **kwargs, val_every=10)
    assert checked.rates == result.rates and checked.train_losses == result.train_losses
    inside = [_replay(task, [(first, 10)], cooldown=5)[1], _replay(task, [(first, 20), (second, 10)], cooldown=5)[1]]
    assert checked.val_curve == ((15, inside[0]), result.val_curve[0], (35, inside[1]), result.val_curve[1])
    assert checked.search_steps == result.search_steps + 2 * 5
    # A target the first check reaches keeps that check's cooldown as the run's end.
    target = result.val_curve[0][1] + 1e-12
    reached = autolrs(task, **kwargs, target=target)
    assert reached.reached_at == reached.train_steps == 25 and reached.rates == (first,)
    assert reached.train_losses == tuple(_replay(task, [(first, 20)], cooldown=5)[0])
    assert reached.search_steps == 3 * (20 + 5) - 20 - 5
    for bad, match in (
        (dict(cooldown=-1), "cooldown >= 0"),
        (dict(probe_steps=0, cooldown=5), "probe_steps >= 1"),
        (dict(probe_steps=3), "probe_steps >= 5"),
        (dict(probe_steps=30, cooldown=5), "probe_steps <= tau"),
        (dict(cooldown=2.5), "cooldown >= 0"),
    ):
        with pytest.raises(hpo.HPOValueError, match=match):
            autolrs(task, stages=1, tau=20, **bad)


def test_autolrs_survives_a_stage_whose_probes_all_diverge(task):
    # SGD at 100-1000 blows up within a few steps: every probe fails, the stage falls back to
    # lr_low with a warning, diverges too, and the run ends with NaN and the reason.
    with pytest.warns(hpo.HPOWarning, match="every probe of stage 0 diverged"):
        result = autolrs(task, stages=2, tau=50, n_candidates=2, lr_low=100.0, lr_high=1000.0, optimizer="sgd")
    assert result.rates == (100.0,) and math.isnan(result.val_loss) and result.diverged_reason
    assert all(p.reason and math.isnan(p.mean) for p in result.probes[0])
    probe_steps = result.steps - len(result.train_losses)
    assert 2 <= probe_steps < 2 * 5 and len(result.train_losses) < 50  # each stopped at its blow-up


def test_probe_curves_start_from_their_checkpoints_and_score_forecasts(task):
    curves = probe_curves([task], starts=(0, 20), rates=(1e-3, 1e-2), tau=50, n_windows=16)
    assert [(c.start, c.lr) for c in curves] == [(0, 1e-3), (0, 1e-2), (20, 1e-3), (20, 1e-2)]
    assert all(len(c.losses) == 50 and c.seed == task.seed for c in curves)
    # From the initial weights a curve is a fresh run at the constant rate, bit for bit.
    assert curves[1].losses == tuple(task.start().advance(lambda t: 1e-2, 50))
    # From one checkpoint the first loss is the same (the same weights and batch, before any update).
    assert curves[2].losses[0] == curves[3].losses[0] != curves[0].losses[0]
    run = task.start()
    run.advance(lambda t: 3e-3, 20)  # the warm run up to the second start
    assert curves[2].losses == tuple(run.advance(lambda t: 1e-3, 50))
    # The errors are |forecast - final| / final, with the forecast from the first tenth.
    assert forecast_errors(curves, lambda losses, horizon: curves[0].final)[0] == 0.0
    errors = forecast_errors(curves)
    for c, e in zip(curves, errors):
        fc = hpo.forecast(c.losses[:5], horizon=50, floor=0.0)
        assert e == pytest.approx(abs(fc.mean - c.final) / c.final, rel=1e-12)
        assert 0.0 < c.final < math.log(task.vocab_size) + 1.0


@pytest.mark.parametrize(
    "kwargs, error, rule",
    [
        (dict(tau=40), hpo.HPOValueError, "tau"),
        (dict(starts=(0, -5)), hpo.HPOValueError, "starts"),
        (dict(rates=(1e-3, float("nan"))), hpo.HPOValueError, "rates"),
        (dict(n_windows=0), hpo.HPOValueError, "n_windows"),
    ],
)
def test_probe_curves_reject_bad_arguments_by_rule(task, kwargs, error, rule):
    with pytest.raises(error, match=rule):
        probe_curves([task], **kwargs)
    with pytest.raises(hpo.HPOTypeError, match="sequence of LRScheduleTask"):
        probe_curves(task)
