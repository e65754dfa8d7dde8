"""Scheduled hyperparameters: which names an optimizer lets schedule, and what it sees during an update.

Which names: ``learning_rate`` and the numeric attributes of the wrapped
optimizers (tuples of numbers too), checked with the value given for them
(:func:`check_spec`), globally or per parameter group (:func:`check_groups`).

MLX's optimizers read hyperparameters as Python attributes. A scheduled one
must be an ``mx.array`` (a Python float read while a compiled step is traced
would be baked into the graph), and it must behave as the Python float it
replaces in two ways:

- **Dtypes.** A Python float is a *weak* scalar: ``0.9 * m`` keeps ``m``'s
  bfloat16, while a float32 array would promote it to float32. A
  :class:`Weak` array computes with a floating array in that array's dtype
  (casting itself first), stays weak with Python numbers and other weak
  scalars (``1 - b1``), and gives float32 with integer arrays (``b1 ** step``),
  exactly as the Python float does.
- **Python comparisons.** Some optimizers branch on hyperparameters
  (``if self.momentum <= 0``). A :class:`Hyper` answers such comparisons
  from the range of values its schedule takes, sampled at construction, so
  they never force an evaluation inside ``mx.compile``.
"""

from __future__ import annotations

import math
import operator
from collections.abc import Callable, Iterator, Mapping
from typing import Any, NamedTuple

import mlx.core as mx
import mlx.optimizers as optim

from ._native import value_range
from ._schedule import Schedule
from ._state import RESERVED
from ._validate import check_real, is_number, plain

Spec = Schedule | float | tuple[Schedule | float, ...]
"""A hyperparameter's checked value: a schedule, a number, or a tuple of those."""


def _weak(name: str) -> Callable[[Any, Any], Any]:
    """The binary operator ``name`` of ``mx.array`` with the typing of a Python float on the weak side."""
    base = getattr(mx.array, name)

    def method(self: Weak, other: Any) -> Any:
        if isinstance(other, Weak) or (isinstance(other, (int, float)) and not isinstance(other, bool)):
            return Weak(base(self, other))
        if isinstance(other, mx.array) and mx.issubdtype(other.dtype, mx.floating) and other.dtype != self.dtype:
            return base(self.astype(other.dtype), other)
        return base(self, other)

    method.__name__ = name
    return method


class Weak(mx.array):
    """A float32 scalar array that types like a Python float in arithmetic (see the module's docstring)."""

    __add__ = _weak("__add__")
    __radd__ = _weak("__radd__")
    __sub__ = _weak("__sub__")
    __rsub__ = _weak("__rsub__")
    __mul__ = _weak("__mul__")
    __rmul__ = _weak("__rmul__")
    __truediv__ = _weak("__truediv__")
    __rtruediv__ = _weak("__rtruediv__")
    __pow__ = _weak("__pow__")
    __rpow__ = _weak("__rpow__")

    def __neg__(self) -> Weak:
        return Weak(mx.negative(self))


class Range(NamedTuple):
    """The values a scheduled hyperparameter takes: what its Python comparisons are answered from."""

    name: str
    lo: float
    hi: float

    @classmethod
    def of(cls, name: str, schedule: Schedule) -> Range:
        """The range of ``schedule``'s values, sampled on the host (at construction)."""
        return cls(name, *value_range(schedule))


def _static(
    op: Callable[[float, float], bool], symbol: str, elementwise: Callable[[Any, Any], Any]
) -> Callable[[Any, Any], Any]:
    """A comparison answered from the schedule's range for numbers, elementwise for arrays."""

    def compare(self: Hyper, other: Any) -> Any:
        result = self.decide(op, symbol, other)
        return elementwise(self, other) if result is NotImplemented else result

    return compare


class Hyper(Weak):
    """A scheduled hyperparameter during an update: a weak scalar whose Python comparisons are static."""

    range: Range

    @classmethod
    def of(cls, value: mx.array, values: Range) -> Hyper:
        """``value`` (the hyperparameter at this step) with the range its schedule takes."""
        hyper = cls(value)
        hyper.range = values
        return hyper

    def decide(self, op: Callable[[float, float], bool], symbol: str, other: object) -> Any:
        """``self <op> other`` for a Python number, if every value of the range gives the same answer."""
        if isinstance(other, bool) or not isinstance(other, (int, float)):
            return NotImplemented
        name, lo, hi = self.range
        value = float(other)
        at_lo, at_hi = op(lo, value), op(hi, value)
        inside = lo < value < hi
        if at_lo == at_hi and not (symbol in ("==", "!=") and inside):
            return at_lo
        if value == 0.0 and (lo == 0.0 or hi == 0.0):
            return at_hi if lo == 0.0 else at_lo
        raise ValueError(
            f"the optimizer branches in Python on '{name} {symbol} {other!r}', but the schedule for "
            f"{name} takes values from {lo:g} to {hi:g}, on both sides of that test; "
            "keep the schedule on one side of it"
        )

    __lt__ = _static(operator.lt, "<", mx.array.__lt__)
    __le__ = _static(operator.le, "<=", mx.array.__le__)
    __gt__ = _static(operator.gt, ">", mx.array.__gt__)
    __ge__ = _static(operator.ge, ">=", mx.array.__ge__)
    __eq__ = _static(operator.eq, "==", mx.array.__eq__)
    __ne__ = _static(operator.ne, "!=", mx.array.__ne__)
    __hash__ = None  # type: ignore[assignment]

    def __bool__(self) -> bool:
        return bool(self.decide(operator.ne, "!=", 0))

    def _frozen(self, *_: Any) -> Any:
        raise TypeError(
            f"the optimizer converts the scheduled {self.range.name} to a Python number, which would freeze it "
            "in a compiled step; this hyperparameter cannot be scheduled"
        )

    __float__ = __int__ = __index__ = item = tolist = _frozen


