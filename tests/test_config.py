"""Configs: to_config() is JSON-safe, from_config() rebuilds, user classes register once."""

import json

import mlx.core as mx
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings

import mlxlr
from examples import EXAMPLES, UNSERIALIZABLE, registered_class, same, trees
from mlxlr import testing

STEPS = 200


@pytest.fixture
def registered():
    yield from registered_class()


def round_trip(schedule):
    return mlxlr.from_config(json.loads(json.dumps(schedule.to_config(), allow_nan=False)))


def assert_rebuilds(s, rebuilt):
    assert same(rebuilt, s), f"{rebuilt!r} != {s!r}"
    np.testing.assert_array_equal(np.array(rebuilt.values(STEPS)), np.array(s.values(STEPS)))


@pytest.mark.parametrize("schedule", EXAMPLES, ids=lambda s: repr(s)[:60])
def test_every_example_round_trips_through_json(schedule):
    assert_rebuilds(schedule, round_trip(schedule))


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(trees())
def test_random_trees_round_trip_through_json(schedule):
    assert_rebuilds(schedule, round_trip(schedule))


def test_the_shape_of_a_config():
    assert mlxlr.Linear(0.0, 1.0, steps=10).to_config() == {"type": "Linear", "init": 0.0, "end": 1.0, "steps": 10}
    assert mlxlr.CosineDecay(1e-3, 100).to_config() == {
        "type": "CosineDecay",
        "init": 1e-3,
        "decay_steps": 100,
        "end": 0.0,
    }
    s = mlxlr.Linear(0.0, 1.0, steps=10) >> 2 * mlxlr.Constant(0.5) + mlxlr.Linear(1, 0, 5)
    assert s.to_config() == {
        "type": "Join",
        "schedules": [
            {"type": "Linear", "init": 0.0, "end": 1.0, "steps": 10},
            {
                "type": "Sum",
                "terms": [{"type": "Linear", "init": 1, "end": 0, "steps": 5}, {"type": "Constant", "value": 1.0}],
            },
        ],
        "boundaries": [10],
    }
    assert mlxlr.Constant(1).clip(hi=0.5).to_config() == {
        "type": "Clip",
        "schedule": {"type": "Constant", "value": 1},
        "lo": None,
        "hi": 0.5,
    }


def test_numbers_of_other_types_are_written_as_python_numbers():
    s = mlxlr.Linear(np.float32(0.5), np.float64(1.0), np.int64(10))
    config = s.to_config()
    assert config == {"type": "Linear", "init": 0.5, "end": 1.0, "steps": 10}
    assert [type(config[k]) for k in ("init", "end", "steps")] == [float, float, int]
    assert mlxlr.from_config(config).values(12).tolist() == s.values(12).tolist()


def test_configs_of_registered_user_classes(registered):
    s = mlxlr.Linear(0, 1, 10) >> registered(1.0, every=10)
    config = s.to_config()
    assert config["schedules"][1] == {"type": "UserHalving", "init": 1.0, "every": 10}
    assert round_trip(s) == s


# Errors. ------------------------------------------------------------------------


class Unregistered(mlxlr.Schedule):
    def __init__(self, value: float) -> None:
        self.value = value

    def __call__(self, step):
        return mx.full(mlxlr.as_step(step).shape, self.value)


def test_an_unregistered_class_has_no_config():
    for s in [Unregistered(1.0), mlxlr.Linear(0, 1, 10) >> Unregistered(1.0)]:
        with pytest.raises(TypeError, match=r"Unregistered .* not registered; decorate it with @mlxlr.register"):
            s.to_config()


@pytest.mark.parametrize("schedule", [*UNSERIALIZABLE, mlxlr.Join([mlxlr.Constant(1), lambda t: t * 0.5], [10])])
def test_a_lambda_has_no_config(schedule):
    with pytest.raises(TypeError, match=r"fn is the Python callable .* which a config cannot hold"):
        schedule.to_config()


def test_register_refuses_collisions_and_bad_classes(registered):
    assert mlxlr.register(registered) is registered  # again: no change

    class Linear(mlxlr.Schedule):
        def __call__(self, step):
            return mx.zeros(mlxlr.as_step(step).shape)

    with pytest.raises(ValueError, match=r"the name 'Linear' is taken by mlxlr.Linear; rename the class"):
        mlxlr.register(Linear)

    class UserHalving(mlxlr.Schedule):
        def __call__(self, step):
            return mx.zeros(mlxlr.as_step(step).shape)

    with pytest.raises(
        ValueError, match=r"the name 'UserHalving' is taken by examples.registered_class.<locals>.UserHalving"
    ):
        mlxlr.register(UserHalving)

    class Typed(mlxlr.Schedule):
        def __init__(self, type: str) -> None:
            self.kind = type

        def __call__(self, step):
            return mx.zeros(mlxlr.as_step(step).shape)

    with pytest.raises(ValueError, match=r"Typed has a parameter called 'type'"):
        mlxlr.register(Typed)
    with pytest.raises(TypeError, match=r"cls must be a subclass of mlxlr.Schedule"):
        mlxlr.register(dict)  # type: ignore[type-var]
    with pytest.raises(TypeError, match=r"cls must be a concrete class"):
        mlxlr.register(mlxlr.Schedule)


def test_a_redefined_class_replaces_its_registration():
    def define():
        @mlxlr.register
        class Redefined(mlxlr.Schedule):
            def __init__(self, value: float) -> None:
                self.value = value

            def __call__(self, step):
                return mx.full(mlxlr.as_step(step).shape, self.value)

        return Redefined

    try:
        first, second = define(), define()
        assert first is not second
        assert type(mlxlr.from_config({"type": "Redefined", "value": 1.0})) is second
    finally:
        testing.unregister("Redefined")


@pytest.mark.parametrize(
    ("config", "error", "message"),
    [
        (
            {"type": "Cosine", "init": 1},
            ValueError,
            r"config.type: unknown schedule type 'Cosine'; known: .*CosineDecay",
        ),
        ({"init": 1}, TypeError, r"config.type must name a schedule class, got None"),
        ([1, 2], TypeError, r"config must be a mapping with a 'type' key"),
        ({"type": "Linear", "init": 0, "end": 1}, TypeError, r"config: Linear needs the argument 'steps'"),
        ({"type": "Linear", "init": 0, "end": 1, "steps": 5, "x": 1}, TypeError, r"Linear has no parameter 'x'"),
        (
            {"type": "Linear", "init": 0, "end": 1, "steps": 0},
            ValueError,
            r"config \(Linear\): steps must be a positive int, got 0",
        ),
        (
            {"type": "Join", "schedules": [{"type": "Constant", "value": 1}, {"type": "Linear"}], "boundaries": [3]},
            TypeError,
            r"config.schedules\[1\]: Linear needs the argument 'init'",
        ),
        ({"type": "Sum", "terms": 3}, TypeError, r"config.terms must be a list, got 3"),
        ({"type": "Lambda", "fn": "print"}, TypeError, r"config \(Lambda\): fn must be a callable"),
    ],
)
def test_from_config_errors_give_the_path(config, error, message):
    with pytest.raises(error, match=message):
        mlxlr.from_config(config)


def test_a_non_finite_number_is_not_written(registered):
    s = registered(float("inf"), every=10)  # mlxlr's constructors refuse it; a user class might not
    with pytest.raises(ValueError, match=r"schedule.init is inf, not JSON"):
        s.to_config()
