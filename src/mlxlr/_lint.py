"""The schedule lint: what is likely off in a learning-rate schedule for a run of ``total_steps``.

:func:`lint` looks at the values on the host, vectorized: every step up to
:data:`DENSE` steps, beyond that a dense start, an even sweep and both sides
of every join. Each finding is one sentence with the steps involved.
"""

from __future__ import annotations

import math

import mlx.core as mx

from ._algebra import Scaled
from ._bind import extent
from ._combinators import Clip
from ._join import Join
from ._native import evaluate
from ._plateau import ReduceOnPlateau
from ._schedule import Schedule, require_schedule, walk
from ._steps import MAX_STEP
from ._units import Binding

DENSE = 2**20
"""Up to this many steps the lint looks at every step; beyond, at a sample of them."""
FEW = 5
"""A learning rate of 0 for more steps than this is a finding."""
JUMP = 2.0
"""A join across which the value changes by more than this factor is a finding."""
SHOWN = 3
"""Jumps listed one by one; the rest are counted."""


class LintWarning(UserWarning):
    """The findings of :func:`mlxlr.lint` on a learning rate, as a warning (``ScheduledOptimizer(total_steps=...)``)."""


def lint(
    schedule: Schedule,
    total_steps: int | None = None,
    steps_per_epoch: int | None = None,
    tokens_per_step: float | None = None,
    *,
    jump: float = JUMP,
) -> list[str]:
    """What is likely off in a learning-rate schedule for a run of ``total_steps``: a list of sentences.

    The findings (each with the steps involved):

    - the schedule ends before the run does (it holds its last value for the
      remaining steps), or is still changing when the run ends;
    - a warmup as long as the run or longer (the value rises until the run's last step);
    - a negative value; a value of 0 for more than 5 steps;
    - a jump by more than a factor ``jump`` across a join (``>>``), from where
      the left piece ends to where the right one starts;
    - a :class:`~mlxlr.ReduceOnPlateau` whose ``patience`` is longer than the
      run (observed once an epoch when ``steps_per_epoch`` is given, at most
      once a step otherwise): it can never act.

    Without ``total_steps`` only the values are examined: over the schedule's
    duration, or its first million steps when it has none. A schedule written
    in units is bound first (:meth:`~mlxlr.Schedule.bind`); a bound one is
    checked against this run, whatever run it was bound for. The values are read
    vectorized, never step by step: every step up to 2**20 steps, a sample beyond.

    Args:
        schedule: The learning rate.
        total_steps: The run's optimizer updates.
        steps_per_epoch: Optimizer updates per epoch (for units, and the plateau's epochs).
        tokens_per_step: Tokens per optimizer update (for units).
        jump: The factor across a join that counts as a jump.

    Returns:
        The findings, an empty list when there are none.

    Raises:
        UnboundError: a schedule in units whose numbers are not given.

    Example:
        >>> import mlxlr
        >>> lr = mlxlr.Linear(0.0, 1e-3, steps=100) >> mlxlr.CosineDecay(1e-3, decay_steps=900)
        >>> mlxlr.lint(lr, total_steps=1000)
        []
        >>> for finding in mlxlr.lint(lr, total_steps=2000):
        ...     print(finding)
        the schedule ends at step 1,000, before the run does (total_steps=2,000): it holds 0 for the last 1,000 steps
        the value is 0 for 1,000 steps, from step 1,000 to step 1,999
    """
    s = require_schedule(schedule)
    if not jump > 1.0:
        raise ValueError(f"jump must be a factor > 1, got {jump!r}")
    binding = Binding.of(total_steps, steps_per_epoch, tokens_per_step)
    if not s.bound:  # a bound one is checked against this run, whatever it was bound for
        s = s.bind(total_steps, steps_per_epoch, tokens_per_step)
    total = binding.total_steps
    duration = s.duration
    if total is not None:
        horizon = total
    elif duration is not None:
        horizon = duration + 1
    else:
        end = extent(s)
        horizon = 2 * end if end else 10**6
    joined = _top_join(s)
    marks = [b for b in joined.boundaries if b < horizon] if joined is not None else []
    steps, values = _sample(s, horizon, marks)
    sampled = steps.size < horizon
    findings: list[str] = []
    if total is not None:
        findings += _run_end(s, total, duration)
        findings += _warmup(steps, values, total)
    findings += _negative(steps, values, sampled)
    findings += _zeros(steps, values, sampled)
    if joined is not None and marks:
        findings += _jumps(joined, marks, jump)
    if total is not None:
        findings += _plateaus(s, total, binding.steps_per_epoch)
    return findings


