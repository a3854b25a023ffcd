"""Parameter and data validation shared by every public entry point.

One error template for every parameter, in the spirit of scikit-learn's
``_param_validation``: "The 'n_levels' parameter of fit must be an int in
[2, 65536]. Got 1 instead."
"""

from __future__ import annotations

import numbers
import operator
from dataclasses import dataclass

import numpy as np

__all__ = [
    "VQError",
    "FitWarning",
    "ConflictError",
    "Interval",
    "Options",
    "check_param",
    "check_image",
    "check_range",
    "check_raster",
    "check_weights",
]


class VQError(ValueError):
    """Corrupt or unusable data (a damaged file, inconsistent packed bytes).

    A subclass of :class:`ValueError`, so ``except ValueError`` catches it too.
    """


class FitWarning(UserWarning):
    """The codebook has fewer levels than asked, or kmeans stopped early."""


class ConflictError(ValueError):
    """Parameters that do not go together, or one that another needs is missing.

    Messages quote parameter names (``'palette'``), so the command line can
    name its options instead (exit code 2, a usage error).
    """


@dataclass(frozen=True)
class Interval:
    """A closed interval of ints (``kind=int``) or reals (``kind=float``)."""

    kind: type
    low: float | None
    high: float | None

    def accepts(self, value) -> bool:
        if isinstance(value, bool | np.bool_):
            return False
        if self.kind is int:
            if not isinstance(value, numbers.Integral):
                return False
        elif not isinstance(value, numbers.Real) or not np.isfinite(value):
            return False
        return (self.low is None or value >= self.low) and (
            self.high is None or value <= self.high
        )

    def __str__(self) -> str:
        name = "an int" if self.kind is int else "a finite float"
        if self.low is None and self.high is None:
            return name
        if self.high is None:
            return f"{name} >= {self.low}"
        if self.low is None:
            return f"{name} <= {self.high}"
        return f"{name} in [{self.low}, {self.high}]"


@dataclass(frozen=True)
class Options:
    """A finite set of allowed values (strings, or other hashables)."""

    values: frozenset

    def __init__(self, values):
        object.__setattr__(self, "values", frozenset(values))

    def accepts(self, value) -> bool:
        try:
            return value in self.values
        except TypeError:  # unhashable
            return False

    def __str__(self) -> str:
        return "one of {" + ", ".join(repr(v) for v in sorted(self.values, key=str)) + "}"


def check_param(name: str, value, *constraints, caller: str):
    """Return ``value`` if any constraint accepts it (``None`` accepts None).

    Raises
    ------
    ValueError or TypeError
        With the one template: names the parameter, the caller, what is
        allowed and the value given.
    """
    for constraint in constraints:
        if constraint is None:
            if value is None:
                return value
        elif constraint.accepts(value):
            return value
    allowed = " or ".join("None" if c is None else str(c) for c in constraints)
    message = f"The {name!r} parameter of {caller} must be {allowed}. Got {value!r} instead."
    if any(isinstance(c, Interval) and not _is_kind(value, c.kind) for c in constraints) and not any(
        isinstance(c, Options) and c.accepts(value) for c in constraints
    ):
        raise TypeError(message)
    raise ValueError(message)


def _is_kind(value, kind) -> bool:
    if isinstance(value, bool | np.bool_):
        return False
    return isinstance(value, numbers.Integral if kind is int else numbers.Real)


def check_image(image, *, caller: str, name: str = "image") -> np.ndarray:
    """Validate an image-like array: numeric (int or float), non-empty, finite.

    Any shape is accepted. Booleans, complex numbers, strings and objects are
    refused with a :class:`TypeError`, empty or non-finite data with a
    :class:`ValueError`. The array is returned without copying.
    """
    try:
        array = np.asarray(image)
    except (ValueError, TypeError) as exc:  # ragged lists and the like
        raise TypeError(
            f"The {name!r} parameter of {caller} must be a numeric array. Got {exc}."
        ) from None
    if array.dtype.kind not in "uif":
        raise TypeError(
            f"The {name!r} parameter of {caller} must be an array of integers or floats. "
            f"Got dtype {array.dtype} instead"
            + (" (convert booleans with .astype(np.uint8))." if array.dtype.kind == "b" else ".")
        )
    if array.size == 0:
        raise ValueError(f"The {name!r} parameter of {caller} is empty (shape {array.shape}).")
    if array.dtype.kind == "f" and not np.isfinite(array).all():
        bad = int(np.count_nonzero(~np.isfinite(array)))
        raise ValueError(
            f"The {name!r} parameter of {caller} contains {bad} NaN or infinite value(s); "
            "only finite values can be quantized."
        )
    return array


def check_weights(weights, shape: tuple, *, caller: str) -> np.ndarray | None:
    """Validate sample weights: same shape as the image, finite, >= 0, not all zero."""
    if weights is None:
        return None
    w = check_image(weights, caller=caller, name="weights")
    if w.shape != tuple(shape):
        raise ValueError(
            f"The 'weights' parameter of {caller} must have the image's shape {tuple(shape)}. "
            f"Got shape {w.shape} instead."
        )
    w = w.astype(np.float64, copy=False)
    if (w < 0).any():
        raise ValueError(f"The 'weights' parameter of {caller} must be >= 0. Got a negative weight.")
    if not w.any():
        raise ValueError(f"The 'weights' parameter of {caller} is all zeros: nothing to fit.")
    return w


def check_range(data_range, *, caller: str) -> tuple[float, float]:
    """Validate a ``(low, high)`` pair of finite floats with ``low < high``."""
    try:
        if isinstance(data_range, str | bytes):
            raise TypeError
        low, high = (float(v) for v in data_range)
        if not (np.isfinite(low) and np.isfinite(high) and low < high):
            raise ValueError
    except (TypeError, ValueError):
        raise ValueError(
            f"The 'data_range' parameter of {caller} must be a pair (low, high) of finite "
            f"floats with low < high. Got {data_range!r} instead."
        ) from None
    return low, high


def check_raster(shape, *, caller: str) -> tuple[int, int]:
    """``shape`` as a pair ``(rows, cols)`` of non-negative ints, or a ValueError naming ``caller``."""
    try:
        rows, cols = (operator.index(s) for s in shape)
    except (TypeError, ValueError):
        raise ValueError(f"The 'shape' parameter of {caller} must be a pair of ints. Got {shape!r}.") from None
    if rows < 0 or cols < 0:
        raise ValueError(f"The 'shape' parameter of {caller} must be non-negative. Got {shape!r}.")
    return rows, cols
