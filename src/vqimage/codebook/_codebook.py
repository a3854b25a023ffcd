"""The Codebook: the one object every stage shares."""

from __future__ import annotations

import json

import numpy as np

from .._validation import VQError

__all__ = ["Codebook", "code_dtype"]

#: In the order tables and figures show them: simplest first.
STRATEGIES = ("uniform", "quantile", "kmeans", "optimal")
RECONSTRUCTIONS = ("centroid", "midpoint", "median")
_CONFIG_VERSION = 1


def code_dtype(n_levels: int) -> np.dtype:
    """Smallest unsigned dtype that holds codes ``0 .. n_levels - 1``."""
    return np.dtype(np.uint8) if n_levels <= 256 else np.dtype(np.uint16)


class Codebook:
    """A scalar codebook: decision edges and one reconstruction level per code.

    A value ``x`` gets code ``i`` when ``edges[i] <= x < edges[i + 1]``
    (values below ``edges[1]`` get 0 and values from ``edges[-2]`` up get
    ``n_levels - 1``; the outer edges are the fitted data's range, as in
    scikit-learn's ``KBinsDiscretizer.bin_edges_``). Code ``i`` decodes to
    ``levels[i]``.

    Make one with :func:`vqimage.fit`; rebuild one from :meth:`to_config`.

    Parameters
    ----------
    levels : array_like of float, shape (k,)
        Reconstruction value of each code.
    edges : array_like of float, shape (k + 1,)
        Non-decreasing bin edges.
    strategy : str
        How the edges were chosen ('uniform', 'quantile', 'kmeans', 'optimal',
        or 'edges' for user-given edges).
    reconstruction : str
        How the levels were chosen from the data in each bin ('centroid',
        'midpoint' or 'median').
    dtype : numpy dtype
        The dtype of the data the codebook was fitted on; :meth:`decode`
        returns it by default.

    Examples
    --------
    >>> import numpy as np, vqimage
    >>> image = np.array([[0, 10, 20], [200, 210, 220]], dtype=np.uint8)
    >>> cb = vqimage.fit(image, 2)
    >>> cb.levels, cb.edges
    (array([ 10., 210.]), array([  0., 110., 220.]))
    >>> cb.encode(image)
    array([[0, 0, 0],
           [1, 1, 1]], dtype=uint8)
    >>> cb.decode(cb.encode(image))
    array([[ 10,  10,  10],
           [210, 210, 210]], dtype=uint8)
    """

    def __init__(self, levels, edges, *, strategy: str, reconstruction: str, dtype):
        levels = np.array(levels, dtype=np.float64).reshape(-1)
        edges = np.array(edges, dtype=np.float64).reshape(-1)
        if not 1 <= levels.size <= 65536:
            raise ValueError(f"A codebook has 1 to 65536 levels. Got {levels.size}.")
        if edges.size != levels.size + 1:
            raise ValueError(
                f"A codebook with {levels.size} levels needs {levels.size + 1} edges. Got {edges.size}."
            )
        if not (np.isfinite(levels).all() and np.isfinite(edges).all()):
            raise ValueError("Codebook levels and edges must be finite.")
        if (edges[1:] < edges[:-1]).any():
            raise ValueError("Codebook edges must be non-decreasing.")
        levels.flags.writeable = False
        edges.flags.writeable = False
        self.levels = levels
        self.edges = edges
        self.strategy = str(strategy)
        self.reconstruction = str(reconstruction)
        self.dtype = np.dtype(dtype)
        self._derived: dict = {}

    @property
    def n_levels(self) -> int:
        """Number of codes."""
        return int(self.levels.size)

    @property
    def code_dtype(self) -> np.dtype:
        """dtype of the codes: uint8 up to 256 levels, uint16 above."""
        return code_dtype(self.n_levels)

    @property
    def bits(self) -> int:
        """Bits per code when packed: ``ceil(log2(n_levels))``."""
        return int(self.n_levels - 1).bit_length()

    @property
    def thresholds(self) -> np.ndarray:
        """The interior edges: code ``i`` starts at ``thresholds[i - 1]``."""
        return self.edges[1:-1]

    def encode(self, image) -> np.ndarray:
        """Codes of an image: smallest unsigned dtype, same shape.

        See :func:`vqimage.mapping.encode`.
        """
        from ..mapping import encode

        return encode(image, self)

    def decode(self, codes, *, dtype=None) -> np.ndarray:
        """Reconstruction from codes, in ``dtype`` (default: the fitted dtype).

        See :func:`vqimage.mapping.decode`.
        """
        from ..mapping import decode

        return decode(codes, self, dtype=dtype)

    def derived(self, key, build):
        """``build(self)``, computed once per ``key`` and kept: the codebook never changes.

        The map stage keeps its look-up tables here (one per image dtype).
        """
        table = self._derived.get(key)
        if table is None:
            table = self._derived[key] = build(self)
        return table

    def levels_as(self, dtype=None) -> np.ndarray:
        """The levels in ``dtype`` (default: the fitted dtype).

        Integer dtypes round half to even and clip to the dtype's range.
        """
        dtype = self.dtype if dtype is None else np.dtype(dtype)
        if dtype.kind in "ui":
            info = np.iinfo(dtype)
            return np.clip(np.rint(self.levels), info.min, info.max).astype(dtype)
        return self.levels.astype(dtype)

    def to_config(self) -> dict:
        """A small JSON-safe dict that :meth:`from_config` turns back into this codebook."""
        return {
            "type": "scalar",
            "version": _CONFIG_VERSION,
            "strategy": self.strategy,
            "reconstruction": self.reconstruction,
            "dtype": self.dtype.str,
            "levels": self.levels.tolist(),
            "edges": self.edges.tolist(),
        }

    @classmethod
    def from_config(cls, config: dict) -> Codebook:
        """Rebuild a codebook from :meth:`to_config`'s dict (or its JSON text).

        Raises
        ------
        VQError
            When the config is not a valid scalar codebook.
        """
        if isinstance(config, str | bytes):
            try:
                config = json.loads(config)
            except ValueError as exc:
                raise VQError(f"Codebook config is not valid JSON: {exc}") from None
        if not isinstance(config, dict) or config.get("type") != "scalar":
            raise VQError("Not a scalar codebook config (missing \"type\": \"scalar\").")
        if config.get("version") != _CONFIG_VERSION:
            raise VQError(f"Unsupported codebook config version {config.get('version')!r}.")
        try:
            dtype = np.dtype(config["dtype"])
            if dtype.kind not in "uif":
                raise TypeError(f"dtype {dtype} is not numeric")
            return cls(
                config["levels"],
                config["edges"],
                strategy=config["strategy"],
                reconstruction=config["reconstruction"],
                dtype=dtype,
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise VQError(f"Invalid codebook config: {exc}") from None

    def __eq__(self, other) -> bool:
        if not isinstance(other, Codebook):
            return NotImplemented
        return self.to_config() == other.to_config()

    __hash__ = None

    def __repr__(self) -> str:
        return (
            f"Codebook(n_levels={self.n_levels}, strategy={self.strategy!r}, "
            f"reconstruction={self.reconstruction!r}, dtype={self.dtype})"
        )
