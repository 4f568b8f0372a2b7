"""hpo inside Optuna: the same study code, hpo's sampler, two parallel threads.

    python examples/02_optuna_sampler.py --trials 30
"""

from __future__ import annotations

import argparse
import math

import optuna

import hpo


def objective(trial: optuna.Trial) -> float:
    x = trial.suggest_float("x", -5.0, 10.0)
    y = trial.suggest_float("y", 0.0, 15.0)
    return branin(x, y)


def branin(x: float, y: float) -> float:
    """Three global minima, value 0.397887."""
    b, c, t = 5.1 / (4 * math.pi**2), 5 / math.pi, 1 / (8 * math.pi)
    return (y - b * x**2 + c * x - 6.0) ** 2 + 10.0 * (1 - t) * math.cos(x) + 10.0


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials", type=int, default=30)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--jobs", type=int, default=2)
    args = parser.parse_args(argv)
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    study = optuna.create_study(sampler=hpo.OptunaSampler(seed=args.seed))
    study.optimize(objective, n_trials=args.trials, n_jobs=args.jobs)
    print(f"{len(study.trials)} trials; best {study.best_value:.5f} (optimum 0.39789) at {study.best_params}")
    return {"study": study}


if __name__ == "__main__":
    main()
