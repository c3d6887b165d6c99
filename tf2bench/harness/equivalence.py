"""Equivalence guard: variants that are compared must compute the same thing."""

from __future__ import annotations

from typing import Any

import numpy as np

from tf2bench.errors import EquivalenceError

__all__ = ["assert_same_outputs", "flatten_outputs", "max_abs_diff"]


def flatten_outputs(output: Any) -> list[np.ndarray]:
    """Nested tuples/lists/dicts of tensors or arrays -> a flat list of NumPy arrays."""
    if isinstance(output, dict):
        return [array for key in sorted(output) for array in flatten_outputs(output[key])]
    if isinstance(output, (list, tuple)):
        return [array for item in output for array in flatten_outputs(item)]
    return [np.asarray(output)]


def max_abs_diff(actual: Any, expected: Any) -> float:
    """The largest absolute elementwise difference between two outputs of the same structure."""
    pairs = list(zip(flatten_outputs(actual), flatten_outputs(expected), strict=True))
    return max(
        (float(np.max(np.abs(a.astype(np.float64) - e.astype(np.float64)))) if a.size else 0.0)
        for a, e in pairs
    )


def assert_same_outputs(
    actual: Any, expected: Any, *, rtol: float, atol: float, what: str = "output"
) -> None:
    """Raises EquivalenceError unless every array agrees within rtol/atol (numpy.allclose rules)."""
    actual_arrays, expected_arrays = flatten_outputs(actual), flatten_outputs(expected)
    if len(actual_arrays) != len(expected_arrays):
        raise EquivalenceError(
            f"{what}: expected {len(expected_arrays)} arrays, received {len(actual_arrays)}"
        )
    for index, (a, e) in enumerate(zip(actual_arrays, expected_arrays, strict=False)):
        if a.shape != e.shape:
            raise EquivalenceError(f"{what}[{index}]: expected shape {e.shape}, received {a.shape}")
        if not np.allclose(a, e, rtol=rtol, atol=atol):
            diff = float(np.max(np.abs(a.astype(np.float64) - e.astype(np.float64))))
            raise EquivalenceError(
                f"{what}[{index}] differs from the reference beyond rtol={rtol}, atol={atol}: "
                f"max abs diff {diff:.3g}"
            )
