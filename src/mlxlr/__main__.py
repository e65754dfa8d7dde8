"""``python -m mlxlr`` / ``mlxlr``: look at a schedule before a long run."""

from __future__ import annotations

import sys

import mlxlr


def main(argv: list[str] | None = None) -> int:
    """Prints the values of a typical warmup-cosine schedule at a few steps."""
    del argv
    schedule = mlxlr.Linear(0.0, 3e-4, steps=1_000) >> mlxlr.CosineDecay(3e-4, decay_steps=99_000, end=3e-5)
    print(repr(schedule))
    steps = [0, 500, 1_000, 25_000, 50_000, 75_000, 100_000]
    for step in steps:
        print(f"{step:>8}  {schedule.at(step):.4e}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
