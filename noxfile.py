"""Sessions: `nox` runs tests, typecheck and lint; `nox -s bench`, `nox -s crosscheck` and `nox -s fuzz` on demand."""

from pathlib import Path

import nox

nox.options.sessions = ["tests", "typecheck", "lint"]
nox.options.default_venv_backend = "venv"

DEV = ".[cpu,dev,plot,yaml]"


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
