"""Combinators: what ``Schedule.with_warmup``, ``clip``, ``repeat``, ``stretch``, ``for_steps`` and ``cooldown`` build.

Each wraps one schedule and prints as the method call that built it
(``Linear(...).clip(hi=0.5)``), so the expression reads back as it was written.
"""

from __future__ import annotations

from fractions import Fraction
from typing import final

import mlx.core as mx
from typing_extensions import override

from ._native import Native, evaluate
from ._schedule import Schedule, require_schedule
from ._steps import MAX_STEP, SHAPES, as_step, decay, host_float, remaining, since
from ._units import Unit
from ._validate import check_choice, check_int, check_positive, check_real


def _bounded(schedule: Schedule, method: str) -> int:
    duration = schedule.duration
    if duration is None:
        raise ValueError(
            f"{method} needs a schedule with a duration, got the unbounded {schedule!r}; give it one with .for_steps(n)"
        )
    return check_int(f"{method}: the duration of {schedule!r}", duration)  # a user's duration, checked


@final
class WithWarmup(Native):
    r"""A linear warmup from ``init`` to a schedule's value at its step 0, then the schedule.

    .. math::
        v(t) = \begin{cases}
            \text{init} + (s(0) - \text{init})\, t / W & t < W \\
            s(t - W) & t \ge W
        \end{cases}

    The schedule starts from its own step 0 when the warmup ends (no repeated
    peak, no late start: mlx-lm's ``warmup + 1`` join is not reproduced here).
    Built by :meth:`Schedule.with_warmup`; its duration is ``W`` plus the
    schedule's (``None`` for an unbounded schedule).

    Args:
        schedule: The schedule to warm up into; its value at step 0 is read once.
        steps: The warmup's length ``W`` in steps.
        init: The value at step 0.

    Example:
        >>> import mlxlr
        >>> s = mlxlr.CosineDecay(1.0, decay_steps=100).with_warmup(10)
        >>> s
        CosineDecay(init=1.0, decay_steps=100).with_warmup(10)
        >>> print(f"{s.at(0):.2f} {s.at(5):.2f} {s.at(10):.2f} {s.at(60):.2f} {s.duration}")
        0.00 0.50 1.00 0.50 110
    """

    _method = ("with_warmup", ("steps",))
    _durations = ("steps",)

    def __init__(self, schedule: Schedule, steps: int | Unit, init: float = 0.0) -> None:
        self.schedule = require_schedule(schedule)
        self.steps = check_int("steps", steps)
        self.init = check_real("init", init)
        self._peak = host_float(evaluate(self.schedule, mx.array(0, dtype=mx.int64)))

    @property
    @override
    def duration(self) -> int | None:
        inner = self.schedule.duration
        return None if inner is None else self.steps + inner

    @override
    def formula(self, t: mx.array, start: int = 0) -> mx.array:
        x = since(t, start)
        done, left = remaining(x, self.steps)  # init * (1 - p) + peak * p, with both fractions exact
        warm = self.init * left + self._peak * done
        return mx.where(x < self.steps, warm, evaluate(self.schedule, x, self.steps))


@final
class Clip(Native):
    """A schedule clipped to ``[lo, hi]`` pointwise; either bound may be left out.

    Built by :meth:`Schedule.clip`.

    Args:
        schedule: The schedule to clip.
        lo: The smallest value, or ``None`` for no floor.
        hi: The largest value, or ``None`` for no cap.

    Example:
        >>> import mlxlr
        >>> s = mlxlr.Linear(0.0, 1.0, steps=10).clip(lo=0.2, hi=0.5)
        >>> s
        Linear(init=0.0, end=1.0, steps=10).clip(lo=0.2, hi=0.5)
        >>> print(" ".join(f"{v:.1f}" for v in s.values().tolist()[::2]))
        0.2 0.2 0.4 0.5 0.5 0.5
    """

    _method = ("clip", ())

    def __init__(self, schedule: Schedule, lo: float | None = None, hi: float | None = None) -> None:
        self.schedule = require_schedule(schedule)
        self.lo = None if lo is None else check_real("lo", lo)
        self.hi = None if hi is None else check_real("hi", hi)
        if self.lo is None and self.hi is None:
            raise ValueError("clip needs lo, hi or both, got lo=None and hi=None")
        if self.lo is not None and self.hi is not None and self.lo > self.hi:
            raise ValueError(f"lo must not exceed hi, got lo={lo!r} and hi={hi!r}")

    @property
    @override
    def duration(self) -> int | None:
        return self.schedule.duration

    @override
    def formula(self, t: mx.array, start: int = 0) -> mx.array:
        out = evaluate(self.schedule, since(t, start))
        if self.lo is not None:
            out = mx.maximum(out, self.lo)
        if self.hi is not None:
            out = mx.minimum(out, self.hi)
        return out


