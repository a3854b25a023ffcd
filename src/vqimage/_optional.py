"""Optional dependencies: the extras that bring them, and one clear line when one is missing."""

from __future__ import annotations

import importlib
import importlib.util

__all__ = ["EXTRAS", "available", "require"]

#: Import name -> (distribution to install, the vqimage extra that installs it).
EXTRAS = {
    "sklearn": ("scikit-learn", "sklearn"),
    "dask": ("dask", "dask"),
    "distributed": ("distributed", "dask"),
    "zarr": ("zarr", "dask"),
    "matplotlib": ("matplotlib", "report"),
    "ssimulacra2": ("ssimulacra2", "perceptual"),
}


def require(module: str, feature: str):
    """Import ``module`` (a key of :data:`EXTRAS`) for ``feature``, or raise one line saying what to install.

    Raises
    ------
    ImportError
        "FEATURE needs DIST, which is not installed: pip install 'vqimage[EXTRA]'".
    """
    try:
        return importlib.import_module(module)
    except ImportError:
        dist, extra = EXTRAS[module]
        raise ImportError(f"{feature} needs {dist}, which is not installed: pip install 'vqimage[{extra}]' "
                          "(or 'vqimage[all]').") from None


def available(module: str) -> bool:
    """Whether ``module`` (a key of :data:`EXTRAS`) is installed, without importing it."""
    return importlib.util.find_spec(module) is not None
