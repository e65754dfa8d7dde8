"""Sessions: `nox` runs tests, typecheck and lint; `nox -s bench` and `nox -s crosscheck` on demand."""

import nox

nox.options.sessions = ["tests", "typecheck", "lint"]
nox.options.default_venv_backend = "venv"

DEV = ".[cpu,dev]"


@nox.session
def tests(session: nox.Session) -> None:
    """The test suite, doctests and the README's code blocks included."""
    session.install("-e", DEV)
    session.run("pytest", *session.posargs)


@nox.session
def typecheck(session: nox.Session) -> None:
    """mypy --strict on the library."""
    session.install("-e", DEV)
    session.run("mypy", "--strict", "src")


@nox.session
def lint(session: nox.Session) -> None:
    """ruff: lint and format check."""
    session.install("ruff>=0.6")
    session.run("ruff", "check", ".")
    session.run("ruff", "format", "--check", ".")
