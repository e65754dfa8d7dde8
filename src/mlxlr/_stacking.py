"""Stacked evaluation: many pieces of a join evaluated at once, from their parameters in arrays.

A :class:`~mlxlr.Join` of many pieces would cost one formula per piece on
every step. Instead, pieces of one family with the same non-numeric
attributes form a :class:`Stack`: each numeric attribute becomes an array
with one entry per piece, and the family's own :meth:`~mlxlr._native.Native.formula`
runs once on a stand-in instance whose attributes are those arrays, so the
stacked values equal each piece's own, bit for bit, by construction (the
same operations in the same order, with arrays where the piece has Python
numbers). The arrays are inputs of a compiled kernel, not constants baked
into it, so a join compiles once whatever its parameters or its length.

A family opts in with ``_stackable = True`` when its formula reads its
numbers only in array operations (no Python ``if`` on them, no arithmetic
between two of them); :class:`~mlxlr._steps.IntPower` attributes stack into
a :class:`StackedPower`. The :class:`Plan` decides, per evaluation, how the
active piece is chosen.

The same stand-in makes a single value of such a family cheap outside
``mx.compile``: :class:`Stackable` evaluates a scalar step with one compiled
kernel per family, its numbers passed in as arrays (``docs/performance.md``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import Any, ClassVar, final

import mlx.core as mx
from typing_extensions import override

from ._native import Native, evaluate
from ._schedule import Schedule
from ._steps import MAX_STEP, IntPower, StepLike, as_step, host_float, since
from ._validate import FLOAT32_MAX, check_int

PAST_END = 2**62
"""Above every step (steps are clipped at 2**60): the end of the last piece, and padding."""

LOWEST = -FLOAT32_MAX
"""float32's lowest finite value: ``max(x, LOWEST) == x`` bit for bit for every finite ``x``."""

SIDE_BY_SIDE = 2**12
"""Up to this many (step, piece) pairs, a join evaluates every piece at every step side by side."""

COMPARE_ALL = 2**16
"""Up to this many (step, boundary) pairs, a join finds pieces by comparing each step with every boundary."""

SLICED = 16
"""Up to this many pieces (or any number that do not stack), ``values`` evaluates each piece on its own slice."""

_SEARCHSORTED: Callable[..., mx.array] | None = getattr(mx, "searchsorted", None)
"""MLX's ``searchsorted`` (0.32 on), used on the CPU only: not every GPU backend has it."""

_STATIC = (bool, str, type(None))


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


@final
class StackedPower:
    """Many :class:`~mlxlr._steps.IntPower` at once: their tables in one flat array, a row per piece.

    The tables are padded to the same number of levels with ones (the digits
    there are 0, and ``x * 1.0 == x``); ``offset`` is where a piece's row
    starts. Its call repeats ``IntPower``'s arithmetic with gathers.
    """

    def __init__(self, flat: mx.array, levels: int, limit: mx.array, offset: mx.array) -> None:
        self.flat, self.levels, self.limit, self.offset = flat, levels, limit, offset

    @staticmethod
    def tables(powers: Sequence[IntPower]) -> tuple[mx.array, int]:
        """The flat table of ``powers`` and its number of levels."""
        levels = max(len(p.rows) for p in powers)
        width = 1024 * levels
        rows = [[v for row in p.rows for v in row] for p in powers]
        padded = [row + [1.0] * (width - len(row)) for row in rows]
        return mx.array(padded, dtype=mx.float32).reshape(-1), levels

    def __call__(self, q: mx.array) -> mx.array:
        q = mx.minimum(q, self.limit)
        out = pick(self.flat, self.offset + (q & 1023))
        for level in range(1, self.levels):
            out = out * pick(self.flat, self.offset + (1024 * level + ((q >> (10 * level)) & 1023)))
        return out


_OWN = ("_params", "_depth", "_fused")
"""Attributes that are not a family's numbers: the Schedule's records and :class:`Stackable`'s cached kernel."""


def _fields(piece: Schedule) -> dict[str, Any]:
    return {name: value for name, value in vars(piece).items() if name not in _OWN}


def stack_key(piece: Schedule) -> tuple[Any, ...] | None:
    """The pieces that stack together share this key: their class and non-numeric attributes; ``None``: alone."""
    if not isinstance(piece, Native) or not type(piece)._stackable:
        return None
    key: list[Any] = [type(piece)]
    for name, value in sorted(_fields(piece).items()):
        if isinstance(value, _STATIC):
            key.append((name, value))
        elif isinstance(value, (int, float, IntPower)):
            key.append((name, type(value)))
        else:
            return None
    return tuple(key)


