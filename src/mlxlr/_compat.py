"""Drop-in replacements for the five schedule closures of ``mlx.optimizers``.

Each takes exactly the arguments of its MLX namesake and returns a
:class:`~mlxlr.Schedule` with the same values (exact where MLX's float32
arithmetic drifts), which can be passed to MLX's optimizers as they are.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from ._decays import CosineDecay, Linear
from ._join import Join
from ._schedule import Schedule
from ._stairs import ExponentialDecay, StepDecay


def cosine_decay(init: float, decay_steps: int, end: float = 0.0) -> CosineDecay:
    """MLX's ``cosine_decay`` as a :class:`CosineDecay`.

    Example:
        >>> import mlx.optimizers as optim
        >>> import mlxlr
        >>> opt = optim.SGD(learning_rate=mlxlr.cosine_decay(1e-1, 1000))
        >>> for _ in range(5):
        ...     opt.update({}, {})
        >>> print(f"{opt.learning_rate.item():.7f}")
        0.0999961
    """
    return CosineDecay(init, decay_steps, end)


def exponential_decay(init: float, decay_rate: float) -> ExponentialDecay:
    """MLX's ``exponential_decay`` as an :class:`ExponentialDecay`.

    A ``decay_rate`` above 1 (a growth without bound, which MLX turns into
    ``inf``) raises here; use ``ExponentialDecay(..., end=cap)``.

    Example:
        >>> import mlx.optimizers as optim
        >>> import mlxlr
        >>> opt = optim.SGD(learning_rate=mlxlr.exponential_decay(1e-1, 0.9))
        >>> for _ in range(5):
        ...     opt.update({}, {})
        >>> print(f"{opt.learning_rate.item():.5f}")
        0.06561
    """
    return ExponentialDecay(init, decay_rate)


def join_schedules(schedules: Sequence[Schedule | Callable[..., Any]], boundaries: Sequence[int]) -> Join:
    """MLX's ``join_schedules`` as a :class:`Join`; pieces may be MLX closures.

    Example:
        >>> import mlx.optimizers as optim
        >>> import mlxlr
        >>> warmup = mlxlr.linear_schedule(0, 1e-1, steps=10)
        >>> opt = optim.Adam(learning_rate=mlxlr.join_schedules([warmup, mlxlr.cosine_decay(1e-1, 200)], [10]))
        >>> for _ in range(12):
        ...     opt.update({}, {})
        >>> print(f"{opt.learning_rate.item():.7f}")
        0.0999938
    """
    return Join(schedules, boundaries)


def linear_schedule(init: float, end: float, steps: int) -> Linear:
    """MLX's ``linear_schedule`` as a :class:`Linear`.

    Example:
        >>> import mlx.optimizers as optim
        >>> import mlxlr
        >>> opt = optim.Adam(learning_rate=mlxlr.linear_schedule(0, 1e-1, 100))
        >>> for _ in range(101):
        ...     opt.update({}, {})
        >>> print(f"{opt.learning_rate.item():.1f}")
        0.1
    """
    return Linear(init, end, steps)


def step_decay(init: float, decay_rate: float, step_size: int) -> StepDecay:
    """MLX's ``step_decay`` as a :class:`StepDecay`.

    Example:
        >>> import mlx.optimizers as optim
        >>> import mlxlr
        >>> opt = optim.SGD(learning_rate=mlxlr.step_decay(1e-1, 0.9, 10))
        >>> for _ in range(21):
        ...     opt.update({}, {})
        >>> print(f"{opt.learning_rate.item():.3f}")
        0.081
    """
    return StepDecay(init, decay_rate, step_size)


__all__ = ["cosine_decay", "exponential_decay", "join_schedules", "linear_schedule", "step_decay"]
