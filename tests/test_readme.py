"""Every Python block of the README runs as written."""

import pathlib
import re

import optuna
import pytest

import hpo

README = (pathlib.Path(__file__).resolve().parents[1] / "README.md").read_text()
BLOCKS = re.findall(r"```python\n(.*?)```", README, flags=re.S)


def test_readme_has_python_blocks():
    assert len(BLOCKS) >= 2


@pytest.mark.parametrize("index", range(len(BLOCKS)))
def test_readme_block_runs(index, tmp_path, monkeypatch):
    """Each block runs as written and leaves a study of at least 8 complete trials (the rest stopped early)."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("HPO_CACHE_DIR", str(tmp_path / "cache"))  # the RAG example's embeddings
    namespace: dict = {}
    exec(compile(BLOCKS[index], f"README.md block {index}", "exec"), namespace)
    studies = [v.study if isinstance(v, hpo.Tuner) else v for v in namespace.values() if isinstance(v, (hpo.Tuner, optuna.Study))]
    assert studies, "a README example must build a Tuner or an Optuna study"
    for study in studies:
        states = [t.state for t in study.trials]
        complete = states.count(optuna.trial.TrialState.COMPLETE)
        assert complete >= 8 and set(states) <= {optuna.trial.TrialState.COMPLETE, optuna.trial.TrialState.PRUNED}, states
