"""The abstract :class:`Schedule`: arguments, ``repr``, equality, operators."""

from __future__ import annotations

import abc
import inspect
import math
from typing import TYPE_CHECKING, Any

import mlx.core as mx

from ._checks import FLOAT32_MAX, StepLike, as_step, check_int, host_float

if TYPE_CHECKING:
    from collections.abc import Iterator

    from matplotlib.axes import Axes

# Operator precedence of an expression, as Python parses it (higher binds tighter).
PREC_JOIN = 10
PREC_SUM = 20
PREC_PRODUCT = 30
PREC_UNARY = 40
PREC_ATOM = 50

_SIGNATURES: dict[type, inspect.Signature] = {}

_CHUNK = 2**18
"""Steps :meth:`Schedule.values` evaluates at once, each chunk before the next is built.

One evaluation over 10**6 steps allocates tens of MB of intermediates in
fresh pages, which the kernel maps one by one: thousands of page faults a
call on MLX's CPU backend, how many depending on the heap's history. Chunks
reuse the buffers of the chunk before (docs/performance.md has the numbers).
"""


def _signature(cls: type) -> inspect.Signature:
    sig = _SIGNATURES.get(cls)
    if sig is None:
        sig = inspect.signature(cls.__init__)  # type: ignore[misc]
        _SIGNATURES[cls] = sig
    return sig


