"""Sessions: `nox` runs tests, typecheck and lint; `nox -s docs docs_browser` builds and checks the documentation
site; `nox -s bench`, `nox -s crosscheck` and `nox -s fuzz` on demand."""

import shutil
import time
from pathlib import Path

import nox

nox.options.sessions = ["tests", "typecheck", "lint"]
nox.options.default_venv_backend = "venv"

DEV = ".[cpu,dev,plot,yaml]"
DOCS = ".[cpu,docs]"
PLAYWRIGHT = "playwright==1.65.2"


@nox.session
def tests(session: nox.Session) -> None:
    """The test suite, doctests and the README's code blocks included, on every core (pytest-xdist).

    Arguments after ``--`` go to pytest instead of ``-n auto``: ``nox -s tests -- -n 0 -k join``.
    """
    session.install("-e", DEV)
    session.run("pytest", *(session.posargs or ["-n", "auto"]))


@nox.session
def typecheck(session: nox.Session) -> None:
    """mypy --strict on the library."""
    session.install("-e", DEV)
    session.run("mypy", "--strict", "src")


@nox.session
def lint(session: nox.Session) -> None:
    """ruff (lint and format check) and the import layers of the package (import-linter, pyproject.toml)."""
    session.install("ruff>=0.6", "import-linter>=2.1")
    session.run("ruff", "check", ".")
    session.run("ruff", "format", "--check", ".")
    session.run("lint-imports", env={"PYTHONPATH": "src"})  # reads the sources; mlxlr need not be installed


@nox.session
def trainer(session: nox.Session) -> None:
    """mlx-lm's trainer and schedule builder against the real package; .ci/run runs it after `nox`.

    mlx-lm pulls in transformers and tokenizers (about 200 MB, 20 s to install); the test skips without it.
    """
    session.install("-e", DEV, "mlx-lm==0.32.2")
    session.run("pytest", "tests/test_mlx_lm_trainer.py", "tests/test_mlx_lm.py", *session.posargs)


@nox.session
def bench(session: nox.Session) -> None:
    """The benchmark (benchmarks/bench.py); on demand, not in `nox`: `nox -s bench -- --quick --json out.json`."""
    session.install("-e", DEV)
    session.run("python", "benchmarks/bench.py", *session.posargs)


@nox.session
def crosscheck(session: nox.Session) -> None:
    """Compare the catalogue and the migration guides with PyTorch, Transformers, Keras and Optax; on demand.

    PyTorch from PyPI brings its CUDA libraries (gigabytes); every check skips when its library is missing.
    """
    session.install("-e", DEV, "torch", "transformers", "keras", "jax", "optax")
    session.run(
        "pytest",
        *sorted(str(p) for p in Path("tests/crosscheck").glob("check_*.py")),
        *session.posargs,
        env={"KERAS_BACKEND": "numpy"},
    )


@nox.session
def fuzz(session: nox.Session) -> None:
    """The property tests with the "fuzz" hypothesis profile; on demand, not in `nox`.

    FUZZ_EXAMPLES (default 20 000) sets the examples of a property at full share; `nox -s fuzz -- -k NAME`
    picks properties. Hypothesis prints its statistics (examples, time) for each property.
    """
    session.install("-e", DEV)
    env = {"HYPOTHESIS_PROFILE": "fuzz"}
    session.run(
        "pytest",
        "tests/test_properties.py",
        "-p",
        "no:cacheprovider",
        "--hypothesis-show-statistics",
        *session.posargs,
        env=env,
    )


@nox.session
def docs(session: nox.Session) -> None:
    """The documentation site, built offline into docs/_build/html; .ci/run runs it.

    A fresh build (-E) with warnings as errors and every reference resolved (-W -n --keep-going): the
    pictures are drawn by Schedule.plot, a schedule of mlxlr.__all__ without one fails the build
    (docs/_ext/schedule_plot.py), and docs/_tools/check_site.py then fails for a name of mlxlr.__all__
    without an entry in the API reference. Needs Python 3.11 or newer (Sphinx 9).
    """
    session.install("-e", DOCS)
    for folder in ("html", "doctrees", "schedule-plots"):
        shutil.rmtree(Path("docs/_build") / folder, ignore_errors=True)
    start = time.perf_counter()
    session.run(
        "sphinx-build", "-b", "html", "-E", "-W", "-n", "--keep-going", "-q",
        "-d", "docs/_build/doctrees", "docs", "docs/_build/html",
    )  # fmt: skip
    took = time.perf_counter() - start
    session.run("python", "docs/_tools/check_site.py", "docs/_build/html", f"{took:.1f}")


@nox.session
def docs_browser(session: nox.Session) -> None:
    """The built site in a real browser (docs/_tests/test_site.py); run `nox -s docs` first; .ci/run runs both.

    Headless Chromium driven by Playwright for Python. Playwright comes from PyPI (pinned above); its own
    browser download does not work offline and is never run. The browser is Debian's Chromium, installed
    with `apt-get install -y chromium` (.ci/run does it when /usr/bin/chromium is missing); CHROMIUM=PATH
    picks another executable. Screenshots of the catalogue go to docs/_build/screenshots/.
    """
    session.install(PLAYWRIGHT, "pytest>=8")
    session.run("pytest", "docs/_tests", "-p", "no:cacheprovider", *session.posargs)
