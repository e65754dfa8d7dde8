"""Every ```python block of the README and of docs/**/*.md (the site's pages) runs, each in a namespace of its own."""

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).parent.parent
DOCS = ROOT / "docs"
PAGES = [ROOT / "README.md", *sorted(p for p in DOCS.rglob("*.md") if "_build" not in p.relative_to(DOCS).parts)]
BLOCKS = [
    (f"{page.relative_to(ROOT)}#{i}", code)
    for page in PAGES
    for i, code in enumerate(re.findall(r"```python\n(.*?)```", page.read_text(), flags=re.S))
]


def test_readme_is_short_and_has_its_example():
    """The README: the two commands, a picture, the shortest example; the rest lives in docs/."""
    text = (ROOT / "README.md").read_text()
    assert sum(name.startswith("README.md") for name, _ in BLOCKS) == 1
    assert len(re.findall(r"```bash\n", text)) == 2
    assert "docs/_static/readme.svg" in text and (ROOT / "docs/_static/readme.svg").is_file()
    assert len(text.splitlines()) < 120


def test_pages_of_the_site_are_collected():
    names = {page.relative_to(ROOT).as_posix() for page in PAGES}
    assert {"docs/index.md", "docs/catalogue.md", "docs/migration/index.md", "docs/migration/pytorch.md"} <= names
    assert not any(name.startswith("docs/_build/") for name in names)
    assert any(name.startswith("docs/optimizer.md#") for name, _ in BLOCKS)


@pytest.mark.parametrize(("name", "code"), BLOCKS, ids=[name for name, _ in BLOCKS])
def test_block_runs(name, code):
    exec(compile(code, name, "exec"), {"__name__": name})
