"""The abstract :class:`Schedule`: recorded arguments, values, equality, and the seam to the layers above.

A schedule records the arguments its constructor was called with (in
``__new__``, so user subclasses get it for free); ``repr``, equality,
hashing and configs are derived from them. The operators and combinator
methods build classes that live in higher modules (the algebra, the
combinators, configs): :data:`SEAM` holds them, filled in once by the
package's ``__init__``, so this module imports nothing above it.
"""

from __future__ import annotations

import abc
import inspect
import math
from collections.abc import Callable, Iterable, Iterator
from typing import TYPE_CHECKING, Any, ClassVar

import mlx.core as mx
from typing_extensions import Self

from . import _printing
from ._contract import called
from ._steps import StepLike, arange, host_float
from ._units import Binding, Unit, check_rebinding
from ._validate import FLOAT32_MAX, check_int, is_number, plain

if TYPE_CHECKING:
    from matplotlib.axes import Axes

MAX_DEPTH = 100
"""How deep schedules may nest: a schedule inside a schedule is one level more.

Evaluation, printing, equality and configs walk a tree recursively, a few
Python frames a level: 100 levels stay well inside Python's default limit of
1000 frames. Chains stay one level however long (``a >> b >> c``, ``a + b +
c`` and ``a * b * c`` build one flat node), so only trees built inside out
(``s.with_warmup(...)`` of a ``with_warmup``, ``1 - s`` of a ``1 - s``, ...)
reach the limit; they are refused at construction.
"""

CHUNK = 2**18
"""Steps :meth:`Schedule.values` evaluates at once, each chunk before the next is built.

One evaluation over 10**6 steps allocates tens of MB of intermediates in
fresh pages, which the kernel maps one by one: thousands of page faults a
call on MLX's CPU backend, how many depending on the heap's history. Chunks
reuse the buffers of the chunk before (docs/performance.md has the numbers).
"""

_SIGNATURES: dict[type, inspect.Signature] = {}


def signature(cls: type) -> inspect.Signature:
    """The signature of ``cls.__init__`` (``self`` first), cached."""
    sig = _SIGNATURES.get(cls)
    if sig is None:
        sig = inspect.signature(cls.__init__)  # type: ignore[misc]
        _SIGNATURES[cls] = sig
    return sig


class Seam:
    """The methods of :class:`Schedule` whose work lives in higher modules: the one upward reference.

    ``mlxlr/__init__.py`` sets every attribute once, at import: the
    operators to the algebra's builders, the combinator methods to their
    classes, ``to_config`` to the config writer, ``plot`` to the plotting
    module. Nothing else in this module
    or below it refers to a higher module.
    """

    add: Callable[[Schedule | float, Schedule | float], Schedule]
    scale: Callable[[Schedule | float, float], Schedule | float]
    multiply: Callable[[Schedule | float, Schedule | float], Schedule]
    divide: Callable[[Schedule | float, Schedule | float], Schedule]
    join: Callable[[Schedule, Schedule], Schedule]
    with_warmup: Callable[[Schedule, int | Unit, float], Schedule]
    clip: Callable[[Schedule, float | None, float | None], Schedule]
    repeat: Callable[[Schedule, int | None], Schedule]
    stretch: Callable[[Schedule, float], Schedule]
    for_steps: Callable[[Schedule, int | Unit], Schedule]
    cooldown: Callable[[Schedule, int | Unit, int | Unit, str, float], Schedule]
    to_config: Callable[[Schedule], dict[str, Any]]
    plot: Callable[..., Axes]
    call: Callable[[type[Schedule], tuple[Any, ...], dict[str, Any]], Schedule]
    """A class called with a unit (or an unbound schedule) among its arguments: the unbound stand-in."""
    operation: Callable[..., Schedule]
    """An operator with an unbound operand: ``operation(symbol, *operands)``, the unbound stand-in."""


