"""The version, read without importlib.metadata (which takes ~50 ms to import)."""

__version__ = "0.1.0"
