"""The command line, run as users run it: `python -m mlxlr` in a subprocess."""

import json
import os
import subprocess
import sys
from pathlib import Path

import mlx.core as mx
import numpy as np
import pytest

import mlxlr
from mlxlr import testing
from mlxlr.__main__ import main

SRC = str(Path(__file__).resolve().parents[1] / "src")
MAIN_JOB = "Linear(0, 3e-4, steps=1000) >> CosineDecay(3e-4, decay_steps=99000, end=3e-5)"
MOST_2_60 = "expected a positive integer of at most 2**60"
MOST_1000 = "expected a positive integer of at most 1000"


def run(*args, cwd=None):
    env = {**os.environ, "PYTHONPATH": SRC, "PYTHONIOENCODING": "utf-8"}
    env.pop("COLUMNS", None)
    return subprocess.run(
        [sys.executable, "-m", "mlxlr", *args], capture_output=True, text=True, encoding="utf-8", env=env, cwd=cwd
    )


def test_plot_in_the_terminal():
    out = run("plot", MAIN_JOB)
    assert out.returncode == 0, out.stderr
    assert out.stderr == ""
    lines = out.stdout.splitlines()
    assert "".join(lines[:2]).replace("    ", " ").startswith("Linear(init=0, end=0.0003, steps=1000) >> CosineDecay(")
    plot = [line for line in lines if "┤" in line or "│" in line]
    assert len(plot) == testing.PLOT_HEIGHT
    assert plot[0].startswith("300.0e-6 ┤")  # the y axis in engineering notation, the peak on top
    assert plot[-1].lstrip().startswith("0 ┤")
    assert any("\u2800" < ch <= "\u28ff" for line in plot for ch in line)  # braille dots
    assert max(len(line) for line in plot) <= 10 + testing.PLOT_WIDTH
    axis = next(i for i, line in enumerate(lines) if "└" in line)
    assert lines[axis + 1].split() == ["step", "0", "25k", "50k", "75k", "100k"]
    keys = [line.split() for line in lines[axis + 2 :]]
    assert keys == [
        ["start", "step", "0", "0"],
        ["peak", "step", "1,000", "300.0e-6"],
        ["end", "step", "100,000", "30.00e-6"],
        ["join", "step", "1,000", "300.0e-6"],
    ]


def test_csv_rows_equal_the_library():
    schedule = mlxlr.parse(MAIN_JOB)
    out = run("plot", MAIN_JOB, "--csv", "--steps", "3000", "--every", "7")
    assert out.returncode == 0, out.stderr
    header, *rows = out.stdout.splitlines()
    assert header == "step,value"
    steps = np.array([int(r.split(",")[0]) for r in rows])
    values = np.array([float(r.split(",")[1]) for r in rows], dtype=np.float32)
    np.testing.assert_array_equal(steps, np.arange(0, 3000, 7))
    np.testing.assert_array_equal(values, np.array(schedule(mx.array(steps))))
    assert rows[:2] == ["0,0", "7,2.1e-06"]  # the shortest text of each float32


def test_without_arguments_prints_the_help():
    out = run()
    assert out.returncode == 0
    assert out.stdout.startswith("usage: mlxlr [-h] COMMAND ...")
    assert "mlxlr plot" in out.stdout


def test_csv_of_every_step_defaults_to_the_duration():
    out = run("plot", "StepDecay(1, 0.5, 2).for_steps(5)", "--csv")
    assert out.stdout.splitlines() == ["step,value", "0,1", "1,1", "2,0.5", "3,0.5", "4,0.25", "5,0.25"]


def test_out_png(tmp_path):
    pytest.importorskip("matplotlib")
    out = run("plot", MAIN_JOB, "--out", str(tmp_path / "lr.png"))
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == f"wrote {tmp_path / 'lr.png'}"
    data = (tmp_path / "lr.png").read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")
    assert (width, height) == (800, 450)
    assert 10_000 < len(data) < 500_000


def test_out_without_matplotlib_is_a_one_line_hint(monkeypatch, capsys, tmp_path):
    monkeypatch.setitem(sys.modules, "matplotlib.figure", None)  # import fails
    assert main(["plot", "Linear(0, 1, 10)", "--out", str(tmp_path / "lr.png")]) == 2
    assert capsys.readouterr().err == 'mlxlr: error: writing an image needs matplotlib: pip install "mlxlr[plot]"\n'


