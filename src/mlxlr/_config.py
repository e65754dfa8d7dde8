"""Names of schedules, configs (``to_config`` / ``from_config``) and the user registry.

One table of names serves configs and the expression language alike: every
concrete :class:`~mlxlr.Schedule` class and schedule-returning function of
mlxlr's schedule modules (their ``__all__``), and the user classes
registered with :func:`register`. A config is the constructor's arguments, as they were
given, under the class name: ``{"type": "Linear", "init": 0.0, "end": 1.0,
"steps": 10}``, with nested schedules as nested configs.
"""

from __future__ import annotations

import inspect
import math
import numbers
import re
from collections.abc import Callable, Mapping
from typing import Any, TypeVar

from . import _algebra, _combinators, _compat, _cycles, _decays, _join, _native, _plateau, _recipes, _stairs
from ._bind import OPERATORS, Call, Operation, operation
from ._schedule import MAX_DEPTH, Schedule, signature
from ._units import KINDS, REST, Unit, epochs, frac, tokens

S = TypeVar("S", bound=Schedule)

TYPE_KEY = "type"
"""The key of a config that names the class."""
UNIT_KEY = "unit"
"""The key of a unit's config: ``{"unit": "frac", "value": 0.05}``, ``{"unit": "rest"}``."""
OPERATOR_KEY = "operator"
"""The key of an unbound operation's config: ``{"operator": ">>", "operands": [...]}``."""
_UNITS: dict[str, Callable[[Any], Unit]] = {"frac": frac, "epochs": epochs, "tokens": tokens}

_REGISTERED: dict[str, type[Schedule]] = {}


def register(cls: type[S]) -> type[S]:
    """Registers a user :class:`~mlxlr.Schedule` subclass for configs and expressions.

    After registration, ``to_config`` writes the class under its name,
    :func:`mlxlr.from_config` rebuilds it and :func:`mlxlr.parse` reads it
    (its ``repr`` is already an expression). Use it as a decorator. A name
    that is already taken by mlxlr or by another registered class is an
    error; registering the same class again (or a redefinition of it, as
    when a notebook cell runs twice) replaces the entry.

    Args:
        cls: A concrete subclass of :class:`~mlxlr.Schedule`. None of its
            constructor's parameters may be called ``type`` (the key of a
            config that names the class).

    Returns:
        ``cls`` itself.

    Raises:
        TypeError: ``cls`` is not a concrete ``Schedule`` subclass.
        ValueError: the name is taken, or a parameter is called ``type``.

    Example:
        >>> import mlx.core as mx
        >>> import mlxlr
        >>> @mlxlr.register
        ... class Halve(mlxlr.Schedule):
        ...     def __init__(self, init: float, every: int) -> None:
        ...         self.init, self.every = init, every
        ...     def __call__(self, step):
        ...         return self.init * 0.5 ** (mlxlr.as_step(step) // self.every).astype(mx.float32)
        >>> Halve(1.0, every=10).to_config()
        {'type': 'Halve', 'init': 1.0, 'every': 10}
        >>> mlxlr.parse("Halve(2.0, every=10) * 0.5").at(25)
        0.25
    """
    if not isinstance(cls, type) or not issubclass(cls, Schedule):
        raise TypeError(f"cls must be a subclass of mlxlr.Schedule, got {cls!r}")
    if inspect.isabstract(cls):
        raise TypeError(f"cls must be a concrete class, got the abstract {cls.__qualname__}")
    if TYPE_KEY in signature(cls).parameters:
        raise ValueError(f"{cls.__qualname__} has a parameter called {TYPE_KEY!r}, the key that names a config's class")
    name = cls.__name__
    builtin = _builtin_names().get(name)
    taken = builtin or _REGISTERED.get(name)
    if taken is not None and taken is not cls and not _redefines(cls, taken):
        owner = f"mlxlr.{name}" if builtin is not None else f"{taken.__module__}.{taken.__qualname__}"
        raise ValueError(
            f"cannot register {cls.__module__}.{cls.__qualname__}: the name {name!r} is taken by {owner}; "
            "rename the class"
        )
    _REGISTERED[name] = cls
    return cls


def unregister(name: str) -> None:
    """Forgets the class registered under ``name``, if any."""
    _REGISTERED.pop(name, None)


