"""The terminal plot of ``mlxlr plot``: a schedule sampled, drawn in Unicode braille (or ASCII), with its key values.

A plot samples at most :data:`~mlxlr._plotting.MAX_POINTS` steps (plus both
sides of each join boundary) in one vectorized call, as a picture does, and
lists the start, the peak, the end and the first join boundaries below it.
"""

from __future__ import annotations

import math
import textwrap
from typing import cast

import mlx.core as mx

from ._contract import called
from ._join import Join
from ._plotting import MAX_POINTS as MAX_POINTS  # a plot samples at most this many steps, as a picture does
from ._plotting import sample_steps
from ._schedule import Schedule

WIDTH, HEIGHT = 72, 16
"""The plot area in characters, at most (the width shrinks to fit the terminal)."""
MAX_JOINS_SHOWN = 20
"""Key values listed below a plot: start, peak, end and this many join boundaries."""


class Curve:
    """A schedule sampled for a plot: steps, values, and the key points below it."""

    def __init__(self, schedule: Schedule, steps: int, xs: list[int], ys: list[float]) -> None:
        self.schedule = schedule
        self.steps = steps
        self.xs = xs
        self.ys = ys
        self.boundaries = [b for b in schedule.boundaries if b < steps] if isinstance(schedule, Join) else []
        finite = [y for y in ys if math.isfinite(y)]
        if not finite:
            raise ValueError(f"the schedule has no finite value in steps 0 .. {steps - 1}: {schedule!r}")
        self.lo, self.hi = min(finite), max(finite)

    @classmethod
    def sample(cls, schedule: Schedule, steps: int) -> Curve:
        """Every step up to :data:`MAX_POINTS`; beyond, that many spread evenly plus the join boundaries.

        The values come from one vectorized call.
        """
        sampled = sample_steps(steps, schedule.boundaries if isinstance(schedule, Join) else ())
        if sampled is None:
            xs = list(range(steps))
            ticks = mx.arange(steps, dtype=mx.int64)
        else:
            xs = sampled
            ticks = mx.array(xs, dtype=mx.int64)
        ys = cast("list[float]", called(schedule, ticks).tolist())  # host: plotting
        return cls(schedule, steps, xs, ys)

    def key_points(self) -> list[tuple[str, int, float]]:
        """Start, peak, end and every join boundary: (name, step, value)."""
        peak = max(range(len(self.ys)), key=lambda i: self.ys[i] if math.isfinite(self.ys[i]) else -math.inf)
        values = dict(zip(self.xs, self.ys))  # the boundaries are among the samples
        return [
            ("start", 0, self.ys[0]),
            ("peak", self.xs[peak], self.ys[peak]),
            ("end", self.xs[-1], self.ys[-1]),
            *(("join", b, values[b]) for b in self.boundaries),
        ]

    def render(self, columns: int, width: int | None, height: int, *, unicode: bool = True) -> list[str]:
        """The plot as lines: a title, the curve with its axes, and the key values.

        Args:
            columns: The terminal's width; the plot shrinks to fit it.
            width: The plot's width in characters (default: :data:`WIDTH`, or what fits).
            height: The plot's height in characters.
            unicode: Braille dots and box lines; ``False`` draws with ASCII.
        """
        lo, hi = self.lo, self.hi
        if hi == lo:  # a flat line: draw it in the middle
            pad = abs(hi) * 0.5 or 1.0
            lo, hi = lo - pad, hi + pad
        every = max(1, round((height - 1) / 4))
        tick_rows = sorted({*range(0, height, every), height - 1})
        values = [hi - r / max(1, height - 1) * (hi - lo) for r in tick_rows]
        labels = dict(zip(tick_rows, _y_labels(lo, hi, values)))
        margin = max(len(s) for s in labels.values())
        width = width or max(20, min(WIDTH, columns - margin - 3))
        tee, bar, corner, dash, tick = ("┤", "│", "└", "─", "┬") if unicode else ("+", "|", "+", "-", "+")
        lines = textwrap.wrap(repr(self.schedule), width=margin + 2 + width, subsequent_indent="    ")
        for r, cells in enumerate(_braille_grid(self.xs, self.ys, self.steps, width, height, lo, hi)):
            head = f"{labels[r]:>{margin}} {tee}" if r in labels else f"{'':>{margin}} {bar}"
            lines.append((head + "".join(_cell(bits, unicode) for bits in cells)).rstrip())
        axis, names = _x_axis(self.steps, width, dash, tick)
        lines.append(f"{'':>{margin}} {corner}{axis}")
        lines.append(f"{'step':>{margin}}  {names}".rstrip())
        points = self.key_points()
        shown = points[: MAX_JOINS_SHOWN + 3]
        step_width = max(len(f"{s:,}") for _, s, _ in shown)
        lines += [f"  {name:<5}  step {step:>{step_width},}  {eng(value)}" for name, step, value in shown]
        if len(points) > len(shown):
            lines.append(f"  ... and {len(points) - len(shown)} more joins")
        return lines


