"""NumPy and MLX scalars as arguments: taken as the Python numbers they hold, in every family and combinator.

A schedule built from ``np.int64(10)``, ``np.float32(0.5)``, ``np.bool_(True)``
or a 0-d ``mx.array`` is the schedule built from the Python numbers they
hold: equal, with the same hash, ``repr``, config and values, and ``parse``
of its ``repr`` rebuilds it. The expected schedule is built from Python
numbers (rounded to float32 first where the argument is a float32).
"""

from __future__ import annotations

import functools
import inspect
import json
import re
from collections.abc import Callable
from typing import Any

import mlx.core as mx
import numpy as np
import pytest

import mlxlr
from conftest import stable_id
from examples import EXAMPLES, same
from mlxlr._validate import check_int, check_real, check_reals, check_steps, plain

Convert = Callable[[Any], Any]


def _float32(value: float) -> float:
    return float(np.float32(value))


# (name, how a Python number is handed over, the Python number it stands for)
def _given(bools: Convert, ints: Convert, floats: Convert, strs: Convert = str) -> Convert:
    def convert(value: Any) -> Any:
        if isinstance(value, bool):
            return bools(value)
        if isinstance(value, int):
            return ints(value)
        return floats(value) if isinstance(value, float) else strs(value)

    return convert


# name: (how a Python value is handed over, the Python value it stands for); None: lists as NumPy arrays
KINDS: dict[str, tuple[Convert | None, Convert]] = {
    "numpy64": (_given(np.bool_, np.int64, np.float64), lambda v: v),
    "numpy32": (
        _given(np.bool_, lambda v: np.int32(v) if abs(v) < 2**31 else np.uint64(v), np.float32),
        lambda v: _float32(v) if isinstance(v, float) else v,
    ),
    "mlx-0d": (
        _given(mx.array, lambda v: mx.array(v, dtype=mx.int64), lambda v: mx.array(v, dtype=mx.float32)),
        lambda v: _float32(v) if isinstance(v, float) else v,
    ),
    "numpy-str": (_given(bool, int, float, np.str_), lambda v: v),
    "arrays": (None, lambda v: v),
}


def _numbers(value: Any, convert: Convert) -> Any:
    """``value`` with every number, bool and string converted; schedules rebuilt alike; lists kept lists."""
    if isinstance(value, mlxlr.Schedule):
        return rebuild(value, convert)
    if isinstance(value, (list, tuple)):
        return [_numbers(v, convert) for v in value]
    if isinstance(value, (bool, int, float, str)):
        return convert(value)
    return value


def _array_lists(value: Any) -> Any:
    if isinstance(value, mlxlr.Schedule):
        return rebuild(value, _array_lists)
    if isinstance(value, (list, tuple)) and value and all(isinstance(v, (int, float)) for v in value):
        return np.array(value)
    if isinstance(value, (list, tuple)):
        return [_array_lists(v) for v in value]
    return value


def rebuild(schedule: mlxlr.Schedule, convert: Convert) -> mlxlr.Schedule:
    """The schedule's class called again with its recorded arguments, each passed through ``convert``."""
    args: list[Any] = []
    kwargs: dict[str, Any] = {}
    parameters = inspect.signature(type(schedule).__init__).parameters
    for name, value in schedule.params.items():
        new = _array_lists(value) if convert is _array_lists else _numbers(value, convert)
        if parameters[name].kind is inspect.Parameter.VAR_POSITIONAL:
            args.extend(new)
        else:
            kwargs[name] = new
    return type(schedule)(*args, **kwargs)


CASES = [pytest.param(s, kind, id=f"{kind}-{stable_id(s)[:50]}-{i}") for i, s in enumerate(EXAMPLES) for kind in KINDS]


@pytest.mark.parametrize(("schedule", "kind"), CASES)
def test_numpy_and_mlx_scalars_are_python_numbers(schedule: mlxlr.Schedule, kind: str) -> None:
    given, stands_for = KINDS[kind]
    expected = rebuild(schedule, stands_for)
    built = rebuild(schedule, _array_lists if given is None else given)
    assert same(built, expected), f"{built!r} != {expected!r}"
    if type(built) is not mlxlr.ReduceOnPlateau:  # a plateau is equal only to itself
        assert built == expected and hash(built) == hash(expected)
    assert repr(built) == repr(expected)
    assert json.dumps(built.to_config()) == json.dumps(expected.to_config())
    assert same(mlxlr.parse(repr(built)), expected)
    assert same(mlxlr.from_config(json.loads(json.dumps(built.to_config()))), expected)
    steps = mx.arange(60)
    np.testing.assert_array_equal(np.array(built(steps)), np.array(expected(steps)))


