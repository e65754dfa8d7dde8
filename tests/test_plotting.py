"""Schedule.plot: the one plotting path (the CLI's --out and the docs site draw with it)."""

import os
import subprocess
import sys
from pathlib import Path

import mlx.core as mx
import numpy as np
import pytest

import mlxlr

matplotlib = pytest.importorskip("matplotlib")
matplotlib.use("Agg")

from matplotlib.axes import Axes  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

SRC = str(Path(__file__).resolve().parents[1] / "src")
WARMUP = mlxlr.Linear(0.0, 1e-3, steps=20)
COSINE = mlxlr.CosineDecay(1e-3, decay_steps=80, end=1e-5)


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    import matplotlib.pyplot as plt

    plt.close("all")


def new_ax():
    return Figure().add_subplot()


def curve(ax):
    """The schedule's line: the first line that is not a boundary marker."""
    return next(line for line in ax.lines if not line.get_label().startswith("_"))


def boundary_steps(ax):
    marks = [line for line in ax.lines if line.get_label() == "_boundary"]
    for line in marks:
        assert line.get_linestyle() == ":"
        x0, x1 = line.get_xdata()
        assert x0 == x1
    return [float(line.get_xdata()[0]) for line in marks]


def test_returns_a_new_axes_by_default():
    ax = COSINE.plot()
    assert isinstance(ax, Axes)
    assert ax.figure.get_size_inches().tolist() == [8.0, 4.5]
    assert (ax.get_xlabel(), ax.get_ylabel()) == ("step", "value")
    assert curve(ax).get_label() == repr(COSINE)
    assert COSINE.plot() is not ax  # a new figure each time without ax=


def test_draws_on_the_given_axes_and_keeps_its_labels():
    ax = new_ax()
    ax.set_ylabel("learning rate")
    assert COSINE.plot(ax=ax) is ax
    assert (ax.get_xlabel(), ax.get_ylabel()) == ("step", "learning rate")


