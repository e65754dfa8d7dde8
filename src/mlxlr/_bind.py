"""Schedules written in units of a run, and how :meth:`~mlxlr.Schedule.bind` turns them into steps.

A schedule class called with a unit among its arguments (``Linear(0, 1,
steps=frac(0.05))``) cannot run its constructor: its steps are not known
yet. ``Schedule.__new__`` hands such a call to :func:`call`, which returns a
:class:`Call`, an *unbound* schedule that records the class and the
arguments; an operator with an unbound operand gives an :class:`Operation`
(:func:`operation`). Both print as written, compare and hash by structure,
write configs, and take operators and combinator methods, but have no
values. Binding converts every unit to steps and evaluates the recorded
expression again, bottom up, exactly as the same expression written in
steps would be: the result is the same ordinary tree.

Arguments are checked at construction where the units allow it: each
recorded call is tried once on stand-in steps (:meth:`~mlxlr._units.Unit.probe`),
and an error that names no argument holding a unit is raised there and then.
A ``REST`` is checked to mean something at every node that holds it: the
node's length must grow step for step with it (:func:`extent`).
"""

from __future__ import annotations

import abc
import functools
import inspect
import operator
import re
import types
from collections.abc import Callable, Iterator, Sequence
from typing import Any, final

import mlx.core as mx
from typing_extensions import override

from ._algebra import Product, Quotient, Scaled, Sum
from ._combinators import Clip, ForSteps
from ._join import Join, join
from ._native import Constant
from ._printing import PREC_JOIN, PREC_PRODUCT, PREC_SUM, PREC_UNARY, expression, number, operand
from ._schedule import Schedule, require_schedule, signature, walk
from ._steps import StepLike
from ._units import REST, Binding, UnboundError, Unit, check_rebinding, needs_text, remember, units_in

R1, R2 = 2**40, 2**41
"""What ``REST`` stands for when its meaning is checked and solved for: far beyond any other piece."""

_STANDIN = ForSteps(Constant(1.0), 10**6)
"""In place of an unbound argument whose own stand-in could not be built, to check the other arguments."""


def extent(schedule: Schedule) -> int | None:
    """Where a schedule ends: its duration, or where the last piece of a join without one starts.

    ``warmup >> decay >> Constant(x)`` has no duration but ends with the
    decay, where the constant begins; through scales, clips, sums and
    products the latest end of the parts counts. ``None``: it never ends.
    """
    duration = schedule.duration
    if duration is not None:
        return duration
    if isinstance(schedule, (Scaled, Clip)):
        return extent(schedule.schedule)
    if isinstance(schedule, Join) and schedule.boundaries:
        last = extent(schedule.schedules[-1])
        return schedule.boundaries[-1] + (last or 0)
    parts: Sequence[Schedule] = ()
    if isinstance(schedule, Sum):
        parts = schedule.terms
    elif isinstance(schedule, Product):
        parts = schedule.factors
    elif isinstance(schedule, Quotient):
        parts = (schedule.numerator, schedule.denominator)
    ends = [0 if isinstance(p, Constant) else extent(p) for p in parts]
    if not ends or any(e is None for e in ends):
        return None
    return max(e for e in ends if e is not None)


