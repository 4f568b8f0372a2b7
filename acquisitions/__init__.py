"""Acquisition functions, one family per module. A leaf package: it imports torch, gpytorch and
botorch, never ``hpo`` or ``objectives``."""

from acquisitions.config import ConfigAcquisition, ConstraintLCB, config_beta, log_constrained_ei
from acquisitions.ei import log_ei, log_nei
from acquisitions.kg import current_best_mean, knowledge_gradient

__all__ = [
    "log_ei",
    "log_nei",
    "current_best_mean",
    "knowledge_gradient",
    "config_beta",
    "ConfigAcquisition",
    "ConstraintLCB",
    "log_constrained_ei",
]
