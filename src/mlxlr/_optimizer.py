"""``ScheduledOptimizer``: any MLX optimizer, any hyperparameter, on a schedule, per parameter group."""

from __future__ import annotations

import fnmatch
from collections.abc import Callable, Iterator, Mapping
from typing import Any, cast

import mlx.core as mx
import mlx.optimizers as optim
from mlx.utils import tree_flatten
from typing_extensions import override

from ._hyper import Part, Range, Spec, attribute, check_groups, check_spec, leaf_optimizers, schedulable
from ._native import Constant, Native, evaluate
from ._plateau import ReduceOnPlateau
from ._printing import float32_text
from ._run import prepare
from ._schedule import Schedule, walk
from ._state import load
from ._steps import as_step, host_float

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
    one kernel. ``state`` is one tree with a stable identity: pass it to
    ``mx.compile(inputs=..., outputs=...)`` and save it with
    ``mx.save_safetensors(path, dict(tree_flatten(opt.state)))``; assigning a
    loaded tree to ``opt.state`` updates it in place and resumes at its step.

    Any numeric hyperparameter can be scheduled by name: ``learning_rate`` and
    the ones MLX keeps as attributes (``momentum``, ``weight_decay``,
    ``betas``, ``eps``, ...). A tuple hyperparameter takes a tuple of
    schedules and numbers (``betas=(cycle, 0.999)``). During an update a
    scheduled attribute is an ``mx.array`` that behaves as the Python float
    it replaces: it takes the dtype of the array it meets (``0.9 * m`` stays
    bfloat16 for a bfloat16 ``m``), so a scheduled hyperparameter never
    changes a parameter's or a state's dtype; and its Python comparisons
    (``momentum <= 0``, ``weight_decay != 0``, as MLX's optimizers write) are
    answered from the range of values its schedule takes, sampled at
    construction, so they never force an evaluation inside ``mx.compile``.
    A comparison the range cannot answer raises ``ValueError``; a comparison
    with 0 that only the range's end at 0 would flip takes the general branch
    (for instance SGD's momentum path for a momentum decaying to 0, which is
    the same arithmetic). Converting a scheduled attribute to a Python number
    raises ``TypeError``: it would freeze the value in a compiled graph. Each
    parameter and each of its state arrays keeps its dtype through an update.

    ``groups`` overrides hyperparameters per parameter: a mapping from a glob
    pattern over the parameter's path (as ``mlx.utils.tree_flatten`` names
    it: ``"layers.0.attention.query_proj.bias"``) to ``{name: number or
    schedule}``. The first matching pattern wins; a pattern that matches no
    parameter is an error on the first ``init`` or update. The usual split,
    no weight decay on biases and norms::

        groups={"*.bias": {"weight_decay": 0.0}, "*norm*": {"weight_decay": 0.0}}

    Schedules written in units of the run (``frac``, ``epochs``, ``tokens``,
    ``REST``: ``docs/units.md``) are bound at construction to ``total_steps``,
    ``steps_per_epoch`` and ``tokens_per_step``; with ``total_steps`` the
    learning rate's :func:`mlxlr.lint` findings are warned once
    (:class:`mlxlr.LintWarning`). Every step counts optimizer updates.

    Call ``opt.init(model.trainable_parameters())`` before compiling a
    training step: the optimizer state then has its final shape and the
    step is traced once (without it, twice: the state grows on the first call).

    Args:
        optimizer: The optimizer to drive, constructed with plain numbers for
            the hyperparameters given here.
        groups: Glob pattern over parameter paths to hyperparameter overrides.
        total_steps: Optimizer updates in the run, for ``frac`` and ``REST``.
        steps_per_epoch: Optimizer updates per epoch, for ``epochs``.
        tokens_per_step: Tokens per optimizer update, for ``tokens``.
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

    def __init__(
        self,
        optimizer: optim.Optimizer,
        /,
        *,
        groups: Mapping[str, Mapping[str, HyperSpec]] | None = None,
        total_steps: int | None = None,
        steps_per_epoch: int | None = None,
        tokens_per_step: float | None = None,
        **schedules: HyperSpec,
    ) -> None:
        super().__init__()  # type: ignore[no-untyped-call]
        if not isinstance(optimizer, optim.Optimizer):
            raise TypeError(f"optimizer must be an mlx.optimizers.Optimizer, got {optimizer!r}")
        if not schedules and not groups:
            raise ValueError("give at least one hyperparameter to schedule (or groups), got none")
        run = (total_steps, steps_per_epoch, tokens_per_step)
        schedules = prepare(schedules, *run)  # schedules written in units of the run, bound; the lint warned
        if isinstance(groups, Mapping):
            groups = {p: prepare(o, *run) if isinstance(o, Mapping) else o for p, o in groups.items()}
        self._inner = optimizer
        self._targets = list(leaf_optimizers(optimizer))
        available = schedulable(self._targets)
        self._specs: dict[str, Spec] = {}
        for name, spec in schedules.items():
            checked = check_spec(name, spec, available, self._targets)
            self._specs[name] = Constant(checked) if isinstance(checked, float) else checked
        self._groups = [
            (pattern, {n: Constant(v) if n == "learning_rate" and isinstance(v, float) else v for n, v in o.items()})
            for pattern, o in check_groups(groups, available, self._targets)
        ]  # a learning rate is an array in the state (MLX casts it): numbers as Constants, as above
        self._distinct = list(dict.fromkeys(_schedules_of([*self._specs.values(), *self._group_specs()])))
        self._plateaus = list(
            dict.fromkeys(p for s in self._distinct for p in walk(s) if isinstance(p, ReduceOnPlateau))
        )
        self._parts = {name: _parts(name, spec) for name, spec in self._specs.items() if name != "learning_rate"}
        self._group_parts = [
            {name: _parts(name, spec) for name, spec in overrides.items() if name != "learning_rate"}
            for _, overrides in self._groups
        ]
        self._touched = sorted({*self._parts, *(n for parts in self._group_parts for n in parts)})
        self._originals = {name: [getattr(t, name, None) for t in self._targets] for name in self._touched}
        self._group_of: dict[str, int | None] = {}  # parameter path -> index of its group
        self._patterns_checked = not self._groups
        state: dict[str, Any] = {"step": mx.array(0, mx.uint64)}
        state.update(self._global_values(self._memo(state["step"], state["step"] + 1)))
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
    def groups(self) -> dict[str, dict[str, HyperSpec]]:
        """The per-parameter overrides, by pattern, in the order they are tried."""
        return {pattern: dict(overrides) for pattern, overrides in self._groups}

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

    def __repr__(self) -> str:
        parts = [_describe(self._inner, scheduled="learning_rate" in self._specs)]
        parts += [f"{name}={_spec_text(spec)}" for name, spec in self._specs.items()]
        if self._groups:
            groups = ", ".join(
                f"{pattern!r}: {{{', '.join(f'{n!r}: {_spec_text(s)}' for n, s in overrides.items())}}}"
                for pattern, overrides in self._groups
            )
            parts.append(f"groups={{{groups}}}")
        return f"ScheduledOptimizer({', '.join(parts)})"

    # Updates. -------------------------------------------------------------

    def observe(self, metric: mx.array | float, *, average: bool = True) -> None:
        """Feeds a metric to every :class:`~mlxlr.ReduceOnPlateau` in the schedules.

        Graph operations only: call it inside or outside a compiled step (the
        counters live in :attr:`state`). The new scale applies from the next update.

        Args:
            metric: The metric, a scalar array (a loss in mode ``"min"``) or a number.
            average: Average the metric over the distributed group when one of
                several processes is initialized, so every rank decides alike
                (see :meth:`mlxlr.ReduceOnPlateau.observe`).
        """
        if not self._plateaus:
            raise ValueError("observe needs a ReduceOnPlateau in the schedules, got none")
        for plateau in self._plateaus:
            plateau.observe(metric, average=average)

    @override
    def init(self, parameters: dict[str, Any]) -> None:
        """Initializes the wrapped optimizer's state for ``parameters`` (and checks the group patterns)."""
        self._check_patterns(parameters)
        self._inner.init(parameters)
        self._initialized = True

    @override
    def apply_gradients(self, gradients: dict[str, Any], parameters: dict[str, Any]) -> dict[str, Any]:
        """Sets every scheduled value for this step, then applies the wrapped optimizer leaf by leaf."""
        self._check_patterns(gradients)
        state = self.state
        step = state["step"]
        after = step + 1
        memo = self._memo(step, after)
        values = self._global_values(memo)
        state.update(values)
        state["step"] = after
        followers = [target for target in self._targets if _follows(target, step)]
        for target in self._targets:
            if "learning_rate" in values and "learning_rate" in target.state:
                target.state["learning_rate"] = values["learning_rate"]
            for name, parts in self._parts.items():
                if hasattr(target, name):
                    setattr(target, name, attribute(values[name], parts))
        leafwise = bool(self._touched) or bool(self._groups)
        if leafwise:
            paths = {id(leaf): path for path, leaf in _flat(gradients)}
            overrides = [self._group_values(g, memo) for g in range(len(self._groups))]
            for target in self._targets:
                setattr(target, "apply_single", self._leaf_update(target, paths, overrides))  # noqa: B010
        try:
            updated: dict[str, Any] = self._inner.apply_gradients(gradients, parameters)
        finally:
            for target in self._targets:
                vars(target).pop("apply_single", None)
            for name, originals in self._originals.items():
                for target, original in zip(self._targets, originals):
                    if original is not None:
                        setattr(target, name, original)
        for target in followers:
            target.state["step"] = after  # the same array as ours: its own increment is left unused
        return updated

    def _leaf_update(
        self, target: optim.Optimizer, paths: dict[int, str], overrides: list[dict[str, Any]]
    ) -> Callable[[mx.array, mx.array, dict[str, Any]], mx.array]:
        """``target.apply_single`` for one update: with each leaf's group overrides, and dtypes kept."""
        original = type(target).apply_single

        def apply_single(gradient: mx.array, parameter: mx.array, state: dict[str, Any]) -> mx.array:
            group = self._group_for(paths.get(id(gradient)))
            saved: dict[str, Any] = {}
            for name, value in (overrides[group] if group is not None else {}).items():
                if name == "learning_rate" and "learning_rate" in target.state:
                    saved[name] = target.state["learning_rate"]
                    target.state["learning_rate"] = value
                elif name != "learning_rate" and hasattr(target, name):
                    saved[name] = getattr(target, name)
                    setattr(target, name, value)
            dtypes = {key: value.dtype for key, value in state.items() if isinstance(value, mx.array)}
            try:
                updated: mx.array = original(target, gradient, parameter, state)
            finally:
                for name, value in saved.items():
                    if name == "learning_rate":
                        target.state["learning_rate"] = value
                    else:
                        setattr(target, name, value)
            for key, dtype in dtypes.items():  # a Python float keeps a dtype; a scheduled value must too
                if state[key].dtype != dtype:
                    state[key] = state[key].astype(dtype)
            return updated if updated.dtype == parameter.dtype else updated.astype(parameter.dtype)

        return apply_single

    # Groups. -------------------------------------------------------------

    def _group_specs(self) -> Iterator[Spec]:
        for _, overrides in self._groups:
            yield from overrides.values()

    def _group_for(self, path: str | None) -> int | None:
        """The index of the first group whose pattern matches ``path`` (``None``: no group)."""
        if path is None or not self._groups:
            return None
        if path not in self._group_of:
            matches = (g for g, (pattern, _) in enumerate(self._groups) if fnmatch.fnmatchcase(path, pattern))
            self._group_of[path] = next(matches, None)
        return self._group_of[path]

    def _check_patterns(self, tree: dict[str, Any]) -> None:
        """Raises ``ValueError`` for a group pattern that matches no parameter of ``tree`` (once)."""
        if self._patterns_checked:
            return
        paths = [path for path, _ in _flat(tree)]
        unmatched = [p for p, _ in self._groups if not any(fnmatch.fnmatchcase(path, p) for path in paths)]
        if unmatched:
            shown = ", ".join(paths[:8]) + (", ..." if len(paths) > 8 else "")
            raise ValueError(f"groups pattern {unmatched[0]!r} matches no parameter; the parameters are {shown}")
        self._patterns_checked = True

    def _group_values(self, group: int, memo: dict[Schedule, mx.array]) -> dict[str, Any]:
        """The overrides of ``group`` at this step, as the wrapped optimizer reads them."""
        out: dict[str, Any] = {}
        for name, spec in self._groups[group][1].items():
            value = _value(spec, memo)
            out[name] = value if name == "learning_rate" else attribute(value, self._group_parts[group][name])
        return out

    # Values. -------------------------------------------------------------

    def _global_values(self, memo: dict[Schedule, mx.array]) -> dict[str, Any]:
        """The values the state keeps: every scheduled name at this step."""
        return {name: _state_value(spec, memo) for name, spec in self._specs.items()}

    def _memo(self, step: mx.array, after: mx.array) -> dict[Schedule, mx.array]:
        """Every distinct schedule at ``step``; a schedule driving several names is evaluated once.

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
        memo: dict[Schedule, mx.array] = {}
        own = 0  # mlxlr schedules so far
        normalized: mx.array | None = None  # the step as user schedules receive it, formed once
        for s in self._distinct:
            if isinstance(s, Native):
                # the loaded step is checked to be <= MAX_STEP, so neither the offset nor the conversion wraps
                t = (after if own == 0 else step + (1 + own)).astype(mx.int64)
                memo[s] = s.formula(t, 1 + own)
                own += 1
            else:
                normalized = as_step(step) if normalized is None else normalized
                memo[s] = evaluate(s, normalized)
        return memo


def _flat(tree: dict[str, Any]) -> list[tuple[str, Any]]:
    """The leaves of a parameter tree with their paths, as ``mlx.utils.tree_flatten`` names them."""
    return cast("list[tuple[str, Any]]", tree_flatten(tree))


def _schedules_of(specs: list[Spec]) -> Iterator[Schedule]:
    for spec in specs:
        for part in spec if isinstance(spec, tuple) else (spec,):
            if isinstance(part, Schedule):
                yield part


def _parts(name: str, spec: Spec) -> tuple[Part, ...]:
    """How a hyperparameter's parts reach the optimizer: the range of each schedule, numbers as they are."""
    parts = spec if isinstance(spec, tuple) else (spec,)
    return tuple(
        Range.of(f"{name}[{i}]" if isinstance(spec, tuple) else name, p) if isinstance(p, Schedule) else p
        for i, p in enumerate(parts)
    )