class Halving(mlxlr.Schedule):
    def __init__(self, init: float, every: int) -> None:
        self.init, self.every = init, every

    def __call__(self, step):
        return self.init * 0.5 ** (mlxlr.as_step(step) // self.every).astype(mx.float32)


@pytest.mark.parametrize(
    ("schedule", "steps"),
    [
        (WARMUP >> COSINE, None),
        (mlxlr.StepDecay(1.0, 0.5, step_size=7), 50),
        (mlxlr.OneCycle(1e-3, total_steps=150).momentum(), None),
        (0.5 * (WARMUP >> COSINE) + mlxlr.Cyclic(0.0, 1e-4, step_size_up=10), 333),
        (Halving(1.0, every=10), 45),  # a user's subclass plots too
        (mlxlr.Constant(2.0), 1),
    ],
    ids=repr,
)
def test_line_data_equal_values(schedule, steps):
    ax = schedule.plot(steps, ax=new_ax())
    n = steps if steps is not None else schedule.duration + 1
    line = curve(ax)
    np.testing.assert_array_equal(line.get_xdata(), np.arange(n))
    np.testing.assert_array_equal(np.asarray(line.get_ydata(), dtype=np.float32), np.array(schedule.values(n)))


@pytest.mark.parametrize(
    ("schedule", "expected"),
    [
        (WARMUP >> COSINE, 101),  # bounded: duration + 1
        (mlxlr.Linear(0.0, 1.0, steps=1), 2),
        (mlxlr.ExponentialDecay(1e-3, 0.99), 1000),  # unbounded, nothing bounded inside
        (mlxlr.CosineRestarts(1e-3, first_period=30), 1000),
        (WARMUP >> mlxlr.Constant(1e-3), 200),  # ten times the furthest bounded end (20)
        (mlxlr.Constant(1e-3).with_warmup(25), 250),  # a warmup's end counts
        ((WARMUP >> COSINE).repeat(), 1000),  # the repeated join lasts 100
        (mlxlr.warmup_constant(1e-3, 30), 300),
    ],
    ids=repr,
)
def test_default_steps(schedule, expected):
    line = curve(schedule.plot(ax=new_ax()))
    assert len(line.get_xdata()) == expected
    assert line.get_xdata()[-1] == expected - 1


def test_several_schedules_on_one_axes():
    ax = new_ax()
    WARMUP.plot(100, ax=ax)
    COSINE.plot(100, ax=ax, color="red", label="cosine")
    lines = [line for line in ax.lines if not line.get_label().startswith("_")]
    assert [line.get_label() for line in lines] == [repr(WARMUP), "cosine"]
    assert lines[1].get_color() == "red"
    np.testing.assert_array_equal(np.asarray(lines[0].get_ydata(), np.float32), np.array(WARMUP.values(100)))
    legend = ax.legend()
    assert [t.get_text() for t in legend.get_texts()] == [repr(WARMUP), "cosine"]  # boundaries stay out


@pytest.mark.parametrize(
    ("schedule", "expected"),
    [
        (WARMUP >> COSINE, [20.0]),
        (WARMUP >> COSINE >> mlxlr.Constant(1e-5).for_steps(50) >> mlxlr.Constant(0.0), [20.0, 100.0, 150.0]),
        (0.5 * (WARMUP >> COSINE) + 1e-4, [20.0]),  # through pointwise combinations
        (COSINE.with_warmup(20), [20.0]),
        (mlxlr.warmup_cosine(1e-3, 10, 100), [10.0]),
        ((WARMUP >> COSINE).with_warmup(5), [5.0, 25.0]),  # a join inside a warmup, shifted
        (WARMUP >> (COSINE.for_steps(30) >> COSINE), [20.0, 50.0]),
        ((WARMUP >> COSINE).for_steps(10), []),  # cut before its boundary
        (COSINE, []),
    ],
    ids=repr,
)
def test_join_boundaries_are_dotted_lines(schedule, expected):
    ax = schedule.plot(ax=new_ax())
    assert boundary_steps(ax) == expected


def test_long_runs_are_sampled_with_both_sides_of_each_boundary():
    schedule = mlxlr.Linear(0.0, 1.0, steps=333_333) >> mlxlr.StepDecay(1.0, 0.5, step_size=100_000).for_steps(10**6)
    ax = schedule.plot(ax=new_ax())
    line = curve(ax)
    xs = np.asarray(line.get_xdata())
    assert xs[0] == 0 and xs[-1] == 1_333_333
    assert len(xs) <= 4096 + 2
    assert {333_332, 333_333} <= set(xs.tolist())
    np.testing.assert_array_equal(
        np.asarray(line.get_ydata(), np.float32), np.array(schedule(mx.array(xs, dtype=mx.int64)))
    )
    assert boundary_steps(ax) == [333_333.0]


@pytest.mark.parametrize(
    ("steps", "error", "message"),
    [
        (0, ValueError, "steps must be a positive int, got 0"),
        (-5, ValueError, "steps must be a positive int, got -5"),
        (True, TypeError, "steps must be an int, got True (bool)"),
        (10.0, TypeError, "steps must be an int, got 10.0 (float)"),
    ],
)
def test_bad_steps(steps, error, message):
    with pytest.raises(error) as info:
        COSINE.plot(steps, ax=new_ax())
    assert str(info.value) == message


def test_without_matplotlib_the_error_names_the_extra(monkeypatch):
    monkeypatch.setitem(sys.modules, "matplotlib", None)  # `import matplotlib` fails
    with pytest.raises(ImportError) as info:
        COSINE.plot()
    assert str(info.value) == 'plotting needs matplotlib: pip install "mlxlr[plot]"'


def test_importing_mlxlr_does_not_import_matplotlib():
    code = "import sys, mlxlr; mlxlr.Linear(0, 1, 10).values(); print('matplotlib' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=_env())
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "False"


# The command line. ------------------------------------------------------------


def _env():
    env = {**os.environ, "PYTHONPATH": SRC, "PYTHONIOENCODING": "utf-8"}
    env.pop("COLUMNS", None)
    return env


def run(*args, cwd):
    return subprocess.run(
        [sys.executable, "-m", "mlxlr", *args], capture_output=True, text=True, encoding="utf-8", env=_env(), cwd=cwd
    )


USER_MODULE = """
import mlx.core as mx
import mlxlr


@mlxlr.register
class Halving(mlxlr.Schedule):
    def __init__(self, init: float, every: int) -> None:
        self.init, self.every = init, every

    def __call__(self, step):
        return self.init * 0.5 ** (mlxlr.as_step(step) // self.every).astype(mx.float32)
"""


def test_cli_import_registers_user_schedules(tmp_path):
    (tmp_path / "my_schedules.py").write_text(USER_MODULE)
    expr = "Linear(0, 1, steps=2) >> Halving(1.0, every=2)"
    out = run("plot", "--import", "my_schedules", expr, "--csv", "--steps", "7", cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    assert out.stdout.splitlines() == ["step,value", "0,0", "1,0.5", "2,1", "3,1", "4,0.5", "5,0.5", "6,0.25"]
    out = run("show", "--import", "my_schedules", "Halving(1.0, every=2)", cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    assert out.stdout.splitlines()[0] == "Halving(init=1.0, every=2)"
    out = run("plot", expr, "--csv", cwd=tmp_path)  # without --import the name is unknown
    assert out.returncode == 2
    assert out.stderr.startswith("mlxlr: error: unknown name 'Halving' at column 26")


@pytest.mark.parametrize(
    ("module", "source", "message"),
    [
        ("missing_module", None, "--import missing_module: ModuleNotFoundError: No module named 'missing_module'"),
        ("broken", "def f(:\n", "--import broken: SyntaxError: invalid syntax"),
        ("raises", "raise RuntimeError('no GPU here')\n", "--import raises: RuntimeError: no GPU here"),
        ("not-a-name", None, "--import not-a-name: not a module name"),
    ],
)
def test_cli_import_of_a_bad_module_is_one_line_and_status_2(tmp_path, module, source, message):
    if source is not None:
        (tmp_path / f"{module}.py").write_text(source)
    out = run("plot", "--import", module, "Linear(0, 1, 10)", cwd=tmp_path)
    assert out.returncode == 2
    assert out.stdout == ""
    assert len(out.stderr.splitlines()) == 1, out.stderr
    assert out.stderr.startswith(f"mlxlr: error: {message}"), out.stderr


def test_cli_out_draws_with_schedule_plot(tmp_path):
    svg = tmp_path / "lr.svg"
    out = run("plot", "Linear(0, 1, steps=10) >> CosineDecay(1, decay_steps=90)", "--out", str(svg), cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    text = svg.read_text()
    assert text.count("stroke-dasharray") == 1  # the join's boundary, dotted as Schedule.plot marks it
    single = tmp_path / "one.svg"
    assert run("plot", "CosineDecay(1, decay_steps=90)", "--out", str(single), cwd=tmp_path).returncode == 0
    assert "stroke-dasharray" not in single.read_text()


def test_cli_import_finds_modules_in_the_current_directory(tmp_path, monkeypatch, capsys):
    # The `mlxlr` console script does not put the current directory on sys.path (`python -m` does).
    from mlxlr.__main__ import main

    (tmp_path / "quarter_schedules.py").write_text(USER_MODULE.replace("Halving", "Quartering").replace("0.5", "0.25"))
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(sys, "path", [p for p in sys.path if p not in ("", ".", str(tmp_path))])
    monkeypatch.delitem(sys.modules, "quarter_schedules", raising=False)
    assert main(["show", "--import", "quarter_schedules", "Quartering(1.0, every=3)"]) == 0
    assert capsys.readouterr().out.splitlines()[0] == "Quartering(init=1.0, every=3)"
    assert str(tmp_path) not in sys.path  # put back as it was
    monkeypatch.delitem(sys.modules, "quarter_schedules")
