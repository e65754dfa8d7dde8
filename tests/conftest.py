import os
import re

import mlx.core as mx
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
