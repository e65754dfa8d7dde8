"""mlx-lm's ``lr_schedule`` config as an mlxlr schedule, value for value."""

from __future__ import annotations

import numbers
from collections.abc import Mapping, Sequence
from fractions import Fraction
from typing import Any

from . import _compat
from ._decays import Linear
from ._join import Join
from ._native import Constant
from ._schedule import Schedule
from ._units import nearest
from ._validate import check_int, check_real

_NAMES = ("cosine_decay", "exponential_decay", "linear_schedule", "step_decay")
_KEYS = ("name", "arguments", "warmup", "warmup_init")
_DEFAULT_LEARNING_RATE = 1e-5
"""mlx-lm's ``learning_rate`` when a training config gives none (``mlx_lm.lora``'s defaults)."""
_DURATIONS = {"cosine_decay": (1,), "exponential_decay": (), "linear_schedule": (2,), "step_decay": (2,)}
"""The positions of the durations among each function's ``arguments``."""


def from_mlx_lm(config: Mapping[str, Any], grad_accumulation_steps: int | None = None) -> Schedule:
    """The schedule mlx-lm builds from its ``lr_schedule`` config, with the same values.

    mlx-lm (``mlx_lm.tuner.utils.build_schedule``) calls
    ``mlx.optimizers.<name>(*arguments)`` and, when ``warmup`` is non-zero,
    puts ``linear_schedule(warmup_init, arguments[0], warmup)`` before it with
    ``join_schedules(..., [warmup + 1])``. This function reproduces that
    exactly, *including its off-by-one*: the join sits at ``warmup + 1``, so
    the peak value is held for two steps (``warmup`` and ``warmup + 1``) and
    the decay starts one step late (ml-explore/mlx issue 2617). Use it to
    continue an mlx-lm run unchanged; for a new run write the schedule with
    mlxlr's own ``>>`` (or ``with_warmup``), which has no such shift::

        Linear(warmup_init, lr, steps=warmup) >> CosineDecay(lr, decay_steps)

    A schedule's step counts optimizer updates, in mlx-lm as everywhere. With
    gradient accumulation over ``k`` batches mlx-lm updates once every ``k``
    iterations, so durations written in iterations (``warmup: 100`` meaning
    100 of ``--iters``) last ``k`` times too long. ``grad_accumulation_steps=k``
    converts them: every duration (``warmup``, and ``decay_steps``, ``steps``
    or ``step_size`` among the arguments) becomes the nearest whole number of
    updates (halves up, at least 1); the join stays at the converted
    ``warmup + 1``. The default takes the values as they are, as mlx-lm does.

    Args:
        config: mlx-lm's ``lr_schedule`` mapping: ``name`` (one of
            ``cosine_decay``, ``exponential_decay``, ``linear_schedule``,
            ``step_decay``), ``arguments`` (the positional arguments of that
            function; the first is the peak learning rate), optionally
            ``warmup`` (steps, 0 for none) and ``warmup_init`` (default 0.0).
            A whole mlx-lm training config (with an ``lr_schedule`` key) is
            accepted too; without a schedule it gives ``Constant(learning_rate)``.
        grad_accumulation_steps: Iterations per optimizer update, to convert
            durations written in iterations to updates (``None``: unchanged;
            a training config's own value is ``config["grad_accumulation_steps"]``).

    Returns:
        The schedule: a :class:`~mlxlr.Join` of a :class:`~mlxlr.Linear`
        warmup and the named schedule, or the named schedule alone.

    Raises:
        ValueError: an unknown name or key, or arguments the schedule refuses.
        TypeError: a config that is not a mapping, or values of the wrong type.

    Example:
        >>> import mlxlr
        >>> config = {"name": "cosine_decay", "warmup": 100, "warmup_init": 1e-7, "arguments": [1e-5, 1000, 1e-7]}
        >>> s = mlxlr.from_mlx_lm(config)
        >>> s.boundaries
        (101,)
        >>> print(f"{s.at(100):.3e} {s.at(101):.3e} {s.at(102):.5e}")
        1.000e-05 1.000e-05 9.99998e-06
        >>> accumulated = mlxlr.from_mlx_lm(config, grad_accumulation_steps=4)  # 4 iterations an update
        >>> accumulated.boundaries, accumulated.schedules[1].decay_steps
        ((26,), 250)
    """
    if not isinstance(config, Mapping):
        raise TypeError(f"config must be a mapping (mlx-lm's lr_schedule), got {config!r}")
    per = None if grad_accumulation_steps is None else check_int("grad_accumulation_steps", grad_accumulation_steps)
    if "lr_schedule" in config and "name" not in config:  # a whole training config
        if config["lr_schedule"]:
            return from_mlx_lm(config["lr_schedule"], per)
        return Constant(check_real("learning_rate", config.get("learning_rate", _DEFAULT_LEARNING_RATE)))
    unknown = [key for key in config if key not in _KEYS]
    if unknown:
        raise ValueError(f"lr_schedule has no key {unknown[0]!r} (mlx-lm reads {', '.join(_KEYS)})")
    name = config.get("name")
    if name == "join_schedules":
        raise ValueError("lr_schedule name 'join_schedules' needs schedule objects, which a config cannot hold")
    if name not in _NAMES:
        raise ValueError(f"lr_schedule name must be one of {', '.join(map(repr, _NAMES))}, got {name!r}")
    arguments = config.get("arguments")
    if isinstance(arguments, (str, bytes)) or not isinstance(arguments, Sequence) or not arguments:
        raise TypeError(f"lr_schedule arguments must be a non-empty list, got {arguments!r}")
    arguments = [_updates(a, per) if i in _DURATIONS[name] else a for i, a in enumerate(arguments)]
    try:
        schedule: Schedule = getattr(_compat, name)(*arguments)
    except TypeError as e:
        raise TypeError(f"lr_schedule arguments {list(arguments)!r} do not fit {name}: {e}") from e
    warmup = config.get("warmup", 0)
    if not warmup:  # mlx-lm: `if warmup_steps := config.get("warmup", 0)`
        return schedule
    warmup = _updates(check_int("warmup", warmup, minimum=1), per)
    warmup_init = check_real("warmup_init", config.get("warmup_init", 0.0))
    return Join([Linear(warmup_init, arguments[0], warmup), schedule], [warmup + 1])


def _updates(iterations: Any, per: int | None) -> Any:
    """A duration in iterations as the nearest whole number of updates; anything else as it is (for the check)."""
    if per is None or isinstance(iterations, bool) or not isinstance(iterations, numbers.Integral):
        return iterations
    return nearest(Fraction(int(iterations), per))
