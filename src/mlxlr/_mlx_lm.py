"""mlx-lm's ``lr_schedule`` config as an mlxlr schedule, value for value; its YAML files read as mlx-lm reads them."""

from __future__ import annotations

import importlib
import math
import numbers
import os
import re
from collections.abc import Mapping, Sequence
from fractions import Fraction
from pathlib import Path
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

YAML_HINT = 'reading YAML needs PyYAML: pip install "mlxlr[yaml]"'

MLX_LM_FLOAT = re.compile(
    r"""[-+]?[0-9][0-9_]*(?:\.[0-9_]*(?:[eE][-+]?[0-9]+)?|[eE][-+]?[0-9]+)  # 1.5, 1., 1e-5, 1.5E3
    |\.[0-9_]+(?:[eE][-+][0-9]+)?                                           # .5, .5e-3
    |[-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+\.[0-9_]*                             # 1:30.5 (base 60)
    |[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN)""",
    re.X,
)
"""The plain scalars that mlx-lm's YAML loader reads as floats (``mlx_lm/lora.py``).

mlx-lm adds an implicit float resolver to PyYAML's safe loader: YAML 1.1
wants a dot and a signed exponent (``1.0e-5``), so ``yaml.safe_load`` leaves
``1e-5`` a string, which mlx-lm reads as a float. These are the forms its
resolver accepts, written here from its grammar.
"""


def yaml_document(text: str, source: str) -> Any:
    """A YAML document read as mlx-lm reads its configs: PyYAML's safe loader, ``1e-5`` a float.

    Args:
        text: The document.
        source: Where it comes from, for the error message.

    Raises:
        ImportError: PyYAML is not installed (``pip install "mlxlr[yaml]"``).
        ValueError: the text is not valid YAML.
    """
    try:
        yaml: Any = importlib.import_module("yaml")
    except ImportError:
        raise ImportError(YAML_HINT) from None

    class Loader(yaml.SafeLoader):  # type: ignore[misc]
        """The safe loader with mlx-lm's float forms (a subclass: PyYAML's own loader is left as it is)."""

    Loader.add_implicit_resolver(
        "tag:yaml.org,2002:float", re.compile(f"^(?:{MLX_LM_FLOAT.pattern})$", re.X), list("-+0123456789.")
    )
    try:
        return yaml.load(text, Loader=Loader)
    except yaml.YAMLError as e:
        raise ValueError(f"{source}: not valid YAML: {e}") from None


def _number(value: object) -> object:
    """A string in one of mlx-lm's float forms (what ``yaml.safe_load`` left a string) as that float."""
    if not isinstance(value, str) or not MLX_LM_FLOAT.fullmatch(value):
        return value
    text = value.replace("_", "").lower()
    sign = -1.0 if text.startswith("-") else 1.0
    text = text.lstrip("+-")
    if text in (".inf", ".nan"):
        return sign * math.inf if text == ".inf" else math.nan
    if ":" in text:  # base 60, as YAML 1.1 reads 1:30.5
        value_ = 0.0
        for part in text.split(":"):
            value_ = value_ * 60 + float(part)
        return sign * value_
    return sign * float(text)


def _read(path: Path) -> Mapping[str, Any]:
    """mlx-lm's YAML config file at ``path``."""
    if not path.is_file():
        raise FileNotFoundError(f"config: no mlx-lm config file at {str(path)!r}")
    data = yaml_document(path.read_text(encoding="utf-8"), str(path))
    if not isinstance(data, Mapping):
        kind = "nothing" if data is None else f"{type(data).__name__} {data!r}"[:80]
        raise TypeError(
            f"{path} holds {kind}, not a mapping: expected mlx-lm's training config (with lr_schedule) "
            "or its lr_schedule (with name and arguments)"
        )
    return data


def from_mlx_lm(
    config: Mapping[str, Any] | str | os.PathLike[str], grad_accumulation_steps: int | None = None
) -> Schedule:
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
            Or the path (``str`` or ``pathlib.Path``) of mlx-lm's YAML config
            file, read as ``mlx_lm.lora`` reads it (PyYAML's safe loader with
            mlx-lm's float forms: ``1e-5`` is a number): a training config, with
            or without ``lr_schedule``, or an ``lr_schedule`` alone. Numbers
            written as strings in those forms (``"1e-5"``, which
            ``yaml.safe_load`` leaves a string) are read as numbers in a
            mapping too. Step counts are ints (``1000``, not ``1e3``).
        grad_accumulation_steps: Iterations per optimizer update, to convert
            durations written in iterations to updates (``None``: unchanged;
            a training config's own value is ``config["grad_accumulation_steps"]``).

    Returns:
        The schedule: a :class:`~mlxlr.Join` of a :class:`~mlxlr.Linear`
        warmup and the named schedule, or the named schedule alone.

    Raises:
        ValueError: an unknown name or key, arguments the schedule refuses, or
            a file that is not valid YAML.
        TypeError: a config that is neither a mapping nor a path, a file that
            holds no mapping, or values of the wrong type.
        FileNotFoundError: no file at the path.
        ImportError: a path, and PyYAML is not installed (``pip install "mlxlr[yaml]"``).

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
    whole = False  # a file without "name" is a training config, lr_schedule or not
    if isinstance(config, (str, os.PathLike)):
        config = _read(Path(config))
        whole = "name" not in config
    if not isinstance(config, Mapping):
        raise TypeError(
            f"config must be a mapping (mlx-lm's lr_schedule or training config) or the path of mlx-lm's YAML "
            f"config, got {config!r} ({type(config).__name__})"
        )
    per = None if grad_accumulation_steps is None else check_int("grad_accumulation_steps", grad_accumulation_steps)
    if ("lr_schedule" in config or whole) and "name" not in config:  # a whole training config
        if config.get("lr_schedule"):
            return from_mlx_lm(config["lr_schedule"], per)
        rate = _number(config.get("learning_rate", _DEFAULT_LEARNING_RATE))
        return Constant(check_real("learning_rate", rate))
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
    arguments = [_number(a) for a in arguments]
    arguments = [_updates(a, per) if i in _DURATIONS[name] else a for i, a in enumerate(arguments)]
    try:
        schedule: Schedule = getattr(_compat, name)(*arguments)
    except TypeError as e:
        raise TypeError(f"lr_schedule arguments {list(arguments)!r} do not fit {name}: {e}") from e
    warmup = _number(config.get("warmup", 0))
    if not warmup:  # mlx-lm: `if warmup_steps := config.get("warmup", 0)`
        return schedule
    warmup = _updates(check_int("warmup", warmup, minimum=1), per)
    warmup_init = check_real("warmup_init", _number(config.get("warmup_init", 0.0)))
    return Join([Linear(warmup_init, arguments[0], warmup), schedule], [warmup + 1])


def _updates(iterations: Any, per: int | None) -> Any:
    """A duration in iterations as the nearest whole number of updates; anything else as it is (for the check)."""
    if per is None or isinstance(iterations, bool) or not isinstance(iterations, numbers.Integral):
        return iterations
    return nearest(Fraction(int(iterations), per))
