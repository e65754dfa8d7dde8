"""``ScheduledOptimizer``: any MLX optimizer, any hyperparameter, on a schedule."""

from __future__ import annotations

import math
from collections.abc import Iterator
from typing import Any

import mlx.core as mx
import mlx.optimizers as optim
from typing_extensions import override

from ._hyper import Hyper, attribute, hyper_type
from ._native import Constant, Native, evaluate
from ._plateau import ReduceOnPlateau
from ._schedule import Schedule, walk
from ._state import RESERVED, load
from ._steps import as_step

HyperSpec = Schedule | float | tuple[Schedule | float, ...]
"""What a hyperparameter can be driven by: a schedule, a number, or a tuple of those."""


class ScheduledOptimizer(optim.Optimizer):
    """Wraps any ``mlx.optimizers.Optimizer`` and drives its hyperparameters from schedules.

    The wrapper keeps its own step counter (a ``uint64`` array) in
    :attr:`state`, beside every scheduled value and the wrapped optimizer's
    whole state; the k-th update (k = 0, 1, ...) uses ``schedule(k)``, as MLX's
    own scheduled optimizers do. The wrapped optimizer's step follows it
    (after an update both are the same array): a compiled step increments one
    counter, one schedule adds no kernel to it, and each further schedule
    one kernel. ``state`` is one tree with
    a stable identity: pass it to ``mx.compile(inputs=..., outputs=...)`` and
    save it with ``mx.save_safetensors(path, dict(tree_flatten(opt.state)))``;
    assigning a loaded tree to ``opt.state`` updates it in place and resumes
    at its step.

    Any numeric hyperparameter can be scheduled by name: ``learning_rate`` and
    the ones MLX keeps as attributes (``momentum``, ``weight_decay``,
    ``betas``, ``eps``, ...). A tuple hyperparameter takes a tuple of
    schedules and numbers (``betas=(cycle, 0.999)``). During an update each
    scheduled attribute is an ``mx.array`` whose Python comparisons
    (``momentum <= 0``, ``weight_decay != 0``, as MLX's optimizers write) are
    answered from the range of values its schedule takes, sampled at
    construction, so they never force an evaluation inside ``mx.compile``.
    A comparison the range cannot answer raises ``ValueError``; a comparison
    with 0 that only the range's end at 0 would flip takes the general branch
    (for instance SGD's momentum path for a momentum decaying to 0, which is
    the same arithmetic). Converting a scheduled attribute to a Python number
    raises ``TypeError``: it would freeze the value in a compiled graph.

    With half-precision parameters note that a scheduled attribute is a
    float32 array, and MLX's optimizers do not cast attributes to the
    parameter's dtype as they cast the learning rate.

    Call ``opt.init(model.trainable_parameters())`` before compiling a
    training step: the optimizer state then has its final shape and the
    step is traced once (without it, twice: the state grows on the first call).

    Args:
        optimizer: The optimizer to drive, constructed with plain numbers for
            the hyperparameters given here.
        **schedules: Hyperparameter name to a :class:`~mlxlr.Schedule`, a
            number, or (for tuple hyperparameters) a tuple of those.

    Example:
        >>> import mlx.optimizers as optim
        >>> import mlxlr
        >>> opt = mlxlr.ScheduledOptimizer(
        ...     optim.SGD(learning_rate=0.0, momentum=0.9),
        ...     learning_rate=mlxlr.Linear(0.0, 0.1, steps=10),
        ...     momentum=mlxlr.Linear(0.95, 0.85, steps=10),
        ... )
        >>> for _ in range(5):
        ...     opt.update({}, {})
        >>> print(f"{opt.learning_rate.item():.2f} {opt.momentum.item():.2f} {opt.step.item()}")
        0.04 0.91 5
    """

    def __init__(self, optimizer: optim.Optimizer, /, **schedules: HyperSpec) -> None:
        super().__init__()  # type: ignore[no-untyped-call]
        if not isinstance(optimizer, optim.Optimizer):
            raise TypeError(f"optimizer must be an mlx.optimizers.Optimizer, got {optimizer!r}")
        if not schedules:
            raise ValueError("give at least one hyperparameter to schedule, got none")
        self._inner = optimizer
        self._targets = list(_leaf_optimizers(optimizer))
        available = _schedulable(self._targets)
        self._specs: dict[str, tuple[Schedule | float, ...] | Schedule] = {}
        self._hypers: dict[str, tuple[type[Hyper] | float, ...]] = {}
        for name, spec in schedules.items():
            self._specs[name] = _check_spec(name, spec, available, self._targets)
        self._distinct = list(dict.fromkeys(s for s in self._all_schedules()))
        self._plateaus = list(
            dict.fromkeys(p for s in self._distinct for p in walk(s) if isinstance(p, ReduceOnPlateau))
        )
        for name, spec in self._specs.items():
            if name != "learning_rate":
                parts = spec if isinstance(spec, tuple) else (spec,)
                self._hypers[name] = tuple(hyper_type(name, p) if isinstance(p, Schedule) else p for p in parts)
        self._originals = {name: [getattr(t, name, None) for t in self._targets] for name in self._hypers}
        state: dict[str, Any] = {"step": mx.array(0, mx.uint64)}
        state.update(self._values(state["step"], state["step"] + 1))
        if self._plateaus:
            state["plateaus"] = [p.state for p in self._plateaus]
        state["optimizer"] = optimizer.state
        self._state = state

    # The state tree. -----------------------------------------------------

    @property
    @override
    def state(self) -> dict[str, Any]:
        """The step, the scheduled values and the wrapped optimizer's state, in one tree."""
        self._state["optimizer"] = self._inner.state
        return self._state

    @state.setter
    def state(self, state: dict[str, Any]) -> None:
        # Before the wrapped optimizer has its per-parameter state, a loaded tree brings it; after, it must match.
        strict = all(getattr(t, "_initialized", False) for t in self._targets)
        load(self.state, state, sorted(self._specs), len(self._plateaus), strict=strict)
        self._initialized = True

    @property
    def optimizer(self) -> optim.Optimizer:
        """The wrapped optimizer."""
        return self._inner

    @property
    def schedules(self) -> dict[str, HyperSpec]:
        """The scheduled hyperparameters, by name."""
        return dict(self._specs)

    @property
    @override
    def learning_rate(self) -> mx.array:
        """The learning rate the most recent update used (``schedule(0)`` before the first)."""
        if "learning_rate" in self._specs:
            value: mx.array = self._state["learning_rate"]
            return value
        inner: mx.array = self._inner.learning_rate
        return inner

    @learning_rate.setter
    def learning_rate(self, learning_rate: float | mx.array) -> None:
        if "learning_rate" in self._specs:
            raise ValueError("learning_rate is driven by a schedule; wrap a new ScheduledOptimizer to change it")
        self._inner.learning_rate = learning_rate

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_"):
            raise AttributeError(name)
        if name in self._specs:
            value = self._state[name]
            return tuple(value) if isinstance(value, list) else value
        return getattr(self._inner, name)

    # Updates. -------------------------------------------------------------

    def observe(self, metric: mx.array | float) -> None:
        """Feeds a metric to every :class:`~mlxlr.ReduceOnPlateau` in the schedules.

        Graph operations only: call it inside or outside a compiled step (the
        counters live in :attr:`state`). The new scale applies from the next update.

        Args:
            metric: The metric, a scalar array (a loss in mode ``"min"``) or a number.
        """
        if not self._plateaus:
            raise ValueError("observe needs a ReduceOnPlateau in the schedules, got none")
        for plateau in self._plateaus:
            plateau.observe(metric)

    @override
    def init(self, parameters: dict[str, Any]) -> None:
        """Initializes the wrapped optimizer's state for ``parameters``."""
        self._inner.init(parameters)
        self._initialized = True

    @override
    def apply_gradients(self, gradients: dict[str, Any], parameters: dict[str, Any]) -> dict[str, Any]:
        """Sets every scheduled value for this step, then applies the wrapped optimizer."""
        state = self.state
        step = state["step"]
        after = step + 1
        values = self._values(step, after)
        state.update(values)
        state["step"] = after
        followers = [target for target in self._targets if _follows(target, step)]
        for target in self._targets:
            if "learning_rate" in values and "learning_rate" in target.state:
                target.state["learning_rate"] = values["learning_rate"]
            for name, kinds in self._hypers.items():
                if hasattr(target, name):
                    setattr(target, name, attribute(values[name], kinds))
        try:
            updated: dict[str, Any] = self._inner.apply_gradients(gradients, parameters)
        finally:
            for name, originals in self._originals.items():
                for target, original in zip(self._targets, originals):
                    if original is not None:
                        setattr(target, name, original)
        for target in followers:
            target.state["step"] = after  # the same array as ours: its own increment is left unused
        return updated

    def _all_schedules(self) -> Iterator[Schedule]:
        for spec in self._specs.values():
            for part in spec if isinstance(spec, tuple) else (spec,):
                if isinstance(part, Schedule):
                    yield part

    def _values(self, step: mx.array, after: mx.array) -> dict[str, Any]:
        """Every scheduled value at ``step``; a schedule driving several names is evaluated once.

        mlxlr's own schedules are evaluated from the incremented step, as a
        local step formed inside each family's formula. The first one from
        ``after = step + 1``, the new step the update stores, as ``after - 1``:
        in a compiled step MLX then fuses the increment, the schedule and its
        ``int64`` conversion into one kernel (the wrapped optimizer's own
        increment is replaced by this one), so a schedule adds no kernel
        launch to a constant learning rate's step. Each further one from a
        step of its own, ``step + k`` as ``(step + k) - k``: MLX merges
        identical operations on identical inputs, and what two schedules
        compute alike (the same warmup length, say) would become a node of
        both, where their kernels split; from distinct inputs each further
        schedule is one kernel.
        """
        memo: dict[int, mx.array] = {}
        own = 0  # mlxlr schedules so far
        normalized: mx.array | None = None  # the step as user schedules receive it, formed once
        for s in self._distinct:
            if isinstance(s, Native):
                # the loaded step is checked to be <= MAX_STEP, so neither the offset nor the conversion wraps
                t = (after if own == 0 else step + (1 + own)).astype(mx.int64)
                memo[id(s)] = s.formula(t, 1 + own)
                own += 1
            else:
                normalized = as_step(step) if normalized is None else normalized
                memo[id(s)] = evaluate(s, normalized)
        out: dict[str, Any] = {}
        for name, spec in self._specs.items():
            if isinstance(spec, tuple):
                out[name] = [memo[id(p)] if isinstance(p, Schedule) else mx.array(p, mx.float32) for p in spec]
            else:
                out[name] = memo[id(spec)]
        return out