def test_every_argument_is_recorded_as_a_python_value() -> None:
    s = mlxlr.PiecewiseConstant(np.array([10, 20]), mx.array([1.0, 0.5, 0.25]))
    assert s.params == {"boundaries": [10, 20], "values": [1.0, 0.5, 0.25]}
    assert [type(v) for v in s.params["boundaries"]] == [int, int]
    assert repr(s) == "PiecewiseConstant(boundaries=[10, 20], values=[1.0, 0.5, 0.25])"
    linear = mlxlr.Linear(np.float64(0.5), np.float32(1.0), np.int64(10))
    assert [type(v) for v in linear.params.values()] == [float, float, int]
    assert repr(linear) == "Linear(init=0.5, end=1.0, steps=10)"  # not np.float64(0.5)


@pytest.mark.parametrize(
    ("build", "expected"),
    [
        (lambda: mlxlr.warmup_cosine(np.float32(0.5), np.int64(10), np.int64(110)), mlxlr.warmup_cosine(0.5, 10, 110)),
        (
            lambda: mlxlr.warmup_cosine_restarts(np.float64(1.0), np.int32(10), np.int64(110), cycles=np.int64(2)),
            mlxlr.warmup_cosine_restarts(1.0, 10, 110, cycles=2),
        ),
        (lambda: mlxlr.warmup_linear(mx.array(1.0), mx.array(10), mx.array(110)), mlxlr.warmup_linear(1.0, 10, 110)),
        (lambda: mlxlr.warmup_constant(np.float64(1.0), np.int64(4)), mlxlr.warmup_constant(1.0, 4)),
        (
            lambda: mlxlr.warmup_polynomial(np.float64(1.0), np.int64(10), np.int64(110), power=np.float32(2.0)),
            mlxlr.warmup_polynomial(1.0, 10, 110, power=2.0),
        ),
        (lambda: mlxlr.cosine_decay(np.float64(1e-3), np.int64(100)), mlxlr.cosine_decay(1e-3, 100)),
        (lambda: mlxlr.exponential_decay(np.float64(1e-3), np.float64(0.9)), mlxlr.exponential_decay(1e-3, 0.9)),
        (
            lambda: mlxlr.linear_schedule(np.float64(0), np.float64(1), np.int64(10)),
            mlxlr.linear_schedule(0.0, 1.0, 10),
        ),
        (lambda: mlxlr.step_decay(np.float64(1), np.float64(0.5), np.int64(10)), mlxlr.step_decay(1.0, 0.5, 10)),
        (
            lambda: mlxlr.join_schedules([mlxlr.Constant(1.0), mlxlr.Constant(2.0)], np.array([5])),
            mlxlr.join_schedules([mlxlr.Constant(1.0), mlxlr.Constant(2.0)], [5]),
        ),
        (lambda: mlxlr.Linear(0, 1, 10).for_steps(np.int64(3)), mlxlr.Linear(0, 1, 10).for_steps(3)),
        (lambda: mlxlr.Linear(0, 1, 10).with_warmup(mx.array(5)), mlxlr.Linear(0, 1, 10).with_warmup(5)),
        (lambda: mlxlr.Join([mlxlr.Constant(1)] * 3, mx.array([2, 4])), mlxlr.Join([mlxlr.Constant(1)] * 3, [2, 4])),
    ],
    ids=lambda x: "" if callable(x) else repr(x)[:50],
)
def test_functions_and_methods_take_numpy_and_mlx_scalars(build: Callable[[], mlxlr.Schedule], expected) -> None:
    built = build()
    assert built == expected and hash(built) == hash(expected) and repr(built) == repr(expected)


