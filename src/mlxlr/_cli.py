"""The ``mlxlr`` command line: look at a schedule before a long run.

``mlxlr plot EXPR`` draws it in the terminal (Unicode braille), ``--out
FILE.png`` with matplotlib (through :meth:`Schedule.plot`, the one plotting
path), ``--csv`` as rows; ``mlxlr show EXPR`` prints the normalized
expression and its config. ``--import MODULE`` imports a module first, so
that the schedules it registers can be named. Bad input ends with exit
status 2 and one line on stderr, never a traceback. Standard library only
(matplotlib and PyYAML are optional extras, imported when asked for).
"""

from __future__ import annotations

import argparse
import importlib
import json
import math
import os
import shutil
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any, NoReturn, TextIO, cast

import mlx.core as mx

from ._bind import needs
from ._config import from_config
from ._contract import called
from ._expr import parse
from ._lint import lint
from ._mlx_lm import YAML_HINT, from_mlx_lm, yaml_document
from ._printing import float32_text
from ._schedule import Schedule
from ._terminal import HEIGHT, WIDTH, Curve
from ._validate import MAX_COUNT

PROG = "mlxlr"
MAX_SIZE = 1000
"""The largest ``--width`` and ``--height``, in characters."""
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
  mlxlr plot --import my_schedules "Halving(1e-3, every=1000)" --steps 5000
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
    _run_arguments(plot)
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
    _add_lint(sub)
    return parser


def _source_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("expr", nargs="?", metavar="EXPR", help='a schedule expression, e.g. "CosineDecay(1e-3, 1000)"')
    parser.add_argument(
        "--config",
        metavar="FILE",
        help="read the schedule from a .json or .yaml file: a to_config() dict, or mlx-lm's lr_schedule",
    )
    parser.add_argument(
        "--import",
        dest="imports",
        action="append",
        default=[],
        metavar="MODULE",
        help="import MODULE first (from the current directory or the Python path), so that the schedule "
        "classes it registers with @mlxlr.register can be named; may be repeated",
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
    for name in args.imports:
        import_module(name)
    if args.config is not None and args.expr is not None:
        raise InputError("give an expression or --config FILE, not both")
    if args.config is not None:
        return read_config(Path(args.config))
    if args.expr is None:
        raise InputError('give an expression (e.g. "CosineDecay(1e-3, 1000)") or --config FILE')
    return parse(args.expr)


def import_module(name: str) -> None:
    """Imports the module ``name`` for ``--import``, the current directory first on the path.

    Raises:
        InputError: the module cannot be found or fails while it is imported
            (any exception); the message names the module and the error.
    """
    if not name or not all(part.isidentifier() for part in name.split(".")):
        raise InputError(f"--import {name}: not a module name (e.g. my_schedules or pkg.schedules)")
    cwd = os.getcwd()
    added = cwd not in sys.path
    if added:
        sys.path.insert(0, cwd)
    try:
        importlib.import_module(name)
    except Exception as e:  # whatever the module raises: one line, exit status 2
        raise InputError(f"--import {name}: {type(e).__name__}: {e}") from None
    finally:
        if added:
            sys.path.remove(cwd)


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
    if isinstance(data, dict) and ("type" in data or "operator" in data):  # "operator": a schedule in units
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
    schedule = _bound(_schedule(args), args)
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
    if args.out is not None:
        _write_image(schedule, steps, Path(args.out))
        print(f"wrote {args.out}")
        return 0
    curve = Curve.sample(schedule, steps)
    columns = shutil.get_terminal_size((WIDTH + 12, 24)).columns
    unicode = _can_encode(sys.stdout, "⣿┤│└┬─")
    print("\n".join(curve.render(columns, args.width, args.height or HEIGHT, unicode=unicode)))
    return 0


def _write_csv(schedule: Schedule, steps: int, every: int, out: TextIO) -> None:
    out.write("step,value\n")
    for start in range(0, steps, CHUNK * every):
        stop = min(steps, start + CHUNK * every)
        ticks = mx.arange(start, stop, every, dtype=mx.int64)
        values = cast("list[float]", called(schedule, ticks).tolist())  # host: printing
        out.write("".join(f"{t},{float32_text(v)}\n" for t, v in zip(range(start, stop, every), values)))


def _can_encode(stream: TextIO, text: str) -> bool:
    try:
        text.encode(stream.encoding or "ascii")
    except (LookupError, UnicodeEncodeError):
        return False
    return True


def _write_image(schedule: Schedule, steps: int, path: Path) -> None:
    """The picture :meth:`Schedule.plot` draws, with the expression as its title, written to ``path``."""
    try:
        figure_module: Any = importlib.import_module("matplotlib.figure")
        ticker: Any = importlib.import_module("matplotlib.ticker")
    except ImportError:
        raise InputError(PLOT_HINT) from None
    fig = figure_module.Figure(figsize=(8, 4.5), dpi=100, layout="constrained")
    ax = schedule.plot(steps, ax=fig.add_subplot(), linewidth=1.5)
    title = repr(schedule)
    ax.set_title(title if len(title) <= 110 else title[:107] + "...", fontsize=8)
    ax.yaxis.set_major_formatter(ticker.EngFormatter())
    ax.grid(True, alpha=0.3)
    fig.savefig(path)


# Units of a run: binding, and the lint. ------------------------------------------------------------------

_RUN_FLAGS = {
    "total_steps": "--total-steps",
    "steps_per_epoch": "--steps-per-epoch",
    "tokens_per_step": "--tokens-per-step",
}
LINT_EPILOG = """\
examples:
  mlxlr lint "Linear(0, 3e-4, steps=frac(0.05)) >> CosineDecay(3e-4, decay_steps=REST)" --total-steps 100000
  mlxlr lint --config schedule.yaml --total-steps 20000 --steps-per-epoch 500

exit status: 0 without findings, 1 with findings (one a line), 2 on bad input.
"""


def _run_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--total-steps", type=_count, metavar="N", help="optimizer updates in the run (binds frac(...) and REST)"
    )
    parser.add_argument("--steps-per-epoch", type=_count, metavar="N", help="optimizer updates per epoch (epochs)")
    parser.add_argument("--tokens-per-step", type=_amount, metavar="N", help="tokens per optimizer update (tokens)")


