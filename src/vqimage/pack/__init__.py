"""Stage 4: codes -> bytes and back (exact bit packing, standard files)."""

from .bits import bits_per_code, pack, packed_size, unpack

__all__ = ["bits_per_code", "pack", "packed_size", "unpack"]