class Unbound(Schedule):
    """A schedule written in units: it records how it was written and has no values until bound.

    Calling it, or asking its duration, raises :class:`~mlxlr.UnboundError`;
    :meth:`bind` gives the ordinary schedule. Operators, ``>>`` and the
    combinator methods build more unbound schedules.
    """

    _unbound = True
    _units: tuple[Unit, ...]
    """Every unit in the tree, in order (for messages)."""
    _rests: int
    """How many ``REST`` the tree holds: 0 or 1."""
    _probes: tuple[Schedule, ...]
    """The tree built on stand-in steps, with ``REST`` as :data:`R1` (and :data:`R2` when it holds one);
    empty when it could not be built."""

    def __new__(cls, *args: Any, **kwargs: Any) -> Unbound:  # nothing to record: __init__ keeps what it is given
        return object.__new__(cls)

    @override
    def __call__(self, step: StepLike) -> mx.array:
        raise self._error()

    @property
    @override
    def duration(self) -> int | None:
        raise self._error()

    def _error(self) -> UnboundError:
        return UnboundError(
            f"{self!r} is unbound: {needs_text(list(self._units))}; call .bind({_arguments(self._units)}) first "
            "(ScheduledOptimizer(..., total_steps=...) binds its schedules)"
        )

    @override
    def bind(
        self, total_steps: int | None = None, steps_per_epoch: int | None = None, tokens_per_step: float | None = None
    ) -> Schedule:
        binding = Binding.of(total_steps, steps_per_epoch, tokens_per_step)
        missing = needs_text(list(self._units), binding)
        if missing:
            raise UnboundError(f"cannot bind {self!r}: {missing}; pass {_arguments(self._units, binding)}")
        for node in walk(self):
            check_rebinding(node, binding)
        rest = self._solve_rest(binding) if self._rests else None
        result = self._build(lambda unit: binding.steps(unit, rest))
        if rest is not None:
            end = extent(result)
            if end != binding.total_steps:
                raise ValueError(
                    f"REST cannot make {self!r} last total_steps={binding.total_steps}: with REST = {rest} "
                    f"steps it lasts {end} (another part of it is longer)"
                )
        remember(result, binding)
        return result

    def _solve_rest(self, binding: Binding) -> int:
        """The steps ``REST`` stands for: what makes the whole schedule end at ``total_steps``."""
        total = binding.total_steps
        assert total is not None  # REST needs total_steps: bind checked it
        end = extent(self._build(lambda unit: binding.steps(unit, R1)))
        if end is None:  # unreachable: construction checked that REST means something
            raise ValueError(f"REST has no meaning in {self!r}")
        others = end - R1
        rest = total - others
        if rest < 1:
            raise ValueError(
                f"REST would be {rest} steps: the other pieces of {self!r} take {others} of total_steps={total}"
            )
        return rest

    # Building: the recorded expression, evaluated with units as steps. ---------------------------------------

    def _build(self, steps_of: Callable[[Unit], int]) -> Schedule:
        return self._node(steps_of, lambda child: child._build(steps_of))

    @abc.abstractmethod
    def _node(self, steps_of: Callable[[Unit], int], child: Callable[[Unbound], Schedule]) -> Schedule:
        """This node built with units as ``steps_of`` gives and unbound arguments as ``child`` gives."""

    def _operands(self) -> Iterator[Unbound]:
        """The unbound schedules among this node's arguments."""
        for value in self._params.values():
            for item in value if isinstance(value, (list, tuple)) else (value,):
                if isinstance(item, Unbound):
                    yield item

    def _check(self, holding: Sequence[str] | None) -> None:
        """Builds the stand-ins and raises what they show: arguments refused, a ``REST`` without meaning.

        ``holding``: the arguments of a call that hold units or unbound
        schedules, whose errors are the stand-ins' (ignored); ``None`` for an
        operation, whose errors are raised.
        """
        children = list(self._operands())
        self._units = tuple(u for value in self._params.values() for u in units_in(value)) + tuple(
            u for c in children for u in c._units
        )
        self._rests = sum(u.kind == "rest" for u in self._units)
        if self._rests > 1:
            raise ValueError(f"REST: a schedule holds at most one, got {self._rests} in {self!r}")
        probes: list[Schedule] = []
        for k, rest in enumerate((R1, R2) if self._rests else (R1,)):
            complete = all(_probe(c, k) is not None for c in children)

            def steps_of(unit: Unit, rest: int = rest) -> int:
                return rest if unit.kind == "rest" else unit.probe()

            def child(c: Unbound, k: int = k) -> Schedule:
                return _probe(c, k) or _STANDIN

            try:
                probe = self._node(steps_of, child)
            except (ValueError, TypeError, ArithmeticError) as error:
                text = str(error)
                if holding is not None and any(re.search(rf"\b{re.escape(n)}\b", text) for n in holding):
                    break  # about the stand-in steps: bind will tell
                restored = self._restore(text, children)
                if restored == text:
                    raise
                raise _retold(error, restored) from None
            if not complete:
                break
            probes.append(probe)
        self._probes = tuple(probes)
        if self._rests and len(self._probes) == 2:
            ends = [extent(p) for p in self._probes]
            if ends[0] is None or ends[1] is None or ends[1] - ends[0] != R2 - R1:
                raise ValueError(
                    f"REST has no meaning in {self!r}: REST is what remains of the run, and the length of this "
                    "schedule does not grow with it; put it in a duration that adds to the run's length (a piece "
                    "of >>, a warmup, a stable phase, a decay, a cooldown), or write frac(1.0) for the whole run"
                )

    @staticmethod
    def _restore(text: str, children: list[Unbound]) -> str:
        """An error message about stand-ins, with each stand-in written as the unbound schedule it stands for."""
        for child in children:
            if child._probes:
                text = text.replace(repr(child._probes[0]), repr(child))
        return text


def _retold(error: Exception, text: str) -> Exception:
    """``error`` with another message, of the same type where that type takes one; else the original."""
    try:
        return type(error)(text)
    except Exception:  # an exception type of a user's class with another constructor
        return error