def _amount(text: str) -> float:
    """A positive number: ``4096``, ``3.2e6``."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive number, got {text!r}") from None
    if not (value > 0 and math.isfinite(value)):
        raise argparse.ArgumentTypeError(f"expected a positive number, got {text!r}")
    return int(value) if value.is_integer() else value


def _bound(schedule: Schedule, args: argparse.Namespace) -> Schedule:
    """The schedule bound to the run's numbers; an unbound one without them is one line of bad input."""
    given = {name: getattr(args, name) for name in _RUN_FLAGS}
    missing = {name: units for name, units in needs(schedule).items() if given[name] is None}
    if missing:
        units = ", ".join(repr(u) for group in missing.values() for u in group)
        flags = " and ".join(f"{_RUN_FLAGS[name]} N" for name in missing)
        raise InputError(f"the schedule is written in units ({units}): give {flags} to bind it")
    return schedule.bind(**given)


def _add_lint(sub: Any) -> None:
    parser = sub.add_parser(
        "lint",
        help="name what is likely off in a learning-rate schedule for a run",
        description="Name what is likely off in a learning-rate schedule for a run of --total-steps updates "
        "(see mlxlr.lint): one finding a line.",
        epilog=LINT_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    _source_arguments(parser)
    _run_arguments(parser)
    parser.set_defaults(command=_lint)


def _lint(args: argparse.Namespace) -> int:
    schedule = _bound(_schedule(args), args)
    findings = lint(schedule, args.total_steps, args.steps_per_epoch, args.tokens_per_step)
    for finding in findings:
        print(finding)
    return 1 if findings else 0