def _redefines(new: type, old: type) -> bool:
    return new.__module__ == old.__module__ and new.__qualname__ == old.__qualname__ and old in _REGISTERED.values()


# The table of names. ---------------------------------------------------------

_MODULES = (_native, _algebra, _join, _combinators, _decays, _stairs, _cycles, _plateau, _recipes, _compat)
"""The modules of schedules: their public schedule classes and functions are the built-in names."""


def _builtin_names() -> dict[str, Any]:
    """The names of mlxlr's own: the concrete schedule classes and schedule-returning functions of its modules."""
    names: dict[str, Any] = {}
    for module in _MODULES:
        for name in module.__all__:
            obj = getattr(module, name)
            if _is_schedule_class(obj) or (inspect.isfunction(obj) and _returns_schedule(obj)):
                names[name] = obj
    return names


def _is_schedule_class(obj: object) -> bool:
    return isinstance(obj, type) and issubclass(obj, Schedule) and not inspect.isabstract(obj)


def _returns_schedule(fn: Callable[..., Any]) -> bool:
    """Whether ``fn``'s return annotation names a ``Schedule`` class (read, never evaluated)."""
    annotation = inspect.signature(fn).return_annotation
    if isinstance(annotation, type):
        return issubclass(annotation, Schedule)
    if not isinstance(annotation, str):
        return False
    scope = getattr(fn, "__globals__", {})
    for word in re.findall(r"[A-Za-z_]\w*", annotation):
        if word == "Self":
            return True
        obj = scope.get(word)
        if isinstance(obj, type) and issubclass(obj, Schedule):
            return True
    return False


def snake_case(name: str) -> str:
    """``CosineDecay`` -> ``cosine_decay``."""
    return re.sub(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])", "_", name).lower()


def names() -> dict[str, Any]:
    """Every name an expression may call: mlxlr's, the registered ones, then snake-case aliases.

    An exact name always wins over an alias; the alias of a class is only
    added where no exact name (such as MLX's ``cosine_decay``) has it.
    """
    table = {**_REGISTERED, **_builtin_names()}
    for name, obj in list(table.items()):
        if isinstance(obj, type):
            table.setdefault(snake_case(name), obj)
    return table


def schedule_classes() -> dict[str, type[Schedule]]:
    """The classes a config may name: mlxlr's and the registered ones."""
    return {name: obj for name, obj in {**_REGISTERED, **_builtin_names()}.items() if isinstance(obj, type)}


def is_schedule_method(cls: type[Schedule], name: str) -> bool:
    """Whether an expression may call ``name`` on a ``cls``: a public method that returns a schedule.

    Those are the combinators (``with_warmup``, ``clip``, ...) of every
    schedule and the ones of a class (``OneCycle.momentum``). The class is one
    that an expression could build, so its methods are mlxlr's or registered.
    ``bind`` is not one: an expression writes a schedule as it is, units and all.
    """
    method = inspect.getattr_static(cls, name, None)
    return not name.startswith("_") and name != "bind" and inspect.isfunction(method) and _returns_schedule(method)


def schedule_methods(cls: type[Schedule]) -> list[str]:
    """The methods an expression may call on a ``cls``, sorted."""
    return [name for name in sorted(dir(cls)) if is_schedule_method(cls, name)]


# Configs. --------------------------------------------------------------------


def to_config(schedule: Schedule) -> dict[str, Any]:
    """The JSON-safe config of ``schedule``; see :meth:`mlxlr.Schedule.to_config`."""
    return _encode_schedule(schedule, schedule_classes(), "schedule")


def _encode_schedule(schedule: Schedule, classes: Mapping[str, type[Schedule]], path: str) -> dict[str, Any]:
    if isinstance(schedule, Operation):
        operands = schedule.operands
        encoded = [_encode_value(v, classes, f"{path}.operands[{i}]", schedule) for i, v in enumerate(operands)]
        return {OPERATOR_KEY: schedule.symbol, "operands": encoded}
    cls = schedule.cls if isinstance(schedule, Call) else type(schedule)
    if classes.get(cls.__name__) is not cls:
        raise TypeError(
            f"cannot write a config of {cls.__module__}.{cls.__qualname__} ({path}): the class is not "
            f"registered; decorate it with @mlxlr.register (or call mlxlr.register({cls.__name__}))"
        )
    config: dict[str, Any] = {TYPE_KEY: cls.__name__}
    for name, value in schedule._params.items():
        config[name] = _encode_value(value, classes, f"{path}.{name}", schedule)
    return config


