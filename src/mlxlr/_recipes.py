"""Recipes: Hugging Face's warmup schedules, built from the families and combinators.

Each function takes the peak value (the optimizer's learning rate in
Hugging Face) and step counts where ``total_steps`` counts the warmup, and
returns an ordinary schedule whose ``repr`` shows how it is built.
Hugging Face's lambdas are defined for every step; after ``total_steps``
these hold their final value (noted where Hugging Face's formula goes on).
"""

from __future__ import annotations

from fractions import Fraction

from ._decays import CosineDecay, Linear, PolynomialDecay
from ._native import Constant
from ._schedule import Schedule
from ._validate import MAX_COUNT, check_int, check_positive, check_real


def _span(warmup_steps: int, total_steps: int) -> tuple[int, int]:
    """The warmup's length and the steps after it, validated."""
    warmup = check_int("warmup_steps", warmup_steps, minimum=0)
    total = check_int("total_steps", total_steps)
    if total <= warmup:
        raise ValueError(f"total_steps must exceed warmup_steps, got total_steps={total!r}, warmup_steps={warmup!r}")
    return warmup, total - warmup


def _warm(schedule: Schedule, warmup: int) -> Schedule:
    return schedule.with_warmup(warmup) if warmup else schedule


def warmup_linear(peak: float, warmup_steps: int, total_steps: int, end: float = 0.0) -> Schedule:
    """A linear warmup from 0 to ``peak``, then a line down to ``end`` at ``total_steps``.

    Equals Hugging Face's ``get_linear_schedule_with_warmup(num_warmup_steps,
    num_training_steps=total_steps)`` (``end=0``).

    Args:
        peak: The value at the end of the warmup.
        warmup_steps: The warmup's length (0: none).
        total_steps: The step at which ``end`` is reached, warmup included.
        end: The final value.

    Example:
        >>> import mlxlr
        >>> s = mlxlr.warmup_linear(1.0, warmup_steps=10, total_steps=110)
        >>> s
        Linear(init=1.0, end=0.0, steps=100).with_warmup(10)
        >>> print(f"{s.at(5):.2f} {s.at(10):.2f} {s.at(60):.2f} {s.at(200):.2f}")
        0.50 1.00 0.50 0.00
    """
    warmup, decay = _span(warmup_steps, total_steps)
    return _warm(Linear(check_real("peak", peak), check_real("end", end), decay), warmup)


def warmup_cosine(peak: float, warmup_steps: int, total_steps: int, end: float = 0.0, cycles: float = 0.5) -> Schedule:
    r"""A linear warmup from 0 to ``peak``, then ``cycles`` cosine waves between ``peak`` and ``end``.

    .. math::
        v = \text{end} + (\text{peak} - \text{end}) \tfrac12 (1 + \cos(2 \pi \cdot \text{cycles} \cdot p))

    over the steps after the warmup (``p`` from 0 to 1), for any positive
    ``cycles``. Equals Hugging Face's ``get_cosine_schedule_with_warmup(
    num_warmup_steps, num_training_steps=total_steps, num_cycles=cycles)``
    (``end=0``) and ``get_cosine_with_min_lr_schedule_with_warmup(...,
    min_lr=end)``, except after ``total_steps``: Hugging Face's formula keeps
    oscillating, this holds its value at ``total_steps`` (``p = 1``).

    How it is built: the default half wave is a :class:`~mlxlr.CosineDecay`.
    Other ``cycles`` are a wave (a decay to ``end`` and a rise back, each
    ``b * T`` steps long, for ``T`` steps after the warmup) repeated and
    stretched by ``1 / a``, where ``a / b`` is ``2 * cycles`` as the simplest
    fraction of the same float (``0.75`` gives 3/2): the phase
    ``cycles * t / T mod 1`` is then formed in integers, exact at every step,
    and the waves' troughs and crests are reached exactly. A multiple of 0.5
    has ``b = 1``. Where ``a * T`` or ``2 * b * T`` would pass 2**60, the
    nearest fraction within it is used, which moves the phase by at most
    ``T / 2**60`` (not visible in float32).

    Args:
        peak: The value at the end of the warmup.
        warmup_steps: The warmup's length (0: none).
        total_steps: The step at which the waves end, warmup included.
        end: The lowest value of the waves.
        cycles: The number of waves, > 0 (Hugging Face's ``num_cycles``; 0.5 is a decay).

    Example:
        >>> import mlxlr
        >>> s = mlxlr.warmup_cosine(1.0, warmup_steps=10, total_steps=110)
        >>> s
        CosineDecay(init=1.0, decay_steps=100).with_warmup(10)
        >>> print(f"{s.at(5):.2f} {s.at(10):.2f} {s.at(60):.2f} {s.at(110):.2f}")
        0.50 1.00 0.50 0.00
        >>> waves = mlxlr.warmup_cosine(1.0, warmup_steps=0, total_steps=100, cycles=0.75)
        >>> print(f"{waves.at(50):.3f} {waves.at(67):.3e} {waves.at(100):.2f} {waves.at(10**9):.2f}")
        0.146 6.168e-05 0.50 0.50
    """
    warmup, decay = _span(warmup_steps, total_steps)
    top, bottom = check_real("peak", peak), check_real("end", end)
    halves = 2.0 * check_positive("cycles", cycles)
    if halves == 1.0:
        return _warm(CosineDecay(top, decay, bottom), warmup)
    a, b = _half_waves(halves, decay, cycles)
    down, up = CosineDecay(top, b * decay, bottom), CosineDecay(bottom, b * decay, top)
    waves = (down >> up).repeat()
    return _warm((waves.stretch(1.0 / a) if a > 1 else waves).for_steps(decay), warmup)