def test_config_files(tmp_path):
    schedule = mlxlr.parse(MAIN_JOB)
    (tmp_path / "lr.json").write_text(json.dumps(schedule.to_config()))
    lora = "model: m\nlr_schedule:\n  name: cosine_decay\n  warmup: 100\n  warmup_init: 1e-7\n"
    (tmp_path / "lora.yaml").write_text(lora + "  arguments: [1e-5, 1000, 1e-7]\n")
    out = run("show", "--config", "lr.json", cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    text, config = out.stdout.split("\n", 1)
    assert text == repr(schedule)
    assert json.loads(config) == schedule.to_config()
    out = run("plot", "--config", "lr.json", "--csv", "--every", "10000", cwd=tmp_path)
    assert out.stdout.splitlines()[1:] == [
        f"{s},{testing.float32_text(schedule.at(s))}" for s in range(0, 100_001, 10_000)
    ]
    pytest.importorskip("yaml")
    out = run("show", "--config", "lora.yaml", cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    expected = mlxlr.from_mlx_lm(
        {"name": "cosine_decay", "warmup": 100, "warmup_init": 1e-7, "arguments": [1e-5, 1000, 1e-7]}
    )
    assert out.stdout.splitlines()[0] == repr(expected)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["plot", "Cosine(1, 10)"], "mlxlr: error: unknown name 'Cosine' at column 1: Cosine(1, 10)"),
        (["plot", "Linear(0, 1, steps=0)"], "mlxlr: error: Linear: steps must be a positive int, got 0 at column 20"),
        (["plot", "Linear(0, 1"], "mlxlr: error: '(' was never closed at column 7: Linear(0, 1"),
        (["plot", "__import__('os').system('echo hi')"], "mlxlr: error: unknown name '__import__' at column 1"),
        (["plot", "ExponentialDecay(1, 0.9)"], "mlxlr: error: the schedule is unbounded: give --steps N"),
        (["plot", "Linear(0, 1, 10)", "--steps", "-3"], "mlxlr: error: argument --steps: expected a positive integer"),
        (["plot", "--config", "missing.json"], "mlxlr: error: missing.json: No such file or directory"),
        (["show", "Lambda(1)"], "mlxlr: error: Lambda: fn must be a callable step -> array, got 1 at column 8"),
        (["frobnicate"], "mlxlr: error: argument COMMAND: invalid choice: 'frobnicate'"),
        (["plot", "--steps"], "mlxlr: error: argument --steps: expected one argument"),
        (
            ["plot", "Linear(0, 1, 10)", "--steps", "1e20"],
            "mlxlr: error: argument --steps: expected a positive integer",
        ),
        (["plot", "Linear(0, 1, 10)", "--width", "1000000000"], "mlxlr: error: argument --width: expected a positive"),
    ],
)
def test_bad_input_is_one_line_and_status_2(args, message):
    out = run(*args)
    assert out.returncode == 2
    assert out.stdout == ""
    assert len(out.stderr.splitlines()) == 1, out.stderr
    assert out.stderr.startswith(message), out.stderr
    assert "Traceback" not in out.stderr