def _probe(node: Unbound, k: int) -> Schedule | None:
    """The stand-in of ``node`` for the ``k``-th value of ``REST`` (one serves all when it holds no REST)."""
    index = k if node._rests else 0
    return node._probes[index] if len(node._probes) > index else None


def _arguments(units: Sequence[Unit], binding: Binding | None = None) -> str:
    """``total_steps=..., steps_per_epoch=...``: what binding ``units`` takes (what is missing from ``binding``)."""
    needs = dict.fromkeys(u.needs for u in units if binding is None or getattr(binding, u.needs) is None)
    return ", ".join(f"{name}=..." for name in ("total_steps", "steps_per_epoch", "tokens_per_step") if name in needs)


def _convert(value: Any, steps_of: Callable[[Unit], int], child: Callable[[Unbound], Schedule]) -> Any:
    if isinstance(value, Unit):
        return steps_of(value)
    if isinstance(value, Unbound):
        return child(value)
    if isinstance(value, list):
        return [_convert(v, steps_of, child) for v in value]
    if isinstance(value, tuple):
        return tuple(_convert(v, steps_of, child) for v in value)
    return value


@final
class Call(Unbound):
    """A schedule class called with units: the class and its recorded arguments.

    Prints as the call (or the combinator method) that built it; binding
    calls the class with the units in steps.
    """

    def __init__(self, cls: type[Schedule], params: dict[str, Any]) -> None:
        self.cls = cls
        self._params = params

    @override
    def _node(self, steps_of: Callable[[Unit], int], child: Callable[[Unbound], Schedule]) -> Schedule:
        args: list[Any] = []
        kwargs: dict[str, Any] = {}
        parameters = signature(self.cls).parameters
        for name, value in self._params.items():
            value = _convert(value, steps_of, child)
            kind = parameters[name].kind
            if kind is parameters[name].VAR_POSITIONAL:
                args.extend(value)
            elif kind is parameters[name].VAR_KEYWORD:
                kwargs.update(value)
            elif kind is parameters[name].POSITIONAL_ONLY:
                args.append(value)
            else:
                kwargs[name] = value
        return self.cls(*args, **kwargs)

    def __getattr__(self, name: str) -> Any:
        """The recorded class's own methods that build schedules (``OneCycle.momentum``), on this stand-in."""
        cls = self.__dict__.get("cls")  # absent while copy and pickle rebuild the object
        method = None if cls is None or name.startswith("_") else inspect.getattr_static(cls, name, None)
        if not inspect.isfunction(method) or hasattr(Schedule, name):
            raise AttributeError(f"an unbound {getattr(cls, '__name__', 'schedule')} has no attribute {name!r}")
        return types.MethodType(method, self)  # e.g. OneCycle.momentum(self) builds OneCycleMomentum(self): unbound

    @override
    def _key(self) -> tuple[Any, ...]:
        return (Call, self.cls, *super()._key()[1:])

    @override
    def __repr__(self) -> str:
        cls = self.cls
        return expression(cls.__name__, self._params, signature(cls), cls._method)


_SYMBOLS: dict[str, tuple[Callable[..., Any], int]] = {
    "+": (operator.add, PREC_SUM),
    "-": (operator.sub, PREC_SUM),
    "*": (operator.mul, PREC_PRODUCT),
    "/": (operator.truediv, PREC_PRODUCT),
    "neg": (operator.neg, PREC_UNARY),
    ">>": (operator.rshift, PREC_JOIN),
}
OPERATORS = tuple(_SYMBOLS)
"""The operators an unbound schedule records: ``+ - * /``, ``neg`` (unary ``-``) and ``>>``."""


@final
class Operation(Unbound):
    """An operator with an unbound operand: ``a + b``, ``2 * a``, ``-a``, ``a >> b >> c`` (chains flattened).

    Binding applies the operator to the bound operands, so that the result
    is built (and folded) exactly as the same expression in steps.
    """

    def __init__(self, symbol: str, operands: Sequence[Schedule | float]) -> None:
        self.symbol = symbol
        self._params = {"operands": list(operands)}
        self._precedence = _SYMBOLS[symbol][1]

    @property
    def operands(self) -> list[Schedule | float]:
        """The operands, schedules and numbers, in order."""
        return list(self._params["operands"])

    @override
    def _node(self, steps_of: Callable[[Unit], int], child: Callable[[Unbound], Schedule]) -> Schedule:
        fn = _SYMBOLS[self.symbol][0]
        values = [child(x) if isinstance(x, Unbound) else x for x in self._params["operands"]]
        result: Schedule = functools.reduce(fn, values) if self.symbol == ">>" else fn(*values)
        return result

    @override
    def _key(self) -> tuple[Any, ...]:
        return (Operation, self.symbol, *super()._key()[1:])

    @override
    def __repr__(self) -> str:
        operands = self._params["operands"]
        if self.symbol == "neg":
            return f"-{operand(operands[0], PREC_UNARY)}"
        if self.symbol == ">>":
            return " >> ".join(operand(p, PREC_JOIN + 1) for p in operands)
        left, right = operands
        return f"{_side(left, self._precedence)} {self.symbol} {_side(right, self._precedence + 1)}"


