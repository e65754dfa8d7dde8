"""After `sphinx-build`: every public name of mlxlr has an entry in the API reference; prints what the site holds.

Usage: ``python docs/_tools/check_site.py docs/_build/html [SECONDS]``. It reads the site's ``objects.inv``
(the inventory Sphinx writes of every documented object) and fails, listing them, if a name of
``mlxlr.__all__`` is missing there or is documented on a page other than the API reference. SECONDS, the
build's time, is printed with the summary.
"""

from __future__ import annotations

import sys
from pathlib import Path

from sphinx.util.inventory import InventoryFile

import mlxlr

API_PAGE = "api.html"


def main(argv: list[str]) -> int:
    """Checks the site in ``argv[0]``; returns the exit status."""
    html = Path(argv[0])
    inventory = InventoryFile.loads((html / "objects.inv").read_bytes(), uri="").data
    documented = {
        name: item.uri.split("#")[0]
        for role, items in inventory.items()
        if role.startswith("py:")
        for name, item in items.items()
    }
    missing = [name for name in mlxlr.__all__ if f"mlxlr.{name}" not in documented]
    elsewhere = [
        f"{name} ({documented[f'mlxlr.{name}']})"
        for name in mlxlr.__all__
        if f"mlxlr.{name}" in documented and documented[f"mlxlr.{name}"] != API_PAGE
    ]
    if missing or elsewhere:
        if missing:
            print(f"check_site: no API entry for {len(missing)} names of mlxlr.__all__: {', '.join(missing)}")
            print(f"check_site: add them to docs/api.md ({API_PAGE})")
        if elsewhere:
            print(f"check_site: documented outside {API_PAGE}: {', '.join(elsewhere)}")
        return 1
    pages = len(inventory.get("std:doc", {}))
    pictures = len(list((html / "_images").glob("schedule-*.svg")))
    took = f" in {float(argv[1]):.1f} s" if len(argv) > 1 else ""
    print(
        f"check_site: built{took}, 0 warnings (-W -n); {pages} pages, {pictures} schedule pictures; "
        f"all {len(mlxlr.__all__)} names of mlxlr.__all__ in the API reference"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
