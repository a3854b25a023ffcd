"""Stage 2: codebooks fitted on histograms.

``scalar`` holds the gray-level solvers (uniform, quantile, kmeans, optimal).
"""

from ._codebook import RECONSTRUCTIONS, STRATEGIES, Codebook, code_dtype
from .scalar import QUANTILE_METHODS, FitWarning, fit, from_edges

__all__ = [
    "QUANTILE_METHODS",
    "RECONSTRUCTIONS",
    "STRATEGIES",
    "Codebook",
    "FitWarning",
    "code_dtype",
    "fit",
    "from_edges",
]
