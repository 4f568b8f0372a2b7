"""Many workers, one study: 4 `hpo worker` processes x 25 trials on PostgreSQL and on SQLite;
two processes sharing one `hpo.tune_with_prefixes` on both, and one of them killed.

The PostgreSQL server is started here on loopback from the Debian package's binaries (the
Makefile installs `postgresql` when missing), with its data directory in a temporary folder.
"""

from __future__ import annotations

import glob
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
from itertools import combinations

import numpy as np
import pytest

import hpo
from objectives.synthetic import hartmann6

WORKERS, TRIALS = 4, 15


def _pg_bin() -> str | None:
    found = shutil.which("initdb")
    candidates = ([os.path.dirname(os.path.realpath(found))] if found else []) + sorted(
        glob.glob("/usr/lib/postgresql/*/bin"), reverse=True
    )
    return next((d for d in candidates if os.path.exists(os.path.join(d, "pg_ctl"))), None)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def postgres_url():
    pg = _pg_bin()
    assert pg is not None, "PostgreSQL's initdb/pg_ctl were not found: install the Debian package postgresql"
    base = tempfile.mkdtemp(prefix="hpo-pg-")
    as_user: list[str] = []
    if os.geteuid() == 0:  # PostgreSQL refuses to run as root: run it as the package's user
        import pwd

        user = pwd.getpwnam("postgres")
        os.chown(base, user.pw_uid, user.pw_gid)
        as_user = ["runuser", "-u", "postgres", "--"]
    data, port = os.path.join(base, "data"), _free_port()

    def run(*cmd: str) -> None:
        subprocess.run([*as_user, *cmd], check=True, capture_output=True, text=True, timeout=120)

    run(f"{pg}/initdb", "-D", data, "-A", "trust", "-U", "hpo", "--no-sync")
    run(f"{pg}/pg_ctl", "-D", data, "-l", os.path.join(base, "log"), "-w", "start",
        "-o", f"-p {port} -h 127.0.0.1 -k {base} -F")
    try:
        run(f"{pg}/createdb", "-h", "127.0.0.1", "-p", str(port), "-U", "hpo", "hpo")
        yield f"postgresql+psycopg2://hpo:not-a-real-secret@127.0.0.1:{port}/hpo"
    finally:
        subprocess.run([*as_user, f"{pg}/pg_ctl", "-D", data, "-m", "fast", "stop"], capture_output=True, timeout=120)
        shutil.rmtree(base, ignore_errors=True)


OBJECTIVE = '''
import json, os, time
from objectives.synthetic import hartmann6

problem = hartmann6()
space = problem.space


def fn(params):
    """Hartmann6, taking 0.6 s like a (very) short training run; logs when it ran."""
    start = time.time()
    time.sleep(0.6)
    with open(os.path.join(os.path.dirname(__file__), f"evals-{os.getpid()}.jsonl"), "a") as f:
        f.write(json.dumps({"start": start, "end": time.time(), "params": params}) + "\\n")
    return problem.fn(params)
'''


