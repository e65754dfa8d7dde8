"""The algebra of schedules: sums, products, scales, quotients and joins.

Every operator of :class:`~mlxlr.Schedule` ends here. The builders fold what
can be folded (``2 * (3 * s)`` is one :class:`Scaled`, ``a >> b >> c`` one
:class:`Join`), so a schedule tree stays as shallow as the expression allows.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable, Sequence
from typing import Any, final

import mlx.core as mx
from typing_extensions import override

from ._checks import FLOAT32_MAX, MAX_STEP, StepLike, as_step, check_steps, host_float, since
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

    _pure = True

    @override
    def _span(self, start: int, count: int) -> mx.array:
        return self._eval(_steps(start, count))  # steps of an array that fits in memory need no clipping

    def _eval_since(self, t: mx.array, start: int) -> mx.array:
        """This schedule at the local step ``t - start``, for a normalized global step ``t``.

        Where ``t < start`` (a branch a join does not select) any finite value
        will do. The default clips the local step at 0; families override it
        to form the local step inside their own formula, one operation fewer
        on the way from the step to the value, which keeps a compiled join
        within the depth MLX fuses into one kernel. Either way the value for
        ``t >= start`` equals ``_eval(t - start)`` bit for bit.
        """
        return self._eval(since(t, start) if start else t)

    # The stacked protocol: how a Join evaluates many pieces of one class at once.

    @classmethod
    def _stack(cls, pieces: Sequence[Any]) -> Stacked | None:
        """The numbers of ``pieces`` (instances of ``cls``) in arrays, one entry per piece.

        ``None`` (the default) means the class has no stacked form, and a
        :class:`Join` evaluates its pieces one by one. Arrays are built from
        Python numbers only (:func:`floats`, :func:`ints`), never by graph
        operations: the result is kept and reused across compiled functions.
        """
        return None

    @classmethod
    def _eval_stacked(cls, t: mx.array, params: dict[str, mx.array]) -> mx.array:
        """Many pieces of this class at once: ``params`` rows aligned with the local steps ``t``.

        Each row of :attr:`Stacked.rows` arrives either gathered to ``t``'s
        shape (one piece per step) or as a vector on ``t``'s last axis (every
        piece at one step); :attr:`Stacked.shared` arrays arrive as they are.
        The result equals each piece's ``_eval`` bit for bit: the same
        operations in the same order, with arrays where ``_eval`` has Python
        numbers. Arrays are inputs of a compiled kernel, not constants baked
        into it, so a join compiles once whatever its parameters or length.
        """
        raise NotImplementedError


@final
class Stacked:
    """The stacked form of pieces of one class (what :meth:`Builtin._stack` returns).

    Args:
        rows: One 1-D array per parameter, one entry per piece, gathered per step.
        shared: Arrays passed as they are (lookup tables indexed by a row).
    """

    def __init__(self, rows: dict[str, mx.array], shared: dict[str, mx.array] | None = None) -> None:
        self.rows = rows
        self.shared = shared or {}


def floats(values: Iterable[float]) -> mx.array:
    """A ``float32`` array of Python numbers, rounded as MLX rounds a Python scalar."""
    return mx.array(list(values), dtype=mx.float32)


def ints(values: Iterable[int]) -> mx.array:
    """An ``int64`` array of Python ints."""
    return mx.array(list(values), dtype=mx.int64)


def pick(values: mx.array, index: mx.array) -> mx.array:
    """``values[index]`` for a 1-D ``values`` and an index array of any shape.

    A scalar index takes ``mx.take``; an array index takes
    ``take_along_axis``, several times faster on MLX's CPU backend.
    """
    if index.ndim == 0:
        return mx.take(values, index)
    flat = index if index.ndim == 1 else index.reshape(-1)
    out = mx.take_along_axis(values, flat, axis=0)
    return out if index.ndim == 1 else out.reshape(index.shape)


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


def _steps(start: int, count: int) -> mx.array:
    return mx.arange(start, start + count, dtype=mx.int64)


def evaluate_since(schedule: Schedule, t: mx.array, start: int) -> mx.array:
    """Evaluates any schedule at the local step ``t - start`` (see :meth:`Builtin._eval_since`)."""
    if isinstance(schedule, Builtin):
        return schedule._eval_since(t, start)
    return evaluate(schedule, since(t, start) if start else t)


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
        if functools.reduce(add, self.terms) != self:  # built directly, as the operators would not: a call
            return super().__repr__()
        text = paren(self.terms[0], PREC_SUM)
        for term in self.terms[1:]:
            value = _constant_value(term)
            if value is not None:
                text += f" - {number(-value)}" if value < 0 else f" + {number(value)}"
            elif isinstance(term, Scaled) and term.factor < 0 and scale(term.schedule, term.factor) == term:
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
        if functools.reduce(multiply, self.factors) != self:  # built directly, as the operators would not
            return super().__repr__()
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
        if scale(self.schedule, self.factor) != self:  # built directly, as the operators would not: a call
            return super().__repr__()
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

    A join costs about one evaluation per class of its pieces, whatever their
    number: pieces of one family are evaluated together from their parameters
    in arrays, which a compiled step takes as inputs, so a join of 1000 pieces
    compiles once and runs about as fast as one piece (other pieces, such as
    user schedules, cost one evaluation each). ``docs/performance.md`` has
    the measurements.

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
        if len(schedules) == 0:
            raise ValueError("schedules must hold at least one schedule, got []")
        bounds = check_steps("boundaries", boundaries, allow_empty=True)
        if len(bounds) != len(schedules) - 1:
            raise ValueError(
                f"boundaries must hold len(schedules) - 1 = {len(schedules) - 1} steps, got {len(bounds)}: {bounds!r}"
            )
        pieces = [as_schedule(s, f"schedules[{i}]") for i, s in enumerate(schedules)]
        self.schedules = tuple(pieces)
        self.boundaries = tuple(bounds)
        self._params = {"schedules": list(pieces), "boundaries": bounds}
        self._precedence = PREC_JOIN if self._chained() else PREC_ATOM
        self._plan: _JoinPlan | None = None

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
        return self._eval_since(t, 0)

    def _planned(self) -> _JoinPlan:
        """The join's plan, built on first use and kept."""
        if self._plan is None:
            self._plan = _JoinPlan(self.schedules, self.boundaries)
        return self._plan

    @override
    def _eval_since(self, t: mx.array, start: int) -> mx.array:
        plan = self._planned()
        if not plan.groups:
            return self._eval_chain(t, start)
        local = since(t, start) if start else t
        if t.size * len(self.schedules) <= _SIDE_BY_SIDE:
            return plan.side_by_side(local)
        return plan.gathered(local)

    @override
    def _span(self, start: int, count: int) -> mx.array:
        """``values``: each piece evaluated on its own steps only, unless many pieces stack.

        The steps ``start .. start + count - 1`` fall into consecutive slices,
        one per piece: each piece is evaluated on its slice and the slices are
        concatenated, which spares every other piece's formula and the
        selection (the values are those of the whole join, bit for bit).
        Many pieces of stackable classes take the join's gathered path
        instead, a few operations whatever their number, with each step's
        piece found by a running sum rather than a search.
        """
        stop = start + count
        edges = list(zip([0, *self.boundaries], [*self.boundaries, stop]))
        used = [i for i, (lo, hi) in enumerate(edges) if lo < stop and hi > start]
        if len(used) > _SLICED and self._planned().groups:
            # Consecutive steps: each step's piece is the count of boundaries passed, a running sum, no search.
            marks = [0] + [b - start for b in self.boundaries[used[0] : used[-1]]]
            passed = [used[0]] + [1] * (len(marks) - 1)
            index = mx.zeros((count,), dtype=mx.int32).at[mx.array(marks)].add(mx.array(passed, dtype=mx.int32))
            return self._planned().gathered(_steps(start, count), mx.cumsum(index))
        parts = []
        for i in used:
            lo, hi = max(start, edges[i][0]), min(stop, edges[i][1])
            piece, offset = self.schedules[i], lo - edges[i][0]
            if isinstance(piece, Builtin):
                parts.append(piece._span(offset, hi - lo))
            else:
                parts.append(evaluate(piece, _steps(offset, hi - lo)))
        return parts[0] if len(parts) == 1 else mx.concatenate(parts)

    def _eval_chain(self, t: mx.array, start: int = 0) -> mx.array:
        """Every piece and a ``where`` per boundary: cheapest for a few pieces that do not stack.

        The last piece ends up outermost, one ``where`` from the value: the
        long decay that usually ends a schedule keeps its formula within the
        depth MLX fuses into one kernel.
        """
        out = evaluate_since(self.schedules[0], t, start)
        for boundary, piece in zip(self.boundaries, self.schedules[1:]):
            out = mx.where(t < start + boundary, out, evaluate_since(piece, t, start + boundary))
        return out

    @override
    def __repr__(self) -> str:
        if self._precedence == PREC_JOIN and functools.reduce(join, self.schedules) == self:
            return " >> ".join(paren(p, PREC_JOIN + 1) for p in self.schedules)
        return super().__repr__()


