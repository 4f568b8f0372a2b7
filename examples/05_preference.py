"""Tune preference optimisation (DPO's beta or SPO's softmax exponent, learning rate, steps) of a
small transformer: maximise the held-out ground-truth reward subject to KL(policy || reference)
no larger than the common default's (DPO, beta = 0.1).

Each trial is a short training run (10 to 300 steps, seconds on a CPU); the steps spent are summed.
Trial 0 is the default itself (``Tuner.enqueue``): its KL sets the budget, and the search starts
from it, as a practitioner tuning away from a known default would.

    python examples/05_preference.py --trials 25 --seed 0
"""

from __future__ import annotations

import argparse
import os

import hpo
from hpo.report import write_report
from objectives.preference import DEFAULT, SPACE, PreferenceTask


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials", type=int, default=6)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", default="preference-report")
    parser.add_argument("--small", action="store_true", help="a smaller task (tests)")
    args = parser.parse_args(argv)

    sizes = {"n_pairs": 256, "n_eval": 64, "sft_steps": 30} if args.small else {}
    task = PreferenceTask(args.seed, **sizes)
    tuner = hpo.Tuner(SPACE, directions="maximize", seed=args.seed)
    # Trial 0 is the common default: its run sets the KL budget, and the search starts from it.
    tuner.enqueue(DEFAULT)
    first = tuner.ask()
    default = task(first.params)
    budget = default.kl
    tuner.tell(first, default.reward, constraints=[default.kl - budget])
    print(f"reference reward {task.reference_reward:.3f}; trial   0, the default DPO beta=0.1: reward "
          f"{default.reward:.3f}, KL {default.kl:.3f} (the KL budget)", flush=True)
    steps = default.steps
    for _ in range(args.trials - 1):
        trial = tuner.ask()
        r = task(trial.params)
        steps += r.steps
        tuner.tell(trial, r.reward, constraints=[r.kl - budget])
        print(f"trial {trial.number:>3}: {trial.params['method']} strength {trial.params['strength']:.3g} "
              f"lr {trial.params['lr']:.2g} steps {r.steps:>3} -> reward {r.reward:.3f} KL {r.kl:.3f} "
              f"win {r.win_rate:.2f} rank-acc {r.ranking_accuracy:.2f} ({r.seconds:.1f} s)", flush=True)
    feasible = [t for t in tuner.trials if t.feasible and t.state == "complete"]
    best = max(feasible, key=lambda t: t.value) if feasible else None
    if best is not None:
        print(f"\nbest within the KL budget: reward {best.value:.3f} (default {default.reward:.3f}) at {best.params}")
    else:
        print("\nno trial within the KL budget yet")
    print(f"training steps spent: {steps} (the default's run, trial 0, included)")
    os.makedirs(args.out, exist_ok=True)
    report = write_report(tuner.study, args.out)
    print(f"report: {os.path.abspath(report)}")
    return {"tuner": tuner, "task": task, "default": default, "best": best, "steps": steps, "report": report}


if __name__ == "__main__":
    main()
