"""Scheduled hyperparameters as the wrapped optimizer sees them during an update.

MLX's optimizers read hyperparameters as Python attributes and some branch
on them in Python (``if self.momentum <= 0``). A scheduled attribute is an
``mx.array`` (so a compiled step follows the schedule), which would force an
evaluation inside ``mx.compile``: :class:`Hyper` answers such comparisons
from the range of values its schedule takes, sampled at construction.
"""

from __future__ import annotations

import operator
from collections.abc import Callable
from typing import Any

import mlx.core as mx

from ._native import value_range
from ._schedule import Schedule


def _static(
    op: Callable[[float, float], bool], symbol: str, elementwise: Callable[[Any, Any], Any]
) -> Callable[[Any, Any], Any]:
    """A comparison answered from the schedule's range for numbers, elementwise for arrays."""

    def compare(self: Hyper, other: Any) -> Any:
        result = self._decide(op, symbol, other)
        return elementwise(self, other) if result is NotImplemented else result

    return compare


class Hyper(mx.array):
    """A scheduled hyperparameter during an update: an array whose Python comparisons are static."""

    name: str = ""
    lo: float = 0.0
    hi: float = 0.0

    def _decide(self, op: Callable[[float, float], bool], symbol: str, other: object) -> Any:
        if isinstance(other, bool) or not isinstance(other, (int, float)):
            return NotImplemented
        value = float(other)
        at_lo, at_hi = op(self.lo, value), op(self.hi, value)
        inside = self.lo < value < self.hi
        if at_lo == at_hi and not (symbol in ("==", "!=") and inside):
            return at_lo
        if value == 0.0 and (self.lo == 0.0 or self.hi == 0.0):
            return at_hi if self.lo == 0.0 else at_lo
        raise ValueError(
            f"the optimizer branches in Python on '{self.name} {symbol} {other!r}', but the schedule for "
            f"{self.name} takes values from {self.lo:g} to {self.hi:g}, on both sides of that test; "
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
        return bool(self._decide(operator.ne, "!=", 0))

    def _frozen(self, *_: Any) -> Any:
        raise TypeError(
            f"the optimizer converts the scheduled {self.name} to a Python number, which would freeze it "
            "in a compiled step; this hyperparameter cannot be scheduled"
        )

    __float__ = __int__ = __index__ = item = tolist = _frozen


def hyper_type(name: str, schedule: Schedule) -> type[Hyper]:
    lo, hi = value_range(schedule)
    return type("Hyper", (Hyper,), {"name": name, "lo": lo, "hi": hi})


def attribute(value: mx.array | list[mx.array], kinds: tuple[type[Hyper] | float, ...]) -> Any:
    """The attribute the wrapped optimizer sees: a :class:`Hyper` per scheduled part, numbers as they were."""
    parts = value if isinstance(value, list) else [value]
    made = tuple(kind(v) if isinstance(kind, type) else kind for v, kind in zip(parts, kinds))
    return made if isinstance(value, list) else made[0]