def test_plain() -> None:
    assert plain(np.int64(3)) == 3 and type(plain(np.int64(3))) is int
    assert type(plain(np.float64(0.5))) is float and type(plain(np.float32(0.5))) is float
    assert plain(np.float32(0.1)) == 0.10000000149011612  # the number the float32 holds, exactly
    assert plain(np.bool_(True)) is True and plain(mx.array(False)) is False
    assert plain(mx.array(2**40, dtype=mx.int64)) == 2**40
    assert plain(mx.array(np.uint64(2**64 - 1))) == 2**64 - 1
    assert plain(np.str_("min")) == "min" and type(plain(np.str_("min"))) is str
    assert plain((np.int64(1), [np.float32(0.5)])) == [1, [0.5]]
    assert plain(np.array([[1, 2], [3, 4]])) == [[1, 2], [3, 4]]
    assert plain(mx.array([1.5, 2.5])) == [1.5, 2.5]
    assert plain(np.array(7)) == 7  # a 0-d NumPy array
    marker = object()
    assert plain(marker) is marker and plain(None) is None and plain(1j) == 1j


def test_checks_take_scalars_and_name_the_value_received() -> None:
    assert check_int("steps", np.uint64(10)) == 10
    assert check_real("init", mx.array(0.5, dtype=mx.float16)) == 0.5
    assert check_steps("boundaries", mx.array([3, 5])) == [3, 5]
    assert check_reals("values", np.array([1.0, 0.5])) == [1.0, 0.5]
    with pytest.raises(TypeError, match=r"steps must be an int, got np\.float64\(10\.0\) \(float64\)"):
        check_int("steps", np.float64(10.0))  # a float is never truncated to an int
    with pytest.raises(ValueError, match=r"steps must be a positive int, got 0$"):
        check_int("steps", np.int64(0))
    with pytest.raises(TypeError, match=r"init must be a real number, got np\.True_ \(bool\)"):
        check_real("init", np.bool_(True))
    with pytest.raises(TypeError, match=r"boundaries must be a list of ints, got array\(\[\[3\]\]"):
        check_steps("boundaries", np.array([[3]]))


# Counts past 2**60. ---------------------------------------------------------------------------------------


def _rebuilt_with(schedule: mlxlr.Schedule, name: str, value: Any) -> mlxlr.Schedule:
    args: list[Any] = []
    kwargs: dict[str, Any] = {}
    parameters = inspect.signature(type(schedule).__init__).parameters
    for key, given in schedule.params.items():
        given = value if key == name else given
        if parameters[key].kind is inspect.Parameter.VAR_POSITIONAL:
            args.extend(given)
        else:
            kwargs[key] = given
    return type(schedule)(*args, **kwargs)


def _ending_at(n: int, k: int) -> list[int]:
    return [n - k + 1 + i for i in range(k)]


def _count_arguments() -> list[Any]:
    """(schedule, name, how to set it to n) for every step count and list of steps of every example."""
    rows, seen = [], set()
    for schedule in EXAMPLES:
        parameters = inspect.signature(type(schedule).__init__).parameters
        for name, value in schedule.params.items():
            annotation = str(parameters[name].annotation)
            if "int" not in annotation or "float" in annotation or (type(schedule), name) in seen:
                continue
            if isinstance(value, int) and not isinstance(value, bool):
                make: Callable[[int], Any] = int
            elif isinstance(value, list) and value:
                make = functools.partial(_ending_at, k=len(value))
            else:
                continue
            seen.add((type(schedule), name))
            rows.append(pytest.param(schedule, name, make, id=f"{type(schedule).__name__}.{name}"))
    return rows


@pytest.mark.parametrize(("schedule", "name", "make"), _count_arguments())
def test_counts_up_to_2_60_evaluate_and_beyond_are_refused_by_name(schedule, name, make) -> None:
    """Every step count of every family and combinator: 2**60 works (or is refused by name), 2**60 + 1 is refused."""
    try:
        big = _rebuilt_with(schedule, name, make(2**60))
    except ValueError as e:  # a count that makes a product too large: refused, and the message says which
        assert re.match(r"\S+ .*must be", str(e)), e
    else:
        steps = np.array([0, 1, 2**30, 2**53, 2**60, 2**64 - 1], dtype=np.uint64)
        assert np.isfinite(np.array(big(mx.array(steps)))).all()
        assert np.isfinite(np.array(big(mx.array(steps.astype(np.int64) // 2)))).all()
    for beyond in (2**60 + 1, 2**63, 2**64):
        with pytest.raises(ValueError, match=r"^\S+ must be at most 2\*\*(60|30), got \d+$"):
            _rebuilt_with(schedule, name, make(beyond))


def test_max_count_is_max_step() -> None:
    from mlxlr._steps import MAX_STEP
    from mlxlr._validate import MAX_COUNT

    assert MAX_COUNT == MAX_STEP == 2**60
