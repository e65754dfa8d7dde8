"""The ``mlxlr`` command line: look at a schedule before a long run.

``mlxlr plot EXPR`` draws it in the terminal (Unicode braille), ``--out
FILE.png`` with matplotlib, ``--csv`` as rows; ``mlxlr show EXPR`` prints
the normalized expression and its config. Bad input ends with exit status 2
and one line on stderr, never a traceback. Standard library only (matplotlib
and PyYAML are optional extras, imported when asked for).
"""

from __future__ import annotations

import argparse
import importlib
import json
import math
import os
import shutil
import struct
import sys
import textwrap
from collections.abc import Sequence
from pathlib import Path
from typing import Any, NoReturn, TextIO, cast

import mlx.core as mx

from ._config import from_config
from ._expr import parse
from ._join import Join
from ._mlx_lm import YAML_HINT, from_mlx_lm, yaml_document
from ._schedule import Schedule
from ._validate import MAX_COUNT

PROG = "mlxlr"
WIDTH, HEIGHT = 72, 16
"""The plot area in characters, at most (the width shrinks to fit the terminal)."""
MAX_SIZE = 1000
"""The largest ``--width`` and ``--height``, in characters."""
MAX_POINTS = 4096
"""A plot samples at most this many steps (plus the join boundaries), in one vectorized call."""
MAX_JOINS_SHOWN = 20
"""Key values listed below a plot: start, peak, end and this many join boundaries."""
CHUNK = 1 << 20
"""``--csv`` evaluates this many steps per call."""
IMAGE_SUFFIXES = (".png", ".svg", ".pdf")
PLOT_HINT = 'writing an image needs matplotlib: pip install "mlxlr[plot]"'

EPILOG = """\
examples:
  mlxlr plot "Linear(0, 3e-4, steps=1000) >> CosineDecay(3e-4, decay_steps=99000, end=3e-5)"
  mlxlr plot "cosine_decay(1e-3, 10000)" --out lr.png
  mlxlr plot "ExponentialDecay(1e-3, 0.5, decay_steps=1000)" --steps 5000 --csv --every 100
  mlxlr plot --config schedule.json
  mlxlr show "2 * Linear(0, 1, 10) >> Constant(2)"
"""


class InputError(Exception):
    """Bad input of the command line: reported as one line, exit status 2."""


class _Parser(argparse.ArgumentParser):
    """An ``ArgumentParser`` whose usage errors are one line, raised rather than printed."""

    def error(self, message: str) -> NoReturn:
        raise InputError(f"{message} (see {self.prog} --help)")


def main(argv: Sequence[str] | None = None) -> int:
    """Runs the command line; returns the exit status (0, or 2 for bad input).

    Without arguments it prints its help.

    Args:
        argv: The arguments, without the program name (default: ``sys.argv[1:]``).

    Returns:
        The exit status.

    Example:
        >>> main(["show", "Linear(0, 1, steps=10)"])
        Linear(init=0, end=1, steps=10)
        {
          "type": "Linear",
          "init": 0,
          "end": 1,
          "steps": 10
        }
        0
    """
    parser = _parser()
    if not (sys.argv[1:] if argv is None else argv):
        parser.print_help()
        return 0
    try:
        args = parser.parse_args(argv)
        status: int = args.command(args)
        sys.stdout.flush()
    except BrokenPipeError:  # `mlxlr plot ... --csv | head`
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 1
    except (InputError, ValueError, TypeError, OSError, RecursionError) as e:
        _fail(e)
        return 2
    return status


def _fail(error: BaseException) -> None:
    if isinstance(error, RecursionError):
        message = "the input is nested too deeply"
    elif isinstance(error, OSError) and error.filename is not None:
        message = f"{error.filename}: {error.strerror or error}"
    else:
        message = str(error) or type(error).__name__
    one_line = " ".join(line.strip() for line in message.splitlines() if line.strip())
    print(f"{PROG}: error: {one_line}", file=sys.stderr)


