"""Test set-up: no test touches the network.

``face`` (scipy.datasets.face) is served from a private pooch cache seeded with
a copy of face.dat: $VQIMAGE_FACE_DAT, ../shared/data/face.dat beside the
repository, or the cache the user already has. Where none exists, the
face-specific tests skip. VQIMAGE_OFFLINE=1 makes vqimage refuse to download.

Shared by the test modules (which mirror src/vqimage: tests/solvers, tests/pack,
tests/report): the image fixtures, the hypothesis profile ``FAST`` and the
brute-force references of the color and block tests. Those are plain functions:
``from conftest import brute_nearest`` (pytest's default "prepend" import mode
puts tests/ on sys.path when it loads this file; keep test file names unique).
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, settings

ROOT = Path(__file__).resolve().parents[1]
_STATE: dict = {}


def _face_sources():
    if os.environ.get("VQIMAGE_FACE_DAT"):
        yield Path(os.environ["VQIMAGE_FACE_DAT"])
    yield ROOT.parent / "shared" / "data" / "face.dat"
    try:
        import pooch

        yield Path(pooch.os_cache("scipy-data")) / "face.dat"  # the user's own cache
    except ImportError:  # pragma: no cover
        pass


def pytest_configure(config):
    os.environ["VQIMAGE_OFFLINE"] = "1"
    os.environ.setdefault("MPLBACKEND", "Agg")
    cache = Path(tempfile.mkdtemp(prefix="vqimage-test-cache-"))
    _STATE["cache"] = cache
    source = next((p for p in _face_sources() if p.is_file()), None)
    if source is not None:
        (cache / "scipy-data").mkdir()
        shutil.copyfile(source, cache / "scipy-data" / "face.dat")
        _STATE["face_source"] = source
    # Must happen before scipy.datasets is imported: pooch fixes its path then.
    os.environ["XDG_CACHE_HOME"] = str(cache)


def pytest_unconfigure(config):
    shutil.rmtree(_STATE.get("cache", ""), ignore_errors=True)


def pytest_report_header(config):
    source = _STATE.get("face_source")
    return f"face.dat: {source}" if source else "face.dat: not found, face tests skip"


@pytest.fixture(scope="session")
def face() -> np.ndarray:
    """scipy.datasets.face(gray=True), or skip when face.dat is not available."""
    if "face_source" not in _STATE:
        pytest.skip("face.dat is not available offline (set VQIMAGE_FACE_DAT to a copy)")
    import vqimage

    image = vqimage.load_image("face")
    image.flags.writeable = False
    return image


@pytest.fixture(scope="session")
def camera() -> np.ndarray:
    import vqimage

    image = vqimage.load_image("camera")
    image.flags.writeable = False
    return image


@pytest.fixture(scope="session")
def astronaut() -> np.ndarray:
    import vqimage

    image = vqimage.load_image("astronaut", gray=False)
    image.flags.writeable = False
    return image


#: The hypothesis settings of the color and block property tests.
FAST = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])


# --------------------------------------------------------------------------- brute-force references


def distances(points, centers):
    """Squared distances (n, k), summed component by component in order (as the kernels do)."""
    points = np.asarray(points, np.float64)
    centers = np.asarray(centers, np.float64)
    dist = np.zeros((points.shape[0], centers.shape[0]))
    for j in range(points.shape[1]):
        diff = points[:, None, j] - centers[None, :, j]
        dist += diff * diff
    return dist


def brute_nearest(points, centers):
    """Nearest center of each point, ties to the lowest index (argmin returns the first minimum)."""
    return distances(points, centers).argmin(axis=1)


def reference_codes(image, levels):
    """What ``encode`` must give for a color codebook: brute nearest, alpha-0 pixels to the first clear entry."""
    levels = np.asarray(levels, np.float64)
    d = levels.shape[1]
    if image.shape[-1] == 3 and d == 4:
        image = np.concatenate([image, np.full(image.shape[:-1] + (1,), 255, np.uint8)], axis=-1)
    vectors = image.reshape(-1, d)
    codes = brute_nearest(vectors, levels)
    if d == 4:
        clear = np.flatnonzero(levels[:, 3] == 0)
        if clear.size:
            codes[vectors[:, 3] == 0] = clear[0]
    return codes.reshape(image.shape[:-1])


def cell_of(vectors, bits):
    """The cell id of each uint8 vector: the top ``bits`` bits of every component, first component highest."""
    shift = 8 - bits
    ids = np.zeros(vectors.shape[0], np.int64)
    for j in range(vectors.shape[1]):
        ids = (ids << bits) | (vectors[:, j].astype(np.int64) >> shift)
    return ids


def tie_palette(rng, k, d):
    """Colors on a coarse grid: pixels on the half-way grid are equidistant from many of them."""
    return rng.choice([0.0, 64.0, 128.0, 192.0, 255.0], (k, d))


def tie_image(rng, shape):
    return rng.choice(np.array([0, 32, 64, 96, 128, 160, 192, 224, 255], np.uint8), shape)


def rgba_image(seed=0, shape=(23, 17)):
    """A random RGBA image whose alpha is 0, 100 or 255."""
    rng = np.random.default_rng(seed)
    image = rng.integers(0, 256, shape + (4,), dtype=np.uint8)
    image[..., 3] = rng.choice(np.array([0, 255, 100], np.uint8), shape)
    return image