def _side(value: Schedule | float, precedence: int) -> str:
    return operand(value, precedence) if isinstance(value, Schedule) else number(float(value))


# What Schedule.__new__ and the operators call (through mlxlr._schedule.SEAM). -----------------------------


def call(cls: type[Schedule], args: tuple[Any, ...], kwargs: dict[str, Any]) -> Schedule:
    """``cls(*args, **kwargs)`` with units among the arguments: the unbound :class:`Call`, checked."""
    sig = signature(cls)
    try:
        arguments = sig.bind(None, *args, **kwargs)
    except TypeError as error:
        raise TypeError(f"{cls.__name__}(): {error}") from None
    arguments.apply_defaults()
    params = cls._record(dict(list(arguments.arguments.items())[1:]))
    holding: list[str] = []
    for name, value in params.items():
        units = units_in(value)
        if units:
            if name not in cls._durations:
                where = (
                    f"its durations are {', '.join(cls._durations)}"
                    if cls._durations
                    else "it declares no duration parameters (_durations)"
                )
                raise TypeError(f"{name} of {cls.__name__} is not a duration, got {units[0]!r}; {where}")
            if REST in units and not isinstance(value, Unit):
                raise ValueError(f"{name} cannot hold REST: it lists steps, and REST is a length, got {value!r}")
            holding.append(name)
        elif any(isinstance(item, Unbound) for item in (value if isinstance(value, (list, tuple)) else [value])):
            holding.append(name)
    node = Call(cls, params)
    node._check(holding)
    return node


def operation(symbol: str, *operands: Schedule | float) -> Schedule:
    """The operator ``symbol`` on operands of which one at least is unbound: the :class:`Operation`, checked."""
    if symbol == ">>":
        operands = tuple(piece for x in operands for piece in _chain(x))
    node = Operation(symbol, operands)
    node._check(None)
    return node


def _chain(value: Schedule | float) -> list[Schedule | float]:
    """The pieces of a ``>>`` chain (an unbound one, or a join that prints as one), else ``[value]``."""
    if isinstance(value, Operation) and value.symbol == ">>":
        return value.operands
    if isinstance(value, Join) and value._precedence == PREC_JOIN and functools.reduce(join, value.schedules) == value:
        return list(value.schedules)
    return [value]


def needs(schedule: Schedule) -> dict[str, list[Unit]]:
    """What binding ``schedule`` takes: ``{"total_steps": [frac(0.05), REST], ...}`` in that order; ``{}`` in steps."""
    if not isinstance(schedule, Unbound):
        return {}
    out: dict[str, list[Unit]] = {}
    for name in ("total_steps", "steps_per_epoch", "tokens_per_step"):
        units = list(dict.fromkeys(u for u in schedule._units if u.needs == name))
        if units:
            out[name] = units
    return out


def bind(
    schedule: Schedule,
    total_steps: int | None = None,
    steps_per_epoch: int | None = None,
    tokens_per_step: float | None = None,
) -> Schedule:
    """``schedule`` with its units in steps (:meth:`~mlxlr.Schedule.bind`); a schedule in steps as it is.

    What :class:`~mlxlr.ScheduledOptimizer` does with each schedule given
    ``total_steps=`` (``steps_per_epoch=``, ``tokens_per_step=``), and what a
    training script does with a schedule read from a config.

    Args:
        schedule: Any schedule.
        total_steps: Optimizer updates in the run.
        steps_per_epoch: Optimizer updates per epoch.
        tokens_per_step: Tokens per optimizer update.

    Returns:
        The bound schedule.

    Raises:
        UnboundError: a unit whose number is missing.
        ValueError: bad numbers, or a schedule bound before with other numbers.

    Example:
        >>> import mlxlr
        >>> from mlxlr import REST, frac
        >>> lr = mlxlr.CosineDecay(1e-3, decay_steps=REST).with_warmup(frac(0.1))
        >>> mlxlr.bind(lr, total_steps=1000)
        CosineDecay(init=0.001, decay_steps=900).with_warmup(100)
        >>> mlxlr.bind(mlxlr.CosineDecay(1e-3, 900), total_steps=1000)
        CosineDecay(init=0.001, decay_steps=900)
    """
    return require_schedule(schedule).bind(total_steps, steps_per_epoch, tokens_per_step)


__all__ = ["bind"]
