"""``python -m mlxlr`` / ``mlxlr``: look at a schedule before a long run (see :mod:`mlxlr._cli`)."""

from __future__ import annotations

import sys

from ._cli import main

__all__ = ["main"]

if __name__ == "__main__":
    sys.exit(main())