@final
class Stack:
    """Pieces of one family with the same non-numeric attributes, their numbers in arrays.

    :attr:`rows` holds one 1-D array per numeric attribute (and per
    ``IntPower`` attribute its ``limit`` and ``offset``), one entry per
    piece; :meth:`formula` evaluates the family's formula on rows that are
    either gathered to the steps' shape (one piece per step) or vectors on
    the steps' last axis (every piece at one step).
    """

    def __init__(self, pieces: Sequence[Native]) -> None:
        first = pieces[0]
        self.cls = type(first)
        self.static: dict[str, Any] = {}
        self.rows: dict[str, mx.array] = {}
        self.powers: dict[str, tuple[mx.array, int]] = {}
        for name, value in _fields(first).items():
            column = [getattr(p, name) for p in pieces]
            if isinstance(value, _STATIC):
                self.static[name] = value
            elif isinstance(value, float):
                self.rows[name] = floats(column)
            elif isinstance(value, int):
                self.rows[name] = ints(column)
            else:  # an IntPower: its tables in one array, its limit and offset as rows
                flat, levels = StackedPower.tables(column)
                self.powers[name] = (flat, levels)
                self.rows[f"{name}.limit"] = ints(p.limit for p in column)
                self.rows[f"{name}.offset"] = ints(1024 * levels * i for i in range(len(column)))

    def formula(self, t: mx.array, rows: dict[str, mx.array]) -> mx.array:
        """The family's formula at the local steps ``t``, each step with the piece of its ``rows``."""
        return _stand_in(self.cls, self.static, rows, self.powers).formula(t)


def _stand_in(
    cls: type[Native], static: dict[str, Any], rows: dict[str, mx.array], powers: dict[str, tuple[mx.array, int]]
) -> Native:
    """An instance of ``cls`` without ``__init__``, its numbers the arrays of ``rows`` (and tables of ``powers``)."""
    stand_in = object.__new__(cls)
    attributes: dict[str, Any] = {**static, **{k: v for k, v in rows.items() if "." not in k}}
    for name, (flat, levels) in powers.items():
        attributes[name] = StackedPower(flat, levels, rows[f"{name}.limit"], rows[f"{name}.offset"])
    vars(stand_in).update(attributes)
    return stand_in


class Stackable(Native):
    """A family whose formula reads its numbers only in array operations: the base of those that stack.

    Such a family stacks in a join (``_stackable``), and a single value of
    it outside ``mx.compile`` is one compiled kernel instead of one kernel
    per operation: a scalar step runs through a kernel compiled once per
    family (and per non-numeric attributes and step dtype), which takes the
    schedule's numbers as array inputs, so that schedules of one family with
    other numbers reuse it. Inside ``mx.compile`` MLX inlines that kernel
    into the caller's. The values are those of :meth:`formula` on the
    stand-in, equal to the schedule's own bit for bit on the CPU (the stacked
    join's guarantee); on a GPU a compiled kernel may round an ulp apart
    from eager operations (``docs/performance.md``). Arrays of steps
    (``values``, plots) are evaluated with eager operations as before.
    """

    _stackable = True
    _kernels: ClassVar[dict[tuple[Any, ...], Callable[..., mx.array]]] = {}
    """One compiled evaluation per stack key and table depth, shared by every family (bounded: a few per family)."""

    @override
    def __call__(self, step: StepLike) -> mx.array:
        if isinstance(step, mx.array) and step.ndim != 0:
            return self.formula(as_step(step))
        t = as_step(step) if not isinstance(step, mx.array) else _checked(step)
        fused = self.__dict__.get("_fused")
        if fused is None:
            fused = self.__dict__["_fused"] = self._fuse()
        kernel, values = fused
        return kernel(t, *values)

    @override
    def at(self, step: int) -> float:
        """The value at one step, evaluated as :meth:`values` evaluates: ``at(k) == values()[k]`` on every backend.

        Example:
            >>> import mlxlr
            >>> mlxlr.Linear(0.0, 1.0, steps=4).at(1)
            0.25
        """
        k = min(check_int("step", step, minimum=0, maximum=None), MAX_STEP)
        return host_float(self.formula(mx.array([k], dtype=mx.int64))[0])

    def _fuse(self) -> tuple[Callable[..., mx.array], tuple[mx.array, ...]]:
        """The shared kernel of this schedule's kind and this schedule's numbers, as its inputs."""
        stack = Stack([self])
        names = tuple(stack.rows)
        levels = tuple((name, levels) for name, (_, levels) in stack.powers.items())
        values = tuple(stack.rows[n].reshape(()) for n in names) + tuple(flat for flat, _ in stack.powers.values())
        mx.eval(values)
        key = (stack_key(self), names, levels)
        kernel = Stackable._kernels.get(key)
        if kernel is None:
            cls, static = stack.cls, stack.static

            def evaluate_one(t: mx.array, *inputs: mx.array) -> mx.array:
                rows = dict(zip(names, inputs))
                tables = {name: (flat, depth) for (name, depth), flat in zip(levels, inputs[len(names) :])}
                return _stand_in(cls, static, rows, tables).formula(as_step(t))

            kernel = Stackable._kernels[key] = mx.compile(evaluate_one)
        return kernel, values

    def __getstate__(self) -> dict[str, Any]:
        state = dict(self.__dict__)
        state.pop("_fused", None)  # arrays and a compiled function: rebuilt on the next call
        return state


