"""Pictures of schedules with matplotlib: :meth:`Schedule.plot`, the CLI's ``--out`` and the docs site.

matplotlib is an optional extra (``pip install "mlxlr[plot]"``), imported
inside :func:`plot` only: importing mlxlr never imports it.
"""

from __future__ import annotations

import importlib
import numbers
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any, cast

import mlx.core as mx

from ._algebra import Product, Quotient, Scaled, Sum
from ._combinators import Clip, ForSteps, WithWarmup
from ._contract import called
from ._join import Join
from ._schedule import Schedule, children, walk

if TYPE_CHECKING:
    from matplotlib.axes import Axes

MAX_POINTS = 4096
"""A picture samples every step up to this many; beyond, this many spread evenly plus both sides of each boundary."""

UNBOUNDED_STEPS = 1000
"""Steps drawn by default for an unbounded schedule with nothing bounded inside it."""

PLOT_HINT = 'plotting needs matplotlib: pip install "mlxlr[plot]"'

BOUNDARY_STYLE: dict[str, Any] = {"color": "0.55", "linestyle": ":", "linewidth": 1.0}
"""How a join's boundary is marked: a thin dotted vertical line, grey on light and dark backgrounds."""


def plot(schedule: Schedule, steps: int | None = None, ax: Axes | None = None, **line_kwargs: Any) -> Axes:
    """Draws ``schedule`` at steps ``0 .. steps - 1`` with matplotlib and returns the Axes.

    The curve is one line whose label defaults to the schedule's ``repr``;
    the boundaries of its joins (``a >> b``, ``.with_warmup(n)``, also inside
    pointwise combinations such as ``0.5 * (a >> b)``) are marked with
    dotted vertical lines. The x axis is labelled ``step`` and the y axis
    ``value`` unless they already have labels. Pass ``ax`` to draw several
    schedules on one Axes (then call ``ax.legend()``).

    Up to :data:`MAX_POINTS` steps every step is drawn (the line's data equal
    ``schedule.values(steps)``); beyond, that many steps spread evenly plus
    both sides of every boundary, from one vectorized call.

    Args:
        schedule: Any schedule.
        steps: How many steps to draw. Defaults to ``duration + 1`` for a
            bounded schedule (its final value included); for an unbounded
            one, ten times the furthest step where something bounded in it
            ends (a bounded part's duration or a join's boundary), or
            1000 steps when it has nothing bounded.
        ax: The Axes to draw on; by default a new figure from
            ``matplotlib.pyplot`` (8 x 4.5 inches).
        **line_kwargs: Passed to ``Axes.plot`` for the curve (``color``,
            ``linewidth``, ``label``, ...).

    Returns:
        The Axes drawn on.

    Raises:
        ImportError: matplotlib is not installed; the message says which
            extra to install.
        TypeError: ``steps`` is not an int.
        ValueError: ``steps`` is not positive.

    Example:
        >>> from matplotlib.figure import Figure
        >>> import mlxlr
        >>> lr = mlxlr.Linear(0.0, 1.0, steps=10) >> mlxlr.CosineDecay(1.0, decay_steps=90)
        >>> ax = lr.plot(ax=Figure().add_subplot())
        >>> line = ax.lines[0]
        >>> len(line.get_xdata()), line.get_label()
        (101, 'Linear(init=0.0, end=1.0, steps=10) >> CosineDecay(init=1.0, decay_steps=90)')
        >>> [float(x) for x in ax.lines[1].get_xdata()]  # the join's boundary
        [10.0, 10.0]
        >>> ax.get_xlabel(), ax.get_ylabel()
        ('step', 'value')
    """
    try:
        importlib.import_module("matplotlib")
    except ImportError as e:
        raise ImportError(PLOT_HINT) from e
    if steps is None:
        steps = default_steps(schedule)
    elif isinstance(steps, bool) or not isinstance(steps, numbers.Integral):
        raise TypeError(f"steps must be an int, got {steps!r} ({type(steps).__name__})")
    elif steps < 1:
        raise ValueError(f"steps must be a positive int, got {steps!r}")
    steps = int(steps)
    if ax is None:
        pyplot: Any = importlib.import_module("matplotlib.pyplot")
        _, ax = pyplot.subplots(figsize=(8, 4.5), layout="constrained")
    boundaries = sorted({b for b in boundaries_of(schedule) if 0 < b < steps})
    xs = sample_steps(steps, boundaries)
    if xs is None:
        xs = list(range(steps))
        ys = cast("list[float]", schedule.values(steps).tolist())
    else:
        ys = cast("list[float]", called(schedule, mx.array(xs, dtype=mx.int64)).tolist())  # host: plotting
    line_kwargs.setdefault("label", repr(schedule))
    ax.plot(xs, ys, **line_kwargs)
    for b in boundaries:
        ax.axvline(b, label="_boundary", **BOUNDARY_STYLE)  # "_": not in a legend
    if not ax.get_xlabel():
        ax.set_xlabel("step")
    if not ax.get_ylabel():
        ax.set_ylabel("value")
    return ax


def default_steps(schedule: Schedule) -> int:
    """The steps :func:`plot` draws when not told: see its ``steps`` argument."""
    if schedule.duration is not None:
        return schedule.duration + 1
    horizon = max(
        [*(node.duration or 0 for node in walk(schedule)), *boundaries_of(schedule)],
        default=0,
    )
    return 10 * horizon if horizon > 0 else UNBOUNDED_STEPS


def sample_steps(steps: int, boundaries: Iterable[int]) -> list[int] | None:
    """The steps a picture of ``steps`` steps evaluates; ``None`` for every step.

    Beyond :data:`MAX_POINTS` steps: that many spread evenly from 0 to
    ``steps - 1``, plus the step before and at each boundary, so a jump is
    drawn where it happens.
    """
    if steps <= MAX_POINTS:
        return None
    spread = {round(i * (steps - 1) / (MAX_POINTS - 1)) for i in range(MAX_POINTS)}
    spread.update(s for b in boundaries for s in (b - 1, b) if 0 <= s < steps)
    return sorted(spread)


def boundaries_of(schedule: Schedule) -> list[int]:
    """The steps where a join inside ``schedule`` switches pieces, as far as they sit on its own time axis.

    A :class:`~mlxlr.Join`'s boundaries and a warmup's end, and theirs inside
    the pieces of a join (shifted) and inside pointwise combinations (sums,
    products, quotients, scalings, clips, ``for_steps``). Joins inside a
    ``repeat`` or a ``stretch`` are not followed.
    """
    found: list[int] = []
    if isinstance(schedule, Join):
        starts = [0, *schedule.boundaries]
        found += schedule.boundaries
        for start, piece in zip(starts, schedule.params["schedules"]):
            found += [start + b for b in boundaries_of(piece)]
    elif isinstance(schedule, WithWarmup):
        warmup = schedule.params["steps"]
        found += [warmup, *(warmup + b for b in boundaries_of(schedule.params["schedule"]))]
    elif isinstance(schedule, (Sum, Product, Quotient, Scaled, Clip, ForSteps)):
        for child in children(schedule):
            found += boundaries_of(child)
        if isinstance(schedule, ForSteps):
            found = [b for b in found if b < schedule.params["n"]]
    return sorted(set(found))
