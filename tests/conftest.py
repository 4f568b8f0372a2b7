import optuna
import pytest


@pytest.fixture(autouse=True)
def _quiet_optuna():
    # Optuna logs every finished trial at INFO; the tests read values, not logs.
    level = optuna.logging.get_verbosity()
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    yield
    optuna.logging.set_verbosity(level)