def _checked(step: mx.array) -> mx.array:
    """A scalar step array as it is, once its dtype is checked (``as_step`` converts it inside the kernel)."""
    if not mx.issubdtype(step.dtype, mx.integer):
        as_step(step)  # raises the TypeError naming the dtype
    return step


@final
class _Group:
    """A :class:`Stack` placed in a join: its pieces' starts and stops, and their rows by piece index."""

    def __init__(self, stack: Stack, members: list[int], edges: list[tuple[int, int]]) -> None:
        self.stack = stack
        self.starts = ints(edges[i][0] for i in members)
        self.stops = ints(edges[i][1] for i in members)
        local = [0] * len(edges)
        for row, i in enumerate(members):
            local[i] = row
        # piece index -> row of this group (0 for other pieces); None: the group is every piece, in order
        self.local = None if len(members) == len(edges) else mx.array(local, dtype=mx.int32)


@final
class Plan:
    """How a join of many pieces evaluates: its boundaries and stacks in arrays, built once.

    Pieces that stack (two or more with one key) are evaluated once per
    stack; other pieces on their own. For a few steps (a training step's
    scalar) every piece of a stack is evaluated side by side and the active
    one is picked by a ``max``: one fused kernel and one reduction per stack.
    For many steps (``values``), each step's piece is found by its
    boundaries, and its parameters and start are gathered. Either way the
    cost per step is a handful of operations per stack, whatever the number
    of pieces.
    """

    def __init__(self, pieces: Sequence[Schedule], boundaries: Sequence[int]) -> None:
        n = len(boundaries)
        self.edges = list(zip([0, *boundaries], [*boundaries, PAST_END]))
        self.bounds = ints(boundaries)
        self.starts = ints([0, *boundaries])
        self.top = 1 << (n.bit_length() - 1) if n else 0
        self.padded = ints([*boundaries, *[PAST_END] * (2 * self.top - 1 - n)])
        keyed: dict[tuple[Any, ...], list[int]] = {}
        for i, piece in enumerate(pieces):
            key = stack_key(piece)
            if key is not None:
                keyed.setdefault(key, []).append(i)
        stacks = sorted((members for members in keyed.values() if len(members) > 1), key=lambda m: -len(m))
        self.members = stacks  # the pieces of each group, by index
        self.groups = [_Group(Stack([pieces[i] for i in m]), m, self.edges) for m in stacks]  # type: ignore[misc]
        grouped = {i for members in stacks for i in members}
        self.singles = [(i, piece) for i, piece in enumerate(pieces) if i not in grouped]
        group_of = [-1] * len(pieces)
        for g, members in enumerate(stacks):
            for i in members:
                group_of[i] = g
        self.group_of = mx.array(group_of, dtype=mx.int32)

    def side_by_side(self, t: mx.array) -> mx.array:
        """Every piece of a stack at every step, on a new last axis; the active one picked by a ``max``."""
        at = t if t.ndim == 0 else mx.expand_dims(t, -1)
        out: mx.array | None = None
        for group in self.groups:
            local = mx.maximum(at - group.starts, 0)
            value = group.stack.formula(local, group.stack.rows)
            value = mx.where((at >= group.starts) & (at < group.stops), value, LOWEST)
            # one step: a reduction over all axes, on the H100 at least as cheap as over the last axis (probes.py
            # select: 45.0 against 51.3 us a compiled call in one run, 47.0 against 48.2 in another)
            value = value.max() if t.ndim == 0 else value.max(axis=-1)
            out = value if out is None else mx.maximum(out, value)
        assert out is not None
        for i, piece in self.singles:
            start, stop = self.edges[i]
            active = t >= start if stop == PAST_END else (t >= start) & (t < stop)
            out = mx.maximum(out, mx.where(active, evaluate(piece, since(t, start)), LOWEST))
        return out

    def gathered(self, t: mx.array, index: mx.array | None = None) -> mx.array:
        """Each step's piece found by its boundaries; its start and parameters gathered.

        ``index`` (from a join's ``values``) gives each step's piece for the
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
            lookups.append({name: pick(values, row) for name, values in group.stack.rows.items()})
        if index is not None:
            mx.eval(local, lookups, *([] if group_of is None else [group_of]))
        out: mx.array | None = None
        for g, (group, rows) in enumerate(zip(self.groups, lookups)):
            value = group.stack.formula(local, rows)
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
        if t.size * self.bounds.size <= COMPARE_ALL:
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