def _half_waves(halves: float, steps: int, cycles: float) -> tuple[int, int]:
    """``halves`` (2 * cycles) as a fraction ``a / b``: the simplest of the same float, within the step range.

    The wave runs ``a * t`` steps of a wave ``2 * b * steps`` long: both must
    stay within 2**60, and ``a`` within 2**30 (a stretch's range). The
    fractions tried are the best of each denominator bound (continued
    fractions), coarse to fine, until one gives the float back.
    """
    exact = Fraction(halves)
    best: Fraction | None = None
    for bits in range(63):
        candidate = exact.limit_denominator(2**bits)
        a, b = candidate.numerator, candidate.denominator
        if a > 2**30 or a * steps > MAX_COUNT or 2 * b * steps > MAX_COUNT:
            break
        if a > 0:
            best = candidate
            if float(candidate) == halves:
                break
    if best is None:
        raise ValueError(
            f"cycles={cycles!r} over {steps} steps after the warmup is out of range: "
            "2 * cycles must be at most 2**30 and 2 * cycles * steps at most 2**60"
        )
    return best.numerator, best.denominator


def warmup_constant(peak: float, warmup_steps: int) -> Schedule:
    """A linear warmup from 0 to ``peak``, then ``peak`` for good.

    Equals Hugging Face's ``get_constant_schedule_with_warmup(num_warmup_steps)``.

    Args:
        peak: The value from the end of the warmup on.
        warmup_steps: The warmup's length (0: a constant).

    Example:
        >>> import mlxlr
        >>> s = mlxlr.warmup_constant(1.0, warmup_steps=4)
        >>> s
        Constant(value=1.0).with_warmup(4)
        >>> s.values(6).tolist()
        [0.0, 0.25, 0.5, 0.75, 1.0, 1.0]
    """
    warmup = check_int("warmup_steps", warmup_steps, minimum=0)
    return _warm(Constant(check_real("peak", peak)), warmup)


def warmup_polynomial(
    peak: float, warmup_steps: int, total_steps: int, end: float = 1e-7, power: float = 1.0
) -> Schedule:
    """A linear warmup from 0 to ``peak``, then a polynomial decay to ``end`` at ``total_steps``.

    Equals Hugging Face's ``get_polynomial_decay_schedule_with_warmup(
    num_warmup_steps, num_training_steps=total_steps, lr_end=end, power)``:
    a :class:`~mlxlr.PolynomialDecay` after the warmup. As there, ``end``
    must be below ``peak``.

    Args:
        peak: The value at the end of the warmup.
        warmup_steps: The warmup's length (0: none).
        total_steps: The step at which ``end`` is reached, warmup included.
        end: The final value, below ``peak``.
        power: The exponent of the decay, > 0.

    Example:
        >>> import mlxlr
        >>> s = mlxlr.warmup_polynomial(1.0, warmup_steps=10, total_steps=110, end=0.0, power=2.0)
        >>> s
        PolynomialDecay(init=1.0, decay_steps=100, power=2.0).with_warmup(10)
        >>> print(f"{s.at(5):.2f} {s.at(60):.2f} {s.at(110):.2f}")
        0.50 0.25 0.00
    """
    warmup, decay = _span(warmup_steps, total_steps)
    top, bottom = check_real("peak", peak), check_real("end", end)
    if not bottom < top:
        raise ValueError(f"end must be below peak, got peak={peak!r}, end={end!r}")
    return _warm(PolynomialDecay(top, decay, bottom, power), warmup)


def warmup_cosine_restarts(peak: float, warmup_steps: int, total_steps: int, cycles: int = 1) -> Schedule:
    r"""A linear warmup from 0 to ``peak``, then ``cycles`` cosine decays to 0 with hard restarts.

    .. math::
        v = \text{peak} \cdot \tfrac12 \left(1 + \cos(\pi \{\text{cycles} \cdot p\})\right)

    over the steps after the warmup (``p`` from 0 to 1, ``{x}`` the fractional
    part), and 0 from ``total_steps`` on. Equals Hugging Face's
    ``get_cosine_with_hard_restarts_schedule_with_warmup(num_warmup_steps,
    num_training_steps=total_steps, num_cycles=cycles)``, except at a few
    restarts: HF forms ``(cycles * p) % 1`` in float64, which can land just
    below 1 at a restart (43 cycles over 217191925 steps: at step 116172425
    HF gives 0, not ``peak``). The periods need not be whole steps: the decay
    is repeated ``cycles`` times and stretched by ``1 / cycles``, exactly, so
    ``{cycles * p}`` is formed in integers and every restart is ``peak``.

    Args:
        peak: The value at the end of the warmup and at each restart.
        warmup_steps: The warmup's length (0: none).
        total_steps: The step at which the last decay ends, warmup included.
        cycles: The number of decays, a positive int.

    Example:
        >>> import mlxlr
        >>> s = mlxlr.warmup_cosine_restarts(1.0, warmup_steps=10, total_steps=110, cycles=2)
        >>> s
        CosineDecay(init=1.0, decay_steps=100).repeat(2).stretch(0.5).with_warmup(10)
        >>> print(f"{s.at(35):.2f} {s.at(60):.2f} {s.at(85):.2f} {s.at(110):.2f}")
        0.50 1.00 0.50 0.00
    """
    warmup, decay = _span(warmup_steps, total_steps)
    count = check_int("cycles", cycles)
    down = CosineDecay(check_real("peak", peak), decay)
    if count == 1:
        return _warm(down, warmup)
    return _warm(down.repeat(count).stretch(1.0 / count), warmup)


__all__ = ["warmup_constant", "warmup_cosine", "warmup_cosine_restarts", "warmup_linear", "warmup_polynomial"]