_PAST_END = 2**62
"""Above every step (steps are clipped at 2**60): the end of the last piece, and padding."""

_LOWEST = -FLOAT32_MAX
"""float32's lowest finite value: ``max(x, _LOWEST) == x`` bit for bit for every finite ``x``."""

_SIDE_BY_SIDE = 2**12
"""Up to this many (step, piece) pairs, a join evaluates every piece at every step side by side."""

_COMPARE_ALL = 2**16
"""Up to this many (step, boundary) pairs, a join finds pieces by comparing each step with every boundary."""

_SLICED = 16
"""Up to this many pieces (or any number that do not stack), ``values`` evaluates each piece on its own slice."""

_SEARCHSORTED: Callable[..., mx.array] | None = getattr(mx, "searchsorted", None)
"""MLX's ``searchsorted`` (0.32 on), used on the CPU only: not every GPU backend has it."""


@final
class _Group:
    """Pieces of one class evaluated at once from stacked parameters."""

    def __init__(self, cls: type[Builtin], stacked: Stacked, members: list[int], edges: list[tuple[int, int]]) -> None:
        self.cls = cls
        self.rows = stacked.rows
        self.shared = stacked.shared
        self.starts = ints(edges[i][0] for i in members)
        self.stops = ints(edges[i][1] for i in members)
        local = [0] * len(edges)
        for row, i in enumerate(members):
            local[i] = row
        # piece index -> row of this group (0 for other pieces); None: the group is every piece, in order
        self.local = None if len(members) == len(edges) else mx.array(local, dtype=mx.int32)


