"""The ``cli-help`` directive: the command line's reference, generated from its argparse parser.

In a MyST page::

    ```{cli-help}
    ```

prints ``mlxlr --help`` and ``mlxlr COMMAND --help`` of every sub-command,
each under a heading of its own, exactly as the program prints them (80
columns, no colour). The parser comes from the function named by the
``cli_parser`` setting (``"module:function"``), or the directive's
``:parser:`` option: a new option or sub-command shows up without editing
the page.
"""

from __future__ import annotations

import argparse
import importlib
import os
from collections.abc import Iterator
from typing import Any, ClassVar

from docutils import nodes
from docutils.parsers.rst import directives
from sphinx.application import Sphinx
from sphinx.util.docutils import SphinxDirective

COLUMNS = 80


class CliHelp(SphinxDirective):
    """``{cli-help}``: one section per command with its ``--help`` text."""

    option_spec: ClassVar[dict[str, Any]] = {"parser": directives.unchanged}

    def run(self) -> list[nodes.Node]:
        """Builds the parser and returns a section per command."""
        spec = self.options.get("parser") or self.config.cli_parser
        module_name, _, function = spec.partition(":")
        try:
            factory = getattr(importlib.import_module(module_name), function)
        except (ImportError, AttributeError) as e:
            raise self.error(f"cli-help: cannot load the parser factory {spec!r}: {e}") from None
        self.env.note_dependency(importlib.import_module(module_name).__file__ or "")
        sections: list[nodes.Node] = []
        for prog, parser in _commands(factory()):
            section = nodes.section(ids=[nodes.make_id(f"cli {prog}")], names=[nodes.fully_normalize_name(prog)])
            section += nodes.title(prog, "", nodes.literal(prog, prog))
            text = _help(parser).rstrip()
            block = nodes.literal_block(text, text, language="text")
            self.set_source_info(block)
            section += block
            self.state.document.note_implicit_target(section, section)
            sections.append(section)
        return sections


def _commands(parser: argparse.ArgumentParser) -> Iterator[tuple[str, argparse.ArgumentParser]]:
    """The parser and every sub-command's parser, depth first."""
    yield parser.prog, parser
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for sub in dict.fromkeys(action.choices.values()):  # aliases share a parser
                yield from _commands(sub)


def _help(parser: argparse.ArgumentParser) -> str:
    """``--help`` as the program prints it in a terminal of :data:`COLUMNS` columns, without colour."""
    saved = {k: os.environ.get(k) for k in ("COLUMNS", "NO_COLOR", "PYTHON_COLORS")}
    os.environ.update(COLUMNS=str(COLUMNS), NO_COLOR="1", PYTHON_COLORS="0")
    try:
        return parser.format_help()
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def setup(app: Sphinx) -> dict[str, Any]:
    """Registers the directive and its setting."""
    app.add_config_value("cli_parser", "", "env", types=frozenset({str}))
    app.add_directive("cli-help", CliHelp)
    return {"version": "1", "parallel_read_safe": True, "parallel_write_safe": True}
