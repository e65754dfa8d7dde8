"""The expression language: parse(repr(s)) rebuilds s; everything outside the whitelist is refused."""

import inspect

import mlx.core as mx
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings

import mlxlr
from examples import EXAMPLES, UNSERIALIZABLE, registered_class, same, trees
from mlxlr.testing import expression_names as names
from mlxlr.testing import snake_case

STEPS = 200


@pytest.fixture
def registered():
    yield from registered_class()


def assert_rebuilds(s, rebuilt):
    assert same(rebuilt, s), f"{rebuilt!r} != {s!r}"
    assert repr(rebuilt) == repr(s)
    np.testing.assert_array_equal(np.array(rebuilt.values(STEPS)), np.array(s.values(STEPS)))


def public_classes():
    return [
        obj
        for name in mlxlr.__all__
        if isinstance(obj := getattr(mlxlr, name), type)
        and issubclass(obj, mlxlr.Schedule)
        and not inspect.isabstract(obj)
    ]


def test_every_public_class_has_an_example():
    covered = {type(s) for s in EXAMPLES + UNSERIALIZABLE}
    missing = [cls.__name__ for cls in public_classes() if cls not in covered]
    assert not missing, f"add examples of {missing} to tests/examples.py"


@pytest.mark.parametrize("schedule", EXAMPLES, ids=lambda s: repr(s)[:60])
def test_parse_repr_rebuilds_every_example(schedule):
    assert_rebuilds(schedule, mlxlr.parse(repr(schedule)))


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(trees())
def test_parse_repr_rebuilds_random_trees(schedule):
    assert_rebuilds(schedule, mlxlr.parse(repr(schedule)))


def test_every_public_schedule_name_is_in_the_language():
    table = names()
    for name in mlxlr.__all__:
        obj = getattr(mlxlr, name)
        if obj in public_classes():
            assert table[name] is obj
    for name in ["cosine_decay", "exponential_decay", "join_schedules", "linear_schedule", "step_decay"]:
        assert table[name] is getattr(mlxlr, name)
    for name in ["parse", "from_config", "from_mlx_lm", "register", "as_step", "ScheduledOptimizer", "Schedule"]:
        assert name not in table


def test_written_by_hand():
    s = mlxlr.parse("Linear(0, 3e-4, steps=1000) >> CosineDecay(3e-4, decay_steps=99000, end=3e-5)")
    assert s == mlxlr.Linear(0, 3e-4, 1000) >> mlxlr.CosineDecay(3e-4, 99000, 3e-5)
    assert mlxlr.parse("  2*Linear(0,1,10)+1e-3 ") == 2 * mlxlr.Linear(0, 1, 10) + 1e-3
    assert mlxlr.parse("-(Constant(1) - 3e-4 * 2) / 4") == -(mlxlr.Constant(1) - 3e-4 * 2) / 4
    assert mlxlr.parse("+Linear(0, 1, 10)") == mlxlr.Linear(0, 1, 10)
    assert mlxlr.parse("Join([Constant(1), 0.5], (3,))") == mlxlr.Join([mlxlr.Constant(1), 0.5], [3])
    assert mlxlr.parse("ExponentialDecay(1, 0.5, staircase=True, end=None)") == mlxlr.ExponentialDecay(
        1, 0.5, staircase=True
    )


def test_a_number_alone_is_a_constant():
    assert mlxlr.parse("3e-4") == mlxlr.Constant(3e-4)
    assert mlxlr.parse("-2") == mlxlr.Constant(-2)


def test_snake_case_aliases_and_mlx_functions():
    assert snake_case("CosineDecay") == "cosine_decay"
    assert snake_case("WarmupStableDecay") == "warmup_stable_decay"
    assert mlxlr.parse("linear(0, 1, 10)") == mlxlr.Linear(0, 1, 10)
    assert mlxlr.parse("constant(2) * one_cycle(1e-3, 100)") == mlxlr.Constant(2) * mlxlr.OneCycle(1e-3, 100)
    # MLX's own functions keep their names and their (MLX) signatures.
    assert mlxlr.parse("cosine_decay(1e-3, 1000)") == mlxlr.CosineDecay(1e-3, 1000)
    assert mlxlr.parse("exponential_decay(1e-3, 0.9)") == mlxlr.ExponentialDecay(1e-3, 0.9)
    assert mlxlr.parse("warmup_cosine(1e-3, 10, 100)") == mlxlr.warmup_cosine(1e-3, 10, 100)