@final
class _JoinPlan:
    """How a :class:`Join` evaluates: its boundaries and parameters in arrays, built once.

    Pieces of a class with a stacked form (two or more of them) are evaluated
    once for the whole class, with their parameters in arrays; other pieces
    are evaluated on their own. For a few steps (a training step's scalar)
    every piece of a class is evaluated side by side and the active one is
    picked by a ``max``: one fused kernel and one reduction per class. For
    many steps (``values``), each step's piece is found by its boundaries,
    and its parameters and start are gathered. Either way the cost per step
    is a handful of operations per class, whatever the number of pieces, and
    the parameter arrays are inputs of a compiled kernel, not baked into it.
    """

    def __init__(self, pieces: Sequence[Schedule], boundaries: Sequence[int]) -> None:
        n = len(boundaries)
        self.edges = list(zip([0, *boundaries], [*boundaries, _PAST_END]))
        self.bounds = ints(boundaries)
        self.starts = ints([0, *boundaries])
        self.top = 1 << (n.bit_length() - 1) if n else 0
        self.padded = ints([*boundaries, *[_PAST_END] * (2 * self.top - 1 - n)])
        classes: dict[type[Builtin], list[int]] = {}
        for i, piece in enumerate(pieces):
            if isinstance(piece, Builtin):
                classes.setdefault(type(piece), []).append(i)
        stacks: list[tuple[type[Builtin], list[int], Stacked]] = []
        for cls, members in classes.items():
            stacked = cls._stack([pieces[i] for i in members]) if len(members) > 1 else None
            if stacked is not None:
                stacks.append((cls, members, stacked))
        stacks.sort(key=lambda stack: -len(stack[1]))
        self.groups = [_Group(cls, stacked, members, self.edges) for cls, members, stacked in stacks]
        grouped = {i for _, members, _ in stacks for i in members}
        self.singles = [(i, piece) for i, piece in enumerate(pieces) if i not in grouped]
        group_of = [-1] * len(pieces)
        for g, (_, members, _) in enumerate(stacks):
            for i in members:
                group_of[i] = g
        self.group_of = mx.array(group_of, dtype=mx.int32)

    def side_by_side(self, t: mx.array) -> mx.array:
        """Every piece of a group at every step, on a new last axis; the active one picked by a ``max``."""
        at = t if t.ndim == 0 else mx.expand_dims(t, -1)
        out: mx.array | None = None
        for group in self.groups:
            local = mx.maximum(at - group.starts, 0)
            value = group.cls._eval_stacked(local, {**group.rows, **group.shared})
            value = mx.where((at >= group.starts) & (at < group.stops), value, _LOWEST)
            # one step: a reduction over all axes, on the H100 at least as cheap as over the last axis (probes.py
            # select: 45.0 against 51.3 us a compiled call in one run, 47.0 against 48.2 in another)
            value = value.max() if t.ndim == 0 else value.max(axis=-1)
            out = value if out is None else mx.maximum(out, value)
        assert out is not None
        for i, piece in self.singles:
            start, stop = self.edges[i]
            active = t >= start if stop == _PAST_END else (t >= start) & (t < stop)
            out = mx.maximum(out, mx.where(active, evaluate(piece, since(t, start)), _LOWEST))
        return out

    def gathered(self, t: mx.array, index: mx.array | None = None) -> mx.array:
        """Each step's piece found by its boundaries; its start and parameters gathered.

        ``index`` (from :meth:`Join._span`) gives each step's piece for the
        consecutive steps ``t``, which derive from no traced input: the lookups
        are then evaluated before the formula, which frees their
        intermediates early (``values(10**6)`` of 1000 pieces: 10 ms instead
        of 18 on MLX's CPU backend).
        """
        idx = self.index(t) if index is None else index
        local = t - pick(self.starts, idx)
        group_of = pick(self.group_of, idx) if len(self.groups) > 1 else None
        lookups = []
        for group in self.groups:
            row = idx if group.local is None else pick(group.local, idx)
            lookups.append({name: pick(values, row) for name, values in group.rows.items()})
        if index is not None:
            mx.eval(local, lookups, *([] if group_of is None else [group_of]))
        out: mx.array | None = None
        for g, (group, params) in enumerate(zip(self.groups, lookups)):
            value = group.cls._eval_stacked(local, {**params, **group.shared})
            out = value if out is None or group_of is None else mx.where(group_of == g, value, out)
        assert out is not None
        for i, piece in self.singles:
            out = mx.where(idx == i, evaluate(piece, local), out)
        return out

    def index(self, t: mx.array) -> mx.array:
        """The piece each step is in: the number of boundaries at or below it.

        One comparison with every boundary for a few steps; for many steps,
        ``searchsorted`` where MLX has it on the CPU, else a binary search of
        ``log2(pieces)`` gathers.
        """
        if t.size * self.bounds.size <= _COMPARE_ALL:
            return (mx.expand_dims(t, -1) >= self.bounds).sum(-1)
        if _SEARCHSORTED is not None and mx.default_device() == mx.cpu:
            return _SEARCHSORTED(self.bounds, t, side="right")
        idx = mx.zeros(t.shape, dtype=mx.int32)
        k = self.top
        while k:
            step = idx + k
            idx = mx.where(pick(self.padded, step - 1) <= t, step, idx)
            k >>= 1
        return idx


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
        if abs(1.0 / float(right)) > FLOAT32_MAX:
            raise ValueError(f"cannot divide a schedule by {right!r}: its inverse overflows float32")
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
