"""mlxlr: typed, composable learning-rate (and any-hyperparameter) schedules for MLX."""

from . import _algebra, _bind, _combinators, _config, _join, _plotting
from ._algebra import Product, Quotient, Scaled, Sum
from ._bind import bind
from ._combinators import Clip, Cooldown, ForSteps, Repeat, Stretch, WithWarmup
from ._compat import cosine_decay, exponential_decay, join_schedules, linear_schedule, step_decay
from ._config import from_config, register
from ._cycles import CosineRestarts, Cyclic, OneCycle, OneCycleMomentum
from ._decays import CosineDecay, InverseSqrt, InverseTimeDecay, Linear, PolynomialDecay, WarmupStableDecay
from ._expr import ParseError, parse
from ._join import Join
from ._lint import LintWarning, lint
from ._mlx_lm import from_mlx_lm
from ._native import Constant, Lambda
from ._optimizer import ScheduledOptimizer
from ._plateau import ReduceOnPlateau
from ._recipes import warmup_constant, warmup_cosine, warmup_cosine_restarts, warmup_linear, warmup_polynomial
from ._schedule import SEAM, Schedule
from ._stairs import ExponentialDecay, MultiStepDecay, PiecewiseConstant, StepDecay
from ._steps import StepLike, as_step
from ._units import REST, UnboundError, Unit, epochs, frac, tokens

# The seam: Schedule's operators and combinator methods build classes of higher modules (see mlxlr._schedule.Seam).
SEAM.add = _algebra.add
SEAM.scale = _algebra.scale
SEAM.multiply = _algebra.multiply
SEAM.divide = _algebra.divide
SEAM.join = _join.join
SEAM.with_warmup = _combinators.WithWarmup
SEAM.clip = _combinators.Clip
SEAM.repeat = _combinators.Repeat
SEAM.stretch = _combinators.Stretch
SEAM.for_steps = _combinators.ForSteps
SEAM.cooldown = _combinators.Cooldown
SEAM.to_config = _config.to_config
SEAM.plot = _plotting.plot
SEAM.call = _bind.call
SEAM.operation = _bind.operation

__version__ = "0.1.0"

__all__ = [
    "Clip",
    "Constant",
    "Cooldown",
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
    "LintWarning",
    "MultiStepDecay",
    "OneCycle",
    "OneCycleMomentum",
    "ParseError",
    "PiecewiseConstant",
    "PolynomialDecay",
    "Product",
    "Quotient",
    "REST",
    "ReduceOnPlateau",
    "Repeat",
    "Scaled",
    "Schedule",
    "ScheduledOptimizer",
    "StepDecay",
    "StepLike",
    "Stretch",
    "Sum",
    "UnboundError",
    "Unit",
    "WarmupStableDecay",
    "WithWarmup",
    "as_step",
    "bind",
    "cosine_decay",
    "epochs",
    "exponential_decay",
    "frac",
    "from_config",
    "from_mlx_lm",
    "join_schedules",
    "linear_schedule",
    "lint",
    "parse",
    "register",
    "step_decay",
    "tokens",
    "warmup_constant",
    "warmup_cosine",
    "warmup_cosine_restarts",
    "warmup_linear",
    "warmup_polynomial",
]