# Dots of a braille cell: (column, row) -> bit.
_DOTS = {(0, 0): 0x01, (0, 1): 0x02, (0, 2): 0x04, (0, 3): 0x40, (1, 0): 0x08, (1, 1): 0x10, (1, 2): 0x20, (1, 3): 0x80}


def _cell(bits: int, unicode: bool) -> str:
    if not bits:
        return " "
    return chr(0x2800 + bits) if unicode else "*"


def _braille_grid(
    xs: list[int], ys: list[float], steps: int, width: int, height: int, lo: float, hi: float
) -> list[list[int]]:
    """Braille bits per character cell.

    Each of the ``2 * width`` dot columns covers the values of its steps and
    is joined to the last value of the column before; a column without a
    step holds that value (a schedule is constant between its steps).
    """
    cols, rows = 2 * width, 4 * height
    spans: list[list[int] | None] = [None] * cols  # [top, bottom, last] rows of each dot column
    for x, y in zip(xs, ys):
        if math.isfinite(y):
            c = round(x * (cols - 1) / (steps - 1)) if steps > 1 else 0
            r = round((hi - y) / (hi - lo) * (rows - 1))
            span = spans[c]
            spans[c] = [r, r, r] if span is None else [min(span[0], r), max(span[1], r), r]
    grid = [[0] * width for _ in range(height)]
    last: int | None = None
    for c, span in enumerate(spans):
        if span is not None:
            top, bottom, end = span
            if last is not None:
                top, bottom = min(top, last), max(bottom, last)
        elif last is not None:
            top = bottom = end = last
        else:
            continue
        for r in range(top, bottom + 1):
            grid[r // 4][c // 2] |= _DOTS[(c % 2, r % 4)]
        last = end
    return grid


def _x_axis(steps: int, width: int, dash: str, tick: str) -> tuple[str, str]:
    """The x axis with ticks at round steps (about one per 16 characters), and their step numbers."""
    last = steps - 1
    axis, names = [dash] * width, [" "] * width
    free = 0
    for step in range(0, last + 1, _tick_spacing(last, max(1, width // 16))):
        col = round(step * (width - 1) / last) if last else 0
        text = step_label(step)
        start = max(0, min(col - len(text) // 2, width - len(text)))
        if start >= free:
            axis[col] = tick
            names[start : start + len(text)] = text
            free = start + len(text) + 1
    return "".join(axis), "".join(names)


def _tick_spacing(last: int, count: int) -> int:
    """The smallest round spacing (1, 2, 2.5 or 5 times a power of 10) with at most ``count`` intervals."""
    if last <= 0:
        return 1
    magnitude: int = 10 ** max(0, math.floor(math.log10(last / count)))
    for factor in (1, 2, 2.5, 5):
        spacing = factor * magnitude
        if spacing == int(spacing) and last / spacing <= count:
            return int(spacing)
    return 10 * magnitude


def step_label(step: int) -> str:
    """A step for an axis, exact and short: ``900``, ``25k``, ``1.5M``, ``99999``."""
    for unit, size in (("G", 10**9), ("M", 10**6), ("k", 10**3)):
        if step >= size and step * 10 % size == 0:
            return f"{step / size:.1f}".removesuffix(".0") + unit
    return str(step)


def eng(value: float) -> str:
    """A value in engineering notation, 4 significant digits: ``300.0e-6``, ``1.500``, ``0``."""
    if value == 0 or not math.isfinite(value):
        return "0" if value == 0 else repr(value)
    mantissa, exponent = f"{abs(value):.3e}".split("e")  # rounded once: "3.000", "-04"
    digits, power = mantissa.replace(".", ""), int(exponent)
    shift = power % 3  # digits before the point, less one
    text = f"{digits[: 1 + shift]}.{digits[1 + shift :]}"
    return ("-" if value < 0 else "") + text + (f"e{power - shift}" if power - shift else "")


def _y_labels(lo: float, hi: float, values: list[float]) -> list[str]:
    """Axis labels with one exponent for all, and enough decimals to tell neighbours apart."""
    top = max(abs(lo), abs(hi))
    exponent = 3 * math.floor(math.log10(top) / 3) if top > 0 else 0
    scale = 10.0**exponent
    spread = (hi - lo) / scale / max(1, len(values) - 1) if hi > lo else 1.0
    decimals = max(1, min(6, 1 - math.floor(math.log10(spread)))) if spread > 0 else 1
    suffix = f"e{exponent}" if exponent else ""
    return ["0" if v == 0 else f"{v / scale:.{decimals}f}{suffix}" for v in values]
