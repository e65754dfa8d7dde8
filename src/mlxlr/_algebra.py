"""The algebra of schedules: sums, products, scales, quotients and joins.

Every operator of :class:`~mlxlr.Schedule` ends here. The builders fold what
can be folded (``2 * (3 * s)`` is one :class:`Scaled`, ``a >> b >> c`` one
:class:`Join`), so a schedule tree stays as shallow as the expression allows.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, final

import mlx.core as mx
from typing_extensions import override

from ._checks import MAX_STEP, StepLike, as_step, check_int, host_float, since
from ._schedule import PREC_ATOM, PREC_JOIN, PREC_PRODUCT, PREC_SUM, PREC_UNARY, Schedule, as_schedule


class Builtin(Schedule):
    """A schedule of mlxlr's own: evaluated on a normalized ``int64`` step.

    ``__call__`` normalizes the step once; combinators pass the normalized
    step straight to their children's ``_eval``.
    """

    @override
    def __call__(self, step: StepLike) -> mx.array:
        return self._eval(as_step(step))

    def _eval(self, t: mx.array) -> mx.array:
        raise NotImplementedError


def evaluate(schedule: Schedule, t: mx.array) -> mx.array:
    """Evaluates any schedule on a normalized step; user schedules are cast to float32."""
    if isinstance(schedule, Builtin):
        return schedule._eval(t)
    out = schedule(t)
    if not isinstance(out, mx.array):
        out = mx.array(out)
    if out.dtype != mx.float32:
        out = out.astype(mx.float32)
    return out if out.shape == t.shape else mx.broadcast_to(out, t.shape)


def settles(schedule: Schedule) -> int | None:
    """The step after which ``schedule`` stays constant (0 for a constant); ``None`` if never."""
    from ._families import Constant

    return 0 if isinstance(schedule, Constant) else schedule.duration


def combined_duration(parts: Sequence[Schedule]) -> int | None:
    """The duration of a pointwise combination: when its last bounded part settles."""
    ends = [settles(p) for p in parts]
    if any(e is None for e in ends):
        return None
    end = max(e for e in ends if e is not None)
    return end or None


def paren(schedule: Schedule, precedence: int) -> str:
    text = repr(schedule)
    return text if schedule._precedence >= precedence else f"({text})"


def number(value: float) -> str:
    """A number as the expression language writes it (``2`` for ``2.0``)."""
    if value.is_integer() and abs(value) < 1e15:
        return str(int(value))
    return repr(value)


def _constant_value(schedule: Schedule) -> float | None:
    from ._families import Constant

    return float(schedule.params["value"]) if isinstance(schedule, Constant) else None


@final
class Sum(Builtin):
    """The pointwise sum of schedules (what ``a + b`` and ``a - b`` build)."""

    _precedence = PREC_SUM

    def __init__(self, *terms: Schedule) -> None:
        if len(terms) < 2 or not all(isinstance(t, Schedule) for t in terms):
            raise TypeError(f"terms must be two or more schedules, got {terms!r}")
        self.terms = terms

    @property
    @override
    def duration(self) -> int | None:
        return combined_duration(self.terms)

    @override
    def _eval(self, t: mx.array) -> mx.array:
        out = evaluate(self.terms[0], t)
        for term in self.terms[1:]:
            out = out + evaluate(term, t)
        return out

    @override
    def __repr__(self) -> str:
        text = paren(self.terms[0], PREC_SUM)
        for term in self.terms[1:]:
            value = _constant_value(term)
            if value is not None:
                text += f" - {number(-value)}" if value < 0 else f" + {number(value)}"
            elif isinstance(term, Scaled) and term.factor < 0:
                text += f" - {paren(scale(term.schedule, -term.factor), PREC_SUM + 1)}"
            else:
                text += f" + {paren(term, PREC_SUM + 1)}"
        return text


@final
class Product(Builtin):
    """The pointwise product of schedules (what ``a * b`` builds for two schedules)."""

    _precedence = PREC_PRODUCT

    def __init__(self, *factors: Schedule) -> None:
        if len(factors) < 2 or not all(isinstance(f, Schedule) for f in factors):
            raise TypeError(f"factors must be two or more schedules, got {factors!r}")
        self.factors = factors

    @property
    @override
    def duration(self) -> int | None:
        return combined_duration(self.factors)

    @override
    def _eval(self, t: mx.array) -> mx.array:
        out = evaluate(self.factors[0], t)
        for factor in self.factors[1:]:
            out = out * evaluate(factor, t)
        return out

    @override
    def __repr__(self) -> str:
        first, *rest = self.factors
        return " * ".join([paren(first, PREC_PRODUCT), *(paren(f, PREC_PRODUCT + 1) for f in rest)])


@final
class Scaled(Builtin):
    """A schedule times a number (what ``2 * s``, ``s / 4`` and ``-s`` build)."""

    def __init__(self, schedule: Schedule, factor: float) -> None:
        if not isinstance(schedule, Schedule):
            raise TypeError(f"schedule must be a Schedule, got {schedule!r}")
        self.schedule = schedule
        self.factor = float(factor)
        self._precedence = PREC_UNARY if self.factor == -1.0 else PREC_PRODUCT

    @property
    @override
    def duration(self) -> int | None:
        return self.schedule.duration

    @override
    def _eval(self, t: mx.array) -> mx.array:
        return evaluate(self.schedule, t) * self.factor

    @override
    def __repr__(self) -> str:
        if self.factor == -1.0:
            return f"-{paren(self.schedule, PREC_UNARY)}"
        return f"{number(self.factor)} * {paren(self.schedule, PREC_PRODUCT + 1)}"


@final
class Quotient(Builtin):
    """The pointwise quotient of two schedules (what ``a / b`` builds for a schedule ``b``).

    The denominator is sampled at construction; one that reaches zero or
    changes sign is refused, since the quotient would not be finite.
    """

    _precedence = PREC_PRODUCT

    def __init__(self, numerator: Schedule, denominator: Schedule) -> None:
        if not isinstance(numerator, Schedule) or not isinstance(denominator, Schedule):
            raise TypeError(f"numerator and denominator must be schedules, got {numerator!r} and {denominator!r}")
        lo, hi = value_range(denominator)
        if lo <= 0.0 <= hi:
            raise ValueError(f"denominator must not reach 0, got {denominator!r} with values from {lo:g} to {hi:g}")
        self.numerator = numerator
        self.denominator = denominator

    @property
    @override
    def duration(self) -> int | None:
        return combined_duration([self.numerator, self.denominator])

    @override
    def _eval(self, t: mx.array) -> mx.array:
        return evaluate(self.numerator, t) / evaluate(self.denominator, t)

    @override
    def __repr__(self) -> str:
        value = _constant_value(self.numerator)
        left = number(value) if value is not None else paren(self.numerator, PREC_PRODUCT)
        return f"{left} / {paren(self.denominator, PREC_PRODUCT + 1)}"


@final
class Join(Builtin):
    """Schedules run one after another: piece ``i`` runs from ``boundaries[i - 1]``.

    Piece ``i`` receives the steps since its start, beginning at 0, exactly
    as in MLX's ``join_schedules``; the switch happens *at* a boundary
    (``step >= boundary`` runs the next piece). ``a >> b`` builds a join at
    ``a.duration``, and chains of ``>>`` flatten into one join.

    Args:
        schedules: The pieces: schedules, numbers or callables ``step -> array``
            (MLX's schedule closures included).
        boundaries: ``len(schedules) - 1`` strictly increasing positive steps.

    Example:
        >>> import mlxlr
        >>> s = mlxlr.Join([mlxlr.Constant(1.0), mlxlr.Constant(2.0)], boundaries=[3])
        >>> s.values(5).tolist()
        [1.0, 1.0, 1.0, 2.0, 2.0]
    """

    def __init__(self, schedules: Sequence[Schedule | float | Callable[..., Any]], boundaries: Sequence[int]) -> None:
        if isinstance(schedules, (str, bytes)) or not isinstance(schedules, Sequence):
            raise TypeError(f"schedules must be a list, got {schedules!r}")
        if isinstance(boundaries, (str, bytes)) or not isinstance(boundaries, Sequence):
            raise TypeError(f"boundaries must be a list of ints, got {boundaries!r}")
        if len(schedules) == 0:
            raise ValueError("schedules must hold at least one schedule, got []")
        if len(boundaries) != len(schedules) - 1:
            raise ValueError(
                f"boundaries must hold len(schedules) - 1 = {len(schedules) - 1} steps, "
                f"got {len(boundaries)}: {list(boundaries)!r}"
            )
        bounds = [check_int(f"boundaries[{i}]", b) for i, b in enumerate(boundaries)]
        for i in range(1, len(bounds)):
            if bounds[i] <= bounds[i - 1]:
                raise ValueError(f"boundaries must increase strictly, got {bounds!r}")
        pieces = [as_schedule(s, f"schedules[{i}]") for i, s in enumerate(schedules)]
        self.schedules = tuple(pieces)
        self.boundaries = tuple(bounds)
        self._params = {"schedules": list(pieces), "boundaries": bounds}
        self._precedence = PREC_JOIN if self._chained() else PREC_ATOM

    @property
    @override
    def duration(self) -> int | None:
        last = self.schedules[-1].duration
        if last is None:
            return None
        return (self.boundaries[-1] if self.boundaries else 0) + last

    def _chained(self) -> bool:
        start = 0
        for piece, boundary in zip(self.schedules, self.boundaries):
            if piece.duration is None or start + piece.duration != boundary:
                return False
            start = boundary
        return len(self.schedules) > 1

    @override
    def _eval(self, t: mx.array) -> mx.array:
        out = evaluate(self.schedules[0], t)
        for boundary, piece in zip(self.boundaries, self.schedules[1:]):
            out = mx.where(t < boundary, out, evaluate(piece, since(t, boundary)))
        return out

    @override
    def __repr__(self) -> str:
        if self._precedence == PREC_JOIN:
            return " >> ".join(paren(p, PREC_JOIN + 1) for p in self.schedules)
        return super().__repr__()


# Builders: what the operators call. -----------------------------------------


def scale(value: Schedule | float, factor: float) -> Any:
    """``factor * value``, folded: numbers multiply, scales and constants combine."""
    from ._families import Constant

    if not isinstance(value, Schedule):
        return float(value) * factor
    factor = float(factor)
    if isinstance(value, Scaled):
        factor *= value.factor
        value = value.schedule
    constant = _constant_value(value)
    if constant is not None:
        return Constant(constant * factor)
    if factor == 1.0:
        return value
    if factor == 0.0:
        return Constant(0.0)
    return Scaled(value, factor)


def add(left: Schedule | float, right: Schedule | float) -> Schedule:
    """``left + right``, with sums flattened and numbers folded into one constant, last."""
    from ._families import Constant

    terms: list[Schedule] = []
    constants: list[float] = []
    for item in (left, right):
        for term in item.terms if isinstance(item, Sum) else (item,):
            value = _constant_value(term) if isinstance(term, Schedule) else float(term)
            if value is None:
                terms.append(term)  # type: ignore[arg-type]
            else:
                constants.append(value)
    if constants and (sum(constants) != 0.0 or not terms):
        terms.append(Constant(sum(constants)))
    return terms[0] if len(terms) == 1 else Sum(*terms)


def multiply(left: Schedule | float, right: Schedule | float) -> Schedule:
    """``left * right``: a number makes a :class:`Scaled`, two schedules a :class:`Product`."""
    if not isinstance(left, Schedule):
        return scale(right, float(left))  # type: ignore[no-any-return]
    if not isinstance(right, Schedule):
        return scale(left, float(right))  # type: ignore[no-any-return]
    factor = 1.0
    factors: list[Schedule] = []
    for item in (left, right):
        if isinstance(item, Scaled):
            factor *= item.factor
            item = item.schedule
        constant = _constant_value(item)
        if constant is not None:
            factor *= constant
            continue
        factors.extend(item.factors if isinstance(item, Product) else (item,))
    if not factors:
        from ._families import Constant

        return Constant(factor)
    product = factors[0] if len(factors) == 1 else Product(*factors)
    return scale(product, factor)  # type: ignore[no-any-return]


def divide(left: Schedule | float, right: Schedule | float) -> Schedule:
    """``left / right``: dividing by a number scales; by a schedule builds a :class:`Quotient`."""
    if not isinstance(right, Schedule):
        if right == 0:
            raise ValueError(f"cannot divide a schedule by 0, got {left!r} / {right!r}")
        return scale(left, 1.0 / float(right))  # type: ignore[no-any-return]
    return Quotient(as_schedule(left, "numerator"), right)


def join(left: Schedule, right: Schedule) -> Join:
    """``left >> right``: flattens both sides into one :class:`Join`."""
    offset = left.duration
    if offset is None:
        raise ValueError(
            f"the left side of >> must have a duration, got the unbounded {left!r}; give it one with .for_steps(n)"
        )
    pieces = list(left.schedules) if isinstance(left, Join) else [left]
    boundaries = list(left.boundaries) if isinstance(left, Join) else []
    boundaries.append(offset)
    if isinstance(right, Join):
        pieces.extend(right.schedules)
        boundaries.extend(offset + b for b in right.boundaries)
    else:
        pieces.append(right)
    return Join(pieces, boundaries)


def value_range(schedule: Schedule) -> tuple[float, float]:
    """The smallest and largest value ``schedule`` takes, sampled on the host.

    Every step of the first 2**16 (of the whole duration, when it is shorter
    than 2**18) and a geometric sweep beyond.
    """
    duration = schedule.duration
    if duration is not None and duration < 2**18:
        steps = mx.arange(duration + 1, dtype=mx.int64)
    else:
        far = duration if duration is not None else 2**53
        dense = mx.arange(2**16, dtype=mx.int64)
        sweep = mx.exp(mx.linspace(16 * 0.6931471805599453, _log(far), 4096)).astype(mx.int64)
        tail = mx.linspace(0, far, 4096).astype(mx.int64)
        steps = mx.concatenate([dense, sweep, tail, mx.array([far], dtype=mx.int64)])
    values = evaluate(schedule, mx.clip(steps, 0, MAX_STEP))
    return host_float(values.min()), host_float(values.max())


def _log(value: int) -> float:
    import math

    return math.log(max(value, 2**16))