def _follows(target: optim.Optimizer, step: mx.array) -> bool:
    """Gives a wrapped optimizer the wrapper's step, if it keeps one of the same kind, before it increments it.

    The wrapper's counter is the step and the wrapped optimizer's follows it
    (its bias corrections, for instance). After the update the wrapper hands
    it its own new step too, so a compiled step computes one increment, not two.
    """
    own = target.state.get("step")
    if isinstance(own, mx.array) and own.dtype == step.dtype and own.shape == step.shape:
        target.state["step"] = step
        return True
    return False


# Discovery and validation. ------------------------------------------------------


def _leaf_optimizers(optimizer: optim.Optimizer) -> Iterator[optim.Optimizer]:
    if isinstance(optimizer, optim.MultiOptimizer):
        for inner in optimizer.optimizers:
            yield from _leaf_optimizers(inner)
    else:
        yield optimizer


def _numeric(value: object) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _schedulable(targets: list[optim.Optimizer]) -> dict[str, int | None]:
    """Schedulable names: ``learning_rate`` and numeric attributes, with the tuple length (or ``None``)."""
    names: dict[str, int | None] = {}
    for target in targets:
        if "learning_rate" in target.state:
            names["learning_rate"] = None
        for name, value in vars(target).items():
            if name.startswith("_"):
                continue
            if _numeric(value):
                names[name] = None
            elif isinstance(value, (tuple, list)) and value and all(_numeric(v) for v in value):
                names[name] = len(value)
    return names


