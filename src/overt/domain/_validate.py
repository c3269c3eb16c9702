"""Small validation helpers shared by the domain types (raise ``InputError``, never ``assert``)."""

from __future__ import annotations

import math

import numpy as np
import numpy.typing as npt

from overt.errors import InputError


def as_float32(name: str, value: npt.ArrayLike, shape: tuple[int | None, ...]) -> npt.NDArray[np.float32]:
    """Return ``value`` as a read-only float32 array of the given shape (None = any length)."""
    arr = np.array(value, dtype=np.float32, copy=True)
    if arr.ndim != len(shape) or any(
        want is not None and got != want for got, want in zip(arr.shape, shape, strict=True)
    ):
        raise InputError(f"{name} must have shape {shape}, got {arr.shape}")
    if not np.all(np.isfinite(arr)):
        raise InputError(f"{name} must be finite")
    arr.setflags(write=False)
    return arr


def finite(name: str, value: float) -> float:
    v = float(value)
    if not math.isfinite(v):
        raise InputError(f"{name} must be finite, got {value!r}")
    return v


def non_negative(name: str, value: float) -> float:
    v = finite(name, value)
    if v < 0:
        raise InputError(f"{name} must be >= 0, got {value!r}")
    return v
