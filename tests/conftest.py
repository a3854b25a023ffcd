"""Test set-up: no test touches the network.

``face`` (scipy.datasets.face) is served from a private pooch cache seeded with
a copy of face.dat: $VQIMAGE_FACE_DAT, ../shared/data/face.dat beside the
repository, or the cache the user already has. Where none exists, the
face-specific tests skip. VQIMAGE_OFFLINE=1 makes vqimage refuse to download.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

import numpy as np
import pytest

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
