"""hpo: Bayesian-optimisation hyperparameter tuning for expensive training runs.

Public API::

    hpo.Tuner, hpo.Trial                  ask()/tell() over an Optuna study
    hpo.OptunaSampler                     the same engine inside any Optuna study
    hpo.ForecastPruner                    Optuna's pruner by learning-curve forecast
    hpo.SearchSpace, hpo.Float, hpo.Int, hpo.Categorical
    hpo.forecast, hpo.Forecast            learning-curve forecasts for short training proxies
    hpo.tune_with_prefixes, hpo.PrefixTuning  BO on prefixes of resumable runs, the best continued
    hpo.HPOError (and subclasses), hpo.HPOWarning

Nothing happens at import beyond importing these modules: no global settings are changed.
"""

from hpo.errors import (
    HPOError,
    HPOTypeError,
    HPOValueError,
    HPOWarning,
    DivergedError,
    StorageError,
    TrialStateError,
)
from hpo.optuna import ForecastPruner, OptunaSampler
from hpo.prefix import PrefixTuning, tune_with_prefixes
from hpo.proxy import Forecast, forecast
from hpo.space import Categorical, Float, Int, SearchSpace
from hpo.tuner import Trial, Tuner

__all__ = [
    "Tuner",
    "Trial",
    "OptunaSampler",
    "ForecastPruner",
    "SearchSpace",
    "Float",
    "Int",
    "Categorical",
    "forecast",
    "Forecast",
    "tune_with_prefixes",
    "PrefixTuning",
    "HPOError",
    "HPOValueError",
    "HPOTypeError",
    "TrialStateError",
    "StorageError",
    "DivergedError",
    "HPOWarning",
]

__version__ = "0.1.0"
