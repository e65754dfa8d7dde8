"""The ``schedule-plot`` directive: a picture of a schedule, drawn at build time by ``Schedule.plot``.

In a MyST page::

    ```{schedule-plot} Linear(0, 1e-3, steps=100) >> CosineDecay(1e-3, decay_steps=900)
    :steps: 1200
    ```

The expression is read with :func:`mlxlr.parse` (so it is exactly what a
user could write), drawn with :meth:`mlxlr.Schedule.plot` (the code users
call) and saved as an SVG with a transparent background and mid-grey axes
and text, which read on the theme's light and dark backgrounds alike. The
figure's caption is the schedule's ``repr``: the expression that drew it.
Options: ``steps`` (default: what ``plot`` chooses) and ``alt``.

After all pages are read, every name of ``mlxlr.__all__`` that is a
schedule (a concrete ``Schedule`` subclass, or a function whose return
annotation is one) must head at least one picture: be the class of the
drawn schedule or the function the expression calls outermost. Names listed
in the ``schedule_plot_exempt`` setting (name -> reason) are excused. A
missing picture, or an excuse for a name that is not a schedule of
``mlxlr.__all__`` any more, is an error that lists the names and fails the
build (with or without ``-W``).
"""

from __future__ import annotations

import ast
import hashlib
import inspect
import os
from pathlib import Path
from typing import Any, ClassVar

import matplotlib
from docutils import nodes
from docutils.parsers.rst import directives
from matplotlib.figure import Figure
from sphinx.application import Sphinx
from sphinx.environment import BuildEnvironment
from sphinx.util import logging
from sphinx.util.docutils import SphinxDirective

import mlxlr

logger = logging.getLogger(__name__)

GREY = "#8c8c8c"
"""Axes, ticks and text: mid-grey reads on white and on the dark theme's near-black."""
LINE = "#3d8bd9"
"""The curve: a mid blue with enough contrast on both backgrounds."""
STYLE: dict[str, Any] = {
    "axes.edgecolor": GREY,
    "axes.labelcolor": GREY,
    "text.color": GREY,
    "xtick.color": GREY,
    "ytick.color": GREY,
    "axes.grid": True,
    "grid.color": GREY,
    "grid.alpha": 0.25,
    "grid.linewidth": 0.6,
    "font.size": 9,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "svg.hashsalt": "mlxlr",  # the same ids in the SVG on every build
    "svg.fonttype": "path",  # text as outlines: no font needed in the browser
}
FIGSIZE = (6.4, 2.9)
VERSION = "1"
"""Part of each file name: change it when the style changes."""


class SchedulePlot(SphinxDirective):
    """``{schedule-plot} EXPR``: a figure drawn by ``Schedule.plot``, captioned with the schedule's repr."""

    has_content = True
    optional_arguments = 1
    final_argument_whitespace = True
    option_spec: ClassVar[dict[str, Any]] = {"steps": directives.positive_int, "alt": directives.unchanged}

    def run(self) -> list[nodes.Node]:
        """Parses and draws the expression; returns the figure node."""
        text = "\n".join([*self.arguments, *self.content]).strip()
        if not text:
            raise self.error("schedule-plot needs an expression, e.g. {schedule-plot} CosineDecay(1.0, 100)")
        try:
            schedule = mlxlr.parse(text)
        except ValueError as e:
            raise self.error(f"schedule-plot: {e}") from None
        steps = self.options.get("steps")
        out = Path(self.env.doctreedir).parent / "schedule-plots"
        out.mkdir(parents=True, exist_ok=True)
        digest = hashlib.sha1(f"{VERSION}\n{steps}\n{text}".encode()).hexdigest()[:16]
        path = out / f"schedule-{digest}.svg"
        draw(schedule, steps, path)
        self.env.note_dependency(__file__)

        drawn = repr(schedule)
        # Sphinx reads a leading "/" as the source folder; the build folder need not be inside it.
        uri = "/" + Path(os.path.relpath(path, self.env.srcdir)).as_posix()
        # dark-light: the theme shows the transparent SVG as it is in dark mode (no white backing, no filter).
        image = nodes.image(uri=uri, alt=self.options.get("alt", drawn), classes=["dark-light"])
        self.set_source_info(image)
        caption = nodes.caption("", "", nodes.literal(drawn, drawn))
        self.set_source_info(caption)
        figure = nodes.figure("", image, caption, classes=["schedule-plot"])
        self.set_source_info(figure)
        self.add_name(figure)

        pictures = _pictures(self.env)
        pictures.setdefault(self.env.docname, []).append((drawn, sorted(_heads(text, schedule))))
        return [figure]