def _sample(s: Schedule, horizon: int, marks: list[int]) -> tuple[mx.array, mx.array]:
    """Steps ``0 .. horizon - 1`` (sorted) and the values there: all of them, or a sample of long runs."""
    if horizon <= DENSE:
        return mx.arange(horizon, dtype=mx.int64), s.values(horizon)
    dense = mx.arange(2**16, dtype=mx.int64)
    count = 2**18  # an even sweep of 2**16 .. horizon - 1, in integers (a float32 linspace rounds the steps)
    stride, extra = divmod(horizon - 1 - 2**16, count - 1)
    i = mx.arange(count, dtype=mx.int64)
    sweep = 2**16 + i * stride + (i * extra) // (count - 1)
    edges = [x for b in marks for x in (b - 1, b)] + [horizon - 2, horizon - 1]
    steps = mx.sort(mx.concatenate([dense, sweep, mx.array(edges, dtype=mx.int64)]))
    return steps, evaluate(s, mx.clip(steps, 0, MAX_STEP))


def _at(s: Schedule, steps: list[int]) -> list[float]:
    values: list[float] = evaluate(s, mx.array(steps, dtype=mx.int64)).tolist()  # type: ignore[assignment]  # host
    return values


def _int(value: mx.array) -> int:
    return int(value.item())  # type: ignore[arg-type]  # host: a step, read once


def _float(value: mx.array) -> float:
    return float(value.item())  # type: ignore[arg-type]  # host: a value, read once


def _bool(value: mx.array) -> bool:
    return bool(value.item())  # host: one answer, read once


def _text(value: float) -> str:
    return "0" if value == 0 else f"{value:.4g}"


def _top_join(s: Schedule) -> Join | None:
    """The join a schedule is (through scales and clips), whose boundaries are the schedule's own."""
    while isinstance(s, (Scaled, Clip)):
        s = s.schedule
    return s if isinstance(s, Join) and s.boundaries else None


def _run_end(s: Schedule, total: int, duration: int | None) -> list[str]:
    if duration is not None and duration < total:
        (last,) = _at(s, [duration])
        return [
            f"the schedule ends at step {duration:,}, before the run does (total_steps={total:,}): "
            f"it holds {_text(last)} for the last {total - duration:,} steps"
        ]
    if duration == total:
        return []
    if duration is not None:
        first, last = _at(s, [total - 1, duration])
        if first == last:
            return []
        return [
            f"the schedule is still changing when the run ends: it ends at step {duration:,}, "
            f"{duration - total:,} steps after total_steps={total:,} ({_text(first)} at the run's last step "
            f"{total - 1:,}, {_text(last)} at its end)"
        ]
    # No duration: changing after the run's end (a decay that ends with the run and then holds is not).
    later = [min(k * total, MAX_STEP) for k in (2, 10)]
    first, end, *rest = _at(s, [total - 1, total, *later])
    moved = [(step, value) for step, value in zip(later, rest) if value != end]
    if not moved:
        return []
    step, value = moved[0]
    return [
        f"the schedule is still changing when the run ends (total_steps={total:,}): "
        f"{_text(first)} at step {total - 1:,}, {_text(value)} at step {step:,}"
    ]


def _warmup(steps: mx.array, values: mx.array, total: int) -> list[str]:
    if total < 3:
        return []
    peak = _int(mx.argmax(values))  # host: the first step of the highest value
    top, start = _float(values[peak]), _float(values[0])
    before = _float(values[-2])
    if _int(steps[peak]) == total - 1 and top > start and top > before:
        return [
            f"the warmup lasts as long as the run or longer (total_steps={total:,}): the value rises from "
            f"{_text(start)} at step 0 to {_text(top)} at the run's last step {total - 1:,}"
        ]
    return []