def _encode_value(value: Any, classes: Mapping[str, type[Schedule]], path: str, owner: Schedule) -> Any:
    if isinstance(value, Schedule):
        return _encode_schedule(value, classes, path)
    if isinstance(value, Unit):
        return {UNIT_KEY: value.kind} if value.kind == "rest" else {UNIT_KEY: value.kind, "value": value.value}
    if value is None or isinstance(value, (bool, str)):
        return value
    if isinstance(value, numbers.Integral):
        return int(value)
    if isinstance(value, numbers.Real):
        number = float(value)
        if not math.isfinite(number):
            raise ValueError(f"cannot write a config of {type(owner).__name__}: {path} is {number!r}, not JSON")
        return number
    if isinstance(value, (list, tuple)):
        return [_encode_value(v, classes, f"{path}[{i}]", owner) for i, v in enumerate(value)]
    if isinstance(value, Mapping) and all(isinstance(k, str) for k in value):
        return {k: _encode_value(v, classes, f"{path}.{k}", owner) for k, v in value.items()}
    if callable(value):
        raise TypeError(
            f"cannot write a config of {type(owner).__name__}: {path} is the Python callable {value!r}, "
            "which a config cannot hold; write it as a Schedule subclass and decorate it with @mlxlr.register"
        )
    raise TypeError(f"cannot write a config of {type(owner).__name__}: {path} is {value!r} ({type(value).__name__})")


def from_config(config: Mapping[str, Any]) -> Schedule:
    """Rebuilds a schedule from the config that :meth:`~mlxlr.Schedule.to_config` wrote.

    Args:
        config: A mapping with the class name under ``"type"`` and the
            constructor's arguments under their names, nested schedules as
            nested configs (what ``json.loads`` gives back).

    Returns:
        The schedule, equal (``==``) to the one the config was written from.

    Raises:
        ValueError: an unknown ``"type"`` or a value the constructor refuses;
            the message gives the path of the offending entry.
        TypeError: a config that is not a mapping, an unknown or missing
            argument, or a value of the wrong type.

    Example:
        >>> import json
        >>> import mlxlr
        >>> s = mlxlr.Linear(0.0, 1e-3, steps=100) >> mlxlr.CosineDecay(1e-3, decay_steps=900)
        >>> text = json.dumps(s.to_config())
        >>> mlxlr.from_config(json.loads(text)) == s
        True
    """
    return _decode_schedule(config, schedule_classes(), "config")


def _decode_schedule(config: object, classes: Mapping[str, type[Schedule]], path: str, depth: int = 1) -> Schedule:
    if depth > MAX_DEPTH:  # before the recursion of a hand-made config goes deeper than Python's stack
        raise ValueError(f"{_shortened(path)}: the config nests schedules deeper than {MAX_DEPTH} levels")
    if not isinstance(config, Mapping):
        raise TypeError(f"{path} must be a mapping with a {TYPE_KEY!r} key, got {config!r}")
    if OPERATOR_KEY in config and TYPE_KEY not in config:
        return _decode_operation(config, classes, path, depth)
    name = config.get(TYPE_KEY)
    if not isinstance(name, str):
        raise TypeError(f"{path}.{TYPE_KEY} must name a schedule class, got {name!r}")
    cls = classes.get(name)
    if cls is None:
        raise ValueError(
            f"{path}.{TYPE_KEY}: unknown schedule type {name!r}; known: {', '.join(sorted(classes))} "
            "(register user classes with @mlxlr.register)"
        )
    sig = signature(cls)
    params = list(sig.parameters.values())[1:]
    known = [p.name for p in params]
    unknown = [k for k in config if k != TYPE_KEY and k not in known]
    if unknown:
        raise TypeError(f"{path}: {name} has no parameter {unknown[0]!r} (parameters: {', '.join(known)})")
    args: list[Any] = []
    kwargs: dict[str, Any] = {}
    for p in params:
        if p.name not in config:
            if p.default is p.empty and p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD):
                raise TypeError(f"{path}: {name} needs the argument {p.name!r}")
            continue
        value = _decode_value(config[p.name], classes, f"{path}.{p.name}", depth)
        if p.kind is p.POSITIONAL_ONLY:
            args.append(value)
        elif p.kind is p.VAR_POSITIONAL:
            if not isinstance(value, list):
                raise TypeError(f"{path}.{p.name} must be a list, got {value!r}")
            args.extend(value)
        elif p.kind is p.VAR_KEYWORD:
            if not isinstance(value, dict):
                raise TypeError(f"{path}.{p.name} must be a mapping, got {value!r}")
            kwargs.update(value)
        else:
            kwargs[p.name] = value
    try:
        return cls(*args, **kwargs)
    except ValueError as e:
        raise ValueError(f"{path} ({name}): {e}") from e
    except TypeError as e:
        raise TypeError(f"{path} ({name}): {e}") from e


