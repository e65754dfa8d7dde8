"""One value at a scalar step, outside mx.compile: one fused kernel for the families that stack.

Linear, CosineDecay, ExponentialDecay and StepDecay (the counterparts of
MLX's closures) evaluate a scalar step with a kernel compiled once per
family, their numbers passed in as arrays. The values are those of the same
formula evaluated op by op (``values()``): bit for bit on the CPU, within
PEAK_ULPS of the peak on a GPU, where a fused kernel may contract a
multiply-add.
"""

from __future__ import annotations

import copy
import pickle

import mlx.core as mx
import numpy as np
import pytest

import mlxlr
from conftest import assert_same_values, stable_id
from mlxlr import testing
from test_kernels import kernels

FAMILIES = [
    mlxlr.Linear(1e-3, 5e-4, 100),
    mlxlr.Linear(0.0, 3e-4, 7),
    mlxlr.CosineDecay(3e-4, 90, 3e-5),
    mlxlr.CosineDecay(0.0, 50, 1.0),
    mlxlr.ExponentialDecay(1e-2, 0.97),
    mlxlr.ExponentialDecay(1e-2, 0.5, 10, staircase=True),
    mlxlr.StepDecay(0.1, 0.5, 30),
]
STEPS = [0, 1, 6, 7, 45, 89, 90, 91, 99, 100, 101, 250, 999]


@pytest.mark.parametrize("schedule", FAMILIES, ids=stable_id)
@pytest.mark.parametrize("dtype", ["uint64", "int64", "int32", "uint32", "python int"])
def test_a_scalar_value_equals_the_formula_evaluated_op_by_op(schedule, dtype):
    want = np.array(schedule.values(max(STEPS) + 1))[STEPS]
    if dtype == "python int":
        got = [schedule(k) for k in STEPS]
    else:
        got = [schedule(mx.array(k, dtype=getattr(mx, dtype))) for k in STEPS]
    assert all(v.shape == () and v.dtype == mx.float32 for v in got)
    assert_same_values(np.array([v.item() for v in got], dtype=np.float32), want, err_msg=repr(schedule))
    assert [schedule.at(k) for k in STEPS] == want.tolist()  # at() evaluates as values() does: bitwise everywhere


@pytest.mark.parametrize("schedule", FAMILIES, ids=stable_id)
def test_a_scalar_value_is_one_kernel_up_to_the_table_lookups(schedule, tmp_path):
    fused = kernels(tmp_path, schedule(mx.array(45, dtype=mx.uint64)))
    op_by_op = kernels(tmp_path, schedule(mx.array([45], dtype=mx.uint64)))  # an array of steps: values(), plots
    assert not any(n.startswith("Compiled") for n in op_by_op), op_by_op
    if isinstance(schedule, (mlxlr.Linear, mlxlr.CosineDecay)):
        assert len(fused) == 1 and fused[0].startswith("Compiled"), fused
    else:  # exact integer powers read tables: MLX fuses no gather, so each lookup stays a kernel of its own
        assert any(n.startswith("Compiled") for n in fused) and "Gather" in fused, fused
        assert len(fused) < len(op_by_op), (fused, op_by_op)


def test_schedules_with_other_numbers_share_the_kernel(monkeypatch):
    traced = []
    formula = mlxlr.Linear.formula

    def counting(self, t, start=0):
        traced.append(1)
        return formula(self, t, start)

    monkeypatch.setattr(mlxlr.Linear, "formula", counting)
    step = mx.array(3, dtype=mx.int16)
    first = mlxlr.Linear(0.25, 0.5, 11)
    mx.eval(first(mx.array([3], dtype=mx.int16)))
    assert traced, "an array of steps runs the formula op by op: the counter counts"
    mx.eval(first(step))  # compiles the family's kernel for int16 steps (or finds it)
    traced.clear()
    others = [mlxlr.Linear(0.1 * k, 1.0, 10 + k) for k in range(1, 6)]
    values = [s(step).item() for s in others]
    assert traced == []  # compiled once for the family, traced no more
    want = np.array([s.at(3) for s in others], dtype=np.float32)
    assert_same_values(np.array(values, dtype=np.float32), want)


def test_a_called_schedule_copies_pickles_and_stacks_as_before():
    pieces = [mlxlr.Linear(1e-3 / (i + 1), 1e-3 / (i + 2), 10) for i in range(4)]
    before = [pickle.dumps(p) for p in pieces]
    for p in pieces:
        mx.eval(p(mx.array(5, dtype=mx.uint64)))
    assert [pickle.dumps(p) for p in pieces] == before  # the kernel and its inputs are not part of the schedule
    for p in pieces:
        for twin in (pickle.loads(pickle.dumps(p)), copy.deepcopy(p), copy.copy(p)):
            assert twin == p and repr(twin) == repr(p)
            assert twin(7).item() == p(7).item()
    joined = mlxlr.Join(pieces, [10, 20, 30])
    (stack,) = testing.stacks(joined)
    assert stack.family is mlxlr.Linear and stack.pieces == [0, 1, 2, 3]


def test_a_single_value_inside_mx_compile_is_inlined():
    s = mlxlr.CosineDecay(3e-4, 90, 3e-5)
    traces = []

    @mx.compile
    def scaled(step):
        traces.append(1)
        return 2.0 * s(step)

    got = [scaled(mx.array(k, dtype=mx.uint64)).item() for k in STEPS]
    assert len(traces) == 1
    want = 2.0 * np.array(s.values(max(STEPS) + 1))[STEPS]
    assert_same_values(np.array(got, dtype=np.float32), want.astype(np.float32))


@pytest.mark.parametrize("bad", [mx.array(1.5), mx.array(True), -1, True, 2.0])
def test_a_bad_scalar_step_is_refused_by_name(bad):
    with pytest.raises((TypeError, ValueError), match="step"):
        mlxlr.Linear(0.0, 1.0, 10)(bad)
