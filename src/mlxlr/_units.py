"""Durations in units of a run: fractions of it, epochs, tokens, and what remains of it (``REST``).

A :class:`Unit` is a small frozen value standing for a number of steps that
is known only once the run is: ``frac(0.05)`` is 5% of ``total_steps``,
``epochs(3)`` is ``3 * steps_per_epoch``, ``tokens(375_000_000)`` is that
many tokens over ``tokens_per_step``, and ``REST`` is what remains of the
run once the other pieces of the schedule are counted. A :class:`Binding`
holds the run's numbers and converts each unit to whole steps (the nearest,
halves up, at least 1). Every step counts optimizer updates.

This module knows no schedule class; it also keeps the record of which
schedule objects :meth:`~mlxlr.Schedule.bind` built with which binding, so
that binding one again with other numbers is refused.
"""

from __future__ import annotations

import dataclasses
import math
import numbers
import weakref
from fractions import Fraction
from typing import Any, final

from ._validate import check_int, check_positive, plain

KINDS = ("frac", "epochs", "tokens", "rest")
NEEDS = {"frac": "total_steps", "rest": "total_steps", "epochs": "steps_per_epoch", "tokens": "tokens_per_step"}
"""The binding each kind of unit needs."""
ORDER = ("total_steps", "steps_per_epoch", "tokens_per_step")


class UnboundError(ValueError):
    """A schedule written in units (``frac``, ``epochs``, ``tokens``, ``REST``) used before it is bound.

    Raised when an unbound schedule is called or asked its duration, and by
    :meth:`~mlxlr.Schedule.bind` when a unit's binding is missing (``epochs``
    without ``steps_per_epoch``); the message names the units and what to pass.
    """


@final
@dataclasses.dataclass(frozen=True, eq=True, repr=False)
class Unit:
    """A duration in units of the run, resolved to steps by :meth:`~mlxlr.Schedule.bind`.

    Built by :func:`frac`, :func:`epochs` and :func:`tokens`; :data:`REST` is
    the one unit without a value. Units are frozen values: equal when their
    kind and value are, hashable, and written as the call that builds them
    (``frac(0.05)``, ``tokens(375_000_000)``, ``REST``), which the expression
    language reads back.

    Attributes:
        kind: ``"frac"``, ``"epochs"``, ``"tokens"`` or ``"rest"``.
        value: The fraction, epochs or tokens; ``None`` for ``REST``.
    """

    kind: str
    value: float | int | None = None

    def __repr__(self) -> str:
        if self.kind == "rest":
            return "REST"
        return f"{self.kind}({_text(self.value)})"

    @property
    def needs(self) -> str:
        """The name of the number that binds it (``"total_steps"``, ``"steps_per_epoch"`` or ``"tokens_per_step"``)."""
        return NEEDS[self.kind]

    def probe(self) -> int:
        """A stand-in number of steps, used only to check the other arguments at construction."""
        value = self.value or 0
        if self.kind == "frac":
            return max(1, round(value * 10**6))
        if self.kind == "epochs":
            return max(1, round(value * 1000))
        if self.kind == "tokens":
            return max(1, round(value / 1000))
        return 10**6


REST = Unit("rest")
"""What remains of the run once the other pieces are counted: the duration that makes the schedule last
exactly ``total_steps`` (its rounding absorbed). At most one per schedule."""


def _text(value: float | int | None) -> str:
    if isinstance(value, int) and abs(value) >= 10_000:
        return f"{value:_}"
    return repr(value)


def _amount(name: str, value: object) -> float | int:
    """A positive finite number, integral floats as ints (``tokens(3.75e8)`` is ``tokens(375_000_000)``)."""
    value = plain(value)
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a real number, got {value!r} ({type(value).__name__})")
    number = float(value)
    if not math.isfinite(number) or number <= 0:
        raise ValueError(f"{name} must be > 0 and finite, got {value!r}")
    if isinstance(value, numbers.Integral):
        return int(value)
    return int(number) if number.is_integer() and number < 2**63 else number


def frac(p: float) -> Unit:
    """A fraction ``p`` of the run, ``0 < p <= 1``: ``p * total_steps`` steps, rounded to the nearest.

    Example:
        >>> import mlxlr
        >>> s = mlxlr.Linear(0.0, 1.0, steps=mlxlr.frac(0.25))
        >>> s
        Linear(init=0.0, end=1.0, steps=frac(0.25))
        >>> s.bind(total_steps=1000)
        Linear(init=0.0, end=1.0, steps=250)
    """
    value = plain(p)
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"frac(p) takes a fraction of the run, got {value!r} ({type(value).__name__})")
    number = float(value)
    if not 0.0 < number <= 1.0:
        raise ValueError(f"frac(p) takes a fraction of the run in (0, 1], got {value!r}")
    return Unit("frac", number)


def epochs(n: float) -> Unit:
    """``n`` epochs (``n > 0``, a fraction of one allowed): ``n * steps_per_epoch`` steps, rounded.

    Example:
        >>> import mlxlr
        >>> mlxlr.StepDecay(0.1, 0.1, step_size=mlxlr.epochs(30)).bind(steps_per_epoch=390)
        StepDecay(init=0.1, decay_rate=0.1, step_size=11700)
    """
    return Unit("epochs", _amount("epochs(n): n", n))


