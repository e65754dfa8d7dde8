"""mlxlr's own schedules: the abstract :class:`Native` base, :class:`Constant` and :class:`Lambda`.

A native schedule is a formula of the normalized ``int64`` step
(:meth:`Native.formula`); ``__call__`` normalizes the step once and
combinators pass it on to their children's formulas. :func:`evaluate` is
how any code above evaluates any schedule, native or a user's.
"""

from __future__ import annotations

import abc
import math
from collections.abc import Callable
from typing import ClassVar, final

import mlx.core as mx
from typing_extensions import override

from ._contract import called, graph_only
from ._schedule import Schedule
from ._steps import MAX_STEP, StepLike, arange, as_step, host_float, since
from ._units import Unit
from ._validate import check_int, check_real


class Native(Schedule):
    """The base of mlxlr's own schedules: a constructor, a ``duration`` and a :meth:`formula`.

    A family validates and stores its arguments in ``__init__``, says how
    long it lasts in ``duration`` (leave the default ``None`` when it never
    settles) and computes its value in ``formula``; the base turns the step
    into the normalized ``int64`` step the formula takes. ``docs/contributing.md``
    walks through adding one.
    """

    _step_only = True
    _stackable: ClassVar[bool] = False
    """Whether a join may evaluate many pieces of this class at once (``mlxlr._stacking``)."""

    @override
    def __call__(self, step: StepLike) -> mx.array:
        return self.formula(as_step(step))  # families write formula; only _stacking.Stackable overrides this

    @abc.abstractmethod
    def formula(self, t: mx.array, start: int = 0) -> mx.array:
        """The value at the local step ``t - start``, a float32 array of ``t``'s shape.

        ``t`` is a normalized step (``int64``, in ``[0, 2**60]``); ``start`` is
        where this schedule starts inside a join or an optimizer. Most
        formulas begin with ``x = since(t, start)``, the local step. Where
        ``t < start`` (a join's branch that is not selected) the value is
        unused but must be finite. Forming the local step inside the formula
        lets a family save an operation on the way from the step to the value
        (see :class:`~mlxlr.CosineDecay`), which keeps a compiled join within
        the depth MLX fuses into one kernel.

        Arithmetic between two parameters belongs in ``__init__`` (in float64,
        rounded once), not here: a join evaluates many pieces of a family at
        once by calling this same formula with each numeric attribute replaced
        by an array of the pieces' values (``mlxlr._stacking``).
        """

    @override
    def _span(self, start: int, count: int) -> mx.array:
        return self.formula(arange(start, count))


def evaluate(schedule: Schedule, t: mx.array, start: int = 0) -> mx.array:
    """Any schedule at the local step ``t - start`` of a normalized step ``t``: a float32 array of ``t``'s shape.

    A native schedule runs its formula; a user's schedule is called with the
    local step and its result checked (:func:`mlxlr._contract.called`): a
    float32 array of ``t``'s shape, or a ``TypeError`` that names its class.
    """
    if isinstance(schedule, Native):
        return schedule.formula(t, start)
    return called(schedule, since(t, start))


@final
class Constant(Native):
    """The same value at every step.

    A constant has no duration of its own (``Constant(1) >> s`` is an error:
    use ``Constant(1).for_steps(n) >> s``), but in sums and products it never
    extends the duration of the other side.

    Args:
        value: The value.

    Example:
        >>> import mlxlr
        >>> print(mlxlr.Constant(3e-4).at(10**9))
        0.0003000000142492354
    """

    _stackable = True

    def __init__(self, value: float) -> None:
        self.value = check_real("value", value)

    @override
    def formula(self, t: mx.array, start: int = 0) -> mx.array:
        if t.ndim == 0:
            return mx.array(self.value, dtype=mx.float32)  # a constant: a compiled kernel inlines it
        return mx.broadcast_to(self.value, t.shape)  # (stacked in a join, value is an array: t is never a scalar)


@final
class Lambda(Native):
    """Any callable ``step -> array`` as a schedule, MLX's schedule closures included.

    The callable receives the step as an ``int64`` array (never negative) and
    its result is cast to float32 and broadcast to the step's shape. It must
    follow the rules of :class:`Schedule`: graph operations only.

    Args:
        fn: The callable.
        duration: Its duration as the left side of ``>>`` (``None``: unbounded).

    Example:
        >>> import mlx.optimizers as optim
        >>> import mlxlr
        >>> s = mlxlr.Lambda(optim.linear_schedule(0.0, 1.0, 10), duration=10)
        >>> print(f"{s.at(5):.2f}")
        0.50
    """

    _step_only = False  # the callable may read any array, a traced one inside mx.compile included
    _durations = ("duration",)

    def __init__(self, fn: Callable[[mx.array], mx.array], duration: int | Unit | None = None) -> None:
        if not callable(fn) or isinstance(fn, type):
            raise TypeError(f"fn must be a callable step -> array, got {fn!r}")
        self.fn = fn
        self._duration = None if duration is None else check_int("duration", duration)

    @property
    @override
    def duration(self) -> int | None:
        return self._duration

    @override
    def formula(self, t: mx.array, start: int = 0) -> mx.array:
        x = since(t, start)
        try:
            out = self.fn(x)
        except ValueError as error:
            raise graph_only(error, f"Lambda(fn={self.fn!r}): fn") from None
        if not isinstance(out, mx.array):
            try:
                out = mx.array(out)
            except (TypeError, ValueError) as error:
                raise TypeError(
                    f"fn must return an mx.array or a number, got {out!r} ({type(out).__name__})"
                ) from error
        out = out.astype(mx.float32)
        return out if out.shape == x.shape else mx.broadcast_to(out, x.shape)


def as_schedule(value: object, name: str = "schedule") -> Schedule:
    """A :class:`Schedule` for a schedule, a number (a :class:`Constant`) or a callable (a :class:`Lambda`)."""
    if isinstance(value, Schedule):
        return value
    if isinstance(value, bool):
        raise TypeError(f"{name} must be a Schedule, a number or a callable, got {value!r} (bool)")
    if isinstance(value, (int, float)):
        return Constant(value)
    if callable(value):
        return Lambda(value)
    raise TypeError(f"{name} must be a Schedule, a number or a callable, got {value!r} ({type(value).__name__})")


def value_range(schedule: Schedule) -> tuple[float, float]:
    """The smallest and largest value ``schedule`` takes, sampled on the host (at construction only).

    Every step of the whole duration when it is shorter than 2**18; else
    every step of the first 2**16, a geometric sweep and an even sweep beyond,
    and the end (the duration, or 2**53).
    """
    duration = schedule.duration
    if duration is not None and duration < 2**18:
        steps = arange(0, duration + 1)
    else:
        far = duration if duration is not None else 2**53
        dense = arange(0, 2**16)
        sweep = mx.exp(mx.linspace(16 * 0.6931471805599453, _log(far), 4096)).astype(mx.int64)
        tail = mx.linspace(0, far, 4096).astype(mx.int64)
        steps = mx.concatenate([dense, sweep, tail, mx.array([far], dtype=mx.int64)])
    values = evaluate(schedule, mx.clip(steps, 0, MAX_STEP))
    return host_float(values.min()), host_float(values.max())


def _log(value: int) -> float:
    return math.log(max(value, 2**16))


__all__ = ["Constant", "Lambda"]