Part = Range | float
"""A part of a hyperparameter: the range of a scheduled value, or a number as it is."""


def attribute(value: mx.array | list[mx.array] | float, parts: tuple[Part, ...]) -> Any:
    """The attribute the wrapped optimizer sees: a :class:`Hyper` per scheduled part, numbers as they were.

    ``value`` is the hyperparameter's value at this step (a list for a tuple
    hyperparameter, a number for a number).
    """
    values = value if isinstance(value, list) else [value]
    made = tuple(
        Hyper.of(v, p) if isinstance(p, Range) and isinstance(v, mx.array) else p for v, p in zip(values, parts)
    )
    return made if isinstance(value, list) else made[0]


# Which names, checked. -----------------------------------------------------------


def leaf_optimizers(optimizer: optim.Optimizer) -> Iterator[optim.Optimizer]:
    if isinstance(optimizer, optim.MultiOptimizer):
        for inner in optimizer.optimizers:
            yield from leaf_optimizers(inner)
    else:
        yield optimizer


def schedulable(targets: list[optim.Optimizer]) -> dict[str, int | None]:
    """Schedulable names: ``learning_rate`` and numeric attributes, with the tuple length (or ``None``)."""
    names: dict[str, int | None] = {}
    for target in targets:
        if "learning_rate" in target.state:
            names["learning_rate"] = None
        for name, value in vars(target).items():
            if name.startswith("_"):
                continue
            if is_number(value):
                names[name] = None
            elif isinstance(value, (tuple, list)) and value and all(is_number(v) for v in value):
                names[name] = len(value)
    return names


def check_groups(
    groups: object, available: dict[str, int | None], targets: list[optim.Optimizer]
) -> list[tuple[str, dict[str, Spec]]]:
    """``groups`` as a list of ``(pattern, overrides)``, every override checked as a scheduled name is."""
    if groups is None:
        return []
    if not isinstance(groups, Mapping):
        raise TypeError(f"groups must map glob patterns to {{name: value}}, got {groups!r} ({type(groups).__name__})")
    checked: list[tuple[str, dict[str, Spec]]] = []
    for pattern, overrides in groups.items():
        if not isinstance(pattern, str) or not pattern:
            raise TypeError(f"groups keys must be glob patterns over parameter paths, got {pattern!r}")
        if not isinstance(overrides, Mapping) or not overrides:
            raise TypeError(f"groups[{pattern!r}] must map hyperparameter names to values, got {overrides!r}")
        checked.append(
            (pattern, {name: check_spec(name, spec, available, targets) for name, spec in overrides.items()})
        )
    return checked


def check_spec(name: str, spec: object, available: dict[str, int | None], targets: list[optim.Optimizer]) -> Spec:
    kind = type(targets[0]).__name__ if len(targets) == 1 else "the wrapped optimizers"
    if name in RESERVED:
        raise ValueError(f"{name!r} cannot be scheduled: it is a key of ScheduledOptimizer.state")
    if name == "learning_rate" and any(isinstance(t, optim.Adafactor) and t.relative_step for t in targets):
        raise ValueError(
            "learning_rate cannot be scheduled for Adafactor with relative_step=True, which ignores it; "
            "construct Adafactor(learning_rate=..., relative_step=False)"
        )
    for target in targets:
        if name in target._schedulers:
            raise ValueError(
                f"{name} is already scheduled by {type(target).__name__} itself; construct it with a number "
                f"for {name} and schedule it here only"
            )
    if name not in available:
        if any(getattr(t, name, 0) is None for t in targets):
            raise ValueError(f"{name} is None in {kind}; construct it with a number to schedule it")
        raise ValueError(
            f"{name!r} is not a schedulable hyperparameter of {kind}; schedulable: {', '.join(sorted(available))}"
        )
    length = available[name]
    if length is None:
        return _check_part(name, spec)
    if isinstance(spec, list):
        spec = tuple(spec)
    if not isinstance(spec, tuple) or len(spec) != length:
        raise TypeError(f"{name} must be a tuple of {length} schedules or numbers, got {spec!r}")
    return tuple(_check_part(f"{name}[{i}]", p) for i, p in enumerate(spec))


def _check_part(name: str, part: object) -> Schedule | float:
    if isinstance(part, Schedule):
        return part
    number = plain(part)  # NumPy and MLX scalars are numbers: np.float32(0.9), a 0-d mx.array
    if is_number(number):
        if not math.isfinite(number):
            raise ValueError(f"{name} must be finite, got {part!r}")
        return check_real(name, number)  # and within float32's range
    hint = " (wrap a callable in mlxlr.Lambda)" if callable(part) else ""
    raise TypeError(f"{name} must be a Schedule or a number, got {part!r} ({type(part).__name__}){hint}")
