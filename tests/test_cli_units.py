"""The command line with units of a run: `mlxlr plot EXPR --total-steps N` and `mlxlr lint` (beside test_cli.py)."""

import json

import pytest

import mlxlr
from test_cli import run

RECIPE = "Linear(0, 3e-4, steps=frac(0.05)) >> CosineDecay(3e-4, decay_steps=REST)"


def test_plot_binds_before_drawing():
    out = run("plot", RECIPE, "--total-steps", "10_000", "--csv", "--every", "250")
    assert out.returncode == 0, out.stderr
    bound = mlxlr.parse(RECIPE).bind(total_steps=10_000)
    header, *rows = out.stdout.splitlines()
    assert header == "step,value" and rows[0] == "0,0" and rows[-1] == "10000,0"  # steps 0 .. duration
    assert len(rows) == 41 and bound.duration == 10_000
    drawn = run("plot", RECIPE, "--total-steps", "1e4")
    assert drawn.returncode == 0, drawn.stderr
    assert drawn.stdout.startswith("Linear(init=0, end=0.0003, steps=500) >> CosineDecay(")
    epochs = run(
        "plot",
        "Linear(0, 1, epochs(2)) >> CosineDecay(1, REST)",
        "--total-steps",
        "1000",
        "--steps-per-epoch",
        "50",
        "--csv",
        "--steps",
        "3",
    )
    assert epochs.stdout.splitlines() == ["step,value", "0,0", "1,0.01", "2,0.02"]
    tokens = run("plot", "Linear(0, 1, tokens(1e6))", "--tokens-per-step", "2.5e5", "--csv")
    assert tokens.stdout.splitlines()[-1] == "4,1"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ((RECIPE,), "the schedule is written in units (frac(0.05), REST): give --total-steps N to bind it"),
        (
            (
                "Linear(0, 1, epochs(2)) >> Constant(1).for_steps(tokens(1e9)) >> CosineDecay(1, REST)",
                "--total-steps",
                "9",
            ),
            "the schedule is written in units (epochs(2), tokens(1_000_000_000)): give --steps-per-epoch N and "
            "--tokens-per-step N to bind it",
        ),
        (
            (RECIPE, "--total-steps", "0"),
            "argument --total-steps: expected a positive integer of at most 2**60, got '0'",
        ),
        ((RECIPE, "--tokens-per-step", "-5"), "argument --tokens-per-step: expected a positive number, got '-5'"),
        (("Linear(0, 1, frac(2))", "--total-steps", "9"), "frac(p) takes a fraction of the run in (0, 1], got 2"),
        (
            ("Linear(0, 900, 900) >> CosineDecay(1, REST)", "--total-steps", "900"),
            "REST would be 0 steps: the other pieces of",
        ),
    ],
)
@pytest.mark.parametrize("command", ["plot", "lint"])
def test_an_unbound_expression_without_its_numbers_is_one_line_exit_2(command, args, message):
    out = run(command, *args)
    assert out.returncode == 2, out.stdout
    assert out.stdout == ""
    assert len(out.stderr.splitlines()) == 1 and out.stderr.startswith("mlxlr: error: ")
    assert message in out.stderr


def test_lint_exit_status_and_findings():
    clean = run("lint", RECIPE, "--total-steps", "100000")
    assert (clean.returncode, clean.stdout, clean.stderr) == (0, "", "")
    found = run("lint", "Linear(0, 3e-4, steps=1000) >> CosineDecay(3e-4, decay_steps=9000)", "--total-steps", "20000")
    assert found.returncode == 1 and found.stderr == ""
    assert found.stdout.splitlines() == [
        "the schedule ends at step 10,000, before the run does (total_steps=20,000): it holds 0 for the last "
        "10,000 steps",
        "the value is 0 for 10,000 steps, from step 10,000 to step 19,999",
    ]
    no_run = run("lint", "Linear(1, -1, 10)")
    assert no_run.returncode == 1 and no_run.stdout.startswith("the value is negative from step 6 on")
    plateau = run(
        "lint",
        "CosineDecay(1e-3, 2000) * ReduceOnPlateau(patience=10)",
        "--total-steps",
        "2000",
        "--steps-per-epoch",
        "400",
    )
    assert plateau.returncode == 1 and "ReduceOnPlateau(patience=10) can never act" in plateau.stdout


def test_lint_reads_configs_in_units(tmp_path):
    path = tmp_path / "lr.json"
    path.write_text(json.dumps(mlxlr.parse(RECIPE).to_config()))
    out = run("lint", "--config", str(path), "--total-steps", "5000")
    assert (out.returncode, out.stdout) == (0, "")
    show = run("show", RECIPE)
    assert show.returncode == 0 and show.stdout.splitlines()[0] == (
        "Linear(init=0, end=0.0003, steps=frac(0.05)) >> CosineDecay(init=0.0003, decay_steps=REST)"
    )
    assert json.loads("\n".join(show.stdout.splitlines()[1:]))["operator"] == ">>"


def test_lint_help_says_the_exit_status():
    out = run("lint", "--help")
    assert out.returncode == 0
    assert "exit status: 0 without findings, 1 with findings (one a line), 2 on bad input." in out.stdout
    assert "--total-steps N" in out.stdout and "--steps-per-epoch N" in out.stdout
