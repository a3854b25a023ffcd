"""Stage 2: codebooks fitted on histograms.

``scalar`` holds the gray-level solvers (uniform, quantile, kmeans, optimal).
"""

from ._codebook import RECONSTRUCTIONS, STRATEGIES, Codebook, code_dtype
from .scalar import FitWarning, fit, from_edges

__all__ = ["RECONSTRUCTIONS", "STRATEGIES", "Codebook", "FitWarning", "code_dtype", "fit", "from_edges"]