def _value(spec: Spec, memo: dict[Schedule, mx.array]) -> Any:
    """A hyperparameter at this step: an array per schedule (a list for a tuple), numbers as they are."""
    if isinstance(spec, tuple):
        return [memo[p] if isinstance(p, Schedule) else p for p in spec]
    return memo[spec] if isinstance(spec, Schedule) else spec


def _state_value(spec: Spec, memo: dict[Schedule, mx.array]) -> Any:
    """A hyperparameter as the state keeps it: arrays only (a list of arrays for a tuple)."""
    value = _value(spec, memo)
    parts = value if isinstance(value, list) else [value]
    arrays = [p if isinstance(p, mx.array) else mx.array(p, mx.float32) for p in parts]
    return arrays if isinstance(value, list) else arrays[0]


def _spec_text(spec: HyperSpec) -> str:
    if isinstance(spec, tuple):
        return "(" + ", ".join(repr(p) for p in spec) + ("," if len(spec) == 1 else "") + ")"
    return repr(spec)


def _describe(optimizer: optim.Optimizer, scheduled: bool) -> str:
    """An optimizer as a call: its class and its numeric settings (the learning rate unless it is scheduled)."""
    if isinstance(optimizer, optim.MultiOptimizer):
        return f"MultiOptimizer([{', '.join(_describe(o, scheduled) for o in optimizer.optimizers)}])"
    settings: list[str] = []
    lr = optimizer.state.get("learning_rate")
    if not scheduled and isinstance(lr, mx.array) and lr.size == 1:
        settings.append(f"learning_rate={float32_text(host_float(lr))}")  # host: a repr, for humans
    for name, value in vars(optimizer).items():
        if not name.startswith("_") and (isinstance(value, (bool, int, float, tuple, list)) or value is None):
            settings.append(f"{name}={value!r}")
    return f"{type(optimizer).__name__}({', '.join(settings)})"


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