def _four_workers(url: str, study: str, workdir) -> list[str]:
    (workdir / "slow_h6.py").write_text(OBJECTIVE)
    cmd = [sys.executable, "-m", "hpo.cli", "worker", url, "--study", study,
           "--objective", "slow_h6:fn", "--space", "slow_h6:space", "--trials", str(TRIALS)]
    procs = [
        subprocess.Popen(cmd, cwd=workdir, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        for _ in range(WORKERS)
    ]
    outputs = [p.communicate(timeout=900) for p in procs]
    assert [p.returncode for p in procs] == [0] * WORKERS, [err[-2000:] for _, err in outputs]
    return [out for out, _ in outputs]


def _check_study(url: str, study: str, outputs: list[str], workdir) -> dict:
    import json

    problem = hartmann6()
    tuner = hpo.Tuner(problem.space, storage=url, study_name=study)
    trials = tuner.trials
    n = WORKERS * TRIALS
    # Exactly n finished trials, none lost, each number once, each worker with its own TRIALS.
    assert len(trials) == n and all(t.state == "complete" for t in trials)
    assert sorted(t.number for t in trials) == list(range(n))
    told = [[int(l.split()[1].rstrip(":")) for l in out.splitlines() if l.startswith("  trial")] for out in outputs]
    assert all(len(t) == TRIALS for t in told) and sorted(sum(told, [])) == list(range(n))
    assert all(abs(t.values[0] - problem.fn(t.params)) < 1e-12 for t in trials)
    # No near-duplicates among evaluations that ran at the same time (unit-cube distance). The check
    # needs overlaps: with a 0.2 s evaluation against ~1-3 s asks, 16-30 pairs overlapped, so the
    # count was the scheduler's luck; at 0.6 s each evaluation spans a good part of an ask.
    evals = [json.loads(line) for path in workdir.glob("evals-*.jsonl") for line in path.read_text().splitlines()]
    assert len(evals) == n
    overlapping, closest = 0, np.inf
    for a, b in combinations(evals, 2):
        if a["start"] < b["end"] and b["start"] < a["end"]:
            overlapping += 1
            xa, xb = problem.space.encode(a["params"]), problem.space.encode(b["params"])
            closest = min(closest, float(np.linalg.norm(xa - xb)))
    assert overlapping >= 20 and closest > 1e-3, (overlapping, closest)
    return {"overlapping pairs": overlapping, "closest": closest, "best": tuner.best_trial.value}


def test_four_workers_on_postgresql(postgres_url, tmp_path):
    outputs = _four_workers(postgres_url, "pg-shared", tmp_path)  # the workers race to create the study
    print(_check_study(postgres_url, "pg-shared", outputs, tmp_path))


@pytest.mark.slow  # ~100 s; make test took 16:41 with it; the PostgreSQL test above runs the same check
def test_four_workers_on_sqlite(tmp_path):
    url = f"sqlite:///{tmp_path / 'shared.db'}"
    outputs = _four_workers(url, "sqlite-shared", tmp_path)
    print(_check_study(url, "sqlite-shared", outputs, tmp_path))


def test_postgres_password_is_not_printed(postgres_url, capsys):
    from hpo.cli import main

    assert main(["studies", postgres_url]) == 0
    hpo.Tuner({"x": hpo.Float(0, 1)}, storage=postgres_url, study_name="secret-check", seed=0)
    assert main(["studies", postgres_url]) == 0
    out = capsys.readouterr()
    assert "secret-check" in out.out and "not-a-real-secret" not in out.out + out.err


PREFIX_WORKER = """
import json, os, sys, time
import hpo

name, die_at, storage, folder, extra = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4], json.loads(sys.argv[5])
calls = []

def train(params, steps, state):
    calls.append(steps)
    if len(calls) == die_at:
        os._exit(3)  # killed mid-part: it stops beating
    time.sleep(0.3)  # a training part, long enough for the workers to overlap
    if state is not None:
        assert state["x"] == params["x"] and state["step"] == 20
    return (params["x"] - 0.7) ** 2 + 1.0 / steps, {"x": params["x"], "step": steps}

out = hpo.tune_with_prefixes(
    {"x": hpo.Float(0.0, 1.0)}, train, full=100, seed=0, storage=storage, study_name="prefixes",
    checkpoints=f"{folder}/states", heartbeat=1, **{"trials": 10, **extra},
)
print(json.dumps({"name": name, "params": out.params, "value": out.value, "state": out.state, "parts": len(calls),
                  "start_values": out.start_values}))
"""


def _prefix_workers(storage, tmp_path, die_at, **extra):
    """Two processes run one ``hpo.tune_with_prefixes`` (by default 10 trials of 100 steps: 8
    prefixes of 20, the 2 best continued; ``extra`` arguments change it); the second is killed at
    its ``die_at[1]``-th part (0: never)."""
    procs = [
        subprocess.Popen([sys.executable, "-c", PREFIX_WORKER, name, str(die), storage, str(tmp_path), json.dumps(extra)],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        for name, die in zip("ab", die_at)
    ]
    outs = [p.communicate(timeout=600) for p in procs]
    codes = [p.returncode for p in procs]
    space = {"x": hpo.Float(0.0, 1.0), "steps": hpo.Int(20, 100)}
    study = hpo.Tuner(space, fidelity="steps", storage=storage, study_name="prefixes")
    return codes, [json.loads(o.strip().splitlines()[-1]) if c == 0 else e for (o, e), c in zip(outs, codes)], study


def _x(trial):
    return {"x": trial.params["x"]}


def _check_shared(study, answer):
    """8 prefixes of 20 steps and the 2 best continued, as one process would spend them; every
    part that lost a race or was cut is failed as such."""
    told = [t for t in study.trials if not (t.reason or "").startswith(("stopped", "stale"))]
    prefixes = [t for t in told if t.params["steps"] == 20]
    fulls = [t for t in told if t.params["steps"] == 100]
    assert len(prefixes) == 8 and len(fulls) == 2 and all(t.state == "complete" for t in told)
    best2 = sorted(prefixes, key=lambda t: (t.value, t.number))[:2]
    assert sorted(t.params["x"] for t in fulls) == sorted(t.params["x"] for t in best2)
    assert [t.steps for t in prefixes + fulls] == [20] * 8 + [80] * 2
    best = min(fulls, key=lambda t: t.value)
    assert answer["params"] == _x(best) and answer["value"] == best.value
    assert answer["state"] == {"x": best.params["x"], "step": 100}
    return [t for t in study.trials if t not in told]


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_two_processes_share_one_prefix_tuning(backend, tmp_path, request):
    storage = f"sqlite:///{tmp_path / 'studies.db'}" if backend == "sqlite" else request.getfixturevalue("postgres_url")
    codes, answers, study = _prefix_workers(storage, tmp_path, die_at=(0, 0))
    assert codes == [0, 0], answers
    a, b = answers
    assert (a["params"], a["value"], a["state"]) == (b["params"], b["value"], b["state"])
    assert a["parts"] >= 2 and b["parts"] >= 2  # both trained
    lost = _check_shared(study, a)
    assert all(t.reason == "stopped: another process took the same work first" and t.steps == 0 for t in lost)
    # Each worker trained parts the other did not: the trained parts are the study's, once each.
    assert a["parts"] + b["parts"] == 10


def test_a_prefix_worker_that_dies_leaves_a_stale_part_that_another_runs_again(tmp_path):
    codes, answers, study = _prefix_workers(f"sqlite:///{tmp_path / 'studies.db'}", tmp_path, die_at=(0, 3))
    assert codes == [0, 3]
    lost = _check_shared(study, answers[0])
    stale = [t for t in lost if t.reason.startswith("stale")]
    assert len(stale) == 1 and stale[0].params["steps"] == 20
    # The survivor had the stale prefix pending in its search (it looked while the part ran, for 3
    # heartbeats) and ran that configuration again, once, rather than leave it a phantom there. (The
    # two searches share a seed: where both asked that point at once, the later claim was stopped.)
    again = [t for t in study.trials if t.params == stale[0].params and t.number > stale[0].number]
    assert [t.state for t in again] == ["complete"]


def test_two_prefix_workers_run_a_start_once(tmp_path):
    """With a start (x = 0.5, run in full first) and 11 trials: the start, 9 searched prefixes and
    the best continued; both processes reach for the start first, one trains it."""
    codes, answers, study = _prefix_workers(
        f"sqlite:///{tmp_path / 'studies.db'}", tmp_path, die_at=(0, 0), trials=11, start=[{"x": 0.5}]
    )
    assert codes == [0, 0], answers
    told = [t for t in study.trials if not (t.reason or "").startswith("stopped")]
    assert [t.params for t in told if t.params["x"] == 0.5] == [{"x": 0.5, "steps": 20}, {"x": 0.5, "steps": 100}]
    prefixes = [t for t in told if t.params["steps"] == 20 and t.params["x"] != 0.5]
    (full,) = [t for t in told if t.params["steps"] == 100 and t.params["x"] != 0.5]
    assert len(prefixes) == 9 and full.params["x"] == min(prefixes, key=lambda t: t.value).params["x"]
    start_value = (0.5 - 0.7) ** 2 + 0.01
    assert [a["start_values"] for a in answers] == [[pytest.approx(start_value)]] * 2
    assert answers[0]["value"] == answers[1]["value"] == min(start_value, full.value)
    assert answers[0]["parts"] + answers[1]["parts"] == len(told)
