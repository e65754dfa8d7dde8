"""``ReduceOnPlateau``: a scale driven by a metric, kept in arrays."""

from __future__ import annotations

import math
from typing import final

import mlx.core as mx
from typing_extensions import override

from ._native import Native
from ._validate import check_choice, check_int, check_real


def _group() -> mx.distributed.Group | None:
    """The distributed group of several processes, if one is initialized (``None`` for one process)."""
    if not mx.distributed.is_available():
        return None
    group = mx.distributed.init()
    return group if group.size() > 1 else None


@final
class ReduceOnPlateau(Native):
    r"""A scale that drops by ``factor`` when a metric stops improving.

    Its value is a scale (1 at the start): multiply a schedule by it,
    ``lr = cosine * plateau``. It is driven by a metric, not by the step:
    feed it with ``opt.observe(metric)`` on the :class:`~mlxlr.ScheduledOptimizer`
    that holds it (or with :meth:`observe` directly). Its counters (best metric,
    bad epochs, cooldown, current scale) are arrays inside ``opt.state``, so
    they are updated without a host sync, inside or outside a compiled step,
    and a checkpoint saves them.

    The decisions equal PyTorch's ``ReduceLROnPlateau``: a metric is an
    improvement when it is below ``best * (1 - threshold)`` (mode ``"min"``)
    or above ``best * (1 + threshold)`` (mode ``"max"``) with
    ``threshold_mode="rel"``, below ``best - threshold`` or above
    ``best + threshold`` with ``threshold_mode="abs"``; after more than
    ``patience`` observations without one the scale becomes
    ``max(scale * factor, min_scale)``, the bad count restarts and
    ``cooldown`` observations follow in which bad ones are not counted.
    PyTorch's ``min_lr`` is ``min_scale`` times the base learning rate; its
    ``eps`` (skip reductions smaller than 1e-8) is not applied. The best
    metric is kept in float32.

    Args:
        factor: The factor of a reduction, in ``(0, 1)``.
        patience: Observations without improvement tolerated before a reduction.
        threshold: The improvement that counts, ``>= 0``: a fraction of the best
            metric (``threshold_mode="rel"``) or an amount (``"abs"``).
        mode: ``"min"`` (a loss) or ``"max"`` (an accuracy).
        cooldown: Observations after a reduction during which bad ones are not counted.
        min_scale: The lowest scale, in ``[0, 1]``.
        threshold_mode: ``"rel"`` or ``"abs"``, as PyTorch's.

    Example:
        >>> import mlxlr
        >>> plateau = mlxlr.ReduceOnPlateau(factor=0.5, patience=1)
        >>> for loss in [1.0, 0.9, 0.95, 0.95, 0.95, 0.95]:
        ...     plateau.observe(loss)
        >>> print(f"{plateau.at(0):.2f}")
        0.25
    """

    _step_only = False  # its scale lives in arrays of opt.state, traced inputs inside a compiled step

    def __init__(
        self,
        factor: float = 0.1,
        patience: int = 10,
        threshold: float = 1e-4,
        mode: str = "min",
        cooldown: int = 0,
        min_scale: float = 0.0,
        threshold_mode: str = "rel",
    ) -> None:
        self.factor = check_real("factor", factor)
        if not 0.0 < self.factor < 1.0:
            raise ValueError(f"factor must be in (0, 1), got {factor!r}")
        self.patience = check_int("patience", patience, minimum=0, maximum=2**30)  # counted in int32
        self.threshold = check_real("threshold", threshold)
        if self.threshold < 0.0:
            raise ValueError(f"threshold must be >= 0, got {threshold!r}")
        self.mode = check_choice("mode", mode, ("min", "max"))
        # stored as cooldown_length: `cooldown` is the method Schedule.cooldown; counted in int32
        self.cooldown_length = check_int("cooldown", cooldown, minimum=0, maximum=2**30)
        self.min_scale = check_real("min_scale", min_scale)
        if not 0.0 <= self.min_scale <= 1.0:
            raise ValueError(f"min_scale must be in [0, 1], got {min_scale!r}")
        self.threshold_mode = check_choice("threshold_mode", threshold_mode, ("rel", "abs"))
        self.state: dict[str, mx.array] = {
            "best": mx.array(math.inf if mode == "min" else -math.inf, dtype=mx.float32),
            "bad": mx.array(0, dtype=mx.int32),
            "cooldown": mx.array(0, dtype=mx.int32),
            "scale": mx.array(1.0, dtype=mx.float32),
        }

    @override
    def formula(self, t: mx.array, start: int = 0) -> mx.array:
        return mx.broadcast_to(self.state["scale"], t.shape)

    def observe(self, metric: mx.array | float, *, average: bool = True) -> None:
        """Takes one observation of the metric; graph operations only (no host sync).

        Args:
            metric: The metric, a scalar array or a number.
            average: When a distributed group of several processes is
                initialized (``mx.distributed.init()``), average the metric over
                it first, so that every rank takes the same decision from its
                local metric. ``False`` keeps each rank's own metric.
        """
        value = mx.array(metric, dtype=mx.float32) if not isinstance(metric, mx.array) else metric
        value = value.astype(mx.float32).reshape(())
        if average:
            group = _group()
            if group is not None:
                value = mx.distributed.all_sum(value, group=group) / group.size()
        s = self.state
        if self.threshold_mode == "rel":
            if self.mode == "min":
                better = value < s["best"] * (1.0 - self.threshold)
            else:
                better = value > s["best"] * (1.0 + self.threshold)
        elif self.mode == "min":
            better = value < s["best"] - self.threshold
        else:
            better = value > s["best"] + self.threshold
        best = mx.where(better, value, s["best"])
        bad = mx.where(better, 0, s["bad"] + 1)
        cooling = s["cooldown"] > 0
        cooldown = mx.where(cooling, s["cooldown"] - 1, s["cooldown"])
        bad = mx.where(cooling, 0, bad)
        reduce = bad > self.patience
        s["scale"] = mx.where(reduce, mx.maximum(s["scale"] * self.factor, self.min_scale), s["scale"])
        s["cooldown"] = mx.where(reduce, self.cooldown_length, cooldown).astype(mx.int32)
        s["bad"] = mx.where(reduce, 0, bad).astype(mx.int32)
        s["best"] = best

    # A plateau holds state: two of them are the same only if they are one object.
    @override
    def __eq__(self, other: object) -> bool:
        return self is other

    @override
    def __hash__(self) -> int:
        return id(self)


__all__ = ["ReduceOnPlateau"]