def test_combinator_methods_chain():
    s = mlxlr.parse("CosineDecay(1, 100).with_warmup(10).clip(lo=0.1).repeat(2).stretch(0.5)")
    assert s == mlxlr.CosineDecay(1, 100).with_warmup(10).clip(lo=0.1).repeat(2).stretch(0.5)
    assert mlxlr.parse("OneCycle(1e-3, 100).momentum(0.8)") == mlxlr.OneCycle(1e-3, 100).momentum(0.8)


def test_text_on_several_lines():
    text = "Linear(0, 1e-3, steps=100)\n  >> CosineDecay(1e-3,\n                 decay_steps=900)"
    assert mlxlr.parse(text) == mlxlr.Linear(0, 1e-3, 100) >> mlxlr.CosineDecay(1e-3, 900)


def test_registered_user_classes_parse(registered):
    s = mlxlr.parse("2 * UserHalving(1.0, every=10) >> Constant(0)")
    assert s == 2 * registered(1.0, every=10) >> mlxlr.Constant(0)
    assert (s.at(25), s.at(40)) == (0.5, 0.0)
    assert mlxlr.parse("user_halving(1.0, 10)") == registered(1.0, 10)


# Errors. --------------------------------------------------------------------------


def error(text):
    with pytest.raises(mlxlr.ParseError) as info:
        mlxlr.parse(text)
    return info.value


@pytest.mark.parametrize(
    ("text", "reason", "column"),
    [
        ("Cosine(1, 10)", "unknown name 'Cosine'", 1),
        ("Linear(0, 1, 10) + Foo(2)", "unknown name 'Foo'", 20),
        ("Linear(0, 1, steps=0)", "Linear: steps must be a positive int, got 0", 20),
        ("Linear(0, 1, steps=True)", "Linear: steps must be an int, got True (bool)", 20),
        ("Linear(0, 1e400, 10)", "Linear: end must be finite, got inf", 11),
        ("Linear(0, 1)", "Linear(): missing a required argument: 'steps'", 1),
        ("Linear(0, 1, 2, 3)", "Linear(): too many positional arguments", 1),
        ("Linear(0, 1, 10, foo=1)", "Linear(): got an unexpected keyword argument 'foo'", 1),
        ("MultiStepDecay(1.0, [30, 20])", "MultiStepDecay: milestones", 21),
        ("Linear(0, 1", "'(' was never closed", 7),
        ("Linear(0, 1, 10) +", "invalid syntax", 19),
        ("Linear(0, 1, 10) >> 2", "'>>' joins two schedules", 18),
        ("Constant(1) >> Linear(0, 1, 2)", "the left side of >> must have a duration", 13),
        ("Linear(0, 1, 10) / 0", "cannot divide a schedule by 0", 18),
        ("1 / 0", "division by zero", 3),
        ("Linear(0, 1, 10) ** 2", "the operator Pow is not allowed", 1),
        ("Linear(0, 1, 10) + 'a'", "'+' needs schedules or numbers", 18),
        ("Linear", "'Linear' must be called", 1),
        ("'text'", "expected a schedule, got the string 'text'", 1),
        ("[Linear(0, 1, 2)]", "expected a schedule, got a list", 1),
        ("", "empty expression", 1),
        ("é + Cosine(1)", "unknown name 'é'", 1),
        ("Constant(1) + Cösine(1)", "unknown name 'Cösine'", 15),
        ("Linear(0, 1, 2).at(3)", "the method 'at' is not allowed (allowed: clip, cooldown, for_steps", 16),
        ("Linear(0, 1, 2).repeat(0)", ".repeat: times must be a positive int, got 0", 24),
        ("Lambda(1)", "Lambda: fn must be a callable", 8),
        ("Linear(init=0, init=1, steps=3)", "keyword argument repeated: 'init'", 16),
        ("Linear(0, end=1, steps=3, end=2)", "keyword argument repeated: 'end'", 27),
        ("Linear(0, 1, 3).clip(hi=1, hi=2)", "keyword argument repeated: 'hi'", 28),
        ("Linear(0, 1, 3).stretch(Linear(0, steps=1, end=2, steps=4))", "keyword argument repeated: 'steps'", 51),
    ],
)
def test_errors_name_the_problem_and_its_column(text, reason, column):
    e = error(text)
    assert isinstance(e, ValueError)
    assert e.reason.startswith(reason), e.reason
    assert e.column == column, str(e)
    assert str(e) == f"{e.reason} at column {column}: {text}"


