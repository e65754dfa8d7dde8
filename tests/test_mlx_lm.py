"""from_mlx_lm: the same values as mlx-lm's build_schedule, its warmup + 1 join included.

mlx-lm itself imports transformers and huggingface_hub (``mlx_lm.tuner.utils``
pulls in ``mlx_lm.utils``), so the default suite compares against
``build_schedule`` as mlx-lm 0.32.2 writes it, copied below on top of
``mlx.optimizers``; where mlx-lm imports, the real one is compared too.
"""

import math
import sys

import mlx.core as mx
import mlx.optimizers as optim
import numpy as np
import pytest

import mlxlr

STEPS = mx.arange(2_000, dtype=mx.uint64)


def build_schedule(schedule_config):
    """mlx_lm.tuner.utils.build_schedule of mlx-lm 0.32.2, verbatim but for the module name."""
    schedule_fn = getattr(optim.schedulers, schedule_config["name"])
    arguments = schedule_config["arguments"]
    initial_lr = arguments[0]
    bound_schedule_fn = schedule_fn(*arguments)
    if warmup_steps := schedule_config.get("warmup", 0):
        warmup_init = schedule_config.get("warmup_init", 0.0)
        warmup_fn = optim.schedulers.linear_schedule(warmup_init, initial_lr, warmup_steps)
        return optim.schedulers.join_schedules([warmup_fn, bound_schedule_fn], [warmup_steps + 1])
    else:
        return bound_schedule_fn


CONFIGS = [
    {"name": "cosine_decay", "warmup": 100, "warmup_init": 1e-7, "arguments": [1e-5, 1000, 1e-7]},
    {"name": "cosine_decay", "arguments": [1e-5, 1500]},
    {"name": "cosine_decay", "warmup": 0, "arguments": [2e-4, 1500, 2e-5]},
    {"name": "linear_schedule", "warmup": 50, "arguments": [1e-4, 1e-6, 1000]},
    {"name": "linear_schedule", "arguments": [0.0, 1e-4, 700]},
    # A rate that float32 holds exactly: MLX's float32 power then stays within a few ulps.
    {"name": "exponential_decay", "warmup": 10, "arguments": [1e-4, 0.998046875]},
    {"name": "step_decay", "warmup": 200, "warmup_init": 1e-6, "arguments": [3e-4, 0.5, 300]},
    {"name": "step_decay", "arguments": [3e-4, 0.9, 100]},
]


def compare(ours, theirs, peak):
    np.testing.assert_allclose(np.array(ours(STEPS)), np.array(theirs(STEPS)), rtol=1e-5, atol=1e-6 * peak)


@pytest.mark.parametrize("config", CONFIGS, ids=lambda c: f"{c['name']}-warmup{c.get('warmup', 0)}")
def test_same_values_as_mlx_lm(config):
    compare(mlxlr.from_mlx_lm(config), build_schedule(config), config["arguments"][0])


@pytest.mark.parametrize("config", CONFIGS, ids=lambda c: f"{c['name']}-warmup{c.get('warmup', 0)}")
def test_same_values_as_the_installed_mlx_lm(config):
    utils = pytest.importorskip("mlx_lm.tuner.utils")
    compare(mlxlr.from_mlx_lm(config), utils.build_schedule(config), config["arguments"][0])


def test_the_warmup_plus_one_quirk_is_reproduced():
    s = mlxlr.from_mlx_lm({"name": "cosine_decay", "warmup": 100, "arguments": [1e-3, 1000]})
    assert s == mlxlr.Join([mlxlr.Linear(0.0, 1e-3, 100), mlxlr.CosineDecay(1e-3, 1000)], [101])
    # The peak is held at steps 100 and 101; the decay starts a step late.
    assert s.at(100) == s.at(101) == pytest.approx(1e-3)
    assert s.at(102) == pytest.approx(1e-3 * 0.5 * (1 + math.cos(math.pi / 1000)), rel=1e-6)
    # mlxlr's own >> has no shift.
    own = mlxlr.Linear(0.0, 1e-3, 100) >> mlxlr.CosineDecay(1e-3, 1000)
    assert own.at(101) == s.at(102)


def test_a_whole_training_config():
    lr_schedule = {"name": "cosine_decay", "arguments": [1e-5, 1000]}
    assert mlxlr.from_mlx_lm({"model": "m", "lr_schedule": lr_schedule}) == mlxlr.CosineDecay(1e-5, 1000)
    assert mlxlr.from_mlx_lm({"learning_rate": 2e-5, "lr_schedule": None}) == mlxlr.Constant(2e-5)
    assert mlxlr.from_mlx_lm({"lr_schedule": None}) == mlxlr.Constant(1e-5)  # mlx-lm's default


