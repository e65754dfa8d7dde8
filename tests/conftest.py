import os
import re

import mlx.core as mx
import numpy as np
import pytest
from hypothesis import HealthCheck, settings

# Hypothesis profiles. "default" for a developer's run; "ci" (chosen when CI is set) derandomized, so a
# CI run is reproducible; "fuzz" (HYPOTHESIS_PROFILE=fuzz, `nox -s fuzz`) for a long search, with
# FUZZ_EXAMPLES examples per property. tests/test_properties.py gives each property a share of them.
settings.register_profile("default", deadline=5_000, suppress_health_check=[HealthCheck.too_slow])
settings.register_profile("ci", settings.get_profile("default"), derandomize=True, deadline=None, database=None)
settings.register_profile(
    "fuzz",
    settings.get_profile("default"),
    max_examples=int(os.environ.get("FUZZ_EXAMPLES", "20000")),
    deadline=None,
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE") or ("ci" if os.environ.get("CI") else "default"))


@pytest.fixture(autouse=True, scope="session")
def _warm_mlx() -> None:
    # MLX traces the first compiled function of a process twice when nothing
    # has been evaluated before it; evaluate once so trace counts are exact.
    mx.eval(mx.array(0.0) + 1)


def stable_id(value: object) -> str:
    """A test id from ``repr(value)``, the same in every process: object addresses left out.

    pytest-xdist requires every worker to collect the same ids; a ``repr``
    holding a lambda (``<function <lambda> at 0x7f...>``) differs between them.
    """
    return re.sub(r" at 0x[0-9a-fA-F]+", "", repr(value))


# Backends. ---------------------------------------------------------------------------------------------------

GPU = mx.default_device() == mx.gpu
"""Whether the tests run on a GPU backend (CUDA or Metal) rather than MLX's CPU backend."""

PEAK_ULPS = 2 if GPU else 0
"""How far a compiled value may be from the eager one, in float32 ulps of the schedule's largest value.

On the CPU backend compiled and eager agree bit for bit. On a GPU, compiled
kernels may contract a multiply and an add into one rounding: measured on an
NVIDIA H200 (mlx-cuda 0.32.4) over every family, compiled values lie within
1 ulp of the schedule's peak of the eager ones (up to 7 ulps of a small value
near the end of a decay), in a plain compiled call and in a compiled
optimizer step alike (benchmarks/compiled_vs_eager.py). The tests allow 2.
"""

TRAINED = {"rtol": 5e-2, "atol": 5e-3} if GPU else {}
"""How far two training runs' parameters may be after tens of steps on a GPU, where their updates differ by ulps.

Derived from the same H200 measurements: runs whose hyperparameters agree
within 1 ulp at every step (and their parameters within 1e-9 after the first)
end 50 Adam steps up to 3.3e-3 apart (4.4e-2 relative where |value| > 1e-3);
MLX's own AdamW with constant hyperparameters, compiled against eager, 3.9e-5
(7.3e-3 relative). Each update carries the last one's rounding on: the
training amplifies it, whoever computes the hyperparameters. On the CPU
backend the tests keep their own (bitwise or near) tolerances.
"""


def assert_same_values(got: object, want: object, peak: float | None = None, err_msg: str = "") -> None:
    """Schedule values computed two ways (a compiled or fused kernel and eager operations): bitwise on the CPU,
    within PEAK_ULPS on a GPU.

    ``peak`` is the schedule's largest magnitude (default: the largest of ``want``).
    """
    a, b = np.asarray(got, dtype=np.float32), np.asarray(want, dtype=np.float32)
    if not GPU:
        np.testing.assert_array_equal(a, b, err_msg=err_msg)
        return
    top = float(np.max(np.abs(b))) if peak is None else abs(peak)
    unit = float(np.spacing(np.float32(top))) if top else 0.0
    worst = float(np.max(np.abs(a.astype(np.float64) - b.astype(np.float64)))) if a.size else 0.0
    assert a.shape == b.shape and worst <= PEAK_ULPS * unit, (
        f"{err_msg}: compiled and eager differ by {worst:.3g}, above {PEAK_ULPS} ulps of the peak {top:g}"
    )


def assert_trained_close(got: dict, want: dict, **cpu_tolerance: float) -> None:
    """Parameters of two training runs: as close as ``cpu_tolerance`` says (bitwise without one) on the CPU,
    within TRAINED on a GPU."""
    assert got.keys() == want.keys()
    tolerance = TRAINED if GPU else cpu_tolerance
    for key in want:
        a, b = np.asarray(got[key]), np.asarray(want[key])
        if tolerance:
            np.testing.assert_allclose(a, b, err_msg=key, **tolerance)
        else:
            np.testing.assert_array_equal(a, b, err_msg=key)
