"""Data-parallel training with ``ScheduledOptimizer``: two ranks on loopback through MLX's ring backend.

``mlx.launch --backend ring -n 2`` runs ``distributed_worker.py`` twice; each
rank trains on half of every batch and averages gradients with
``mlx.nn.average_gradients``. Both ranks must use the same learning rates
(the schedule's, bit for bit) and end with identical parameters, equal to a
single process trained on the whole batch. The test is skipped, saying why,
only where no launcher is installed or the ring backend cannot start here.
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import signal
import socket
import subprocess
import sys
from pathlib import Path

import mlx.core as mx
import numpy as np
import pytest

import distributed_worker as worker
import mlxlr

ROOT = Path(__file__).resolve().parents[1]
WORKER = Path(__file__).with_name("distributed_worker.py")
TIMEOUT = 60


def _launcher() -> list[str] | None:
    """The command that starts ``mlx.launch`` for this interpreter's MLX, or ``None``."""
    script = Path(sys.executable).with_name("mlx.launch")
    if script.is_file():
        return [str(script)]
    for module in ("mlx.launch", "mlx._distributed_utils.launch"):
        try:
            if importlib.util.find_spec(module) is not None:
                return [sys.executable, "-m", module]
        except ModuleNotFoundError:
            continue
    found = shutil.which("mlx.launch")
    return [found] if found else None


def _free_ports(count: int = 2) -> int:
    """A port ``p`` with ``p .. p + count - 1`` free on loopback (the ring listens on consecutive ports)."""
    for _ in range(50):
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            base = probe.getsockname()[1]
        if base + count > 65535:
            continue
        sockets = []
        try:
            for port in range(base, base + count):
                s = socket.socket()
                sockets.append(s)
                s.bind(("127.0.0.1", port))
            return base
        except OSError:
            continue
        finally:
            for s in sockets:
                s.close()
    pytest.skip("no two consecutive free ports on 127.0.0.1 for the ring backend")


def _launch(out: Path) -> tuple[int, str]:
    command = _launcher()
    if command is None:
        pytest.skip("mlx.launch is not installed (no console script, no mlx launch module)")
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in [str(ROOT / "src"), env.get("PYTHONPATH", "")] if p)
    args = [
        *command,
        "--backend",
        "ring",
        "-n",
        "2",
        "--starting-port",
        str(_free_ports()),
        "--python",
        sys.executable,
        str(WORKER),
        str(out),
    ]
    proc = subprocess.Popen(
        args,
        env=env,
        cwd=ROOT,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    try:
        output, _ = proc.communicate(timeout=TIMEOUT)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)  # the launcher and both ranks: its own session
        output, _ = proc.communicate()
        if not all((out / f"ring{r}.ok").exists() for r in (0, 1)):
            pytest.skip(f"the ring backend did not start within {TIMEOUT} s on this machine:\n{output[-2000:]}")
        pytest.fail(f"distributed training ran over {TIMEOUT} s:\n{output}")
    return proc.returncode, output


@pytest.fixture(scope="module")
def ranks(tmp_path_factory: pytest.TempPathFactory) -> list[dict[str, mx.array]]:
    out = tmp_path_factory.mktemp("distributed")
    code, output = _launch(out)
    # mlx.launch exits 0 even when a rank fails: judge by the files the ranks write.
    if not all((out / f"ring{r}.ok").exists() for r in (0, 1)):
        pytest.skip(f"the ring backend cannot start on this machine (launcher exit code {code}):\n{output[-2000:]}")
    results = [out / f"rank{r}.safetensors" for r in (0, 1)]
    assert code == 0 and all(p.exists() for p in results), f"a rank failed after the ring was up:\n{output}"
    return [mx.load(str(p)) for p in results]


def test_both_ranks_use_the_schedules_learning_rates(ranks: list[dict[str, mx.array]]) -> None:
    expected = np.array(worker.make_schedule()(mx.arange(worker.STEPS)))
    for result in ranks:
        assert result["step"].item() == worker.STEPS
        np.testing.assert_array_equal(np.array(result["lr_log"]), expected)


def test_ranks_end_with_identical_parameters(ranks: list[dict[str, mx.array]]) -> None:
    first, second = ranks
    params = [k for k in first if k.startswith("param.")]
    assert len(params) == 4 and set(first) == set(second)
    for key in params:
        np.testing.assert_array_equal(np.array(first[key]), np.array(second[key]), err_msg=key)


def test_data_parallel_equals_one_process_on_the_whole_batch(ranks: list[dict[str, mx.array]]) -> None:
    reference = worker.train(None)
    initial = worker.initial_parameters()
    for key in (k for k in reference if k.startswith("param.")):
        got, want = np.array(ranks[0][key]), np.array(reference[key])
        # atol covers entries near 0: the two runs sum the batch in another order (float32 rounding).
        np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6, err_msg=key)
        moved = np.max(np.abs(want - np.array(initial[key.removeprefix("param.")])))
        assert moved > 1e-2, f"{key} barely trained ({moved:g}): the comparison would prove nothing"
    np.testing.assert_array_equal(np.array(ranks[0]["lr_log"]), np.array(reference["lr_log"]))


def test_plateau_decisions_are_the_same_on_every_rank(ranks: list[dict[str, mx.array]]) -> None:
    """``observe`` averages the metric over the ranks: one decision, the one of the mean metric."""
    mean = [(a + b) / 2 for a, b in zip(*worker.METRICS)]
    single = mlxlr.ReduceOnPlateau(factor=0.5, patience=1)
    expected = []
    for metric in mean:
        single.observe(metric)
        expected.append(single.state["scale"].item())
    assert expected[-1] < 1.0  # the averaged metric plateaus: a reduction happens
    for result in ranks:
        np.testing.assert_array_equal(np.array(result["plateau_average"]), np.array(expected, dtype=np.float32))
    # Without averaging, each rank decides from its own metric, and the two ranks part ways.
    local = [np.array(result["plateau_local"]) for result in ranks]
    assert not np.array_equal(local[0], local[1])