def draw(schedule: mlxlr.Schedule, steps: int | None, path: Path) -> None:
    """Draws ``schedule`` with ``Schedule.plot`` in the site's style and writes an SVG to ``path``."""
    with matplotlib.rc_context(STYLE):
        fig = Figure(figsize=FIGSIZE, layout="constrained")
        ax = schedule.plot(steps, ax=fig.add_subplot(), color=LINE, linewidth=1.6)
        ax.margins(x=0.01)
        fig.savefig(path, format="svg", transparent=True, metadata={"Date": None})


def _heads(text: str, schedule: mlxlr.Schedule) -> set[str]:
    """The names a picture counts for: the drawn schedule's class and the function called outermost."""
    heads = {type(schedule).__name__}
    tree = ast.parse(f"({text})", mode="eval").body
    if isinstance(tree, ast.Call) and isinstance(tree.func, ast.Name):
        heads.add(tree.func.id)
    return heads


def _pictures(env: BuildEnvironment) -> dict[str, list[tuple[str, list[str]]]]:
    if not hasattr(env, "schedule_plots"):
        env.schedule_plots = {}  # type: ignore[attr-defined]
    return env.schedule_plots  # type: ignore[attr-defined,no-any-return]


def schedule_names() -> set[str]:
    """The names of ``mlxlr.__all__`` that are schedules: concrete classes and functions returning one."""
    names = set()
    for name in mlxlr.__all__:
        value = getattr(mlxlr, name)
        if inspect.isclass(value):
            if issubclass(value, mlxlr.Schedule) and not inspect.isabstract(value):
                names.add(name)
        elif inspect.isfunction(value):
            returned = inspect.signature(value).return_annotation
            if isinstance(returned, str):  # postponed annotations: a name in mlxlr's namespace
                returned = getattr(mlxlr, returned.rsplit(".", 1)[-1], None)
            if inspect.isclass(returned) and issubclass(returned, mlxlr.Schedule):
                names.add(name)
    return names


def _purge(app: Sphinx, env: BuildEnvironment, docname: str) -> None:
    _pictures(env).pop(docname, None)


def _merge(app: Sphinx, env: BuildEnvironment, docnames: set[str], other: BuildEnvironment) -> None:
    _pictures(env).update(_pictures(other))


def _check(app: Sphinx, env: BuildEnvironment) -> None:
    """Every schedule of ``mlxlr.__all__`` has a picture (or a stated reason not to)."""
    exempt: dict[str, str] = app.config.schedule_plot_exempt
    required = schedule_names()
    pictured = {name for pictures in _pictures(env).values() for _, heads in pictures for name in heads}
    missing = sorted(required - pictured - exempt.keys())
    stale = sorted(exempt.keys() - required)
    problems = []
    if missing:
        problems.append(
            f"no picture of {', '.join(missing)}: add a ```{{schedule-plot}} EXPR``` whose schedule is of that "
            "class (or whose expression calls that function outermost) to a page, usually docs/catalogue.md"
        )
    if stale:
        problems.append(f"schedule_plot_exempt names {', '.join(stale)}, not a schedule of mlxlr.__all__")
    for problem in problems:
        logger.error(f"schedule-plot: {problem}", type="schedule-plot", subtype="missing")
    if problems:
        app.statuscode = 1  # a failed build with or without -W


def _report(app: Sphinx, exception: Exception | None) -> None:
    if exception is None and app.statuscode == 0:
        count = sum(len(p) for p in _pictures(app.env).values())
        exempt = len(app.config.schedule_plot_exempt)
        logger.info(
            f"schedule-plot: {count} pictures; every schedule of mlxlr.__all__ has one ({exempt} exempt, with reasons)"
        )


def setup(app: Sphinx) -> dict[str, Any]:
    """Registers the directive, the setting and the completeness check."""
    app.add_config_value("schedule_plot_exempt", {}, "env", types=frozenset({dict}))
    app.add_directive("schedule-plot", SchedulePlot)
    app.connect("env-purge-doc", _purge)
    app.connect("env-merge-info", _merge)
    app.connect("env-check-consistency", _check)
    app.connect("build-finished", _report)
    return {"version": VERSION, "parallel_read_safe": True, "parallel_write_safe": True, "env_version": 1}
