"""Helpers for testing mlxlr, and schedules written for it: trees, names, the join planner and its knobs.

These read (and, for :func:`chunk_size`, set) what the library decides
internally, so that tests can check the decisions rather than only the
values: which names an expression may call, how a join groups its pieces
into stacks, how :meth:`~mlxlr.Schedule.values` chunks its work. They are
not needed to use schedules; mlxlr's own tests import nothing else that is
not public.

Example:
    >>> import mlxlr
    >>> from mlxlr import testing
    >>> join = mlxlr.Linear(0.0, 1.0, 10) >> mlxlr.Linear(1.0, 0.0, 10) >> mlxlr.CosineDecay(0.0, 10)
    >>> [(s.family.__name__, s.pieces) for s in testing.stacks(join)]
    [('Linear', [0, 1])]
    >>> [type(node).__name__ for node in testing.walk(join)]
    ['Join', 'Linear', 'Linear', 'CosineDecay']
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any, final

import mlx.core as mx

from . import _config, _schedule, _stacking, _terminal
from ._config import names, schedule_classes, snake_case
from ._join import Join
from ._printing import float32_text
from ._schedule import Schedule, walk

SIDE_BY_SIDE = _stacking.SIDE_BY_SIDE
"""Up to this many (step, piece) pairs a join evaluates every piece of a stack at every step."""

SLICED = _stacking.SLICED
"""Up to this many pieces a join's ``values`` evaluates each piece on its own slice of the steps."""


PLOT_WIDTH, PLOT_HEIGHT = _terminal.WIDTH, _terminal.HEIGHT
"""The terminal plot's area in characters, at most (``mlxlr plot``)."""

MAX_POINTS = _terminal.MAX_POINTS
"""A plot (in the terminal or a picture) samples at most this many steps, plus both sides of each boundary."""

Curve = _terminal.Curve
"""A schedule sampled for the terminal plot: ``Curve.sample(schedule, steps)`` has ``xs``, ``ys``, ``key_points()``."""

eng = _terminal.eng
"""A value as the terminal plot labels it (``3e-4`` -> ``"300u"``)."""

step_label = _terminal.step_label
"""A step as the terminal plot's axis writes it (``100000`` -> ``"100k"``)."""


def chunk_size() -> int:
    """The number of steps :meth:`~mlxlr.Schedule.values` evaluates at once."""
    return _schedule.CHUNK


@contextlib.contextmanager
def chunks_of(size: int) -> Iterator[None]:
    """Within the block, :meth:`~mlxlr.Schedule.values` evaluates ``size`` steps at a time."""
    saved = _schedule.CHUNK
    _schedule.CHUNK = size
    try:
        yield
    finally:
        _schedule.CHUNK = saved


@contextlib.contextmanager
def spans(family: type[Schedule]) -> Iterator[list[tuple[int, int]]]:
    """Within the block, records the ``(start, count)`` of every span of ``family`` that ``values`` evaluates.

    :meth:`~mlxlr.Schedule.values` evaluates consecutive steps in spans: in
    chunks, and a join each piece on its own slice of the steps.
    """
    seen: list[tuple[int, int]] = []
    original = family._span

    def recording(self: Schedule, start: int, count: int) -> mx.array:
        seen.append((start, count))
        return original(self, start, count)

    family._span = recording  # type: ignore[method-assign]
    try:
        yield seen
    finally:
        family._span = original  # type: ignore[method-assign]


def unregister(name: str) -> None:
    """Forgets the class registered under ``name`` with :func:`mlxlr.register` (a test's clean-up)."""
    _config.unregister(name)


def expression_names() -> dict[str, Any]:
    """Every name :func:`mlxlr.parse` reads: mlxlr's, the registered ones, and snake-case aliases."""
    return names()


def config_classes() -> dict[str, type[Schedule]]:
    """The classes a config may name: mlxlr's and the registered ones."""
    return schedule_classes()


@final
class StackView:
    """One stack of a join: pieces of one family evaluated at once from their parameters in arrays.

    Attributes:
        family: The pieces' class.
        pieces: The indices of the pieces in the join, in order.
        rows: Each stacked parameter: an array with one entry per piece.
        starts: The pieces' first steps.
    """

    def __init__(self, group: Any, pieces: list[int]) -> None:
        self._group = group
        self.family: type[Schedule] = group.stack.cls
        self.pieces = pieces
        self.rows: dict[str, mx.array] = dict(group.stack.rows)
        self.starts: mx.array = group.starts

    def values(self, local: mx.array) -> mx.array:
        """Every piece of the stack at the local steps ``local`` (``int64``, its last axis one entry per piece)."""
        out: mx.array = self._group.stack.formula(local, self._group.stack.rows)
        return out


def stacks(join: Join) -> list[StackView]:
    """How ``join`` groups its pieces into stacks (pieces alone are in :func:`singles`)."""
    plan = join._planned()
    return [StackView(group, members) for group, members in zip(plan.groups, plan.members)]


def singles(join: Join) -> list[int]:
    """The indices of the pieces of ``join`` that are evaluated one by one."""
    return [i for i, _ in join._planned().singles]


__all__ = [
    "MAX_POINTS",
    "PLOT_HEIGHT",
    "PLOT_WIDTH",
    "SIDE_BY_SIDE",
    "SLICED",
    "Curve",
    "StackView",
    "chunk_size",
    "chunks_of",
    "config_classes",
    "eng",
    "float32_text",
    "expression_names",
    "singles",
    "snake_case",
    "spans",
    "stacks",
    "step_label",
    "unregister",
    "walk",
]