def _check_spec(
    name: str, spec: object, available: dict[str, int | None], targets: list[optim.Optimizer]
) -> tuple[Schedule | float, ...] | Schedule:
    kind = type(targets[0]).__name__ if len(targets) == 1 else "the wrapped optimizers"
    if name in RESERVED:
        raise ValueError(f"{name!r} cannot be scheduled: it is a key of ScheduledOptimizer.state")
    if name == "learning_rate" and any(isinstance(t, optim.Adafactor) and t.relative_step for t in targets):
        raise ValueError(
            "learning_rate cannot be scheduled for Adafactor with relative_step=True, which ignores it; "
            "construct Adafactor(learning_rate=..., relative_step=False)"
        )
    for target in targets:
        if name in target._schedulers:
            raise ValueError(
                f"{name} is already scheduled by {type(target).__name__} itself; construct it with a number "
                f"for {name} and schedule it here only"
            )
    if name not in available:
        if any(getattr(t, name, 0) is None for t in targets):
            raise ValueError(f"{name} is None in {kind}; construct it with a number to schedule it")
        raise ValueError(
            f"{name!r} is not a schedulable hyperparameter of {kind}; schedulable: {', '.join(sorted(available))}"
        )
    length = available[name]
    if length is None:
        part = _check_part(name, spec)
        return part if isinstance(part, Schedule) else Constant(part)
    if isinstance(spec, list):
        spec = tuple(spec)
    if not isinstance(spec, tuple) or len(spec) != length:
        raise TypeError(f"{name} must be a tuple of {length} schedules or numbers, got {spec!r}")
    return tuple(_check_part(f"{name}[{i}]", p) for i, p in enumerate(spec))


def _check_part(name: str, part: object) -> Schedule | float:
    from ._validate import check_real, plain  # NumPy and MLX scalars are numbers: np.float32(0.9), a 0-d mx.array

    if isinstance(part, Schedule):
        return part
    number = plain(part)
    if _numeric(number):
        if not math.isfinite(number):
            raise ValueError(f"{name} must be finite, got {part!r}")
        return check_real(name, number)  # and within float32's range
    hint = " (wrap a callable in mlxlr.Lambda)" if callable(part) else ""
    raise TypeError(f"{name} must be a Schedule or a number, got {part!r} ({type(part).__name__}){hint}")