@final
class Repeat(Native):
    r"""A bounded schedule run again and again: ``times`` times, or forever.

    .. math::
        v(t) = s(t \bmod D) \quad (t < \text{times} \cdot D), \qquad v(t) = s(D) \text{ after}

    where ``D`` is the schedule's duration. Each run covers steps ``0 .. D - 1``
    of the schedule (its final value, at ``D``, is where the next run
    restarts); after the last run it holds its final value. Built by
    :meth:`Schedule.repeat`; ``times=None`` repeats forever (unbounded).

    Args:
        schedule: A schedule with a duration.
        times: How many runs, or ``None`` for no end.

    Example:
        >>> import mlxlr
        >>> s = mlxlr.Linear(1.0, 0.0, steps=4).repeat(2)
        >>> s
        Linear(init=1.0, end=0.0, steps=4).repeat(2)
        >>> s.values(10).tolist()
        [1.0, 0.75, 0.5, 0.25, 1.0, 0.75, 0.5, 0.25, 0.0, 0.0]
    """

    _method = ("repeat", ("times",))

    def __init__(self, schedule: Schedule, times: int | None = None) -> None:
        self.schedule = require_schedule(schedule)
        self.times = None if times is None else check_int("times", times)
        self._period = _bounded(self.schedule, "repeat")
        if self.times is not None and self.times * self._period > MAX_STEP:
            raise ValueError(
                f"times * the schedule's duration must be at most 2**60, got {self.times} * {self._period}; "
                "repeat forever with times=None"
            )

    @property
    @override
    def duration(self) -> int | None:
        return None if self.times is None else self.times * self._period

    @override
    def formula(self, t: mx.array, start: int = 0) -> mx.array:
        x = since(t, start)
        phase = x % self._period
        if self.times is not None:
            phase = mx.where(x < self.times * self._period, phase, self._period)
        return evaluate(self.schedule, phase)


