"""Joins: schedules run one after another (what ``>>`` builds).

A join of pieces ``s_0, s_1, ...`` with boundaries ``b_1 < b_2 < ...`` is,
at step ``t``, the piece ``i`` whose span holds it, at the steps since its
start: ``s_i(t - b_i)``. For a few pieces that is a ``where`` per boundary
(:meth:`Join.chain`); many pieces of a family are evaluated at once
(``mlxlr._stacking``), at the cost of about one piece.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Sequence
from typing import Any, final

import mlx.core as mx
from typing_extensions import override

from ._native import Native, as_schedule, evaluate
from ._printing import PREC_ATOM, PREC_JOIN, chain, operand
from ._schedule import Schedule
from ._stacking import SIDE_BY_SIDE, SLICED, Plan
from ._steps import arange, since
from ._units import Unit
from ._validate import MAX_COUNT, check_int, check_steps


@final
class Join(Native):
    """Schedules run one after another: piece ``i`` runs from ``boundaries[i - 1]``.

    Piece ``i`` receives the steps since its start, beginning at 0, exactly
    as in MLX's ``join_schedules``; the switch happens *at* a boundary
    (``step >= boundary`` runs the next piece). ``a >> b`` builds a join at
    ``a.duration``, and chains of ``>>`` flatten into one join.

    A join costs about one evaluation per family of its pieces, whatever their
    number: pieces of one family are evaluated together from their parameters
    in arrays, which a compiled step takes as inputs, so a join of 1000 pieces
    compiles once and runs about as fast as one piece (other pieces, such as
    user schedules, cost one evaluation each). ``docs/performance.md`` has
    the measurements.

    Args:
        schedules: The pieces: schedules, numbers or callables ``step -> array``
            (MLX's schedule closures included); numbers and callables are
            recorded as :class:`~mlxlr.Constant` and :class:`~mlxlr.Lambda`.
        boundaries: ``len(schedules) - 1`` strictly increasing positive steps.

    Example:
        >>> import mlxlr
        >>> s = mlxlr.Join([mlxlr.Constant(1.0), mlxlr.Constant(2.0)], boundaries=[3])
        >>> s.values(5).tolist()
        [1.0, 1.0, 1.0, 2.0, 2.0]
    """

    _durations = ("boundaries",)

    def __init__(
        self, schedules: Sequence[Schedule | float | Callable[..., Any]], boundaries: Sequence[int | Unit]
    ) -> None:
        if isinstance(schedules, (str, bytes)) or not isinstance(schedules, Sequence):
            raise TypeError(f"schedules must be a list, got {schedules!r}")
        if len(schedules) == 0:
            raise ValueError("schedules must hold at least one schedule, got []")
        bounds = check_steps("boundaries", boundaries, allow_empty=True)
        if len(bounds) != len(schedules) - 1:
            raise ValueError(
                f"boundaries must hold len(schedules) - 1 = {len(schedules) - 1} steps, got {len(bounds)}: {bounds!r}"
            )
        recorded = self._params["schedules"]  # numbers and callables recorded as schedules (_record)
        for i, piece in enumerate(recorded):
            if not isinstance(piece, Schedule):  # _record could not convert it: as_schedule says why
                as_schedule(piece, f"schedules[{i}]")
        self.schedules = tuple(recorded)
        self.boundaries = tuple(bounds)
        at_ends, flat = _at_ends(recorded, bounds), not any(map(_is_join, recorded))
        self._summarize(len(recorded), recorded[-1], (0, *bounds)[-1], at_ends, flat)

    schedules: tuple[Schedule, ...]
    boundaries: tuple[int, ...]
    _pending: tuple[Join, list[Schedule], list[int]]
    """A join that ``>>`` built: the join before it, and the pieces and boundaries after (until gathered)."""

    def _summarize(self, count: int, last: Schedule, end: int, at_ends: bool, flat: bool) -> None:
        """What a join knows without its list of pieces: their number, the last piece and boundary, how it prints.

        ``at_ends``: each boundary is where the pieces before it end (as
        ``>>`` puts it). ``flat``: no piece is a join (``>>`` flattens them).
        A join of several pieces that is both prints as ``a >> b >> ...``: the
        operators build exactly it from its pieces. Any other prints as a call.
        """
        self._count = count
        self._last = last
        self._end = end
        self._at_ends = at_ends
        self._flat = flat
        self._precedence = PREC_JOIN if at_ends and flat and count > 1 else PREC_ATOM
        self._plan: Plan | None = None

    @classmethod
    def _extended(
        cls, prefix: Join, pieces: list[Schedule], boundaries: list[int], at_ends: bool, flat: bool, depth: int
    ) -> Join:
        """``prefix`` and then ``pieces`` at ``boundaries``, all checked already: what ``>>`` builds.

        The new join refers to ``prefix`` instead of copying its pieces; they
        are gathered into its own tuples (and its recorded arguments) the first
        time anything reads them (:meth:`__getattr__`). Building a chain one
        piece at a time (``s = s >> piece``) then costs the same for every
        piece, not the length of the chain so far.
        """
        self = cls._assembled(None, depth)
        self._pending = (prefix, pieces, boundaries)
        self._summarize(prefix._count + len(pieces), pieces[-1], boundaries[-1], at_ends, flat)
        return self

    def __getattr__(self, name: str) -> Any:
        """Gathers the pieces of a join that ``>>`` built, the first time they are read."""
        if name in ("_params", "schedules", "boundaries") and "_pending" in self.__dict__:
            self._gather()
            return getattr(self, name)
        raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")

    def _gather(self) -> None:
        """The pieces and boundaries of the prefixes, in a loop (a chain of thousands of them is no recursion)."""
        tails = []
        node = self
        while "_pending" in node.__dict__:
            node, pieces, boundaries = node._pending
            tails.append((pieces, boundaries))
        all_pieces, all_boundaries = [*node.schedules], [*node.boundaries]
        for pieces, boundaries in reversed(tails):
            all_pieces += pieces
            all_boundaries += boundaries
        object.__setattr__(self, "_params", {"schedules": all_pieces, "boundaries": all_boundaries})
        self.schedules = tuple(all_pieces)
        self.boundaries = tuple(all_boundaries)
        del self._pending  # the prefixes are no longer needed here

    def __getstate__(self) -> dict[str, Any]:
        if "_pending" in self.__dict__:  # copies and pickles hold the pieces, not a chain of prefixes
            self._gather()
        return dict(self.__dict__)

    @classmethod
    @override
    def _record(cls, arguments: dict[str, Any]) -> dict[str, Any]:
        recorded = super()._record(arguments)
        pieces = recorded["schedules"]
        if isinstance(pieces, list):  # numbers and callables as the schedules they become
            with contextlib.suppress(TypeError, ValueError):  # __init__ reports it
                recorded["schedules"] = [as_schedule(p, f"schedules[{i}]") for i, p in enumerate(pieces)]
        return recorded

    @property
    @override
    def duration(self) -> int | None:
        last = self._last.duration
        return None if last is None else self._end + last

    @override
    def formula(self, t: mx.array, start: int = 0) -> mx.array:
        plan = self._planned()
        if not plan.groups:
            return self.chain(t, start)
        local = since(t, start)
        if t.size * len(self.schedules) <= SIDE_BY_SIDE:
            return plan.side_by_side(local)
        return plan.gathered(local)

    def chain(self, t: mx.array, start: int = 0) -> mx.array:
        """What a join is: every piece from its own start, and a ``where`` per boundary.

        The cheapest evaluation for a few pieces that do not stack. The last
        piece ends up outermost, one ``where`` from the value: the long decay
        that usually ends a schedule keeps its formula within the depth MLX
        fuses into one kernel.
        """
        out = evaluate(self.schedules[0], t, start)
        for boundary, piece in zip(self.boundaries, self.schedules[1:]):
            out = mx.where(t < start + boundary, out, evaluate(piece, t, start + boundary))
        return out

    def _planned(self) -> Plan:
        """The join's plan, built on first use and kept."""
        if self._plan is None:
            self._plan = Plan(self.schedules, self.boundaries)
        return self._plan

    @override
    def _span(self, start: int, count: int) -> mx.array:
        """``values``: each piece evaluated on its own steps only, unless many pieces stack.

        The steps ``start .. start + count - 1`` fall into consecutive slices,
        one per piece: each piece is evaluated on its slice and the slices are
        concatenated, which spares every other piece's formula and the
        selection (the values are those of the whole join, bit for bit).
        Many pieces that stack take the plan's gathered path instead, a few
        operations whatever their number, with each step's piece found by a
        running sum rather than a search.
        """
        stop = start + count
        edges = list(zip([0, *self.boundaries], [*self.boundaries, stop]))
        used = [i for i, (lo, hi) in enumerate(edges) if lo < stop and hi > start]
        if len(used) > SLICED and self._planned().groups:
            # Consecutive steps: each step's piece is the count of boundaries passed, a running sum, no search.
            marks = [0] + [b - start for b in self.boundaries[used[0] : used[-1]]]
            passed = [used[0]] + [1] * (len(marks) - 1)
            index = mx.zeros((count,), dtype=mx.int32).at[mx.array(marks)].add(mx.array(passed, dtype=mx.int32))
            return self._planned().gathered(arange(start, count), mx.cumsum(index))
        parts = []
        for i in used:
            lo, hi = max(start, edges[i][0]), min(stop, edges[i][1])
            piece, offset = self.schedules[i], lo - edges[i][0]
            parts.append(
                piece._span(offset, hi - lo) if isinstance(piece, Native) else evaluate(piece, arange(offset, hi - lo))
            )
        return parts[0] if len(parts) == 1 else mx.concatenate(parts)

    @override
    def _written(self) -> str:
        if self._precedence == PREC_JOIN:  # consistent and flat: `reduce(join, self.schedules) == self`
            return chain(self.schedules, " >> ", lambda pieces: " >> ".join(operand(p, PREC_JOIN + 1) for p in pieces))
        return super()._written()


def _is_join(schedule: Schedule) -> bool:
    return isinstance(schedule, Join)


def _at_ends(pieces: Sequence[Schedule], boundaries: Sequence[int]) -> bool:
    """Whether each boundary is where the pieces before it end, as ``>>`` puts it."""
    start = 0
    for piece, boundary in zip(pieces, boundaries):
        if piece.duration is None or start + piece.duration != boundary:
            return False
        start = boundary
    return True


def join(left: Schedule, right: Schedule) -> Join:
    """``left >> right``: flattens both sides into one :class:`Join`.

    The pieces and boundaries of a join on either side were checked when it
    was built: only the new boundaries are checked here, so a chain built
    one piece at a time costs the same for each piece.
    """
    offset = left.duration
    if offset is None:
        raise ValueError(
            f"the left side of >> must have a duration, got the unbounded {left!r}; give it one with .for_steps(n)"
        )
    prefix = left if isinstance(left, Join) else None
    pieces: list[Schedule] = [] if prefix is not None else [left]
    before = prefix._count - 1 if prefix is not None else 0  # boundaries before the new one
    check_int(f"boundaries[{before}]", offset)  # a user's duration: any value
    if prefix is not None and before and offset <= prefix._end:
        raise ValueError(f"boundaries must increase strictly, got {[*prefix.boundaries, offset]!r}")
    boundaries = [offset]
    if isinstance(right, Join):
        pieces.extend(right.schedules)
        shifted = [offset + b for b in right.boundaries]
        if shifted and shifted[-1] > MAX_COUNT:
            first = next(i for i, b in enumerate(shifted) if b > MAX_COUNT)
            check_int(f"boundaries[{before + 1 + first}]", shifted[first])  # raises: past 2**60
        boundaries.extend(shifted)
    else:
        pieces.append(right)
    sides = [side for side in (left, right) if isinstance(side, Join)]
    at_ends = all(side._at_ends for side in sides)
    flat = all(side._flat for side in sides)
    depth = 1 + max(side._depth - 1 if isinstance(side, Join) else side._depth for side in (left, right))
    if prefix is not None:
        return Join._extended(prefix, pieces, boundaries, at_ends, flat, depth)
    joined = Join._assembled({"schedules": pieces, "boundaries": boundaries}, depth)
    joined.schedules, joined.boundaries = tuple(pieces), tuple(boundaries)
    joined._summarize(len(pieces), pieces[-1], boundaries[-1], at_ends, flat)
    return joined


__all__ = ["Join"]
