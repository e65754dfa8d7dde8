"""Joins: schedules run one after another (what ``>>`` builds).

A join of pieces ``s_0, s_1, ...`` with boundaries ``b_1 < b_2 < ...`` is,
at step ``t``, the piece ``i`` whose span holds it, at the steps since its
start: ``s_i(t - b_i)``. For a few pieces that is a ``where`` per boundary
(:meth:`Join.chain`); many pieces of a family are evaluated at once
(``mlxlr._stacking``), at the cost of about one piece.
"""

from __future__ import annotations

import contextlib
import functools
from collections.abc import Callable, Sequence
from typing import Any, final

import mlx.core as mx
from typing_extensions import override

from ._native import Native, as_schedule, evaluate
from ._printing import PREC_ATOM, PREC_JOIN, operand
from ._schedule import Schedule
from ._stacking import SIDE_BY_SIDE, SLICED, Plan
from ._steps import arange, since
from ._units import Unit
from ._validate import check_steps


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
        self.schedules: tuple[Schedule, ...] = tuple(recorded)
        self.boundaries = tuple(bounds)
        self._precedence = PREC_JOIN if self._chained() else PREC_ATOM
        self._plan: Plan | None = None

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
        last = self.schedules[-1].duration
        if last is None:
            return None
        return (self.boundaries[-1] if self.boundaries else 0) + last

    def _chained(self) -> bool:
        """Whether ``>>`` would build this join: each boundary where the pieces before it end."""
        start = 0
        for piece, boundary in zip(self.schedules, self.boundaries):
            if piece.duration is None or start + piece.duration != boundary:
                return False
            start = boundary
        return len(self.schedules) > 1

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
    def __repr__(self) -> str:
        if self._precedence == PREC_JOIN and functools.reduce(join, self.schedules) == self:
            return " >> ".join(operand(p, PREC_JOIN + 1) for p in self.schedules)
        return super().__repr__()


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


__all__ = ["Join"]
