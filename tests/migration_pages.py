"""The tables of the migration guides (docs/migration/*.md), read as data.

Each guide has one table whose header is ``| <library> | mlxlr | notes |``. A row's
first cell holds the reference call as a code span (followed by the word
"momentum" when the row is about the momentum the scheduler cycles, not the
learning rate); its second cell holds the mlxlr expressions, each a code span
that ``mlxlr.parse`` reads (none where mlxlr has no equivalent); its third, notes.
tests/test_migration.py checks every row against the reference formula and
tests/crosscheck/check_migration.py against the library itself.
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).parent.parent
GUIDES = ROOT / "docs" / "migration"
LIBRARIES = {"pytorch": "PyTorch", "huggingface": "Hugging Face", "optax": "Optax", "keras": "Keras", "mlx": "MLX"}

_CODE = re.compile(r"`([^`]+)`")


@dataclass(frozen=True)
class Row:
    """One row of a guide's table."""

    page: str
    id: str
    name: str
    reference: str
    quantity: str
    expressions: tuple[str, ...]
    notes: str
    line: int


def call_name(source: str) -> str:
    """The last name of a reference call's callee: ``linear_schedule`` for ``optax.linear_schedule(...)``."""
    node = ast.parse(source, mode="eval").body
    if not isinstance(node, ast.Call):
        raise ValueError(f"not a call: {source}")
    func = node.func
    if isinstance(func, ast.Attribute):
        return func.attr
    if isinstance(func, ast.Name):
        return func.id
    raise ValueError(f"cannot name the callee of {source}")


def page_text(page: str) -> str:
    return (GUIDES / f"{page}.md").read_text()


def rows(page: str) -> list[Row]:
    """The rows of ``docs/migration/<page>.md``'s table, in order; ids are ``page:Name`` (``#2``, ... on repeats)."""
    lines = page_text(page).splitlines()
    header = f"| {LIBRARIES[page]} | mlxlr | notes |"
    if header not in lines:
        raise ValueError(f"docs/migration/{page}.md has no table headed {header!r}")
    start = lines.index(header) + 2  # the header, then the |---| line
    out: list[Row] = []
    seen: dict[str, int] = {}
    for number, line in enumerate(lines[start:], start=start + 1):
        if not line.startswith("|"):
            break
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        if len(cells) != 3:
            raise ValueError(f"docs/migration/{page}.md:{number}: expected 3 cells, got {len(cells)}: {line}")
        reference_cell, mlxlr_cell, notes = cells
        codes = _CODE.findall(reference_cell)
        if not codes:
            raise ValueError(f"docs/migration/{page}.md:{number}: the first cell holds no code span: {line}")
        reference = codes[0]
        quantity = "momentum" if re.search(r"\bmomentum\b", _CODE.sub("", reference_cell)) else "lr"
        name = call_name(reference)
        key = name if quantity == "lr" else f"{name}-momentum"
        seen[key] = seen.get(key, 0) + 1
        row_id = f"{page}:{key}" + (f"#{seen[key]}" if seen[key] > 1 else "")
        out.append(Row(page, row_id, name, reference, quantity, tuple(_CODE.findall(mlxlr_cell)), notes, number))
    return out
