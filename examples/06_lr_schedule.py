"""Tune a language model's learning-rate schedule with short training proxies.

The target (``objectives/lr_schedule.py``) trains a small character-level GPT-2 on the standard
library's docstrings for ``T`` steps with a parametric schedule (warmup, then cosine / linear decay
or constant with a cooldown; peak rate, warmup and final fractions, AdamW or SGD).

- **Proxy tuning** (default): every run is a full run of its schedule that may stop early. BO
  (expected improvement) on the validation loss after the first ``T/5`` steps chooses the
  configurations, and the best of those runs continue from their checkpoints to ``T``:
  ``--trials`` counts both (25: 20 searched, 5 continued), as many continued as ``--budget`` pays
  for (default: a third of ``--trials`` full runs). The answer is the best full run.
- ``--resume DIR`` keeps the proxy tuning's study (``DIR/proxy.db``) and its runs' states
  (``DIR/checkpoints-...``) on disk: stopped anywhere (Ctrl-C, a killed process), the same command
  goes on where it stopped; run again after it finished, it trains nothing and prints the answer.
  With ``--heartbeat S`` too, the same command started in several terminals (or on several
  machines sharing the folder) runs one tuning together; each prints the same answer.
- ``--compare`` also tunes with full runs only, the same number of trials, and prints the final
  validation losses and the training steps each spent.
- ``--from-default`` starts both from the default schedule (AdamW at 3e-3, cosine, 10% warmup),
  run in full first (within the trials and, for proxy tuning, the budget), as a user who
  tunes the schedule in use would.
- ``--autolrs`` also tunes a cosine schedule (AdamW) with full runs and then runs the per-stage
  schedule found on the fly (AutoLRS, stages of ``T/3`` steps, for up to ``2T`` steps) until its
  validation loss reaches the tuned cosine's final one, and prints the training steps that took
  (the speed-up over ``T``) with the probes' search steps counted separately; then the same with
  the stage objective that looks past the stage (probes a stage long, each scored after a
  cooldown of ``T/10`` steps; a check every ``T/6`` steps whether such a cooldown reaches the
  target, the run ending with it).
- ``--forecast`` instead measures the learning-curve forecast where AutoLRS uses it: constant-rate
  curves of 100 steps from the initial weights and from checkpoints after 100 and 200 steps, for
  4 task seeds from ``--seed`` and 6 rates; each curve's loss after 100 steps forecast from its
  first 10 against the truth (~3 min on one core).

    python examples/06_lr_schedule.py --trials 12 --compare --seed 0
"""

from __future__ import annotations

import argparse
import functools
import os

import numpy as np

import hpo
from hpo.report import write_report
from objectives.lr_schedule import (
    DEFAULT,
    SPACE,
    LRScheduleTask,
    autolrs,
    describe,
    forecast_errors,
    probe_curves,
    tune_with_proxies,
)


def tune_with_full_runs(
    task: LRScheduleTask, trials: int, seed: int, fixed: dict | None = None, start: tuple[dict, ...] = ()
) -> dict:
    """Tune by full runs; ``fixed`` holds parameters of :data:`SPACE` kept out of the search,
    ``start`` configurations run as the first trials."""
    fixed = fixed or {}
    tuner = hpo.Tuner({k: v for k, v in SPACE.items() if k not in fixed}, seed=seed)
    for config in start:
        tuner.enqueue({k: v for k, v in config.items() if k not in fixed})
    for _ in range(trials):
        trial = tuner.ask()
        params = {**fixed, **trial.params}
        result = task.train(params)
        if result.diverged_reason:
            told = tuner.tell(trial, state="fail", reason=result.diverged_reason, steps=result.steps)
        else:
            told = tuner.tell(trial, result.val_loss, steps=result.steps)
        value = f"{told.value:.4f}" if told.value is not None else "-"
        print(f"  full trial {trial.number:>2}: {describe(params)} -> {value}", flush=True)
    best = tuner.best_trial
    return {"tuner": tuner, "params": {**fixed, **best.params}, "val_loss": best.value, "steps": tuner.total_steps}


