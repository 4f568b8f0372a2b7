"""Ask and tell: tune a small network's training run, persisted in a SQLite file.

The "training run" is a scikit-learn-free stand-in you can read in one line: the validation loss
of a two-parameter model (learning rate on a log scale, width) with an optimum at lr = 3e-3,
width = 48. Run it twice with the same --out: the second run resumes the stored study.

    python examples/01_ask_tell.py --trials 25
"""

from __future__ import annotations

import argparse
import math
import os

import hpo

SPACE = {
    "lr": hpo.Float(1e-5, 1e-1, log=True),
    "width": hpo.Int(8, 256, log=True),
    "optimizer": hpo.Categorical(["sgd", "adam"]),
}


def validation_loss(params: dict) -> float:
    """A smooth valley in log(lr) and log(width); adam is 0.05 better than sgd."""
    return (
        (math.log10(params["lr"]) - math.log10(3e-3)) ** 2
        + 0.5 * (math.log2(params["width"]) - math.log2(48)) ** 2
        + (0.05 if params["optimizer"] == "sgd" else 0.0)
        + 0.1
    )


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials", type=int, default=25)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", default="example-ask-tell")
    args = parser.parse_args(argv)
    os.makedirs(args.out, exist_ok=True)
    tuner = hpo.Tuner(
        SPACE, directions="minimize", seed=args.seed,
        storage=f"sqlite:///{os.path.abspath(os.path.join(args.out, 'study.db'))}", study_name="ask-tell",
    )
    while len(tuner.trials) < args.trials:
        trial = tuner.ask()
        tuner.tell(trial, validation_loss(trial.params))
    best = tuner.best_trial
    print(f"{len(tuner.trials)} trials; best loss {best.value:.4f} (optimum 0.1000) at {best.params}")
    return {"tuner": tuner, "best": best}


if __name__ == "__main__":
    main()
