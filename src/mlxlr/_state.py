"""The layout of ``ScheduledOptimizer.state``: checking a loaded tree and writing it in place.

A compiled step holds on to the arrays of the state it captured, so a loaded
checkpoint is written into the existing tree (dicts and lists updated in
place, leaves cast to their current dtype), after its whole layout has been
checked, so that a bad file changes nothing.
"""

from __future__ import annotations

from typing import Any

import mlx.core as mx

from ._steps import MAX_STEP

RESERVED = ("step", "optimizer", "plateaus")
"""The keys of the state tree that are not scheduled names."""


def load(current: dict[str, Any], state: object, scheduled: list[str], plateaus: int, *, strict: bool) -> None:
    """Writes a loaded ``state`` into the wrapper's ``current`` tree, after checking all of it.

    Args:
        current: ``ScheduledOptimizer.state``, written in place.
        state: The loaded tree (``tree_unflatten`` of a checkpoint).
        scheduled: The names the wrapper schedules.
        plateaus: How many ``ReduceOnPlateau`` states the wrapper holds.
        strict: Whether the wrapped optimizer already has its per-parameter
            state (then the loaded tree must have exactly its layout).
    """
    if not isinstance(state, dict) or "step" not in state or "optimizer" not in state:
        flat = isinstance(state, dict) and any(isinstance(k, str) and "." in k for k in state)
        hint = "; unflatten a loaded file first: tree_unflatten(list(mx.load(path).items()))" if flat else ""
        raise ValueError(
            f"state must be a tree with 'step' and 'optimizer', as opt.state is; got keys {keys(state)}{hint}"
        )
    saved = sorted(set(state) - set(RESERVED))
    if saved != scheduled:
        raise ValueError(
            f"state was saved by a ScheduledOptimizer that schedules {saved}, but this one schedules {scheduled}"
        )
    if len(state.get("plateaus", [])) != plateaus:
        raise ValueError(
            f"state holds {len(state.get('plateaus', []))} ReduceOnPlateau states, "
            f"but this optimizer's schedules hold {plateaus}"
        )
    for key, value in state.items():
        check_layout(current[key], value, key, strict)
    loaded = state["step"]
    count = loaded.item() if isinstance(loaded, mx.array) else loaded  # host: a checkpoint, read once
    if not isinstance(count, int) or not 0 <= count <= MAX_STEP:
        raise ValueError(f"state['step'] must be an integer in [0, 2**60], got {count!r}")
    for key, value in state.items():
        current[key] = merge(current[key], value, key)


def keys(tree: object) -> list[str]:
    return sorted(tree) if isinstance(tree, dict) else [type(tree).__name__]


def check_layout(current: Any, new: Any, path: str, strict: bool) -> None:
    """Raises ``ValueError`` unless ``new`` has the layout of ``current``, before :func:`merge` changes anything.

    Every key of ``current`` must be in ``new``; with ``strict`` (the wrapped
    optimizer already initialized) ``new`` may hold no others.
    """
    if isinstance(current, dict):
        if not isinstance(new, dict):
            raise ValueError(f"state entry {path} is a dict here, got {_kind(new)}")
        if not set(current) <= set(new) or (strict and set(new) != set(current)):
            raise ValueError(
                f"state entry {path} holds keys {sorted(current)} here, got {sorted(new)}: "
                "a state saved by another optimizer or for another model"
            )
        for key in current:
            check_layout(current[key], new[key], f"{path}.{key}", strict)
    elif isinstance(current, list):
        if not isinstance(new, (list, tuple)) or len(new) != len(current):
            raise ValueError(f"state entry {path} holds a list of {len(current)} here, got {_kind(new)}")
        for i, (here, there) in enumerate(zip(current, new)):
            check_layout(here, there, f"{path}.{i}", strict)
    elif isinstance(current, mx.array):
        shape = new.shape if isinstance(new, mx.array) else None if isinstance(new, (dict, list, tuple)) else ()
        if shape != current.shape:
            raise ValueError(f"state entry {path} is an array of shape {current.shape} here, got {_kind(new)}")
        inexact = not mx.issubdtype(new.dtype, mx.integer) if isinstance(new, mx.array) else isinstance(new, float)
        if inexact and mx.issubdtype(current.dtype, mx.integer):
            raise ValueError(f"state entry {path} holds integers ({current.dtype}) here, got {new!r}")


def _kind(value: object) -> str:
    if isinstance(value, mx.array):
        return f"an array of shape {value.shape}"
    if isinstance(value, dict):
        return f"a dict with keys {sorted(value)}"
    if isinstance(value, (list, tuple)):
        return f"a {type(value).__name__} of {len(value)}"
    return f"{value!r} ({type(value).__name__})"


def merge(current: Any, new: Any, path: str) -> Any:
    """Writes ``new`` into ``current`` in place (dicts and lists), casting leaves to the current dtype."""
    if isinstance(current, dict) and isinstance(new, dict):
        for key, value in new.items():
            current[key] = merge(current[key], value, f"{path}.{key}") if key in current else value
        return current
    if isinstance(current, list) and isinstance(new, (list, tuple)):
        if len(current) != len(new):
            raise ValueError(f"state entry {path} holds {len(current)} items here, got {len(new)}")
        for i, value in enumerate(new):
            current[i] = merge(current[i], value, f"{path}.{i}")
        return current
    if isinstance(current, mx.array):
        if not isinstance(new, mx.array):
            new = mx.array(new)
        if new.shape != current.shape:
            raise ValueError(f"state entry {path} has shape {current.shape} here, got {new.shape}")
        return new.astype(current.dtype)
    return new