@pytest.mark.parametrize(
    ("config", "error", "message"),
    [
        ({"name": "cosine", "arguments": [1]}, ValueError, r"name must be one of 'cosine_decay', .* got 'cosine'"),
        ({"name": "join_schedules", "arguments": [[], []]}, ValueError, r"'join_schedules' needs schedule objects"),
        ({"name": "cosine_decay", "arguments": [1e-5, 10], "warmup_steps": 5}, ValueError, r"no key 'warmup_steps'"),
        ({"name": "cosine_decay"}, TypeError, r"arguments must be a non-empty list, got None"),
        ({"name": "cosine_decay", "arguments": [1e-5]}, TypeError, r"arguments \[1e-05\] do not fit cosine_decay"),
        ({"name": "cosine_decay", "arguments": [1e-5, 0]}, ValueError, r"decay_steps must be a positive int, got 0"),
        ({"name": "cosine_decay", "arguments": [1e-5, 9], "warmup": 2.5}, TypeError, r"warmup must be an int"),
        (["cosine_decay"], TypeError, r"config must be a mapping .* or the path of mlx-lm's YAML config, got \["),
        ("cosine_decay", FileNotFoundError, r"no mlx-lm config file at 'cosine_decay'"),
        ({"name": "cosine_decay", "arguments": ["1e-5", "1e3"]}, TypeError, r"decay_steps must be an int, got 1000\.0"),
        ({"name": "cosine_decay", "arguments": ["fast", 10]}, TypeError, r"init must be a real number, got 'fast'"),
    ],
)
def test_errors(config, error, message):
    with pytest.raises(error, match=message):
        mlxlr.from_mlx_lm(config)


@pytest.mark.parametrize("config", CONFIGS, ids=lambda c: f"{c['name']}-warmup{c.get('warmup', 0)}")
def test_grad_accumulation_converts_iterations_to_updates(config):
    """With k iterations an update, each duration is the nearest whole number of updates (halves up, at least 1)."""
    k = 8
    durations = {"cosine_decay": (1,), "exponential_decay": (), "linear_schedule": (2,), "step_decay": (2,)}
    converted = dict(config)
    converted["arguments"] = [
        max(1, math.floor(a / k + 0.5)) if i in durations[config["name"]] else a
        for i, a in enumerate(config["arguments"])
    ]
    if config.get("warmup"):
        converted["warmup"] = max(1, math.floor(config["warmup"] / k + 0.5))
    assert mlxlr.from_mlx_lm(config, grad_accumulation_steps=k) == mlxlr.from_mlx_lm(converted)
    assert mlxlr.from_mlx_lm(config, grad_accumulation_steps=1) == mlxlr.from_mlx_lm(config)
    assert mlxlr.from_mlx_lm(config, grad_accumulation_steps=None) == mlxlr.from_mlx_lm(config)


def test_grad_accumulation_in_a_whole_training_config():
    training = {"learning_rate": 1e-4, "grad_accumulation_steps": 4, "lr_schedule": CONFIGS[0]}
    assert mlxlr.from_mlx_lm(training, grad_accumulation_steps=training["grad_accumulation_steps"]).boundaries == (26,)
    assert mlxlr.from_mlx_lm(training).boundaries == (101,)  # mlx-lm's own values by default
    with pytest.raises(ValueError, match=r"grad_accumulation_steps must be a positive int, got 0"):
        mlxlr.from_mlx_lm(training, grad_accumulation_steps=0)


# mlx-lm's YAML files. ----------------------------------------------------------------------------------


@pytest.fixture
def yaml():
    return pytest.importorskip("yaml")  # an optional extra: mlxlr[yaml]


LORA_CONFIG = """\
# mlx-lm's lora_config.yaml, as users write it: 1e-5, not 1.0e-5
model: "mlx_model"
train: true
fine_tune_type: lora
batch_size: 4
iters: 1000
learning_rate: 1e-5
lr_schedule:
  name: cosine_decay
  warmup: 100
  warmup_init: 1e-7
  arguments: [1e-5, 1000, 1e-7]
lora_parameters:
  keys: ["self_attn.q_proj", "self_attn.v_proj"]
  rank: 8
  scale: 20.0
"""
FLOATS = {"name": "cosine_decay", "warmup": 100, "warmup_init": 1e-7, "arguments": [1e-5, 1000, 1e-7]}


def write(tmp_path, text, name="config.yaml"):
    path = tmp_path / name
    path.write_text(text)
    return path


