import optuna
import pytest


@pytest.fixture(autouse=True)
def _quiet_optuna():
    # Optuna logs every finished trial at INFO; the tests read values, not logs.
    level = optuna.logging.get_verbosity()
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    yield
    optuna.logging.set_verbosity(level)


@pytest.fixture(autouse=True, scope="session")
def _embedding_cache(tmp_path_factory):
    # The RAG pipeline caches chunk embeddings on disk (HPO_CACHE_DIR). One directory for the whole
    # session: the user's ~/.cache stays untouched, and a chunking embedded by one test is reused by
    # the next instead of recomputed (tests of the cache itself pass their own directory).
    mp = pytest.MonkeyPatch()
    mp.setenv("HPO_CACHE_DIR", str(tmp_path_factory.mktemp("hpo-cache")))
    yield
    mp.undo()