def tokens(n: float) -> Unit:
    """``n`` tokens (``n > 0``): ``n / tokens_per_step`` steps, rounded to the nearest.

    Example:
        >>> import mlxlr
        >>> warmup = mlxlr.Linear(0.0, 6e-5, steps=mlxlr.tokens(375e6))
        >>> warmup
        Linear(init=0.0, end=6e-05, steps=tokens(375_000_000))
        >>> warmup.bind(tokens_per_step=3_200_000).steps
        117
    """
    return Unit("tokens", _amount("tokens(n): n", n))


def _exact(value: float | int) -> Fraction:
    """The number as written: ``0.05`` is 1/20, not the binary float nearest to it."""
    return Fraction(value) if isinstance(value, int) else Fraction(repr(value))


def nearest(value: Fraction) -> int:
    """The nearest whole step, halves up, at least 1."""
    return max(1, math.floor(value + Fraction(1, 2)))


@final
@dataclasses.dataclass(frozen=True)
class Binding:
    """The numbers of a run that turn units into steps; ``None`` where not given.

    Attributes:
        total_steps: Optimizer updates in the run (for ``frac`` and ``REST``).
        steps_per_epoch: Optimizer updates per epoch (for ``epochs``).
        tokens_per_step: Tokens per optimizer update (for ``tokens``), all
            processes and accumulated micro-batches together.
    """

    total_steps: int | None = None
    steps_per_epoch: int | None = None
    tokens_per_step: float | int | None = None

    @classmethod
    def of(cls, total_steps: object = None, steps_per_epoch: object = None, tokens_per_step: object = None) -> Binding:
        """A binding from the arguments of :meth:`~mlxlr.Schedule.bind`, validated."""
        per_step = None if tokens_per_step is None else check_positive("tokens_per_step", tokens_per_step)
        return cls(
            None if total_steps is None else check_int("total_steps", total_steps),
            None if steps_per_epoch is None else check_int("steps_per_epoch", steps_per_epoch),
            None if per_step is None else (int(per_step) if per_step.is_integer() else per_step),
        )

    def given(self) -> dict[str, float | int]:
        """The numbers given, by name."""
        return {name: value for name in ORDER if (value := getattr(self, name)) is not None}

    def steps(self, unit: Unit, rest: int | None = None) -> int:
        """``unit`` in whole steps; ``rest`` is what ``REST`` stands for."""
        if unit.kind == "rest":
            if rest is None:  # unreachable through bind, which solves REST first
                raise UnboundError("REST is resolved by bind(total_steps=...) on the whole schedule")
            return rest
        number = getattr(self, unit.needs)
        if number is None:
            raise UnboundError(f"{unit!r} needs {unit.needs}: bind(..., {unit.needs}=...)")
        value = _exact(unit.value)  # type: ignore[arg-type]  # every kind but "rest" has a value
        if unit.kind == "tokens":
            return nearest(value / _exact(number))
        return nearest(value * number)


def units_in(value: Any) -> list[Unit]:
    """The units in an argument: the argument itself, or inside a list or tuple."""
    if isinstance(value, Unit):
        return [value]
    if isinstance(value, (list, tuple)):
        return [u for item in value for u in units_in(item)]
    return []


def needs_text(units: list[Unit], binding: Binding | None = None) -> str:
    """``"frac(0.05), REST need total_steps; epochs(3) needs steps_per_epoch"``: the units missing a binding."""
    by_need: dict[str, list[str]] = {}
    for unit in units:
        if binding is None or getattr(binding, unit.needs) is None:
            texts = by_need.setdefault(unit.needs, [])
            if repr(unit) not in texts:
                texts.append(repr(unit))
    parts = []
    for need in ORDER:
        if need in by_need:
            texts = by_need[need]
            parts.append(f"{', '.join(texts)} {'needs' if len(texts) == 1 else 'need'} {need}")
    return "; ".join(parts)


# What bind built, and with what. ------------------------------------------------------

_BUILT: dict[int, tuple[weakref.ref[Any], Binding]] = {}


def remember(obj: object, binding: Binding) -> None:
    """Records that ``obj`` was built by binding with ``binding`` (forgotten when ``obj`` is collected)."""
    key = id(obj)
    _BUILT[key] = (weakref.ref(obj, lambda _: _BUILT.pop(key, None)), binding)


def built_with(obj: object) -> Binding | None:
    """The binding that built ``obj``, if :meth:`~mlxlr.Schedule.bind` built it."""
    entry = _BUILT.get(id(obj))
    if entry is None or entry[0]() is not obj:
        return None
    return entry[1]


def check_rebinding(obj: object, binding: Binding) -> None:
    """Refuses to bind ``obj`` again with numbers other than those it was bound with."""
    previous = built_with(obj)
    if previous is None:
        return
    old, new = previous.given(), binding.given()
    clash = [name for name in ORDER if name in old and name in new and old[name] != new[name]]
    if clash:
        then = ", ".join(f"{name}={old[name]!r}" for name in clash)
        now = ", ".join(f"{name}={new[name]!r}" for name in clash)
        raise ValueError(
            f"{obj!r} was bound with {then}; binding it again with {now} would change nothing: "
            "bind the schedule written in units instead"
        )


__all__ = ["REST", "Unit", "UnboundError", "epochs", "frac", "tokens"]