def test_a_yaml_file_reads_as_mlx_lm_reads_it(tmp_path, yaml):
    path = write(tmp_path, LORA_CONFIG)
    assert yaml.safe_load(LORA_CONFIG)["learning_rate"] == "1e-5"  # why mlx-lm has a loader of its own
    expected = mlxlr.from_mlx_lm(FLOATS)
    assert mlxlr.from_mlx_lm(path) == expected == mlxlr.from_mlx_lm(str(path))
    compare(mlxlr.from_mlx_lm(path), build_schedule(FLOATS), 1e-5)
    assert yaml.safe_load("x: 1e-5") == {"x": "1e-5"}  # PyYAML's own loader is left as it was


def test_numbers_written_as_strings_are_numbers_in_a_mapping_too(yaml):
    """A config read with yaml.safe_load holds '1e-5' strings: read as mlx-lm's loader reads the file."""
    loaded = yaml.safe_load(LORA_CONFIG)
    assert loaded["lr_schedule"]["arguments"] == ["1e-5", 1000, "1e-7"]
    assert mlxlr.from_mlx_lm(loaded) == mlxlr.from_mlx_lm(FLOATS)
    assert mlxlr.from_mlx_lm(loaded["lr_schedule"]) == mlxlr.from_mlx_lm(FLOATS)
    assert mlxlr.from_mlx_lm({"learning_rate": "2e-5", "lr_schedule": None}) == mlxlr.Constant(2e-5)


def test_a_training_config_without_a_schedule_is_its_learning_rate(tmp_path, yaml):
    text = "model: m\ntrain: true\nlearning_rate: 3e-5\n"
    assert mlxlr.from_mlx_lm(write(tmp_path, text)) == mlxlr.Constant(3e-5)
    assert mlxlr.from_mlx_lm(write(tmp_path, "model: m\n")) == mlxlr.Constant(1e-5)  # mlx-lm's default
    assert mlxlr.from_mlx_lm(write(tmp_path, "name: step_decay\narguments: [3e-4, 0.5, 30]\n")) == mlxlr.StepDecay(
        3e-4, 0.5, 30
    )


@pytest.mark.parametrize(
    "text",
    ["1e-5", "1E-5", "+1e-5", "-2.5e3", "1.5e3", "2.5E+3", "3.", ".5", ".5e-3", "1_000.5", "1.0e-5", "6e0", "0.1"],
)
def test_mlx_lm_float_forms(text, yaml):
    """The forms mlx-lm's loader reads as floats; the expected value is Python's float() of the text."""
    assert mlxlr._mlx_lm.yaml_document(f"x: {text}", "t") == {"x": float(text.replace("_", ""))}
    assert mlxlr._mlx_lm._number(text) == float(text.replace("_", ""))


@pytest.mark.parametrize(("text", "value"), [("1000", 1000), ("1_000", 1000), ("'1e-5'", "1e-5"), ("e5", "e5")])
def test_ints_and_strings_stay_what_they_are(text, value, yaml):
    assert mlxlr._mlx_lm.yaml_document(f"x: {text}", "t") == {"x": value}


@pytest.mark.parametrize(
    ("text", "error", "message"),
    [
        ("- 1\n- 2\n", TypeError, r"config\.yaml holds list \[1, 2\], not a mapping: expected mlx-lm's training"),
        ("1e-5\n", TypeError, r"config\.yaml holds float 1e-05, not a mapping"),
        ("", TypeError, r"config\.yaml holds nothing, not a mapping"),
        ("lr_schedule: [unclosed\n", ValueError, r"config\.yaml: not valid YAML: "),
        ("name: cosine_decay\narguments: [1e-5, 1e3]\n", TypeError, r"decay_steps must be an int, got 1000\.0"),
        ("learning_rate: .inf\n", ValueError, r"learning_rate must be finite, got inf"),
    ],
)
def test_file_errors_are_named(tmp_path, text, error, message, yaml):
    with pytest.raises(error, match=message):
        mlxlr.from_mlx_lm(write(tmp_path, text))


def test_a_missing_file_is_named(tmp_path):
    with pytest.raises(FileNotFoundError, match=r"no mlx-lm config file at '.*missing\.yaml'"):
        mlxlr.from_mlx_lm(tmp_path / "missing.yaml")


def test_without_pyyaml_the_error_says_what_to_install(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "yaml", None)  # `import yaml` raises ImportError
    with pytest.raises(ImportError, match=r'^reading YAML needs PyYAML: pip install "mlxlr\[yaml\]"$'):
        mlxlr.from_mlx_lm(write(tmp_path, LORA_CONFIG))
    assert mlxlr.from_mlx_lm(FLOATS) == mlxlr.from_mlx_lm(FLOATS)  # a mapping needs no PyYAML
