"""The pointwise algebra of schedules: sums, products, scales and quotients, and their builders.

The operators of :class:`~mlxlr.Schedule` (``+ - * /`` and unary ``-``)
call the builders at the end of this module, which fold what can be folded:
``2 * (3 * s)`` is one :class:`Scaled`, ``a + b + 1`` one :class:`Sum` with
the number last, ``s * 1`` is ``s``. Each node prints as the operators that
build it; one built directly in another shape prints as a call.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, final

import mlx.core as mx
from typing_extensions import override

from ._native import Constant, Native, as_schedule, evaluate, value_range
from ._printing import PREC_PRODUCT, PREC_SUM, PREC_UNARY, chain, number, operand
from ._schedule import Schedule
from ._steps import since
from ._validate import FLOAT32_MAX, check_real


def settles(schedule: Schedule) -> int | None:
    """The step after which ``schedule`` stays constant (0 for a constant); ``None`` if never."""
    return 0 if isinstance(schedule, Constant) else schedule.duration


def combined_duration(parts: Sequence[Schedule]) -> int | None:
    """The duration of a pointwise combination: when its last bounded part settles."""
    ends = [settles(p) for p in parts]
    if any(e is None for e in ends):
        return None
    end = max(e for e in ends if e is not None)
    return end or None


def _constant_value(schedule: Schedule) -> float | None:
    return schedule.value if isinstance(schedule, Constant) else None


@final
class Sum(Native):
    """The pointwise sum of schedules (what ``a + b`` and ``a - b`` build)."""

    _precedence = PREC_SUM

    def __init__(self, *terms: Schedule) -> None:
        if len(terms) < 2 or not all(isinstance(t, Schedule) for t in terms):
            raise TypeError(f"terms must be two or more schedules, got {terms!r}")
        self.terms = terms
        # Whether `+` builds this sum from its terms (it prints as `a + b` then): no sum among them, a constant
        # only last and not 0. The same as `reduce(add, terms) == self`, without building a sum per term.
        *rest, last = terms
        self._folded = not any(isinstance(t, (Sum, Constant)) for t in rest) and (
            not isinstance(last, Sum) and (not isinstance(last, Constant) or last.value != 0.0)
        )

    @classmethod
    def _folded_sum(cls, terms: list[Schedule], depth: int) -> Sum:
        """A sum of terms that ``add`` has folded already (checked schedules): no work per term."""
        self = cls._assembled({"terms": (parts := tuple(terms))}, depth)
        self.terms = parts
        self._folded = True
        return self

    @property
    @override
    def duration(self) -> int | None:
        return combined_duration(self.terms)

    @override
    def formula(self, t: mx.array, start: int = 0) -> mx.array:
        x = since(t, start)
        out = evaluate(self.terms[0], x)
        for term in self.terms[1:]:
            out = out + evaluate(term, x)
        return out

    @override
    def _written(self) -> str:
        if not self._folded:  # built directly, as the operators would not (`reduce(add, terms) != self`): a call
            return super()._written()
        return chain(self.terms, " + ", _sum_text)


def _sum_text(terms: Sequence[Schedule]) -> str:
    text = operand(terms[0], PREC_SUM)
    for term in terms[1:]:
        value = _constant_value(term)
        if value is not None:
            text += f" - {number(-value)}" if value < 0 else f" + {number(value)}"
        elif isinstance(term, Scaled) and term.factor < 0 and scale(term.schedule, term.factor) == term:
            text += f" - {operand(scale(term.schedule, -term.factor), PREC_SUM + 1)}"
        else:
            text += f" + {operand(term, PREC_SUM + 1)}"
    return text


@final
class Product(Native):
    """The pointwise product of schedules (what ``a * b`` builds for two schedules)."""

    _precedence = PREC_PRODUCT

    def __init__(self, *factors: Schedule) -> None:
        if len(factors) < 2 or not all(isinstance(f, Schedule) for f in factors):
            raise TypeError(f"factors must be two or more schedules, got {factors!r}")
        self.factors = factors
        # Whether `*` builds this product from its factors (`reduce(multiply, factors) == self`): no product,
        # scale or constant among them.
        self._folded = not any(isinstance(f, (Product, Scaled, Constant)) for f in factors)

    @classmethod
    def _folded_product(cls, factors: list[Schedule], depth: int) -> Product:
        """A product of factors that ``multiply`` has folded already (checked schedules): no work per factor."""
        self = cls._assembled({"factors": (parts := tuple(factors))}, depth)
        self.factors = parts
        self._folded = True
        return self

    @property
    @override
    def duration(self) -> int | None:
        return combined_duration(self.factors)

    @override
    def formula(self, t: mx.array, start: int = 0) -> mx.array:
        x = since(t, start)
        out = evaluate(self.factors[0], x)
        for factor in self.factors[1:]:
            out = out * evaluate(factor, x)
        return out

    @override
    def _written(self) -> str:
        if not self._folded:  # built directly, as the operators would not (`reduce(multiply, factors) != self`)
            return super()._written()
        return chain(self.factors, " * ", _product_text)


def _product_text(factors: Sequence[Schedule]) -> str:
    first, *rest = factors
    return " * ".join([operand(first, PREC_PRODUCT), *(operand(f, PREC_PRODUCT + 1) for f in rest)])


@final
class Scaled(Native):
    """A schedule times a number (what ``2 * s``, ``s / 4`` and ``-s`` build)."""

    def __init__(self, schedule: Schedule, factor: float) -> None:
        if not isinstance(schedule, Schedule):
            raise TypeError(f"schedule must be a Schedule, got {schedule!r}")
        self.schedule = schedule
        self.factor = check_real("factor", factor)
        self._precedence = PREC_UNARY if self.factor == -1.0 else PREC_PRODUCT

    @property
    @override
    def duration(self) -> int | None:
        return self.schedule.duration

    @override
    def formula(self, t: mx.array, start: int = 0) -> mx.array:
        return evaluate(self.schedule, since(t, start)) * self.factor

    @override
    def _written(self) -> str:
        if scale(self.schedule, self.factor) != self:  # built directly, as the operators would not: a call
            return super()._written()
        if self.factor == -1.0:
            return f"-{operand(self.schedule, PREC_UNARY)}"
        return f"{number(self.factor)} * {operand(self.schedule, PREC_PRODUCT + 1)}"


@final
class Quotient(Native):
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
    def formula(self, t: mx.array, start: int = 0) -> mx.array:
        x = since(t, start)
        return evaluate(self.numerator, x) / evaluate(self.denominator, x)

    @override
    def _written(self) -> str:
        value = _constant_value(self.numerator)
        left = number(value) if value is not None else operand(self.numerator, PREC_PRODUCT)
        return f"{left} / {operand(self.denominator, PREC_PRODUCT + 1)}"


# Builders: what the operators call. -----------------------------------------


def scale(value: Schedule | float, factor: float) -> Any:
    """``factor * value``, folded: numbers multiply, scales and constants combine."""
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
    """``left + right``, with sums flattened and numbers folded into one constant, last.

    A sum that ``+`` built has its constant last (if any): its terms are
    taken as they are, so a sum built one term at a time costs the same per
    term, not its length so far.
    """
    terms: list[Schedule] = []
    constants: list[float] = []
    folded = True  # the result is what the operators build: every side a folded sum or no sum
    depth = 1  # the deepest term's depth
    for item in (left, right):
        if isinstance(item, Sum) and item._folded:
            last = item.terms[-1]
            if isinstance(last, Constant):
                terms.extend(item.terms[:-1])
                constants.append(last.value)
            else:
                terms.extend(item.terms)
            depth = max(depth, item._depth - 1)
            continue
        folded = folded and not isinstance(item, Sum)
        for term in item.terms if isinstance(item, Sum) else (item,):
            value = _constant_value(term) if isinstance(term, Schedule) else float(term)
            if value is None:
                terms.append(term)  # type: ignore[arg-type]
                depth = max(depth, term._depth)  # type: ignore[union-attr]
            else:
                constants.append(value)
    if constants and (sum(constants) != 0.0 or not terms):
        terms.append(Constant(sum(constants)))
    if len(terms) == 1:
        return terms[0]
    return Sum._folded_sum(terms, 1 + depth) if folded else Sum(*terms)


def multiply(left: Schedule | float, right: Schedule | float) -> Schedule:
    """``left * right``: a number makes a :class:`Scaled`, two schedules a :class:`Product`."""
    if not isinstance(left, Schedule):
        return scale(right, float(left))  # type: ignore[no-any-return]
    if not isinstance(right, Schedule):
        return scale(left, float(right))  # type: ignore[no-any-return]
    factor = 1.0
    factors: list[Schedule] = []
    folded = True  # the result is what the operators build: every side a folded product or no product
    depth = 1  # the deepest factor's depth
    for item in (left, right):
        if isinstance(item, Scaled):
            factor *= item.factor
            item = item.schedule
        constant = _constant_value(item)
        if constant is not None:
            factor *= constant
            continue
        if isinstance(item, Product):
            factors.extend(item.factors)
            folded = folded and item._folded
            depth = max(depth, item._depth - 1)
        else:
            factors.append(item)
            folded = folded and not isinstance(item, Scaled)  # a scale inside a scale, built directly
            depth = max(depth, item._depth)
    if not factors:
        return Constant(factor)
    if len(factors) == 1:
        product = factors[0]
    else:
        product = Product._folded_product(factors, 1 + depth) if folded else Product(*factors)
    return scale(product, factor)  # type: ignore[no-any-return]


def divide(left: Schedule | float, right: Schedule | float) -> Schedule:
    """``left / right``: dividing by a number scales; by a schedule builds a :class:`Quotient`."""
    if not isinstance(right, Schedule):
        if right == 0:
            raise ValueError(f"cannot divide a schedule by 0, got {left!r} / {right!r}")
        if abs(1.0 / float(right)) > FLOAT32_MAX:
            raise ValueError(f"cannot divide a schedule by {right!r}: its inverse overflows float32")
        return scale(left, 1.0 / float(right))  # type: ignore[no-any-return]
    return Quotient(as_schedule(left, "numerator"), right)


__all__ = ["Product", "Quotient", "Scaled", "Sum"]
