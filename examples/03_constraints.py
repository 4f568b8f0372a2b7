"""A black-box constraint with CONFIG: minimise a training loss subject to a memory budget.

The memory a configuration needs is only known by running it, like the loss. CONFIG searches
the optimistic feasible set and reports the best feasible configuration.

    python examples/03_constraints.py --trials 30
"""

from __future__ import annotations

import argparse
import math

import hpo

SPACE = {"batch": hpo.Int(8, 512, log=True), "width": hpo.Int(16, 1024, log=True), "lr": hpo.Float(1e-4, 1e-1, log=True)}
MEMORY_BUDGET_GB = 8.0


def run(params: dict) -> tuple[float, float]:
    """(loss, memory in GB): bigger batches and widths train better and need more memory."""
    b, w, lr = math.log2(params["batch"]), math.log2(params["width"]), math.log10(params["lr"])
    loss = 1.0 / (1.0 + 0.15 * b + 0.25 * w) + 0.05 * (lr + 2.5) ** 2
    memory = 0.5 + params["batch"] * params["width"] / 16384.0
    return loss, memory


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials", type=int, default=30)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    tuner = hpo.Tuner(SPACE, directions="minimize", acquisition="config", seed=args.seed)
    for _ in range(args.trials):
        trial = tuner.ask()
        loss, memory = run(trial.params)
        tuner.tell(trial, loss, constraints=[memory - MEMORY_BUDGET_GB])
    best = tuner.best_trial
    loss, memory = run(best.params)
    print(f"best feasible loss {loss:.4f} using {memory:.2f} GB (budget {MEMORY_BUDGET_GB}) at {best.params}")
    return {"tuner": tuner, "best": best}


if __name__ == "__main__":
    main()