def measure_forecasts(tasks: list[LRScheduleTask], **options) -> dict:
    """Print the median relative error of the probes' forecasts, overall and by start; ``options``
    go to :func:`objectives.lr_schedule.probe_curves`."""
    curves = probe_curves(tasks, **options)
    errors = forecast_errors(curves)
    last3 = forecast_errors(curves, lambda losses, horizon: sum(losses[-3:]) / 3)
    tau = len(curves[0].losses)
    print(f"median relative error of the loss after {tau} steps forecast from the first {tau // 10} (constant rates):")
    for start in sorted({c.start for c in curves}) + [None]:
        pick = [i for i, c in enumerate(curves) if start is None or c.start == start]
        name = "all starts" if start is None else f"from step {start}"
        print(f"  {name:<14} hpo.forecast {100 * np.nanmedian([errors[i] for i in pick]):5.2f}%   "
              f"mean of the last 3 losses {100 * np.nanmedian([last3[i] for i in pick]):5.2f}%   ({len(pick)} curves)")
    return {"curves": curves, "errors": errors}


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials", type=int, default=8)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--steps", type=int, default=300, help="T, the full run's length")
    parser.add_argument("--budget", type=int, default=None,
                        help="training steps proxy tuning may spend (default: a third of the trials' full runs)")
    parser.add_argument("--resume", metavar="DIR", default=None,
                        help="keep the proxy tuning's study and run states in DIR; the same command resumes it")
    parser.add_argument("--heartbeat", type=int, default=None, metavar="S",
                        help="with --resume: several processes run the tuning together (heartbeat every S seconds)")
    parser.add_argument("--compare", action="store_true", help="also tune with full runs only")
    parser.add_argument("--from-default", action="store_true",
                        help="start both tunings from the default schedule, run in full first")
    parser.add_argument("--autolrs", action="store_true", help="also find a per-stage schedule on the fly")
    parser.add_argument("--forecast", action="store_true", help="measure the forecast of AutoLRS's probes instead")
    parser.add_argument("--out", default="lr-schedule-report")
    args = parser.parse_args(argv)
    if args.forecast:
        return measure_forecasts([LRScheduleTask(seed) for seed in range(args.seed, args.seed + 4)])

    task = LRScheduleTask(args.seed, steps=args.steps)
    default = task.train(DEFAULT)
    print(f"default schedule ({describe(DEFAULT)}): validation loss {default.val_loss:.4f} after {default.steps} steps")
    print("proxy tuning (BO on the first fifth of each run; the best continued to the end):", flush=True)
    start = (DEFAULT,) if args.from_default else ()
    if args.heartbeat is not None and args.resume is None:
        parser.error("--heartbeat needs --resume DIR (the study and run states the processes share)")
    kept = {}
    if args.resume is not None:  # one study per setting, so another command does not resume it
        name = f"seed{args.seed}-T{args.steps}-trials{args.trials}-budget{args.budget}" + "-default" * args.from_default
        os.makedirs(args.resume, exist_ok=True)
        kept = dict(storage=f"sqlite:///{os.path.abspath(os.path.join(args.resume, 'proxy.db'))}", study_name=name,
                    checkpoints=os.path.join(args.resume, f"checkpoints-{name}"), heartbeat=args.heartbeat)
    proxy = tune_with_proxies(
        task, trials=args.trials, seed=args.seed, budget=args.budget, log=functools.partial(print, flush=True),
        start=start, **kept,
    )
    print(f"answer {describe(proxy.params)}: full-run validation loss {proxy.value:.4f}; "
          f"{proxy.steps} training steps spent ({proxy.searched} configurations searched, the best "
          f"{proxy.continued} continued to {task.steps} steps)")
    out = {"task": task, "default": default, "proxy": proxy}
    if args.compare:
        print("full-run tuning:", flush=True)
        full = tune_with_full_runs(task, args.trials, args.seed, start=start)
        gap = (proxy.value - full["val_loss"]) / full["val_loss"]
        print(f"best full-run validation loss {full['val_loss']:.4f} with {full['steps']} steps; proxy "
              f"{proxy.value:.4f} ({100 * gap:+.2f}%) with {proxy.steps} steps "
              f"({proxy.steps / full['steps']:.2f} of the full tuning's)")
        out["full"] = full
    if args.autolrs:
        cosine = tune_with_full_runs(task, args.trials, args.seed, fixed={"schedule": "cosine", "optimizer": "adamw"})
        print(f"best cosine schedule of {args.trials} full runs ({describe(cosine['params'])}): validation "
              f"loss {cosine['val_loss']:.4f} after {args.steps} steps", flush=True)
        tau = args.steps // 3
        out["cosine"] = cosine
        for key, name, options in (
            ("autolrs", "AutoLRS", dict(val_every=10)),
            ("autolrs_cooldown", "AutoLRS, scored after a cooldown",
             dict(val_every=args.steps // 6, probe_steps=tau, cooldown=args.steps // 10)),
        ):
            result = autolrs(task, stages=6, tau=tau, seed=args.seed, target=cosine["val_loss"], **options)
            rates = " ".join(f"{r:.2e}" for r in result.rates)
            if result.reached_at is not None:
                print(f"{name} (rates {rates}) reached it after {result.reached_at} training steps "
                      f"(a speed-up of {args.steps / result.reached_at:.2f}x over the cosine's {args.steps}), plus "
                      f"{result.search_steps} search steps", flush=True)
            else:
                print(f"{name} (rates {rates}) did not reach it in {result.train_steps} training steps "
                      f"(best {min(v for _, v in result.val_curve):.4f}); {result.search_steps} search steps",
                      flush=True)
            out[key] = result
    os.makedirs(args.out, exist_ok=True)
    out["report"] = write_report(proxy.tuner.study, args.out)
    print(f"report: {os.path.abspath(out['report'])}")
    return out


if __name__ == "__main__":
    main()