def _decode_operation(
    config: Mapping[str, Any], classes: Mapping[str, type[Schedule]], path: str, depth: int
) -> Schedule:
    """``{"operator": ">>", "operands": [...]}``: an operator on a schedule written in units."""
    symbol = config[OPERATOR_KEY]
    if symbol not in OPERATORS:
        raise ValueError(f"{path}.{OPERATOR_KEY} must be one of {', '.join(map(repr, OPERATORS))}, got {symbol!r}")
    unknown = [k for k in config if k not in (OPERATOR_KEY, "operands")]
    if unknown:
        raise TypeError(f"{path}: an operation has keys {OPERATOR_KEY!r} and 'operands', got {unknown[0]!r}")
    operands = config.get("operands")
    count = 1 if symbol == "neg" else None if symbol == ">>" else 2
    if not isinstance(operands, list) or (len(operands) != count if count else len(operands) < 2):
        raise TypeError(f"{path}.operands must be a list of {count or 'two or more'} operands, got {operands!r}")
    values = [_decode_value(v, classes, f"{path}.operands[{i}]", depth) for i, v in enumerate(operands)]
    for i, v in enumerate(values):
        if isinstance(v, bool) or not isinstance(v, (Schedule, int, float)):
            raise TypeError(f"{path}.operands[{i}] must be a schedule or a number, got {v!r}")
    if not any(isinstance(v, Schedule) and not v.bound for v in values):
        raise ValueError(f"{path}: an operation holds a schedule written in units; write other ones as their type")
    try:
        return operation(symbol, *values)
    except ValueError as e:
        raise ValueError(f"{path} ({symbol}): {e}") from e
    except TypeError as e:
        raise TypeError(f"{path} ({symbol}): {e}") from e


def _decode_unit(value: Mapping[str, Any], path: str) -> Unit:
    """``{"unit": "frac", "value": 0.05}`` or ``{"unit": "rest"}``."""
    kind = value[UNIT_KEY]
    if kind not in KINDS:
        raise ValueError(f"{path}.{UNIT_KEY} must be one of {', '.join(map(repr, KINDS))}, got {kind!r}")
    keys = {UNIT_KEY} if kind == "rest" else {UNIT_KEY, "value"}
    if set(value) != keys:
        raise TypeError(f"{path}: a {kind} unit has the keys {sorted(keys)}, got {sorted(value)}")
    if kind == "rest":
        return REST
    try:
        return _UNITS[kind](value["value"])
    except (ValueError, TypeError) as e:
        raise type(e)(f"{path}: {e}") from e


def _decode_value(value: object, classes: Mapping[str, type[Schedule]], path: str, depth: int, nesting: int = 0) -> Any:
    """An argument of a schedule at ``depth``, inside ``nesting`` lists and mappings."""
    if nesting > MAX_DEPTH:
        raise ValueError(f"{_shortened(path)}: lists and mappings nest deeper than {MAX_DEPTH} levels")
    if isinstance(value, Mapping):
        if UNIT_KEY in value and TYPE_KEY not in value:
            return _decode_unit(value, path)
        if TYPE_KEY in value or OPERATOR_KEY in value:
            return _decode_schedule(value, classes, path, depth + 1)
        return {k: _decode_value(v, classes, f"{path}.{k}", depth, nesting + 1) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_decode_value(v, classes, f"{path}[{i}]", depth, nesting + 1) for i, v in enumerate(value)]
    return value


def _shortened(path: str) -> str:
    return path if len(path) <= 80 else f"{path[:40]}...{path[-37:]}"