class Schedule(abc.ABC):
    """A value that changes with the training step.

    Subclasses define ``__init__`` and ``__call__`` (and ``duration`` when they
    are bounded); they get operators, :meth:`at`, :meth:`values`, ``repr`` and
    equality from the arguments their constructor was called with.

    ``__call__`` receives the step as a Python ``int`` or an integer
    ``mx.array`` of any shape (MLX's optimizers pass ``uint64``) and returns a
    ``float32`` array of the same shape. It runs inside ``mx.compile``d
    training steps, so it must use graph operations only: no Python
    branching on the step, no ``.item()``. :func:`mlxlr.as_step` turns any
    accepted step into a non-negative ``int64`` array.

    Operators: ``a + b``, ``a - b``, ``a * b``, ``a / b`` and ``-a`` combine
    schedules and Python numbers pointwise; ``a >> b`` runs ``a`` for
    ``a.duration`` steps and then ``b`` from its own step 0. Numbers work on
    either side, but an ``mx.array`` on the left (``mx.array(2.0) * s``)
    raises inside MLX before Python can ask the schedule: write ``s * x``.

    Example:
        >>> import mlxlr
        >>> class Halving(mlxlr.Schedule):
        ...     def __init__(self, init: float, every: int) -> None:
        ...         self.init, self.every = init, every
        ...     def __call__(self, step):
        ...         return self.init * 0.5 ** (mlxlr.as_step(step) // self.every).astype(mx.float32)
        >>> s = mlxlr.Linear(0.0, 1.0, steps=10) >> Halving(1.0, every=100)
        >>> s
        Linear(init=0.0, end=1.0, steps=10) >> Halving(init=1.0, every=100)
        >>> print(f"{s.at(5):.2f} {s.at(110):.2f} {s.at(210):.2f}")
        0.50 0.50 0.25
    """

    _params: dict[str, Any]
    _precedence: int = PREC_ATOM

    def __new__(cls, *args: Any, **kwargs: Any) -> Schedule:
        self = super().__new__(cls)
        try:
            bound = _signature(cls).bind(self, *args, **kwargs)
        except TypeError:
            params: dict[str, Any] = {}  # __init__ raises the real error
        else:
            bound.apply_defaults()
            params = dict(list(bound.arguments.items())[1:])
        object.__setattr__(self, "_params", params)
        return self

    @abc.abstractmethod
    def __call__(self, step: StepLike) -> mx.array:
        """Returns the value at ``step``: a float32 array of the step's shape."""

    @property
    def duration(self) -> int | None:
        """Steps this schedule spans as the left side of ``>>``; ``None`` if unbounded."""
        return None

    # Values for humans. -------------------------------------------------

    def at(self, step: int) -> float:
        """The value at one step, as a Python float (a host sync; not for training loops).

        Example:
            >>> import mlxlr
            >>> mlxlr.Linear(0.0, 1.0, steps=4).at(1)
            0.25
        """
        return host_float(self(check_int("step", step, minimum=0)))

    def values(self, steps: int | None = None) -> mx.array:
        """Values at steps ``0 .. steps - 1``, vectorized: equal to ``self(mx.arange(steps))``.

        mlxlr's own schedules are evaluated in chunks of 2**18 steps, each
        chunk evaluated before the next is built, which keeps memory warm
        (``docs/performance.md``); a schedule with a user subclass, a
        ``Lambda`` or a ``ReduceOnPlateau`` in it is evaluated in one call.

        Args:
            steps: How many steps. Defaults to ``duration + 1`` (so the final
                value is included); required for unbounded schedules.

        Example:
            >>> import mlxlr
            >>> mlxlr.Linear(0.0, 1.0, steps=4).values().tolist()
            [0.0, 0.25, 0.5, 0.75, 1.0]
        """
        if steps is None:
            if self.duration is None:
                raise ValueError(f"steps is required for an unbounded schedule, got None for {self!r}")
            steps = self.duration + 1
        steps = check_int("steps", steps)
        if steps <= _CHUNK or not all(node._pure for node in walk(self)):
            return self._span(0, steps)
        parts = []
        for start in range(0, steps, _CHUNK):
            part = self._span(start, min(_CHUNK, steps - start))
            mx.eval(part)  # before the next chunk: its intermediates reuse these buffers, still in cache
            parts.append(part)
        return mx.concatenate(parts)

    _pure: bool = False
    """Whether the values derive from the step alone, through no array from outside (a traced state).

    :meth:`values` evaluates such schedules chunk by chunk, which is safe even
    inside ``mx.compile``; other schedules (user subclasses, callables, a
    metric-driven scale) are evaluated in one piece.
    """

    def _span(self, start: int, count: int) -> mx.array:
        """The values at steps ``start .. start + count - 1`` (what :meth:`values` assembles; a join overrides it)."""
        return self(mx.arange(start, start + count, dtype=mx.int64))

    def plot(self, steps: int | None = None, ax: Axes | None = None, **line_kwargs: Any) -> Axes:
        """Draws this schedule with matplotlib and returns the Axes (needs ``pip install "mlxlr[plot]"``).

        One line, labelled with the schedule's ``repr``; the boundaries of its
        joins (``>>``, ``with_warmup``) are dotted vertical lines; the axes
        are labelled ``step`` and ``value``. Up to 4096 steps every step is
        drawn (the line's data equal :meth:`values`); beyond, 4096 steps
        spread evenly plus both sides of every boundary.

        Args:
            steps: Steps ``0 .. steps - 1``. Defaults to ``duration + 1``;
                for an unbounded schedule, ten times the furthest end of a
                bounded part or join boundary in it, or 1000 when there is none.
            ax: The Axes to draw on (pass one to compare schedules); by
                default a new ``matplotlib.pyplot`` figure.
            **line_kwargs: Passed on to ``Axes.plot`` (``color``, ``label``, ...).

        Returns:
            The Axes drawn on.

        Raises:
            ImportError: matplotlib is missing (the message names the extra).
            TypeError: ``steps`` is not an int.
            ValueError: ``steps`` is not positive.

        Example:
            >>> from matplotlib.figure import Figure
            >>> import mlxlr
            >>> ax = Figure().add_subplot()
            >>> _ = mlxlr.CosineDecay(1e-3, decay_steps=100).plot(ax=ax)
            >>> _ = mlxlr.Linear(1e-3, 0.0, steps=100).plot(ax=ax)
            >>> [(line.get_label(), len(line.get_xdata())) for line in ax.lines]
            [('CosineDecay(init=0.001, decay_steps=100)', 101), ('Linear(init=0.001, end=0.0, steps=100)', 101)]
        """
        from ._plotting import plot

        return plot(self, steps, ax, **line_kwargs)

    # Combinators (classes in _combinators.py). -----------------------------

    def with_warmup(self, steps: int, init: float = 0.0) -> Schedule:
        """A linear warmup from ``init`` to this schedule's value at step 0, then this schedule.

        See :class:`mlxlr.WithWarmup`.
        """
        from ._combinators import WithWarmup

        return WithWarmup(self, steps, init)

    def clip(self, lo: float | None = None, hi: float | None = None) -> Schedule:
        """This schedule clipped to ``[lo, hi]``; see :class:`mlxlr.Clip`."""
        from ._combinators import Clip

        return Clip(self, lo, hi)

    def repeat(self, times: int | None = None) -> Schedule:
        """This bounded schedule run ``times`` times (``None``: forever); see :class:`mlxlr.Repeat`."""
        from ._combinators import Repeat

        return Repeat(self, times)

    def stretch(self, factor: float) -> Schedule:
        """This schedule on a time axis scaled by ``factor``; see :class:`mlxlr.Stretch`."""
        from ._combinators import Stretch

        return Stretch(self, factor)

    def for_steps(self, n: int) -> Schedule:
        """This schedule with a duration of ``n`` steps; see :class:`mlxlr.ForSteps`."""
        from ._combinators import ForSteps

        return ForSteps(self, n)

    # Arguments, repr and equality. ----------------------------------------

    @property
    def params(self) -> dict[str, Any]:
        """The constructor arguments (defaults filled in), as given."""
        return dict(self._params)

    def to_config(self) -> dict[str, Any]:
        """A JSON-safe dict that :func:`mlxlr.from_config` turns back into this schedule.

        The class name under ``"type"`` and the constructor's arguments under
        their names (defaults filled in), nested schedules as nested dicts.
        A user subclass needs :func:`mlxlr.register` first; a :class:`~mlxlr.Lambda`
        (a Python callable) has no config.

        Raises:
            TypeError: an unregistered class, or an argument a config cannot
                hold (a callable, an array); the message names it.

        Example:
            >>> import mlxlr
            >>> mlxlr.Linear(0.0, 1.0, steps=10).to_config()
            {'type': 'Linear', 'init': 0.0, 'end': 1.0, 'steps': 10}
            >>> (2 * mlxlr.Constant(1e-3)).to_config()
            {'type': 'Constant', 'value': 0.002}
        """
        from ._config import to_config

        return to_config(self)

    def __repr__(self) -> str:
        sig = _signature(type(self))
        parts: list[str] = []
        for name, value in self._params.items():
            param = sig.parameters[name]
            if param.kind is param.VAR_POSITIONAL:
                parts.extend(format_value(v) for v in value)
            elif param.kind is param.VAR_KEYWORD:
                parts.extend(f"{k}={format_value(v)}" for k, v in value.items())
            elif param.default is not param.empty and _same(value, param.default):
                continue
            else:
                parts.append(f"{name}={format_value(value)}")
        return f"{type(self).__name__}({', '.join(parts)})"

    def _key(self) -> tuple[Any, ...]:
        return (type(self), *(_freeze(v) for v in self._params.values()))

    def __eq__(self, other: object) -> bool:
        if self is other:
            return True
        if not isinstance(other, Schedule):
            return NotImplemented
        return self._key() == other._key()

    def __hash__(self) -> int:
        return hash(self._key())

    # Operators. ----------------------------------------------------------

    def __add__(self, other: Schedule | float) -> Schedule:
        from ._algebra import add

        return add(self, other) if _operand(other) else NotImplemented

    def __radd__(self, other: float) -> Schedule:
        from ._algebra import add

        return add(other, self) if _operand(other) else NotImplemented

    def __sub__(self, other: Schedule | float) -> Schedule:
        from ._algebra import add, scale

        return add(self, scale(other, -1.0)) if _operand(other) else NotImplemented

    def __rsub__(self, other: float) -> Schedule:
        from ._algebra import add, scale

        return add(other, scale(self, -1.0)) if _operand(other) else NotImplemented

    def __mul__(self, other: Schedule | float) -> Schedule:
        from ._algebra import multiply

        return multiply(self, other) if _operand(other) else NotImplemented

    def __rmul__(self, other: float) -> Schedule:
        from ._algebra import multiply

        return multiply(other, self) if _operand(other) else NotImplemented

    def __truediv__(self, other: Schedule | float) -> Schedule:
        from ._algebra import divide

        return divide(self, other) if _operand(other) else NotImplemented

    def __rtruediv__(self, other: float) -> Schedule:
        from ._algebra import divide

        return divide(other, self) if _operand(other) else NotImplemented

    def __neg__(self) -> Schedule:
        from ._algebra import scale

        negated: Schedule = scale(self, -1.0)
        return negated

    def __pos__(self) -> Schedule:
        return self

    def __rshift__(self, other: Schedule) -> Schedule:
        from ._algebra import join

        if not isinstance(other, Schedule):
            hint = (
                "; a number is mlxlr.Constant(x), a callable mlxlr.Lambda(fn)"
                if callable(other) or _number(other)
                else ""
            )
            raise TypeError(f"the right side of >> must be a Schedule, got {other!r} ({type(other).__name__}){hint}")
        return join(self, other)

    def __rrshift__(self, other: object) -> Schedule:
        raise TypeError(f"the left side of >> must be a Schedule, got {other!r} ({type(other).__name__})")


