"""Sphinx configuration of the mlxlr documentation site (`nox -s docs` builds it into docs/_build/html)."""

from __future__ import annotations

import importlib
import re
import sys
import warnings
from pathlib import Path
from typing import Any

from sphinx.application import Sphinx
from sphinx.deprecation import RemovedInSphinx10Warning

import mlxlr

DOCS = Path(__file__).parent
sys.path.insert(0, str(DOCS / "_ext"))

project = "mlxlr"
author = "The mlxlr developers"
copyright = "The mlxlr developers"
release = version = mlxlr.__version__

extensions = [
    "myst_parser",
    "sphinx.ext.autodoc",
    "sphinx.ext.napoleon",
    "sphinx_autodoc_typehints",  # after napoleon, as its documentation asks
    "sphinx_copybutton",
    "schedule_plot",  # docs/_ext: ```{schedule-plot} EXPR``` draws a picture with Schedule.plot
    "cli_help",  # docs/_ext: ```{cli-help}``` prints `--help` of the command and of each sub-command
]

source_suffix = {".md": "markdown"}
root_doc = "index"
exclude_patterns = ["_build", "_ext", "_tools", "_tests"]

# MyST: `#` anchors for headings down to level 3, so `cli.md#errors-and-exit-status` links resolve.
myst_heading_anchors = 3

# Autodoc with Google-style docstrings; signatures carry the types, so descriptions do not repeat them.
autodoc_member_order = "bysource"
autodoc_default_options = {"members": True, "show-inheritance": True}
autodoc_typehints = "signature"
autodoc_type_aliases = {"StepLike": "mlxlr.StepLike"}
napoleon_google_docstring = True
napoleon_numpy_docstring = False
napoleon_use_rtype = False
typehints_use_signature = True
typehints_use_signature_return = True
typehints_document_rtype = False
always_use_bars_union = True

# Every reference must resolve (-n on the command line too). The site is built offline, so the inventories
# of MLX, matplotlib and Python's standard library cannot be fetched with intersphinx; the names below are
# the ones our signatures mention from those libraries. They are listed one by one, deliberately: any other
# unresolved reference still fails the build.
nitpicky = True
nitpick_ignore = [
    # MLX (https://ml-explore.github.io/mlx/): the array type and the optimizer base class, under the names
    # autodoc writes (the defining module) and the public ones a docstring would write.
    ("py:class", "mlx.core.array"),
    ("py:class", "mlx.optimizers.optimizers.Optimizer"),
    ("py:class", "mlx.optimizers.Optimizer"),
    # matplotlib (the plot extra): what Schedule.plot returns.
    ("py:class", "matplotlib.axes._axes.Axes"),
    ("py:class", "matplotlib.axes.Axes"),
    # The standard library, whose inventory is not at hand offline either.
    ("py:class", "collections.abc.Callable"),
    ("py:class", "collections.abc.Mapping"),
    ("py:class", "collections.abc.Sequence"),
    ("py:class", "abc.ABC"),  # Schedule's base
    ("py:class", "os.PathLike"),  # from_mlx_lm takes a path
    # sphinx-autodoc-typehints writes these as py:data, which Sphinx's resolver of built-in names skips.
    ("py:data", "typing.Any"),
    ("py:data", "Ellipsis"),  # the `...` of tuple[int, ...]
]
nitpick_ignore_regex = [
    # Type variables of generic signatures (register's `cls: type[S]`): one capital letter in a module of mlxlr.
    ("py:class", r"mlxlr\.[\w.]+\.[A-Z]"),
]

html_theme = "sphinx_book_theme"  # the theme of MLX's own documentation
html_title = f"mlxlr {release}"
html_favicon = "_static/favicon.svg"  # a warmup and a decay; without one, browsers ask for a missing /favicon.ico
html_theme_options = {
    "home_page_in_toc": True,
    "show_toc_level": 2,
    "use_download_button": False,
    "use_fullscreen_button": False,
}
# Formulas in docstrings (`.. math::`) are typeset by MathJax in the browser. Sphinx loads MathJax from a CDN by
# default, which an offline site cannot reach: the docs extra installs a copy of MathJax 3 from PyPI
# (django-static-mathjax, plain static files), and its single-file TeX-to-SVG bundle is served from _static.
MATHJAX = Path(importlib.import_module("mathjax").__file__ or "").parent / "static" / "mathjax" / "es5" / "tex-svg.js"
mathjax_path = "tex-svg.js"  # relative to _static

html_static_path = ["_static", str(MATHJAX)]
# Light or dark as the reader's system says; the theme logs an error for the empty mode it has otherwise.
html_context = {"default_mode": "auto"}
html_css_files = ["mlxlr.css"]
html_last_updated_fmt = None

# Copy buttons copy commands, not prompts or output.
copybutton_prompt_text = r"\$ |>>> |\.\.\. "
copybutton_prompt_is_regexp = True

# sphinx-autodoc-typehints 3.6 (the newest for Python 3.11) calls an API that Sphinx 9 deprecates; Python prints
# that on every page. Nothing to act on until a newer pin.
warnings.filterwarnings("ignore", category=RemovedInSphinx10Warning, module="sphinx_autodoc_typehints")


def public_bases(app: Sphinx, name: str, obj: object, options: dict[str, object], bases: list[type]) -> None:
    """Show a class's bases as the public classes they are: a private base becomes its public ancestors.

    mlxlr's families derive from private helpers (a base with the shared step arithmetic); the reader, and the
    nitpicky build, should see ``Bases: mlxlr.Schedule``.
    """
    public: list[type] = []
    for base in bases:
        for ancestor in base.__mro__:
            if getattr(mlxlr, ancestor.__name__, None) is ancestor or ancestor.__module__ in ("abc", "builtins"):
                if ancestor not in public and ancestor is not object:
                    public.append(ancestor)
                break
    bases[:] = public


def public_names(app: Sphinx, env: Any, node: Any, contnode: Any) -> Any:
    """Resolves a public class named under its private module (``mlxlr._units.Unit``) to its public name.

    Type hints name a class where it is defined; the API reference documents it as ``mlxlr.Unit``. Anything
    else stays unresolved (and fails the nitpicky build).
    """
    match = re.fullmatch(r"mlxlr\._\w+\.(\w+)", node.get("reftarget", ""))
    if node.get("refdomain") != "py" or match is None or not hasattr(mlxlr, match.group(1)):
        return None
    node["reftarget"] = f"mlxlr.{match.group(1)}"
    return env.get_domain("py").resolve_xref(
        env, node["refdoc"], app.builder, node["reftype"], node["reftarget"], node, contnode
    )


def setup(app: Sphinx) -> None:
    """Hooks of this site that are not worth an extension of their own."""
    app.connect("autodoc-process-bases", public_bases)
    app.connect("missing-reference", public_names)


# docs/_ext/schedule_plot.py: the names of mlxlr.__all__ that are schedules but get no picture, and why.
schedule_plot_exempt = {
    "Lambda": "wraps a Python callable: it has no expression to draw from",
    "ReduceOnPlateau": "a scale driven by a metric, not by the step: drawn alone it is a flat line at 1",
    "parse": "reads any expression: every picture on the site is drawn through it",
    "from_config": "rebuilds any schedule from its config",
    "from_mlx_lm": "reads mlx-lm's config into the classes pictured in the catalogue",
    "bind": "turns units into steps: the schedule it returns is of a class pictured in the catalogue",
}
# docs/_ext/cli_help.py: the function that builds the command line's argparse parser, as MODULE:NAME.
cli_parser = "mlxlr._cli:_parser"
