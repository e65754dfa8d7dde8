import mlx.core as mx
import pytest


@pytest.fixture(autouse=True, scope="session")
def _warm_mlx() -> None:
    # MLX traces the first compiled function of a process twice when nothing
    # has been evaluated before it; evaluate once so trace counts are exact.
    mx.eval(mx.array(0.0) + 1)
