"""mlxlr: typed, composable learning-rate (and any-hyperparameter) schedules for MLX."""

from ._algebra import Join, Product, Quotient, Scaled, Sum
from ._catalogue import (
    CosineRestarts,
    Cyclic,
    InverseSqrt,
    InverseTimeDecay,
    MultiStepDecay,
    OneCycle,
    OneCycleMomentum,
    PiecewiseConstant,
    PolynomialDecay,
    WarmupStableDecay,
)
from ._checks import StepLike, as_step
from ._combinators import Clip, ForSteps, Repeat, Stretch, WithWarmup
from ._compat import cosine_decay, exponential_decay, join_schedules, linear_schedule, step_decay
from ._config import from_config, register
from ._expr import ParseError, parse
from ._families import Constant, CosineDecay, ExponentialDecay, Lambda, Linear, StepDecay
from ._mlx_lm import from_mlx_lm
from ._optimizer import ScheduledOptimizer
from ._plateau import ReduceOnPlateau
from ._recipes import warmup_constant, warmup_cosine, warmup_cosine_restarts, warmup_linear, warmup_polynomial
from ._schedule import Schedule

__version__ = "0.1.0"

__all__ = [
    "Clip",
    "Constant",
    "CosineDecay",
    "CosineRestarts",
    "Cyclic",
    "ExponentialDecay",
    "ForSteps",
    "InverseSqrt",
    "InverseTimeDecay",
    "Join",
    "Lambda",
    "Linear",
    "MultiStepDecay",
    "OneCycle",
    "OneCycleMomentum",
    "ParseError",
    "PiecewiseConstant",
    "PolynomialDecay",
    "Product",
    "Quotient",
    "ReduceOnPlateau",
    "Repeat",
    "Scaled",
    "Schedule",
    "ScheduledOptimizer",
    "StepDecay",
    "StepLike",
    "Stretch",
    "Sum",
    "WarmupStableDecay",
    "WithWarmup",
    "as_step",
    "cosine_decay",
    "exponential_decay",
    "from_config",
    "from_mlx_lm",
    "join_schedules",
    "linear_schedule",
    "parse",
    "register",
    "step_decay",
    "warmup_constant",
    "warmup_cosine",
    "warmup_cosine_restarts",
    "warmup_linear",
    "warmup_polynomial",
]
