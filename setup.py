"""Build the compiled kernels: every ``*.pyx`` under src/vqimage is a Cython extension module.

Flags: ``-O3`` (Python's default), ``-ffp-contract=off`` so that no compiler
ever fuses a multiply and an add (results stay bit-identical on every CPU),
and OpenMP for the kernels that run in parallel (``prange``).
"""

from pathlib import Path

from Cython.Build import cythonize
from setuptools import Extension, setup

SRC = Path("src")
COMPILE = ["-O3", "-ffp-contract=off", "-fopenmp", "-Wno-unreachable-code"]
LINK = ["-fopenmp"]
DIRECTIVES = {
    "language_level": 3,
    "boundscheck": False,
    "wraparound": False,
    "initializedcheck": False,
    "cdivision": True,
    "embedsignature": True,
}

extensions = [
    Extension(".".join(path.relative_to(SRC).with_suffix("").parts), [str(path)],
              extra_compile_args=COMPILE, extra_link_args=LINK)
    for path in sorted(SRC.rglob("*.pyx"))
]

setup(ext_modules=cythonize(extensions, compiler_directives=DIRECTIVES, nthreads=2))