@pytest.mark.parametrize(
    ("args", "files", "message"),
    [
        (["plot", "--config", "bad.json"], {"bad.json": "{"}, "bad.json: not valid JSON: Expecting property name"),
        (["plot", "--config", "lr.toml"], {"lr.toml": ""}, "lr.toml: a config file must end in .json, .yaml or .yml"),
        (["plot", "--config", "c.json"], {"c.json": '{"type": "Nope"}'}, "config.type: unknown schedule type 'Nope'"),
        (["plot", "--config", "c.json"], {"c.json": "[1]"}, "c.json: expected a schedule config"),
        (["plot", "X", "--config", "c.json"], {"c.json": "1"}, "give an expression or --config FILE, not both"),
        (["plot", "Linear(0, 1, 10)", "--out", "lr.gif"], {}, "--out lr.gif: the file must end in .png, .svg, .pdf"),
        (["plot", "Linear(0, 1, 10)", "--every", "2"], {}, "--every goes with --csv"),
        (["plot"], {}, 'give an expression (e.g. "CosineDecay(1e-3, 1000)") or --config FILE'),
        *(
            (
                ["plot", "Linear(0, 1, 10)", "--steps", n],
                {},
                f"argument --steps: {MOST_2_60}, got '{n}' (see mlxlr plot",
            )
            for n in ("1e20", "99999999999999999999", "1152921504606846977", "0", "-1", "2.5", "1e400", "nan")
        ),
        *(
            (["plot", "Linear(0, 1, 10)", "--csv", "--every", n], {}, f"argument --every: {MOST_2_60}, got '{n}'")
            for n in ("1e30", "0")
        ),
        *(
            (["plot", "Linear(0, 1, 10)", option, n], {}, f"argument {option}: {MOST_1000}, got '{n}'")
            for option in ("--width", "--height")
            for n in ("0", "-5", "1001", "1000000000", "1e9")
        ),
    ],
)
def test_bad_input_in_process(args, files, message, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    for name, text in files.items():
        (tmp_path / name).write_text(text)
    assert main(args) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.startswith(f"mlxlr: error: {message}"), captured.err
    assert captured.err.count("\n") == 1


def test_the_largest_counts_are_taken(capsys):
    """2**60 steps (sampled), a schedule longer than that (plotted to 2**60, where steps stop), 1000 characters."""
    assert main(["plot", "Linear(0, 1, 10)", "--steps", str(2**60)]) == 0
    end = capsys.readouterr().out.splitlines()[-1].split()
    assert end[:2] == ["end", "step"] and end[-1] == "1.000"
    long = "Linear(0, 1, 1000000000000000000).with_warmup(1000000000000000000)"  # a duration of 2 * 10**18
    assert main(["plot", long]) == 0
    assert capsys.readouterr().out.splitlines()[-1].split()[:3] == ["end", "step", f"{2**60:,}"]
    assert main(["plot", "Linear(0, 1, 10)", "--width", "1000", "--height", "1000"]) == 0
    plot = [line for line in capsys.readouterr().out.splitlines() if "┤" in line or "│" in line]
    assert len(plot) == 1000 and max(len(line) for line in plot) <= 1000 + 12


def test_ascii_fallback_and_sizes():
    curve = testing.Curve.sample(mlxlr.Linear(0, 1, 10) >> mlxlr.Constant(1).for_steps(10), 21)
    lines = curve.render(columns=40, width=None, height=6, unicode=False)
    assert all(ord(ch) < 128 for line in lines for ch in line)
    plot = [line for line in lines if "|" in line or "+" in line]
    assert max(len(line) for line in plot) <= 40
    assert len([line for line in lines if line.lstrip()[:1] in "0123456789" and "|" not in line]) >= 0
    assert lines[-1].split() == ["join", "step", "10", "1.000"]


def test_huge_step_counts_are_sampled():
    schedule = mlxlr.Linear(0, 1, 10**9) >> mlxlr.Constant(2).for_steps(10**9)
    curve = testing.Curve.sample(schedule, 2 * 10**9 + 1)
    assert len(curve.xs) <= testing.MAX_POINTS + 2
    assert {10**9 - 1, 10**9} <= set(curve.xs)
    assert curve.key_points()[1:] == [("peak", 10**9, 2.0), ("end", 2 * 10**9, 2.0), ("join", 10**9, 2.0)]


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (3e-4, "300.0e-6"),
        (3e-5, "30.00e-6"),
        (1.5, "1.500"),
        (0.0, "0"),
        (-2e-3, "-2.000e-3"),
        (999.97, "1.000e3"),
        (1e-5, "10.00e-6"),
        (123456, "123.5e3"),
    ],
)
def test_engineering_notation(value, text):
    assert testing.eng(value) == text


@pytest.mark.parametrize(
    ("step", "text"),
    [(0, "0"), (999, "999"), (1000, "1k"), (25_000, "25k"), (1_500_000, "1.5M"), (99_999, "99999"), (3 * 10**9, "3G")],
)
def test_step_labels(step, text):
    assert testing.step_label(step) == text