def _negative(steps: mx.array, values: mx.array, sampled: bool) -> list[str]:
    below = values < 0
    if not _bool(mx.any(below)):
        return []
    first = _int(steps[mx.argmax(below.astype(mx.int32))])
    low = _int(mx.argmin(values))
    about = "about " if sampled else ""
    return [
        f"the value is negative from {about}step {first:,} on (the lowest, {_text(_float(values[low]))}, "
        f"at step {_int(steps[low]):,})"
    ]


def _zeros(steps: mx.array, values: mx.array, sampled: bool) -> list[str]:
    """The longest run of zeros, when longer than :data:`FEW` steps: found with a running maximum."""
    zero = values == 0
    if not _bool(mx.any(zero)):
        return []
    index = mx.arange(steps.size, dtype=mx.int64)
    last_nonzero = mx.cummax(mx.where(zero, -1, index))
    first = mx.take(steps, mx.maximum(last_nonzero + 1, 0))  # the first zero step of the run each step is in
    span = mx.where(zero, steps - first + 1, 0)
    end = _int(mx.argmax(span))
    count = _int(span[end])
    if count <= FEW:
        return []
    a, b = _int(first[end]), _int(steps[end])
    about = "about " if sampled else ""
    return [f"the value is 0 for {about}{count:,} steps, from step {a:,} to step {b:,}"]


def _ratio(a: float, b: float) -> float:
    if a == b:
        return 1.0
    if a == 0 or b == 0 or (a < 0) != (b < 0):
        return math.inf
    return max(abs(a), abs(b)) / min(abs(a), abs(b))


def _jumps(joined: Join, marks: list[int], jump: float) -> list[str]:
    """The joins where the value jumps by more than ``jump``.

    First across the two steps either side of every join (one call), then, for
    those, from where the left piece ends (a piece that ends at 0 and a next
    one that starts there is no jump).
    """
    bounds = mx.array(marks, dtype=mx.int64)
    before: list[float] = evaluate(joined, bounds - 1).tolist()  # type: ignore[assignment]  # host
    after: list[float] = evaluate(joined, bounds).tolist()  # type: ignore[assignment]  # host
    starts = [0, *joined.boundaries]
    found: list[tuple[int, float, float]] = []
    for i, (b, x, y) in enumerate(zip(marks, before, after)):  # marks: the first boundaries, in order
        if _ratio(x, y) > jump:
            left = _float(evaluate(joined.schedules[i], mx.array(b - starts[i], dtype=mx.int64)))  # a suspect only
            if _ratio(left, y) > jump:
                found.append((b, left, y))
    lines = []
    for b, x, y in found[:SHOWN]:
        r = _ratio(x, y)
        if math.isinf(r):
            lines.append(f"the value jumps from {_text(x)} to {_text(y)} at the join at step {b:,}")
        else:
            lines.append(f"the value jumps by a factor of {r:.3g} at the join at step {b:,} (from {x:.4g} to {y:.4g})")
    if len(found) > SHOWN:
        lines.append(f"the value jumps at {len(found) - SHOWN} more joins after step {found[SHOWN - 1][0]:,}")
    return lines


def _plateaus(s: Schedule, total: int, steps_per_epoch: int | None) -> list[str]:
    lines = []
    for node in dict.fromkeys(n for n in walk(s) if isinstance(n, ReduceOnPlateau)):
        needed = node.patience + 1
        if steps_per_epoch is not None:
            chances = total // steps_per_epoch
            where = f"observed once an epoch, the run's {chances:,} epochs"
        else:
            chances = total
            where = f"observed at most once a step, the run's {total:,} steps"
        if needed > chances:
            lines.append(
                f"ReduceOnPlateau(patience={node.patience}) can never act: it needs {needed:,} observations "
                f"without improvement, and {where} are fewer"
            )
    return lines


def warning_text(name: str, findings: list[str]) -> str:
    """The findings on the schedule of ``name`` as the text of one warning, a line each."""
    return "\n".join([f"mlxlr.lint on {name}:", *(f"  - {finding}" for finding in findings)])


__all__ = ["LintWarning", "lint"]
