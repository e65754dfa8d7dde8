"""Scheduled hyperparameters as the wrapped optimizer sees them during an update.

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

import operator
from collections.abc import Callable
from typing import Any, NamedTuple

import mlx.core as mx

from ._native import value_range
from ._schedule import Schedule


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