def _parser() -> _Parser:
    parser = _Parser(
        prog=PROG,
        description="Look at a learning-rate schedule before a long run.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    sub = parser.add_subparsers(title="commands", metavar="COMMAND", required=True)

    plot = sub.add_parser(
        "plot",
        help="draw a schedule in the terminal (or write an image, or CSV rows)",
        description="Draw a schedule in the terminal, write it as an image (--out) or as CSV rows (--csv).",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    _source_arguments(plot)
    plot.add_argument("--steps", type=_count, metavar="N", help="steps 0 .. N-1 (default: duration + 1)")
    plot.add_argument("--out", metavar="FILE", help="write an image (.png, .svg or .pdf; needs matplotlib)")
    plot.add_argument("--csv", action="store_true", help="print step,value rows instead of a plot")
    plot.add_argument("--every", type=_count, metavar="K", help="with --csv: every K-th step only")
    plot.add_argument("--width", type=_size, metavar="W", help=f"plot width in characters (default: {WIDTH}, or less)")
    plot.add_argument("--height", type=_size, metavar="H", help=f"plot height in characters (default: {HEIGHT})")
    plot.set_defaults(command=_plot)

    show = sub.add_parser(
        "show",
        help="print the normalized expression and its config as JSON",
        description="Print the normalized expression (the schedule's repr) and its config as JSON.",
    )
    _source_arguments(show)
    show.set_defaults(command=_show)
    return parser


def _source_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("expr", nargs="?", metavar="EXPR", help='a schedule expression, e.g. "CosineDecay(1e-3, 1000)"')
    parser.add_argument(
        "--config",
        metavar="FILE",
        help="read the schedule from a .json or .yaml file: a to_config() dict, or mlx-lm's lr_schedule",
    )


def _count(text: str, most: int = MAX_COUNT) -> int:
    """A positive count up to ``most`` (2**60, as step counts in the library): ``1000``, ``100_000`` or ``1e6``."""
    allowed = f"a positive integer of at most {'2**60' if most == MAX_COUNT else most}"
    try:
        value = int(text)
    except ValueError:
        try:
            number = float(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected {allowed}, got {text!r}") from None
        if not number.is_integer():
            raise argparse.ArgumentTypeError(f"expected {allowed}, got {text!r}") from None
        value = int(number)
    if not 1 <= value <= most:
        raise argparse.ArgumentTypeError(f"expected {allowed}, got {text!r}")
    return value


def _size(text: str) -> int:
    """A plot's width or height in characters: a positive count up to :data:`MAX_SIZE`."""
    return _count(text, MAX_SIZE)


# Reading the schedule. -----------------------------------------------------


def _schedule(args: argparse.Namespace) -> Schedule:
    if args.config is not None and args.expr is not None:
        raise InputError("give an expression or --config FILE, not both")
    if args.config is not None:
        return read_config(Path(args.config))
    if args.expr is None:
        raise InputError('give an expression (e.g. "CosineDecay(1e-3, 1000)") or --config FILE')
    return parse(args.expr)


def read_config(path: Path) -> Schedule:
    """The schedule in a JSON or YAML file: a ``to_config()`` dict, mlx-lm's config, or an expression."""
    suffix = path.suffix.lower()
    if suffix not in (".json", ".yaml", ".yml"):
        raise InputError(f"{path}: a config file must end in .json, .yaml or .yml")
    text = path.read_text(encoding="utf-8")
    if suffix == ".json":
        try:
            data = json.loads(text)
        except json.JSONDecodeError as e:
            raise InputError(f"{path}: not valid JSON: {e}") from None
    else:
        data = _load_yaml(path, text)
    if isinstance(data, str):
        return parse(data)
    if isinstance(data, dict) and "type" in data:
        return from_config(data)
    if isinstance(data, dict) and ("lr_schedule" in data or "name" in data):
        return from_mlx_lm(data)
    raise InputError(
        f"{path}: expected a schedule config (a mapping with 'type'), mlx-lm's lr_schedule "
        f"(with 'name' and 'arguments') or an expression string, got {type(data).__name__}"
    )


def _load_yaml(path: Path, text: str) -> Any:
    try:
        return yaml_document(text, str(path))  # PyYAML's safe loader reading 1e-5 as a number, as mlx-lm does
    except ImportError:
        raise InputError(YAML_HINT) from None


# Commands. -------------------------------------------------------------------


def _show(args: argparse.Namespace) -> int:
    schedule = _schedule(args)
    config = schedule.to_config()
    print(repr(schedule))
    print(json.dumps(config, indent=2))
    return 0


def _plot(args: argparse.Namespace) -> int:
    schedule = _schedule(args)
    if args.every is not None and not args.csv:
        raise InputError("--every goes with --csv")
    if args.csv and args.out is not None:
        raise InputError("give --csv or --out, not both")
    if args.out is not None and Path(args.out).suffix.lower() not in IMAGE_SUFFIXES:
        raise InputError(f"--out {args.out}: the file must end in {', '.join(IMAGE_SUFFIXES)}")
    steps = args.steps
    if steps is None:
        if schedule.duration is None:
            raise InputError(f"the schedule is unbounded: give --steps N for {schedule!r}")
        steps = min(schedule.duration + 1, MAX_COUNT + 1)  # steps past 2**60 hold the value at 2**60
    if args.csv:
        _write_csv(schedule, steps, args.every or 1, sys.stdout)
        return 0
    curve = Curve.sample(schedule, steps)
    if args.out is not None:
        _write_image(curve, Path(args.out))
        print(f"wrote {args.out}")
        return 0
    columns = shutil.get_terminal_size((WIDTH + 12, 24)).columns
    unicode = _can_encode(sys.stdout, "⣿┤│└┬─")
    print("\n".join(curve.render(columns, args.width, args.height or HEIGHT, unicode=unicode)))
    return 0


def _write_csv(schedule: Schedule, steps: int, every: int, out: TextIO) -> None:
    out.write("step,value\n")
    for start in range(0, steps, CHUNK * every):
        stop = min(steps, start + CHUNK * every)
        ticks = mx.arange(start, stop, every, dtype=mx.int64)
        values = cast("list[float]", schedule(ticks).tolist())  # host: printing
        out.write("".join(f"{t},{float32_text(v)}\n" for t, v in zip(range(start, stop, every), values)))


def float32_text(value: float) -> str:
    """The shortest text that reads back as the same float32: ``0.0003``, not ``0.0003000000142``."""
    if not math.isfinite(value):
        return repr(value)
    for digits in range(6, 10):
        text = f"{value:.{digits}g}"
        if _float32(float(text)) == value:
            return text
    return repr(value)


def _float32(value: float) -> float:
    result: float = struct.unpack("f", struct.pack("f", value))[0]
    return result


def _can_encode(stream: TextIO, text: str) -> bool:
    try:
        text.encode(stream.encoding or "ascii")
    except (LookupError, UnicodeEncodeError):
        return False
    return True


# The plot. --------------------------------------------------------------------


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
        if steps <= MAX_POINTS:
            xs = list(range(steps))
            ticks = mx.arange(steps, dtype=mx.int64)
        else:
            spread = {round(i * (steps - 1) / (MAX_POINTS - 1)) for i in range(MAX_POINTS)}
            if isinstance(schedule, Join):
                spread.update(s for b in schedule.boundaries for s in (b - 1, b) if s < steps)
            xs = sorted(spread)
            ticks = mx.array(xs, dtype=mx.int64)
        ys = cast("list[float]", schedule(ticks).tolist())  # host: plotting
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


def _write_image(curve: Curve, path: Path) -> None:
    try:
        figure_module: Any = importlib.import_module("matplotlib.figure")
        ticker: Any = importlib.import_module("matplotlib.ticker")
    except ImportError:
        raise InputError(PLOT_HINT) from None
    fig = figure_module.Figure(figsize=(8, 4.5), dpi=100, layout="constrained")
    ax = fig.add_subplot()
    ax.plot(curve.xs, curve.ys, linewidth=1.5)
    for b in curve.boundaries:
        ax.axvline(b, color="0.6", linestyle=":", linewidth=1)
    title = repr(curve.schedule)
    ax.set_title(title if len(title) <= 110 else title[:107] + "...", fontsize=8)
    ax.set_xlabel("step")
    ax.set_ylabel("value")
    ax.yaxis.set_major_formatter(ticker.EngFormatter())
    ax.grid(True, alpha=0.3)
    fig.savefig(path)
