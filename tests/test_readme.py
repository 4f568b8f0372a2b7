"""Every code block of the README runs: the Python blocks as written, the shell blocks with their
budgets cut (a worker's --trials, a benchmark's --seeds/--budget) and `make` as a dry run."""

import json
import pathlib
import re
import shlex
import subprocess

import optuna
import pytest

import hpo
from objectives import synthetic

README = (pathlib.Path(__file__).resolve().parents[1] / "README.md").read_text()
BLOCKS = re.findall(r"```python\n(.*?)```", README, flags=re.S)
SHELL = [
    shlex.split(line, comments=True)
    for block in re.findall(r"```sh\n(.*?)```", README, flags=re.S)
    for line in block.splitlines()
    if line.strip()
]
ROOT = pathlib.Path(__file__).resolve().parents[1]
# Appended to a command (argparse keeps the last value): the same command on a tiny budget.
CUTS = {"worker": ["--trials", "3"], "bench": ["--seeds", "1"]}
BENCH_CUTS = {"--budgets": ["--budgets", "1"], "--growth": ["--growth-sizes", "5,10", "--growth-asks", "1"]}


def test_readme_has_python_blocks():
    assert len(BLOCKS) >= 2


@pytest.mark.parametrize("index", range(len(BLOCKS)))
def test_readme_block_runs(index, tmp_path, monkeypatch):
    """Each block runs as written and leaves a study of at least 8 complete trials (the rest stopped early)."""
    monkeypatch.chdir(tmp_path)
    namespace: dict = {}
    exec(compile(BLOCKS[index], f"README.md block {index}", "exec"), namespace)
    studies = [v.study if isinstance(v, hpo.Tuner) else v for v in namespace.values() if isinstance(v, (hpo.Tuner, optuna.Study))]
    assert studies, "a README example must build a Tuner or an Optuna study"
    for study in studies:
        states = [t.state for t in study.trials]
        complete = states.count(optuna.trial.TrialState.COMPLETE)
        assert complete >= 8 and set(states) <= {optuna.trial.TrialState.COMPLETE, optuna.trial.TrialState.PRUNED}, states


# ~75 s: slow, so `make test` stays under 15 minutes (17:18 with it and the lengthscale-prior choice)
@pytest.mark.slow
def test_readme_shell_blocks_run(tmp_path, monkeypatch, capsys):
    """The shell lines in order, in one directory (the worker's study is the report's): `make` targets
    as a dry run that must reach the documented command; `hpo` commands for real, on cut budgets."""
    from hpo import cli

    monkeypatch.chdir(tmp_path)
    seen = []
    for argv in SHELL:
        program, args = argv[0], argv[1:]
        if program == "make":
            dry = subprocess.run(["make", "-n", *args], cwd=ROOT, capture_output=True, text=True)
            assert dry.returncode == 0, dry.stderr
            expected = {"run": "hpo demo", "test": "pytest"}[args[0]]
            assert expected in dry.stdout, dry.stdout
        else:
            assert program.endswith("hpo"), argv
            cuts = CUTS.get(args[0], []) + [c for flag, more in BENCH_CUTS.items() if flag in args for c in more]
            if args[0] == "bench" and not any(flag in args for flag in BENCH_CUTS):
                cuts += ["--budget", "1"]
            assert cli.main(args + cuts) == 0, argv
            out = capsys.readouterr().out
            if args[0] == "bench" and "--samplers" in args:
                samplers = args[args.index("--samplers") + 1].split(",")
                assert all(name in out for name in samplers), out
                rows = json.loads((tmp_path / "bench.json").read_text())
                assert {r["sampler"] for r in rows["runs"]} == set(samplers)
            elif args[0] == "bench" and "--suite" in args:
                rows = json.loads((tmp_path / args[args.index("--out") + 1]).read_text())
                assert {r["problem"] for r in rows["runs"]} == set(synthetic.SUITE)  # the broad suite
            elif args[0] == "bench":
                assert "seconds per ask" in out and "| 10 |" in out, out
            if args[0] == "studies":
                assert "sweep" in out
        seen.append(args[0])
    assert {"run", "test", "worker", "studies", "report", "bench"} <= set(seen)
    assert (tmp_path / "report" / "index.html").exists()