def _number(value: object) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _operand(value: object) -> bool:
    if isinstance(value, Schedule):
        return True
    if isinstance(value, mx.array):
        raise TypeError(
            f"a schedule combines with schedules and Python numbers, got an mx.array {value!r}; "
            "use float(x) or mlxlr.Constant(float(x))"
        )
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return False
    if not math.isfinite(value):
        raise ValueError(f"a number combined with a schedule must be finite, got {value!r}")
    if abs(value) > FLOAT32_MAX:
        raise ValueError(
            f"a number combined with a schedule must be finite in float32 (<= {FLOAT32_MAX:.4g}), got {value!r}"
        )
    return True


def _same(a: object, b: object) -> bool:
    return type(a) is type(b) and _freeze(a) == _freeze(b)


def _freeze(value: Any) -> Any:
    if isinstance(value, Schedule):
        return value
    if isinstance(value, (list, tuple)):  # alike: the expression language and JSON write both as lists
        return ("seq", *(_freeze(v) for v in value))
    if isinstance(value, dict):
        return tuple(sorted((k, _freeze(v)) for k, v in value.items()))
    if isinstance(value, (int, float, str, bool, type(None))):
        return value
    return ("id", id(value))


def format_value(value: Any) -> str:
    """Formats an argument the way the expression language writes it."""
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(format_value(v) for v in value) + "]"
    return repr(value)


def as_schedule(value: object, name: str = "schedule") -> Schedule:
    """Returns a :class:`Schedule` for a schedule, a number or a plain callable."""
    from ._families import Constant, Lambda

    if isinstance(value, Schedule):
        return value
    if isinstance(value, bool):
        raise TypeError(f"{name} must be a Schedule, a number or a callable, got {value!r} (bool)")
    if isinstance(value, (int, float)):
        return Constant(value)
    if callable(value):
        return Lambda(value)
    raise TypeError(f"{name} must be a Schedule, a number or a callable, got {value!r} ({type(value).__name__})")


def walk(schedule: Schedule) -> Iterator[Schedule]:
    """Yields ``schedule`` and every schedule among its arguments, depth first."""
    yield schedule
    for value in schedule._params.values():
        items = value if isinstance(value, (list, tuple)) else [value]
        for item in items:
            if isinstance(item, Schedule):
                yield from walk(item)


__all__ = ["Schedule", "as_step"]