def test_error_message_format():
    assert str(error("Cosine(1, 10)")) == "unknown name 'Cosine' at column 1: Cosine(1, 10)"
    e = error("Linear(0, 1, 10)\n  >> Cosine(1, 10)")
    assert (e.line, e.column) == (2, 6)
    assert str(e) == "unknown name 'Cosine' at line 2, column 6:   >> Cosine(1, 10)"


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("__import__('os')", "unknown name '__import__'"),
        ("__import__('os').system('true')", "unknown name '__import__'"),
        ("eval('1')", "unknown name 'eval'"),
        ("Linear(0, 1, 2).__class__", "attribute access is not allowed"),
        ("Linear(0, 1, 2).__class__.__bases__", "attribute access is not allowed"),
        ("Linear(0, 1, 2).__class__(0, 1, 2)", "the method '__class__' is not allowed"),
        ("Linear(0, 1, 2).__reduce__()", "the method '__reduce__' is not allowed"),
        ("Linear(0, 1, 2).fn()", "the method 'fn' is not allowed"),
        ("Linear(0, 1, 2).duration", "attribute access is not allowed"),
        ("(1).__class__()", "methods can only be called on a schedule"),
        ("Linear.__init__(1)", "'Linear' must be called"),
        ("lambda: Constant(1)", "lambda is not allowed"),
        ("Join([Constant(i) for i in [1, 2]], [1])", "a comprehension is not allowed"),
        ("Join((Constant(i) for i in [1, 2]), [1])", "a generator expression is not allowed"),
        ("Join({Constant(1): 1}, [1])", "a dict is not allowed"),
        ("[Constant(1)][0]", "subscripting is not allowed"),
        ("Constant(1) if 1 else Constant(2)", "'if'/'else' is not allowed"),
        ("Constant(1) < Constant(2)", "a comparison is not allowed"),
        ("Constant(1) and Constant(2)", "'and'/'or' is not allowed"),
        ("Constant(x := 1)", "':=' is not allowed"),
        ("Constant(*[1])", "'*' unpacking is not allowed"),
        ("Linear(**{'init': 0})", "'**' unpacking is not allowed"),
        ("Constant(f'{1}')", "an f-string is not allowed"),
        ("Constant(1j)", "the constant 1j is not allowed"),
        ("Constant(b'1')", "the constant b'1' is not allowed"),
        ("Constant(...)", "the constant Ellipsis is not allowed"),
        ("~Constant(1)", "unary '~' is not allowed"),
    ],
)
def test_refuses_everything_outside_the_whitelist(text, reason):
    assert error(text).reason.startswith(reason), error(text).reason


def test_strings_are_data_never_code():
    e = error("Cyclic(0.1, 1.0, 10, mode=\"__import__('os').system('false')\")")
    assert "mode must be one of" in e.reason


def test_deep_nesting_is_an_error_not_a_crash():
    e = error("(" * 5000 + "Constant(1)" + ")" * 5000)
    assert isinstance(e, mlxlr.ParseError)


def test_not_a_string():
    with pytest.raises(TypeError, match="text must be a str"):
        mlxlr.parse(b"Constant(1)")  # type: ignore[arg-type]


def test_values_come_from_the_schedule_not_from_python():
    s = mlxlr.parse("StepDecay(1.0, 0.5, step_size=10)")
    assert s(mx.array(25)).item() == 0.25


def test_a_repeated_keyword_is_refused_as_python_refuses_it():
    """``ast.parse`` takes ``f(a=1, a=2)``; Python's compiler refuses it (a dict would keep the last one silently)."""
    import ast

    ast.parse("Linear(init=0, init=1, steps=3)", mode="eval")  # the syntax tree holds both
    with pytest.raises(SyntaxError, match="keyword argument repeated"):
        compile("f(init=0, init=1)", "<text>", "eval")
    with pytest.raises(mlxlr.ParseError, match=r"^keyword argument repeated: 'init' at column 16: "):
        mlxlr.parse("Linear(init=0, init=1, steps=3)")