@final
class Stretch(Native):
    r"""A schedule on a scaled time axis: ``factor`` steps of this one per step of the schedule.

    .. math::
        v(t) = s(\lfloor t / \text{factor} \rfloor)

    ``factor = 2`` makes every phase twice as long, ``0.5`` half as long (like
    Composer's scale-schedule ratio). The factor is read as the simplest
    fraction ``p / q`` that is the same float (``1.5`` as 3/2, ``0.1`` as
    1/10, ``1/3`` as 1/3) and ``floor(t * q / p)`` is computed in integers, so
    it is exact at every step. Built by :meth:`Schedule.stretch`; the duration
    is ``ceil(duration * factor)``.

    Args:
        schedule: The schedule to stretch.
        factor: The ratio of new steps to old steps, in ``[2**-30, 2**30]``.

    Example:
        >>> import mlxlr
        >>> s = mlxlr.Linear(0.0, 1.0, steps=4).stretch(2)
        >>> s
        Linear(init=0.0, end=1.0, steps=4).stretch(2)
        >>> s.values().tolist()
        [0.0, 0.0, 0.25, 0.25, 0.5, 0.5, 0.75, 0.75, 1.0]
    """

    _method = ("stretch", ("factor",))

    def __init__(self, schedule: Schedule, factor: float) -> None:
        self.schedule = require_schedule(schedule)
        self.factor = check_positive("factor", factor)
        if not 2.0**-30 <= self.factor <= 2.0**30:
            raise ValueError(f"factor must be in [2**-30, 2**30], got {factor!r}")
        self._p, self._q = _ratio(self.factor)

    @property
    @override
    def duration(self) -> int | None:
        inner = self.schedule.duration
        return None if inner is None else -(-inner * self._p // self._q)

    @override
    def formula(self, t: mx.array, start: int = 0) -> mx.array:
        x = since(t, start)
        whole = x // self._p  # floor(x * q / p) without overflow: whole periods of p, then the rest
        part = x - whole * self._p
        k = mx.minimum(whole, MAX_STEP // self._q) * self._q + (part * self._q) // self._p
        return evaluate(self.schedule, mx.minimum(k, MAX_STEP))


def _ratio(factor: float) -> tuple[int, int]:
    """The simplest fraction ``p / q`` that rounds to ``factor``, with ``p * q < 2**62``."""
    exact = Fraction(factor)
    best = exact.limit_denominator(1)
    for bits in range(1, 63):
        candidate = exact.limit_denominator(2**bits)
        if candidate.numerator * candidate.denominator >= 2**62:
            break
        best = candidate
        if float(candidate) == factor:
            break
    if best.numerator == 0:  # unreachable for factor >= 2**-30; kept as a guard
        best = Fraction(1, best.denominator)
    return best.numerator, best.denominator


@final
class ForSteps(Native):
    """A schedule given a duration of ``n`` steps: it holds its value at step ``n`` after.

    The way to put a schedule without a duration (a :class:`~mlxlr.Constant`,
    a periodic schedule) on the left of ``>>``, or to cut a bounded one short.
    Built by :meth:`Schedule.for_steps`.

    Args:
        schedule: Any schedule.
        n: The duration in steps.

    Example:
        >>> import mlxlr
        >>> s = mlxlr.Constant(0.5).for_steps(3) >> mlxlr.Constant(1.0)
        >>> s
        Constant(value=0.5).for_steps(3) >> Constant(value=1.0)
        >>> s.values(5).tolist()
        [0.5, 0.5, 0.5, 1.0, 1.0]
    """

    _method = ("for_steps", ("n",))
    _durations = ("n",)

    def __init__(self, schedule: Schedule, n: int | Unit) -> None:
        self.schedule = require_schedule(schedule)
        self.n = check_int("n", n)

    @property
    @override
    def duration(self) -> int:
        return self.n

    @override
    def formula(self, t: mx.array, start: int = 0) -> mx.array:
        return evaluate(self.schedule, mx.minimum(since(t, start), self.n))


@final
class Cooldown(Native):
    r"""A schedule until step ``at``, then a decay from its value there to ``end`` over ``steps`` steps.

    With ``A = at``, ``S = steps``, ``v_A = s(A)`` and ``p = min(t - A, S) / S``:

    .. math::
        v(t) = \begin{cases}
            s(t) & t < A \\
            \text{end} + (v_A - \text{end})\, f(p) & t \ge A
        \end{cases}
        \qquad f(p) = 1 - p, \;\; \tfrac12 (1 + \cos \pi p), \;\; 1 - \sqrt{p}

    for ``shape`` ``"linear"``, ``"cosine"`` or ``"1-sqrt"``: the cooldown of a
    warmup-stable-decay run, started from any step of any schedule (a
    checkpoint of a constant or a cosine run, say; transformers #35453,
    OLMo-core #419). ``s(A)`` is read once, at construction; ``end`` holds
    from step ``A + S`` on, which is the duration. Since a
    :class:`~mlxlr.ScheduledOptimizer` keeps only the step in its state, a
    run resumed with ``schedule.cooldown(...)`` in place of ``schedule``
    follows the new schedule from the resumed step (``docs/units.md``).
    Built by :meth:`Schedule.cooldown`; ``at`` and ``steps`` take units.

    Args:
        schedule: The schedule to follow until ``at``.
        at: The step where the cooldown starts (0: at once).
        steps: The cooldown's length in steps.
        shape: ``"linear"``, ``"cosine"`` or ``"1-sqrt"``.
        end: The value at the end of the cooldown, and after.

    Example:
        >>> import mlxlr
        >>> s = mlxlr.Constant(1.0).cooldown(80, 20, shape="1-sqrt")
        >>> s
        Constant(value=1.0).cooldown(80, 20, shape='1-sqrt')
        >>> print(f"{s.at(79):.2f} {s.at(80):.2f} {s.at(85):.2f} {s.at(100):.2f} {s.duration}")
        1.00 1.00 0.50 0.00 100
    """

    _method = ("cooldown", ("at", "steps"))
    _durations = ("at", "steps")

    def __init__(
        self, schedule: Schedule, at: int | Unit, steps: int | Unit, shape: str = "linear", end: float = 0.0
    ) -> None:
        self.schedule = require_schedule(schedule)
        self.at_step = check_int("at", at, minimum=0)  # not `at`: that is Schedule.at
        self.steps = check_int("steps", steps)
        self.shape = check_choice("shape", shape, SHAPES)
        self.end = check_real("end", end)
        self._start = host_float(evaluate(self.schedule, as_step(self.at_step)))

    @property
    @override
    def duration(self) -> int:
        return self.at_step + self.steps

    @override
    def formula(self, t: mx.array, start: int = 0) -> mx.array:
        x = since(t, start)
        done, left = remaining(since(x, self.at_step), self.steps)
        out = decay(self.shape, self._start, self.end, done, left)
        if self.at_step == 0:
            return out
        return mx.where(x < self.at_step, evaluate(self.schedule, x), out)


__all__ = ["Clip", "Cooldown", "ForSteps", "Repeat", "Stretch", "WithWarmup"]
