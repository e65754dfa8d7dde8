"""mlxlr: typed, composable learning-rate (and any-hyperparameter) schedules for MLX."""

from ._algebra import Join, Product, Quotient, Scaled, Sum
from ._checks import StepLike, as_step
from ._compat import cosine_decay, exponential_decay, join_schedules, linear_schedule, step_decay
from ._families import Constant, CosineDecay, ExponentialDecay, Lambda, Linear, StepDecay
from ._optimizer import ScheduledOptimizer
from ._plateau import ReduceOnPlateau
from ._schedule import Schedule

__version__ = "0.1.0"

__all__ = [
    "Constant",
    "CosineDecay",
    "ExponentialDecay",
    "Join",
    "Lambda",
    "Linear",
    "Product",
    "Quotient",
    "ReduceOnPlateau",
    "Scaled",
    "Schedule",
    "ScheduledOptimizer",
    "StepDecay",
    "StepLike",
    "Sum",
    "as_step",
    "cosine_decay",
    "exponential_decay",
    "join_schedules",
    "linear_schedule",
    "step_decay",
]