SEAM = Seam()


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
    accepted step into a non-negative ``int64`` array. Where mlxlr calls it
    (``at``, ``values``, joins, combinators, ``ScheduledOptimizer``), a result
    that breaks these rules is a ``TypeError`` naming the class and the fix.
    The contract in full: ``docs/custom.md``, "The contract".

    Operators: ``a + b``, ``a - b``, ``a * b``, ``a / b`` and ``-a`` combine
    schedules and numbers (Python's and NumPy scalars) pointwise; ``a >> b``
    runs ``a`` for ``a.duration`` steps and then ``b`` from its own step 0.
    Numbers work on either side, but an ``mx.array`` on the left
    (``mx.array(2.0) * s``) raises inside MLX before Python can ask the
    schedule: write ``s * x``.

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
    _depth: int = 1
    """Levels of schedules nested in this one, itself included: 1 for a schedule with none (at most ``MAX_DEPTH``)."""
    _precedence: int = _printing.PREC_ATOM
    __array_ufunc__ = None
    """NumPy defers to the schedule's operators: ``np.float64(2) * s`` is ``s.__rmul__``, not an object array."""
    _method: ClassVar[tuple[str, tuple[str, ...]] | None] = None
    """For classes that a method builds: the method's name and the parameters it takes positionally."""
    _step_only: ClassVar[bool] = False
    """Whether the values derive from the step alone, through no array from outside (a traced state).

    :meth:`values` evaluates such schedules chunk by chunk, which is safe even
    inside ``mx.compile``; other schedules (user subclasses, callables, a
    metric-driven scale) are evaluated in one piece.
    """
    _durations: ClassVar[tuple[str, ...]] = ()
    """The parameters that are durations in steps: they take units (``frac``, ``epochs``, ``tokens``, ``REST``)."""
    _unbound: ClassVar[bool] = False
    """Whether this is the stand-in of a schedule written in units, which :meth:`bind` turns into steps."""

    def __new__(cls, *args: Any, **kwargs: Any) -> Schedule:
        if _holds_units(args) or _holds_units(kwargs.values()):
            # Written in units: an unbound stand-in records the call, and Python skips cls.__init__.
            return SEAM.call(cls, args, kwargs)
        self = super().__new__(cls)
        try:
            bound = signature(cls).bind(self, *args, **kwargs)
        except TypeError:
            params: dict[str, Any] = {}  # __init__ raises the real error
        else:
            bound.apply_defaults()
            params = cls._record(dict(list(bound.arguments.items())[1:]))
        object.__setattr__(self, "_params", params)
        object.__setattr__(self, "_depth", checked_depth(cls, 1 + deepest(params.values())))
        return self

    @classmethod
    def _assembled(cls, params: dict[str, Any] | None, depth: int) -> Self:
        """An instance whose arguments are recorded as ``params``, without ``__new__``'s work or ``__init__``.

        For builders whose every argument is already checked (the operators
        extending a chain by one piece): the caller sets the attributes that
        ``__init__`` would (and ``_params`` later, if it passes ``None``).
        ``depth`` is the instance's depth, checked here.
        """
        self = object.__new__(cls)
        if params is not None:
            object.__setattr__(self, "_params", params)
        object.__setattr__(self, "_depth", checked_depth(cls, depth))
        return self

    @classmethod
    def _record(cls, arguments: dict[str, Any]) -> dict[str, Any]:
        """The arguments as recorded: NumPy and MLX scalars as Python numbers, sequences as lists.

        ``*args`` stay a tuple. Called before ``__init__``, so it must not
        raise on bad input (``__init__`` reports it); a class may extend it.
        """
        sig = signature(cls)
        return {
            name: value if sig.parameters[name].kind is inspect.Parameter.VAR_POSITIONAL else plain(value)
            for name, value in arguments.items()
        }

    @abc.abstractmethod
    def __call__(self, step: StepLike) -> mx.array:
        """Returns the value at ``step``: a float32 array of the step's shape."""

    @property
    def duration(self) -> int | None:
        """Steps this schedule spans as the left side of ``>>``; ``None`` if unbounded."""
        return None

    # Units of a run. ------------------------------------------------------

    @property
    def bound(self) -> bool:
        """Whether the schedule is in steps; ``False`` while it holds units (``frac``, ``epochs``, ...)."""
        return not self._unbound

    def bind(
        self, total_steps: int | None = None, steps_per_epoch: int | None = None, tokens_per_step: float | None = None
    ) -> Schedule:
        """This schedule with its units turned into steps: an ordinary schedule.

        Each unit becomes the nearest whole step (halves up, at least 1):
        ``frac(p)`` is ``p * total_steps``, ``epochs(n)`` is ``n *
        steps_per_epoch``, ``tokens(n)`` is ``n / tokens_per_step``, and
        ``REST`` what makes the schedule last exactly ``total_steps``. The
        result equals (``==``) the same schedule written in steps. A schedule
        without units is returned as it is, unless :meth:`bind` built it with
        other numbers than these (binding twice with different numbers would
        silently keep the first: it raises). ``docs/units.md`` has the details.

        Args:
            total_steps: Optimizer updates in the run.
            steps_per_epoch: Optimizer updates per epoch.
            tokens_per_step: Tokens per optimizer update (global batch, all processes).

        Returns:
            The bound schedule.

        Raises:
            mlxlr.UnboundError: a unit whose number is not given; the message names it.
            ValueError: bad numbers, a ``REST`` that the other pieces leave no
                room for, or a schedule bound before with other numbers.

        Example:
            >>> import mlxlr
            >>> from mlxlr import REST, frac
            >>> s = mlxlr.Linear(0.0, 1.0, steps=frac(0.1)) >> mlxlr.CosineDecay(1.0, decay_steps=REST)
            >>> s.bound
            False
            >>> s.bind(total_steps=1005)
            Linear(init=0.0, end=1.0, steps=101) >> CosineDecay(init=1.0, decay_steps=904)
        """
        binding = Binding.of(total_steps, steps_per_epoch, tokens_per_step)
        for node in walk(self):
            check_rebinding(node, binding)
        return self

    # Values for humans. -------------------------------------------------

    def at(self, step: int) -> float:
        """The value at one step, as a Python float (a host sync; not for training loops).

        Example:
            >>> import mlxlr
            >>> mlxlr.Linear(0.0, 1.0, steps=4).at(1)
            0.25
        """
        return host_float(called(self, check_int("step", step, minimum=0, maximum=None)))

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
        if steps <= CHUNK or not all(node._step_only for node in walk(self)):
            return self._span(0, steps)
        parts = []
        for start in range(0, steps, CHUNK):
            part = self._span(start, min(CHUNK, steps - start))
            mx.eval(part)  # before the next chunk: its intermediates reuse these buffers, still in cache
            parts.append(part)
        return mx.concatenate(parts)

    def _span(self, start: int, count: int) -> mx.array:
        """The values at the consecutive steps ``start .. start + count - 1``, for :meth:`values`."""
        return called(self, arange(start, count))

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
        return SEAM.plot(self, steps, ax, **line_kwargs)

    # Combinators (the seam: their classes live in mlxlr._combinators). ------

    def with_warmup(self, steps: int | Unit, init: float = 0.0) -> Schedule:
        """A linear warmup from ``init`` to this schedule's value at step 0, then this schedule.

        See :class:`mlxlr.WithWarmup`.
        """
        return SEAM.with_warmup(self, steps, init)

    def clip(self, lo: float | None = None, hi: float | None = None) -> Schedule:
        """This schedule clipped to ``[lo, hi]``; see :class:`mlxlr.Clip`."""
        return SEAM.clip(self, lo, hi)

    def repeat(self, times: int | None = None) -> Schedule:
        """This bounded schedule run ``times`` times (``None``: forever); see :class:`mlxlr.Repeat`."""
        return SEAM.repeat(self, times)

    def stretch(self, factor: float) -> Schedule:
        """This schedule on a time axis scaled by ``factor``; see :class:`mlxlr.Stretch`."""
        return SEAM.stretch(self, factor)

    def for_steps(self, n: int | Unit) -> Schedule:
        """This schedule with a duration of ``n`` steps; see :class:`mlxlr.ForSteps`."""
        return SEAM.for_steps(self, n)

    def cooldown(self, at: int | Unit, steps: int | Unit, shape: str = "linear", end: float = 0.0) -> Schedule:
        """This schedule until step ``at``, then a decay from its value there to ``end`` over ``steps`` steps.

        ``shape`` is ``"linear"``, ``"cosine"`` or ``"1-sqrt"``; see :class:`mlxlr.Cooldown`.
        """
        return SEAM.cooldown(self, at, steps, shape, end)

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
        return SEAM.to_config(self)

    def __repr__(self) -> str:
        return _printing.printed(self)

    def _written(self) -> str:
        """This schedule's expression, from its arguments (``repr`` gives the texts of the schedules among them).

        A class that prints in a notation of its own (operators) overrides
        this, not ``__repr__``: ``repr`` writes a tree's schedules children
        first, in a loop, so that printing a deep tree is no deep recursion.
        """
        cls = type(self)
        return _printing.expression(cls.__name__, self._params, signature(cls), self._method)

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

    # Operators (the seam: the algebra builds their results). -----------------

    def __add__(self, other: Schedule | float) -> Schedule:
        value = _operand(other)
        if value is None:
            return NotImplemented
        return SEAM.operation("+", self, value) if _unbound(self, value) else SEAM.add(self, value)

    def __radd__(self, other: float) -> Schedule:
        value = _operand(other)
        if value is None:
            return NotImplemented
        return SEAM.operation("+", value, self) if _unbound(self, value) else SEAM.add(value, self)

    def __sub__(self, other: Schedule | float) -> Schedule:
        value = _operand(other)
        if value is None:
            return NotImplemented
        return SEAM.operation("-", self, value) if _unbound(self, value) else SEAM.add(self, SEAM.scale(value, -1.0))

    def __rsub__(self, other: float) -> Schedule:
        value = _operand(other)
        if value is None:
            return NotImplemented
        return SEAM.operation("-", value, self) if _unbound(self, value) else SEAM.add(value, SEAM.scale(self, -1.0))

    def __mul__(self, other: Schedule | float) -> Schedule:
        value = _operand(other)
        if value is None:
            return NotImplemented
        return SEAM.operation("*", self, value) if _unbound(self, value) else SEAM.multiply(self, value)

    def __rmul__(self, other: float) -> Schedule:
        value = _operand(other)
        if value is None:
            return NotImplemented
        return SEAM.operation("*", value, self) if _unbound(self, value) else SEAM.multiply(value, self)

    def __truediv__(self, other: Schedule | float) -> Schedule:
        value = _operand(other)
        if value is None:
            return NotImplemented
        return SEAM.operation("/", self, value) if _unbound(self, value) else SEAM.divide(self, value)

    def __rtruediv__(self, other: float) -> Schedule:
        value = _operand(other)
        if value is None:
            return NotImplemented
        return SEAM.operation("/", value, self) if _unbound(self, value) else SEAM.divide(value, self)

    def __neg__(self) -> Schedule:
        return SEAM.operation("neg", self) if self._unbound else SEAM.multiply(self, -1.0)

    def __pos__(self) -> Schedule:
        return self

    def __rshift__(self, other: Schedule) -> Schedule:
        if not isinstance(other, Schedule):
            hint = (
                "; a number is mlxlr.Constant(x), a callable mlxlr.Lambda(fn)"
                if callable(other) or is_number(other)
                else ""
            )
            raise TypeError(f"the right side of >> must be a Schedule, got {other!r} ({type(other).__name__}){hint}")
        return SEAM.operation(">>", self, other) if _unbound(self, other) else SEAM.join(self, other)

    def __rrshift__(self, other: object) -> Schedule:
        raise TypeError(f"the left side of >> must be a Schedule, got {other!r} ({type(other).__name__})")


def _holds_units(values: Any) -> bool:
    """Whether arguments hold a unit or an unbound schedule (in a list or tuple too)."""
    for value in values:
        if isinstance(value, Unit) or (isinstance(value, Schedule) and value._unbound):
            return True
        if isinstance(value, (list, tuple)) and _holds_units(value):
            return True
    return False


def _unbound(*operands: object) -> bool:
    return any(isinstance(x, Schedule) and x._unbound for x in operands)


def _operand(value: object) -> Schedule | float | None:
    """What an operator takes for ``value``: a schedule, or a finite number (NumPy scalars as Python numbers).

    ``None`` (the operator returns ``NotImplemented``) for anything else;
    arrays and bools, which would silently mean something else, are refused.
    """
    if isinstance(value, Schedule):
        return value
    if isinstance(value, mx.array):
        raise TypeError(
            f"a schedule combines with schedules and Python numbers, got an mx.array {value!r}; "
            "use float(x) or mlxlr.Constant(float(x))"
        )
    number = plain(value)
    if isinstance(number, bool):
        raise TypeError(f"a schedule combines with schedules and numbers, got {value!r} ({type(value).__name__})")
    if isinstance(number, list) and hasattr(value, "ndim"):  # a NumPy array (NumPy defers to us: __array_ufunc__)
        raise TypeError(
            f"a schedule combines with schedules and numbers, got an array {value!r} ({type(value).__name__}); "
            "an array of schedules is a list: [s * x for x in values]"
        )
    if not is_number(number):
        return None
    if not math.isfinite(number):
        raise ValueError(f"a number combined with a schedule must be finite, got {value!r}")
    if abs(number) > FLOAT32_MAX:
        raise ValueError(
            f"a number combined with a schedule must be finite in float32 (<= {FLOAT32_MAX:.4g}), got {value!r}"
        )
    return float(number)


def _freeze(value: Any) -> Any:
    """A hashable form of an argument for equality: schedules as they are, sequences alike."""
    if isinstance(value, Schedule):
        return value
    if isinstance(value, (list, tuple)):  # alike: the expression language and JSON write both as lists
        return ("seq", *(_freeze(v) for v in value))
    if isinstance(value, dict):
        return tuple(sorted((k, _freeze(v)) for k, v in value.items()))
    if isinstance(value, (int, float, str, bool, type(None), Unit)):
        return value
    return ("id", id(value))


def children(schedule: Schedule) -> Iterator[Schedule]:
    """Yields the schedules among ``schedule``'s recorded arguments, in order."""
    for value in schedule._params.values():
        for item in value if isinstance(value, (list, tuple)) else [value]:
            if isinstance(item, Schedule):
                yield item


def deepest(values: Iterable[Any]) -> int:
    """The depth of the deepest schedule among ``values`` and the items of those that are lists (0 for none)."""
    depth = 0
    for value in values:
        for item in value if isinstance(value, (list, tuple)) else (value,):
            if isinstance(item, Schedule) and item._depth > depth:
                depth = item._depth
    return depth


def checked_depth(cls: type, depth: int) -> int:
    """``depth``, if it is at most :data:`MAX_DEPTH`; else a ``ValueError`` that says how to build flatter."""
    if depth > MAX_DEPTH:
        raise ValueError(
            f"the expression nests deeper than {MAX_DEPTH} levels: this {cls.__name__} would be level {depth}; "
            "build it flatter (a chain of >>, + or * stays one level however long)"
        )
    return depth


def walk(schedule: Schedule) -> Iterator[Schedule]:
    """Yields ``schedule`` and every schedule among its recorded arguments, depth first."""
    yield schedule
    for child in children(schedule):
        yield from walk(child)


def require_schedule(value: object, name: str = "schedule") -> Schedule:
    """Returns ``value`` if it is a :class:`Schedule`, else raises ``TypeError`` naming ``name``."""
    if not isinstance(value, Schedule):
        raise TypeError(f"{name} must be a Schedule, got {value!r} ({type(value).__name__})")
    return value
